// Reads the compact binary description of a tokenizer that the TypeScript loader writes after it has parsed
// and validated tokenizer.json (so field names in errors come from one place, the loader). Little-endian
// u32s and length-prefixed UTF-8 strings; the layout is documented in plugins/tokenizer-wasm/src/tokenizer-config.ts.
pub struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, position: 0 }
    }

    pub fn u32(&mut self) -> Result<u32, String> {
        let end = self.position + 4;
        if end > self.bytes.len() {
            return Err("tokenizer description is truncated".to_string());
        }
        let mut word = [0u8; 4];
        word.copy_from_slice(&self.bytes[self.position..end]);
        self.position = end;
        Ok(u32::from_le_bytes(word))
    }

    pub fn bool(&mut self) -> Result<bool, String> {
        Ok(self.u32()? != 0)
    }

    pub fn string(&mut self) -> Result<String, String> {
        let length = self.u32()? as usize;
        let end = self.position + length;
        if end > self.bytes.len() {
            return Err("tokenizer description is truncated".to_string());
        }
        let text = std::str::from_utf8(&self.bytes[self.position..end])
            .map_err(|_| "tokenizer description holds invalid UTF-8".to_string())?;
        self.position = end;
        Ok(text.to_string())
    }

    pub fn char(&mut self) -> Result<char, String> {
        let code = self.u32()?;
        char::from_u32(code).ok_or_else(|| format!("invalid character U+{:04X}", code))
    }

    pub fn ids(&mut self) -> Result<Vec<u32>, String> {
        let count = self.u32()? as usize;
        let mut ids = Vec::with_capacity(count);
        for _ in 0..count {
            ids.push(self.u32()?);
        }
        Ok(ids)
    }
}

// The BPE model of tokenizer.json: vocabulary, ranked merges, byte fallback, unk fusing, ignore_merges and a
// word cache. Byte-level files are keyed by raw bytes (the GPT-2 byte-to-char map undone once at load), so
// encoding never builds the mapped strings; SentencePiece-style files are keyed by their UTF-8 text.
use crate::hash::{new_map, FxHashMap};
use crate::unicode::decode_at;

pub struct BpeModel {
    /// Key (raw bytes in byte-level mode, UTF-8 otherwise) to id.
    vocab: FxHashMap<Box<[u8]>, u32>,
    /// (left id << 32 | right id) to (rank << 32 | merged id).
    merges: FxHashMap<u64, u64>,
    pub byte_level: bool,
    /// Byte-level mode: the id of each single byte's token.
    byte_ids: [Option<u32>; 256],
    /// Byte fallback: the id of each `<0xXX>` token.
    fallback_ids: [Option<u32>; 256],
    byte_fallback: bool,
    unk_id: Option<u32>,
    fuse_unk: bool,
    ignore_merges: bool,
    prefix: Vec<u8>,
    suffix: Vec<u8>,
    cache: FxHashMap<Box<[u8]>, Box<[u32]>>,
    /// SentencePiece-style files where no token holds U+2581 after another character: no merge can cross the
    /// start of a `▁word`, so a long pre-token (a whole text, when there is no pre-tokenizer) is cut there into
    /// words that merge independently and are cached, with the same result as merging it whole.
    split_at_metaspace: bool,
}

const METASPACE: &[u8] = "\u{2581}".as_bytes();

const CACHE_CAPACITY: usize = 1 << 17;
const CACHE_MAX_WORD: usize = 256;

/// GPT-2's byte-to-char map: printable Latin-1 bytes stand for themselves, the rest are shifted to 256+.
pub fn byte_to_char_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut next = 256u32;
    for byte in 0..256u32 {
        let printable = (0x21..=0x7E).contains(&byte) || (0xA1..=0xAC).contains(&byte) || (0xAE..=0xFF).contains(&byte);
        if printable {
            table[byte as usize] = byte;
        } else {
            table[byte as usize] = next;
            next += 1;
        }
    }
    table
}

/// The inverse of GPT-2's byte-to-char map, indexed by code point (the mapped chars are all below U+0144).
pub struct CharToByte {
    table: Vec<i16>,
}

impl CharToByte {
    #[inline(always)]
    pub fn get(&self, code: u32) -> Option<u8> {
        match self.table.get(code as usize) {
            Some(&byte) if byte >= 0 => Some(byte as u8),
            _ => None,
        }
    }
}

/// Maps a byte-level token string back to raw bytes; None when a char is outside the 256-char alphabet.
pub fn byte_level_to_bytes(token: &str, char_to_byte: &CharToByte) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(token.len());
    for character in token.chars() {
        bytes.push(char_to_byte.get(character as u32)?);
    }
    Some(bytes)
}

pub fn char_to_byte_map() -> CharToByte {
    let forward = byte_to_char_table();
    let size = *forward.iter().max().unwrap() as usize + 1;
    let mut table = vec![-1i16; size];
    for (byte, &code) in forward.iter().enumerate() {
        table[code as usize] = byte as i16;
    }
    CharToByte { table }
}

pub struct BpeOptions {
    pub byte_level: bool,
    pub byte_fallback: bool,
    pub unk_token: Option<String>,
    pub fuse_unk: bool,
    pub ignore_merges: bool,
    pub prefix: String,
    pub suffix: String,
}

struct Symbol {
    id: u32,
    previous: i32,
    next: i32,
    alive: bool,
}

impl BpeModel {
    /// `vocab` pairs token strings with ids; `merges` are (left, right) token strings in rank order.
    pub fn new(vocab: &[(String, u32)], merges: &[(String, String)], options: BpeOptions) -> Result<BpeModel, String> {
        let char_to_byte = char_to_byte_map();
        let mut map: FxHashMap<Box<[u8]>, u32> = new_map(vocab.len() * 2);
        for (token, id) in vocab {
            let key = if options.byte_level {
                match byte_level_to_bytes(token, &char_to_byte) {
                    Some(bytes) => bytes,
                    None => continue,
                }
            } else {
                token.as_bytes().to_vec()
            };
            map.insert(key.into_boxed_slice(), *id);
        }
        let mut string_ids: FxHashMap<&str, u32> = new_map(vocab.len() * 2);
        for (token, id) in vocab {
            string_ids.insert(token.as_str(), *id);
        }
        let mut merge_map: FxHashMap<u64, u64> = new_map(merges.len() * 2);
        for (rank, (left, right)) in merges.iter().enumerate() {
            let left_id = string_ids
                .get(left.as_str())
                .ok_or_else(|| format!("model.merges[{}]: token \"{}\" is not in model.vocab", rank, left))?;
            let right_id = string_ids
                .get(right.as_str())
                .ok_or_else(|| format!("model.merges[{}]: token \"{}\" is not in model.vocab", rank, right))?;
            let right_text = right.strip_prefix(options.prefix.as_str()).unwrap_or(right.as_str());
            let merged = format!("{}{}", left, right_text);
            let merged_id = string_ids.get(merged.as_str()).ok_or_else(|| {
                format!(
                    "model.merges[{}]: merged token \"{}\" is not in model.vocab",
                    rank, merged
                )
            })?;
            merge_map.insert(
                ((*left_id as u64) << 32) | *right_id as u64,
                ((rank as u64) << 32) | *merged_id as u64,
            );
        }
        let mut byte_ids = [None; 256];
        let mut fallback_ids = [None; 256];
        for byte in 0..256usize {
            if options.byte_level {
                byte_ids[byte] = map.get(&[byte as u8][..]).copied();
            }
            fallback_ids[byte] = string_ids.get(format!("<0x{:02X}>", byte).as_str()).copied();
        }
        let unk_id = match &options.unk_token {
            Some(token) => Some(
                *string_ids
                    .get(token.as_str())
                    .ok_or_else(|| format!("model.unk_token \"{}\" is not in model.vocab", token))?,
            ),
            None => None,
        };
        let split_at_metaspace = !options.byte_level
            && options.prefix.is_empty()
            && options.suffix.is_empty()
            && vocab.iter().all(|(token, _)| {
                let mut previous_is_metaspace = true;
                token.chars().all(|character| {
                    let ok = character != '\u{2581}' || previous_is_metaspace;
                    previous_is_metaspace = character == '\u{2581}';
                    ok
                })
            });
        Ok(BpeModel {
            split_at_metaspace,
            vocab: map,
            merges: merge_map,
            byte_level: options.byte_level,
            byte_ids,
            fallback_ids,
            byte_fallback: options.byte_fallback,
            unk_id,
            fuse_unk: options.fuse_unk,
            ignore_merges: options.ignore_merges,
            prefix: options.prefix.into_bytes(),
            suffix: options.suffix.into_bytes(),
            cache: new_map(1024),
        })
    }

    pub fn lookup(&self, key: &[u8]) -> Option<u32> {
        self.vocab.get(key).copied()
    }

    /// Tokenizes one pre-token (raw bytes in byte-level mode, UTF-8 otherwise), appending ids to `out`.
    pub fn tokenize(&mut self, word: &[u8], out: &mut Vec<u32>) {
        if self.split_at_metaspace && word.len() > 2 * METASPACE.len() {
            let mut start = 0;
            let mut index = 1;
            while index + METASPACE.len() <= word.len() {
                // A cut before each U+2581 that follows another character (UTF-8: E2 96 81).
                if word[index] == METASPACE[0]
                    && &word[index..index + METASPACE.len()] == METASPACE
                    && !word[..index].ends_with(METASPACE)
                {
                    self.tokenize_word(&word[start..index], out);
                    start = index;
                    index += METASPACE.len();
                } else {
                    index += 1;
                }
            }
            self.tokenize_word(&word[start..], out);
            return;
        }
        self.tokenize_word(word, out);
    }

    fn tokenize_word(&mut self, word: &[u8], out: &mut Vec<u32>) {
        if word.is_empty() {
            return;
        }
        if self.ignore_merges {
            if let Some(&id) = self.vocab.get(word) {
                out.push(id);
                return;
            }
        }
        if let Some(ids) = self.cache.get(word) {
            out.extend_from_slice(ids);
            return;
        }
        let start = out.len();
        self.merge_word(word, out);
        if word.len() < CACHE_MAX_WORD && self.cache.len() < CACHE_CAPACITY {
            self.cache.insert(
                word.to_vec().into_boxed_slice(),
                out[start..].to_vec().into_boxed_slice(),
            );
        }
    }

    fn initial_symbols(&self, word: &[u8], ids: &mut Vec<u32>) {
        if self.byte_level {
            for &byte in word {
                if let Some(id) = self.byte_ids[byte as usize] {
                    ids.push(id);
                } else if let Some(id) = self.fallback_ids[byte as usize].filter(|_| self.byte_fallback) {
                    ids.push(id);
                } else if let Some(unk) = self.unk_id {
                    // A byte with no token: unk, fused with a preceding unk when asked.
                    if !(self.fuse_unk && ids.last() == Some(&unk)) {
                        ids.push(unk);
                    }
                }
            }
            return;
        }
        let mut key: Vec<u8> = Vec::with_capacity(16);
        let mut index = 0;
        let mut pending_unk = false;
        while index < word.len() {
            let (_, length) = decode_at(word, index);
            let is_first = index == 0;
            let is_last = index + length == word.len();
            key.clear();
            if !is_first {
                key.extend_from_slice(&self.prefix);
            }
            key.extend_from_slice(&word[index..index + length]);
            if is_last {
                key.extend_from_slice(&self.suffix);
            }
            if let Some(&id) = self.vocab.get(&key[..]) {
                if pending_unk {
                    ids.push(self.unk_id.unwrap());
                    pending_unk = false;
                }
                ids.push(id);
            } else {
                let fallback: Option<Vec<u32>> = if self.byte_fallback {
                    key.iter().map(|&byte| self.fallback_ids[byte as usize]).collect()
                } else {
                    None
                };
                if let Some(fallback) = fallback {
                    // HF adds byte-fallback tokens without flushing a pending unk first.
                    ids.extend_from_slice(&fallback);
                } else if self.unk_id.is_some() {
                    if pending_unk && !self.fuse_unk {
                        ids.push(self.unk_id.unwrap());
                    }
                    pending_unk = true;
                }
            }
            index += length;
        }
        if pending_unk {
            ids.push(self.unk_id.unwrap());
        }
    }

    #[inline(always)]
    fn merge_of(&self, left: u32, right: u32) -> Option<u64> {
        self.merges.get(&(((left as u64) << 32) | right as u64)).copied()
    }

    fn merge_word(&self, word: &[u8], out: &mut Vec<u32>) {
        let mut ids: Vec<u32> = Vec::with_capacity(word.len());
        self.initial_symbols(word, &mut ids);
        if ids.len() < 2 {
            out.extend_from_slice(&ids);
            return;
        }
        if ids.len() <= 48 {
            self.merge_short(&mut ids);
            out.extend_from_slice(&ids);
        } else {
            self.merge_long(&ids, out);
        }
    }

    /// Quadratic merging for short words: repeatedly merge the leftmost pair of lowest rank.
    fn merge_short(&self, ids: &mut Vec<u32>) {
        let mut ranks: Vec<u64> = Vec::with_capacity(ids.len());
        for index in 0..ids.len() - 1 {
            ranks.push(self.merge_of(ids[index], ids[index + 1]).unwrap_or(u64::MAX));
        }
        loop {
            let mut best = u64::MAX;
            let mut best_index = usize::MAX;
            for (index, &rank) in ranks.iter().enumerate() {
                // Compare ranks only (high half); the low half is the merged id.
                if rank != u64::MAX && (rank >> 32) < (best >> 32) {
                    best = rank;
                    best_index = index;
                }
            }
            if best_index == usize::MAX {
                return;
            }
            ids[best_index] = best as u32;
            ids.remove(best_index + 1);
            ranks.remove(best_index);
            if best_index < ranks.len() {
                ranks[best_index] = self.merge_of(ids[best_index], ids[best_index + 1]).unwrap_or(u64::MAX);
            }
            if best_index > 0 {
                ranks[best_index - 1] = self.merge_of(ids[best_index - 1], ids[best_index]).unwrap_or(u64::MAX);
            }
        }
    }

    /// Heap merging for long words (whitespace runs, text with no pre-tokenizer), as Hugging Face does.
    fn merge_long(&self, initial: &[u32], out: &mut Vec<u32>) {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let mut symbols: Vec<Symbol> = initial
            .iter()
            .enumerate()
            .map(|(index, &id)| Symbol {
                id,
                previous: index as i32 - 1,
                next: if index + 1 < initial.len() {
                    index as i32 + 1
                } else {
                    -1
                },
                alive: true,
            })
            .collect();
        // (rank, position, merged id), smallest rank then leftmost position first.
        let mut queue: BinaryHeap<Reverse<(u32, u32, u32)>> = BinaryHeap::with_capacity(initial.len());
        for index in 0..initial.len() - 1 {
            if let Some(merge) = self.merge_of(initial[index], initial[index + 1]) {
                queue.push(Reverse(((merge >> 32) as u32, index as u32, merge as u32)));
            }
        }
        while let Some(Reverse((_, position, merged_id))) = queue.pop() {
            let position = position as usize;
            if !symbols[position].alive || symbols[position].next < 0 {
                continue;
            }
            let next = symbols[position].next as usize;
            match self.merge_of(symbols[position].id, symbols[next].id) {
                Some(merge) if merge as u32 == merged_id => {}
                _ => continue,
            }
            symbols[position].id = merged_id;
            symbols[next].alive = false;
            let after = symbols[next].next;
            symbols[position].next = after;
            if after >= 0 {
                symbols[after as usize].previous = position as i32;
            }
            let previous = symbols[position].previous;
            if previous >= 0 {
                if let Some(merge) = self.merge_of(symbols[previous as usize].id, merged_id) {
                    queue.push(Reverse(((merge >> 32) as u32, previous as u32, merge as u32)));
                }
            }
            if after >= 0 {
                if let Some(merge) = self.merge_of(merged_id, symbols[after as usize].id) {
                    queue.push(Reverse(((merge >> 32) as u32, position as u32, merge as u32)));
                }
            }
        }
        out.extend(symbols.iter().filter(|symbol| symbol.alive).map(|symbol| symbol.id));
    }
}

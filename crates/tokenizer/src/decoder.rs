// Decoders of tokenizer.json (ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace), each a step over the
// list of token strings, as Hugging Face chains them; the result is joined with no separator.
use crate::bpe::char_to_byte_map;
use crate::pretokenizer::PrependScheme;

pub enum Decoder {
    ByteLevel,
    Metaspace {
        replacement: char,
        prepend_scheme: PrependScheme,
    },
    ByteFallback,
    Fuse,
    Strip {
        content: char,
        start: usize,
        stop: usize,
    },
    Replace {
        pattern: String,
        content: String,
    },
    ReplaceRegex {
        regex: crate::regex::Regex,
        content: String,
    },
}

/// Raw bytes of a token as the ByteLevel decoder sees it: mapped chars back to bytes, or the UTF-8 itself
/// when any char is outside the byte alphabet (added tokens such as `<|eot_id|>`).
pub fn byte_level_bytes(token: &str, char_to_byte: &crate::bpe::CharToByte) -> Vec<u8> {
    crate::bpe::byte_level_to_bytes(token, char_to_byte).unwrap_or_else(|| token.as_bytes().to_vec())
}

fn byte_fallback_value(token: &str) -> Option<u8> {
    let bytes = token.as_bytes();
    if bytes.len() == 6 && token.starts_with("<0x") && token.ends_with('>') {
        u8::from_str_radix(&token[3..5], 16).ok()
    } else {
        None
    }
}

fn flush_bytes(pending: &mut Vec<u8>, out: &mut Vec<String>) {
    if pending.is_empty() {
        return;
    }
    match String::from_utf8(pending.clone()) {
        Ok(text) => out.push(text),
        Err(_) => {
            for _ in 0..pending.len() {
                out.push("\u{FFFD}".to_string());
            }
        }
    }
    pending.clear();
}

impl Decoder {
    pub fn apply(&self, tokens: Vec<String>) -> Vec<String> {
        match self {
            Decoder::ByteLevel => {
                let map = char_to_byte_map();
                let mut bytes = Vec::new();
                for token in &tokens {
                    bytes.extend_from_slice(&byte_level_bytes(token, &map));
                }
                vec![String::from_utf8_lossy(&bytes).into_owned()]
            }
            Decoder::Metaspace {
                replacement,
                prepend_scheme,
            } => tokens
                .iter()
                .enumerate()
                .map(|(index, token)| {
                    let mut text = String::with_capacity(token.len());
                    for character in token.chars() {
                        if character == *replacement {
                            if !(index == 0 && *prepend_scheme != PrependScheme::Never) {
                                text.push(' ');
                            }
                        } else {
                            text.push(character);
                        }
                    }
                    text
                })
                .collect(),
            Decoder::ByteFallback => {
                let mut out = Vec::with_capacity(tokens.len());
                let mut pending = Vec::new();
                for token in tokens {
                    match byte_fallback_value(&token) {
                        Some(byte) => pending.push(byte),
                        None => {
                            flush_bytes(&mut pending, &mut out);
                            out.push(token);
                        }
                    }
                }
                flush_bytes(&mut pending, &mut out);
                out
            }
            Decoder::Fuse => vec![tokens.concat()],
            Decoder::Strip { content, start, stop } => tokens
                .into_iter()
                .map(|token| {
                    let characters: Vec<char> = token.chars().collect();
                    let mut start_cut = 0;
                    for (index, &character) in characters.iter().enumerate().take(*start) {
                        if character == *content {
                            start_cut = index + 1;
                        } else {
                            break;
                        }
                    }
                    let mut stop_cut = characters.len();
                    for offset in 0..*stop {
                        if offset >= characters.len() {
                            break;
                        }
                        let index = characters.len() - offset - 1;
                        if characters[index] == *content {
                            stop_cut = index;
                        } else {
                            break;
                        }
                    }
                    if stop_cut < start_cut {
                        String::new()
                    } else {
                        characters[start_cut..stop_cut].iter().collect()
                    }
                })
                .collect(),
            Decoder::ReplaceRegex { regex, content } => tokens
                .into_iter()
                .map(|token| regex.replace_all(&token, content))
                .collect(),
            Decoder::Replace { pattern, content } => tokens
                .into_iter()
                .map(|token| {
                    if pattern.is_empty() {
                        token
                    } else {
                        token.replace(pattern.as_str(), content)
                    }
                })
                .collect(),
        }
    }
}

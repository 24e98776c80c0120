// Normalizers of tokenizer.json (NFC, NFD, NFKC, NFKD, Lowercase, Strip, Prepend, Replace), applied in order to
// each piece of text between added tokens. Offsets are not tracked: the API returns ids only.
use crate::unicode::{class, UNASSIGNED_IN_9};
use unicode_normalization::{
    is_nfc_quick, is_nfd_quick, is_nfkc_quick, is_nfkd_quick, IsNormalized, UnicodeNormalization,
};

/// Normalizes like Hugging Face, whose tables are Unicode 9.0: a character unassigned in 9.0 is kept as it is and,
/// being a starter that composes with nothing, cuts the text into runs that normalize independently. Newer tables
/// give the same result as 9.0's on characters 9.0 had (normalization stability), so each run uses them.
fn normalize_as_unicode_9(text: &str, form: fn(&str) -> String) -> String {
    if !text
        .chars()
        .any(|character| class(character as u32) & UNASSIGNED_IN_9 != 0)
    {
        return form(text);
    }
    let mut result = String::with_capacity(text.len());
    let mut run_start = 0;
    for (index, character) in text.char_indices() {
        if class(character as u32) & UNASSIGNED_IN_9 != 0 {
            result.push_str(&form(&text[run_start..index]));
            result.push(character);
            run_start = index + character.len_utf8();
        }
    }
    result.push_str(&form(&text[run_start..]));
    result
}

pub enum Normalizer {
    Nfc,
    Nfd,
    Nfkc,
    Nfkd,
    Lowercase,
    Strip {
        left: bool,
        right: bool,
    },
    Prepend(String),
    Replace {
        pattern: String,
        content: String,
    },
    ReplaceRegex {
        regex: crate::regex::Regex,
        content: String,
    },
}

impl Normalizer {
    pub fn apply(&self, text: String) -> String {
        match self {
            // Below U+0300 every character is already in NFC and nothing composes with it.
            Normalizer::Nfc => {
                if text.bytes().all(|byte| byte < 0xCC) {
                    text
                } else {
                    normalize_as_unicode_9(&text, |run| {
                        if is_nfc_quick(run.chars()) == IsNormalized::Yes {
                            run.to_string()
                        } else {
                            run.nfc().collect()
                        }
                    })
                }
            }
            Normalizer::Nfd => {
                if text.is_ascii() {
                    text
                } else {
                    normalize_as_unicode_9(&text, |run| {
                        if is_nfd_quick(run.chars()) == IsNormalized::Yes {
                            run.to_string()
                        } else {
                            run.nfd().collect()
                        }
                    })
                }
            }
            Normalizer::Nfkc => {
                if text.is_ascii() {
                    text
                } else {
                    normalize_as_unicode_9(&text, |run| {
                        if is_nfkc_quick(run.chars()) == IsNormalized::Yes {
                            run.to_string()
                        } else {
                            run.nfkc().collect()
                        }
                    })
                }
            }
            Normalizer::Nfkd => {
                if text.is_ascii() {
                    text
                } else {
                    normalize_as_unicode_9(&text, |run| {
                        if is_nfkd_quick(run.chars()) == IsNormalized::Yes {
                            run.to_string()
                        } else {
                            run.nfkd().collect()
                        }
                    })
                }
            }
            // Per character, as Hugging Face does (no final-sigma context).
            Normalizer::Lowercase => {
                let mut result = String::with_capacity(text.len());
                for character in text.chars() {
                    crate::unicode::push_lowercase(character, &mut result);
                }
                result
            }
            Normalizer::Strip { left, right } => {
                let mut slice = text.as_str();
                if *left {
                    slice = slice.trim_start();
                }
                if *right {
                    slice = slice.trim_end();
                }
                slice.to_string()
            }
            Normalizer::Prepend(prefix) => {
                if text.is_empty() {
                    text
                } else {
                    let mut result = String::with_capacity(prefix.len() + text.len());
                    result.push_str(prefix);
                    result.push_str(&text);
                    result
                }
            }
            Normalizer::ReplaceRegex { regex, content } => regex.replace_all(&text, content),
            Normalizer::Replace { pattern, content } => {
                if pattern.is_empty() || !text.contains(pattern.as_str()) {
                    text
                } else {
                    text.replace(pattern.as_str(), content)
                }
            }
        }
    }
}

pub fn normalize_all(normalizers: &[Normalizer], text: &str) -> String {
    let mut result = text.to_string();
    for normalizer in normalizers {
        result = normalizer.apply(result);
    }
    result
}

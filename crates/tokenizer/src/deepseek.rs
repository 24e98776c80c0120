// Hand-written scanners for DeepSeek-V3's three Split regexes (recognised by their exact text), with Oniguruma's
// leftmost-first semantics and the general engine's Unicode 16.0 categories; they replace the backtracking engine.
use crate::pretokenizer::white_space_match;
use crate::regex::{category, init_categories, LL, LM, LO, LT, LU, MC, ME, MN, ND, NL, NO};
use crate::regex::{PC, PD, PE, PF, PI, PO, PS, SC, SK, SM, SO};
use crate::unicode::{decode_at, is_white_space};

const LETTER: u32 = 1 << LU | 1 << LL | 1 << LT | 1 << LM | 1 << LO;
const MARK: u32 = 1 << MN | 1 << MC | 1 << ME;
const NUMBER: u32 = 1 << ND | 1 << NL | 1 << NO;
const PUNCTUATION: u32 = 1 << PC | 1 << PD | 1 << PS | 1 << PE | 1 << PI | 1 << PF | 1 << PO;
const SYMBOL: u32 = 1 << SM | 1 << SC | 1 << SK | 1 << SO;

#[derive(Clone, Copy, PartialEq)]
pub enum DeepSeekRegex {
    /// `\p{N}{1,3}`
    Numbers,
    /// `[一-龥぀-ゟ゠-ヿ]+` (U+4E00-U+9FA5, U+3040-U+309F, U+30A0-U+30FF)
    HanKana,
    /// ``[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|``
    /// `` ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+``
    Words,
}

/// The general category of a character as one bit, to test against the masks above.
#[inline(always)]
fn category_bit(code: u32) -> u32 {
    1 << category(code)
}

/// The end of the run of characters whose category is in `mask`, from `index`.
#[inline(always)]
fn scan(bytes: &[u8], mut index: usize, mask: u32) -> usize {
    while index < bytes.len() {
        let (code, length) = decode_at(bytes, index);
        if category_bit(code) & mask == 0 {
            break;
        }
        index += length;
    }
    index
}

fn is_han_kana(code: u32) -> bool {
    (0x4E00..=0x9FA5).contains(&code) || (0x3040..=0x30FF).contains(&code)
}

fn numbers_at(bytes: &[u8], start: usize, code: u32, length: usize) -> Option<usize> {
    if category_bit(code) & NUMBER == 0 {
        return None;
    }
    let mut end = start + length;
    for _ in 1..3 {
        if end == bytes.len() {
            break;
        }
        let (next, next_length) = decode_at(bytes, end);
        if category_bit(next) & NUMBER == 0 {
            break;
        }
        end += next_length;
    }
    Some(end)
}

fn han_kana_at(bytes: &[u8], start: usize, code: u32, length: usize) -> Option<usize> {
    if !is_han_kana(code) {
        return None;
    }
    let mut end = start + length;
    while end < bytes.len() {
        let (next, next_length) = decode_at(bytes, end);
        if !is_han_kana(next) {
            break;
        }
        end += next_length;
    }
    Some(end)
}

fn words_at(bytes: &[u8], start: usize, code: u32, length: usize) -> Option<usize> {
    let next = start + length;
    // The first alternative: one ASCII punctuation character, then ASCII letters.
    if code < 0x80 && (code as u8).is_ascii_punctuation() && next < bytes.len() && bytes[next].is_ascii_alphabetic() {
        let mut end = next + 1;
        while end < bytes.len() && bytes[end].is_ascii_alphabetic() {
            end += 1;
        }
        return Some(end);
    }
    let bit = category_bit(code);
    let next_bit = if next < bytes.len() {
        category_bit(decode_at(bytes, next).0)
    } else {
        0
    };
    // `[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+`: the optional character is taken when letters or marks follow it.
    let can_lead = code != 0x0A && code != 0x0D && bit & (LETTER | PUNCTUATION | SYMBOL) == 0;
    if can_lead && next_bit & (LETTER | MARK) != 0 {
        return Some(scan(bytes, next, LETTER | MARK));
    }
    if bit & (LETTER | MARK) != 0 {
        return Some(scan(bytes, next, LETTER | MARK));
    }
    // ` ?[\p{P}\p{S}]+[\r\n]*`
    let symbols = if code == b' ' as u32 && next_bit & (PUNCTUATION | SYMBOL) != 0 {
        Some(next)
    } else if bit & (PUNCTUATION | SYMBOL) != 0 {
        Some(start)
    } else {
        None
    };
    if let Some(symbols) = symbols {
        let mut end = scan(bytes, symbols, PUNCTUATION | SYMBOL);
        while end < bytes.len() && (bytes[end] == b'\r' || bytes[end] == b'\n') {
            end += 1;
        }
        return Some(end);
    }
    if is_white_space(code) {
        return Some(white_space_match(bytes, start));
    }
    // Numbers, controls, format and unassigned characters start no match: they fall between matches.
    None
}

impl DeepSeekRegex {
    pub fn new(kind: DeepSeekRegex) -> DeepSeekRegex {
        init_categories();
        kind
    }

    /// The leftmost match that starts at or after `from`, as (start, end); none of these patterns matches empty.
    pub fn find_at(&self, bytes: &[u8], from: usize) -> Option<(usize, usize)> {
        let mut start = from;
        while start < bytes.len() {
            let (code, length) = decode_at(bytes, start);
            let end = match self {
                DeepSeekRegex::Numbers => numbers_at(bytes, start, code, length),
                DeepSeekRegex::HanKana => han_kana_at(bytes, start, code, length),
                DeepSeekRegex::Words => words_at(bytes, start, code, length),
            };
            if let Some(end) = end {
                return Some((start, end));
            }
            start += length;
        }
        None
    }

    pub fn for_each_match(&self, text: &str, mut each: impl FnMut(usize, usize)) {
        let bytes = text.as_bytes();
        let mut from = 0;
        while let Some((start, end)) = self.find_at(bytes, from) {
            each(start, end);
            from = end;
        }
    }
}

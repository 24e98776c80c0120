// Character classes for the pre-tokenizer scanners (Unicode 16.0, like Hugging Face tokenizers' regexes):
// a 64 K table for the Basic Multilingual Plane built once from the generated ranges, binary search above it.
use crate::unicode_tables::{CLASS_RANGES, LOWERCASE};

pub const LETTER: u8 = 1;
pub const NUMBER: u8 = 2;
pub const WHITE_SPACE: u8 = 4;
pub const PUNCTUATION: u8 = 16;
/// Not assigned in Unicode 9.0, the version of Hugging Face's normalization tables.
pub const UNASSIGNED_IN_9: u8 = 64;
/// The regex crate's Unicode `\w`: Alphabetic, marks, decimal numbers, connector punctuation, Join_Control.
pub const WORD: u8 = 128;

static mut BMP: [u8; 0x10000] = [0; 0x10000];
static mut READY: bool = false;

/// Fills the BMP table; called before any tokenizer is built (wasm32 here is single-threaded).
pub fn init() {
    unsafe {
        if READY {
            return;
        }
        for &(first, last, bits) in CLASS_RANGES.iter() {
            if first >= 0x10000 {
                break;
            }
            let last = last.min(0xFFFF);
            for code in first..=last {
                BMP[code as usize] = bits;
            }
        }
        READY = true;
    }
}

#[inline(always)]
pub fn class(code: u32) -> u8 {
    if code < 0x10000 {
        unsafe { BMP[code as usize] }
    } else {
        astral_class(code)
    }
}

fn astral_class(code: u32) -> u8 {
    let ranges = &CLASS_RANGES[..];
    let (mut low, mut high) = (0usize, ranges.len());
    while low < high {
        let middle = (low + high) / 2;
        let (first, last, bits) = ranges[middle];
        if code < first {
            high = middle;
        } else if code > last {
            low = middle + 1;
        } else {
            return bits;
        }
    }
    0
}

/// Decodes the character starting at byte `index` of valid UTF-8; returns (code point, byte length).
#[inline(always)]
pub fn decode_at(bytes: &[u8], index: usize) -> (u32, usize) {
    let first = bytes[index] as u32;
    if first < 0x80 {
        (first, 1)
    } else if first < 0xE0 {
        (((first & 0x1F) << 6) | (bytes[index + 1] as u32 & 0x3F), 2)
    } else if first < 0xF0 {
        (
            ((first & 0x0F) << 12) | ((bytes[index + 1] as u32 & 0x3F) << 6) | (bytes[index + 2] as u32 & 0x3F),
            3,
        )
    } else {
        (
            ((first & 0x07) << 18)
                | ((bytes[index + 1] as u32 & 0x3F) << 12)
                | ((bytes[index + 2] as u32 & 0x3F) << 6)
                | (bytes[index + 3] as u32 & 0x3F),
            4,
        )
    }
}

/// Start of the character that ends just before byte `end` (valid UTF-8, end > 0).
#[inline(always)]
pub fn previous_char_start(bytes: &[u8], end: usize) -> usize {
    let mut index = end - 1;
    while index > 0 && (bytes[index] & 0xC0) == 0x80 {
        index -= 1;
    }
    index
}

pub fn is_white_space(code: u32) -> bool {
    class(code) & WHITE_SPACE != 0
}

/// The regex crate's Unicode `\w`, as used for added tokens' single_word check and the Whitespace pre-tokenizer.
pub fn is_word(code: u32) -> bool {
    class(code) & WORD != 0
}

/// Rust's char::is_numeric (general category N), from the Unicode 16.0 tables rather than the toolchain's.
pub fn is_number(code: u32) -> bool {
    class(code) & NUMBER != 0
}

/// Appends the lowercase of a character as Hugging Face's Lowercase normalizer does (Unicode 16.0).
pub fn push_lowercase(code: char, out: &mut String) {
    if code.is_ascii() {
        out.push(code.to_ascii_lowercase());
        return;
    }
    if code == '\u{130}' {
        // SpecialCasing: LATIN CAPITAL LETTER I WITH DOT ABOVE lowercases to i + COMBINING DOT ABOVE.
        out.push('i');
        out.push('\u{307}');
        return;
    }
    match LOWERCASE.binary_search_by_key(&(code as u32), |&(from, _)| from) {
        Ok(index) => out.push(char::from_u32(LOWERCASE[index].1).unwrap_or(code)),
        Err(_) => out.push(code),
    }
}

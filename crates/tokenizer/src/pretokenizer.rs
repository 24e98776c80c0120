// Pre-tokenizers of tokenizer.json. The regexes that real byte-level files use (GPT-2's, Llama 3's and Qwen 2's
// here, DeepSeek-V3's three in deepseek.rs) are hand-written scanners with the exact backtracking semantics of
// Oniguruma, including the `\s+(?!\S)` lookahead; the other pre-tokenizers (Metaspace, Digits, Punctuation,
// Whitespace, literal Split) work on owned pieces.
use crate::deepseek::DeepSeekRegex;
use crate::unicode::{class, decode_at, is_white_space, previous_char_start, LETTER, NUMBER, PUNCTUATION, WHITE_SPACE};

#[derive(Clone, Copy, PartialEq)]
pub enum KnownRegex {
    /// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    Gpt2,
    /// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    Llama3 { max_digits: usize },
}

#[derive(Clone, Copy, PartialEq)]
pub enum Behavior {
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

#[derive(Clone, Copy, PartialEq)]
pub enum PrependScheme {
    Always,
    First,
    Never,
}

pub enum SplitPattern {
    Regex(KnownRegex),
    /// One of DeepSeek-V3's three Split regexes, scanned by hand.
    DeepSeek(DeepSeekRegex),
    /// Any other regex, run by the backtracking engine.
    General(crate::regex::Regex),
    Literal(String),
}

pub enum PreTokenizer {
    Split {
        pattern: SplitPattern,
        behavior: Behavior,
        invert: bool,
    },
    /// Byte-level: its regex split (optional) and prefix space; the byte mapping itself is the model's job.
    ByteLevel {
        add_prefix_space: bool,
        use_regex: bool,
    },
    Metaspace {
        replacement: char,
        prepend_scheme: PrependScheme,
        split: bool,
    },
    Digits {
        individual: bool,
    },
    Punctuation {
        behavior: Behavior,
    },
    Whitespace,
    WhitespaceSplit,
}

#[inline(always)]
fn is_line_break(code: u32) -> bool {
    code == 0x0A || code == 0x0D
}

/// Not white space, not a letter, not a number: `[^\s\p{L}\p{N}]`.
#[inline(always)]
fn is_other(code: u32) -> bool {
    class(code) & (LETTER | NUMBER | WHITE_SPACE) == 0
}

#[inline(always)]
fn scan_class(bytes: &[u8], mut index: usize, bits: u8) -> usize {
    while index < bytes.len() {
        let byte = bytes[index];
        if byte < 0x80 {
            if class(byte as u32) & bits == 0 {
                break;
            }
            index += 1;
        } else {
            let (code, length) = decode_at(bytes, index);
            if class(code) & bits == 0 {
                break;
            }
            index += length;
        }
    }
    index
}

fn scan_other(bytes: &[u8], mut index: usize) -> usize {
    while index < bytes.len() {
        let (code, length) = decode_at(bytes, index);
        if !is_other(code) {
            break;
        }
        index += length;
    }
    index
}

fn lower_ascii(byte: u8) -> u8 {
    byte | 0x20
}

/// The contraction after an apostrophe at `index - 1`; case-insensitive as Oniguruma folds (ſ folds to s).
fn contraction(bytes: &[u8], index: usize, ignore_case: bool) -> Option<usize> {
    if index >= bytes.len() {
        return None;
    }
    let first = bytes[index];
    let fold = |byte: u8| if ignore_case { lower_ascii(byte) } else { byte };
    if ignore_case && first == 0xC5 && bytes.get(index + 1) == Some(&0xBF) {
        return Some(index + 2);
    }
    match fold(first) {
        b's' | b't' | b'm' | b'd' => Some(index + 1),
        b'r' | b'v' => {
            if bytes.get(index + 1).map(|&byte| fold(byte)) == Some(b'e') {
                Some(index + 2)
            } else {
                None
            }
        }
        b'l' => {
            if bytes.get(index + 1).map(|&byte| fold(byte)) == Some(b'l') {
                Some(index + 2)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `\s+(?!\S)|\s+` from a white-space character at `start`, given the end of the white-space run.
#[inline(always)]
fn white_space_tail(bytes: &[u8], start: usize, run_end: usize) -> usize {
    if run_end == bytes.len() {
        return run_end;
    }
    let last = previous_char_start(bytes, run_end);
    if last > start {
        last
    } else {
        run_end
    }
}

impl KnownRegex {
    /// The end of the match that starts at `start` (< len); every position starts a match for these patterns.
    pub fn match_at(&self, bytes: &[u8], start: usize) -> usize {
        match *self {
            KnownRegex::Llama3 { max_digits } => llama3_match(bytes, start, max_digits),
            KnownRegex::Gpt2 => gpt2_match(bytes, start),
        }
    }

    pub fn for_each_match(&self, text: &str, mut each: impl FnMut(usize, usize)) {
        let bytes = text.as_bytes();
        let mut start = 0;
        while start < bytes.len() {
            let end = self.match_at(bytes, start);
            each(start, end);
            start = end;
        }
    }
}

fn llama3_match(bytes: &[u8], start: usize, max_digits: usize) -> usize {
    let (code, length) = decode_at(bytes, start);
    if code == b'\'' as u32 {
        if let Some(end) = contraction(bytes, start + 1, true) {
            return end;
        }
    }
    let bits = class(code);
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if bits & LETTER != 0 {
        return scan_class(bytes, start + length, LETTER);
    }
    let next = start + length;
    if !is_line_break(code) && bits & NUMBER == 0 && next < bytes.len() {
        let (next_code, next_length) = decode_at(bytes, next);
        if class(next_code) & LETTER != 0 {
            return scan_class(bytes, next + next_length, LETTER);
        }
    }
    // \p{N}{1,max}
    if bits & NUMBER != 0 {
        let mut end = next;
        let mut count = 1;
        while count < max_digits && end < bytes.len() {
            let (digit, digit_length) = decode_at(bytes, end);
            if class(digit) & NUMBER == 0 {
                break;
            }
            end += digit_length;
            count += 1;
        }
        return end;
    }
    // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
    let other_start = if code == b' ' as u32 && next < bytes.len() && is_other(decode_at(bytes, next).0) {
        Some(next)
    } else if is_other(code) {
        Some(start)
    } else {
        None
    };
    if let Some(other_start) = other_start {
        let mut end = scan_other(bytes, other_start);
        while end < bytes.len() && (bytes[end] == b'\r' || bytes[end] == b'\n') {
            end += 1;
        }
        return end;
    }
    white_space_match(bytes, start)
}

/// `\s*[\r\n]+|\s+(?!\S)|\s+` from a white-space character at `start`: after the run's last line break if it has
/// one, else as `white_space_tail`.
pub(crate) fn white_space_match(bytes: &[u8], start: usize) -> usize {
    let mut end = start;
    let mut after_line_break = None;
    while end < bytes.len() {
        let (space, space_length) = decode_at(bytes, end);
        if !is_white_space(space) {
            break;
        }
        end += space_length;
        if is_line_break(space) {
            after_line_break = Some(end);
        }
    }
    if let Some(line_end) = after_line_break {
        return line_end;
    }
    white_space_tail(bytes, start, end)
}

fn gpt2_match(bytes: &[u8], start: usize) -> usize {
    let (code, length) = decode_at(bytes, start);
    if code == b'\'' as u32 {
        if let Some(end) = contraction(bytes, start + 1, false) {
            return end;
        }
    }
    let next = start + length;
    // ` ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+`: the optional space, then the class of the following character.
    let (body, body_code) = if code == b' ' as u32 && next < bytes.len() {
        (next, decode_at(bytes, next).0)
    } else {
        (start, code)
    };
    let bits = class(body_code);
    if bits & LETTER != 0 {
        return scan_class(bytes, body, LETTER);
    }
    if bits & NUMBER != 0 {
        return scan_class(bytes, body, NUMBER);
    }
    if is_other(body_code) {
        return scan_other(bytes, body);
    }
    let end = scan_class(bytes, start, WHITE_SPACE);
    white_space_tail(bytes, start, end)
}

/// Applies a split behavior to (start, end, is_match) spans covering `text`; empty pieces are dropped.
fn split_spans(text: &str, spans: &[(usize, usize, bool)], behavior: Behavior, invert: bool, out: &mut Vec<String>) {
    let mut pieces: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    let mut previous_match = false;
    match behavior {
        Behavior::Removed => {
            for &(start, end, is_match) in spans {
                if is_match == invert {
                    pieces.push((start, end));
                }
            }
        }
        Behavior::Isolated => {
            for &(start, end, _) in spans {
                pieces.push((start, end));
            }
        }
        Behavior::MergedWithPrevious => {
            for &(start, end, is_match) in spans {
                let is_match = is_match != invert;
                match pieces.last_mut() {
                    Some(last) if is_match && !previous_match => last.1 = end,
                    _ => pieces.push((start, end)),
                }
                previous_match = is_match;
            }
        }
        Behavior::MergedWithNext => {
            for &(start, end, is_match) in spans.iter().rev() {
                let is_match = is_match != invert;
                match pieces.last_mut() {
                    Some(last) if is_match && !previous_match => last.0 = start,
                    _ => pieces.push((start, end)),
                }
                previous_match = is_match;
            }
            pieces.reverse();
        }
        Behavior::Contiguous => {
            for &(start, end, is_match) in spans {
                let is_match = is_match != invert;
                match pieces.last_mut() {
                    Some(last) if is_match == previous_match => last.1 = end,
                    _ => pieces.push((start, end)),
                }
                previous_match = is_match;
            }
        }
    }
    for (start, end) in pieces {
        if end > start {
            out.push(text[start..end].to_string());
        }
    }
}

/// Spans from matches of a per-character predicate (each matching character is its own match).
fn char_spans(text: &str, predicate: impl Fn(char) -> bool) -> Vec<(usize, usize, bool)> {
    let mut spans = Vec::new();
    let mut gap_start = 0;
    for (index, character) in text.char_indices() {
        if predicate(character) {
            if gap_start < index {
                spans.push((gap_start, index, false));
            }
            spans.push((index, index + character.len_utf8(), true));
            gap_start = index + character.len_utf8();
        }
    }
    if gap_start < text.len() {
        spans.push((gap_start, text.len(), false));
    }
    spans
}

impl SplitPattern {
    /// Every match in `text`, left to right, as (start, end).
    pub fn for_each_match(&self, text: &str, mut each: impl FnMut(usize, usize)) {
        match self {
            SplitPattern::Regex(regex) => regex.for_each_match(text, each),
            SplitPattern::DeepSeek(regex) => regex.for_each_match(text, each),
            SplitPattern::General(regex) => regex.find_iter(text, each),
            SplitPattern::Literal(literal) => {
                if !literal.is_empty() {
                    for (start, _) in text.match_indices(literal.as_str()) {
                        each(start, start + literal.len());
                    }
                }
            }
        }
    }

    /// The matches and the gaps between them, covering `text`.
    fn spans(&self, text: &str) -> Vec<(usize, usize, bool)> {
        let mut spans = Vec::new();
        let mut previous = 0;
        self.for_each_match(text, |start, end| {
            if previous != start {
                spans.push((previous, start, false));
            }
            spans.push((start, end, true));
            previous = end;
        });
        if previous != text.len() {
            spans.push((previous, text.len(), false));
        }
        spans
    }
}

/// Runs a chain of Isolated splits (each piece of one split is split by the next) and calls `each` with every
/// non-empty final piece, in order, without building the intermediate strings.
pub fn split_isolated(steps: &[PreTokenizer], text: &str, each: &mut dyn FnMut(&[u8])) {
    let (pattern, rest) = match steps.split_first() {
        Some((PreTokenizer::Split { pattern, .. }, rest)) => (pattern, rest),
        _ => {
            each(text.as_bytes());
            return;
        }
    };
    let mut previous = 0;
    pattern.for_each_match(text, |start, end| {
        if previous < start {
            split_isolated(rest, &text[previous..start], each);
        }
        if start < end {
            split_isolated(rest, &text[start..end], each);
        }
        previous = end;
    });
    if previous < text.len() {
        split_isolated(rest, &text[previous..], each);
    }
}

fn regex_spans(text: &str, regex: KnownRegex) -> Vec<(usize, usize, bool)> {
    let mut spans = Vec::new();
    regex.for_each_match(text, |start, end| spans.push((start, end, true)));
    spans
}

/// `\w+|[^\w\s]+` as used by the Whitespace pre-tokenizer (regex crate classes).
fn whitespace_spans(text: &str) -> Vec<(usize, usize, bool)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut index = 0;
    let mut gap_start = 0;
    while index < bytes.len() {
        let (code, length) = decode_at(bytes, index);
        let word = crate::unicode::is_word(code);
        if word || !is_white_space(code) {
            if gap_start < index {
                spans.push((gap_start, index, false));
            }
            let start = index;
            index += length;
            while index < bytes.len() {
                let (next, next_length) = decode_at(bytes, index);
                let next_word = crate::unicode::is_word(next);
                if word != next_word || (!word && is_white_space(next)) {
                    break;
                }
                index += next_length;
            }
            spans.push((start, index, true));
            gap_start = index;
        } else {
            index += length;
        }
    }
    if gap_start < bytes.len() {
        spans.push((gap_start, bytes.len(), false));
    }
    spans
}

fn is_punctuation(character: char) -> bool {
    character.is_ascii_punctuation() || class(character as u32) & PUNCTUATION != 0
}

impl PreTokenizer {
    /// Splits or rewrites each piece. `first` says whether the first piece starts the whole input.
    pub fn apply(&self, pieces: Vec<String>, first: bool) -> Vec<String> {
        let mut out = Vec::with_capacity(pieces.len());
        for (index, piece) in pieces.into_iter().enumerate() {
            match self {
                PreTokenizer::Split {
                    pattern,
                    behavior,
                    invert,
                } => {
                    split_spans(&piece, &pattern.spans(&piece), *behavior, *invert, &mut out);
                }
                PreTokenizer::ByteLevel {
                    add_prefix_space,
                    use_regex,
                } => {
                    let piece = if *add_prefix_space && !piece.starts_with(' ') {
                        format!(" {}", piece)
                    } else {
                        piece
                    };
                    if *use_regex {
                        split_spans(
                            &piece,
                            &regex_spans(&piece, KnownRegex::Gpt2),
                            Behavior::Isolated,
                            false,
                            &mut out,
                        );
                    } else if !piece.is_empty() {
                        out.push(piece);
                    }
                }
                PreTokenizer::Metaspace {
                    replacement,
                    prepend_scheme,
                    split,
                } => {
                    let mut replaced = piece.replace(' ', &replacement.to_string());
                    let prepend = match prepend_scheme {
                        PrependScheme::Always => true,
                        PrependScheme::First => first && index == 0,
                        PrependScheme::Never => false,
                    };
                    if prepend && !replaced.starts_with(*replacement) {
                        replaced.insert(0, *replacement);
                    }
                    if *split {
                        let replacement = *replacement;
                        let spans = char_spans(&replaced, |character| character == replacement);
                        split_spans(&replaced, &spans, Behavior::MergedWithNext, false, &mut out);
                    } else if !replaced.is_empty() {
                        out.push(replaced);
                    }
                }
                PreTokenizer::Digits { individual } => {
                    let spans = char_spans(&piece, |character| crate::unicode::is_number(character as u32));
                    let behavior = if *individual {
                        Behavior::Isolated
                    } else {
                        Behavior::Contiguous
                    };
                    split_spans(&piece, &spans, behavior, false, &mut out);
                }
                PreTokenizer::Punctuation { behavior } => {
                    let spans = char_spans(&piece, is_punctuation);
                    split_spans(&piece, &spans, *behavior, false, &mut out);
                }
                PreTokenizer::Whitespace => {
                    let spans = whitespace_spans(&piece);
                    split_spans(&piece, &spans, Behavior::Removed, true, &mut out);
                }
                PreTokenizer::WhitespaceSplit => {
                    let spans = char_spans(&piece, char::is_whitespace);
                    split_spans(&piece, &spans, Behavior::Removed, false, &mut out);
                }
            }
        }
        out
    }
}

// Added and special tokens matched inside text before the model runs: a byte trie searched leftmost-longest
// (as Hugging Face's Aho-Corasick does), with the single_word, lstrip and rstrip rules.
use crate::unicode::{decode_at, is_white_space, is_word, previous_char_start};

pub struct AddedToken {
    pub content: String,
    pub id: u32,
    pub special: bool,
    pub normalized: bool,
    pub lstrip: bool,
    pub rstrip: bool,
    pub single_word: bool,
}

struct Node {
    children: Vec<(u8, u32)>,
    token: Option<u32>,
}

/// The trie of one set of added tokens (the non-normalized or the normalized ones).
pub struct AddedMatcher {
    nodes: Vec<Node>,
    first_bytes: [bool; 256],
    empty: bool,
}

/// A piece of text: either a matched added token (its index in the token list) or plain text.
pub enum Piece {
    Token(u32),
    Text(usize, usize),
}

impl AddedMatcher {
    /// `patterns` pairs each pattern with an index into the tokens list.
    pub fn new(patterns: &[(String, u32)]) -> AddedMatcher {
        let mut nodes = vec![Node {
            children: Vec::new(),
            token: None,
        }];
        let mut first_bytes = [false; 256];
        let mut empty = true;
        for (pattern, index) in patterns {
            if pattern.is_empty() {
                continue;
            }
            empty = false;
            first_bytes[pattern.as_bytes()[0] as usize] = true;
            let mut node = 0usize;
            for &byte in pattern.as_bytes() {
                let found = nodes[node]
                    .children
                    .iter()
                    .find(|(key, _)| *key == byte)
                    .map(|(_, child)| *child);
                node = match found {
                    Some(child) => child as usize,
                    None => {
                        nodes.push(Node {
                            children: Vec::new(),
                            token: None,
                        });
                        let child = (nodes.len() - 1) as u32;
                        nodes[node].children.push((byte, child));
                        child as usize
                    }
                };
            }
            // The first token with a given content wins, like a map keyed by content.
            if nodes[node].token.is_none() {
                nodes[node].token = Some(*index);
            }
        }
        AddedMatcher {
            nodes,
            first_bytes,
            empty,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// The longest pattern starting at `start`: (token index, end).
    fn longest_at(&self, bytes: &[u8], start: usize) -> Option<(u32, usize)> {
        let mut node = 0usize;
        let mut best = None;
        let mut index = start;
        while index < bytes.len() {
            let byte = bytes[index];
            match self.nodes[node].children.iter().find(|(key, _)| *key == byte) {
                Some(&(_, child)) => node = child as usize,
                None => break,
            }
            index += 1;
            if let Some(token) = self.nodes[node].token {
                best = Some((token, index));
            }
        }
        best
    }

    /// Splits `text` into added-token matches and the text between them.
    pub fn split(&self, text: &str, tokens: &[AddedToken], pieces: &mut Vec<Piece>) {
        let bytes = text.as_bytes();
        if self.empty {
            pieces.push(Piece::Text(0, bytes.len()));
            return;
        }
        let mut text_start = 0usize;
        let mut search = 0usize;
        while search < bytes.len() {
            // Leftmost match: the first position where any pattern matches, the longest one there.
            let mut found = None;
            let mut position = search;
            while position < bytes.len() {
                if self.first_bytes[bytes[position] as usize] {
                    if let Some((token, end)) = self.longest_at(bytes, position) {
                        found = Some((token, position, end));
                        break;
                    }
                }
                position += 1;
            }
            let (token_index, mut start, mut stop) = match found {
                Some(value) => value,
                None => break,
            };
            search = stop;
            let token = &tokens[token_index as usize];
            if token.single_word {
                let start_ok = start == 0 || !is_word(decode_at(bytes, previous_char_start(bytes, start)).0);
                let stop_ok = stop == bytes.len() || !is_word(decode_at(bytes, stop).0);
                if !start_ok || !stop_ok {
                    continue;
                }
            }
            if token.lstrip {
                let mut new_start = start;
                while new_start > 0 {
                    let previous = previous_char_start(bytes, new_start);
                    if !is_white_space(decode_at(bytes, previous).0) {
                        break;
                    }
                    new_start = previous;
                }
                start = new_start.max(text_start);
            }
            if token.rstrip {
                while stop < bytes.len() {
                    let (code, length) = decode_at(bytes, stop);
                    if !is_white_space(code) {
                        break;
                    }
                    stop += length;
                }
                search = stop;
            }
            if text_start < start {
                pieces.push(Piece::Text(text_start, start));
            }
            pieces.push(Piece::Token(token_index));
            text_start = stop;
        }
        if text_start < bytes.len() {
            pieces.push(Piece::Text(text_start, bytes.len()));
        }
    }
}

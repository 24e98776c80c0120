// The whole encode/decode pipeline of a tokenizer.json: added tokens, normalizers, pre-tokenizers, the BPE
// model, the post-processor's special tokens and the decoders, in Hugging Face's order.
use crate::added::{AddedMatcher, AddedToken, Piece};
use crate::bpe::{byte_level_to_bytes, char_to_byte_map, BpeModel, BpeOptions};
use crate::config::Reader;
use crate::decoder::{byte_level_bytes, Decoder};
use crate::deepseek::DeepSeekRegex;
use crate::hash::{new_map, FxHashMap};
use crate::normalizer::{normalize_all, Normalizer};
use crate::pretokenizer::{split_isolated, Behavior, KnownRegex, PreTokenizer, PrependScheme, SplitPattern};

pub struct Tokenizer {
    normalizers: Vec<Normalizer>,
    pre_tokenizers: Vec<PreTokenizer>,
    /// Set when pre-tokenization is one known regex: its matches go straight to the model.
    fast_regex: Option<KnownRegex>,
    /// Set when pre-tokenization is one Split on the general engine whose pieces are its matches and/or the gaps
    /// between them (Isolated, or Removed): (index of that Split, keep matches, keep gaps).
    fast_general: Option<(usize, bool, bool)>,
    /// Set when pre-tokenization is a chain of Isolated Splits (DeepSeek-V3's three): how many; their pieces go
    /// straight to the model.
    fast_chain: Option<usize>,
    model: BpeModel,
    added: Vec<AddedToken>,
    added_by_id: FxHashMap<u32, usize>,
    raw_matcher: AddedMatcher,
    normalized_matcher: AddedMatcher,
    prefix_ids: Vec<u32>,
    suffix_ids: Vec<u32>,
    decoders: Vec<Decoder>,
    model_tokens: Vec<Option<String>>,
    /// Set when the decoder is ByteLevel alone: each id's raw bytes, concatenated then read as lossy UTF-8.
    decode_bytes: Option<Vec<Vec<u8>>>,
    char_to_byte: crate::bpe::CharToByte,
    pub vocab_size: u32,
}

fn behavior(code: u32) -> Result<Behavior, String> {
    Ok(match code {
        0 => Behavior::Removed,
        1 => Behavior::Isolated,
        2 => Behavior::MergedWithPrevious,
        3 => Behavior::MergedWithNext,
        4 => Behavior::Contiguous,
        _ => return Err(format!("unknown split behavior {}", code)),
    })
}

/// A regex written as its field name and source; a construct the engine lacks refuses the file.
fn read_regex(reader: &mut Reader) -> Result<crate::regex::Regex, String> {
    let field = reader.string()?;
    let source = reader.string()?;
    crate::regex::Regex::new(&source).map_err(|reason| {
        format!(
            "{} \"{}\" is not supported (this engine lacks {})",
            field, source, reason
        )
    })
}

fn prepend_scheme(code: u32) -> Result<PrependScheme, String> {
    Ok(match code {
        0 => PrependScheme::Always,
        1 => PrependScheme::First,
        2 => PrependScheme::Never,
        _ => return Err(format!("unknown prepend scheme {}", code)),
    })
}

impl Tokenizer {
    pub fn from_description(bytes: &[u8]) -> Result<Tokenizer, String> {
        let mut reader = Reader::new(bytes);
        let mut normalizers = Vec::new();
        for _ in 0..reader.u32()? {
            normalizers.push(match reader.u32()? {
                1 => Normalizer::Nfc,
                2 => Normalizer::Nfd,
                3 => Normalizer::Nfkc,
                4 => Normalizer::Nfkd,
                5 => Normalizer::Lowercase,
                6 => Normalizer::Strip {
                    left: reader.bool()?,
                    right: reader.bool()?,
                },
                7 => Normalizer::Prepend(reader.string()?),
                8 => Normalizer::Replace {
                    pattern: reader.string()?,
                    content: reader.string()?,
                },
                9 => Normalizer::ReplaceRegex {
                    regex: read_regex(&mut reader)?,
                    content: reader.string()?,
                },
                kind => return Err(format!("unknown normalizer kind {}", kind)),
            });
        }
        let mut pre_tokenizers = Vec::new();
        for _ in 0..reader.u32()? {
            pre_tokenizers.push(match reader.u32()? {
                1 => {
                    let pattern = match reader.u32()? {
                        0 => SplitPattern::Literal(reader.string()?),
                        1 => SplitPattern::Regex(KnownRegex::Gpt2),
                        2 => SplitPattern::Regex(KnownRegex::Llama3 {
                            max_digits: reader.u32()? as usize,
                        }),
                        3 => SplitPattern::General(read_regex(&mut reader)?),
                        4 => SplitPattern::DeepSeek(DeepSeekRegex::new(DeepSeekRegex::Numbers)),
                        5 => SplitPattern::DeepSeek(DeepSeekRegex::new(DeepSeekRegex::HanKana)),
                        6 => SplitPattern::DeepSeek(DeepSeekRegex::new(DeepSeekRegex::Words)),
                        kind => return Err(format!("unknown split pattern kind {}", kind)),
                    };
                    PreTokenizer::Split {
                        pattern,
                        behavior: behavior(reader.u32()?)?,
                        invert: reader.bool()?,
                    }
                }
                2 => PreTokenizer::ByteLevel {
                    add_prefix_space: reader.bool()?,
                    use_regex: reader.bool()?,
                },
                3 => PreTokenizer::Metaspace {
                    replacement: reader.char()?,
                    prepend_scheme: prepend_scheme(reader.u32()?)?,
                    split: reader.bool()?,
                },
                4 => PreTokenizer::Digits {
                    individual: reader.bool()?,
                },
                5 => PreTokenizer::Punctuation {
                    behavior: behavior(reader.u32()?)?,
                },
                6 => PreTokenizer::Whitespace,
                7 => PreTokenizer::WhitespaceSplit,
                kind => return Err(format!("unknown pre-tokenizer kind {}", kind)),
            });
        }
        let byte_level = pre_tokenizers
            .iter()
            .any(|step| matches!(step, PreTokenizer::ByteLevel { .. }));
        // Model: vocab, merges, options.
        let vocab_count = reader.u32()? as usize;
        let mut vocab = Vec::with_capacity(vocab_count);
        for _ in 0..vocab_count {
            let token = reader.string()?;
            let id = reader.u32()?;
            vocab.push((token, id));
        }
        let merge_count = reader.u32()? as usize;
        let mut merges = Vec::with_capacity(merge_count);
        for _ in 0..merge_count {
            merges.push((reader.string()?, reader.string()?));
        }
        let has_unk = reader.bool()?;
        let unk = reader.string()?;
        let options = BpeOptions {
            byte_level,
            unk_token: if has_unk { Some(unk) } else { None },
            byte_fallback: reader.bool()?,
            fuse_unk: reader.bool()?,
            ignore_merges: reader.bool()?,
            prefix: reader.string()?,
            suffix: reader.string()?,
        };
        let model = BpeModel::new(&vocab, &merges, options)?;
        let mut vocab_size = 0u32;
        let mut model_tokens: Vec<Option<String>> = Vec::new();
        for (token, id) in vocab {
            let index = id as usize;
            if model_tokens.len() <= index {
                model_tokens.resize(index + 1, None);
            }
            model_tokens[index] = Some(token);
            vocab_size = vocab_size.max(id + 1);
        }
        // Added tokens. Like Hugging Face, the ids written in the file are not used: a token whose content is a
        // key of the model's vocabulary (or an earlier added token) takes that id, the others get ids after the
        // model's vocabulary, in file order; a repeated content updates the flags of the first. The lookup is by
        // the vocabulary's own strings, as Hugging Face's `token_to_id` does: a content such as DeepSeek-V3's
        // `<｜begin▁of▁sentence｜>` is a vocabulary key although it is no byte-level string.
        let vocab_ids: FxHashMap<&str, u32> = {
            let mut map = new_map(model_tokens.len());
            for (id, token) in model_tokens.iter().enumerate() {
                if let Some(token) = token {
                    map.insert(token.as_str(), id as u32);
                }
            }
            map
        };
        let model_id = |content: &str| -> Option<u32> { vocab_ids.get(content).copied() };
        let char_to_byte = char_to_byte_map();
        let mut added: Vec<AddedToken> = Vec::new();
        let mut added_by_content: FxHashMap<String, usize> = new_map(64);
        let mut next_id = vocab_count as u32;
        for _ in 0..reader.u32()? {
            let mut token = AddedToken {
                content: reader.string()?,
                id: reader.u32()?,
                special: reader.bool()?,
                normalized: reader.bool()?,
                lstrip: reader.bool()?,
                rstrip: reader.bool()?,
                single_word: reader.bool()?,
            };
            if token.content.is_empty() {
                continue;
            }
            if let Some(&index) = added_by_content.get(&token.content) {
                token.id = added[index].id;
                added[index] = token;
                continue;
            }
            token.id = match model_id(&token.content) {
                Some(id) => id,
                None => {
                    next_id += 1;
                    next_id - 1
                }
            };
            added_by_content.insert(token.content.clone(), added.len());
            added.push(token);
        }
        let prefix_ids = reader.ids()?;
        let suffix_ids = reader.ids()?;
        let mut decoders = Vec::new();
        for _ in 0..reader.u32()? {
            decoders.push(match reader.u32()? {
                1 => Decoder::ByteLevel,
                2 => Decoder::Metaspace {
                    replacement: reader.char()?,
                    prepend_scheme: prepend_scheme(reader.u32()?)?,
                },
                3 => Decoder::ByteFallback,
                4 => Decoder::Fuse,
                5 => Decoder::Strip {
                    content: reader.char()?,
                    start: reader.u32()? as usize,
                    stop: reader.u32()? as usize,
                },
                6 => Decoder::Replace {
                    pattern: reader.string()?,
                    content: reader.string()?,
                },
                7 => Decoder::ReplaceRegex {
                    regex: read_regex(&mut reader)?,
                    content: reader.string()?,
                },
                kind => return Err(format!("unknown decoder kind {}", kind)),
            });
        }

        let mut added_by_id = new_map(added.len() * 2);
        let mut raw_patterns = Vec::new();
        let mut normalized_patterns = Vec::new();
        for (index, token) in added.iter_mut().enumerate() {
            if token.normalized && !normalizers.is_empty() {
                token.content = normalize_all(&normalizers, &token.content);
            }
            added_by_id.insert(token.id, index);
            vocab_size = vocab_size.max(token.id + 1);
            if token.normalized {
                normalized_patterns.push((token.content.clone(), index as u32));
            } else {
                raw_patterns.push((token.content.clone(), index as u32));
            }
        }

        let mut core: Vec<&PreTokenizer> = pre_tokenizers.iter().collect();
        if let Some(PreTokenizer::ByteLevel {
            add_prefix_space: false,
            use_regex: false,
        }) = core.last()
        {
            core.pop();
        }
        let fast_regex = match core.as_slice() {
            [PreTokenizer::Split {
                pattern: SplitPattern::Regex(regex),
                behavior: Behavior::Isolated,
                invert: false,
            }] => Some(*regex),
            [PreTokenizer::ByteLevel {
                add_prefix_space: false,
                use_regex: true,
            }] => Some(KnownRegex::Gpt2),
            _ => None,
        };
        let fast_general = match core.as_slice() {
            [PreTokenizer::Split {
                pattern: SplitPattern::General(_),
                behavior,
                invert,
            }] => match (behavior, invert) {
                (Behavior::Isolated, _) => Some((0, true, true)),
                (Behavior::Removed, false) => Some((0, false, true)),
                (Behavior::Removed, true) => Some((0, true, false)),
                _ => None,
            },
            _ => None,
        };
        let isolated = |step: &&PreTokenizer| {
            matches!(
                step,
                PreTokenizer::Split {
                    behavior: Behavior::Isolated,
                    ..
                }
            )
        };
        let fast_chain = core.iter().all(isolated).then_some(core.len());
        let decode_bytes = if decoders.len() == 1 && matches!(decoders[0], Decoder::ByteLevel) {
            let mut table = vec![Vec::new(); vocab_size as usize];
            for (id, token) in model_tokens.iter().enumerate() {
                if let Some(token) = token {
                    table[id] = byte_level_bytes(token, &char_to_byte);
                }
            }
            for token in &added {
                table[token.id as usize] = byte_level_bytes(&token.content, &char_to_byte);
            }
            Some(table)
        } else {
            None
        };
        Ok(Tokenizer {
            normalizers,
            pre_tokenizers,
            fast_regex,
            fast_general,
            fast_chain,
            model,
            added,
            added_by_id,
            raw_matcher: AddedMatcher::new(&raw_patterns),
            normalized_matcher: AddedMatcher::new(&normalized_patterns),
            prefix_ids,
            suffix_ids,
            decoders,
            model_tokens,
            decode_bytes,
            char_to_byte,
            vocab_size,
        })
    }

    pub fn encode(&mut self, text: &str, add_special_tokens: bool, out: &mut Vec<u32>) {
        if add_special_tokens {
            out.extend_from_slice(&self.prefix_ids);
        }
        let mut pieces = Vec::new();
        self.raw_matcher.split(text, &self.added, &mut pieces);
        for piece in pieces {
            match piece {
                Piece::Token(index) => out.push(self.added[index as usize].id),
                Piece::Text(start, end) => {
                    let segment = &text[start..end];
                    if self.normalizers.is_empty() {
                        self.encode_normalized(segment, start == 0, out);
                    } else {
                        let normalized = normalize_all(&self.normalizers, segment);
                        self.encode_normalized(&normalized, start == 0, out);
                    }
                }
            }
        }
        if add_special_tokens {
            out.extend_from_slice(&self.suffix_ids);
        }
    }

    fn encode_normalized(&mut self, text: &str, at_input_start: bool, out: &mut Vec<u32>) {
        if self.normalized_matcher.is_empty() {
            self.encode_plain(text, at_input_start, out);
            return;
        }
        let mut pieces = Vec::new();
        self.normalized_matcher.split(text, &self.added, &mut pieces);
        for piece in pieces {
            match piece {
                Piece::Token(index) => out.push(self.added[index as usize].id),
                Piece::Text(start, end) => self.encode_plain(&text[start..end], at_input_start && start == 0, out),
            }
        }
    }

    /// Pre-tokenizes text that holds no added token and runs the model on each piece.
    fn encode_plain(&mut self, text: &str, at_input_start: bool, out: &mut Vec<u32>) {
        if text.is_empty() {
            return;
        }
        if let Some((index, keep_matches, keep_gaps)) = self.fast_general {
            if let PreTokenizer::Split {
                pattern: SplitPattern::General(regex),
                ..
            } = &self.pre_tokenizers[index]
            {
                let model = &mut self.model;
                let bytes = text.as_bytes();
                let mut previous = 0;
                regex.find_iter(text, |start, end| {
                    if keep_gaps && previous < start {
                        model.tokenize(&bytes[previous..start], out);
                    }
                    if keep_matches {
                        model.tokenize(&bytes[start..end], out);
                    }
                    previous = end;
                });
                if keep_gaps && previous < bytes.len() {
                    model.tokenize(&bytes[previous..], out);
                }
                return;
            }
        }
        if let Some(regex) = self.fast_regex {
            let bytes = text.as_bytes();
            let mut start = 0;
            while start < bytes.len() {
                let end = regex.match_at(bytes, start);
                self.model.tokenize(&bytes[start..end], out);
                start = end;
            }
            return;
        }
        if let Some(count) = self.fast_chain {
            let model = &mut self.model;
            split_isolated(&self.pre_tokenizers[..count], text, &mut |piece| {
                model.tokenize(piece, out)
            });
            return;
        }
        let mut pieces = vec![text.to_string()];
        for step in &self.pre_tokenizers {
            pieces = step.apply(pieces, at_input_start);
        }
        for piece in pieces {
            self.model.tokenize(piece.as_bytes(), out);
        }
    }

    fn token_of(&self, id: u32) -> Option<(&str, bool)> {
        if let Some(&index) = self.added_by_id.get(&id) {
            let token = &self.added[index];
            return Some((token.content.as_str(), token.special));
        }
        self.model_tokens
            .get(id as usize)
            .and_then(|token| token.as_deref())
            .map(|token| (token, false))
    }

    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String, String> {
        for &id in ids {
            if self.token_of(id).is_none() {
                return Err(format!(
                    "id {} is out of range: this tokenizer has no token with that id (vocabulary size {})",
                    id, self.vocab_size
                ));
            }
        }
        let kept = ids
            .iter()
            .copied()
            .filter(|&id| !(skip_special_tokens && self.token_of(id).map(|(_, special)| special).unwrap_or(false)));
        if let Some(table) = &self.decode_bytes {
            let mut bytes = Vec::with_capacity(ids.len() * 4);
            for id in kept {
                bytes.extend_from_slice(&table[id as usize]);
            }
            return Ok(String::from_utf8_lossy(&bytes).into_owned());
        }
        let mut tokens: Vec<String> = kept.map(|id| self.token_of(id).unwrap().0.to_string()).collect();
        if self.decoders.is_empty() {
            return Ok(tokens.join(" "));
        }
        for decoder in &self.decoders {
            tokens = decoder.apply(tokens);
        }
        Ok(tokens.concat())
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        if let Some(added) = self.added.iter().find(|added| added.content == token) {
            return Some(added.id);
        }
        if !self.model.byte_level {
            return self.model.lookup(token.as_bytes());
        }
        match byte_level_to_bytes(token, &self.char_to_byte) {
            Some(bytes) => self.model.lookup(&bytes),
            // A vocabulary key outside the byte-level alphabet (a special token kept in model.vocab) can only be
            // found by its string.
            None => self
                .model_tokens
                .iter()
                .position(|entry| entry.as_deref() == Some(token))
                .map(|id| id as u32),
        }
    }

    pub fn id_to_token(&self, id: u32) -> Option<&str> {
        self.token_of(id).map(|(token, _)| token)
    }
}

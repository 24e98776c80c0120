// Byte-level BPE training (GPT-2 style): words from the GPT-2 regex, an alphabet of all 256 bytes, then the most
// frequent adjacent pair merged until the vocabulary is full. Writes a tokenizer.json Hugging Face loads.
use crate::bpe::byte_to_char_table;
use crate::hash::{new_map, FxHashMap};
use crate::pretokenizer::KnownRegex;
use std::collections::BinaryHeap;

fn json_string(text: &str, out: &mut String) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn pair_key(left: u32, right: u32) -> u64 {
    ((left as u64) << 32) | right as u64
}

pub fn train_byte_level_bpe(
    texts: &[String],
    specials: &[String],
    vocab_size: usize,
    min_frequency: u64,
) -> Result<String, String> {
    if vocab_size < specials.len() + 256 {
        return Err(format!(
            "vocabulary size {} is smaller than the 256 byte tokens plus {} special tokens",
            vocab_size,
            specials.len()
        ));
    }
    // Word counts over raw bytes.
    let mut word_counts: FxHashMap<Vec<u8>, u64> = new_map(1024);
    for text in texts {
        let bytes = text.as_bytes();
        KnownRegex::Gpt2.for_each_match(text, |start, end| {
            *word_counts.entry(bytes[start..end].to_vec()).or_insert(0) += 1;
        });
    }
    // Tokens: specials, then the 256 bytes, then merges. Token text is kept as raw bytes until the end.
    let mut tokens: Vec<Vec<u8>> = Vec::new();
    let mut token_ids: FxHashMap<Vec<u8>, u32> = new_map(vocab_size * 2);
    let special_count = specials.len() as u32;
    for byte in 0..256u32 {
        token_ids.insert(vec![byte as u8], special_count + byte);
        tokens.push(vec![byte as u8]);
    }
    let id_of = |token: u32| (token - special_count) as usize;
    let mut words: Vec<Vec<u32>> = Vec::with_capacity(word_counts.len());
    let mut counts: Vec<u64> = Vec::with_capacity(word_counts.len());
    let mut sorted_words: Vec<(Vec<u8>, u64)> = word_counts.into_iter().collect();
    // Deterministic order, whatever the hash map's iteration order.
    sorted_words.sort();
    for (word, count) in sorted_words {
        words.push(word.iter().map(|&byte| special_count + byte as u32).collect());
        counts.push(count);
    }
    let mut pair_counts: FxHashMap<u64, i64> = new_map(1 << 16);
    let mut pair_words: FxHashMap<u64, Vec<u32>> = new_map(1 << 16);
    for (index, word) in words.iter().enumerate() {
        for window in word.windows(2) {
            let key = pair_key(window[0], window[1]);
            *pair_counts.entry(key).or_insert(0) += counts[index] as i64;
            let list = pair_words.entry(key).or_insert_with(Vec::new);
            if list.last() != Some(&(index as u32)) {
                list.push(index as u32);
            }
        }
    }
    // Max-heap of (count, smallest pair first on ties); stale entries are re-checked when popped.
    let mut heap: BinaryHeap<(i64, std::cmp::Reverse<u64>)> = pair_counts
        .iter()
        .map(|(&key, &count)| (count, std::cmp::Reverse(key)))
        .collect();
    let mut merges: Vec<(u32, u32)> = Vec::new();
    while (special_count as usize) + tokens.len() < vocab_size {
        let (count, key) = match heap.pop() {
            Some((count, std::cmp::Reverse(key))) => (count, key),
            None => break,
        };
        let current = *pair_counts.get(&key).unwrap_or(&0);
        if current != count {
            if current > 0 {
                heap.push((current, std::cmp::Reverse(key)));
            }
            continue;
        }
        if (count as u64) < min_frequency.max(1) {
            break;
        }
        let left = (key >> 32) as u32;
        let right = key as u32;
        let mut merged_text = tokens[id_of(left)].clone();
        merged_text.extend_from_slice(&tokens[id_of(right)]);
        let merged = match token_ids.get(&merged_text) {
            Some(&id) => id,
            None => {
                let id = special_count + tokens.len() as u32;
                token_ids.insert(merged_text.clone(), id);
                tokens.push(merged_text);
                id
            }
        };
        merges.push((left, right));
        let affected = pair_words.remove(&key).unwrap_or_default();
        let mut touched: Vec<u64> = Vec::new();
        for word_index in affected {
            let word_index = word_index as usize;
            let word = &mut words[word_index];
            let weight = counts[word_index] as i64;
            if !word.windows(2).any(|window| window[0] == left && window[1] == right) {
                continue;
            }
            for window in word.windows(2) {
                let old = pair_key(window[0], window[1]);
                *pair_counts.get_mut(&old).unwrap() -= weight;
                touched.push(old);
            }
            let mut merged_word = Vec::with_capacity(word.len());
            let mut position = 0;
            while position < word.len() {
                if position + 1 < word.len() && word[position] == left && word[position + 1] == right {
                    merged_word.push(merged);
                    position += 2;
                } else {
                    merged_word.push(word[position]);
                    position += 1;
                }
            }
            *word = merged_word;
            for window in word.windows(2) {
                let new = pair_key(window[0], window[1]);
                *pair_counts.entry(new).or_insert(0) += weight;
                touched.push(new);
                let list = pair_words.entry(new).or_insert_with(Vec::new);
                if list.last() != Some(&(word_index as u32)) {
                    list.push(word_index as u32);
                }
            }
        }
        pair_counts.remove(&key);
        touched.sort_unstable();
        touched.dedup();
        for pair in touched {
            if pair == key {
                continue;
            }
            let count = *pair_counts.get(&pair).unwrap_or(&0);
            if count > 0 {
                heap.push((count, std::cmp::Reverse(pair)));
            }
        }
    }

    // tokenizer.json, token text in GPT-2's byte-level chars.
    let table = byte_to_char_table();
    let visible = |bytes: &[u8]| -> String {
        bytes
            .iter()
            .map(|&byte| char::from_u32(table[byte as usize]).unwrap())
            .collect()
    };
    let mut json = String::with_capacity(64 * tokens.len());
    json.push_str("{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[");
    for (index, special) in specials.iter().enumerate() {
        if index > 0 {
            json.push(',');
        }
        json.push_str(&format!("{{\"id\":{},\"content\":", index));
        json_string(special, &mut json);
        json.push_str(
            ",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}",
        );
    }
    json.push_str("],\"normalizer\":null,");
    json.push_str("\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true},");
    json.push_str("\"post_processor\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":false,\"use_regex\":true},");
    json.push_str(
        "\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,\"use_regex\":true},",
    );
    json.push_str("\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":null,\"end_of_word_suffix\":null,\"fuse_unk\":false,\"byte_fallback\":false,\"ignore_merges\":false,\"vocab\":{");
    let mut first = true;
    for (index, special) in specials.iter().enumerate() {
        if !first {
            json.push(',');
        }
        first = false;
        json_string(special, &mut json);
        json.push_str(&format!(":{}", index));
    }
    for (index, token) in tokens.iter().enumerate() {
        if !first {
            json.push(',');
        }
        first = false;
        json_string(&visible(token), &mut json);
        json.push_str(&format!(":{}", special_count as usize + index));
    }
    json.push_str("},\"merges\":[");
    for (index, (left, right)) in merges.iter().enumerate() {
        if index > 0 {
            json.push(',');
        }
        json.push('[');
        json_string(&visible(&tokens[id_of(*left)]), &mut json);
        json.push(',');
        json_string(&visible(&tokens[id_of(*right)]), &mut json);
        json.push(']');
    }
    json.push_str("]}}");
    Ok(json)
}

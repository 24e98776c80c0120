// The tokenizer crate's C ABI for wasm32: the TypeScript loader (plugins/tokenizer-wasm/src/tokenizer-wasm-module.ts)
// allocates inputs with tk_alloc, calls, reads results from the shared result buffer, and frees what it allocated.
// Errors return a negative value and leave one readable line in the error buffer; a panic leaves its message
// there before the module traps, so the loader can report it and start a fresh instance.
pub mod added;
pub mod bpe;
pub mod config;
pub mod decoder;
pub mod deepseek;
pub mod hash;
pub mod normalizer;
pub mod pretokenizer;
pub mod regex;
pub mod tokenizer;
pub mod trainer;
pub mod unicode;
#[rustfmt::skip]
mod unicode_tables;

use tokenizer::Tokenizer;

static mut TOKENIZERS: Vec<Option<Box<Tokenizer>>> = Vec::new();
static mut RESULT: Vec<u8> = Vec::new();
static mut ERROR: String = String::new();

fn set_error(message: String) {
    unsafe {
        ERROR = message;
    }
}

fn install_panic_hook() {
    static mut INSTALLED: bool = false;
    unsafe {
        if INSTALLED {
            return;
        }
        INSTALLED = true;
    }
    std::panic::set_hook(Box::new(|info| {
        set_error(format!("tokenizer wasm panicked: {}", info));
    }));
}

fn tokenizer_at(handle: u32) -> Option<&'static mut Tokenizer> {
    unsafe {
        TOKENIZERS
            .get_mut(handle.wrapping_sub(1) as usize)
            .and_then(|slot| slot.as_deref_mut())
    }
}

unsafe fn bytes<'a>(pointer: *const u8, length: usize) -> &'a [u8] {
    if length == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(pointer, length)
    }
}

fn set_result_ids(ids: &[u32]) {
    unsafe {
        RESULT.clear();
        RESULT.reserve(ids.len() * 4);
        for id in ids {
            RESULT.extend_from_slice(&id.to_le_bytes());
        }
    }
}

#[no_mangle]
pub extern "C" fn tk_alloc(length: usize) -> *mut u8 {
    let layout = std::alloc::Layout::from_size_align(length.max(1), 8).unwrap();
    unsafe { std::alloc::alloc(layout) }
}

#[no_mangle]
pub unsafe extern "C" fn tk_free(pointer: *mut u8, length: usize) {
    let layout = std::alloc::Layout::from_size_align(length.max(1), 8).unwrap();
    std::alloc::dealloc(pointer, layout);
}

#[no_mangle]
pub extern "C" fn tk_result_ptr() -> *const u8 {
    unsafe { RESULT.as_ptr() }
}

#[no_mangle]
pub extern "C" fn tk_result_len() -> usize {
    unsafe { RESULT.len() }
}

#[no_mangle]
pub extern "C" fn tk_error_ptr() -> *const u8 {
    unsafe { ERROR.as_ptr() }
}

#[no_mangle]
pub extern "C" fn tk_error_len() -> usize {
    unsafe { ERROR.len() }
}

/// Builds a tokenizer from the loader's binary description; returns its handle (> 0), or 0 on error.
#[no_mangle]
pub unsafe extern "C" fn tk_create(pointer: *const u8, length: usize) -> u32 {
    install_panic_hook();
    unicode::init();
    match Tokenizer::from_description(bytes(pointer, length)) {
        Ok(tokenizer) => {
            TOKENIZERS.push(Some(Box::new(tokenizer)));
            TOKENIZERS.len() as u32
        }
        Err(message) => {
            set_error(message);
            0
        }
    }
}

#[no_mangle]
pub extern "C" fn tk_destroy(handle: u32) {
    unsafe {
        if let Some(slot) = TOKENIZERS.get_mut(handle.wrapping_sub(1) as usize) {
            *slot = None;
        }
        // Release the result buffer's capacity too, so a disposed tokenizer leaves nothing large behind.
        RESULT = Vec::new();
    }
}

#[no_mangle]
pub extern "C" fn tk_vocab_size(handle: u32) -> u32 {
    tokenizer_at(handle).map(|tokenizer| tokenizer.vocab_size).unwrap_or(0)
}

/// Encodes UTF-8 text; the ids (u32 little-endian) are in the result buffer. Returns the count, or -1.
#[no_mangle]
pub unsafe extern "C" fn tk_encode(handle: u32, pointer: *const u8, length: usize, add_special_tokens: u32) -> i32 {
    let tokenizer = match tokenizer_at(handle) {
        Some(tokenizer) => tokenizer,
        None => {
            set_error(format!("tokenizer handle {} is not live", handle));
            return -1;
        }
    };
    let text = match std::str::from_utf8(bytes(pointer, length)) {
        Ok(text) => text,
        Err(_) => {
            set_error("text is not valid UTF-8".to_string());
            return -1;
        }
    };
    let mut ids = Vec::with_capacity(length / 3 + 4);
    tokenizer.encode(text, add_special_tokens != 0, &mut ids);
    set_result_ids(&ids);
    ids.len() as i32
}

/// Encodes many texts laid end to end (`lengths` gives each one's byte length). The result buffer holds each
/// text's id count, then all ids. Returns the total number of ids, or -1.
#[no_mangle]
pub unsafe extern "C" fn tk_encode_batch(
    handle: u32,
    pointer: *const u8,
    length: usize,
    lengths: *const u32,
    count: usize,
    add_special_tokens: u32,
) -> i32 {
    let tokenizer = match tokenizer_at(handle) {
        Some(tokenizer) => tokenizer,
        None => {
            set_error(format!("tokenizer handle {} is not live", handle));
            return -1;
        }
    };
    let all = bytes(pointer, length);
    let lengths = if count == 0 {
        &[][..]
    } else {
        std::slice::from_raw_parts(lengths, count)
    };
    let mut counts = Vec::with_capacity(count);
    let mut ids = Vec::with_capacity(length / 3 + 4);
    let mut start = 0usize;
    for &text_length in lengths {
        let end = start + text_length as usize;
        if end > all.len() {
            set_error("batch lengths exceed the text".to_string());
            return -1;
        }
        let text = match std::str::from_utf8(&all[start..end]) {
            Ok(text) => text,
            Err(_) => {
                set_error("text is not valid UTF-8".to_string());
                return -1;
            }
        };
        let before = ids.len();
        tokenizer.encode(text, add_special_tokens != 0, &mut ids);
        counts.push((ids.len() - before) as u32);
        start = end;
    }
    RESULT.clear();
    for value in counts.iter().chain(ids.iter()) {
        RESULT.extend_from_slice(&value.to_le_bytes());
    }
    ids.len() as i32
}

/// Decodes ids (u32 little-endian); the UTF-8 text is in the result buffer. Returns its length, or -1.
#[no_mangle]
pub unsafe extern "C" fn tk_decode(handle: u32, pointer: *const u32, count: usize, skip_special_tokens: u32) -> i32 {
    let tokenizer = match tokenizer_at(handle) {
        Some(tokenizer) => tokenizer,
        None => {
            set_error(format!("tokenizer handle {} is not live", handle));
            return -1;
        }
    };
    let ids = if count == 0 {
        &[][..]
    } else {
        std::slice::from_raw_parts(pointer, count)
    };
    match tokenizer.decode(ids, skip_special_tokens != 0) {
        Ok(text) => {
            RESULT = text.into_bytes();
            RESULT.len() as i32
        }
        Err(message) => {
            set_error(message);
            -1
        }
    }
}

/// The id of a token string, or -1.
#[no_mangle]
pub unsafe extern "C" fn tk_token_to_id(handle: u32, pointer: *const u8, length: usize) -> i64 {
    let tokenizer = match tokenizer_at(handle) {
        Some(tokenizer) => tokenizer,
        None => return -1,
    };
    match std::str::from_utf8(bytes(pointer, length)) {
        Ok(token) => tokenizer.token_to_id(token).map(|id| id as i64).unwrap_or(-1),
        Err(_) => -1,
    }
}

/// The token string of an id in the result buffer; returns its length, or -1.
#[no_mangle]
pub extern "C" fn tk_id_to_token(handle: u32, id: u32) -> i32 {
    let token = tokenizer_at(handle)
        .and_then(|tokenizer| tokenizer.id_to_token(id))
        .map(|token| token.as_bytes().to_vec());
    match token {
        Some(token) => unsafe {
            RESULT = token;
            RESULT.len() as i32
        },
        None => -1,
    }
}

/// Trains a byte-level BPE tokenizer on texts laid end to end; the tokenizer.json is in the result buffer.
/// `specials` holds the special tokens the same way. Returns the JSON's length, or -1.
#[no_mangle]
pub unsafe extern "C" fn tk_train_byte_level_bpe(
    pointer: *const u8,
    length: usize,
    lengths: *const u32,
    count: usize,
    specials_pointer: *const u8,
    specials_length: usize,
    special_lengths: *const u32,
    special_count: usize,
    vocab_size: u32,
    min_frequency: u32,
) -> i32 {
    install_panic_hook();
    unicode::init();
    let split = |all: &[u8], lengths: &[u32]| -> Result<Vec<String>, String> {
        let mut texts = Vec::with_capacity(lengths.len());
        let mut start = 0usize;
        for &text_length in lengths {
            let end = start + text_length as usize;
            if end > all.len() {
                return Err("lengths exceed the text".to_string());
            }
            texts.push(
                std::str::from_utf8(&all[start..end])
                    .map_err(|_| "text is not valid UTF-8".to_string())?
                    .to_string(),
            );
            start = end;
        }
        Ok(texts)
    };
    let text_lengths = if count == 0 {
        &[][..]
    } else {
        std::slice::from_raw_parts(lengths, count)
    };
    let special_text_lengths = if special_count == 0 {
        &[][..]
    } else {
        std::slice::from_raw_parts(special_lengths, special_count)
    };
    let result = split(bytes(pointer, length), text_lengths).and_then(|texts| {
        let specials = split(bytes(specials_pointer, specials_length), special_text_lengths)?;
        trainer::train_byte_level_bpe(&texts, &specials, vocab_size as usize, min_frequency as u64)
    });
    match result {
        Ok(json) => {
            RESULT = json.into_bytes();
            RESULT.len() as i32
        }
        Err(message) => {
            set_error(message);
            -1
        }
    }
}

/// Panics on purpose, so the tests can check that a panic reaches TypeScript as a readable message.
#[no_mangle]
pub extern "C" fn tk_self_test_panic(code: u32) -> u32 {
    install_panic_hook();
    if code != 0 {
        panic!("self-test panic with code {}", code);
    }
    0
}

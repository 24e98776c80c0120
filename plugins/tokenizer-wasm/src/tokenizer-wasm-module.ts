// The typed loader of crates/wasm/tokenizer.wasm: one instance per process, strings and id arrays copied in and
// out through memory it allocates and frees itself, and a trap turned into a readable error (the panic message
// the crate left behind) after which a fresh instance is started.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface TokenizerExports {
  memory: WebAssembly.Memory;
  tk_alloc(length: number): number;
  tk_free(pointer: number, length: number): void;
  tk_result_ptr(): number;
  tk_result_len(): number;
  tk_error_ptr(): number;
  tk_error_len(): number;
  tk_create(pointer: number, length: number): number;
  tk_destroy(handle: number): void;
  tk_vocab_size(handle: number): number;
  tk_encode(handle: number, pointer: number, length: number, addSpecialTokens: number): number;
  tk_encode_batch(handle: number, pointer: number, length: number, lengths: number, count: number, addSpecialTokens: number): number;
  tk_decode(handle: number, pointer: number, count: number, skipSpecialTokens: number): number;
  tk_token_to_id(handle: number, pointer: number, length: number): bigint;
  tk_id_to_token(handle: number, id: number): number;
  tk_train_byte_level_bpe(
    pointer: number, length: number, lengths: number, count: number,
    specialsPointer: number, specialsLength: number, specialLengths: number, specialCount: number,
    vocabSize: number, minFrequency: number,
  ): number;
  tk_self_test_panic(code: number): number;
}

let compiled: WebAssembly.Module | undefined;
let current: TokenizerModule | undefined;

/** Where the built module lies: crates/wasm/tokenizer.wasm, through the @lsp/crates workspace package. */
export function tokenizerWasmPath(): string {
  return createRequire(import.meta.url).resolve('@lsp/crates/wasm/tokenizer.wasm');
}

function compile(): WebAssembly.Module {
  if (!compiled) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(tokenizerWasmPath());
    } catch (error) {
      throw new Error('tokenizer.wasm is missing: run `bun run build` at the repository root (it builds crates/wasm)', { cause: error });
    }
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** The process's tokenizer instance; a new one after a trap, since a trapped instance may be inconsistent. */
export function tokenizerModule(): TokenizerModule {
  if (!current || current.broken) current = new TokenizerModule();
  return current;
}

const encoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF: it is text here (a token of its own in some vocabularies), not a marker.
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** Texts laid out in wasm memory for tk_encode_batch: the UTF-8 bytes, then each text's byte count. */
export interface TextBlock {
  pointer: number;
  length: number;
  capacity: number;
  lengthsPointer: number;
  count: number;
}

export class TokenizerModule {
  readonly exports: TokenizerExports;
  broken = false;

  constructor() {
    const instance = new WebAssembly.Instance(compile(), {});
    this.exports = instance.exports as unknown as TokenizerExports;
  }

  /** Runs a call; a trap becomes an Error with the crate's panic message, and this instance is retired. */
  call<T>(run: (exports: TokenizerExports) => T): T {
    if (this.broken) throw new Error('tokenizer wasm instance is no longer usable after an earlier failure');
    try {
      return run(this.exports);
    } catch (error) {
      if (error instanceof WebAssembly.RuntimeError) {
        this.broken = true;
        const message = this.errorMessage() || `tokenizer wasm trapped: ${error.message}`;
        throw new Error(message, { cause: error });
      }
      throw error;
    }
  }

  errorMessage(): string {
    const pointer = this.exports.tk_error_ptr();
    const length = this.exports.tk_error_len();
    return decoder.decode(new Uint8Array(this.exports.memory.buffer, pointer, length));
  }

  /** Copies bytes into fresh wasm memory; the caller frees with `free`. */
  copyIn(bytes: Uint8Array): { pointer: number; length: number } {
    const pointer = this.exports.tk_alloc(bytes.length);
    new Uint8Array(this.exports.memory.buffer, pointer, bytes.length).set(bytes);
    return { pointer, length: bytes.length };
  }

  /** Encodes a string straight into wasm memory (at most 3 bytes per UTF-16 unit). */
  copyInString(text: string): { pointer: number; length: number; capacity: number } {
    const capacity = Math.max(1, text.length * 3);
    const pointer = this.exports.tk_alloc(capacity);
    const { written } = encoder.encodeInto(text, new Uint8Array(this.exports.memory.buffer, pointer, capacity));
    return { pointer, length: written, capacity };
  }

  copyInU32(values: readonly number[] | Uint32Array): { pointer: number; length: number } {
    const length = values.length * 4;
    const pointer = this.exports.tk_alloc(length);
    const view = new Uint32Array(this.exports.memory.buffer, pointer, values.length);
    for (let index = 0; index < values.length; index++) {
      const value = values[index]!;
      view[index] = value;
    }
    return { pointer, length };
  }

  /** Writes texts end to end into wasm memory, with a u32 array of their UTF-8 lengths; free with freeStrings. */
  copyInStrings(texts: readonly string[]): TextBlock {
    let capacity = 1;
    for (const text of texts) capacity += text.length * 3;
    const pointer = this.exports.tk_alloc(capacity);
    const lengthsPointer = this.exports.tk_alloc(Math.max(1, texts.length) * 4);
    // Memory does not grow between these views: no allocation happens while they are in use.
    const bytes = new Uint8Array(this.exports.memory.buffer, pointer, capacity);
    const lengths = new Uint32Array(this.exports.memory.buffer, lengthsPointer, texts.length);
    let offset = 0;
    for (let index = 0; index < texts.length; index++) {
      const { written } = encoder.encodeInto(texts[index]!, bytes.subarray(offset));
      lengths[index] = written;
      offset += written;
    }
    return { pointer, length: offset, capacity, lengthsPointer, count: texts.length };
  }

  /** Texts already in UTF-8, laid out as copyInStrings lays them out. */
  copyInBytes(bytes: Uint8Array, lengths: Uint32Array): TextBlock {
    const capacity = Math.max(1, bytes.length);
    const pointer = this.exports.tk_alloc(capacity);
    const lengthsPointer = this.exports.tk_alloc(Math.max(1, lengths.length) * 4);
    new Uint8Array(this.exports.memory.buffer, pointer, bytes.length).set(bytes);
    new Uint32Array(this.exports.memory.buffer, lengthsPointer, lengths.length).set(lengths);
    return { pointer, length: bytes.length, capacity, lengthsPointer, count: lengths.length };
  }

  freeStrings(block: TextBlock): void {
    this.exports.tk_free(block.pointer, block.capacity);
    this.exports.tk_free(block.lengthsPointer, Math.max(1, block.count) * 4);
  }

  /** A copy of `count` u32s of the result buffer, from the `offset`-th. */
  resultU32Array(count: number, offset = 0): Uint32Array {
    const pointer = this.exports.tk_result_ptr() + offset * 4;
    if (pointer % 4 === 0) return new Uint32Array(this.exports.memory.buffer, pointer, count).slice();
    return Uint32Array.from(this.resultU32(count, offset));
  }

  free(block: { pointer: number; length: number; capacity?: number }): void {
    this.exports.tk_free(block.pointer, block.capacity ?? block.length);
  }

  resultU32(count: number, offset = 0): number[] {
    const pointer = this.exports.tk_result_ptr() + offset * 4;
    if (pointer % 4 === 0) return toNumbers(new Uint32Array(this.exports.memory.buffer, pointer, count));
    const view = new DataView(this.exports.memory.buffer, pointer, count * 4);
    return Array.from({ length: count }, (_, index) => view.getUint32(index * 4, true));
  }

  resultString(length: number): string {
    return decoder.decode(new Uint8Array(this.exports.memory.buffer, this.exports.tk_result_ptr(), length));
  }

  memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }
}

/** A plain array of `view[start..end)`: a preallocated loop, several times faster than Array.from in Bun. */
export function toNumbers(view: Uint32Array, start = 0, end = view.length): number[] {
  const numbers = new Array<number>(end - start);
  for (let index = start; index < end; index++) numbers[index - start] = view[index]!;
  return numbers;
}

/** Splits flat ids (each text's count, then all ids) into one array per text, written at result[first + i]. */
export function splitIds(counts: Uint32Array, ids: Uint32Array, result: number[][], first = 0): void {
  let start = 0;
  for (let index = 0; index < counts.length; index++) {
    const end = start + counts[index]!;
    result[first + index] = toNumbers(ids, start, end);
    start = end;
  }
}

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

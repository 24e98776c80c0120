// The TokenizerV1 over the wasm crate: loads a model folder or tokenizer.json (with tokenizer_config.json beside it
// for special tokens and the chat template), encodes and decodes through the crate, and streams decoded text.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ChatMessage, DecodeOptions, EncodeOptions, SpecialTokenIds, StreamDecoder, TokenizerV1 } from '@lsp/core';
import { InvalidInputError } from '@lsp/core';
import { renderChatTemplate, type TokenizerConfig } from './tokenizer-chat-template';
import { describeTokenizer, type TokenizerSummary } from './tokenizer-config';
import { splitIds, type TextBlock, type TokenizerModule, tokenizerModule, utf8 } from './tokenizer-wasm-module';

/** Tokens that end a turn in common chat formats, counted as eos when the file has them as special tokens. */
const endOfTurnTokens = ['<|eot_id|>', '<|im_end|>', '<|end_of_text|>', '<|endoftext|>', '<|end|>', '<end_of_turn>', '</s>'];

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidInputError(`${what}: cannot read ${path}`, { cause: error, hint: 'point --tokenizer at a model folder or its tokenizer.json' });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`${what}: ${path} is not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

function readJsonObject(path: string, what: string): Record<string, unknown> {
  const json = readJson(path, what);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InvalidInputError(`${what}: ${path} must hold a JSON object`);
  return json as Record<string, unknown>;
}

function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

/** Resolves a model folder or a tokenizer.json path to the tokenizer.json and its folder. */
function resolvePaths(path: string): { tokenizerPath: string; folder: string } {
  if (existsSync(path) && statSync(path).isDirectory()) return { tokenizerPath: join(path, 'tokenizer.json'), folder: path };
  return { tokenizerPath: path, folder: dirname(path) };
}

export class WasmTokenizer implements TokenizerV1 {
  readonly specificationVersion = 'v1' as const;
  readonly vocabularySize: number;
  readonly specialTokenIds: SpecialTokenIds;
  private readonly module: TokenizerModule;
  private handle: number;
  private readonly specialIds: Set<number>;
  private readonly config: TokenizerConfig;

  constructor(json: unknown, config: TokenizerConfig = {}, generationEos: number[] = []) {
    const { description, summary } = describeTokenizer(json);
    this.module = tokenizerModule();
    const module = this.module;
    const block = module.copyIn(description);
    try {
      this.handle = module.call((wasm) => wasm.tk_create(block.pointer, block.length));
    } finally {
      if (!module.broken) module.free(block);
    }
    if (this.handle === 0) throw new InvalidInputError(`tokenizer.json: ${module.errorMessage()}`);
    this.vocabularySize = module.call((wasm) => wasm.tk_vocab_size(this.handle));
    // The crate assigns added tokens' ids the way Hugging Face does (the file's ids are not authoritative).
    for (const token of summary.addedTokens) token.id = this.tokenToId(token.content) ?? token.id;
    this.specialIds = new Set(summary.addedTokens.filter((token) => token.special).map((token) => token.id));
    this.config = config;
    this.specialTokenIds = this.findSpecialTokenIds(summary, config, generationEos);
  }

  private findSpecialTokenIds(summary: TokenizerSummary, config: TokenizerConfig, generationEos: number[]): SpecialTokenIds {
    const idOf = (value: unknown): number | undefined => {
      const content = tokenContent(value);
      return content === undefined ? undefined : this.tokenToId(content);
    };
    const eos = new Set<number>(generationEos);
    const configuredEos = idOf(config.eos_token);
    if (configuredEos !== undefined) eos.add(configuredEos);
    for (const token of summary.addedTokens) {
      if (token.special && endOfTurnTokens.includes(token.content)) eos.add(token.id);
    }
    const result: SpecialTokenIds = { eos: [...eos].sort((a, b) => a - b) };
    const bos = idOf(config.bos_token);
    if (bos !== undefined) result.bos = bos;
    const pad = idOf(config.pad_token);
    if (pad !== undefined) result.pad = pad;
    return result;
  }

  private live(): number {
    if (this.handle === 0) throw new Error('tokenizer was disposed');
    return this.handle;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const handle = this.live();
    const module = this.module;
    return module.call((wasm) => {
      const block = module.copyInString(text);
      try {
        const count = wasm.tk_encode(handle, block.pointer, block.length, options.addSpecialTokens === false ? 0 : 1);
        if (count < 0) throw new InvalidInputError(`encode: ${module.errorMessage()}`);
        return module.resultU32(count);
      } finally {
        module.free(block);
      }
    });
  }

  /** Encodes many texts in one crossing into wasm: each text's id count, then all ids, as typed arrays. */
  encodeBatchFlat(texts: readonly string[], options: EncodeOptions = {}): { counts: Uint32Array; ids: Uint32Array } {
    return this.encodeBlock((module) => module.copyInStrings(texts), options);
  }

  /**
   * encodeBatchFlat for texts already in UTF-8: `lengths[i]` bytes of `bytes` after the previous texts' (the
   * parallel encoder's workers receive their texts this way, as one transferred buffer).
   */
  encodeBatchUtf8(bytes: Uint8Array, lengths: Uint32Array, options: EncodeOptions = {}): { counts: Uint32Array; ids: Uint32Array } {
    let total = 0;
    for (const length of lengths) total += length;
    if (total !== bytes.length) {
      throw new InvalidInputError(`encodeBatchUtf8: the lengths add up to ${total} bytes, but ${bytes.length} were given`);
    }
    return this.encodeBlock((module) => module.copyInBytes(bytes, lengths), options);
  }

  /** Encodes the texts `copyIn` places in wasm memory, in one call, and frees them. */
  private encodeBlock(copyIn: (module: TokenizerModule) => TextBlock, options: EncodeOptions): { counts: Uint32Array; ids: Uint32Array } {
    const handle = this.live();
    const module = this.module;
    return module.call((wasm) => {
      const block = copyIn(module);
      try {
        const count = wasm.tk_encode_batch(
          handle, block.pointer, block.length, block.lengthsPointer, block.count, options.addSpecialTokens === false ? 0 : 1,
        );
        if (count < 0) throw new InvalidInputError(`encode: ${module.errorMessage()}`);
        return { counts: module.resultU32Array(block.count), ids: module.resultU32Array(count, block.count) };
      } finally {
        module.freeStrings(block);
      }
    });
  }

  /** Encodes many texts in one crossing into wasm. */
  encodeBatchSync(texts: readonly string[], options: EncodeOptions = {}): number[][] {
    const { counts, ids } = this.encodeBatchFlat(texts, options);
    const result: number[][] = new Array(texts.length);
    splitIds(counts, ids, result);
    return result;
  }

  async encodeBatch(texts: readonly string[], options: EncodeOptions = {}): Promise<number[][]> {
    return this.encodeBatchSync(texts, options);
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const handle = this.live();
    const module = this.module;
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
        throw new InvalidInputError(`decode: id ${JSON.stringify(id)} is not a valid token id (vocabulary size ${this.vocabularySize})`);
      }
    }
    return module.call((wasm) => {
      const block = module.copyInU32(ids);
      try {
        const length = wasm.tk_decode(handle, block.pointer, ids.length, options.skipSpecialTokens ? 1 : 0);
        if (length < 0) throw new InvalidInputError(`decode: ${module.errorMessage()}`);
        return module.resultString(length);
      } finally {
        module.free(block);
      }
    });
  }

  createStreamDecoder(options: DecodeOptions = {}): StreamDecoder {
    return new WasmStreamDecoder(this, options);
  }

  tokenToId(token: string): number | undefined {
    const handle = this.live();
    const module = this.module;
    return module.call((wasm) => {
      const block = module.copyIn(utf8(token));
      try {
        const id = Number(wasm.tk_token_to_id(handle, block.pointer, block.length));
        return id < 0 ? undefined : id;
      } finally {
        module.free(block);
      }
    });
  }

  idToToken(id: number): string | undefined {
    const handle = this.live();
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) return undefined;
    const module = this.module;
    return module.call((wasm) => {
      const length = wasm.tk_id_to_token(handle, id);
      return length < 0 ? undefined : module.resultString(length);
    });
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  applyChatTemplate(messages: readonly ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
    return renderChatTemplate(this.config, messages, options);
  }

  dispose(): void {
    if (this.handle === 0) return;
    const handle = this.handle;
    this.handle = 0;
    if (!this.module.broken) this.module.call((wasm) => wasm.tk_destroy(handle));
  }
}

/**
 * Streams text as ids arrive, the way Hugging Face's DecodeStream does: decode the ids since the last emitted
 * prefix, emit the new part once it no longer ends in U+FFFD (an incomplete UTF-8 sequence or byte-fallback run).
 */
class WasmStreamDecoder implements StreamDecoder {
  private ids: number[] = [];
  private prefix = '';
  private prefixIndex = 0;

  constructor(private readonly tokenizer: WasmTokenizer, private readonly options: DecodeOptions) {}

  push(id: number): string {
    if (this.prefix === '' && this.ids.length > 0) {
      const prefix = this.tokenizer.decode(this.ids, this.options);
      if (!prefix.endsWith('\uFFFD')) {
        this.prefix = prefix;
        this.prefixIndex = this.ids.length;
      }
    }
    this.ids.push(id);
    const text = this.tokenizer.decode(this.ids, this.options);
    if (text.length > this.prefix.length && !text.endsWith('\uFFFD') && text.startsWith(this.prefix)) {
      const fresh = text.slice(this.prefix.length);
      const newPrefixIndex = this.ids.length - this.prefixIndex;
      this.ids = this.ids.slice(this.prefixIndex);
      this.prefix = this.tokenizer.decode(this.ids, this.options);
      this.prefixIndex = newPrefixIndex;
      return fresh;
    }
    return '';
  }

  flush(): string {
    const text = this.tokenizer.decode(this.ids, this.options);
    const rest = text.startsWith(this.prefix) ? text.slice(this.prefix.length) : text;
    this.ids = [];
    this.prefix = '';
    this.prefixIndex = 0;
    return rest;
  }
}

/** Loads a tokenizer from a model folder or a tokenizer.json path. */
export async function loadTokenizer(path: string): Promise<WasmTokenizer> {
  return loadTokenizerSync(path);
}

export function loadTokenizerSync(path: string): WasmTokenizer {
  const { tokenizerPath, folder } = resolvePaths(path);
  const json = readJson(tokenizerPath, 'tokenizer.json');
  const configPath = join(folder, 'tokenizer_config.json');
  const config = existsSync(configPath) ? (readJsonObject(configPath, 'tokenizer_config.json') as TokenizerConfig) : {};
  const generationPath = join(folder, 'generation_config.json');
  let generationEos: number[] = [];
  if (existsSync(generationPath)) {
    const value = readJsonObject(generationPath, 'generation_config.json').eos_token_id;
    generationEos = (Array.isArray(value) ? value : [value]).filter((id): id is number => Number.isInteger(id) && id >= 0);
  }
  return new WasmTokenizer(json, config, generationEos);
}

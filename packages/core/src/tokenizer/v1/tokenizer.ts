// The tokenizer interface, v1: text to ids and back, chat templates, streaming decode.

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | (string & {});
  content: string;
}

export interface EncodeOptions {
  /** Apply the post-processor's special tokens (e.g. BOS). Default true. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave special tokens out of the text. Default false. */
  skipSpecialTokens?: boolean;
}

/** Turns ids into text as they arrive, emitting only complete UTF-8 characters. */
export interface StreamDecoder {
  /** Returns the text that became complete with this id (possibly ''). */
  push(id: number): string;
  /** Returns whatever is still held back (incomplete bytes as U+FFFD). */
  flush(): string;
}

export interface SpecialTokenIds {
  bos?: number;
  /** Every id that ends generation (eos, end-of-turn). */
  eos: readonly number[];
  pad?: number;
}

export interface TokenizerV1 {
  readonly specificationVersion: 'v1';
  readonly vocabularySize: number;
  readonly specialTokenIds: SpecialTokenIds;
  encode(text: string, options?: EncodeOptions): number[];
  encodeBatch(texts: readonly string[], options?: EncodeOptions): Promise<number[][]>;
  decode(ids: readonly number[], options?: DecodeOptions): string;
  createStreamDecoder(options?: DecodeOptions): StreamDecoder;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** Renders the model's chat template (tokenizer_config.json) to a string. */
  applyChatTemplate(messages: readonly ChatMessage[], options?: { addGenerationPrompt?: boolean }): string;
  /** Frees wasm or native memory. */
  dispose(): void;
}

/** A tokenizer component: loads a tokenizer from a model folder or a tokenizer.json path. */
export interface TokenizerLoaderV1 {
  readonly specificationVersion: 'v1';
  readonly name: string;
  load(path: string): Promise<TokenizerV1>;
}

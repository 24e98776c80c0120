// @lsp/tokenizer-wasm: Hugging Face tokenizer.json in Rust compiled to wasm32, behind the core tokenizer interface.
import type { PluginV1, TokenizerLoaderV1 } from '@lsp/core';
import packageJson from '../package.json';
import { loadTokenizer } from './tokenizer-wasm';

export { loadTokenizer, loadTokenizerSync, WasmTokenizer } from './tokenizer-wasm';
export { renderChatTemplate, type TokenizerConfig } from './tokenizer-chat-template';

export const tokenizerWasmVersion: string = packageJson.version;

/** The plugin: one tokenizer loader named 'wasm'. */
export function tokenizerWasm(): PluginV1 {
  const loader: TokenizerLoaderV1 = {
    specificationVersion: 'v1',
    name: 'wasm',
    load: (path: string) => loadTokenizer(path),
  };
  return { name: '@lsp/tokenizer-wasm', version: tokenizerWasmVersion, specificationVersion: 'v1', tokenizers: [loader] };
}

export default tokenizerWasm;
export { runTokenize, type TokenizeOptions, type TokenizeOutput } from './tokenizer-command';
export { trainBpe, type TrainBpeOptions } from './tokenizer-train';
export { ParallelEncoder } from './tokenizer-parallel';

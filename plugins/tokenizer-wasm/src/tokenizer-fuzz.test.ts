// Short random strings over an alphabet of the characters where pre-tokenizer regexes, normalizers and added
// tokens disagree most easily (apostrophes and contraction letters, every kind of white space, marks, digits,
// special-token fragments), compared id for id with Hugging Face tokenizers.
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from 'tokenizers';
import { seededRandom } from './tokenizer-corpus';
import { packagedModelFolder, packagedModels } from './tokenizer-test-support';
import { trainBpe } from './tokenizer-train';
import { loadTokenizerSync, WasmTokenizer } from './tokenizer-wasm';

const alphabet = [
  "'", "'", 's', 'S', 'ſ', 't', 'T', 'r', 'R', 'e', 'E', 'v', 'l', 'L', 'm', 'd', 'D', 'a', 'Z', 'é', 'ß', 'İ', 'Σ', 'ω',
  ' ', ' ', ' ', '\n', '\n', '\r', '\t', '\u000b', '\u000c', '\u00a0', '\u0085', '\u1680', '\u2000', '\u2028', '\u3000', '\u200b', '\u001f',
  '0', '1', '9', '٣', '²', 'Ⅻ', '½', '.', ',', '!', '?', '-', '_', '"', '(', '<', '>', '|', '/', '$', '€', '…', '、',
  '\u0301', '\u0308', '\u093f', '\u094d', '\u064e', 'क', 'ب', '中', 'ア', '한', '😀', '🏽', '\u200d', '\ufe0f', '🇯', '𝔘',
  '<|im_start|>', '<|eot_id|>', '<s>', '</s>', '<|end', 'text|>', '<think>',
];

function randomStrings(seed: number, count: number): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const length = 1 + Math.floor(random() * 24);
    let text = '';
    for (let index = 0; index < length; index++) text += alphabet[Math.floor(random() * alphabet.length)]!;
    return text;
  });
}

const strings = randomStrings(424242, 20_000);

async function compare(reference: Tokenizer, ours: WasmTokenizer): Promise<string[]> {
  const failures: string[] = [];
  for (const addSpecialTokens of [true, false]) {
    const expected = (await reference.encodeBatch(strings, { addSpecialTokens })).map((encoding) => encoding.getIds());
    const actual = ours.encodeBatchSync(strings, { addSpecialTokens });
    strings.forEach((text, index) => {
      if (JSON.stringify(expected[index]) !== JSON.stringify(actual[index])) {
        failures.push(`${JSON.stringify(text)}: expected ${JSON.stringify(expected[index])}, got ${JSON.stringify(actual[index])}`);
      }
    });
  }
  const ids = strings.slice(0, 3000).map((text) => ours.encode(text));
  const decoded = await reference.decodeBatch(ids, false);
  ids.forEach((list, index) => {
    if (ours.decode(list) !== decoded[index]) failures.push(`decode of ${JSON.stringify(strings[index])}`);
  });
  return failures;
}

describe('random strings of tricky characters', () => {
  for (const name of packagedModels) {
    test(`${name}: 20,000 strings, with and without special tokens, encode and decode as the reference`, async () => {
      const path = join(packagedModelFolder(name), 'tokenizer.json');
      const ours = loadTokenizerSync(path);
      expect((await compare(Tokenizer.fromFile(path), ours)).slice(0, 5)).toEqual([]);
      ours.dispose();
    }, 60_000);
  }

  const llama2 = JSON.parse(readFileSync(join(packagedModelFolder('llama2'), 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  const variants: [string, Record<string, unknown>][] = [
    ['added tokens with single_word, lstrip, rstrip and normalized', {
      ...llama2,
      added_tokens: [
        ...(llama2.added_tokens as unknown[]),
        { id: 0, content: 'ad', single_word: true, lstrip: false, rstrip: false, normalized: false, special: false },
        { id: 0, content: 'te', single_word: false, lstrip: true, rstrip: true, normalized: false, special: true },
        { id: 0, content: 'Ze', single_word: true, lstrip: false, rstrip: false, normalized: true, special: false },
        { id: 0, content: '²1', single_word: false, lstrip: true, rstrip: false, normalized: false, special: false },
      ],
    }],
    ['NFKC, Lowercase, Whitespace, Digits and Punctuation', {
      ...llama2,
      normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] },
      pre_tokenizer: { type: 'Sequence', pretokenizers: [
        { type: 'Whitespace' }, { type: 'Digits', individual_digits: false }, { type: 'Punctuation', behavior: 'MergedWithNext' },
      ] },
    }],
  ];
  for (const [name, json] of variants) {
    test(`${name}: 20,000 strings as the reference`, async () => {
      const ours = new WasmTokenizer(json);
      expect((await compare(Tokenizer.fromString(JSON.stringify(json)), ours)).slice(0, 5)).toEqual([]);
      ours.dispose();
    }, 60_000);
  }

  test('a trained GPT-2-style file: 20,000 strings as the reference', async () => {
    const json = trainBpe(randomStrings(5, 5000), { vocabSize: 600, specialTokens: ['<|endoftext|>', '<s>'] });
    const ours = new WasmTokenizer(JSON.parse(json));
    expect((await compare(Tokenizer.fromString(json), ours)).slice(0, 5)).toEqual([]);
    ours.dispose();
  }, 60_000);
});

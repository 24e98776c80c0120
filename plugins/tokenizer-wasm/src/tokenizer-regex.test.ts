// The crate's general regex engine (Split patterns other than the three scanned by hand) against Hugging Face's
// Oniguruma: the Llama 3 and GPT-2 patterns wrapped in a group (so they take the engine, not the scanners),
// GPT-4o's o200k pattern, DeepSeek-V3's split sequence and smaller constructs, on the corpus and random strings.
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from 'tokenizers';
import { generateCorpus, seededRandom } from './tokenizer-corpus';
import { packagedModelFolder } from './tokenizer-test-support';
import { WasmTokenizer } from './tokenizer-wasm';

const llama3 = JSON.parse(readFileSync(join(packagedModelFolder('llama3'), 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
const corpus = generateCorpus(31, 1_000_000);
const alphabet = [..."'sSſkKK tTrReEvVlLmMdD aZé ß İΣ \n\r\t\u00a0\u3000\u2028 0 1 9 ٣ ² Ⅻ . , ! ? - _ / ( < > | $ € 中 ア 한 😀 \u0301 \u093f क ب"];
const random = seededRandom(77);
const strings = Array.from({ length: 5000 }, () => {
  let text = '';
  const length = 1 + Math.floor(random() * 20);
  for (let index = 0; index < length; index++) text += alphabet[Math.floor(random() * alphabet.length)]!;
  return text;
});

const llama3Pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const gpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const o200kPattern = [
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
  '\\p{N}{1,3}', ' ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*', '\\s*[\\r\\n]+', '\\s+(?!\\S)', '\\s+',
].join('|');
const deepSeekPatterns = [
  '\\p{N}{1,3}',
  '[一-龥\u3040-ゟ゠-ヿ]+',
  "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
];

function withSplits(patterns: string[], behavior = 'Isolated'): Record<string, unknown> {
  return {
    ...llama3,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        ...patterns.map((pattern) => ({ type: 'Split', pattern: { Regex: pattern }, behavior, invert: false })),
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
  };
}

const cases: [string, Record<string, unknown>][] = [
  ['Llama 3 pattern through the engine', withSplits([`(?:${llama3Pattern})`])],
  ['GPT-2 pattern through the engine', withSplits([`(?:${gpt2Pattern})`])],
  ["GPT-4o's o200k pattern", withSplits([o200kPattern])],
  ["DeepSeek-V3's three splits", withSplits(deepSeekPatterns)],
  ['lazy quantifiers, positive lookahead, \\d, \\P{L}, (?i:) words, intervals', withSplits([
    '\\d{2,}?|(?i:the|ſt)|[A-Za-z]+?(?=[aeiou])|\\P{L}{1,2}|.', '\\x{4e2d}|\\u00e9+',
  ], 'MergedWithPrevious')],
  ['\\w and \\W (BERT-style word split)', withSplits(['\\w+|[^\\w\\s]+', '\\W'])],
  ['Replace normalizer and decoder with regex patterns', {
    ...llama3,
    normalizer: { type: 'Replace', pattern: { Regex: ' {2,}|\\t' }, content: '~' },
    decoder: { type: 'Sequence', decoders: [{ type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }, { type: 'Replace', pattern: { Regex: '~+' }, content: '<sp>' }] },
  }],
  ['Contiguous and Removed behaviors with inverted matches', {
    ...withSplits(['\\s+'], 'Contiguous'),
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: '\\p{P}+' }, behavior: 'Removed', invert: true },
      { type: 'Split', pattern: { Regex: '[0-9]' }, behavior: 'Contiguous', invert: false },
      { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: false },
    ] },
  }],
];

describe('general regex engine', () => {
  for (const [name, json] of cases) {
    test(`${name}: ids as the reference on the corpus and random strings`, async () => {
      const reference = Tokenizer.fromString(JSON.stringify(json));
      const ours = new WasmTokenizer(json);
      const texts = [...corpus, ...strings];
      const expected = (await reference.encodeBatch(texts)).map((encoding) => encoding.getIds());
      const actual = ours.encodeBatchSync(texts);
      const failures = texts.flatMap((text, index) =>
        JSON.stringify(expected[index]) === JSON.stringify(actual[index]) ? [] : [`${JSON.stringify(text.slice(0, 60))}`],
      );
      expect(failures.slice(0, 5)).toEqual([]);
      const decoded = await reference.decodeBatch(actual.slice(0, 300), false);
      expect(actual.slice(0, 300).map((ids) => ours.decode(ids))).toEqual(decoded);
      ours.dispose();
    }, 120_000);
  }
});

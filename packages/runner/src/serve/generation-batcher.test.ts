// The batcher behind `lsp serve`, on a scripted model: which submissions share a generate() call, each entry's
// own max_tokens, stop sequences (never streamed past), seeded requests alone, and requests that arrive while a
// batch runs joining the next one together.
import { expect, test } from 'bun:test';
import type { GenerationRequest, GenerationResult, PolicyModelV1, SamplingOptions, TokenizerV1 } from '@lsp/core';
import { GenerationBatcher, type EntryDelta } from './generation-batcher';

const eos = 0;

/** Ids are character codes; id 0 is the end token. */
const tokenizer = {
  specificationVersion: 'v1',
  vocabularySize: 128,
  specialTokenIds: { eos: [eos] },
  decode: (ids: readonly number[]) => String.fromCharCode(...ids.filter((id) => id !== eos)),
  createStreamDecoder: () => ({ push: (id: number) => (id === eos ? '' : String.fromCharCode(id)), flush: () => '' }),
} as unknown as TokenizerV1;

interface Call {
  prompts: number[][];
  options: SamplingOptions;
}

/**
 * Generates each prompt's text script: the prompt's first id picks a script (a script ending in "\0" emits the
 * end token). Records every call; `gate` holds a call until released, to queue requests behind it.
 */
function scriptedModel(scripts: Record<number, string>) {
  const calls: Call[] = [];
  let gate: Promise<void> | undefined;
  const model = {
    specificationVersion: 'v1',
    tokenizer,
    async generate(requests: readonly GenerationRequest[], options: SamplingOptions, onToken?: (index: number, id: number) => void): Promise<GenerationResult[]> {
      calls.push({ prompts: requests.map((request) => [...request.promptIds]), options });
      if (gate) await gate;
      const ids = requests.map((request) => [...scripts[request.promptIds[0]!]!].map((c) => c.charCodeAt(0)));
      const out: number[][] = requests.map(() => []);
      const done = requests.map(() => false);
      for (let step = 0; step < options.maxNewTokens; step++) {
        requests.forEach((_, index) => {
          const id = ids[index]![step];
          if (done[index] || id === undefined) return;
          out[index]!.push(id);
          onToken?.(index, id);
          if (id === eos) done[index] = true;
        });
      }
      return out.map((completionIds, index) => ({
        completionIds, text: tokenizer.decode(completionIds), finishReason: done[index] ? 'eos' : 'length',
      }));
    },
    async tokenLogProbs(sequences: readonly { completionIds: readonly number[] }[]) {
      return sequences.map((sequence) => Float32Array.from(sequence.completionIds, (_, index) => -(index + 1)));
    },
  } as unknown as PolicyModelV1;
  return {
    model, calls,
    hold: () => {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

const greedy = { temperature: 0, topP: 1, topK: 0, stop: [] as string[] };
const options = { eosTokenIds: new Set([eos]), contextLength: 100, windowMs: 1 };

test('submissions with the same settings share one generate call; each entry stops at its own max_tokens', async () => {
  const { model, calls } = scriptedModel({ 1: 'abcdefgh', 2: 'xyz\0' });
  const batcher = new GenerationBatcher(model, options);
  const [short, long, ended] = await Promise.all([
    batcher.submit([{ promptIds: [1], maxTokens: 3 }], greedy),
    batcher.submit([{ promptIds: [1, 5], maxTokens: 6 }], greedy),
    batcher.submit([{ promptIds: [2], maxTokens: 6 }], greedy),
  ]);
  expect(calls).toHaveLength(1);
  expect(calls[0]!.prompts).toEqual([[1], [1, 5], [2]]);
  expect(calls[0]!.options.maxNewTokens).toBe(6);
  expect(short).toEqual([{ completionIds: [97, 98, 99], text: 'abc', finishReason: 'length' }]);
  expect(long![0]!.text).toBe('abcdef');
  expect(ended).toEqual([{ completionIds: [120, 121, 122, eos], text: 'xyz', finishReason: 'stop' }]);
  expect(batcher.stats).toEqual({ generateCalls: 1, entries: 3, largestBatch: 3 });
});

test('different settings, and every seeded request, get calls of their own', async () => {
  const { model, calls } = scriptedModel({ 1: 'abc' });
  const batcher = new GenerationBatcher(model, options);
  const entry = [{ promptIds: [1], maxTokens: 2 }];
  await Promise.all([
    batcher.submit(entry, greedy),
    batcher.submit(entry, { ...greedy, temperature: 1 }),
    batcher.submit(entry, { ...greedy, seed: 7 }),
    batcher.submit([...entry, ...entry], { ...greedy, seed: 7 }),
    batcher.submit(entry, greedy),
  ]);
  expect(calls.map((call) => [call.prompts.length, call.options.temperature, call.options.seed ?? null]))
    .toEqual([[2, 0, expect.any(Number)], [1, 1, expect.any(Number)], [1, 0, 7], [2, 0, 7]]);
});

test('requests that arrive while a batch runs are batched together in the next call', async () => {
  const { model, calls, hold } = scriptedModel({ 1: 'ab', 2: 'cd' });
  const batcher = new GenerationBatcher(model, options);
  const release = hold();
  const first = batcher.submit([{ promptIds: [1], maxTokens: 2 }], greedy);
  while (calls.length === 0) await Bun.sleep(1);
  const later = Array.from({ length: 5 }, () => batcher.submit([{ promptIds: [2], maxTokens: 2 }], greedy));
  release();
  await Promise.all([first, ...later]);
  expect(calls.map((call) => call.prompts.length)).toEqual([1, 5]);
});

test('stop sequences end an answer before them, and streaming never shows text that may start one', async () => {
  const { model } = scriptedModel({ 1: 'hello ENDworld', 2: 'a b E c\0' });
  const batcher = new GenerationBatcher(model, options);
  const deltas: EntryDelta[][] = [[], []];
  const outputs = await batcher.submit(
    [{ promptIds: [1], maxTokens: 20 }, { promptIds: [2], maxTokens: 20 }],
    { ...greedy, stop: ['END'] },
    { onDelta: (index, delta) => deltas[index]!.push(delta) },
  );
  expect(outputs.map((output) => [output.text, output.finishReason])).toEqual([['hello ', 'stop'], ['a b E c', 'stop']]);
  expect(deltas[0]!.map((delta) => delta.text).join('')).toBe('hello ');
  expect(deltas[0]!.every((delta) => !delta.text.includes('E'))).toBe(true);
  expect(deltas[1]!.map((delta) => delta.text).join('')).toBe('a b E c');
  expect(deltas[0]!.flatMap((delta) => delta.ids)).toEqual(outputs[0]!.completionIds);
});

test('an entry is not batched where the longest prompt would leave it fewer tokens than it asked for', async () => {
  const { model, calls } = scriptedModel({ 1: 'abcdefghij' });
  const batcher = new GenerationBatcher(model, { ...options, contextLength: 12 });
  const long = Array.from({ length: 8 }, () => 1);
  const [a, b] = await Promise.all([
    batcher.submit([{ promptIds: [1], maxTokens: 10 }], greedy),
    batcher.submit([{ promptIds: long, maxTokens: 2 }], greedy),
    batcher.submit([{ promptIds: [1, 2], maxTokens: 4 }], greedy),
  ]);
  expect(calls.map((call) => call.prompts.map((prompt) => prompt.length))).toEqual([[1, 2], [8]]);
  expect(a![0]!.text).toBe('abcdefghij');
  expect(b![0]!.text).toBe('ab');
});

test('log-probabilities come from one scoring pass; a failing model fails only its own batch', async () => {
  const { model } = scriptedModel({ 1: 'abc' });
  const batcher = new GenerationBatcher(model, options);
  const [output] = await batcher.submit([{ promptIds: [1], maxTokens: 2 }], greedy, { logprobs: true });
  expect(output!.tokenLogProbs).toEqual([-1, -2]);
  const failing = { ...model, generate: async () => { throw new Error('device lost'); } } as unknown as PolicyModelV1;
  const broken = new GenerationBatcher(failing, options);
  await expect(broken.submit([{ promptIds: [1], maxTokens: 2 }], greedy)).rejects.toThrow('device lost');
  expect((await batcher.submit([{ promptIds: [1], maxTokens: 1 }], greedy))[0]!.text).toBe('a');
});

test('a model replaced while a batch runs takes over after that batch, before the next one', async () => {
  const old = scriptedModel({ 1: 'ab' });
  const next = scriptedModel({ 1: 'xy' });
  const batcher = new GenerationBatcher(old.model, options);
  const release = old.hold();
  const first = batcher.submit([{ promptIds: [1], maxTokens: 2 }], greedy);
  while (old.calls.length === 0) await Bun.sleep(1);
  let replaced = false;
  const swap = batcher.replaceModel(next.model).then((previous) => {
    replaced = true;
    return previous;
  });
  const second = batcher.submit([{ promptIds: [1], maxTokens: 2 }], greedy);
  await Promise.resolve();
  expect(replaced).toBe(false); // the running batch still holds the old model
  release();
  expect((await first)[0]!.text).toBe('ab');
  expect(await swap).toBe(old.model);
  expect((await second)[0]!.text).toBe('xy');
  expect(old.calls).toHaveLength(1);
  expect(next.calls).toHaveLength(1);
  // With nothing running the swap is immediate.
  expect(await batcher.replaceModel(old.model)).toBe(next.model);
});

// The model on the oracle: a whole-model gradient check by finite differences, overfitting one batch,
// generation with and without the KV cache, batching and padding, save then load, non-finite refusals.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NonFiniteError, type ScoredSequence } from '@lsp/core';
import { createOracleDevice, createRandom, type OracleDevice } from '@lsp/oracle';
import { checkDirectionalDerivative } from './finite-differences';
import { TensorScope } from './llama';
import { loadModel } from './model-folder';
import { lengthGroups, type LlamaModel } from './policy-model';
import { writeRandomModel } from './random-model';

const work = mkdtempSync(join(tmpdir(), 'lsp-model-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every optional part at once: q/k/v and o bias, QK-norm, grouped heads, head_dim != hidden/heads, tied head. */
const qwen3WithBias = {
  model_type: 'qwen3', architectures: ['Qwen3ForCausalLM'], vocab_size: 23, hidden_size: 12, intermediate_size: 16,
  num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 4, attention_bias: true,
  tie_word_embeddings: true, rope_theta: 100, max_position_embeddings: 64, rms_norm_eps: 1e-6,
};
/** Llama with MLP bias, untied head and llama3 rope scaling (transformers 4 dialect). */
const llamaWithMlpBias = {
  model_type: 'llama', architectures: ['LlamaForCausalLM'], vocab_size: 19, hidden_size: 8, intermediate_size: 12,
  num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, mlp_bias: true, tie_word_embeddings: false,
  rope_theta: 500, rope_scaling: { rope_type: 'llama3', factor: 4, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8 },
  max_position_embeddings: 64, eos_token_id: 2,
};

async function model(name: string, config: Record<string, unknown>, seed = 1): Promise<{ model: LlamaModel; device: OracleDevice; directory: string }> {
  const directory = join(work, name);
  await writeRandomModel(directory, config, { seed, scale: 0.4 });
  const device = createOracleDevice();
  return { model: await loadModel(directory, { device }), device, directory };
}

const batch: ScoredSequence[] = [
  { promptIds: [1, 5, 9], completionIds: [3, 4] },
  { promptIds: [7], completionIds: [8, 2, 6, 11] },
  { promptIds: [4, 4, 4, 4, 4], completionIds: [0] },
];

/** sum_i w_i logp_i over the batch in float64, read straight from the oracle. */
function weightedLogProb(instance: LlamaModel, device: OracleDevice, weights: Float64Array): number {
  const scope = new TensorScope(device);
  const forward = instance.forwardScored(scope, batch)!;
  const logprobs = device.floats(forward.head.logprobs);
  let sum = 0;
  for (let i = 0; i < logprobs.length; i++) sum += weights[i]! * logprobs[i]!;
  scope.free();
  return sum;
}

describe('whole-model gradient', () => {
  for (const [name, config] of [['qwen3 with bias and QK-norm', qwen3WithBias], ['llama with MLP bias and llama3 rope', llamaWithMlpBias]] as const) {
    test(`matches finite differences along a random direction of every parameter (${name})`, async () => {
      const { model: instance, device } = await model(name.replace(/\W+/g, '-'), config);
      const random = createRandom(11);
      const tokens = batch.reduce((sum, sequence) => sum + sequence.completionIds.length, 0);
      const weights = Float64Array.from({ length: tokens }, () => random() * 2 - 1);
      await instance.accumulateGradients(batch, (logprobs) => {
        let at = 0;
        return logprobs.map((row) => Float32Array.from(row, () => weights[at++]!));
      });
      // The float32 weights above round; use exactly those values for the finite differences.
      const used = Float64Array.from(weights, Math.fround);
      for (const parameter of instance.parameters.all) {
        const analytic = checkDirectionalDerivative(device, parameter, () => weightedLogProb(instance, device, used), random);
        expect(analytic).not.toBe(0);
      }
    });
  }
});

test('a tiny model overfits one batch: the loss falls', async () => {
  const { model: instance } = await model('overfit', qwen3WithBias, 5);
  const negativeMean = (logprobs: readonly Float32Array[]) => {
    const count = logprobs.reduce((sum, row) => sum + row.length, 0);
    return { count, loss: -logprobs.reduce((sum, row) => sum + row.reduce((a, b) => a + b, 0), 0) / count };
  };
  const first = negativeMean(await instance.tokenLogProbs(batch)).loss;
  let last = first;
  for (let step = 0; step < 40; step++) {
    const logprobs = await instance.accumulateGradients(batch, (rows) => {
      const { count } = negativeMean(rows);
      return rows.map((row) => new Float32Array(row.length).fill(-1 / count));
    });
    last = negativeMean(logprobs).loss;
    const result = await instance.optimizerStep({ learningRate: 0.03, maxGradientNorm: 1 });
    expect(result.applied).toBe(true);
  }
  const final = negativeMean(await instance.tokenLogProbs(batch)).loss;
  expect(last).toBeLessThan(first);
  expect(final).toBeLessThan(0.2 * first);
});

describe('generation', () => {
  test('with and without the KV cache gives the same tokens, greedy and sampled', async () => {
    const { model: instance, device } = await model('generation', qwen3WithBias, 9);
    const requests = [{ promptIds: [1, 2, 3, 4, 5] }, { promptIds: [9] }, { promptIds: [6, 7, 8] }];
    for (const options of [
      { maxNewTokens: 10, temperature: 0 },
      { maxNewTokens: 10, temperature: 1.2, topK: 8, topP: 0.95, seed: 4 },
    ]) {
      const cached = await instance.generate(requests, options);
      const recomputed = await instance.generate(requests, { ...options, useKvCache: false });
      expect(cached.map((r) => r.completionIds)).toEqual(recomputed.map((r) => r.completionIds));
      expect(cached.every((r) => r.completionIds.length === 10 && r.finishReason === 'length')).toBe(true);
    }
    // Temporaries are freed or kept for the next pass, and releaseWorkspace frees those: weights and rotary tables stay.
    instance.releaseWorkspace();
    expect(device.liveTensorCount()).toBe(instance.parameters.all.length + 2);
  });

  test('a prompt gives the same tokens alone and left-padded in a batch, and the same seed the same draws', async () => {
    const { model: instance } = await model('padding', qwen3WithBias, 10);
    const options = { maxNewTokens: 8, temperature: 0.9, seed: 21 };
    const alone = await instance.generate([{ promptIds: [3] }], options);
    const batched = await instance.generate([{ promptIds: [3] }, { promptIds: [5, 6, 7, 8, 9, 10] }], options);
    expect(batched[0]!.completionIds).toEqual(alone[0]!.completionIds);
    const again = await instance.generate([{ promptIds: [3] }], options);
    expect(again[0]!.completionIds).toEqual(alone[0]!.completionIds);
    const other = await instance.generate([{ promptIds: [3] }], { ...options, seed: 22 });
    expect(other[0]!.completionIds).not.toEqual(alone[0]!.completionIds);
  });

  test('greedy tokens are the argmax of the log-probabilities, and generation stops at EOS', async () => {
    const { model: instance } = await model('eos', llamaWithMlpBias, 3);
    const prompt = [1, 4, 7];
    const [result] = await instance.generate([{ promptIds: prompt }], { maxNewTokens: 6, temperature: 0 });
    const ids = result!.completionIds;
    for (let i = 0; i < ids.length; i++) {
      const context = [...prompt, ...ids.slice(0, i)];
      const scores = await Promise.all(
        Array.from({ length: 19 }, (_, id) => instance.tokenLogProbs([{ promptIds: context, completionIds: [id] }])),
      );
      const best = scores.map((s) => s[0]![0]!).reduce((arg, value, id, all) => (value > all[arg]! ? id : arg), 0);
      expect(ids[i]).toBe(best);
    }
    // Make token 2 (eos_token_id) certain by giving it a huge output row, then generation ends with it.
    const head = instance.parameters.lmHead!;
    const device = instance.device as OracleDevice;
    const rows = device.floats(head.tensor);
    const hidden = instance.config.hiddenSize;
    // Point the EOS row of the head along the prompt's final normed state, so its logit dominates.
    const scope = new TensorScope(device);
    const forward = instance.forwardScored(scope, [{ promptIds: prompt, completionIds: [0] }])!;
    const normed = device.floats(forward.head.normed).slice();
    scope.free();
    for (let c = 0; c < hidden; c++) rows[2 * hidden + c] = 100 * normed[c]!;
    const [stopped] = await instance.generate([{ promptIds: prompt }], { maxNewTokens: 6, temperature: 0 });
    expect(stopped!.completionIds).toEqual([2]);
    expect(stopped!.finishReason).toBe('eos');
  });
});

test('save then load gives identical log-probabilities; the folder is written atomically', async () => {
  const { model: instance, device } = await model('save', llamaWithMlpBias, 12);
  const saved = join(work, 'saved');
  await instance.save(saved);
  await instance.save(saved); // over an existing folder
  expect(readdirSync(work).filter((name) => name.includes('.tmp-') || name.includes('.old-'))).toEqual([]);
  const reloaded = await loadModel(saved, { device });
  expect(await reloaded.tokenLogProbs(batch)).toEqual(await instance.tokenLogProbs(batch));
});

test('a trained model saves its optimizer state and resumes where it stopped', async () => {
  const { model: instance, device } = await model('resume', llamaWithMlpBias, 12);
  const train = async (m: LlamaModel) => {
    await m.accumulateGradients(batch, (rows) => rows.map((row) => new Float32Array(row.length).fill(-1)));
    await m.optimizerStep({ learningRate: 0.01 });
  };
  await train(instance);
  const saved = join(work, 'resumed');
  await instance.save(saved);
  const reloaded = await loadModel(saved, { device });
  expect(reloaded.step).toBe(1);
  // The oracle trains in float64 and the folder holds float32: equal to float32 rounding, no closer.
  const close = async () => {
    const [a, b] = [await reloaded.tokenLogProbs(batch), await instance.tokenLogProbs(batch)];
    a.forEach((row, i) => row.forEach((value, j) => expect(Math.abs(value - b[i]![j]!)).toBeLessThan(1e-5)));
  };
  await close();
  await train(instance);
  await train(reloaded);
  await close();
  expect(reloaded.step).toBe(2);
});

test('save keeps bf16 weights bf16 and a sharded folder sharded, and loads back to the same outputs', async () => {
  const fixture = join(import.meta.dir, '..', 'fixtures', 'qwen3-sharded');
  const device = createOracleDevice();
  const original = await loadModel(fixture, { device });
  const copy = join(work, 'sharded-copy');
  await original.save(copy);
  expect(readdirSync(copy).filter((name) => name.endsWith('.safetensors')).length).toBe(4);
  const reloaded = await loadModel(copy, { device });
  expect(await reloaded.tokenLogProbs(batch)).toEqual(await original.tokenLogProbs(batch));

  const bf16 = await loadModel(join(import.meta.dir, '..', 'fixtures', 'llama3-bf16'), { device });
  const bf16Copy = join(work, 'bf16-copy');
  await bf16.save(bf16Copy);
  const { readSafetensorsHeader } = await import('./safetensors');
  expect(new Set(readSafetensorsHeader(join(bf16Copy, 'model.safetensors')).map((entry) => entry.dtype))).toEqual(new Set(['BF16']));
  expect(await (await loadModel(bf16Copy, { device })).tokenLogProbs(batch)).toEqual(await bf16.tokenLogProbs(batch));
});

describe('non-finite values refuse the step', () => {
  test('a NaN weight makes accumulateGradients throw NonFiniteError', async () => {
    const { model: instance, device } = await model('nan-weight', qwen3WithBias);
    device.floats(instance.parameters.layers[0]!.q.tensor)[0] = Number.NaN;
    const error = await instance.accumulateGradients(batch, (rows) => rows.map((row) => new Float32Array(row.length))).catch((e) => e);
    expect(NonFiniteError.isInstance(error)).toBe(true);
  });

  test('an infinite loss gradient throws, and a non-finite accumulated gradient gives applied: false with weights unchanged', async () => {
    const { model: instance, device } = await model('inf-gradient', qwen3WithBias);
    const error = await instance.accumulateGradients(batch, (rows) => rows.map((row) => new Float32Array(row.length).fill(Number.POSITIVE_INFINITY))).catch((e) => e);
    expect(NonFiniteError.isInstance(error)).toBe(true);
    await instance.accumulateGradients(batch, (rows) => rows.map((row) => new Float32Array(row.length).fill(1)));
    device.floats(instance.parameters.finalNorm.gradient!)[0] = Number.NaN;
    const before = device.floats(instance.parameters.finalNorm.tensor).slice();
    const result = await instance.optimizerStep({ learningRate: 0.1 });
    expect(result.applied).toBe(false);
    expect(Number.isFinite(result.gradientNorm)).toBe(false);
    expect(device.floats(instance.parameters.finalNorm.tensor)).toEqual(before);
    // The refused gradient was cleared: a fresh one applies.
    await instance.accumulateGradients(batch, (rows) => rows.map((row) => new Float32Array(row.length).fill(1)));
    expect((await instance.optimizerStep({ learningRate: 0.1 })).applied).toBe(true);
  });
});

test('cloneFrozen copies the weights and refuses training', async () => {
  const { model: instance } = await model('clone', qwen3WithBias);
  const frozen = await instance.cloneFrozen();
  expect(await frozen.tokenLogProbs(batch)).toEqual(await instance.tokenLogProbs(batch));
  await instance.accumulateGradients(batch, (rows) => rows.map((row) => new Float32Array(row.length).fill(-1)));
  await instance.optimizerStep({ learningRate: 0.05 });
  expect(await frozen.tokenLogProbs(batch)).not.toEqual(await instance.tokenLogProbs(batch));
  expect(frozen.accumulateGradients(batch, (rows) => rows.map((row) => new Float32Array(row.length)))).rejects.toThrow(/frozen/);
});

test('gradient clipping scales the gradient AdamW sees by max / norm', async () => {
  const { model: instance, device } = await model('clip', qwen3WithBias, 2);
  await instance.accumulateGradients(batch, (rows) => rows.map((row) => new Float32Array(row.length).fill(-1)));
  const parameter = instance.parameters.layers[0]!.gate;
  const gradient = device.floats(parameter.gradient!).slice();
  let sumOfSquares = 0;
  for (const p of instance.parameters.all) for (const g of device.floats(p.gradient!)) sumOfSquares += g * g;
  const norm = Math.sqrt(sumOfSquares);
  const maxGradientNorm = norm / 10;
  const step = await instance.optimizerStep({ learningRate: 0.01, maxGradientNorm });
  expect(step.gradientNorm).toBeCloseTo(norm, 10);
  // After one step from zero, AdamW's first moment is (1 - beta1) times the gradient it used.
  const moment = device.floats(parameter.firstMoment!);
  const scale = maxGradientNorm / (norm + 1e-6);
  gradient.forEach((g, i) => expect(moment[i]!).toBeCloseTo(0.1 * g * scale, 12));
});

test('reused activation buffers leave no trace: a second pass gives what the first gave', async () => {
  const { model: instance, device } = await model('workspace', qwen3WithBias, 6);
  const first = await instance.tokenLogProbs(batch);
  const differentShape = [{ promptIds: [3, 1], completionIds: [5] }];
  await instance.tokenLogProbs(differentShape);
  expect(await instance.tokenLogProbs(batch)).toEqual(first);
  const loss = (rows: readonly Float32Array[]) => rows.map((row) => Float32Array.from(row, (_, i) => (i % 2 ? 0.5 : -1)));
  await instance.accumulateGradients(batch, loss);
  const once = instance.parameters.all.map((p) => device.floats(p.gradient!).slice());
  await instance.accumulateGradients(batch, loss);
  // Equal up to float64 summation order (the second pass adds its parts one by one onto the first's sum).
  instance.parameters.all.forEach((p, index) => {
    device.floats(p.gradient!).forEach((g, i) => expect(Math.abs(g - 2 * once[index]![i]!)).toBeLessThan(1e-12 * (1 + Math.abs(g))));
  });
});

test('discardGradients drops the accumulated gradient: the next step uses only what comes after', async () => {
  const runs: Float32Array[][] = [];
  for (const discard of [false, true]) {
    const { model: instance } = await model(`discard-${discard}`, qwen3WithBias, 8);
    if (discard) {
      await instance.accumulateGradients(batch, (rows) => rows.map((row) => new Float32Array(row.length).fill(5)));
      instance.discardGradients();
    }
    await instance.accumulateGradients(batch, (rows) => rows.map((row) => new Float32Array(row.length).fill(-1)));
    await instance.optimizerStep({ learningRate: 0.01 });
    runs.push(await instance.tokenLogProbs(batch));
  }
  expect(runs[1]).toEqual(runs[0]!);
});

test('save with exact: true writes float32 weights from a bf16 folder, so a checkpoint resumes exactly', async () => {
  const device = createOracleDevice();
  const bf16 = await loadModel(join(import.meta.dir, '..', 'fixtures', 'llama3-bf16'), { device });
  await bf16.accumulateGradients(batch, (rows) => rows.map((row) => new Float32Array(row.length).fill(-1)));
  await bf16.optimizerStep({ learningRate: 0.01 });
  const exact = join(work, 'exact');
  await bf16.save(exact, { exact: true });
  const { readSafetensorsHeader } = await import('./safetensors');
  expect(new Set(readSafetensorsHeader(join(exact, 'model.safetensors')).map((entry) => entry.dtype))).toEqual(new Set(['F32']));
  const reloaded = await loadModel(exact, { device });
  const [a, b] = [await reloaded.tokenLogProbs(batch), await bf16.tokenLogProbs(batch)];
  // float32 rounding of the oracle's float64 weights, nothing like bf16's 3 significant digits.
  a.forEach((row, i) => row.forEach((value, j) => expect(Math.abs(value - b[i]![j]!)).toBeLessThan(1e-5)));
});

test('entries that finish early leave the batch: results equal each request alone, and the cached run the uncached one', async () => {
  const { model: instance } = await model('compaction', qwen3WithBias, 13);
  const requests = Array.from({ length: 8 }, (_, i) => ({ promptIds: [1 + i, (3 * i) % 23, 7] }));
  // Some tokens end generation, so the entries finish at different steps.
  for (const id of [0, 4, 9, 13, 20]) instance.eosTokenIds.add(id);
  const greedy = { maxNewTokens: 12, temperature: 0 };
  const batched = await instance.generate(requests, greedy);
  expect(new Set(batched.map((result) => result.completionIds.length)).size).toBeGreaterThan(2);
  for (const [index, request] of requests.entries()) {
    const [alone] = await instance.generate([request], greedy);
    expect(batched[index]!.completionIds).toEqual(alone!.completionIds);
    expect(batched[index]!.finishReason).toBe(alone!.finishReason);
  }
  const sampled = { maxNewTokens: 12, temperature: 1.5, seed: 17 };
  const cached = await instance.generate(requests, sampled);
  const uncached = await instance.generate(requests, { ...sampled, useKvCache: false });
  expect(new Set(cached.map((result) => result.completionIds.length)).size).toBeGreaterThan(2);
  expect(cached.map((result) => result.completionIds)).toEqual(uncached.map((result) => result.completionIds));
});

test('the head in chunks of rows (large vocabularies) gives the same log-probabilities and gradients as in one piece', async () => {
  const results: { logprobs: Float32Array[]; gradients: Float64Array[] }[] = [];
  for (const budget of [undefined, 3 * 23]) {
    const { model: instance, device } = await model(`chunks-${budget}`, qwen3WithBias, 14);
    instance.context.logitBudget = budget;
    const logprobs = await instance.accumulateGradients(batch, (rows) => rows.map((row) => Float32Array.from(row, (_, i) => 1 - i)));
    results.push({ logprobs, gradients: instance.parameters.all.map((p) => device.floats(p.gradient!).slice()) });
  }
  expect(results[1]!.logprobs).toEqual(results[0]!.logprobs);
  results[0]!.gradients.forEach((gradient, index) => {
    gradient.forEach((g, i) => expect(Math.abs(g - results[1]!.gradients[index]![i]!)).toBeLessThan(1e-12 * (1 + Math.abs(g))));
  });
});

test('lengthGroups puts similar lengths together, longest first, and small passes together', () => {
  expect(lengthGroups([10, 100, 90, 12, 80, 11], 1)).toEqual([[1, 2, 4], [3, 5, 0]]);
  expect(lengthGroups([10, 100, 90, 12, 80, 11], 10_000)).toEqual([[1, 2, 4, 3, 5, 0]]);
  expect(lengthGroups([], 1)).toEqual([]);
  // A pass never holds more than maximumTokens padded tokens: 10 sequences of 100 tokens, at most 300 a pass.
  expect(lengthGroups(new Array<number>(10).fill(100), 10_000, 0.75, 300)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
});

test('a batch split into passes of similar lengths gives the log-probabilities and gradients of one padded pass', async () => {
  const mixed = [
    ...batch,
    { promptIds: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11], completionIds: [12, 13, 14, 15, 16, 17] },
    { promptIds: [1], completionIds: [] },
    { promptIds: [5, 5], completionIds: [6] },
  ];
  const results: { logprobs: Float32Array[]; gradients: Float64Array[] }[] = [];
  for (const minimumPassTokens of [Number.POSITIVE_INFINITY, 1]) {
    const { model: instance, device } = await model(`passes-${minimumPassTokens}`, qwen3WithBias, 15);
    instance.context.minimumPassTokens = minimumPassTokens;
    const logprobs = await instance.accumulateGradients(mixed, (rows) => rows.map((row) => Float32Array.from(row, (_, i) => 1 - i)));
    expect(await instance.tokenLogProbs(mixed)).toEqual(logprobs);
    results.push({ logprobs, gradients: instance.parameters.all.map((p) => device.floats(p.gradient!).slice()) });
  }
  results[1]!.logprobs.forEach((row, i) => row.forEach((value, j) => expect(Math.abs(value - results[0]!.logprobs[i]![j]!)).toBeLessThan(1e-6)));
  results[0]!.gradients.forEach((gradient, index) => {
    gradient.forEach((g, i) => expect(Math.abs(g - results[1]!.gradients[index]![i]!)).toBeLessThan(1e-10 * (1 + Math.abs(g))));
  });
});

test('generation stops at the end of the context with finish reason length, and a prompt that fills it is refused', async () => {
  const { model: instance } = await model('context', { ...qwen3WithBias, max_position_embeddings: 12 }, 4);
  const [result] = await instance.generate([{ promptIds: [1, 2, 3, 4, 5, 6, 7, 8, 9] }], { maxNewTokens: 50, temperature: 0 });
  expect(result!.completionIds.length).toBe(3);
  expect(result!.finishReason).toBe('length');
  expect(instance.generate([{ promptIds: new Array(12).fill(1) }], { maxNewTokens: 5 })).rejects.toThrow(/leaves no room to generate within the model's context of 12/);
});

test('a call larger than maxBatch runs in batches and draws exactly what one batch draws', async () => {
  const { model: instance } = await model('batches', qwen3WithBias, 9);
  const requests = Array.from({ length: 7 }, (_, index) => ({ promptIds: [1 + index, 3, 5, 7].slice(0, 1 + (index % 4)) }));
  const tokens: [number, number][][] = [[], []];
  const whole = await instance.generate(requests, { maxNewTokens: 6, temperature: 1, seed: 42 }, (index, id) => tokens[0]!.push([index, id]));
  const batched = await instance.generate(requests, { maxNewTokens: 6, temperature: 1, seed: 42, maxBatch: 3 }, (index, id) => tokens[1]!.push([index, id]));
  expect(batched).toEqual(whole);
  // It did run in batches: requests 3-6 start only after 0-2 have finished, where one call interleaves them all.
  const firstOf = (pairs: [number, number][], index: number) => pairs.findIndex(([at]) => at === index);
  const lastOf = (pairs: [number, number][], index: number) => pairs.findLastIndex(([at]) => at === index);
  expect(firstOf(tokens[1]!, 3)).toBeGreaterThan(lastOf(tokens[1]!, 0));
  expect(firstOf(tokens[0]!, 3)).toBeLessThan(lastOf(tokens[0]!, 0));
  // Every token reached the callback under its request's index in the whole call.
  const byRequest = (pairs: [number, number][]) => requests.map((_, index) => pairs.filter(([at]) => at === index).map(([, id]) => id));
  expect(byRequest(tokens[1]!)).toEqual(byRequest(tokens[0]!));
  expect(byRequest(tokens[0]!)).toEqual(whole.map((result) => result.completionIds));
});

test('a small activation budget splits scoring and training into more passes with the same results', async () => {
  const { model: instance, device } = await model('pass-budget', qwen3WithBias, 10);
  const whole = await instance.tokenLogProbs(batch);
  const loss = (rows: readonly Float32Array[]) => rows.map((row) => Float32Array.from(row, (_, i) => (i % 2 ? 0.5 : -1)));
  await instance.accumulateGradients(batch, loss);
  const gradients = instance.parameters.all.map((p) => device.floats(p.gradient!).slice());
  instance.discardGradients();
  // Room for about 7 padded tokens a pass: every sequence gets a pass of its own.
  const c = instance.config;
  instance.context.passBudgetBytes = 7 * 4 * c.layers * (5 * c.hiddenSize + 3 * c.intermediateSize + 3 * c.heads * c.headDim + 3 * c.keyValueHeads * c.headDim);
  expect(await instance.tokenLogProbs(batch)).toEqual(whole);
  await instance.accumulateGradients(batch, loss);
  instance.parameters.all.forEach((p, index) => {
    device.floats(p.gradient!).forEach((g, i) => expect(Math.abs(g - gradients[index]![i]!)).toBeLessThan(1e-12 * (1 + Math.abs(g))));
  });
});


// LoRA: gradients against finite differences (with and without dropout), PEFT's own log-probabilities for its
// adapters (fixtures made by reference/make_lora_fixtures.py with PEFT), merging, the reference as the base with
// adapters off (no copy), save and resume exactly, and one-line refusals of adapters LSP cannot compute.
import { afterAll, describe, expect, test } from 'bun:test';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError, type DeviceV1, type ScoredSequence } from '@lsp/core';
import { createWasmDevice } from '@lsp/backend-wasm';
import { createOracleDevice, createRandom, type OracleDevice } from '@lsp/oracle';
import { checkDirectionalDerivative } from './finite-differences';
import { TensorScope } from './llama';
import { createLoraState, parseLoraTargets, type LoraSettings } from './lora';
import { loadLoraAdapter, readAdapterConfig } from './lora-folder';
import { loadModel, readModelConfig } from './model-folder';
import type { LlamaModel } from './policy-model';
import { writeRandomModel } from './random-model';

const work = mkdtempSync(join(tmpdir(), 'lsp-lora-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const fixtures = join(import.meta.dir, '..', 'fixtures');

/** Biases, QK-norm, grouped heads and a tied head: every path an adapted projection sits on. */
const qwen3WithBias = {
  model_type: 'qwen3', architectures: ['Qwen3ForCausalLM'], vocab_size: 23, hidden_size: 12, intermediate_size: 16,
  num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 4, attention_bias: true,
  tie_word_embeddings: true, rope_theta: 100, max_position_embeddings: 64, rms_norm_eps: 1e-6,
};

// Longest first, as a training pass orders its rows (dropout's masks follow the rows, so the finite
// differences must see the pass's own order).
const batch: ScoredSequence[] = [
  { promptIds: [4, 4, 4, 4, 4], completionIds: [0] },
  { promptIds: [1, 5, 9], completionIds: [3, 4] },
  { promptIds: [7], completionIds: [8, 2, 6, 11] },
];

const allTargets: LoraSettings = { rank: 2, alpha: 3, dropout: 0, targets: parseLoraTargets(['all']) };

async function randomModel(name: string, device: DeviceV1, seed = 1): Promise<LlamaModel> {
  const directory = join(work, name);
  await writeRandomModel(directory, qwen3WithBias, { seed, scale: 0.4 });
  return loadModel(directory, { device });
}

/** Gives every B random values, so the adapters change the outputs and A gets a gradient. */
function randomiseB(model: LlamaModel, device: OracleDevice, seed: number): void {
  const random = createRandom(seed);
  for (const adapter of model.lora!.adapters) {
    const values = device.floats(adapter.b.tensor);
    for (let i = 0; i < values.length; i++) values[i] = (random() * 2 - 1) * 0.5;
  }
}

function weightedLogProb(model: LlamaModel, device: OracleDevice, weights: Float64Array, step: number, pass: number): number {
  const scope = new TensorScope(device);
  model.context.dropout = model.loraDropout(step, pass);
  try {
    const forward = model.forwardScored(scope, batch)!;
    const logprobs = device.floats(forward.head.logprobs);
    let sum = 0;
    for (let i = 0; i < logprobs.length; i++) sum += weights[i]! * logprobs[i]!;
    return sum;
  } finally {
    model.context.dropout = undefined;
    scope.free();
  }
}

describe('LoRA gradients', () => {
  for (const dropout of [0, 0.3]) {
    test(`match finite differences along a random direction of every A and B (dropout ${dropout}); the base gets none`, async () => {
      const device = createOracleDevice();
      const model = await randomModel(`fd-${dropout}`, device);
      model.attachLora(createLoraState(device, model.config, model.parameters, { ...allTargets, dropout }, 5), 9);
      randomiseB(model, device, 3);
      const random = createRandom(11);
      const tokens = batch.reduce((sum, sequence) => sum + sequence.completionIds.length, 0);
      const weights = Float64Array.from({ length: tokens }, () => Math.fround(random() * 2 - 1));
      await model.accumulateGradients(batch, (logprobs) => {
        let at = 0;
        return logprobs.map((row) => Float32Array.from(row, () => weights[at++]!));
      });
      for (const parameter of model.parameters.all) expect(parameter.gradient).toBeUndefined();
      const trainable = model.trainableParameters();
      expect(trainable.length).toBe(2 * 7 * 2);
      for (const parameter of trainable) {
        // The same masks as the training pass: step 0, pass 0.
        const analytic = checkDirectionalDerivative(device, parameter, () => weightedLogProb(model, device, weights, 0, 0), random);
        expect(analytic).not.toBe(0);
      }
      model.dispose();
    });
  }

  test('dropout applies only in training passes, with masks that depend on the pass and repeat for the same one', async () => {
    const device = createOracleDevice();
    const model = await randomModel('dropout', device, 2);
    model.attachLora(createLoraState(device, model.config, model.parameters, { ...allTargets, dropout: 0.5 }, 5), 9);
    randomiseB(model, device, 4);
    const evaluation = await model.tokenLogProbs(batch);
    const zero = (rows: readonly Float32Array[]) => rows.map((row) => new Float32Array(row.length));
    const first = await model.accumulateGradients(batch, zero);
    const second = await model.accumulateGradients(batch, zero);
    expect(first).not.toEqual(evaluation);
    expect(second).not.toEqual(first);
    model.discardGradients();
    // After a discard the pass count restarts: the first pass's masks come back.
    expect(await model.accumulateGradients(batch, zero)).toEqual(first);
    expect(await model.tokenLogProbs(batch)).toEqual(evaluation);
    model.dispose();
  });
});

describe('adapters made by PEFT', () => {
  interface Reference {
    base: string;
    sequences: { prompt_ids: number[]; completion_ids: number[] }[];
    logprobs_float64: number[][];
    merged_logprobs_float64: number[][];
    base_logprobs_float64: number[][];
  }
  const maxDifference = (actual: ArrayLike<number>[], expected: number[][]) => {
    let worst = 0;
    expected.forEach((row, i) => {
      expect(actual[i]!.length).toBe(row.length);
      row.forEach((value, j) => { worst = Math.max(worst, Math.abs(actual[i]![j]! - value)); });
    });
    return worst;
  };

  for (const name of ['lora-qwen2-all', 'lora-mistral-qv']) {
    for (const backend of ['oracle', 'wasm'] as const) {
      test(`${name} on ${backend}: base + adapter and the merged model give PEFT's log-probabilities`, async () => {
        const reference: Reference = JSON.parse(readFileSync(join(fixtures, name, 'reference.json'), 'utf8'));
        const sequences = reference.sequences.map((s) => ({ promptIds: s.prompt_ids, completionIds: s.completion_ids }));
        const device = backend === 'oracle' ? createOracleDevice() : await createWasmDevice({ threads: 2, blas: false });
        try {
          const model = await loadModel(join(fixtures, reference.base), { device });
          // The adapter is not a no-op: PEFT's outputs with it differ from the base's.
          expect(maxDifference(await model.tokenLogProbs(sequences), reference.base_logprobs_float64)).toBeLessThan(1e-5);
          expect(maxDifference(await model.tokenLogProbs(sequences), reference.logprobs_float64)).toBeGreaterThan(1e-2);
          loadLoraAdapter(model, join(fixtures, name));
          const adapted = await model.tokenLogProbs(sequences);
          expect(maxDifference(adapted, reference.logprobs_float64)).toBeLessThan(1e-5);
          // The reference policy: the same weights with the adapters off.
          const base = model.withoutAdapters();
          expect(maxDifference(await base.tokenLogProbs(sequences), reference.base_logprobs_float64)).toBeLessThan(1e-5);
          base.dispose();
          model.mergeLora();
          expect(model.lora).toBeUndefined();
          expect(maxDifference(await model.tokenLogProbs(sequences), reference.merged_logprobs_float64)).toBeLessThan(1e-5);
          model.dispose();
        } finally {
          device.dispose();
        }
      });
    }
  }

  test('the base with adapters off shares the weights: no second copy on the device', async () => {
    const device = await createWasmDevice({ threads: 1, blas: false });
    try {
      const model = await loadModel(join(fixtures, 'qwen2-f16-v4'), { device });
      loadLoraAdapter(model, join(fixtures, 'lora-qwen2-all'));
      const before = device.liveTensorCount();
      const reference = model.withoutAdapters();
      expect(device.liveTensorCount() - before).toBe(2); // its own rotary tables only
      const summary = model.parameterSummary();
      // 2 layers x (q 4x32+32x4, k 4x32+16x4, v the same, o 4x32+32x4, gate 4x32+48x4, up the same, down 4x48+32x4)
      expect(summary.trainable).toBe(2 * (256 + 192 + 192 + 256 + 320 + 320 + 320));
      expect(summary.total - summary.trainable).toBe(model.parameters.all.reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0));
      reference.dispose();
      // Disposing the view frees only what it owns: the policy still computes.
      expect((await model.tokenLogProbs(batch))[0]!.every(Number.isFinite)).toBe(true);
      model.dispose();
      expect(device.liveTensorCount()).toBe(0);
    } finally {
      device.dispose();
    }
  });
});

describe('a frozen copy of a LoRA model', () => {
  test('copies the adapters (not the base): same outputs, unmoved by later steps, freed on its own', async () => {
    const device = createOracleDevice();
    const model = await randomModel('clone', device, 4);
    model.attachLora(createLoraState(device, model.config, model.parameters, allTargets, 5), 9);
    randomiseB(model, device, 6);
    const before = await model.tokenLogProbs(batch);
    const frozen = await model.cloneFrozen();
    expect(await frozen.tokenLogProbs(batch)).toEqual(before);
    await model.accumulateGradients(batch, (rows) => rows.map((row) => new Float32Array(row.length).fill(-1)));
    await model.optimizerStep({ learningRate: 0.05 });
    expect(await model.tokenLogProbs(batch)).not.toEqual(before);
    expect(await frozen.tokenLogProbs(batch)).toEqual(before);
    frozen.dispose();
    expect((await model.tokenLogProbs(batch))[0]!.every(Number.isFinite)).toBe(true);
    model.dispose();
  });
});

describe('save and resume', () => {
  test('a saved adapter with its optimizer state resumes exactly: the next steps equal the uninterrupted ones', async () => {
    const loss = (rows: readonly Float32Array[]) => rows.map((row) => Float32Array.from(row, (_, i) => (i % 2 ? 0.5 : -1)));
    const settings: LoraSettings = { rank: 2, alpha: 4, dropout: 0.2, targets: ['q', 'v', 'down'] };
    const device = await createWasmDevice({ threads: 2, blas: false });
    try {
      const directory = join(work, 'resume-base');
      await writeRandomModel(directory, qwen3WithBias, { seed: 3, scale: 0.4 });
      const first = await loadModel(directory, { device });
      first.attachLora(createLoraState(device, first.config, first.parameters, settings, 1), 7);
      for (let step = 0; step < 2; step++) {
        await first.accumulateGradients(batch, loss);
        await first.optimizerStep({ learningRate: 0.05 });
      }
      const checkpoint = join(work, 'resume-adapter');
      await first.save(checkpoint);
      const config = JSON.parse(readFileSync(join(checkpoint, 'adapter_config.json'), 'utf8'));
      expect(config).toMatchObject({ peft_type: 'LORA', r: 2, lora_alpha: 4, lora_dropout: 0.2, target_modules: ['q_proj', 'v_proj', 'down_proj'] });
      for (let step = 0; step < 2; step++) {
        await first.accumulateGradients(batch, loss);
        await first.optimizerStep({ learningRate: 0.05 });
      }
      const second = await loadModel(directory, { device });
      loadLoraAdapter(second, checkpoint, 7);
      expect(second.step).toBe(2);
      for (let step = 0; step < 2; step++) {
        await second.accumulateGradients(batch, loss);
        await second.optimizerStep({ learningRate: 0.05 });
      }
      const weights = async (model: LlamaModel) => Promise.all(model.trainableParameters().map(async (p) => device.read(p.tensor)));
      expect(await weights(second)).toEqual(await weights(first));
      expect(await second.tokenLogProbs(batch)).toEqual(await first.tokenLogProbs(batch));
      first.dispose();
      second.dispose();
    } finally {
      device.dispose();
    }
  });
});

describe('bad input', () => {
  const base = () => readModelConfig(join(fixtures, 'mistral-f32'));
  const adapterWith = (change: Record<string, unknown>) => {
    const directory = mkdtempSync(join(work, 'bad-'));
    cpSync(join(fixtures, 'lora-mistral-qv'), directory, { recursive: true });
    const config = JSON.parse(readFileSync(join(directory, 'adapter_config.json'), 'utf8'));
    writeFileSync(join(directory, 'adapter_config.json'), JSON.stringify({ ...config, ...change }));
    return directory;
  };
  const refusal = (run: () => unknown): string => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      return (error as Error).message;
    }
    throw new Error('expected a refusal');
  };

  test('a target that is not a projection of the model is refused in one line naming it', () => {
    expect(refusal(() => parseLoraTargets(['q', 'lm_head']))).toBe('lora.targets: "lm_head" is not a projection of the model; choose from q, k, v, o, gate, up, down (or all)');
    expect(refusal(() => readAdapterConfig(adapterWith({ target_modules: ['q_proj', 'embed_tokens'] }), base()))).toContain('target_modules names "embed_tokens"');
  });

  test('adapter_config.json fields LSP does not compute are refused, not ignored', () => {
    expect(refusal(() => readAdapterConfig(adapterWith({ use_dora: true }), base()))).toBe('adapter_config.json: use_dora true is not supported (only false)');
    expect(refusal(() => readAdapterConfig(adapterWith({ modules_to_save: ['lm_head'] }), base()))).toContain('modules_to_save');
    expect(refusal(() => readAdapterConfig(adapterWith({ rank_pattern: { q_proj: 4 } }), base()))).toContain('rank_pattern');
    expect(refusal(() => readAdapterConfig(adapterWith({ peft_type: 'IA3' }), base()))).toContain('peft_type "IA3"');
    expect(refusal(() => readAdapterConfig(adapterWith({ r: 0 }), base()))).toContain('"r"');
  });

  test('adapter weights that do not fit the config are refused before anything is attached', async () => {
    const device = createOracleDevice();
    const model = await loadModel(join(fixtures, 'mistral-f32'), { device });
    expect(refusal(() => loadLoraAdapter(model, adapterWith({ r: 3 })))).toContain('implies [3, 32]');
    expect(refusal(() => loadLoraAdapter(model, adapterWith({ target_modules: ['q_proj'] })))).toContain('is not an adapter of the modules');
    expect(refusal(() => loadLoraAdapter(model, adapterWith({ target_modules: ['q_proj', 'v_proj', 'o_proj'] })))).toContain('o_proj.lora_A.weight" is missing');
    expect(model.lora).toBeUndefined();
    model.dispose();
  });

  test('regular-expression targets match as PEFT matches them, and uneven ones are refused', () => {
    expect(readAdapterConfig(adapterWith({ target_modules: '.*\\.(q|v)_proj' }), base()).settings.targets).toEqual(['q', 'v']);
    expect(refusal(() => readAdapterConfig(adapterWith({ target_modules: 'model\\.layers\\.0\\..*q_proj' }), base()))).toContain('some layers only');
  });
});

// The model on the WebGPU backend (lavapipe in CI): whole-model log-probabilities of the transformers fixtures
// (every dtype, tied and untied heads, biases, QK-norm) equal to the CPU backend's and to transformers', one
// training step equal to the CPU backend's, greedy generation equal to transformers', `lsp score --backend webgpu`
// equal to `--backend wasm`, and a 2-iteration self-play run on WebGPU that resumes to the same metrics.
// Without a WebGPU adapter the file is skipped with the reason printed.
import { configSchema, type DeviceV1, type LspConfig, type ScoredSequence } from '@lsp/core';
import backendWasm, { createWasmDevice } from '@lsp/backend-wasm';
import backendWebgpu, { createWebgpuDevice } from '@lsp/backend-webgpu';
import gameLsp from '@lsp/game-lsp';
import { loadModel, type LlamaModel } from '@lsp/model';
import tokenizerWasm from '@lsp/tokenizer-wasm';
import world from '@lsp/world';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PluginRegistry } from '../packages/runner/src/plugins/plugin-registry';
import { readMetrics, type IterationMetrics } from '../packages/runner/src/run/run-metrics';
import { runExperiment } from '../packages/runner/src/selfplay/experiment';
import { writeTinyWorldModel } from './support/tiny-world-model';

const fixtures = join(import.meta.dir, '..', 'packages', 'model', 'fixtures');
const bin = join(import.meta.dir, '..', 'packages', 'runner', 'src', 'bin.ts');

const opened = await createWebgpuDevice().then(
  (device) => ({ device: device as DeviceV1, reason: '' }),
  (error: unknown) => ({ device: undefined, reason: error instanceof Error ? error.message : String(error) }),
);
if (!opened.device) console.log(`webgpu model tests skipped: ${opened.reason}`);
const gpu = opened.device as DeviceV1;
let cpu: DeviceV1;
let root: string;

beforeAll(async () => {
  cpu = await createWasmDevice({ threads: 2, blas: false });
  root = mkdtempSync(join(tmpdir(), 'lsp-webgpu-model-'));
});
afterAll(() => {
  cpu?.dispose();
  opened.device?.dispose();
  rmSync(root, { recursive: true, force: true });
});

interface Reference {
  sequences: { prompt_ids: number[]; completion_ids: number[] }[];
  logprobs_float64: number[][];
  greedy_prompts: number[][];
  greedy_float32: number[][];
}

const maxDifference = (actual: ArrayLike<number>[], expected: ArrayLike<number>[]) => {
  let worst = 0;
  expected.forEach((row, i) => {
    expect(actual[i]!.length).toBe(row.length);
    for (let j = 0; j < row.length; j++) worst = Math.max(worst, Math.abs(actual[i]![j]! - row[j]!));
  });
  return worst;
};

describe.skipIf(!opened.device)('the model on WebGPU', () => {
  for (const name of ['llama3-bf16', 'qwen2-f16-v4', 'qwen3-sharded', 'mistral-f32']) {
    test(`${name}: log-probabilities equal the CPU backend's and transformers', and greedy tokens transformers'`, async () => {
      const reference: Reference = JSON.parse(readFileSync(join(fixtures, name, 'reference.json'), 'utf8'));
      const sequences = reference.sequences.map((s) => ({ promptIds: s.prompt_ids, completionIds: s.completion_ids }));
      const onGpu = await loadModel(join(fixtures, name), { device: gpu });
      const onCpu = await loadModel(join(fixtures, name), { device: cpu });
      try {
        const gpuLogProbs = await onGpu.tokenLogProbs(sequences);
        expect(maxDifference(gpuLogProbs, await onCpu.tokenLogProbs(sequences))).toBeLessThan(1e-5);
        expect(maxDifference(gpuLogProbs, reference.logprobs_float64)).toBeLessThan(1e-5);
        const greedy = await onGpu.generate(reference.greedy_prompts.map((promptIds) => ({ promptIds })), { maxNewTokens: 8, temperature: 0 });
        expect(greedy.map((result) => result.completionIds)).toEqual(reference.greedy_float32);
      } finally {
        onGpu.dispose();
        onCpu.dispose();
      }
    });
  }

  test('qwen2-f16-v4 (tied embeddings) on a device binding at most 4 KiB: the embedding, the tied head and the logits in windows', async () => {
    // The 80 x 32 embedding (10 KiB) is both the table and the transposed B of the head: both bound in windows of
    // at most 1024 elements, as are each sequence's logits and MLP activations; one sequence at a time keeps the
    // attention and norms (which bind whole tensors) within the limit.
    const reference: Reference = JSON.parse(readFileSync(join(fixtures, 'qwen2-f16-v4', 'reference.json'), 'utf8'));
    const sequences = reference.sequences.map((s) => ({ promptIds: s.prompt_ids, completionIds: s.completion_ids }));
    const small = await createWebgpuDevice({ maxStorageBindingBytes: 4096 });
    const onSmall = await loadModel(join(fixtures, 'qwen2-f16-v4'), { device: small });
    const onGpu = await loadModel(join(fixtures, 'qwen2-f16-v4'), { device: gpu });
    try {
      for (const sequence of sequences) {
        const windowed = await onSmall.tokenLogProbs([sequence]);
        expect(maxDifference(windowed, await onGpu.tokenLogProbs([sequence]))).toBeLessThan(1e-5);
        expect(maxDifference(windowed, [reference.logprobs_float64[sequences.indexOf(sequence)]!])).toBeLessThan(1e-5);
      }
    } finally {
      onSmall.dispose();
      onGpu.dispose();
      small.dispose();
    }
  }, 120_000);

  test('one training step (forward, backward, clipping, AdamW) gives the CPU backend\'s weights', async () => {
    const batch: ScoredSequence[] = [
      { promptIds: [1, 5, 9, 2], completionIds: [17, 3, 44, 8, 0] },
      { promptIds: [7], completionIds: [7, 7, 30, 2, 61, 12, 5, 19] },
      { promptIds: [60, 2, 33, 11], completionIds: [6, 1] },
    ];
    const loss = (rows: readonly Float32Array[]) => rows.map((row) => Float32Array.from(row, (_, i) => (i % 2 ? 0.5 : -1) / row.length));
    const step = async (device: DeviceV1) => {
      const model = await loadModel(join(fixtures, 'qwen3-sharded'), { device });
      const logprobs = await model.accumulateGradients(batch, loss);
      const gradients = await Promise.all(model.parameters.all.map(async (p) => (await device.read(p.gradient!)) as Float32Array));
      const result = await model.optimizerStep({ learningRate: 1e-2, maxGradientNorm: 0.5, weightDecay: 0.1 });
      const weights = await Promise.all(model.parameters.all.map(async (p) => (await device.read(p.tensor)) as Float32Array));
      model.dispose();
      return { logprobs, gradients, result, weights };
    };
    const [onGpu, onCpu] = [await step(gpu), await step(cpu)];
    expect(onGpu.result.applied).toBe(true);
    expect(maxDifference(onGpu.logprobs, onCpu.logprobs)).toBeLessThan(1e-5);
    // Gradients to float32 accumulation order, relative to each tensor's largest entry.
    onGpu.gradients.forEach((gradient, index) => {
      const scale = onCpu.gradients[index]!.reduce((largest, value) => Math.max(largest, Math.abs(value)), 0);
      expect(maxDifference([gradient], [onCpu.gradients[index]!])).toBeLessThanOrEqual(1e-5 * scale + 1e-9);
    });
    expect(Math.abs(onGpu.result.gradientNorm - onCpu.result.gradientNorm)).toBeLessThan(1e-5 * onCpu.result.gradientNorm);
    // AdamW moves each weight by lr * m / (sqrt(v) + eps): about lr whatever the gradient's size, so an entry whose
    // gradient is a rounding error apart on the two devices can move by visibly different amounts. The weights
    // agree to a small fraction of the learning rate (the adamw kernel itself is checked against the oracle).
    expect(maxDifference(onGpu.weights, onCpu.weights)).toBeLessThan(1e-2 * 1e-2);
  });

  test('lsp score --backend webgpu gives what --backend wasm gives', async () => {
    const input = join(root, 'score.jsonl');
    writeFileSync(input, '{"prompt_ids": [1, 5, 9], "completion_ids": [17, 3, 44]}\n{"prompt_ids": [7], "completion_ids": [7, 30, 2, 61]}\n');
    const score = async (backend: string) => {
      const child = Bun.spawn([process.execPath, bin, 'score', '--model', join(fixtures, 'mistral-f32'), '--input', input, '--backend', backend], { stdout: 'pipe', stderr: 'pipe' });
      const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
      expect(code, stderr).toBe(0);
      return stdout.trim().split('\n').map((line) => (JSON.parse(line) as { token_logprobs: number[] }).token_logprobs);
    };
    const [webgpu, wasm] = [await score('webgpu'), await score('wasm')];
    expect(webgpu).toHaveLength(2);
    expect(maxDifference(webgpu, wasm)).toBeLessThan(1e-5);
    // An adapter that is not there: one line naming it and what to do, no stack trace.
    const child = Bun.spawn([process.execPath, bin, 'score', '--model', join(fixtures, 'mistral-f32'), '--input', input, '--backend', 'webgpu'], {
      stdout: 'pipe', stderr: 'pipe', env: { ...process.env, LSP_WEBGPU_ADAPTER: 'no such gpu' },
    });
    const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
    expect(code).toBe(1);
    const lines = stderr.split('\n').filter((line) => line.startsWith('lsp: '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toStartWith("lsp: backend webgpu is not available: webgpu device: no adapter matching 'no such gpu' (adapters: 0: ");
  });

  test('a 2-iteration self-play run on WebGPU, stopped and resumed, matches one run straight through', async () => {
    const model = join(root, 'world-model');
    await writeTinyWorldModel(model);
    const registry = () => {
      const plugins = new PluginRegistry();
      for (const plugin of [backendWasm(), backendWebgpu(), tokenizerWasm(), gameLsp(), world()]) plugins.add(plugin, 'config');
      return plugins;
    };
    const config = (out: string): LspConfig => configSchema.parse({
      model, backend: 'webgpu', iterations: 2, seed: 3, evaluateEvery: 1, checkpointEvery: 1, out,
      training: { queriesPerIteration: 3, answersPerQuery: 2, maxNewTokens: 6, learningRate: 1e-3 },
    });
    const deterministic = (metrics: IterationMetrics[]) =>
      metrics.map(({ time: _time, tokensPerSecond: _speed, phaseSeconds: _phases, ...rest }) => rest);
    const lines: string[] = [];
    await runExperiment({ config: config(join(root, 'straight')), registry: registry(), print: (line) => lines.push(line) });
    expect(lines.find((line) => line.startsWith('lsp: lsp on '))).not.toContain('wasm');
    let finished = 0;
    await runExperiment({
      config: config(join(root, 'interrupted')), registry: registry(),
      print: (line) => { if (line.startsWith('iter ')) finished++; }, stopRequested: () => finished >= 1,
    });
    await runExperiment({ config: config(join(root, 'interrupted')), registry: registry(), print: () => {}, resume: { directory: join(root, 'interrupted') } });
    const straight = readMetrics(join(root, 'straight'));
    expect(straight.map((m) => m.iteration)).toEqual([0, 1, 2]); // the starting held-out score, then 2 iterations
    expect(deterministic(readMetrics(join(root, 'interrupted')))).toEqual(deterministic(straight));
  }, 300_000);
});

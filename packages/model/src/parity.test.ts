// Parity with transformers: the fixtures (made by reference/make_fixtures.py with transformers and torch) hold
// tiny random Hugging Face folders and the token log-probabilities transformers computes for them.
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceV1 } from '@lsp/core';
import { chooseMatmulPath, createWasmDevice } from '@lsp/backend-wasm';
import { createOracleDevice } from '@lsp/oracle';
import { loadModel } from './model-folder';

const fixtures = join(import.meta.dir, '..', 'fixtures');

interface Reference {
  sequences: { prompt_ids: number[]; completion_ids: number[] }[];
  logprobs_float32?: number[][];
  logprobs_float64?: number[][];
  greedy_prompts?: number[][];
  greedy_float32?: number[][];
  scores_float32?: number[][];
  scores_float64?: number[][];
}

function maxDifference(actual: ArrayLike<number>[], expected: number[][]): number {
  let worst = 0;
  expected.forEach((row, i) => {
    expect(actual[i]!.length).toBe(row.length);
    row.forEach((value, j) => { worst = Math.max(worst, Math.abs(actual[i]![j]! - value)); });
  });
  return worst;
}

// The oracle computes in float64 and rounds its outputs to float32: against transformers run in float64 it must
// agree to float32 rounding of values of size ~10 (about 1e-6); against transformers in float32, to the error
// float32 accumulates through two layers (measured about 1e-6, allowed 1e-5).
const toFloat64Reference = 5e-6;
const toFloat32Reference = 1e-5;

// The CPU backend computes in float32 (transformers' own precision), so it is held to the float32 bound against both.
const backends: { name: string; open: () => Promise<DeviceV1>; toFloat64: number; toFloat32: number }[] = [
  { name: 'oracle', open: async () => createOracleDevice(), toFloat64: toFloat64Reference, toFloat32: toFloat32Reference },
  { name: 'wasm', open: () => createWasmDevice({ threads: 2, blas: false }), toFloat64: toFloat32Reference, toFloat32: toFloat32Reference },
];
// Both CPU paths: the products on OpenBLAS too, where it is installed (scripts/setup.sh installs it).
if (chooseMatmulPath(undefined).blas) {
  backends.push({ name: 'wasm, matmul on OpenBLAS', open: () => createWasmDevice({ threads: 2, blas: true }), toFloat64: toFloat32Reference, toFloat32: toFloat32Reference });
}

for (const backend of backends) {
  describe(`token log-probabilities match transformers (${backend.name})`, () => {
    for (const name of ['llama3-bf16', 'qwen2-f16-v4', 'qwen3-sharded', 'mistral-f32']) {
      test(name, async () => {
        const reference: Reference = JSON.parse(readFileSync(join(fixtures, name, 'reference.json'), 'utf8'));
        const device = await backend.open();
        const model = await loadModel(join(fixtures, name), { device });
        const sequences = reference.sequences.map((s) => ({ promptIds: s.prompt_ids, completionIds: s.completion_ids }));
        const logprobs = await model.tokenLogProbs(sequences);
        const against64 = maxDifference(logprobs, reference.logprobs_float64!);
        const against32 = maxDifference(logprobs, reference.logprobs_float32!);
        console.log(`${backend.name} ${name}: max |logprob - transformers| float64 ${against64.toExponential(2)}, float32 ${against32.toExponential(2)}`);
        expect(against64).toBeLessThan(backend.toFloat64);
        expect(against32).toBeLessThan(backend.toFloat32);
        const greedy = await model.generate(
          reference.greedy_prompts!.map((promptIds) => ({ promptIds })), { maxNewTokens: 8, temperature: 0 },
        );
        // transformers was asked not to stop at EOS; ours stops there, so compare up to our stop.
        greedy.forEach((result, i) => {
          expect(result.completionIds).toEqual(reference.greedy_float32![i]!.slice(0, result.completionIds.length));
          if (result.finishReason === 'length') expect(result.completionIds.length).toBe(8);
        });
        model.dispose();
        device.dispose();
      });
    }

    test('llama-reward: the scalar head', async () => {
      const reference: Reference = JSON.parse(readFileSync(join(fixtures, 'llama-reward', 'reference.json'), 'utf8'));
      const device = await backend.open();
      const model = await loadModel(join(fixtures, 'llama-reward'), { device });
      const scores = await model.scoreSequences(reference.sequences.map((s) => [...s.prompt_ids, ...s.completion_ids]));
      const against64 = maxDifference(scores, reference.scores_float64!);
      const against32 = maxDifference(scores, reference.scores_float32!);
      console.log(`${backend.name} llama-reward: max |score - transformers| float64 ${against64.toExponential(2)}, float32 ${against32.toExponential(2)}`);
      expect(against64).toBeLessThan(backend.toFloat64);
      expect(against32).toBeLessThan(backend.toFloat32);
      model.dispose();
      device.dispose();
    });
  });
}

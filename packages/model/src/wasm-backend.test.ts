// The model on the CPU backend against the model on the oracle: gradients, an AdamW step and sampled generation
// agree to float32 rounding, so training on @lsp/backend-wasm is training on the oracle's definition.
import { expect, test } from 'bun:test';
import { join } from 'node:path';
import { createWasmDevice } from '@lsp/backend-wasm';
import { createOracleDevice } from '@lsp/oracle';
import { loadModel } from './model-folder';

const fixtures = join(import.meta.dir, '..', 'fixtures');
const batch = [
  { promptIds: [1, 5, 9, 2], completionIds: [17, 3, 44, 8, 0] },
  { promptIds: [7], completionIds: [7, 7, 30, 2, 61, 12] },
  { promptIds: [60, 2, 33, 11, 4, 70, 25], completionIds: [6, 1] },
];
const loss = (rows: readonly Float32Array[]) => rows.map((row) => Float32Array.from(row, (_, i) => (i % 2 ? 0.7 : -1)));

for (const name of ['qwen2-f16-v4', 'qwen3-sharded']) {
  test(`${name}: wasm gradients, AdamW step and generation match the oracle`, async () => {
    const oracle = await loadModel(join(fixtures, name), { device: createOracleDevice() });
    const wasmDevice = await createWasmDevice({ threads: 2 });
    const wasm = await loadModel(join(fixtures, name), { device: wasmDevice });
    await oracle.accumulateGradients(batch, loss);
    await wasm.accumulateGradients(batch, loss);
    for (const [index, parameter] of oracle.parameters.all.entries()) {
      const expected = (await oracle.device.read(parameter.gradient!)) as Float32Array;
      const actual = (await wasm.device.read(wasm.parameters.all[index]!.gradient!)) as Float32Array;
      const scale = Math.max(...expected.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      let worst = 0;
      expected.forEach((value, i) => { worst = Math.max(worst, Math.abs(actual[i]! - value)); });
      if (worst > 1e-4 * scale) throw new Error(`${parameter.name}: max |wasm - oracle| ${worst} of max |gradient| ${scale}`);
    }
    const steps = [await oracle.optimizerStep({ learningRate: 1e-3, maxGradientNorm: 1 }), await wasm.optimizerStep({ learningRate: 1e-3, maxGradientNorm: 1 })];
    expect(Math.abs(steps[1]!.gradientNorm - steps[0]!.gradientNorm)).toBeLessThan(1e-4 * steps[0]!.gradientNorm);
    const [after, afterWasm] = [await oracle.tokenLogProbs(batch), await wasm.tokenLogProbs(batch)];
    after.forEach((row, i) => row.forEach((value, j) => expect(Math.abs(afterWasm[i]![j]! - value)).toBeLessThan(1e-4)));
    const requests = [{ promptIds: [1, 5, 9, 2] }, { promptIds: [60] }, { promptIds: [3, 3, 3] }];
    const options = { maxNewTokens: 10, temperature: 0.8, topK: 20, topP: 0.9, seed: 3 };
    const generated = [await oracle.generate(requests, options), await wasm.generate(requests, options)];
    expect(generated[1]!.map((r) => r.completionIds)).toEqual(generated[0]!.map((r) => r.completionIds));
    wasm.dispose();
    wasmDevice.dispose();
  });
}

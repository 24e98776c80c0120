// Tiny random model folders (config.json + model.safetensors) for tests and benchmarks: no download needed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectedTensors, parseModelConfig } from './model-config';
import { createRandom } from '@lsp/oracle';
import { writeSafetensors, type SafetensorsDType } from './safetensors';

export interface RandomModelOptions {
  seed?: number;
  /** Storage dtype of the weights; default F32. */
  dtype?: SafetensorsDType;
  /** Half-width of the uniform distribution of matrix entries; default 0.2. */
  scale?: number;
}

/** Writes `config` (a config.json object) and random weights of the shapes it implies into `directory`. */
export async function writeRandomModel(
  directory: string, config: Record<string, unknown>, options: RandomModelOptions = {},
): Promise<void> {
  const parsed = parseModelConfig(config);
  const random = createRandom(options.seed ?? 1);
  const scale = options.scale ?? 0.2;
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const tensors = expectedTensors(parsed).map((spec) => {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const isNorm = spec.name.endsWith('norm.weight');
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const noise = (random() * 2 - 1) * scale;
      values[i] = isNorm ? 1 + noise : noise;
    }
    return { name: spec.name, dtype: options.dtype ?? ('F32' as const), shape: spec.shape, values: async () => values };
  });
  await writeSafetensors(join(directory, 'model.safetensors'), tensors);
}

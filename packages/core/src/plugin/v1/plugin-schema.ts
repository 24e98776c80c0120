// Shape checks for plugins and their components, used by the runner before anything is called.
import { z } from 'zod';

const fn = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', 'must be a function');
const componentBase = {
  specificationVersion: z.literal('v1'),
  name: z.string().min(1),
};

export const backendShape = z.object({ ...componentBase, priority: z.number(), checkAvailability: fn, createDevice: fn });
export const tokenizerLoaderShape = z.object({ ...componentBase, load: fn });
export const modelLoaderShape = z.object({ ...componentBase, load: fn });
export const factoryShape = z.object({ ...componentBase, create: fn });

export const componentShapes = {
  backends: backendShape,
  tokenizers: tokenizerLoaderShape,
  models: modelLoaderShape,
  judges: factoryShape,
  games: factoryShape,
  benchmarks: factoryShape,
} as const;

export const pluginHeaderShape = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  specificationVersion: z.string(),
});

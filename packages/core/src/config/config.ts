// The experiment configuration (lsp.config.ts), validated with zod. `defineConfig` gives users types.
import { z } from 'zod';
import type { PluginV1 } from '../plugin/v1/plugin';

const pluginEntry = z.custom<PluginV1 | false | null | undefined | readonly unknown[]>(
  (value) => value === false || value === null || value === undefined || Array.isArray(value) || typeof value === 'object',
  'must be a plugin object (call the plugin factory: plugins: [myPlugin()])',
);

export const configSchema = z
  .object({
    /** Plugins to load; falsy entries are ignored and arrays (presets) are flattened. */
    plugins: z.array(pluginEntry).default([]),
    /** Game name (a component of a loaded plugin): 'lsp', 'lsp-zero', 'grpo'. */
    game: z.string().min(1).default('lsp'),
    gameOptions: z.record(z.string(), z.unknown()).default({}),
    /** Judge name: 'world' (the built-in verifiable world's rule judge), or one a plugin adds. */
    judge: z.string().min(1).default('world'),
    judgeOptions: z.record(z.string(), z.unknown()).default({}),
    /** A Hugging Face model folder, or 'builtin' for the built-in world's small model. */
    model: z.string().min(1).default('builtin'),
    /** 'auto' picks the highest-priority available backend. */
    backend: z.string().min(1).default('auto'),
    iterations: z.number().int().positive().default(100),
    seed: z.number().int().nonnegative().default(0),
    /** The run's output folder; default runs/<timestamp>. */
    out: z.string().min(1).optional(),
    /** Algorithm settings (DESIGN.md section 1). */
    training: z
      .object({
        queriesPerIteration: z.number().int().positive().default(8),
        answersPerQuery: z.number().int().positive().default(8),
        challengerWeight: z.number().nonnegative().default(1),
        klCoefficient: z.number().nonnegative().default(0.05),
        klEstimator: z.enum(['k1', 'k2', 'k3']).default('k1'),
        klPlacement: z.enum(['loss', 'reward']).default('loss'),
        aggregation: z.enum(['sequence-mean', 'token-mean']).default('sequence-mean'),
        learningRate: z.number().positive().default(3e-6),
        temperature: z.number().nonnegative().default(1),
        maxNewTokens: z.number().int().positive().default(64),
        gradientAccumulation: z.number().int().positive().default(1),
        maxGradientNorm: z.number().nonnegative().default(1),
      })
      .strict()
      .default({
        queriesPerIteration: 8, answersPerQuery: 8, challengerWeight: 1, klCoefficient: 0.05, klEstimator: 'k1',
        klPlacement: 'loss', aggregation: 'sequence-mean', learningRate: 3e-6, temperature: 1, maxNewTokens: 64,
        gradientAccumulation: 1, maxGradientNorm: 1,
      }),
    /** Evaluate the held-out set every this many iterations (and at the start and the end). */
    evaluateEvery: z.number().int().positive().default(10),
  })
  .strict();

export type LspConfigInput = z.input<typeof configSchema>;
export type LspConfig = z.output<typeof configSchema>;

/** Typed identity for lsp.config.ts: `export default defineConfig({ ... })`. */
export function defineConfig(config: LspConfigInput): LspConfigInput {
  return config;
}

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
    /**
     * Algorithm settings (DESIGN.md section 1), handed to the game with `gameOptions`, which the game validates
     * and completes with its own defaults (the paper's N = 8, beta = 0.05, learning rate 3e-6; GRPO's 1e-6).
     */
    training: z
      .object({
        queriesPerIteration: z.number().int().positive().optional(),
        answersPerQuery: z.number().int().positive().optional(),
        challengerWeight: z.number().nonnegative().optional(),
        klCoefficient: z.number().nonnegative().optional(),
        klEstimator: z.enum(['k1', 'k2', 'k3']).optional(),
        klPlacement: z.enum(['loss', 'reward']).optional(),
        aggregation: z.enum(['sequence-mean', 'token-mean']).optional(),
        learningRate: z.number().positive().optional(),
        temperature: z.number().nonnegative().optional(),
        maxNewTokens: z.number().int().positive().optional(),
        gradientAccumulation: z.number().int().positive().optional(),
      })
      .strict()
      .default({}),
    /** Optimizer settings the runner applies (AdamW). */
    optimizer: z
      .object({
        /** Clip the global gradient norm to this; 0 disables. */
        maxGradientNorm: z.number().nonnegative().default(1),
        weightDecay: z.number().nonnegative().default(0),
      })
      .strict()
      .default({ maxGradientNorm: 1, weightDecay: 0 }),
    /**
     * LoRA: train rank-r adapters on the chosen projections instead of every weight (PEFT's layout in checkpoints;
     * the reference policy is the base with the adapters off). alpha defaults to 2 * rank, targets to every
     * projection (q, k, v, o, gate, up, down), dropout to 0.
     */
    lora: z
      .object({
        rank: z.number().int().positive(),
        alpha: z.number().positive().optional(),
        dropout: z.number().min(0).lt(1).default(0),
        targets: z.array(z.string().min(1)).min(1).optional(),
        /** scaling alpha / sqrt(rank) (rsLoRA) instead of alpha / rank. */
        rsLora: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /** Evaluate the held-out set every this many iterations (and at the start and the end). */
    evaluateEvery: z.number().int().positive().default(10),
    /**
     * Also score the held-out set by sampling: this many answers per item at the game's play temperature, each item
     * scoring the mean of its draws (heldOutSampledScore beside the greedy heldOutScore); 0 evaluates greedily only.
     * Every evaluation of a run draws with the same seed (the run's), so its changes are not sampling noise alone.
     */
    evaluateSamples: z.number().int().nonnegative().default(0),
    /** The benchmark evaluated as the held-out score ('world' for the built-in world); 'none' skips it. */
    benchmark: z.string().min(1).default('world'),
    /** Options of the held-out benchmark (e.g. { data: 'gsm8k/test.jsonl', limit: 200 }). */
    benchmarkOptions: z.record(z.string(), z.unknown()).default({}),
    /** Save a checkpoint every this many iterations (and at the end, and on Ctrl-C). */
    checkpointEvery: z.number().int().positive().default(10),
    /**
     * Where the Challenger's and Solver's generations run: 'local' (default), or 'openai': an OpenAI-compatible
     * server's /v1/completions at `rolloutUrl` (token ids in and out; docs/serve.md), training staying local.
     */
    rollouts: z.enum(['local', 'openai']).optional(),
    /** The rollout server's base URL, e.g. http://gpu-box:8000/v1. */
    rolloutUrl: z.string().url().optional(),
    /** The NAME of the environment variable holding the rollout server's key (the key is never written). */
    rolloutApiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable').optional(),
    /** The model id to ask the rollout server for; default the one it lists. */
    rolloutModel: z.string().min(1).optional(),
    /** Accept rollouts from a server that cannot reload the policy after each step (off-policy rollouts). */
    rolloutStalePolicy: z.boolean().optional(),
    /** Folder the policy is saved to for the server to reload (a path the server also sees); default <run>/rollout-weights. */
    rolloutWeightsDir: z.string().min(1).optional(),
  })
  .strict();

export type LspConfigInput = z.input<typeof configSchema>;
export type LspConfig = z.output<typeof configSchema>;

/** Typed identity for lsp.config.ts: `export default defineConfig({ ... })`. */
export function defineConfig(config: LspConfigInput): LspConfigInput {
  return config;
}

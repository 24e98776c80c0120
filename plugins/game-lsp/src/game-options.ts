// The options of the three games, validated with zod: every setting of DESIGN.md section 1 by name, with the
// paper's defaults (N = 8, beta = 0.05, learning rate 3e-6, GRPO's 1e-6) and ours where it publishes none.
import { type GameSettingsV1, parseComponentOptions } from '@lsp/core';
import { z } from 'zod';
import { challengerPresets } from './game-prompts';

const common = {
  /** N: Challenger queries (or dataset prompts) per iteration. */
  queriesPerIteration: z.number().int().positive().default(8),
  /** G: Solver answers per query. */
  answersPerQuery: z.number().int().positive().default(8),
  /** beta. */
  klCoefficient: z.number().nonnegative().default(0.05),
  klEstimator: z.enum(['k1', 'k2', 'k3']).default('k1'),
  klPlacement: z.enum(['loss', 'reward']).default('loss'),
  aggregation: z.enum(['sequence-mean', 'token-mean']).default('sequence-mean'),
  /** LSP's advantages are mean-centred; 'standard-deviation' divides by the group's std (GRPO's original form). */
  advantageNormalization: z.enum(['mean-centred', 'standard-deviation']).default('mean-centred'),
  temperature: z.number().nonnegative().default(1),
  maxNewTokens: z.number().int().positive().default(64),
  gradientAccumulation: z.number().int().positive().default(1),
  /** Which implementation computes the advantages: the Rust/wasm module or the TypeScript reference. */
  advantageImplementation: z.enum(['wasm', 'typescript']).default('wasm'),
  /** The run's seed (the runner passes its own): seeds whatever the game draws, e.g. GRPO's dataset order. */
  seed: z.number().int().nonnegative().default(0),
};

const selfPlay = {
  ...common,
  learningRate: z.number().positive().default(3e-6),
  /** alpha_ch: weight of the Challenger's loss. */
  challengerWeight: z.number().nonnegative().default(1),
  /**
   * 'world': the built-in world's short prompt; 'chat': the paper's Challenger prompt for chat models. Default
   * 'chat' when preset, task or template is given, else 'world' (the default experiment).
   */
  challengerPrompt: z.enum(['world', 'chat']).optional(),
  /** Named task and template: 'instruction-following' (both empty) or 'mathematics' ('Pure & Applied Mathematics'). */
  preset: z.enum(Object.keys(challengerPresets) as [keyof typeof challengerPresets, ...(keyof typeof challengerPresets)[]]).optional(),
  /** The language task the chat Challenger writes an input for; a list is drawn from per query (seeded). Empty: its choice. */
  task: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  /** The template with {placeholders} the Challenger fills; a list is drawn from per query (seeded). Empty: free form. */
  template: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
};

export const lspZeroOptionsSchema = z.object(selfPlay).strict();

export const lspOptionsSchema = z
  .object({
    ...selfPlay,
    /** Where RQ comes from; default the judge's own quality for the world prompt, the reference model for chat. */
    qualitySource: z.enum(['judge', 'reference-model']).optional(),
    /** Token budget of the reference model's greedy quality review (justification, calculation and score). */
    qualityMaxNewTokens: z.number().int().positive().default(256),
  })
  .strict();

export const grpoOptionsSchema = z
  .object({
    ...common,
    learningRate: z.number().positive().default(1e-6),
    /** 'world' (tasks generated from the built-in world, never held-out ones) or a JSONL file of prompts. */
    dataset: z.string().min(1).default('world'),
    /** How many world tasks to generate when dataset is 'world'. */
    datasetSize: z.number().int().positive().default(10_000),
  })
  .strict();

export type LspOptions = z.output<typeof lspOptionsSchema>;
export type LspZeroOptions = z.output<typeof lspZeroOptionsSchema>;
export type GrpoOptions = z.output<typeof grpoOptionsSchema>;

/** Parses options, refusing bad ones with one line naming the game, the option and what was wrong. */
export function parseOptions<Schema extends z.ZodType>(game: string, schema: Schema, options: unknown): z.output<Schema> {
  return parseComponentOptions(`game ${game}`, schema, options, 'fix gameOptions in lsp.config.ts');
}

/** The settings every game reports, from its parsed options; the Challenger's weight and RQ's source vary by game. */
export function commonSettings(
  options: z.output<z.ZodObject<typeof common>> & { learningRate: number },
  challengerWeight: number,
): GameSettingsV1 {
  return {
    queriesPerIteration: options.queriesPerIteration,
    answersPerQuery: options.answersPerQuery,
    challengerWeight,
    klCoefficient: options.klCoefficient,
    klEstimator: options.klEstimator,
    klPlacement: options.klPlacement,
    aggregation: options.aggregation,
    advantageNormalization: options.advantageNormalization,
    learningRate: options.learningRate,
    temperature: options.temperature,
    maxNewTokens: options.maxNewTokens,
    gradientAccumulation: options.gradientAccumulation,
  };
}

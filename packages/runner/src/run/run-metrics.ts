// The run folder's metrics.jsonl and samples.jsonl: one record per iteration, appended as the run goes, so an
// interrupted run keeps every finished iteration. Read back by the report and `lsp compare`.
import { InvalidInputError } from '@lsp/core';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

export const iterationMetricsSchema = z.object({
  iteration: z.number().int().nonnegative(),
  /** Seconds since the run started. */
  time: z.number().nonnegative(),
  // The training figures below are absent from iteration 0, which only records the starting model's held-out score.
  solverRewardMean: finite.optional(),
  challengerRewardMean: finite.optional(),
  qualityRewardMean: finite.optional(),
  /** Fraction of the reference model's quality reviews with no readable score (they count RQ 0). */
  qualityUnparsedFraction: finite.optional(),
  /** Mean length of the Solver's answers, in tokens. */
  answerLengthMean: finite.optional(),
  kl: finite.optional(),
  /** Null on an iteration whose step was refused for a non-finite loss or gradient (stepRefused). */
  loss: finite.nullable().optional(),
  gradientNorm: finite.nullable().optional(),
  stepRefused: z.boolean().optional(),
  tokensPerSecond: finite.optional(),
  /** Fraction of Challenger queries that are valid tasks (the world's parser, or a parsable quality score). */
  validQueryFraction: finite.optional(),
  /** Mean difficulty of the Challenger's queries. */
  queryDifficultyMean: finite.optional(),
  /** How many queries fell at each difficulty level this iteration. */
  queryDifficultyCounts: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** Groups whose rewards were all equal (they carry no gradient). */
  zeroVarianceGroups: z.number().int().nonnegative().optional(),
  /** zeroVarianceGroups over the iteration's query groups: the share of the batch that gives the Solver no gradient. */
  zeroVarianceFraction: finite.optional(),
  /**
   * The game's own figures: every finite entry of its Advantages.statistics not recorded above (lsp's valueMean,
   * a variant's reward terms). The report draws one chart per name.
   */
  gameStatistics: z.record(z.string(), finite).optional(),
  /** Tokens the policy generated this iteration (Challenger and Solver). */
  generatedTokens: z.number().int().nonnegative().optional(),
  /** Wall-clock seconds by phase: generation, judging (the judge), quality (the reference model's review), scoring (log-probs), training. */
  phaseSeconds: z.record(z.string(), z.number().nonnegative()).optional(),
  /**
   * Tokens each phase handled: generated ones for generation and quality, whole sequences (prompt and completion)
   * for scoring and training; over phaseSeconds, tokens per second by phase.
   */
  phaseTokens: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** Present on iterations where the held-out set was evaluated. */
  heldOutScore: finite.optional(),
  heldOutByLevel: z.record(z.string(), finite).optional(),
  /** With evaluateSamples: the held-out score of sampled answers at the play temperature (the mean of the draws). */
  heldOutSampledScore: finite.optional(),
  heldOutSampledByLevel: z.record(z.string(), finite).optional(),
});
export type IterationMetrics = z.infer<typeof iterationMetricsSchema>;

export const sampleSchema = z.object({
  iteration: z.number().int().nonnegative(),
  query: z.string(),
  role: z.enum(['challenger', 'dataset']).optional(),
  answers: z.array(z.object({
    text: z.string(),
    /** R: the judge's reward. */
    reward: z.number(),
    /** RQ: the quality self-reward. */
    qualityReward: z.number().optional(),
    /** Whether the reference model's review held a readable score (false: RQ counted 0). */
    qualityParsed: z.boolean().optional(),
    /** The start of the reference model's review. */
    qualityReview: z.string().optional(),
  })),
  valid: z.boolean().optional(),
  difficulty: z.number().optional(),
});
export type IterationSample = z.infer<typeof sampleSchema>;

/** The zero-variance figures of an iteration with `groups` query groups, for metrics.jsonl (none when the game counted none). */
export function zeroVarianceFigures(
  zeroVarianceGroups: number | undefined, groups: number,
): Pick<IterationMetrics, 'zeroVarianceGroups' | 'zeroVarianceFraction'> {
  if (zeroVarianceGroups === undefined) return {};
  return { zeroVarianceGroups, ...(groups > 0 ? { zeroVarianceFraction: zeroVarianceGroups / groups } : {}) };
}

export const metricsFileName = 'metrics.jsonl';
export const samplesFileName = 'samples.jsonl';

export function appendJsonLine(path: string, record: unknown): void {
  appendFileSync(path, `${JSON.stringify(record)}\n`);
}

export function appendMetrics(runDirectory: string, metrics: IterationMetrics): void {
  appendJsonLine(join(runDirectory, metricsFileName), iterationMetricsSchema.parse(metrics));
}

export function appendSample(runDirectory: string, sample: IterationSample): void {
  appendJsonLine(join(runDirectory, samplesFileName), sampleSchema.parse(sample));
}

/** Reads a JSONL file of a run, refusing a malformed line with its file and line number. */
export function readJsonLines<T>(path: string, schema: z.ZodType<T>): T[] {
  if (!existsSync(path)) return [];
  const records: T[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // A run killed mid-write leaves a partial last line; anything else is corruption.
      if (index === lines.length - 1 || (index === lines.length - 2 && lines[lines.length - 1] === '')) return;
      throw new InvalidInputError(`${path}:${index + 1}: not valid JSON`, { hint: 'the run folder is damaged' });
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidInputError(`${path}:${index + 1}: ${issue.path.join('.') || 'record'}: ${issue.message}`, {
        hint: 'the run folder was written by another version of LSP or edited by hand',
      });
    }
    records.push(parsed.data);
  });
  return records;
}

export function readMetrics(runDirectory: string): IterationMetrics[] {
  return readJsonLines(join(runDirectory, metricsFileName), iterationMetricsSchema);
}

export function readSamples(runDirectory: string): IterationSample[] {
  return readJsonLines(join(runDirectory, samplesFileName), sampleSchema);
}

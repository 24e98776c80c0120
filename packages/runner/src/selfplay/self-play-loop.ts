// The self-play loop (DESIGN.md section 1): Challenger queries, Solver answers, judge and quality rewards,
// advantages from the game, one policy-gradient step with the KL to the frozen reference, then metrics,
// samples, held-out evaluations and checkpoints. One flat loop that reads top to bottom.
import {
  NonFiniteError, PluginError,
  type AdvantageMathV1, type Advantages, type BenchmarkV1, type ChatMessage, type GameV1, type JudgeScore, type JudgeV1,
  type LspConfig, type PolicyModelV1, type PolicySequence, type Role, type ScoredSequence, type TokenizerV1,
} from '@lsp/core';
import { appendMetrics, appendSample, zeroVarianceFigures, type IterationMetrics } from '../run/run-metrics';
import type { GenerationProvider } from './remote-rollouts';

export interface SelfPlayParts {
  policy: PolicyModelV1;
  /** The frozen starting policy: the KL anchor, and the quality judge for chat models. */
  reference: PolicyModelV1;
  tokenizer: TokenizerV1;
  game: GameV1;
  judge: JudgeV1;
  /** The held-out benchmark, when the run evaluates one. */
  benchmark: BenchmarkV1 | undefined;
  /** KL sums per sequence, for games that put the KL in the reward. */
  advantageMath: AdvantageMathV1;
  /** Where the Challenger's and Solver's generations run when not on the policy itself (remote rollouts). */
  rollouts?: GenerationProvider;
}

/** One query of the iteration with its first answer, the judge's R and the quality self-reward RQ. */
export interface ProgressSample {
  query: string;
  answer: string;
  reward: number;
  qualityReward?: number;
  qualityParsed?: boolean;
}

export interface SelfPlayProgress {
  iteration: number;
  iterations: number;
  metrics: IterationMetrics;
  secondsPerIteration: number;
  /** The iteration's first query and answer, for the terminal. */
  sample?: ProgressSample;
}

export interface SelfPlayOptions {
  config: LspConfig;
  runDirectory: string;
  /** The first iteration to run (1 for a new run; the checkpoint's + 1 when resuming). */
  startIteration: number;
  /** Run time already spent before this process (resumed runs). */
  elapsedSeconds: number;
  /** Saves a checkpoint of the policy after `iteration`. */
  saveCheckpoint: (iteration: number, elapsedSeconds: number) => Promise<void>;
  /** Set by Ctrl-C: the loop finishes the current iteration, saves and returns. */
  stopRequested: () => boolean;
  onProgress?: (progress: SelfPlayProgress) => void;
  onEvaluation?: (iteration: number, figures: Record<string, number>, sampled?: Record<string, number>) => void;
  log?: (line: string) => void;
}

/** Consecutive refused steps after which the run stops: the model is not recovering. */
export const maxConsecutiveRefusals = 3;
/** Prompts per generation call during held-out evaluation. */
const evaluationBatch = 64;
/** The quality judge's reply budget when the game sets none (a short justification, the calculation, the tag). */
export const defaultQualityMaxNewTokens = 256;
/** How much of the reference model's quality review a sample keeps. */
const sampleReviewCharacters = 600;

/** A 32-bit seed for (run seed, iteration, stream), so every iteration's sampling is reproducible on resume. */
export function iterationSeed(seed: number, iteration: number, stream: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const value of [iteration, stream]) {
    h = Math.imul(h ^ (value >>> 0), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

const streams = { challenger: 1, solver: 2, quality: 3 } as const;

/** Prompt ids as transformers' apply_chat_template(tokenize=True) gives them: the template's own special tokens only. */
export function chatPromptIds(tokenizer: TokenizerV1, messages: readonly ChatMessage[]): number[] {
  return tokenizer.encode(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }), { addSpecialTokens: false });
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Splits `count` items into `parts` contiguous ranges as even as possible. */
export function microBatchRanges(count: number, parts: number): [number, number][] {
  const ranges: [number, number][] = [];
  const pieces = Math.max(1, Math.min(parts, count));
  for (let index = 0; index < pieces; index++) {
    const start = Math.floor((index * count) / pieces);
    const end = Math.floor(((index + 1) * count) / pieces);
    if (end > start) ranges.push([start, end]);
  }
  return ranges;
}

/** How held-out answers are drawn: greedy by default, or `samples` draws per item at `temperature`. */
export interface EvaluationSampling {
  temperature: number;
  samples: number;
  seed: number;
}

export const greedyEvaluation: EvaluationSampling = { temperature: 0, samples: 1, seed: 0 };

/**
 * Held-out score: every item answered (greedily, or `samples` times at a temperature, each item then scoring the
 * mean of its draws), scored and aggregated by the benchmark. Greedy accuracy moves only when the right answer
 * becomes the most likely one; the sampled score is what the policy-gradient step optimises at the play temperature.
 */
export async function evaluateBenchmark(
  policy: PolicyModelV1, tokenizer: TokenizerV1, game: GameV1, benchmark: BenchmarkV1, maxNewTokens: number,
  sampling: EvaluationSampling = greedyEvaluation,
): Promise<Record<string, number>> {
  const items = await benchmark.loadItems();
  const draws = sampling.temperature > 0 ? Math.max(1, sampling.samples) : 1;
  const scores = new Array<number>(items.length).fill(0);
  const requests = items.flatMap((item, index) => Array.from({ length: draws }, () => ({ item, index })));
  for (let start = 0; start < requests.length; start += evaluationBatch) {
    const batch = requests.slice(start, start + evaluationBatch);
    const results = await policy.generate(
      batch.map(({ item }) => ({ promptIds: chatPromptIds(tokenizer, game.solverPrompt(item.prompt)) })),
      { maxNewTokens, temperature: sampling.temperature, seed: iterationSeed(sampling.seed, start, 0) },
    );
    for (const [at, { item, index }] of batch.entries()) {
      scores[index]! += (await benchmark.scoreItem(item, results[at]!.text.trim())) / draws;
    }
  }
  return benchmark.aggregate(items, scores);
}

/** Splits a benchmark's figures into the overall score and per-level scores ('level-2' -> '2'). */
export function heldOutFigures(figures: Record<string, number>): Pick<IterationMetrics, 'heldOutScore' | 'heldOutByLevel'> {
  const byLevel: Record<string, number> = {};
  // Only 'level-N' figures are levels; benchmarks report others too (pass@k, win rates by subset, counts).
  for (const [key, value] of Object.entries(figures)) if (key.startsWith('level-')) byLevel[key.slice('level-'.length)] = value;
  return { heldOutScore: figures.overall ?? mean(Object.values(byLevel)), heldOutByLevel: byLevel };
}

/** The statistics the loop records under their own names; every other finite figure a game reports is kept as is. */
const recordedStatistics = new Set([
  'solverRewardMean', 'challengerRewardMean', 'qualityRewardMean', 'zeroVarianceGroups', 'unparsedQualityScores',
  'unparsedQualityFraction',
]);

/** A game's own figures (Advantages.statistics beyond the recorded ones), for metrics.jsonl and the report. */
export function gameStatisticsOf(statistics: Record<string, number>): Pick<IterationMetrics, 'gameStatistics'> {
  const own = Object.entries(statistics).filter(([key, value]) => !recordedStatistics.has(key) && Number.isFinite(value));
  return own.length > 0 ? { gameStatistics: Object.fromEntries(own) } : {};
}

interface IterationOutcome {
  metrics: IterationMetrics;
  refused: boolean;
  sample?: ProgressSample;
}

export async function runSelfPlay(parts: SelfPlayParts, options: SelfPlayOptions): Promise<{ lastIteration: number; stopped: boolean }> {
  const { policy, tokenizer, game, benchmark } = parts;
  const { config, runDirectory } = options;
  const settings = game.settings;
  const log = options.log ?? (() => {});
  const started = performance.now() - options.elapsedSeconds * 1000;
  const elapsed = () => (performance.now() - started) / 1000;
  const evaluate = async (iteration: number) => {
    if (!benchmark) return undefined;
    const figures = await evaluateBenchmark(policy, tokenizer, game, benchmark, settings.maxNewTokens);
    const sampled = config.evaluateSamples > 0
      ? await evaluateBenchmark(policy, tokenizer, game, benchmark, settings.maxNewTokens, { temperature: settings.temperature, samples: config.evaluateSamples, seed: config.seed })
      : undefined;
    options.onEvaluation?.(iteration, figures, sampled);
    if (!sampled) return heldOutFigures(figures);
    const { heldOutScore, heldOutByLevel } = heldOutFigures(sampled);
    return { ...heldOutFigures(figures), heldOutSampledScore: heldOutScore, heldOutSampledByLevel: heldOutByLevel };
  };

  if (options.startIteration === 1 && benchmark) {
    // The starting model's held-out score: iteration 0 of the metrics.
    const figures = await evaluate(0);
    appendMetrics(runDirectory, { iteration: 0, time: elapsed(), ...figures });
  }

  let consecutiveRefusals = 0;
  let lastIteration = options.startIteration - 1;
  for (let iteration = options.startIteration; iteration <= config.iterations; iteration++) {
    const iterationStart = performance.now();
    const outcome = await runIteration(parts, config, runDirectory, iteration, log);
    const isLast = iteration === config.iterations;
    if ((iteration % config.evaluateEvery === 0 || isLast) && !outcome.refused) {
      Object.assign(outcome.metrics, await evaluate(iteration));
    }
    outcome.metrics.time = elapsed();
    appendMetrics(runDirectory, outcome.metrics);
    lastIteration = iteration;
    options.onProgress?.({
      iteration, iterations: config.iterations, metrics: outcome.metrics,
      secondsPerIteration: (performance.now() - iterationStart) / 1000,
      ...(outcome.sample ? { sample: outcome.sample } : {}),
    });
    const stopping = options.stopRequested();
    if (outcome.refused) {
      consecutiveRefusals++;
      if (consecutiveRefusals >= maxConsecutiveRefusals) {
        throw new NonFiniteError(
          `training stopped at iteration ${iteration}: ${maxConsecutiveRefusals} steps in a row had a non-finite loss or gradient`,
          { hint: `the last good checkpoint is in ${runDirectory}/checkpoints; resume it with a lower learning rate` },
        );
      }
      continue; // No checkpoint of an iteration whose step was refused: the last good one stays the latest.
    }
    consecutiveRefusals = 0;
    if (iteration % config.checkpointEvery === 0 || isLast || stopping) {
      await options.saveCheckpoint(iteration, elapsed());
    }
    if (stopping && !isLast) return { lastIteration, stopped: true };
  }
  return { lastIteration, stopped: false };
}

async function runIteration(
  parts: SelfPlayParts, config: LspConfig, runDirectory: string, iteration: number, log: (line: string) => void,
): Promise<IterationOutcome> {
  const { policy, reference, tokenizer, game, judge } = parts;
  const generator = parts.rollouts ?? policy;
  const settings = game.settings;
  const queryCount = settings.queriesPerIteration;
  const answersPerQuery = settings.answersPerQuery;
  const hasChallenger = game.roles.includes('challenger');
  const iterationStart = performance.now();
  let generatedTokens = 0;
  // Seconds by phase, and the tokens each phase handled: generated (generation, the quality review) or read as
  // whole sequences, prompt and completion (scoring, training); the judge's own work is timed but not counted.
  const phaseSeconds = { generation: 0, judging: 0, quality: 0, scoring: 0, training: 0 };
  const phaseTokens = { generation: 0, quality: 0, scoring: 0, training: 0 };
  const sequenceTokens = (sequences: readonly ScoredSequence[]) =>
    sequences.reduce((sum, sequence) => sum + sequence.promptIds.length + sequence.completionIds.length, 0);
  const timed = async <T>(phase: keyof typeof phaseSeconds, work: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await work();
    } finally {
      phaseSeconds[phase] += (performance.now() - start) / 1000;
    }
  };

  // 1. Challenger: N queries (or the dataset's prompts for games without one).
  let challengerSequences: ScoredSequence[] = [];
  let queries: string[];
  if (hasChallenger) {
    if (!game.challengerPrompt) throw new PluginError(`game ${game.name} has a challenger role but no challengerPrompt`, { hint: 'fix the game plugin' });
    const prompts = Array.from({ length: queryCount }, (_, index) => chatPromptIds(tokenizer, game.challengerPrompt!({ iteration, index })));
    const generated = await timed('generation', () => generator.generate(
      prompts.map((promptIds) => ({ promptIds })),
      { maxNewTokens: settings.maxNewTokens, temperature: settings.temperature, seed: iterationSeed(config.seed, iteration, streams.challenger) },
    ));
    queries = generated.map((result) => result.text.trim());
    challengerSequences = generated.map((result, index) => ({ promptIds: prompts[index]!, completionIds: result.completionIds }));
    generatedTokens += generated.reduce((sum, result) => sum + result.completionIds.length, 0);
  } else {
    queries = game.queries!({ iteration, count: queryCount });
  }

  // 2. Solver: G answers to every query; the query is the user message.
  const solverPrompts = queries.map((query) => chatPromptIds(tokenizer, game.solverPrompt(query)));
  const answers = await timed('generation', () => generator.generate(
    solverPrompts.flatMap((promptIds) => Array.from({ length: answersPerQuery }, () => ({ promptIds }))),
    { maxNewTokens: settings.maxNewTokens, temperature: settings.temperature, seed: iterationSeed(config.seed, iteration, streams.solver) },
  ));
  generatedTokens += answers.reduce((sum, result) => sum + result.completionIds.length, 0);
  const answerAt = (i: number, j: number) => answers[i * answersPerQuery + j]!;
  const solverSequences: ScoredSequence[] = answers.map((result, index) => ({
    promptIds: solverPrompts[Math.floor(index / answersPerQuery)]!, completionIds: result.completionIds,
  }));

  // 3. Judge: R_ij, and RQ_ij when the judge computes quality itself.
  const items = queries.flatMap((query, i) => Array.from({ length: answersPerQuery }, (_, j) => ({ query, answer: answerAt(i, j).text.trim() })));
  const scores: JudgeScore[] = await timed('judging', () => judge.doScore(items, {}));
  const byQuery = <T>(pick: (score: JudgeScore) => T): T[][] =>
    queries.map((_, i) => Array.from({ length: answersPerQuery }, (_, j) => pick(scores[i * answersPerQuery + j]!)));
  const rewards = byQuery((score) => score.score);

  // 4. Quality self-reward: from the judge, or the reference model prompted with the rubric.
  let qualityRewards: number[][] | undefined;
  let qualityJudgeTexts: string[][] | undefined;
  if (game.usesQualityReward && settings.qualitySource === 'reference-model') {
    if (!game.qualityJudgePrompt) throw new PluginError(`game ${game.name} asks the reference model for quality but has no qualityJudgePrompt`, { hint: 'fix the game plugin' });
    // Greedy, within the game's token budget.
    const replies = await timed('quality', () => reference.generate(
      items.map((item) => ({ promptIds: chatPromptIds(tokenizer, game.qualityJudgePrompt!(item.query, item.answer)) })),
      {
        maxNewTokens: settings.qualityMaxNewTokens ?? defaultQualityMaxNewTokens, temperature: 0,
        seed: iterationSeed(config.seed, iteration, streams.quality),
      },
    ));
    phaseTokens.quality += replies.reduce((sum, reply) => sum + reply.completionIds.length, 0);
    qualityJudgeTexts = queries.map((_, i) => Array.from({ length: answersPerQuery }, (_, j) => replies[i * answersPerQuery + j]!.text));
  } else if (game.usesQualityReward) {
    qualityRewards = byQuery((score) => score.quality ?? 0);
  }

  // 5. Reference log-probabilities of every generated sequence (and the policy's, when the KL is in the reward).
  const allSequences = [...challengerSequences, ...solverSequences];
  const referenceLogProbs = settings.klCoefficient > 0
    ? await timed('scoring', () => reference.tokenLogProbs(allSequences))
    : allSequences.map((sequence) => new Float32Array(sequence.completionIds.length));
  if (settings.klCoefficient > 0) phaseTokens.scoring += sequenceTokens(allSequences);
  let sequenceKl: { solver: number[][]; challenger?: number[] } | undefined;
  if (settings.klPlacement === 'reward' && settings.klCoefficient > 0) {
    const policyLogProbs = await timed('scoring', () => policy.tokenLogProbs(allSequences));
    phaseTokens.scoring += sequenceTokens(allSequences);
    const kl = parts.advantageMath.sequenceKl(
      allSequences.map((_, index) => ({ logProbs: policyLogProbs[index]!, referenceLogProbs: referenceLogProbs[index]! })),
      settings.klEstimator,
    );
    const solverKl = kl.slice(challengerSequences.length);
    sequenceKl = {
      solver: queries.map((_, i) => solverKl.slice(i * answersPerQuery, (i + 1) * answersPerQuery)),
      ...(hasChallenger ? { challenger: kl.slice(0, challengerSequences.length) } : {}),
    };
  }

  // 6. Advantages.
  const advantages: Advantages = game.computeAdvantages({
    rewards,
    ...(qualityRewards ? { qualityRewards } : {}),
    ...(qualityJudgeTexts ? { qualityJudgeTexts } : {}),
    ...(sequenceKl ? { sequenceKl } : {}),
  });

  // 7. One policy-gradient step, split into micro-batches whose gradients add up to the batch's.
  const roleOf: Role[] = [...challengerSequences.map(() => 'challenger' as const), ...solverSequences.map(() => 'solver' as const)];
  const advantageOf = [...advantages.challenger.slice(0, challengerSequences.length), ...advantages.solver.flat()];
  const denominators: Record<Role, number> = { challenger: 0, solver: 0 };
  allSequences.forEach((sequence, index) => {
    denominators[roleOf[index]!] += settings.aggregation === 'token-mean' ? sequence.completionIds.length : 1;
  });
  let loss = 0;
  let klSum = 0;
  let klTokens = 0;
  let refused = false;
  for (const [start, end] of microBatchRanges(allSequences.length, settings.gradientAccumulation)) {
    try {
      await timed('training', () => policy.accumulateGradients(allSequences.slice(start, end), (logProbs) => {
        const gradients: Float32Array[] = new Array(logProbs.length);
        for (const role of ['challenger', 'solver'] as const) {
          const indices: number[] = [];
          for (let index = start; index < end; index++) if (roleOf[index] === role) indices.push(index);
          if (indices.length === 0) continue;
          const sequences: PolicySequence[] = indices.map((index) => ({
            logProbs: logProbs[index - start]!, referenceLogProbs: referenceLogProbs[index]!, advantage: advantageOf[index]!,
          }));
          const result = game.policyLoss(role, sequences, { denominator: Math.max(1, denominators[role]) });
          loss += result.loss;
          klSum += result.klSum;
          klTokens += result.tokens;
          indices.forEach((index, at) => { gradients[index - start] = result.gradients[at]!; });
        }
        return gradients;
      }));
    } catch (error) {
      if (!NonFiniteError.isInstance(error)) throw error;
      log(`iteration ${iteration}: ${error.message}; the step is refused and the weights are unchanged`);
      refused = true;
      policy.discardGradients();
      break;
    }
  }
  if (!refused) phaseTokens.training += sequenceTokens(allSequences);
  let gradientNorm: number | null = null;
  if (!refused) {
    const step = await timed('training', () => policy.optimizerStep({ learningRate: settings.learningRate, maxGradientNorm: config.optimizer.maxGradientNorm, weightDecay: config.optimizer.weightDecay }));
    gradientNorm = step.gradientNorm;
    if (!step.applied || !Number.isFinite(loss)) {
      log(`iteration ${iteration}: the gradient norm is ${step.gradientNorm}; the step is refused and the weights are unchanged`);
      refused = true;
    }
  }
  // Remote rollouts: the server gets the new policy before the next iteration generates on it.
  if (!refused && parts.rollouts) await timed('training', () => parts.rollouts!.policyUpdated(iteration));

  // 8. Metrics and samples.
  const seconds = (performance.now() - iterationStart) / 1000;
  phaseTokens.generation = generatedTokens;
  const statistics = advantages.statistics;
  const quality = advantages.qualityRewards ?? qualityRewards;
  const qualityParsed = advantages.qualityParsed;
  const firstDetails = queries.map((_, i) => scores[i * answersPerQuery]?.details ?? {});
  const validFlags = firstDetails.map((details) => details.valid).filter((value): value is boolean => typeof value === 'boolean');
  const difficulties = firstDetails.map((details) => details.difficulty).filter((value): value is number => typeof value === 'number');
  const levelCounts: Record<string, number> = {};
  for (const details of firstDetails) if (typeof details.level === 'number') levelCounts[String(details.level)] = (levelCounts[String(details.level)] ?? 0) + 1;
  const metrics: IterationMetrics = {
    iteration,
    time: 0,
    solverRewardMean: statistics.solverRewardMean ?? mean(rewards.flat()),
    ...(statistics.challengerRewardMean !== undefined ? { challengerRewardMean: statistics.challengerRewardMean } : {}),
    ...(statistics.qualityRewardMean !== undefined ? { qualityRewardMean: statistics.qualityRewardMean } : {}),
    ...(statistics.unparsedQualityFraction !== undefined ? { qualityUnparsedFraction: statistics.unparsedQualityFraction } : {}),
    answerLengthMean: mean(answers.map((answer) => answer.completionIds.length)),
    kl: klTokens > 0 ? klSum / klTokens : 0,
    loss: refused ? null : loss,
    gradientNorm: refused || gradientNorm === null || !Number.isFinite(gradientNorm) ? null : gradientNorm,
    ...(refused ? { stepRefused: true } : {}),
    tokensPerSecond: generatedTokens / seconds,
    ...(hasChallenger && validFlags.length === queries.length ? { validQueryFraction: mean(validFlags.map(Number)) } : {}),
    ...(hasChallenger && difficulties.length > 0 ? { queryDifficultyMean: mean(difficulties) } : {}),
    ...(hasChallenger && Object.keys(levelCounts).length > 0 ? { queryDifficultyCounts: levelCounts } : {}),
    ...zeroVarianceFigures(statistics.zeroVarianceGroups, queries.length),
    ...gameStatisticsOf(statistics),
    generatedTokens,
    phaseSeconds,
    phaseTokens,
  };
  for (const [i, query] of queries.entries()) {
    if (i >= 4) break; // a few per iteration keep samples.jsonl small
    appendSample(runDirectory, {
      iteration, query, role: hasChallenger ? 'challenger' : 'dataset',
      ...(typeof firstDetails[i]?.valid === 'boolean' ? { valid: firstDetails[i]!.valid as boolean } : {}),
      ...(typeof firstDetails[i]?.difficulty === 'number' ? { difficulty: firstDetails[i]!.difficulty as number } : {}),
      answers: Array.from({ length: Math.min(answersPerQuery, 4) }, (_, j) => ({
        text: answerAt(i, j).text,
        reward: rewards[i]![j]!,
        ...(quality?.[i]?.[j] !== undefined ? { qualityReward: quality[i]![j]! } : {}),
        ...(qualityParsed?.[i]?.[j] !== undefined ? { qualityParsed: qualityParsed[i]![j]! } : {}),
        ...(qualityJudgeTexts ? { qualityReview: qualityJudgeTexts[i]![j]!.slice(0, sampleReviewCharacters) } : {}),
      })),
    });
  }
  const sample: ProgressSample | undefined = queries.length > 0 && answersPerQuery > 0
    ? {
      query: queries[0]!, answer: answerAt(0, 0).text.trim(), reward: rewards[0]![0]!,
      ...(quality?.[0]?.[0] !== undefined ? { qualityReward: quality[0]![0]! } : {}),
      ...(qualityParsed?.[0]?.[0] !== undefined ? { qualityParsed: qualityParsed[0]![0]! } : {}),
    }
    : undefined;
  return { metrics, refused, ...(sample ? { sample } : {}) };
}

// From an iteration's rewards to per-sequence advantages, for the three games (DESIGN.md section 1, steps 4-6):
// Solver A_ij from R_ij (+ RQ_ij) (- beta KL_ij) within its query's group; Challenger A_i from -V_i (+ VQ_i)
// (- beta KL_i) across the batch.
import { InvalidInputError, type AdvantageMathV1, type Advantages, type GameSettingsV1, type IterationRewards } from '@lsp/core';
import { parseQualityScore } from './game-prompts';

export type AdvantageVariant = 'lsp' | 'lsp-zero' | 'grpo';

function fail(game: string, message: string, hint?: string): never {
  throw new InvalidInputError(`game ${game}: ${message}`, hint ? { hint } : {});
}

function checkShape(game: string, label: string, table: readonly (readonly unknown[])[] | undefined, rewards: readonly (readonly number[])[]): void {
  if (table === undefined) return;
  if (!Array.isArray(table) || table.length !== rewards.length) {
    fail(game, `${label} has ${Array.isArray(table) ? table.length : 'no'} rows but rewards has ${rewards.length}`);
  }
  table.forEach((row, index) => {
    if (!Array.isArray(row) || row.length !== rewards[index]!.length) {
      fail(game, `${label}[${index}] has ${Array.isArray(row) ? row.length : 'no'} entries but rewards[${index}] has ${rewards[index]!.length}`);
    }
  });
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value;
  return values.length > 0 ? sum / values.length : 0;
}

/** The quality table RQ_ij: the judge's numbers, or the scores parsed from the reference model's replies. */
function qualityTable(
  game: string, rewards: IterationRewards, statistics: Record<string, number>,
): { table: number[][]; parsed?: boolean[][] } {
  if (rewards.qualityRewards) return { table: rewards.qualityRewards.map((row) => [...row]) };
  if (rewards.qualityJudgeTexts) {
    let unparsed = 0;
    let count = 0;
    const parsedTable = rewards.qualityJudgeTexts.map((row) => row.map((text) => parseQualityScore(text)));
    for (const row of parsedTable) for (const { parsed } of row) { count++; if (!parsed) unparsed++; }
    statistics.unparsedQualityScores = unparsed;
    statistics.unparsedQualityFraction = count > 0 ? unparsed / count : 0;
    return { table: parsedTable.map((row) => row.map(({ score }) => score)), parsed: parsedTable.map((row) => row.map(({ parsed }) => parsed)) };
  }
  return fail(game, 'needs quality self-rewards (qualityRewards or qualityJudgeTexts) and got neither', 'the runner supplies them from the judge or the reference model');
}

export function computeGameAdvantages(
  math: AdvantageMathV1, settings: GameSettingsV1, variant: AdvantageVariant, rewards: IterationRewards,
): Advantages {
  const game = variant;
  const table = rewards.rewards;
  if (!Array.isArray(table) || table.length === 0) fail(game, 'rewards has no queries');
  table.forEach((row, index) => {
    if (!Array.isArray(row) || row.length === 0) fail(game, `rewards[${index}] has no answers`);
  });
  checkShape(game, 'qualityRewards', rewards.qualityRewards, table);
  checkShape(game, 'qualityJudgeTexts', rewards.qualityJudgeTexts, table);
  checkShape(game, 'sequenceKl.solver', rewards.sequenceKl?.solver, table);

  const statistics: Record<string, number> = {};
  const values = math.groupStatistics(table).means;
  statistics.solverRewardMean = mean(table.flat());
  statistics.valueMean = mean(values);

  // Solver rewards: R (+ RQ for LSP) (- beta KL when the KL sits in the reward).
  let solverRewards = table.map((row) => [...row]);
  let qualityValues: number[] | undefined;
  let qualityOutput: Pick<Advantages, 'qualityRewards' | 'qualityParsed'> = {};
  if (variant === 'lsp') {
    const { table: quality, parsed } = qualityTable(game, rewards, statistics);
    qualityOutput = { qualityRewards: quality, ...(parsed ? { qualityParsed: parsed } : {}) };
    statistics.qualityRewardMean = mean(quality.flat());
    qualityValues = math.groupStatistics(quality).means;
    solverRewards = solverRewards.map((row, i) => row.map((reward, j) => reward + quality[i]![j]!));
  }
  const klInReward = settings.klPlacement === 'reward' && settings.klCoefficient > 0;
  if (klInReward) {
    const kl = rewards.sequenceKl?.solver ?? fail(game, 'the KL is in the reward but sequenceKl.solver is missing', 'the runner computes it from log pi and log pi_ref');
    statistics.klPenaltyMean = mean(kl.flat());
    solverRewards = solverRewards.map((row, i) => row.map((reward, j) => reward - settings.klCoefficient * kl[i]![j]!));
  }
  const solver = math.groupAdvantages(solverRewards, { normalization: settings.advantageNormalization });
  statistics.zeroVarianceGroups = solver.zeroVarianceGroups;
  if (variant === 'grpo') return { solver: solver.advantages, challenger: [], statistics };

  // Challenger: c_i = -V_i (+ VQ_i), V_i from the judge's rewards alone; with the KL in the reward the query's own
  // KL is charged to it, which is the same as adding beta KL_i to V_i.
  let challengerValues = values;
  if (klInReward) {
    const kl = rewards.sequenceKl?.challenger ?? fail(game, 'the KL is in the reward but sequenceKl.challenger is missing');
    if (kl.length !== table.length) fail(game, `sequenceKl.challenger has ${kl.length} entries but there are ${table.length} queries`);
    challengerValues = values.map((value, i) => value + settings.klCoefficient * kl[i]!);
  }
  const challenger = math.challengerAdvantages(challengerValues, qualityValues);
  statistics.challengerRewardMean = mean(challenger.rewards);
  return { solver: solver.advantages, challenger: challenger.advantages, statistics, ...qualityOutput };
}

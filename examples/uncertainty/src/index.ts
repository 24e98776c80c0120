// lsp-plugin-uncertainty: an LSP plugin contributing the "uncertainty" game, lsp with R-Zero's Challenger reward:
// a query is worth most when the Solver answers it right half the time (R-Zero, Huang et al., 2025).
import {
  ConfigError, type Advantages, type GameFactoryV1, type GameV1, type IterationRewards, type PluginV1,
} from '@lsp/core';
import { createSelfPlayGame, parseQualityScore } from '@lsp/game-lsp';

export interface UncertaintyOptions {
  /** The Solver success rate the Challenger aims at; R-Zero's 1/2 by default. In (0, 1). */
  targetSuccessRate?: number;
  /** Weight of the quality self-reward VQ_i in the Challenger's reward (lsp's is 1; 0 leaves R-Zero's alone). */
  qualityWeight?: number;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * The uncertainty reward of a query whose answers succeed at rate p: 1 at the target t, falling linearly to 0 at
 * the farther end of [0, 1], 1 - |p - t| / max(t, 1 - t). At t = 1/2 it is R-Zero's 1 - 2|p - 1/2|.
 */
export function uncertaintyReward(successRate: number, target = 0.5): number {
  return 1 - Math.abs(successRate - target) / Math.max(target, 1 - target);
}

/** RQ_ij as numbers: the judge's own, or the scores in the reference model's replies. */
function qualityTable(rewards: IterationRewards): number[][] {
  if (rewards.qualityRewards) return rewards.qualityRewards.map((row) => [...row]);
  return (rewards.qualityJudgeTexts ?? []).map((row) => row.map((text) => parseQualityScore(text).score));
}

function numberOption(options: Record<string, unknown>, key: keyof UncertaintyOptions, fallback: number, valid: (value: number) => boolean, range: string): number {
  const value = options[key] ?? fallback;
  if (typeof value !== 'number' || !valid(value)) {
    throw new ConfigError(`game uncertainty: option "${key}" must be a number ${range}, got ${JSON.stringify(value)}`, { hint: 'fix gameOptions in lsp.config.ts' });
  }
  return value;
}

/**
 * The game: lsp's prompts, Solver advantages (R + RQ, centred in each query's group), KL and losses, with the
 * Challenger's reward c_i = u(p_i) + w VQ_i, p_i = V_i the mean judge reward of query i's answers, u the
 * uncertainty reward, w `qualityWeight`; with the KL in the reward, beta KL_i is charged to it as lsp charges it.
 * Advantages are centred across the batch: A_i = c_i - mean_k c_k.
 */
export async function createUncertaintyGame(options: Record<string, unknown> = {}): Promise<GameV1> {
  const { targetSuccessRate: _target, qualityWeight: _weight, ...lspOptions } = options;
  const target = numberOption(options, 'targetSuccessRate', 0.5, (value) => value > 0 && value < 1, 'strictly between 0 and 1');
  const qualityWeight = numberOption(options, 'qualityWeight', 1, (value) => Number.isFinite(value) && value >= 0, 'of at least 0');
  let lsp: GameV1;
  try {
    lsp = await createSelfPlayGame('lsp', lspOptions);
  } catch (error) {
    // lsp validates the shared options; its refusal names lsp, so say which game the user configured.
    if (ConfigError.isInstance(error)) {
      throw new ConfigError(error.message.replace(/^game lsp:/, 'game uncertainty:'), error.hint ? { hint: error.hint } : {});
    }
    throw error;
  }
  const { klPlacement, klCoefficient } = lsp.settings;
  return {
    ...lsp,
    name: 'uncertainty',
    computeAdvantages(rewards: IterationRewards): Advantages {
      const base = lsp.computeAdvantages(rewards);
      const successRates = rewards.rewards.map(mean);
      const qualityValues = qualityTable(rewards).map(mean);
      const uncertainty = successRates.map((rate) => uncertaintyReward(rate, target));
      const kl = klPlacement === 'reward' && klCoefficient > 0 ? rewards.sequenceKl?.challenger : undefined;
      const challenger = uncertainty.map((reward, i) => reward + qualityWeight * (qualityValues[i] ?? 0) - klCoefficient * (kl?.[i] ?? 0));
      const average = mean(challenger);
      return {
        solver: base.solver,
        challenger: challenger.map((reward) => reward - average),
        statistics: {
          ...base.statistics,
          challengerRewardMean: average,
          // The game's own figure: metrics.gameStatistics.uncertaintyRewardMean, with its chart in report.html.
          uncertaintyRewardMean: mean(uncertainty),
        },
      };
    },
  };
}

const uncertaintyGameFactory: GameFactoryV1 = {
  specificationVersion: 'v1',
  name: 'uncertainty',
  create: (options) => createUncertaintyGame(options),
};

/** The plugin factory: list `uncertainty()` in lsp.config.ts, or pass `--plugin uncertainty`. */
export default function uncertainty(): PluginV1 {
  return {
    specificationVersion: 'v1',
    name: 'lsp-plugin-uncertainty',
    version: '0.1.0',
    games: [uncertaintyGameFactory],
  };
}

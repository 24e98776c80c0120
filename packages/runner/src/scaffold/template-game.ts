// `lsp new game <name>`: a variant of lsp whose Challenger reward gates on validity instead of adding it: a valid
// query earns the Solver's failure rate, an invalid one -1. Everything else (prompts, the Solver's advantages, the
// KL and the losses) is lsp's, from @lsp/game-lsp, so the file shows the one place a variant usually changes.
import type { KindTemplate, TemplateNames } from './plugin-template';

export function gameTemplate({ name, packageName, factory, pascal }: TemplateNames): KindTemplate {
  const source = `// ${packageName}: an LSP plugin contributing the "${name}" game, a variant of lsp whose Challenger reward
// gates on the query's quality instead of adding it.
import type { Advantages, GameFactoryV1, GameV1, IterationRewards, PluginV1 } from '@lsp/core';
import { createSelfPlayGame, parseQualityScore } from '@lsp/game-lsp';

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * The Challenger's reward for each query from its value V_i (the Solver's mean reward) and quality VQ_i (the mean
 * quality self-reward of its answers): 1 - V_i when the query is valid (VQ_i > 0), -1 when it is not. lsp rewards
 * -V_i + VQ_i, so a large quality can buy an easy query; here validity is a condition. Replace with your rule.
 */
export function challengerRewards(values: readonly number[], qualityValues: readonly number[]): number[] {
  return values.map((value, i) => (qualityValues[i]! > 0 ? 1 - value : -1));
}

/** RQ_ij as numbers: the judge's own, or the scores in the reference model's replies. */
function qualityTable(rewards: IterationRewards): number[][] {
  if (rewards.qualityRewards) return rewards.qualityRewards.map((row) => [...row]);
  return (rewards.qualityJudgeTexts ?? []).map((row) => row.map((text) => parseQualityScore(text).score));
}

/** The game: lsp's, with the Challenger's advantages recomputed from \`challengerRewards\`. */
export async function create${pascal}Game(options: Record<string, unknown> = {}): Promise<GameV1> {
  // lsp validates the options (N, G, beta, learning rate, ...), fills the paper's defaults and gives the prompts,
  // the Solver's advantages (R + RQ, centred in each query's group) and both roles' losses.
  const lsp = await createSelfPlayGame('lsp', options);
  return {
    ...lsp,
    name: '${name}',
    computeAdvantages(rewards: IterationRewards): Advantages {
      const base = lsp.computeAdvantages(rewards);
      const values = rewards.rewards.map(mean);
      const qualityValues = qualityTable(rewards).map(mean);
      const challenger = challengerRewards(values, qualityValues);
      const average = mean(challenger);
      return {
        solver: base.solver,
        // Centred across the batch, as lsp's: a query better than the batch's average has a positive advantage.
        challenger: challenger.map((reward) => reward - average),
        // Figures beyond the ones the runner records by name go to metrics.gameStatistics and get a chart each.
        statistics: { ...base.statistics, challengerRewardMean: average, gatedQueries: challenger.filter((reward) => reward === -1).length },
      };
    },
  };
}

const gameFactory: GameFactoryV1 = {
  specificationVersion: 'v1',
  name: '${name}',
  create: (options) => create${pascal}Game(options),
};

/** The plugin factory: list \`${factory}()\` in lsp.config.ts, or pass \`--plugin ${name}\`. */
export default function ${factory}(): PluginV1 {
  return {
    specificationVersion: 'v1',
    name: '${packageName}',
    version: '0.1.0',
    games: [gameFactory],
  };
}
`;
  const test = `// Tests of the ${name} game: its Challenger reward, its advantages on a hand-made iteration, and two self-play
// iterations on the built-in world's model (@lsp/testing plays them through the runner, no model to write).
import { playGame } from '@lsp/testing';
import { describe, expect, test } from 'bun:test';
import ${factory}, { challengerRewards, create${pascal}Game } from './index';

describe('${packageName}', () => {
  test('is a v1 plugin with one game', () => {
    const plugin = ${factory}();
    expect(plugin.specificationVersion).toBe('v1');
    expect(plugin.games?.map((game) => game.name)).toEqual(['${name}']);
  });

  test('a valid query earns the Solver\\'s failure rate, an invalid one -1', () => {
    expect(challengerRewards([0.25, 1, 0], [2, 2, 0])).toEqual([0.75, 0, -1]);
  });

  test('advantages of one iteration: the Solver\\'s as lsp, the Challenger\\'s from the gated reward', async () => {
    const game = await create${pascal}Game({ queriesPerIteration: 2, answersPerQuery: 2 });
    const advantages = game.computeAdvantages({ rewards: [[1, 0], [1, 1]], qualityRewards: [[2, 2], [0, 0]] });
    // Solver: R + RQ = [[3, 2], [1, 1]], centred in each group.
    expect(advantages.solver).toEqual([[0.5, -0.5], [0, 0]]);
    // Challenger: V = [0.5, 1], VQ = [2, 0], so rewards [0.5, -1], mean -0.25.
    expect(advantages.challenger).toEqual([0.75, -0.75]);
    expect(advantages.statistics.gatedQueries).toBe(1);
  });

  test('plays two iterations on the built-in world; its own statistic reaches the metrics', async () => {
    const { metrics } = await playGame({ plugins: [${factory}()], game: '${name}', iterations: 2 });
    expect(metrics.map((m) => m.iteration)).toEqual([1, 2]);
    for (const m of metrics) {
      expect(Number.isFinite(m.loss)).toBe(true);
      expect(m.challengerRewardMean).toBeGreaterThanOrEqual(-1);
      expect(m.challengerRewardMean).toBeLessThanOrEqual(1);
      expect(m.gameStatistics?.gatedQueries).toBeGreaterThanOrEqual(0);
    }
  });
});
`;
  const readme = `## The game

\`${name}\` is \`lsp\` (from \`@lsp/game-lsp\`) with one change: the Challenger's reward for query i is \`1 - V_i\`
when the query is valid (its quality \`VQ_i\` is above 0) and \`-1\` when it is not, where \`lsp\` rewards
\`-V_i + VQ_i\`. The Solver's advantages, the prompts, the KL and both losses are \`lsp\`'s. Change
\`challengerRewards\` (src/index.ts) to try your own rule, or override other members of the game: \`challengerPrompt\`,
\`solverPrompt\`, \`computeAdvantages\`, \`policyLoss\` (docs/plugins.md describes each). Every figure the game puts in
\`statistics\` beyond the ones the runner records by name (here \`gatedQueries\`) lands in \`metrics.jsonl\` under
\`gameStatistics\` and gets its own chart in \`report.html\`.`;
  return {
    describes: `the "${name}" game`,
    lspDependencies: ['@lsp/game-lsp'],
    lspDevDependencies: ['@lsp/testing'],
    source,
    test,
    readme,
    configField: `game: '${name}'`,
    commandLine: `bun lsp run --plugin ${name} --game ${name}`,
  };
}

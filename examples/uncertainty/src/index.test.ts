// Tests of the uncertainty game: the reward by hand, its options, one iteration's advantages against lsp's, the KL
// charged with the KL in the reward, and self-play on the built-in world through @lsp/testing.
import { ConfigError } from '@lsp/core';
import { createSelfPlayGame } from '@lsp/game-lsp';
import { playGame } from '@lsp/testing';
import { describe, expect, test } from 'bun:test';
import uncertainty, { createUncertaintyGame, uncertaintyReward } from './index';

/** Three queries of four answers: solved half the time, always, never (an invalid query: quality 0). */
const iteration = {
  rewards: [[1, 0, 1, 0], [1, 1, 1, 1], [0, 0, 0, 0]],
  qualityRewards: [[2, 2, 2, 2], [2, 2, 2, 2], [0, 0, 0, 0]],
};

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.catch((caught: unknown) => caught);
  expect(ConfigError.isInstance(error)).toBe(true);
  return (error as ConfigError).toLine();
}

describe('uncertaintyReward', () => {
  test("is R-Zero's 1 - 2|p - 1/2| at the default target", () => {
    for (const [rate, reward] of [[0.5, 1], [0, 0], [1, 0], [0.25, 0.5], [0.75, 0.5], [0.625, 0.75]]) {
      expect(uncertaintyReward(rate!)).toBe(reward!);
    }
  });

  test('peaks at another target and falls to 0 at the farther end', () => {
    expect(uncertaintyReward(0.25, 0.25)).toBe(1);
    expect(uncertaintyReward(1, 0.25)).toBe(0);
    expect(uncertaintyReward(0, 0.25)).toBeCloseTo(2 / 3, 15);
  });
});

describe('the uncertainty game', () => {
  test('is a v1 plugin with one game, whose settings are lsp\'s', async () => {
    expect(uncertainty().games?.map((game) => game.name)).toEqual(['uncertainty']);
    const game = await createUncertaintyGame({ queriesPerIteration: 3, answersPerQuery: 4 });
    const lsp = await createSelfPlayGame('lsp', { queriesPerIteration: 3, answersPerQuery: 4 });
    expect(game.settings).toEqual(lsp.settings);
    expect(game.roles).toEqual(['challenger', 'solver']);
  });

  test('the Challenger is rewarded u(p_i) + VQ_i; the Solver exactly as under lsp', async () => {
    const game = await createUncertaintyGame();
    const lsp = await createSelfPlayGame('lsp', {});
    const advantages = game.computeAdvantages(iteration);
    // p = [1/2, 1, 0] gives u = [1, 0, 0]; VQ = [2, 2, 0]; c = [3, 2, 0], mean 5/3.
    expect(advantages.challenger.map((value) => Number(value.toFixed(12)))).toEqual([1.333333333333, 0.333333333333, -1.666666666667]);
    expect(advantages.statistics.challengerRewardMean).toBeCloseTo(5 / 3, 12);
    expect(advantages.statistics.uncertaintyRewardMean).toBeCloseTo(1 / 3, 12);
    // lsp's c = -V + VQ = [1.5, 1, 0] would favour the first query less over the always-solved one.
    const lspAdvantages = lsp.computeAdvantages(iteration);
    expect(lspAdvantages.challenger.map((value) => Number(value.toFixed(12)))).toEqual([0.666666666667, 0.166666666667, -0.833333333333]);
    expect(advantages.solver).toEqual(lspAdvantages.solver);
    expect(advantages.statistics.zeroVarianceGroups).toBe(2);
  });

  test('qualityWeight 0 leaves the uncertainty reward alone; another target moves the peak', async () => {
    const pure = (await createUncertaintyGame({ qualityWeight: 0 })).computeAdvantages(iteration);
    expect(pure.statistics.challengerRewardMean).toBeCloseTo(1 / 3, 12);
    expect(pure.challenger.map((value) => Number(value.toFixed(12)))).toEqual([0.666666666667, -0.333333333333, -0.333333333333]);
    const easy = (await createUncertaintyGame({ targetSuccessRate: 0.75, qualityWeight: 0 })).computeAdvantages(iteration);
    // u = 1 - |p - 3/4| / (3/4): [2/3, 2/3, 0].
    expect(easy.statistics.uncertaintyRewardMean).toBeCloseTo(4 / 9, 12);
  });

  test('with the KL in the reward, each query pays beta times its KL', async () => {
    const game = await createUncertaintyGame({ klPlacement: 'reward', klCoefficient: 0.5, qualityWeight: 0 });
    const advantages = game.computeAdvantages({
      ...iteration,
      sequenceKl: { solver: [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], challenger: [2, 0, 0] },
    });
    // c = u - 0.5 KL = [1 - 1, 0, 0]: all equal, so no Challenger advantage.
    expect(advantages.challenger).toEqual([0, 0, 0]);
  });

  test('bad options are refused in one line naming the game', async () => {
    expect(await refusal(createUncertaintyGame({ targetSuccessRate: 1 }))).toBe(
      'game uncertainty: option "targetSuccessRate" must be a number strictly between 0 and 1, got 1; fix gameOptions in lsp.config.ts',
    );
    expect(await refusal(createUncertaintyGame({ qualityWeight: -1 }))).toContain('option "qualityWeight" must be a number of at least 0');
    expect(await refusal(createUncertaintyGame({ targetSucessRate: 0.5 }))).toContain('game uncertainty: unknown option "targetSucessRate"');
  });

  test('plays on the built-in world: its uncertainty reward is in the metrics', async () => {
    const { metrics } = await playGame({ plugins: [uncertainty()], game: 'uncertainty', iterations: 3 });
    expect(metrics.map((m) => m.iteration)).toEqual([1, 2, 3]);
    for (const m of metrics) {
      expect(Number.isFinite(m.loss)).toBe(true);
      expect(m.gameStatistics?.uncertaintyRewardMean).toBeGreaterThanOrEqual(0);
      expect(m.gameStatistics?.uncertaintyRewardMean).toBeLessThanOrEqual(1);
      expect(m.zeroVarianceGroups).toBeGreaterThanOrEqual(0);
    }
  });
});

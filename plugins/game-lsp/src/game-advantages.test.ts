// Each game's advantages on small reward tables worked out by hand, with both advantage implementations.
import { ConfigError, InvalidInputError, type GameV1 } from '@lsp/core';
import { describe, expect, test } from 'bun:test';
import { createGrpoGame } from './game-grpo';
import { createSelfPlayGame } from './game-self-play';

function expectTable(actual: number[][], expected: number[][]): void {
  expect(actual.map((row) => row.length)).toEqual(expected.map((row) => row.length));
  actual.forEach((row, i) => row.forEach((value, j) => expect(value).toBeCloseTo(expected[i]![j]!, 12)));
}

function expectRow(actual: number[], expected: number[], digits = 12): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, digits));
}

// Query 0: half right; query 1: always right; query 2: an invalid task nobody can answer.
const rewards = [[1, 0, 1, 0], [1, 1, 1, 1], [0, 0, 0, 0]];

for (const advantageImplementation of ['wasm', 'typescript'] as const) {
  describe(`advantages (${advantageImplementation})`, () => {
    const game = (name: 'lsp' | 'lsp-zero' | 'grpo', options: Record<string, unknown> = {}): Promise<GameV1> =>
      name === 'grpo'
        ? createGrpoGame({ advantageImplementation, datasetSize: 20, ...options })
        : createSelfPlayGame(name, { advantageImplementation, ...options });

    test('lsp-zero: Solver R_ij - V_i, Challenger Vbar - V_i', async () => {
      const result = (await game('lsp-zero')).computeAdvantages({ rewards });
      expectTable(result.solver, [[0.5, -0.5, 0.5, -0.5], [0, 0, 0, 0], [0, 0, 0, 0]]);
      // V = (0.5, 1, 0), Vbar = 0.5: the query nobody solves, even an invalid one, earns the Challenger most.
      expectRow(result.challenger, [0, -0.5, 0.5]);
      expect(result.statistics).toMatchObject({ zeroVarianceGroups: 2 });
      expect(result.statistics.solverRewardMean).toBeCloseTo(0.5, 12);
      expect(result.statistics.valueMean).toBeCloseTo(0.5, 12);
      expect(result.statistics.challengerRewardMean).toBeCloseTo(-0.5, 12);
    });

    test('lsp with the judge\'s quality: Challenger reward -V_i + VQ_i makes the invalid query the worst', async () => {
      // The world's judge: RQ = 2 for every answer to a valid query, 0 for an invalid one.
      const qualityRewards = [[2, 2, 2, 2], [2, 2, 2, 2], [0, 0, 0, 0]];
      const result = (await game('lsp')).computeAdvantages({ rewards, qualityRewards });
      // RQ is constant within a group here, so the Solver's advantages are lsp-zero's.
      expectTable(result.solver, [[0.5, -0.5, 0.5, -0.5], [0, 0, 0, 0], [0, 0, 0, 0]]);
      // c = (-0.5 + 2, -1 + 2, 0 + 0) = (1.5, 1, 0), mean 5/6.
      expectRow(result.challenger, [1.5 - 5 / 6, 1 - 5 / 6, -5 / 6]);
      expect(result.statistics.qualityRewardMean).toBeCloseTo(16 / 12, 12);
      expect(result.statistics.challengerRewardMean).toBeCloseTo(5 / 6, 12);
    });

    test('lsp with the reference model\'s replies: scores parsed, an unparsable one counts 0 and is counted', async () => {
      const result = (await game('lsp', { challengerPrompt: 'chat' })).computeAdvantages({
        rewards: [[1, 0], [0, 0]],
        qualityJudgeTexts: [['Fine. <score>7</score>', 'I cannot score this.'], ['<score>3</score>', 'Format: <score>N</score>. Verdict <score> 2 </score>']],
      });
      // RQ = ((7, 0), (3, 2)); Solver rewards R + RQ = ((8, 0), (3, 2)).
      expectTable(result.solver, [[4, -4], [0.5, -0.5]]);
      // V = (0.5, 0), VQ = (3.5, 2.5): c = (3, 2.5), mean 2.75.
      expectRow(result.challenger, [0.25, -0.25]);
      expect(result.statistics.unparsedQualityScores).toBe(1);
      expect(result.statistics.zeroVarianceGroups).toBe(0);
      expect(result.statistics.unparsedQualityFraction).toBe(0.25);
      // The RQ table the game used and which replies it could read, for the run's samples.
      expect(result.qualityRewards).toEqual([[7, 0], [3, 2]]);
      expect(result.qualityParsed).toEqual([[true, false], [true, true]]);
    });

    test('KL in the reward: beta times each sequence\'s KL is taken from its reward', async () => {
      const result = (await game('lsp-zero', { klPlacement: 'reward', klCoefficient: 0.5 })).computeAdvantages({
        rewards: [[1, 0], [1, 1]],
        sequenceKl: { solver: [[0.2, 0.4], [0, 0]], challenger: [0.4, 0] },
      });
      // Solver rewards (0.9, -0.2) and (1, 1).
      expectTable(result.solver, [[0.55, -0.55], [0, 0]]);
      // c = -(V + beta KL) = (-0.7, -1), mean -0.85.
      expectRow(result.challenger, [0.15, -0.15]);
      expect(result.statistics.klPenaltyMean).toBeCloseTo(0.15, 12);
    });

    test('grpo: Solver only, mean-centred by default or divided by the group std', async () => {
      const centred = (await game('grpo')).computeAdvantages({ rewards: [[1, 0, 0, 0], [1, 1]] });
      expectTable(centred.solver, [[0.75, -0.25, -0.25, -0.25], [0, 0]]);
      expect(centred.challenger).toEqual([]);
      expect(centred.statistics.zeroVarianceGroups).toBe(1);
      const normalised = (await game('grpo', { advantageNormalization: 'standard-deviation' })).computeAdvantages({ rewards: [[1, 0, 0, 0]] });
      const third = 1 / Math.sqrt(3);
      normalised.solver[0]!.forEach((value, j) => expect(value).toBeCloseTo([Math.sqrt(3), -third, -third, -third][j]!, 5));
    });

    test('malformed reward tables are refused with one line', async () => {
      const lsp = await game('lsp');
      const refusal = (body: () => unknown): string => {
        try {
          body();
        } catch (error) {
          expect(InvalidInputError.isInstance(error)).toBe(true);
          return (error as InvalidInputError).message;
        }
        throw new Error('expected a refusal');
      };
      expect(refusal(() => lsp.computeAdvantages({ rewards }))).toContain('game lsp: needs quality self-rewards');
      expect(refusal(() => lsp.computeAdvantages({ rewards, qualityRewards: [[2, 2, 2, 2], [2, 2, 2], [0, 0, 0, 0]] }))).toBe(
        'game lsp: qualityRewards[1] has 3 entries but rewards[1] has 4',
      );
      expect(refusal(() => lsp.computeAdvantages({ rewards: [] }))).toBe('game lsp: rewards has no queries');
      expect(refusal(() => lsp.computeAdvantages({ rewards: [[1], []], qualityRewards: [[1], []] }))).toBe('game lsp: rewards[1] has no answers');
      const klInReward = await game('lsp-zero', { klPlacement: 'reward' });
      expect(refusal(() => klInReward.computeAdvantages({ rewards }))).toContain('sequenceKl.solver is missing');
    });
  });
}

describe('policy loss per role', () => {
  const sequences = [
    { logProbs: [-1, -2], referenceLogProbs: [-1.5, -2], advantage: 1 },
    { logProbs: [-3], referenceLogProbs: [-2], advantage: -0.5 },
  ];

  test('the Challenger\'s term is weighted by alpha_ch; the Solver\'s is not', async () => {
    const game = await createSelfPlayGame('lsp-zero', { challengerWeight: 0.5, klCoefficient: 0.1 });
    const solver = game.policyLoss('solver', sequences);
    const challenger = game.policyLoss('challenger', sequences);
    // -(1/2) [(-1 - 0.05) + (-2) + (1.5 + 0.1)] = 0.725 (see the advantage tests).
    expect(solver.loss).toBeCloseTo(0.725, 12);
    expect(challenger.loss).toBeCloseTo(0.5 * 0.725, 12);
    expect(Array.from(challenger.gradients[1]!)[0]).toBeCloseTo(0.5 * 0.3, 6);
  });

  test('the game\'s estimator, placement, aggregation and denominator are used', async () => {
    const game = await createSelfPlayGame('lsp', { klEstimator: 'k2', aggregation: 'token-mean', klCoefficient: 0.1 });
    // Token-mean over a batch of 6 tokens of which these are 3; k2 = r^2/2 with r = 0.5, 0, -1.
    const result = game.policyLoss('solver', sequences, { denominator: 6 });
    const expected = -(1 / 6) * ((-1 - 0.1 * 0.125) + (-2 - 0) + (1.5 - 0.1 * 0.5));
    expect(result.loss).toBeCloseTo(expected, 12);
  });

  test('grpo has no Challenger loss', async () => {
    const game = await createGrpoGame({ datasetSize: 5 });
    expect(() => game.policyLoss('challenger', sequences)).toThrow('game grpo has no challenger role');
  });

  test('bad options are refused naming the game and the option', async () => {
    await expect(createSelfPlayGame('lsp', { klEstimator: 'k4' })).rejects.toThrow('game lsp: option "klEstimator"');
    await expect(createSelfPlayGame('lsp-zero', { qualitySource: 'judge' })).rejects.toThrow('game lsp-zero: unknown option "qualitySource"');
    let refusal: unknown;
    try {
      await createGrpoGame({ answersPerQuery: 0 });
    } catch (error) {
      refusal = error;
    }
    expect(ConfigError.isInstance(refusal)).toBe(true);
    expect((refusal as ConfigError).message).toContain('game grpo: option "answersPerQuery"');
  });
});

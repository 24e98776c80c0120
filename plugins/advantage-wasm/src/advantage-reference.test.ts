// The advantage math on hand-computed cases, run on both implementations (the TypeScript reference and wasm).
import { InvalidInputError, type AdvantageMathV1, type KlEstimator } from '@lsp/core';
import { beforeAll, describe, expect, test } from 'bun:test';
import { createReferenceAdvantageMath } from './advantage-reference';
import { loadAdvantageWasm } from './advantage-wasm';

const implementations: Record<string, AdvantageMathV1> = {};
beforeAll(async () => {
  implementations.typescript = createReferenceAdvantageMath();
  implementations.wasm = await loadAdvantageWasm();
});

function expectClose(actual: ArrayLike<number>, expected: readonly number[], digits = 12): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((value, index) => expect(actual[index]!).toBeCloseTo(value, digits));
}

function refusal(body: () => unknown): string {
  try {
    body();
  } catch (error) {
    expect(InvalidInputError.isInstance(error)).toBe(true);
    return (error as InvalidInputError).toLine();
  }
  throw new Error('expected a refusal');
}

for (const name of ['typescript', 'wasm']) {
  describe(`${name} advantage math`, () => {
    const math = () => implementations[name]!;

    test('group statistics over ragged groups, population and Bessel', () => {
      const groups = [[1, 2, 3], [4], [5, 5], [0, 1, 0, 1]];
      const population = math().groupStatistics(groups);
      expectClose(population.means, [2, 4, 5, 0.5]);
      expectClose(population.standardDeviations, [Math.sqrt(2 / 3), 0, 0, 0.5]);
      expect(population.zeroVarianceGroups).toBe(2);
      const bessel = math().groupStatistics(groups, { unbiased: true });
      expectClose(bessel.standardDeviations, [1, 0, 0, Math.sqrt(1 / 3)]);
    });

    test('Solver advantages R_ij - V_i, and GRPO std-normalised ones', () => {
      const centred = math().groupAdvantages([[1, 0, 0, 0], [0.5, 0.5], [2, 4]], { normalization: 'mean-centred' });
      expectClose(centred.advantages[0]!, [0.75, -0.25, -0.25, -0.25]);
      expectClose(centred.advantages[1]!, [0, 0]);
      expectClose(centred.advantages[2]!, [-1, 1]);
      expect(centred.zeroVarianceGroups).toBe(1);
      // std of [1,0,0,0] is sqrt(0.1875): 0.75 / sqrt(0.1875) = sqrt(3).
      const normalised = math().groupAdvantages([[1, 0, 0, 0], [2, 4]], { normalization: 'standard-deviation', epsilon: 0 });
      expectClose(normalised.advantages[0]!, [Math.sqrt(3), -1 / Math.sqrt(3), -1 / Math.sqrt(3), -1 / Math.sqrt(3)]);
      expectClose(normalised.advantages[1]!, [-1, 1]);
      const withEpsilon = math().groupAdvantages([[2, 4]], { normalization: 'standard-deviation', epsilon: 1 });
      expectClose(withEpsilon.advantages[0]!, [-0.5, 0.5]);
    });

    test('a zero-variance group gets exactly zero advantages even when its mean rounds', () => {
      // 0.1 * 3 / 3 is 0.10000000000000002 in f64: without the zero-variance rule std division would amplify it.
      const result = math().groupAdvantages([[0.1, 0.1, 0.1]], { normalization: 'standard-deviation' });
      expect(result.advantages[0]).toEqual([0, 0, 0]);
      expect(result.zeroVarianceGroups).toBe(1);
    });

    test('Challenger advantages: Vbar - V_i (LSP-Zero) and from -V_i + VQ_i (LSP)', () => {
      const zero = math().challengerAdvantages([0.25, 0.75, 0.5]);
      expectClose(zero.rewards, [-0.25, -0.75, -0.5]);
      expectClose(zero.advantages, [0.25, -0.25, 0]);
      const withQuality = math().challengerAdvantages([0.25, 0.75, 0.5], [2, 1, 0]);
      expectClose(withQuality.rewards, [1.75, 0.25, -0.5]);
      expectClose(withQuality.advantages, [1.25, -0.25, -1]);
    });

    test('KL estimators per token and their derivatives', () => {
      const tokens = { logProbs: [-1, -2, -3], referenceLogProbs: [-2, -2, -2.5] }; // r = 1, 0, -0.5
      const k1 = math().tokenKl(tokens, 'k1');
      expectClose(k1.values, [1, 0, -0.5]);
      expectClose(k1.derivatives, [1, 1, 1]);
      const k2 = math().tokenKl(tokens, 'k2');
      expectClose(k2.values, [0.5, 0, 0.125]);
      expectClose(k2.derivatives, [1, 0, -0.5]);
      const k3 = math().tokenKl(tokens, 'k3');
      expectClose(k3.values, [Math.exp(-1), 0, Math.exp(0.5) - 1.5]);
      expectClose(k3.derivatives, [1 - Math.exp(-1), 0, 1 - Math.exp(0.5)]);
      expectClose(math().sequenceKl([tokens, { logProbs: [], referenceLogProbs: [] }], 'k2'), [0.625, 0]);
    });

    test('policy loss and gradient: KL in the loss, sequence-mean and token-mean, scale', () => {
      // Sequence 0: r = 0.5, 0 with A = 1; sequence 1: r = -1 with A = -0.5; beta 0.1, k1.
      const sequences = [
        { logProbs: [-1, -2], referenceLogProbs: [-1.5, -2], advantage: 1 },
        { logProbs: [-3], referenceLogProbs: [-2], advantage: -0.5 },
      ];
      const base = { klEstimator: 'k1' as const, klCoefficient: 0.1, klPlacement: 'loss' as const };
      const sequenceMean = math().policyLoss(sequences, { ...base, aggregation: 'sequence-mean' });
      // -(1/2) [ (-1 - 0.05) + (-2 - 0) + (1.5 + 0.1) ] = 0.725
      expect(sequenceMean.loss).toBeCloseTo(0.725, 12);
      expectClose(sequenceMean.gradients[0]!, [-0.45, -0.45], 6);
      expectClose(sequenceMean.gradients[1]!, [0.3], 6);
      expect(sequenceMean.klSum).toBeCloseTo(-0.5, 12);
      expect(sequenceMean.tokens).toBe(3);
      const tokenMean = math().policyLoss(sequences, { ...base, aggregation: 'token-mean' });
      expect(tokenMean.loss).toBeCloseTo(1.45 / 3, 12);
      expectClose(tokenMean.gradients[0]!, [-0.3, -0.3], 6);
      expectClose(tokenMean.gradients[1]!, [0.2], 6);
      const scaled = math().policyLoss(sequences, { ...base, aggregation: 'sequence-mean', scale: 2, denominator: 4 });
      expect(scaled.loss).toBeCloseTo(0.725, 12);
      expectClose(scaled.gradients[0]!, [-0.45, -0.45], 6);
    });

    test('policy loss with the KL in the reward has no KL term', () => {
      const sequences = [
        { logProbs: [-1, -2], referenceLogProbs: [-1.5, -2], advantage: 1 },
        { logProbs: [-3], referenceLogProbs: [-2], advantage: -0.5 },
      ];
      const result = math().policyLoss(sequences, { klEstimator: 'k3', klCoefficient: 0.1, klPlacement: 'reward', aggregation: 'sequence-mean' });
      expect(result.loss).toBeCloseTo(-(1 / 2) * (-1 - 2 + 1.5), 12);
      expectClose(result.gradients[0]!, [-0.5, -0.5], 6);
      expectClose(result.gradients[1]!, [0.25], 6);
    });

    test('the gradient is the derivative of the loss (finite differences, every estimator)', () => {
      const sequences = [
        { logProbs: [-0.7, -1.9, -0.2], referenceLogProbs: [-1.1, -1.4, -0.3], advantage: 0.8 },
        { logProbs: [-2.2, -0.4], referenceLogProbs: [-2.0, -0.9], advantage: -1.3 },
      ];
      for (const estimator of ['k1', 'k2', 'k3'] as KlEstimator[]) {
        const options = { klEstimator: estimator, klCoefficient: 0.3, klPlacement: 'loss' as const, aggregation: 'token-mean' as const };
        const { gradients } = math().policyLoss(sequences, options);
        const step = 1e-6;
        sequences.forEach((sequence, s) => {
          sequence.logProbs.forEach((_, t) => {
            const shifted = (delta: number) =>
              sequences.map((other, o) => ({ ...other, logProbs: other.logProbs.map((value, i) => (o === s && i === t ? value + delta : value)) }));
            const numeric = (math().policyLoss(shifted(step), options).loss - math().policyLoss(shifted(-step), options).loss) / (2 * step);
            expect(gradients[s]![t]!).toBeCloseTo(numeric, 6);
          });
        });
      }
    });

    test('bad input is refused with one line', () => {
      expect(refusal(() => math().groupStatistics([[1], []]))).toContain('group 1 is empty');
      expect(refusal(() => math().groupAdvantages([[1, Number.NaN]], { normalization: 'mean-centred' }))).toContain('not a finite number');
      expect(refusal(() => math().tokenKl({ logProbs: [1, 2], referenceLogProbs: [1] }, 'k1'))).toContain('2 log-probabilities but 1');
      expect(refusal(() => math().tokenKl({ logProbs: [1], referenceLogProbs: [1] }, 'k4' as KlEstimator))).toContain('unknown KL estimator "k4"');
      expect(refusal(() => math().challengerAdvantages([1, 2], [1]))).toContain('2 values but 1 quality values');
      expect(refusal(() => math().policyLoss([], { klEstimator: 'k1', klCoefficient: 0, klPlacement: 'loss', aggregation: 'mean' as 'token-mean' }))).toContain('unknown loss aggregation');
    });
  });
}

// The TypeScript reference of the advantage math: the living definition the Rust/wasm implementation is checked
// against. Sums run in index order, as in crates/advantage, so the two agree to rounding.
import type {
  AdvantageMathV1, ChallengerAdvantages, GroupAdvantageOptions, GroupAdvantages, GroupStatistics,
  GroupStatisticsOptions, KlEstimator, PolicyLoss, PolicyLossOptions, PolicySequence, TokenKl, TokenLogProbs,
} from '@lsp/core';
import {
  checkEstimator, checkGroupAdvantageOptions, checkGroups, checkPolicyLossOptions, checkQualityValues, checkTokens, checkValues,
  defaultEpsilon,
} from './advantage-validation';

interface Moments {
  mean: number;
  standardDeviation: number;
  zeroVariance: boolean;
}

function moments(group: readonly number[], unbiased: boolean): Moments {
  let sum = 0;
  for (const value of group) sum += value;
  const mean = sum / group.length;
  let squares = 0;
  for (const value of group) squares += (value - mean) * (value - mean);
  const divisor = unbiased ? group.length - 1 : group.length;
  return {
    mean,
    standardDeviation: divisor > 0 ? Math.sqrt(squares / divisor) : 0,
    zeroVariance: group.every((value) => value === group[0]),
  };
}

/** One token's KL estimate and its derivative with respect to log pi, from r = log pi - log pi_ref. */
export function klToken(estimator: KlEstimator, logRatio: number): [value: number, derivative: number] {
  switch (estimator) {
    case 'k1':
      return [logRatio, 1];
    case 'k2':
      return [0.5 * logRatio * logRatio, logRatio];
    case 'k3': {
      const inverseRatio = Math.exp(-logRatio);
      return [inverseRatio - 1 + logRatio, 1 - inverseRatio];
    }
  }
}

export function createReferenceAdvantageMath(): AdvantageMathV1 {
  return {
    specificationVersion: 'v1',
    name: 'typescript',

    groupStatistics(groups: readonly (readonly number[])[], options: GroupStatisticsOptions = {}): GroupStatistics {
      checkGroups(groups);
      const all = groups.map((group) => moments(group, options.unbiased ?? false));
      return {
        means: all.map((statistics) => statistics.mean),
        standardDeviations: all.map((statistics) => statistics.standardDeviation),
        zeroVarianceGroups: all.filter((statistics) => statistics.zeroVariance).length,
      };
    },

    groupAdvantages(groups: readonly (readonly number[])[], options: GroupAdvantageOptions): GroupAdvantages {
      checkGroups(groups);
      checkGroupAdvantageOptions(options);
      const epsilon = options.epsilon ?? defaultEpsilon;
      let zeroVarianceGroups = 0;
      const advantages = groups.map((group) => {
        const statistics = moments(group, options.unbiased ?? false);
        // Equal rewards carry no signal; their rounded mean can differ from them by an ulp.
        if (statistics.zeroVariance) {
          zeroVarianceGroups++;
          return group.map(() => 0);
        }
        return options.normalization === 'standard-deviation'
          ? group.map((value) => (value - statistics.mean) / (statistics.standardDeviation + epsilon))
          : group.map((value) => value - statistics.mean);
      });
      return { advantages, zeroVarianceGroups };
    },

    challengerAdvantages(values: readonly number[], qualityValues?: readonly number[]): ChallengerAdvantages {
      checkQualityValues(values, qualityValues);
      const rewards = values.map((value, index) => -value + (qualityValues ? qualityValues[index]! : 0));
      let sum = 0;
      for (const reward of rewards) sum += reward;
      const mean = sum / rewards.length;
      return { rewards, advantages: rewards.map((reward) => reward - mean) };
    },

    tokenKl(tokens: TokenLogProbs, estimator: KlEstimator): TokenKl {
      checkEstimator(estimator);
      checkTokens(tokens, 'the sequence');
      const count = tokens.logProbs.length;
      const values = new Float64Array(count);
      const derivatives = new Float64Array(count);
      for (let index = 0; index < count; index++) {
        [values[index], derivatives[index]] = klToken(estimator, tokens.logProbs[index]! - tokens.referenceLogProbs[index]!);
      }
      return { values, derivatives };
    },

    sequenceKl(sequences: readonly TokenLogProbs[], estimator: KlEstimator): number[] {
      checkEstimator(estimator);
      return sequences.map((sequence, index) => {
        checkTokens(sequence, `sequence ${index}`);
        let sum = 0;
        for (let token = 0; token < sequence.logProbs.length; token++) {
          sum += klToken(estimator, sequence.logProbs[token]! - sequence.referenceLogProbs[token]!)[0];
        }
        return sum;
      });
    },

    policyLoss(sequences: readonly PolicySequence[], options: PolicyLossOptions): PolicyLoss {
      checkPolicyLossOptions(options);
      sequences.forEach((sequence, index) => {
        checkTokens(sequence, `sequence ${index}`);
        checkValues([sequence.advantage], `sequence ${index} advantage`);
      });
      const tokens = sequences.reduce((total, sequence) => total + sequence.logProbs.length, 0);
      const divisor = options.denominator ?? (options.aggregation === 'sequence-mean' ? sequences.length : tokens);
      const factor = divisor > 0 ? -(options.scale ?? 1) / divisor : 0;
      const beta = options.klPlacement === 'loss' ? options.klCoefficient : 0;
      let loss = 0;
      let klSum = 0;
      const gradients = sequences.map((sequence) => {
        const gradient = new Float32Array(sequence.logProbs.length);
        for (let token = 0; token < gradient.length; token++) {
          const logProb = sequence.logProbs[token]!;
          const [kl, klDerivative] = klToken(options.klEstimator, logProb - sequence.referenceLogProbs[token]!);
          klSum += kl;
          loss += factor * (sequence.advantage * logProb - beta * kl);
          gradient[token] = factor * (sequence.advantage - beta * klDerivative);
        }
        return gradient;
      });
      return { loss, gradients, klSum, tokens };
    },
  };
}

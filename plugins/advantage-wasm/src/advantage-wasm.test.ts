// The Rust/wasm advantage math against the TypeScript reference on random ragged groups and sequences.
import type { KlEstimator } from '@lsp/core';
import { beforeAll, describe, expect, test } from 'bun:test';
import { createReferenceAdvantageMath } from './advantage-reference';
import { loadAdvantageWasm, type WasmAdvantageMath } from './advantage-wasm';

let wasm: WasmAdvantageMath;
const reference = createReferenceAdvantageMath();
beforeAll(async () => {
  wasm = await loadAdvantageWasm();
});

/** mulberry32: a small seeded generator, so a failing case can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Ragged groups mixing binary rewards (many zero-variance groups, as a verifier gives) and continuous ones. */
function randomGroups(random: () => number): number[][] {
  const groups: number[][] = [];
  const count = 1 + Math.floor(random() * 12);
  for (let group = 0; group < count; group++) {
    const size = 1 + Math.floor(random() * 9);
    const kind = random();
    groups.push(
      Array.from({ length: size }, () =>
        kind < 0.4 ? (random() < 0.5 ? 0 : 1) : kind < 0.5 ? 0.3 : (random() - 0.5) * 20,
      ),
    );
  }
  return groups;
}

function randomSequences(random: () => number) {
  const count = 1 + Math.floor(random() * 10);
  return Array.from({ length: count }, () => {
    const length = Math.floor(random() * 20);
    return {
      logProbs: Array.from({ length }, () => -random() * 8),
      referenceLogProbs: Array.from({ length }, () => -random() * 8),
      advantage: (random() - 0.5) * 4,
    };
  });
}

/** Relative agreement to 1e-12: both sum in the same order; only exp may differ by an ulp. */
function expectAgree(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let index = 0; index < expected.length; index++) {
    const scale = Math.max(1, Math.abs(expected[index]!));
    expect(Math.abs(actual[index]! - expected[index]!) / scale).toBeLessThanOrEqual(tolerance);
  }
}

describe('wasm against the TypeScript reference', () => {
  test('group statistics and group advantages on 200 random ragged batches', () => {
    const random = seeded(7);
    let zeroVarianceSeen = 0;
    for (let trial = 0; trial < 200; trial++) {
      const groups = randomGroups(random);
      const unbiased = trial % 2 === 1;
      const expected = reference.groupStatistics(groups, { unbiased });
      const actual = wasm.groupStatistics(groups, { unbiased });
      expectAgree(actual.means, expected.means);
      expectAgree(actual.standardDeviations, expected.standardDeviations);
      expect(actual.zeroVarianceGroups).toBe(expected.zeroVarianceGroups);
      zeroVarianceSeen += expected.zeroVarianceGroups;
      for (const normalization of ['mean-centred', 'standard-deviation'] as const) {
        const wanted = reference.groupAdvantages(groups, { normalization, unbiased });
        const got = wasm.groupAdvantages(groups, { normalization, unbiased });
        expect(got.zeroVarianceGroups).toBe(wanted.zeroVarianceGroups);
        expect(got.advantages.map((group) => group.length)).toEqual(groups.map((group) => group.length));
        got.advantages.forEach((group, index) => expectAgree(group, wanted.advantages[index]!));
      }
    }
    // The generator must exercise the zero-variance path, or the comparison above would miss it.
    expect(zeroVarianceSeen).toBeGreaterThan(50);
  });

  test('Challenger advantages with and without quality values', () => {
    const random = seeded(11);
    for (let trial = 0; trial < 100; trial++) {
      const count = 1 + Math.floor(random() * 16);
      const values = Array.from({ length: count }, () => random());
      const quality = Array.from({ length: count }, () => Math.floor(random() * 8));
      for (const qualityValues of [undefined, quality]) {
        const expected = reference.challengerAdvantages(values, qualityValues);
        const actual = wasm.challengerAdvantages(values, qualityValues);
        expectAgree(actual.rewards, expected.rewards);
        expectAgree(actual.advantages, expected.advantages);
      }
    }
  });

  test('token KL, sequence KL and the policy loss for every estimator, placement and aggregation', () => {
    const random = seeded(13);
    for (let trial = 0; trial < 60; trial++) {
      const sequences = randomSequences(random);
      for (const estimator of ['k1', 'k2', 'k3'] as KlEstimator[]) {
        const first = sequences[0]!;
        const expectedKl = reference.tokenKl(first, estimator);
        const actualKl = wasm.tokenKl(first, estimator);
        expectAgree(actualKl.values, expectedKl.values);
        expectAgree(actualKl.derivatives, expectedKl.derivatives);
        expectAgree(wasm.sequenceKl(sequences, estimator), reference.sequenceKl(sequences, estimator));
        for (const klPlacement of ['loss', 'reward'] as const) {
          for (const aggregation of ['sequence-mean', 'token-mean'] as const) {
            const options = { klEstimator: estimator, klCoefficient: 0.05, klPlacement, aggregation, scale: 1 + random() };
            const expected = reference.policyLoss(sequences, options);
            const actual = wasm.policyLoss(sequences, options);
            expectAgree([actual.loss, actual.klSum, actual.tokens], [expected.loss, expected.klSum, expected.tokens]);
            // Gradients come back as float32 from both: one float32 ulp apart at most (k3's exp may differ by an f64 ulp).
            actual.gradients.forEach((gradient, index) => expectAgree(gradient, expected.gradients[index]!, 1.2e-7));
          }
        }
      }
    }
  });

  test('memory is released after every call (no growth over many calls)', () => {
    const groups = randomGroups(seeded(3));
    wasm.groupAdvantages(groups, { normalization: 'mean-centred' });
    const before = wasm.memoryBytes();
    for (let call = 0; call < 20000; call++) wasm.groupAdvantages(groups, { normalization: 'mean-centred' });
    expect(wasm.memoryBytes()).toBe(before);
  });
});

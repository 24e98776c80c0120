// The unbiased pass@k estimator: hand-computed values, exact binomials where doubles overflow, refusals.
import { describe, expect, test } from 'bun:test';
import { passAtK } from './pass-at-k';

/** C(n, k) exactly. */
function binomial(n: number, k: number): bigint {
  let result = 1n;
  for (let i = 0; i < k; i++) result = (result * BigInt(n - i)) / BigInt(i + 1);
  return result;
}

/** 1 - C(n-c, k) / C(n, k) from exact integers, to 15 significant digits. */
function exactPassAtK(n: number, c: number, k: number): number {
  const scale = 10n ** 30n;
  const ratio = (binomial(n - c, k) * scale) / binomial(n, k);
  return 1 - Number(ratio) / 1e30;
}

describe('passAtK', () => {
  test('hand-computed values', () => {
    expect(passAtK(5, 2, 1)).toBeCloseTo(0.4, 15); // c/n
    expect(passAtK(5, 2, 2)).toBeCloseTo(0.7, 15); // 1 - C(3,2)/C(5,2) = 1 - 3/10
    expect(passAtK(10, 3, 5)).toBeCloseTo(1 - 21 / 252, 15); // 1 - C(7,5)/C(10,5)
    expect(passAtK(5, 0, 3)).toBe(0);
    expect(passAtK(5, 5, 1)).toBe(1);
    expect(passAtK(4, 1, 4)).toBe(1); // fewer than k failures: every draw of 4 has the pass
    expect(passAtK(1, 1, 1)).toBe(1);
    expect(passAtK(1, 0, 1)).toBe(0);
  });

  test('stable where the binomials overflow doubles (n = 200 to 2000)', () => {
    for (const [n, c, k] of [[200, 10, 100], [200, 1, 10], [200, 37, 1], [200, 150, 100], [1000, 3, 500], [2000, 5, 1000]] as const) {
      expect(Math.abs(passAtK(n, c, k) - exactPassAtK(n, c, k))).toBeLessThan(1e-12);
    }
    expect(Number.isFinite(Number(binomial(2000, 1000)))).toBe(false); // the naive formula would overflow
  });

  test('refuses impossible arguments', () => {
    expect(() => passAtK(3, 1, 4)).toThrow(RangeError);
    expect(() => passAtK(3, 4, 1)).toThrow(RangeError);
    expect(() => passAtK(3, 1, 0)).toThrow(RangeError);
    expect(() => passAtK(3, 1.5, 1)).toThrow(RangeError);
  });
});

// pass@k with the unbiased estimator of Chen et al. (2021), shared by the code benchmarks and `lsp eval --pass-at-k`: with n samples of a task of which c pass,
// pass@k = 1 - C(n-c, k) / C(n, k), the chance that k samples drawn without replacement include a passing one.

/**
 * 1 - C(n-c, k) / C(n, k), computed as 1 - prod_{i=n-c+1}^{n} (1 - k/i), which never forms the binomial
 * coefficients (they overflow long before n = 200). 1 when fewer than k samples fail.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k)) {
    throw new RangeError(`passAtK: n, c and k must be whole numbers (got ${n}, ${c}, ${k})`);
  }
  if (n < 1 || c < 0 || c > n || k < 1 || k > n) {
    throw new RangeError(`passAtK: needs 0 <= c <= n and 1 <= k <= n (got n=${n}, c=${c}, k=${k})`);
  }
  if (n - c < k) return 1;
  let allFail = 1;
  for (let i = n - c + 1; i <= n; i++) allFail *= 1 - k / i;
  return 1 - allFail;
}

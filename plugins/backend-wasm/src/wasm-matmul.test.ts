// The packed matmul on shapes that cross every blocking boundary (KC = 512 deep, NC = 1024 wide, MC = 48 rows,
// 6 x 8 micro-tiles), the unpacked dot-product path for few rows, both ways of splitting work across workers,
// against a float64 reference.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { MatmulOptions } from '@lsp/core';
import { createRandom, randomFloats } from '@lsp/oracle';
import { blasSplit, findBlas } from './wasm-blas';
import { createWasmDevice, type WasmDevice } from './wasm-device';

/** The products on the wasm kernels, and on OpenBLAS where it is installed (setup.sh installs it). */
const blasFound = 'symbols' in findBlas();
const paths = [{ name: 'wasm', blas: false }, { name: 'OpenBLAS', blas: true }] as const;
const devicesOf = new Map<string, { single: WasmDevice; dual: WasmDevice }>();

beforeAll(async () => {
  for (const path of paths) {
    if (path.blas && !blasFound) continue;
    devicesOf.set(path.name, {
      single: await createWasmDevice({ threads: 1, blas: path.blas }),
      dual: await createWasmDevice({ threads: 2, blas: path.blas }),
    });
  }
});

afterAll(() => {
  for (const { single, dual } of devicesOf.values()) {
    single.dispose();
    dual.dispose();
  }
});

interface Shape {
  m: number;
  n: number;
  k: number;
  options: MatmulOptions;
}

/** Float64 product, plus the sum of |a||b| per element that bounds float32 rounding error. */
function reference(a: Float32Array, b: Float32Array, start: Float32Array, { m, n, k, options }: Shape) {
  const batch = options.batch ?? 1;
  const alpha = options.alpha ?? 1;
  const value = new Float64Array(batch * m * n);
  const magnitude = new Float64Array(batch * m * n);
  for (let e = 0; e < batch; e++) {
    const bBase = options.broadcastB ? 0 : e * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        let absolute = 0;
        for (let p = 0; p < k; p++) {
          const x = options.transposeA ? a[e * m * k + p * m + i]! : a[e * m * k + i * k + p]!;
          const y = options.transposeB ? b[bBase + j * k + p]! : b[bBase + p * n + j]!;
          sum += x * y;
          absolute += Math.abs(x * y);
        }
        const index = e * m * n + i * n + j;
        const previous = options.accumulate ? start[index]! : 0;
        value[index] = alpha * sum + previous;
        magnitude[index] = Math.abs(alpha) * absolute + Math.abs(previous);
      }
    }
  }
  return { value, magnitude };
}

async function run(device: WasmDevice, a: Float32Array, b: Float32Array, start: Float32Array, shape: Shape) {
  const { m, n, k, options } = shape;
  const out = device.upload(start, [start.length]);
  const [left, right] = [device.upload(a, [a.length]), device.upload(b, [b.length])];
  device.matmul(left, right, out, m, n, k, options);
  const result = (await device.read(out)) as Float32Array;
  for (const tensor of [out, left, right]) device.free(tensor);
  return result;
}

const shapes: Shape[] = [
  // Deeper than one KC block and wider than one NC block, odd everywhere.
  { m: 67, n: 1031, k: 523, options: {} },
  { m: 133, n: 29, k: 1100, options: { transposeB: true } },
  // A row-major with alpha: packed four depth steps at a time, then the depth remainder one by one.
  { m: 50, n: 37, k: 517, options: { alpha: 0.5, accumulate: true } },
  { m: 70, n: 45, k: 77, options: { transposeA: true, alpha: -0.75, accumulate: true } },
  { m: 31, n: 53, k: 600, options: { transposeA: true, transposeB: true } },
  // Few rows: the work is split by columns.
  // Few rows against B stored (N, K): unpacked dot products, with depth and tile remainders.
  { m: 3, n: 1500, k: 257, options: { transposeB: true } },
  { m: 13, n: 38, k: 70, options: { transposeB: true, alpha: 1.5, accumulate: true } },
  { m: 9, n: 50, k: 31, options: { batch: 9, transposeB: true } },
  { m: 1, n: 77, k: 64, options: { accumulate: true } },
  // Batched attention-style products.
  { m: 19, n: 23, k: 16, options: { batch: 7, transposeB: true, alpha: 0.25 } },
  { m: 40, n: 13, k: 9, options: { batch: 5, broadcastB: true } },
  { m: 5, n: 6, k: 0, options: { accumulate: true } },
];

for (const path of paths) {
describe(`matmul on ${path.name}`, () => {
  for (const shape of shapes) {
    const { m, n, k, options } = shape;
    test.skipIf(path.blas && !blasFound)(`${m} x ${n} x ${k} ${JSON.stringify(options)}`, async () => {
      const { single, dual } = devicesOf.get(path.name)!;
      const random = createRandom(m * 7919 + n * 31 + k);
      const batch = options.batch ?? 1;
      const a = randomFloats(random, batch * m * k);
      const b = randomFloats(random, (options.broadcastB ? 1 : batch) * k * n);
      const start = randomFloats(random, batch * m * n);
      const { value, magnitude } = reference(a, b, start, shape);
      const one = await run(single, a, b, start, shape);
      const two = await run(dual, a, b, start, shape);
      // Recursive float32 summation of k products errs by at most about (k + 2) u sum|a b| (u = 2^-24), plus
      // the roundings of alpha and the accumulation: the standard a-priori bound, not a fitted tolerance.
      let worst = 0;
      for (let i = 0; i < value.length; i++) {
        const bound = (k + 4) * 2 ** -24 * magnitude[i]! + 2 ** -24 * Math.abs(value[i]!);
        worst = Math.max(worst, Math.abs(one[i]! - value[i]!) / (bound || Number.MIN_VALUE));
      }
      expect(worst).toBeLessThanOrEqual(1);
      expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer))).toBe(true);
    });
  }
});
}

describe('the OpenBLAS split', () => {
  test('covers the output in blocks of a multiple of 16 along its longer side, at most 8 units', () => {
    for (const [m, n, k, batch] of [[256, 256, 256, 1], [64, 688, 256, 1], [64, 128, 256, 1], [2048, 4096, 256, 1], [3, 1500, 257, 1], [19, 23, 16, 7], [1, 77, 64, 1]] as const) {
      const split = blasSplit(m, n, k, batch);
      const length = split.byRows ? m : n;
      expect(split.byRows).toBe(m >= n);
      expect(split.block % 16).toBe(0);
      expect(split.units).toBe(Math.ceil(length / split.block));
      expect(split.units).toBeLessThanOrEqual(8);
      expect((split.units - 1) * split.block).toBeLessThan(length);
      expect(split.units * split.block).toBeGreaterThanOrEqual(length);
    }
  });

  test('products of 2M multiply-adds and more get two units or more; small ones one', () => {
    expect(blasSplit(64, 128, 256, 1).units).toBe(2);
    expect(blasSplit(64, 256, 256, 1).units).toBe(2);
    expect(blasSplit(256, 256, 256, 1).units).toBe(4);
    expect(blasSplit(2048, 2048, 2048, 1).units).toBe(8);
    expect(blasSplit(16, 16, 16, 1).units).toBe(1);
  });
});

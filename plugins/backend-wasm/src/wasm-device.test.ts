// Every kernel of the wasm device against the float64 oracle (@lsp/oracle) on its standard cases and on
// random shapes with odd sizes, with one and two workers; the two must agree bit for bit.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { DeviceV1, SamplingKernelOptions } from '@lsp/core';
import { compareWithOracle, createRandom, float32Tolerance, type KernelCase, kernelCases, randomFloats } from '@lsp/oracle';
import { findBlas } from './wasm-blas';
import { createWasmDevice, type WasmDevice, type WasmTensor } from './wasm-device';
import { KernelFailure } from './wasm-pool';

let single: WasmDevice;
let dual: WasmDevice;
/** Two workers with the host running units while it waits, and with the host polling (one of them is `dual`). */
let helped: WasmDevice;
let polled: WasmDevice;

/** The CPU paths: products on the wasm kernels, and on OpenBLAS where it is installed (setup.sh installs it). */
const blasFound = 'symbols' in findBlas();
const paths = [{ name: 'wasm matmul', blas: false }, { name: 'OpenBLAS matmul', blas: true }] as const;
const devicesOf = new Map<string, { single: WasmDevice; dual: WasmDevice; helped: WasmDevice; polled: WasmDevice }>();

beforeAll(async () => {
  for (const path of paths) {
    if (path.blas && !blasFound) continue;
    devicesOf.set(path.name, {
      single: await createWasmDevice({ threads: 1, blas: path.blas }),
      dual: await createWasmDevice({ threads: 2, blas: path.blas }),
      helped: await createWasmDevice({ threads: 2, hostRunsUnits: true, blas: path.blas }),
      polled: await createWasmDevice({ threads: 2, hostRunsUnits: false, blas: path.blas }),
    });
  }
  ({ single, dual, helped, polled } = devicesOf.get('wasm matmul')!);
});

afterAll(() => {
  for (const devices of devicesOf.values()) for (const device of Object.values(devices)) device.dispose();
});

async function floats(device: DeviceV1, tensor: Parameters<DeviceV1['read']>[0]): Promise<Float32Array> {
  return (await device.read(tensor)) as Float32Array;
}

/** Kernel cases on random shapes, sizes chosen to leave SIMD remainders and uneven splits across workers. */
function randomShapeCases(seed: number): KernelCase[] {
  const cases: KernelCase[] = [];
  const add = (name: string, build: (random: () => number) => KernelCase['run']) => {
    cases.push({ name: `${name} (seed ${seed})`, run: (device) => build(createRandom(seed))(device) });
  };
  const pick = (random: () => number, low: number, high: number) => low + Math.floor(random() * (high - low + 1));

  add('elementwise on odd sizes', (random) => {
    const count = pick(random, 1000, 3000) | 1;
    const row = 13;
    const rows = pick(random, 50, 90);
    const a = randomFloats(random, count);
    const b = randomFloats(random, count);
    const matrix = randomFloats(random, rows * row);
    const bias = randomFloats(random, row);
    return async (device) => {
      const x = device.upload(a, [count]);
      const sum = device.allocate([count]);
      device.add(x, device.upload(b, [count]), sum);
      const scaled = device.allocate([count]);
      device.scale(sum, 1.7, scaled);
      const m = device.upload(matrix, [rows, row]);
      device.add(m, device.upload(bias, [row]), m);
      const columnSums = device.upload(bias, [row]);
      device.sumRows(m, columnSums);
      const filled = device.allocate([count]);
      device.fill(filled, -3.25);
      return { sum: await floats(device, sum), scaled: await floats(device, scaled), biased: await floats(device, m),
        columnSums: await floats(device, columnSums), filled: await floats(device, filled) };
    };
  });
  add('rmsnorm over wide odd rows', (random) => {
    const [rows, channels] = [pick(random, 20, 40), pick(random, 300, 700) | 1];
    const x = randomFloats(random, rows * channels, 3);
    const w = randomFloats(random, channels);
    const dout = randomFloats(random, rows * channels);
    return async (device) => {
      const input = device.upload(x, [rows, channels]);
      const weight = device.upload(w, [channels]);
      const out = device.allocate([rows, channels]);
      const rstd = device.allocate([rows]);
      device.rmsnormForward(input, weight, out, rstd, 1e-6);
      const dx = device.allocate([rows, channels]);
      const dw = device.allocate([channels]);
      device.rmsnormBackward(device.upload(dout, [rows, channels]), input, weight, rstd, dx, dw);
      return { out: await floats(device, out), rstd: await floats(device, rstd), dx: await floats(device, dx), dweight: await floats(device, dw) };
    };
  });
  add('rope with odd half dimension', (random) => {
    const [rows, heads, headDim, maxPosition] = [pick(random, 10, 30), 3, 2 * pick(random, 5, 11), 64];
    const x = randomFloats(random, rows * heads * headDim);
    const positions = Int32Array.from({ length: rows }, () => Math.floor(random() * maxPosition));
    const angles = Float32Array.from({ length: maxPosition * headDim / 2 }, (_, i) => Math.floor(i / (headDim / 2)) * 10000 ** (-(i % (headDim / 2)) / (headDim / 2)));
    return async (device) => {
      const p = device.upload(positions, [rows]);
      const c = device.upload(angles.map(Math.cos), [maxPosition, headDim / 2]);
      const s = device.upload(angles.map(Math.sin), [maxPosition, headDim / 2]);
      const out = device.allocate([rows, heads, headDim]);
      device.rope(device.upload(x, [rows, heads, headDim]), p, c, s, out, heads);
      const back = device.allocate([rows, heads, headDim]);
      device.rope(out, p, c, s, back, heads, true);
      return { out: await floats(device, out), back: await floats(device, back) };
    };
  });
  for (const setting of [
    { name: 'long prefill, 3 query heads per key head', batch: 2, queries: 37, capacity: 41, heads: 6, kvHeads: 2, headDim: 12,
      queryOffset: [0, 4], keyLength: [37, 41], keyStart: [0, 3] },
    { name: 'decode over a padded cache', batch: 5, queries: 1, capacity: 60, heads: 4, kvHeads: 1, headDim: 7,
      queryOffset: [10, 59, 0, 33, 20], keyLength: [11, 60, 1, 34, 21], keyStart: [0, 7, 0, 30, 21] },
  ]) {
    add(`attention (${setting.name})`, (random) => {
      const { batch, queries, capacity, heads, kvHeads, headDim } = setting;
      const q = randomFloats(random, batch * queries * heads * headDim, 1.5);
      const k = randomFloats(random, batch * capacity * kvHeads * headDim, 1.5);
      const v = randomFloats(random, batch * capacity * kvHeads * headDim);
      const dout = randomFloats(random, batch * queries * heads * headDim);
      const options = { heads, keyValueHeads: kvHeads, headDim, queryOffset: setting.queryOffset, keyLength: setting.keyLength, keyStart: setting.keyStart };
      return async (device) => {
        const query = device.upload(q, [batch, queries, heads, headDim]);
        const key = device.upload(k, [batch, capacity, kvHeads, headDim]);
        const value = device.upload(v, [batch, capacity, kvHeads, headDim]);
        const out = device.allocate([batch, queries, heads, headDim]);
        const lse = device.allocate([batch, heads, queries]);
        device.attentionForward(query, key, value, out, lse, options);
        const dq = device.allocate([batch, queries, heads, headDim]);
        const dk = device.allocate([batch, capacity, kvHeads, headDim]);
        const dv = device.allocate([batch, capacity, kvHeads, headDim]);
        device.attentionBackward(device.upload(dout, [batch, queries, heads, headDim]), query, key, value, out, lse, dq, dk, dv, options);
        return { out: await floats(device, out), logSumExp: await floats(device, lse), dq: await floats(device, dq),
          dk: await floats(device, dk), dv: await floats(device, dv) };
      };
    });
  }
  add('swiglu on an odd count', (random) => {
    const count = pick(random, 2000, 5000) | 1;
    const gate = randomFloats(random, count, 6);
    const up = randomFloats(random, count);
    const dout = randomFloats(random, count);
    return async (device) => {
      const g = device.upload(gate, [count]);
      const u = device.upload(up, [count]);
      const out = device.allocate([count]);
      device.swigluForward(g, u, out);
      const dg = device.allocate([count]);
      const du = device.allocate([count]);
      device.swigluBackward(device.upload(dout, [count]), g, u, dg, du);
      return { out: await floats(device, out), dgate: await floats(device, dg), dup: await floats(device, du) };
    };
  });
  add('embedding with many repeated ids', (random) => {
    const [vocabulary, channels, rows] = [pick(random, 20, 50), pick(random, 30, 70) | 1, pick(random, 100, 200)];
    const ids = Int32Array.from({ length: rows }, () => Math.floor(random() * 5));
    const table = randomFloats(random, vocabulary * channels);
    const dout = randomFloats(random, rows * channels);
    return async (device) => {
      const index = device.upload(ids, [rows]);
      const out = device.allocate([rows, channels]);
      device.embeddingForward(index, device.upload(table, [vocabulary, channels]), out);
      const dtable = device.allocate([vocabulary, channels]);
      device.embeddingBackward(index, device.upload(dout, [rows, channels]), dtable);
      return { out: await floats(device, out), dtable: await floats(device, dtable) };
    };
  });
  add('token log-probs over a large odd vocabulary', (random) => {
    const [rows, vocabulary] = [pick(random, 5, 12), pick(random, 5000, 9000) | 1];
    const logits = randomFloats(random, rows * vocabulary, 8);
    const targets = Int32Array.from({ length: rows }, (_, n) => (n % 4 === 3 ? -1 : Math.floor(random() * vocabulary)));
    const dlogprobs = randomFloats(random, rows);
    return async (device) => {
      const l = device.upload(logits, [rows, vocabulary]);
      const t = device.upload(targets, [rows]);
      const logprobs = device.allocate([rows]);
      const lse = device.allocate([rows]);
      device.tokenLogProbsForward(l, t, logprobs, lse);
      const dlogits = device.allocate([rows, vocabulary]);
      device.tokenLogProbsBackward(device.upload(dlogprobs, [rows]), l, t, lse, dlogits);
      return { logprobs: await floats(device, logprobs), logSumExp: await floats(device, lse), dlogits: await floats(device, dlogits) };
    };
  });
  add('sumOfSquares over many chunks and adamw', (random) => {
    const sizes = [pick(random, 40000, 70000), 3, pick(random, 100, 300)];
    const tensors = sizes.map((size) => randomFloats(random, size));
    const count = pick(random, 3000, 6000) | 1;
    const [param, grad, m] = [randomFloats(random, count), randomFloats(random, count), randomFloats(random, count, 0.1)];
    const v = Float32Array.from(randomFloats(random, count, 0.01), Math.abs);
    return async (device) => {
      const sum = await device.sumOfSquares(tensors.map((values) => device.upload(values, [values.length])));
      const p = device.upload(param, [count]);
      const first = device.upload(m, [count]);
      const second = device.upload(v, [count]);
      device.adamw(p, device.upload(grad, [count]), first, second, { learningRate: 3e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, step: 7 });
      return { sumOfSquares: Float32Array.of(sum), param: await floats(device, p), m: await floats(device, first), v: await floats(device, second) };
    };
  });
  for (const options of [
    { temperature: 0.8, topK: 40, topP: 1 }, { temperature: 1, topK: 0, topP: 0.9 }, { temperature: 1.2, topK: 100, topP: 0.7 },
  ] satisfies SamplingKernelOptions[]) {
    add(`sample over a large vocabulary (topK=${options.topK} topP=${options.topP})`, (random) => {
      const [rows, vocabulary] = [24, 3001];
      const logits = randomFloats(random, rows * vocabulary, 4);
      const uniforms = Float32Array.from({ length: rows }, random);
      return async (device) => {
        const ids = device.allocate([rows], 'i32');
        device.sample(device.upload(logits, [rows, vocabulary]), device.upload(uniforms, [rows]), ids, options);
        return { ids: (await device.read(ids)) as Int32Array };
      };
    });
  }
  return cases;
}

const oracleCases = kernelCases(1);
const randomCases = [...randomShapeCases(11), ...randomShapeCases(12)];

for (const path of paths) {
  describe(`wasm device against the oracle, ${path.name}`, () => {
    for (const [label, cases] of [['standard', oracleCases], ['random shapes', randomCases]] as const) {
      for (const kernelCase of cases) {
        test.skipIf(path.blas && !blasFound)(`${label}: ${kernelCase.name}`, async () => {
          const { single, dual } = devicesOf.get(path.name)!;
          for (const device of [single, dual]) {
            const comparison = await compareWithOracle(device, kernelCase, float32Tolerance);
            expect(comparison.summary).toBe('');
            expect(comparison.passed).toBe(true);
          }
        });
      }
    }
  });

  describe(`one and two workers agree bit for bit, ${path.name}`, () => {
    test.skipIf(path.blas && !blasFound).each([['two workers', 'dual'], ['the host running units too', 'helped'], ['the host polling', 'polled']] as const)('every case, %s', async (_, name) => {
      const devices = devicesOf.get(path.name)!;
      for (const kernelCase of [...oracleCases, ...randomCases]) {
        const [one, two] = [await kernelCase.run(devices.single), await kernelCase.run(devices[name])];
        for (const [output, values] of Object.entries(one)) {
          const other = two[output]!;
          const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
          const otherBits = new Uint32Array(other.buffer, other.byteOffset, other.length);
          expect(`${kernelCase.name}/${output}: ${otherBits.length}`).toBe(`${kernelCase.name}/${output}: ${bits.length}`);
          let differing = 0;
          for (let i = 0; i < bits.length; i++) if (bits[i] !== otherBits[i]) differing++;
          expect(`${kernelCase.name}/${output}: ${differing} differ`).toBe(`${kernelCase.name}/${output}: 0 differ`);
        }
      }
    });
  });
}

describe('memory semantics', () => {
  test('write is ordered after queued kernels that read the tensor', async () => {
    const device = dual;
    const x = device.upload(Float32Array.from([1, 2, 3, 4, 5]), [5]);
    const out = device.allocate([5]);
    device.scale(x, 2, out);
    device.write(x, Float32Array.from([10, 20, 30, 40, 50]));
    device.add(out, x, out);
    expect(Array.from(await floats(device, out))).toEqual([12, 24, 36, 48, 60]);
    device.free(x);
    device.free(out);
  });

  test('freed blocks are reused only after the kernels using them ran', async () => {
    const device = dual;
    const live = device.liveTensorCount();
    const big = device.upload(randomFloats(createRandom(5), 300 * 300), [300, 300]);
    const out = device.allocate([300, 300]);
    device.matmul(big, big, out, 300, 300, 300);
    device.free(big);
    // This allocation must not reuse big's block while the matmul may still read it.
    const other = device.allocate([300, 300]);
    expect(Array.from(await floats(device, other)).every((value) => value === 0)).toBe(true);
    const reference = device.upload(randomFloats(createRandom(5), 300 * 300), [300, 300]);
    const expected = device.allocate([300, 300]);
    device.matmul(reference, reference, expected, 300, 300, 300);
    expect(Array.from(await floats(device, out))).toEqual(Array.from(await floats(device, expected)));
    for (const tensor of [out, other, reference, expected]) device.free(tensor);
    expect(device.liveTensorCount()).toBe(live);
  });

  test('more commands than ring slots run in order', async () => {
    const device = dual;
    const x = device.upload(Float32Array.from([1, -2.5, 3e-3]), [3]);
    const factor = Math.fround(1.0001);
    // Enqueued without waiting: the ring (4096 slots) wraps around twice and the host waits for room.
    for (let i = 0; i < 10000; i++) device.scale(x, factor, x);
    const expected = [1, -2.5, 3e-3].map((value) => {
      let current = Math.fround(value);
      for (let i = 0; i < 10000; i++) current = Math.fround(current * factor);
      return current;
    });
    expect(Array.from(await floats(device, x))).toEqual(expected);
    device.free(x);
  });

  test('a reused block is allocated zero-filled', async () => {
    const device = dual;
    const first = device.upload(new Float32Array(50000).fill(3), [50000]) as WasmTensor;
    await device.synchronize();
    device.free(first);
    await device.synchronize();
    const second = device.allocate([50000]) as WasmTensor;
    // First fit hands the same block back: this exercises the clearing of a used block, not fresh memory.
    expect(second.offset).toBe(first.offset);
    expect((await floats(device, second)).every((value) => value === 0)).toBe(true);
    device.free(second);
  });

  test('f16 and bf16 uploads are widened exactly', async () => {
    const device = single;
    // 1.5, -2, 65504 (largest f16), 2^-24 (smallest subnormal), infinity.
    const half = device.upload(Uint16Array.from([0x3e00, 0xc000, 0x7bff, 0x0001, 0x7c00]), [5], 'f16');
    expect(Array.from(await floats(device, half))).toEqual([1.5, -2, 65504, 2 ** -24, Number.POSITIVE_INFINITY]);
    const brain = device.upload(Uint16Array.from([0x3fc0, 0xc000, 0x4780]), [3], 'bf16');
    expect(Array.from(await floats(device, brain))).toEqual([1.5, -2, 65536]);
    expect(half.dtype).toBe('f32');
  });

  test.each([['two workers', () => dual], ['the host helping', () => helped]])('an out-of-range token id fails the read, and the device stays usable (%s)', async (_, chosen) => {
    const device = chosen();
    const ids = device.upload(Int32Array.from([0, 7]), [2]);
    const table = device.upload(randomFloats(createRandom(3), 4 * 3), [4, 3]);
    const out = device.allocate([2, 3]);
    device.embeddingForward(ids, table, out);
    let failure: unknown;
    try {
      await device.read(out);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(KernelFailure);
    expect(String(failure)).toMatch(/out of range/);
    device.write(ids, Int32Array.from([3, 1]));
    device.embeddingForward(ids, table, out);
    const values = Array.from(await floats(device, out));
    const rows = Array.from(await floats(device, table));
    expect(values).toEqual([...rows.slice(9, 12), ...rows.slice(3, 6)]);
  });

  test('a dead worker fails waits instead of hanging them', async () => {
    const device = await createWasmDevice({ threads: 1 });
    const x = device.upload(Float32Array.from([1, 2]), [2]);
    // Simulates a worker killed from outside; the pool must notice rather than wait for it forever.
    (device.pool as unknown as { workers: Worker[] }).workers[0]!.terminate();
    device.scale(x, 2, x);
    await expect(device.read(x)).rejects.toThrow(/kernel worker/);
    device.dispose();
  });

  test('shape mismatches are refused before anything is enqueued', () => {
    const device = single;
    const a = device.allocate([2, 3]);
    const b = device.allocate([4, 5]);
    expect(() => device.matmul(a, b, device.allocate([2, 5]), 2, 5, 3)).toThrow(/matmul sizes/);
    expect(() => device.add(a, b, a)).toThrow(/add of/);
    expect(() => dual.add(a, a, a)).toThrow(/another device/);
  });
});

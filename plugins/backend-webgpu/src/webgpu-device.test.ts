// Every kernel of the WebGPU device against the float64 oracle (@lsp/oracle): the standard cases, and random
// shapes chosen to leave tile and workgroup remainders, with the device's memory and submission edge cases.
// Without a WebGPU adapter the suite is skipped with the reason printed; on a machine with Mesa lavapipe it runs.
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { DeviceV1, SamplingKernelOptions, Tensor } from '@lsp/core';
import { compareWithOracle, createRandom, float32Tolerance, type KernelCase, kernelCases, randomFloats } from '@lsp/oracle';
import { isCpuEmulation } from './webgpu-adapter';
import { createWebgpuDevice, type WebgpuDevice } from './webgpu-device';

/**
 * Per-test limit. On a CPU emulation (lavapipe) a kernel's first dispatch compiles it, which takes seconds without
 * Mesa's shader cache; the limit only catches a hang, no test depends on it.
 */
const generous = 300_000;
setDefaultTimeout(generous);

const created = await createWebgpuDevice().then(
  (device) => ({ device, reason: '' }),
  (error: unknown) => ({ device: undefined, reason: error instanceof Error ? error.message : String(error) }),
);
if (!created.device) console.log(`webgpu device tests skipped: ${created.reason}`);
const available = created.device !== undefined;
/** The device every test shares (pipelines compile once per device, which dominates the suite's time on lavapipe). */
const device = created.device as WebgpuDevice;
/** A second device that submits every 3 dispatches and splits any dispatch over 64 workgroups across x and y. */
const chopped = available ? await createWebgpuDevice({ dispatchesPerSubmission: 3, maxWorkgroupsPerDimension: 64 }) : undefined;

/**
 * Devices binding at most 4 KiB and 16 KiB (1024 and 4096 f32): most tensors of the suite exceed them, so kernels
 * bind windows of them, most at offsets that are not a multiple of the 256-byte alignment.
 */
const windowed = available ? await createWebgpuDevice({ maxStorageBindingBytes: 4096 }) : undefined;
const windowedWider = available ? await createWebgpuDevice({ maxStorageBindingBytes: 16384 }) : undefined;

afterAll(() => {
  windowed?.dispose();
  windowedWider?.dispose();
  chopped?.dispose();
  created.device?.dispose();
});

async function floats(on: DeviceV1, tensor: Tensor): Promise<Float32Array> {
  return (await on.read(tensor)) as Float32Array;
}

/** Kernel cases on random shapes: odd sizes, matmuls with partial tiles, more keys than a 256-key chunk. */
function randomShapeCases(seed: number): KernelCase[] {
  const cases: KernelCase[] = [];
  const add = (name: string, build: (random: () => number) => KernelCase['run']) => {
    cases.push({ name: `${name} (seed ${seed})`, run: (on) => build(createRandom(seed))(on) });
  };
  const pick = (random: () => number, low: number, high: number) => low + Math.floor(random() * (high - low + 1));

  add('elementwise over several workgroups, odd sizes', (random) => {
    const count = pick(random, 2000, 4000) | 1;
    const [rows, row] = [pick(random, 30, 60), 37];
    const a = randomFloats(random, count);
    const b = randomFloats(random, count, 2);
    const matrix = randomFloats(random, rows * row);
    const bias = randomFloats(random, row);
    return async (on) => {
      const x = on.upload(a, [count]);
      const y = on.upload(b, [count]);
      const sum = on.allocate([count]);
      on.add(x, y, sum);
      const product = on.allocate([count]);
      on.multiply?.(sum, y, product);
      on.scale(product, -0.625, product);
      const m = on.upload(matrix, [rows, row]);
      on.add(m, on.upload(bias, [row]), m);
      const columns = on.upload(bias, [row]);
      on.sumRows(m, columns);
      const swish = on.allocate([count]);
      on.swigluForward(x, y, swish);
      return { sum: await floats(on, sum), product: await floats(on, product), biased: await floats(on, m), columns: await floats(on, columns), swish: await floats(on, swish) };
    };
  });
  for (const [m, n, k, batch] of [[1, 300, 257, 1], [130, 67, 200, 1], [65, 129, 63, 3], [3, 5, 1, 2]] as const) {
    add(`matmul ${batch} x ${m} x ${n} x ${k}, every transpose`, (random) => {
      const a = randomFloats(random, batch * m * k);
      const b = randomFloats(random, batch * k * n);
      const start = randomFloats(random, batch * m * n);
      return async (on) => {
        const outputs: Record<string, Float32Array> = {};
        const left = on.upload(a, [a.length]);
        const right = on.upload(b, [b.length]);
        for (const transposeA of [false, true]) {
          for (const transposeB of [false, true]) {
            const out = on.upload(start, [batch, m, n]);
            on.matmul(left, right, out, m, n, k, { transposeA, transposeB, batch, alpha: 0.75, accumulate: transposeA });
            outputs[`A${transposeA ? 'T' : ''} B${transposeB ? 'T' : ''}`] = await floats(on, out);
          }
        }
        const shared = on.allocate([batch, m, n]);
        on.matmul(left, on.upload(b.subarray(0, k * n), [k, n]), shared, m, n, k, { batch, broadcastB: true });
        outputs.broadcast = await floats(on, shared);
        return outputs;
      };
    });
  }
  add('rmsnorm over wide odd rows', (random) => {
    const [rows, channels] = [pick(random, 5, 20), pick(random, 500, 900) | 1];
    const x = randomFloats(random, rows * channels, 3);
    const w = randomFloats(random, channels);
    const dout = randomFloats(random, rows * channels);
    return async (on) => {
      const input = on.upload(x, [rows, channels]);
      const weight = on.upload(w, [channels]);
      const out = on.allocate([rows, channels]);
      const rstd = on.allocate([rows]);
      on.rmsnormForward(input, weight, out, rstd, 1e-6);
      const dx = on.allocate([rows, channels]);
      const dw = on.allocate([channels]);
      on.rmsnormBackward(on.upload(dout, [rows, channels]), input, weight, rstd, dx, dw);
      return { out: await floats(on, out), rstd: await floats(on, rstd), dx: await floats(on, dx), dweight: await floats(on, dw) };
    };
  });
  add('rope with an odd half dimension, forward and inverse in place', (random) => {
    const [rows, heads, headDim, maxPosition] = [pick(random, 10, 30), 5, 2 * pick(random, 5, 11), 50];
    const x = randomFloats(random, rows * heads * headDim);
    const positions = Int32Array.from({ length: rows }, () => Math.floor(random() * maxPosition));
    const angles = Float32Array.from({ length: maxPosition * headDim / 2 }, (_, i) => Math.floor(i / (headDim / 2)) * 0.01 * (1 + (i % (headDim / 2))));
    return async (on) => {
      const p = on.upload(positions, [rows]);
      const c = on.upload(angles.map(Math.cos), [maxPosition, headDim / 2]);
      const s = on.upload(angles.map(Math.sin), [maxPosition, headDim / 2]);
      const input = on.upload(x, [rows, heads, headDim]);
      on.rope(input, p, c, s, input, heads);
      const once = await floats(on, input);
      on.rope(input, p, c, s, input, heads, true);
      return { once, back: await floats(on, input) };
    };
  });
  for (const setting of [
    { name: 'prefill over more keys than a chunk, 3 query heads per key head', batch: 2, queries: 70, capacity: 300, heads: 6, kvHeads: 2, headDim: 24,
      queryOffset: [230, 200], keyLength: [300, 270], keyStart: [0, 17] },
    { name: 'decode over a padded cache, head_dim 96', batch: 4, queries: 1, capacity: 280, heads: 4, kvHeads: 1, headDim: 96,
      queryOffset: [10, 279, 0, 150], keyLength: [11, 280, 1, 151], keyStart: [0, 7, 0, 151] },
  ]) {
    add(`attention (${setting.name})`, (random) => {
      const { batch, queries, capacity, heads, kvHeads, headDim } = setting;
      const q = randomFloats(random, batch * queries * heads * headDim, 1.5);
      const k = randomFloats(random, batch * capacity * kvHeads * headDim, 1.5);
      const v = randomFloats(random, batch * capacity * kvHeads * headDim);
      const dout = randomFloats(random, batch * queries * heads * headDim);
      const options = { heads, keyValueHeads: kvHeads, headDim, queryOffset: setting.queryOffset, keyLength: setting.keyLength, keyStart: setting.keyStart };
      return async (on) => {
        const query = on.upload(q, [batch, queries, heads, headDim]);
        const key = on.upload(k, [batch, capacity, kvHeads, headDim]);
        const value = on.upload(v, [batch, capacity, kvHeads, headDim]);
        const out = on.allocate([batch, queries, heads, headDim]);
        const lse = on.allocate([batch, heads, queries]);
        on.attentionForward(query, key, value, out, lse, options);
        const dq = on.allocate([batch, queries, heads, headDim]);
        const dk = on.allocate([batch, capacity, kvHeads, headDim]);
        const dv = on.allocate([batch, capacity, kvHeads, headDim]);
        on.attentionBackward(on.upload(dout, [batch, queries, heads, headDim]), query, key, value, out, lse, dq, dk, dv, options);
        return { out: await floats(on, out), logSumExp: await floats(on, lse), dq: await floats(on, dq), dk: await floats(on, dk), dv: await floats(on, dv) };
      };
    });
  }
  add('swiglu backward on an odd count', (random) => {
    const count = pick(random, 3000, 5000) | 1;
    const [gate, up, dout, start] = [randomFloats(random, count, 6), randomFloats(random, count), randomFloats(random, count), randomFloats(random, count)];
    return async (on) => {
      const dg = on.upload(start, [count]);
      const du = on.upload(start, [count]);
      on.swigluBackward(on.upload(dout, [count]), on.upload(gate, [count]), on.upload(up, [count]), dg, du);
      return { dgate: await floats(on, dg), dup: await floats(on, du) };
    };
  });
  add('embedding with repeated ids over more rows than a chunk and a row wider than one pass', (random) => {
    const [vocabulary, rows] = [pick(random, 20, 40), pick(random, 300, 600)];
    const channels = 2049 + pick(random, 0, 100);
    const ids = Int32Array.from({ length: rows }, () => Math.floor(random() * 6) * 3);
    const table = randomFloats(random, vocabulary * channels);
    const dout = randomFloats(random, rows * channels);
    const start = randomFloats(random, vocabulary * channels);
    return async (on) => {
      const index = on.upload(ids, [rows]);
      const out = on.allocate([rows, channels]);
      on.embeddingForward(index, on.upload(table, [vocabulary, channels]), out);
      const dtable = on.upload(start, [vocabulary, channels]);
      on.embeddingBackward(index, on.upload(dout, [rows, channels]), dtable);
      return { out: await floats(on, out), dtable: await floats(on, dtable) };
    };
  });
  add('token log-probs over a large odd vocabulary', (random) => {
    const [rows, vocabulary] = [pick(random, 5, 12), pick(random, 5000, 9000) | 1];
    const logits = randomFloats(random, rows * vocabulary, 8);
    const targets = Int32Array.from({ length: rows }, (_, n) => (n % 4 === 3 ? -1 : Math.floor(random() * vocabulary)));
    const dlogprobs = randomFloats(random, rows);
    return async (on) => {
      const l = on.upload(logits, [rows, vocabulary]);
      const t = on.upload(targets, [rows]);
      const logprobs = on.allocate([rows]);
      const lse = on.allocate([rows]);
      on.tokenLogProbsForward(l, t, logprobs, lse);
      const dlogits = on.allocate([rows, vocabulary]);
      on.tokenLogProbsBackward(on.upload(dlogprobs, [rows]), l, t, lse, dlogits);
      return { logprobs: await floats(on, logprobs), logSumExp: await floats(on, lse), dlogits: await floats(on, dlogits) };
    };
  });
  add('sumOfSquares over many workgroups and adamw', (random) => {
    const sizes = [pick(random, 40000, 70000), 3, pick(random, 2000, 3000)];
    const tensors = sizes.map((size) => randomFloats(random, size));
    const count = pick(random, 3000, 6000) | 1;
    const [param, grad, m] = [randomFloats(random, count), randomFloats(random, count), randomFloats(random, count, 0.1)];
    const v = Float32Array.from(randomFloats(random, count, 0.01), Math.abs);
    return async (on) => {
      const sum = await on.sumOfSquares(tensors.map((values) => on.upload(values, [values.length])));
      const p = on.upload(param, [count]);
      const first = on.upload(m, [count]);
      const second = on.upload(v, [count]);
      on.adamw(p, on.upload(grad, [count]), first, second, { learningRate: 3e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, step: 7, gradientScale: 0.25 });
      return { sumOfSquares: Float32Array.of(sum), param: await floats(on, p), m: await floats(on, first), v: await floats(on, second) };
    };
  });
  for (const options of [
    { temperature: 0, topK: 0, topP: 1 }, { temperature: 0.8, topK: 40, topP: 1 }, { temperature: 1, topK: 0, topP: 0.9 }, { temperature: 1.2, topK: 100, topP: 0.7 },
  ] satisfies SamplingKernelOptions[]) {
    add(`sample over a large vocabulary (temperature=${options.temperature} topK=${options.topK} topP=${options.topP})`, (random) => {
      const [rows, vocabulary] = [12, 3001];
      const logits = randomFloats(random, rows * vocabulary, 4);
      const uniforms = Float32Array.from({ length: rows }, random);
      return async (on) => {
        const ids = on.allocate([rows], 'i32');
        on.sample(on.upload(logits, [rows, vocabulary]), on.upload(uniforms, [rows]), ids, options);
        return { ids: (await on.read(ids)) as Int32Array };
      };
    });
  }
  for (const options of [
    { temperature: 1, topK: 7, topP: 1 }, { temperature: 0.9, topK: 0, topP: 0.6 }, { temperature: 1.1, topK: 12, topP: 0.8 }, { temperature: 0, topK: 0, topP: 1 },
  ] satisfies SamplingKernelOptions[]) {
    add(`sample over logits with many ties (temperature=${options.temperature} topK=${options.topK} topP=${options.topP})`, (random) => {
      const [rows, vocabulary] = [16, 517];
      // Logits on a grid of halves: many tokens share each value, so the top-k and top-p cuts fall inside ties.
      const logits = Float32Array.from(randomFloats(random, rows * vocabulary, 3), (value) => Math.round(value * 2) / 2);
      const uniforms = Float32Array.from({ length: rows }, random);
      return async (on) => {
        const ids = on.allocate([rows], 'i32');
        on.sample(on.upload(logits, [rows, vocabulary]), on.upload(uniforms, [rows]), ids, options);
        return { ids: (await on.read(ids)) as Int32Array };
      };
    });
  }
  return cases;
}

/**
 * Cases for a device binding at most 1024 elements: a linear layer whose weight (B, transposed) and gradient span
 * many windows, an embedding table with ids in every window and repeated ids, adamw and sumOfSquares over many
 * windows, copies at unaligned offsets, and log-probs and sampling over logits of many windows.
 */
function windowedCases(seed: number): KernelCase[] {
  const random = createRandom(seed);
  const cases: KernelCase[] = [];
  const [tokens, channels, vocabulary] = [7, 37, 300];
  const x = randomFloats(random, tokens * channels);
  const weight = randomFloats(random, vocabulary * channels);
  const dlogits = randomFloats(random, tokens * vocabulary);
  const start = randomFloats(random, vocabulary * channels);
  cases.push({
    name: 'linear layer: logits = x W^T, dW += dlogits^T x, dx = dlogits W, W of 300 x 37 over 12 windows',
    run: async (on) => {
      const input = on.upload(x, [tokens, channels]);
      const w = on.upload(weight, [vocabulary, channels]);
      const logits = on.allocate([tokens, vocabulary]);
      on.matmul(input, w, logits, tokens, vocabulary, channels, { transposeB: true });
      const gradient = on.upload(dlogits, [tokens, vocabulary]);
      const dw = on.upload(start, [vocabulary, channels]);
      on.matmul(gradient, input, dw, vocabulary, channels, tokens, { transposeA: true, accumulate: true, alpha: 0.5 });
      const dx = on.allocate([tokens, channels]);
      on.matmul(gradient, w, dx, tokens, channels, vocabulary);
      return { logits: await floats(on, logits), dweight: await floats(on, dw), dx: await floats(on, dx) };
    },
  });
  // Every window of 25 rows holds ids; 0, 150 and 299 repeat.
  const ids = Int32Array.from([0, 299, 150, 150, 13, 299, 0, ...Array.from({ length: 24 }, (_, i) => 7 + i * 12), 150, 0]);
  const dout = randomFloats(random, ids.length * channels);
  cases.push({
    name: 'embedding table of 300 x 37 over 12 windows, ids in every window, repeated',
    run: async (on) => {
      const table = on.upload(weight, [vocabulary, channels]);
      const index = on.upload(ids, [ids.length]);
      const out = on.allocate([ids.length, channels]);
      on.embeddingForward(index, table, out);
      const dtable = on.upload(start, [vocabulary, channels]);
      on.embeddingBackward(index, on.upload(dout, [ids.length, channels]), dtable);
      return { out: await floats(on, out), dtable: await floats(on, dtable) };
    },
  });
  const count = 37 * 271;
  const [param, grad, m] = [randomFloats(random, count), randomFloats(random, count), randomFloats(random, count, 0.1)];
  const v = Float32Array.from(randomFloats(random, count, 0.01), Math.abs);
  cases.push({
    name: 'adamw and sumOfSquares over 10027 elements (11 windows), elementwise kernels and fill',
    run: async (on) => {
      const p = on.upload(param, [count]);
      const g = on.upload(grad, [count]);
      const sum = await on.sumOfSquares([p, on.upload(x, [x.length]), g]);
      const first = on.upload(m, [count]);
      const second = on.upload(v, [count]);
      on.adamw(p, g, first, second, { learningRate: 3e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, step: 3, gradientScale: 0.5 });
      const mixed = on.allocate([count]);
      on.add(p, g, mixed);
      on.add(mixed, on.upload(x.subarray(0, channels), [channels]), mixed);
      on.multiply?.(mixed, first, mixed);
      on.scale(mixed, 1.5, mixed);
      const swish = on.allocate([count]);
      on.swigluForward(p, g, swish);
      on.swigluBackward(g, p, first, swish, second);
      const filled = on.allocate([count]);
      on.fill(filled, 0.25);
      return { sumOfSquares: Float32Array.of(sum), param: await floats(on, p), m: await floats(on, first), v: await floats(on, second), mixed: await floats(on, mixed), swish: await floats(on, swish), filled: await floats(on, filled) };
    },
  });
  const source = randomFloats(random, 5000);
  cases.push({
    name: 'copy and copyRows of large tensors at unaligned offsets',
    run: async (on) => {
      const from = on.upload(source, [5000]);
      const whole = on.allocate([6000]);
      on.copy(from, whole, 17, 123, 4500);
      const strided = on.allocate([2400]);
      on.copyRows(from, strided, 7, 300, 13, 601, 5, 333);
      const small = on.allocate([40]);
      on.copyRows(from, small, 4, 10, 4001, 250, 0, 10);
      const back = on.allocate([5000]);
      on.copyRows(small, back, 4, 10, 0, 10, 1333, 1000);
      return { whole: await floats(on, whole), strided: await floats(on, strided), small: await floats(on, small), back: await floats(on, back) };
    },
  });
  const [rows, words] = [40, 211];
  const logits = randomFloats(random, rows * words, 4);
  const targets = Int32Array.from({ length: rows }, (_, n) => (n % 5 === 4 ? -1 : Math.floor(random() * words)));
  const dlogprobs = randomFloats(random, rows);
  const draws = Float32Array.from({ length: rows }, random);
  cases.push({
    name: 'token log-probs and sampling over logits of 40 x 211 (9 windows)',
    run: async (on) => {
      const l = on.upload(logits, [rows, words]);
      const t = on.upload(targets, [rows]);
      const logprobs = on.allocate([rows]);
      const lse = on.allocate([rows]);
      on.tokenLogProbsForward(l, t, logprobs, lse);
      const d = on.allocate([rows, words]);
      on.tokenLogProbsBackward(on.upload(dlogprobs, [rows]), l, t, lse, d);
      const sampled = on.allocate([rows], 'i32');
      on.sample(l, on.upload(draws, [rows]), sampled, { temperature: 0.9, topK: 50, topP: 0.9 });
      const greedy = on.allocate([rows], 'i32');
      on.sample(l, on.upload(draws, [rows]), greedy, { temperature: 0, topK: 0, topP: 1 });
      return { logprobs: await floats(on, logprobs), logSumExp: await floats(on, lse), dlogits: await floats(on, d), sampled: (await on.read(sampled)) as Int32Array, greedy: (await on.read(greedy)) as Int32Array };
    },
  });
  return cases;
}

const oracleCases = kernelCases(1);
const randomCases = [...randomShapeCases(21), ...randomShapeCases(22)];

describe.skipIf(!available)('webgpu device against the oracle', () => {
  for (const [label, cases] of [['standard', oracleCases], ['random shapes', randomCases]] as const) {
    for (const kernelCase of cases) {
      test(`${label}: ${kernelCase.name}`, async () => {
        const comparison = await compareWithOracle(device, kernelCase, float32Tolerance);
        expect(comparison.summary).toBe('');
        expect(comparison.passed).toBe(true);
      });
    }
  }
  test('large tensors bound in windows: a linear layer, an embedding table, adamw, sumOfSquares, copies, log-probs, sampling', async () => {
    for (const kernelCase of windowedCases(31)) {
      const comparison = await compareWithOracle(windowed!, kernelCase, float32Tolerance);
      expect(`${kernelCase.name}: ${comparison.summary}`).toBe(`${kernelCase.name}: `);
    }
  });
  test('every case on devices binding at most 4 KiB and 16 KiB: equal to the oracle, or refused in one line by a kernel that does not split', async () => {
    const refused: string[] = [];
    for (const [on, cases] of [[windowed!, oracleCases], [windowedWider!, [...oracleCases, ...randomCases]]] as const) {
      for (const kernelCase of cases) {
        const comparison = await compareWithOracle(on, kernelCase, float32Tolerance).catch((error: unknown) => error);
        if (!(comparison instanceof Error)) {
          expect(`${kernelCase.name}: ${(comparison as { summary: string }).summary}`).toBe(`${kernelCase.name}: `);
        } else {
          const message = comparison.message;
          // Attention binds whole tensors; a row of the row-wise kernels must fit one window.
          expect(message).toMatch(/^webgpu device: (attention-(forward|backward) cannot bind a tensor of \d+ elements \(\d+ bytes\) whole|\w+ (x|logits): a row of \d+ elements \(\d+ bytes\) does not fit)/);
          refused.push(`${on.info.limits.maxStorageBufferBindingSize}: ${kernelCase.name}`);
        }
      }
    }
    // Most cases run split; the refusals are the kernels above.
    expect(refused.length).toBeLessThan(oracleCases.length / 2);
  });
  test('standard cases with a submission every 3 dispatches and dispatches split across x and y', async () => {
    for (const kernelCase of oracleCases) {
      const comparison = await compareWithOracle(chopped!, kernelCase, float32Tolerance);
      expect(comparison.summary).toBe('');
    }
  });
});

describe.skipIf(!available)('webgpu device memory and submission', () => {
  test('the adapter is described, and a CPU emulation is told from a GPU', () => {
    expect(device.info.kind).toBe('gpu');
    expect(device.info.description).toContain('vulkan');
    expect(device.info.cpuEmulation).toBe(isCpuEmulation(device.info.adapter));
    expect(isCpuEmulation({ vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15', description: 'llvmpipe: Mesa 25.0.7' })).toBe(true);
    expect(isCpuEmulation({ vendor: 'google', device: 'SwiftShader Device (Subzero)', description: 'SwiftShader' })).toBe(true);
    expect(isCpuEmulation({ vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H100 80GB HBM3', description: 'NVIDIA: 560.35', type: 'discrete GPU' })).toBe(false);
  });

  test('a write is ordered after queued kernels that read the tensor', async () => {
    const x = device.upload(Float32Array.from([1, 2, 3, 4, 5]), [5]);
    const out = device.allocate([5]);
    device.scale(x, 2, out);
    device.write(x, Float32Array.from([10, 20, 30, 40, 50]));
    device.add(out, x, out);
    expect(Array.from(await floats(device, out))).toEqual([12, 24, 36, 48, 60]);
    device.free(x);
    device.free(out);
  });

  test('a freed buffer is reused, zero-filled, and the kernels queued on it before still see their data', async () => {
    const live = device.liveTensorCount();
    const values = randomFloats(createRandom(5), 150 * 150);
    const big = device.upload(values, [150, 150]);
    const out = device.allocate([150, 150]);
    device.matmul(big, big, out, 150, 150, 150);
    device.free(big);
    // Same size class: the pool hands big's buffer back only once the matmul reading it has been submitted.
    const other = device.upload(new Float32Array(150 * 150).fill(7), [150, 150]);
    const zeroed = device.allocate([150, 150]);
    expect(Array.from(await floats(device, zeroed)).every((value) => value === 0)).toBe(true);
    expect(Array.from(await floats(device, other)).every((value) => value === 7)).toBe(true);
    const reference = device.upload(values, [150, 150]);
    const expected = device.allocate([150, 150]);
    device.matmul(reference, reference, expected, 150, 150, 150);
    expect(Array.from(await floats(device, out))).toEqual(Array.from(await floats(device, expected)));
    for (const tensor of [out, other, zeroed, reference, expected]) device.free(tensor);
    expect(device.liveTensorCount()).toBe(live);
    expect(device.pooledByteCount()).toBeGreaterThan(0);
    await device.synchronize();
  });

  test('with a tiny pool, buffers submitted work still reads are retired, not destroyed', async () => {
    // poolBytes 0: every free trims the pool, destroying only buffers no unfinished submission names.
    const tight = await createWebgpuDevice({ poolBytes: 0, dispatchesPerSubmission: 2 });
    try {
      const values = randomFloats(createRandom(9), 96 * 96);
      let expected: Float32Array | undefined;
      for (let round = 0; round < 3; round++) {
        const a = tight.upload(values, [96, 96]);
        const product = tight.allocate([96, 96]);
        tight.matmul(a, a, product, 96, 96, 96);
        const sum = tight.allocate([96, 96]);
        tight.add(product, a, sum);
        tight.free(a);
        tight.free(product);
        const result = await floats(tight, sum);
        tight.free(sum);
        expected ??= result;
        expect(Array.from(result)).toEqual(Array.from(expected));
      }
      await tight.synchronize();
      expect(tight.liveTensorCount()).toBe(0);
    } finally {
      tight.dispose();
    }
  });

  test('a read after thousands of queued kernels sees all of them, in order', async () => {
    const x = device.upload(Float32Array.from([1, -2.5, 3e-3]), [3]);
    const factor = Math.fround(1.0001);
    for (let i = 0; i < 3000; i++) device.scale(x, factor, x);
    const expected = [1, -2.5, 3e-3].map((value) => {
      let current = Math.fround(value);
      for (let i = 0; i < 3000; i++) current = Math.fround(current * factor);
      return current;
    });
    expect(Array.from(await floats(device, x))).toEqual(expected);
    device.free(x);
  });

  test('new shapes compile no new pipelines', async () => {
    const run = async (size: number) => {
      const a = device.upload(randomFloats(createRandom(size), size * size), [size, size]);
      const out = device.allocate([size, size]);
      device.matmul(a, a, out, size, size, size, { transposeB: true });
      device.add(out, a, out);
      await floats(device, out);
      device.free(a);
      device.free(out);
    };
    await run(17);
    const count = device.pipelineCount();
    await run(33);
    await run(70);
    expect(device.pipelineCount()).toBe(count);
  });

  test('a tensor over the largest buffer is refused with one clear line; one over the largest binding is bound in windows', async () => {
    const largest = device.info.limits.maxBufferSize;
    expect(() => device.allocate([Math.floor(largest / 4) + 1])).toThrow(/exceeds this adapter's largest buffer \(maxBufferSize \d+ bytes\)/);
    const small = await createWebgpuDevice({ maxStorageBindingBytes: 4096 });
    try {
      const big = small.upload(new Float32Array(2000).fill(2), [2000]);
      small.scale(big, 3, big);
      expect(Array.from(await floats(small, big)).every((value) => value === 6)).toBe(true);
      // A kernel that splits by rows refuses a row longer than one window, naming the kernel and the sizes.
      const rstd = small.allocate([1]);
      expect(() => small.rmsnormForward(big, big, small.allocate([2000]), rstd, 1e-5))
        .toThrow(/^webgpu device: rmsnormForward x: a row of 2000 elements \(8000 bytes\) does not fit one storage binding \(4096 bytes, less up to 252 for the offset alignment\)$/);
    } finally {
      small.dispose();
    }
    expect(device.info.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
  });

  test('f16 and bf16 uploads are widened exactly; i32 tensors copy and fill', async () => {
    const half = device.upload(Uint16Array.from([0x3e00, 0xc000, 0x7bff, 0x0001, 0x7c00]), [5], 'f16');
    expect(Array.from(await floats(device, half))).toEqual([1.5, -2, 65504, 2 ** -24, Number.POSITIVE_INFINITY]);
    const brain = device.upload(Uint16Array.from([0x3fc0, 0xc000, 0x4780]), [3], 'bf16');
    expect(Array.from(await floats(device, brain))).toEqual([1.5, -2, 65536]);
    expect(half.dtype).toBe('f32');
    const ids = device.upload(Int32Array.from([5, -7, 9]), [3]);
    const copied = device.allocate([5], 'i32');
    device.fill(copied, -1);
    device.copy(ids, copied, 1, 2, 2);
    expect(Array.from(await device.read(copied))).toEqual([-1, -1, -7, 9, -1]);
  });

  test('sumOfSquares propagates NaN and Infinity', async () => {
    const finite = device.upload(Float32Array.from([3, 4]), [2]);
    expect(await device.sumOfSquares([finite])).toBe(25);
    expect(await device.sumOfSquares([finite, device.upload(Float32Array.from([1, Number.POSITIVE_INFINITY]), [2])])).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(await device.sumOfSquares([device.upload(Float32Array.from([Number.NaN, 1]), [2]), finite]))).toBe(true);
    expect(await device.sumOfSquares([])).toBe(0);
  });

  test('an out-of-range token id reads a zero row instead of stray memory', async () => {
    const table = device.upload(Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]);
    const out = device.allocate([2, 2]);
    device.embeddingForward(device.upload(Int32Array.from([2, 9]), [2]), table, out);
    expect(Array.from(await floats(device, out))).toEqual([5, 6, 0, 0]);
    // The same with the table and the output in windows: the first table window writes the zero rows.
    const rows = Float32Array.from({ length: 300 * 37 }, (_, i) => 1 + Math.floor(i / 37));
    const big = windowed!.allocate([40, 37]);
    windowed!.embeddingForward(windowed!.upload(Int32Array.from({ length: 40 }, (_, n) => (n % 3 === 0 ? [-1, 300, 1000][n % 9 / 3]! : n * 7)), [40]), windowed!.upload(rows, [300, 37]), big);
    const values = await floats(windowed!, big);
    for (let n = 0; n < 40; n++) expect(values[n * 37 + 36]).toBe(n % 3 === 0 ? 0 : 1 + n * 7);
  });

  test('shape mismatches and aliasing are refused before anything is recorded', () => {
    const a = device.allocate([2, 3]);
    const b = device.allocate([4, 5]);
    expect(() => device.matmul(a, b, device.allocate([2, 5]), 2, 5, 3)).toThrow(/matmul sizes/);
    expect(() => device.add(a, b, a)).toThrow(/add of/);
    const square = device.allocate([3, 3]);
    expect(() => device.matmul(square, square, square, 3, 3, 3)).toThrow(/aliases/);
    expect(() => device.swigluForward(a, a, a)).toThrow(/shares memory/);
    expect(() => chopped!.add(a, a, a)).toThrow(/another device/);
    device.free(a);
    expect(() => device.scale(a, 2, b)).toThrow(/after free/);
  });
});

describe.skipIf(!available)('process lifetime', () => {
  test('a process that creates and disposes a device exits by itself', async () => {
    const script = `import { createWebgpuDevice } from ${JSON.stringify(new URL('./webgpu-device.ts', import.meta.url).pathname)};
const device = await createWebgpuDevice();
const x = device.upload(Float32Array.from([1, 2, 3]), [3]);
device.scale(x, 2, x);
const values = await device.read(x);
device.dispose();
console.log(Array.from(values).join(','));`;
    const child = Bun.spawn(['bun', '--eval', script], { stdout: 'pipe', stderr: 'pipe', cwd: new URL('..', import.meta.url).pathname });
    const code = await child.exited;
    const output = await new Response(child.stdout).text();
    expect(output.trim()).toBe('2,4,6');
    expect(code).toBe(0);
  });
});

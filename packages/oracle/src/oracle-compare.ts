// Comparing a device against the oracle: a set of kernel cases on random shapes (edge cases included) that a
// backend's tests run through `compareWithOracle`, and the comparison itself.
import type { DeviceV1, Tensor } from '@lsp/core';
import { createOracleDevice } from './oracle-device';

/** A seeded uniform [0, 1) generator (mulberry32): the same seed gives the same numbers everywhere. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform numbers in [-scale, scale), as float32. */
export function randomFloats(random: () => number, count: number, scale = 1): Float32Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = (random() * 2 - 1) * scale;
  return values;
}

/** One kernel call on fixed inputs: `run` uploads the inputs, calls the kernel and reads back the outputs. */
export interface KernelCase {
  name: string;
  run(device: DeviceV1): Promise<Record<string, Float32Array | Int32Array>>;
  /** An optional DeviceV1 method the case exercises: a device without it skips the case (reported as skipped). */
  requires?: 'multiply';
}

export interface Tolerance {
  /** |x - reference| <= absolute + relative * |reference|. */
  absolute: number;
  relative: number;
}

export interface OutputComparison {
  output: string;
  maxAbsoluteDifference: number;
  /** Index of the element furthest outside the tolerance (or the largest difference when all pass). */
  worstIndex: number;
  mismatches: number;
  passed: boolean;
}

export interface Comparison {
  name: string;
  outputs: OutputComparison[];
  passed: boolean;
  /** Why the case did not run (an optional method the device lacks). */
  skipped?: string;
  /** One line per failing output, for test messages. */
  summary: string;
}

export const float32Tolerance: Tolerance = { absolute: 1e-5, relative: 1e-4 };

/** Runs a case on `device` and on a fresh oracle and compares every output (integers exactly). */
export async function compareWithOracle(
  device: DeviceV1, kernelCase: KernelCase, tolerance: Tolerance = float32Tolerance,
): Promise<Comparison> {
  if (kernelCase.requires && typeof device[kernelCase.requires] !== 'function') {
    return { name: kernelCase.name, outputs: [], passed: true, skipped: `the device has no ${kernelCase.requires}`, summary: '' };
  }
  const oracle = createOracleDevice();
  const expected = await kernelCase.run(oracle);
  oracle.dispose();
  const actual = await kernelCase.run(device);
  const outputs: OutputComparison[] = [];
  for (const [output, reference] of Object.entries(expected)) {
    const values = actual[output];
    if (values === undefined || values.length !== reference.length) {
      outputs.push({ output, maxAbsoluteDifference: Number.POSITIVE_INFINITY, worstIndex: -1, mismatches: 1, passed: false });
      continue;
    }
    const exact = reference instanceof Int32Array;
    let maxAbsoluteDifference = 0;
    let worstIndex = -1;
    let worstExcess = Number.NEGATIVE_INFINITY;
    let mismatches = 0;
    for (let i = 0; i < reference.length; i++) {
      const difference = Math.abs(values[i]! - reference[i]!);
      const allowed = exact ? 0 : tolerance.absolute + tolerance.relative * Math.abs(reference[i]!);
      const bad = !(difference <= allowed);
      if (bad) mismatches++;
      if (difference > maxAbsoluteDifference || Number.isNaN(difference)) maxAbsoluteDifference = difference;
      if (difference - allowed > worstExcess || Number.isNaN(difference)) {
        worstExcess = Number.isNaN(difference) ? Number.POSITIVE_INFINITY : difference - allowed;
        worstIndex = i;
      }
    }
    outputs.push({ output, maxAbsoluteDifference, worstIndex, mismatches, passed: mismatches === 0 });
  }
  const failing = outputs.filter((output) => !output.passed);
  const summary = failing
    .map((output) => {
      const index = output.worstIndex;
      const got = index >= 0 ? actual[output.output]?.[index] : undefined;
      const want = index >= 0 ? expected[output.output]?.[index] : undefined;
      return `${kernelCase.name}: ${output.output}: ${output.mismatches} mismatches, max |diff| ` +
        `${output.maxAbsoluteDifference}, worst at ${index}: got ${got}, oracle ${want}`;
    })
    .join('\n');
  return { name: kernelCase.name, outputs, passed: failing.length === 0, summary };
}

async function readFloats(device: DeviceV1, tensor: Tensor): Promise<Float32Array> {
  return (await device.read(tensor)) as Float32Array;
}

/**
 * The standard cases: every kernel on small random shapes, including transposes, batches, accumulation,
 * grouped-query heads, KV-cache offsets and left padding. Inputs depend only on `seed`.
 */
export function kernelCases(seed = 1): KernelCase[] {
  const cases: KernelCase[] = [];
  const add = (name: string, build: (random: () => number) => KernelCase['run'], requires?: KernelCase['requires']) => {
    cases.push({ name, run: (device) => build(createRandom(seed))(device), ...(requires ? { requires } : {}) });
  };

  add('add (same size)', (random) => {
    const a = randomFloats(random, 37);
    const b = randomFloats(random, 37);
    return async (device) => {
      const out = device.allocate([37]);
      device.add(device.upload(a, [37]), device.upload(b, [37]), out);
      return { out: await readFloats(device, out) };
    };
  });
  add('add (row broadcast, in place)', (random) => {
    const a = randomFloats(random, 5 * 12);
    const b = randomFloats(random, 12);
    return async (device) => {
      const x = device.upload(a, [5, 12]);
      device.add(x, device.upload(b, [12]), x);
      return { out: await readFloats(device, x) };
    };
  });
  add('scale and fill', (random) => {
    const a = randomFloats(random, 19);
    return async (device) => {
      const x = device.upload(a, [19]);
      const out = device.allocate([19]);
      device.scale(x, -0.37, out);
      const filled = device.allocate([7]);
      device.fill(filled, 2.5);
      return { out: await readFloats(device, out), filled: await readFloats(device, filled) };
    };
  });
  add('multiply (odd size, in place)', (random) => {
    const a = randomFloats(random, 1029);
    const b = randomFloats(random, 1029, 3);
    return async (device) => {
      const x = device.upload(a, [1029]);
      const out = device.allocate([1029]);
      device.multiply!(x, device.upload(b, [1029]), out);
      device.multiply!(x, device.upload(b, [1029]), x);
      return { out: await readFloats(device, out), inPlace: await readFloats(device, x) };
    };
  }, 'multiply');
  add('sumRows (accumulating)', (random) => {
    const a = randomFloats(random, 9 * 6);
    const start = randomFloats(random, 6);
    return async (device) => {
      const out = device.upload(start, [6]);
      device.sumRows(device.upload(a, [9, 6]), out);
      return { out: await readFloats(device, out) };
    };
  });
  add('copy and copyRows', (random) => {
    const a = randomFloats(random, 40);
    const start = randomFloats(random, 50);
    return async (device) => {
      const source = device.upload(a, [40]);
      const target = device.upload(start, [50]);
      device.copy(source, target, 3, 5, 10);
      device.copyRows(source, target, 3, 4, 1, 7, 20, 9);
      const whole = device.allocate([40]);
      device.copy(source, whole);
      return { target: await readFloats(device, target), whole: await readFloats(device, whole) };
    };
  });
  for (const [transposeA, transposeB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
    add(`matmul transposeA=${transposeA} transposeB=${transposeB}`, (random) => {
      const [m, n, k] = [7, 9, 13];
      const a = randomFloats(random, m * k);
      const b = randomFloats(random, k * n);
      return async (device) => {
        const out = device.allocate([m, n]);
        device.matmul(device.upload(a, [m * k]), device.upload(b, [k * n]), out, m, n, k, { transposeA, transposeB });
        return { out: await readFloats(device, out) };
      };
    });
  }
  add('matmul batched, broadcast B, alpha, accumulate', (random) => {
    const [batch, m, n, k] = [3, 5, 6, 17];
    const a = randomFloats(random, batch * m * k);
    const b = randomFloats(random, k * n);
    const c = randomFloats(random, batch * m * n);
    const d = randomFloats(random, batch * k * n);
    return async (device) => {
      const out = device.upload(c, [batch, m, n]);
      device.matmul(device.upload(a, [batch, m, k]), device.upload(b, [n, k]), out, m, n, k, {
        batch, broadcastB: true, transposeB: true, alpha: 0.5, accumulate: true,
      });
      const strided = device.allocate([batch, m, n]);
      device.matmul(device.upload(a, [batch, m, k]), device.upload(d, [batch, k, n]), strided, m, n, k, { batch });
      return { out: await readFloats(device, out), strided: await readFloats(device, strided) };
    };
  });
  add('matmul large enough to tile (65 x 70 x 129)', (random) => {
    const [m, n, k] = [65, 70, 129];
    const a = randomFloats(random, m * k);
    const b = randomFloats(random, n * k);
    return async (device) => {
      const out = device.allocate([m, n]);
      device.matmul(device.upload(a, [m, k]), device.upload(b, [n, k]), out, m, n, k, { transposeB: true });
      return { out: await readFloats(device, out) };
    };
  });
  add('rmsnorm forward and backward', (random) => {
    const [rows, channels] = [6, 24];
    const x = randomFloats(random, rows * channels, 2);
    const w = randomFloats(random, channels);
    const dout = randomFloats(random, rows * channels);
    const dxStart = randomFloats(random, rows * channels);
    const dwStart = randomFloats(random, channels);
    return async (device) => {
      const input = device.upload(x, [rows, channels]);
      const weight = device.upload(w, [channels]);
      const out = device.allocate([rows, channels]);
      const rstd = device.allocate([rows]);
      device.rmsnormForward(input, weight, out, rstd, 1e-5);
      const dx = device.upload(dxStart, [rows, channels]);
      const dw = device.upload(dwStart, [channels]);
      device.rmsnormBackward(device.upload(dout, [rows, channels]), input, weight, rstd, dx, dw);
      return {
        out: await readFloats(device, out), rstd: await readFloats(device, rstd),
        dx: await readFloats(device, dx), dweight: await readFloats(device, dw),
      };
    };
  });
  add('rope forward and inverse', (random) => {
    const [rows, heads, headDim, maxPosition] = [5, 3, 8, 16];
    const x = randomFloats(random, rows * heads * headDim);
    const positions = Int32Array.from({ length: rows }, () => Math.floor(random() * maxPosition));
    const angles = Float32Array.from({ length: maxPosition * headDim / 2 }, (_, i) => (i / (headDim / 2) | 0) * 0.3 * ((i % 4) + 1));
    const cos = angles.map(Math.cos);
    const sin = angles.map(Math.sin);
    return async (device) => {
      const input = device.upload(x, [rows, heads, headDim]);
      const p = device.upload(positions, [rows]);
      const c = device.upload(cos, [maxPosition, headDim / 2]);
      const s = device.upload(sin, [maxPosition, headDim / 2]);
      const out = device.allocate([rows, heads, headDim]);
      device.rope(input, p, c, s, out, heads);
      const back = device.allocate([rows, heads, headDim]);
      device.rope(out, p, c, s, back, heads, true);
      device.rope(input, p, c, s, input, heads);
      return { out: await readFloats(device, out), back: await readFloats(device, back), inPlace: await readFloats(device, input) };
    };
  });
  const attentionSettings = [
    { name: 'prefill, grouped heads', batch: 2, queries: 5, capacity: 5, heads: 4, kvHeads: 2, headDim: 8,
      queryOffset: [0, 0], keyLength: [5, 5], keyStart: [0, 0] },
    { name: 'left padding', batch: 3, queries: 6, capacity: 6, heads: 2, kvHeads: 1, headDim: 4,
      queryOffset: [0, 0, 0], keyLength: [6, 6, 6], keyStart: [0, 2, 5] },
    { name: 'KV cache decode', batch: 2, queries: 1, capacity: 9, heads: 4, kvHeads: 4, headDim: 6,
      queryOffset: [4, 6], keyLength: [5, 7], keyStart: [1, 0] },
    { name: 'right padding', batch: 2, queries: 7, capacity: 7, heads: 3, kvHeads: 1, headDim: 5,
      queryOffset: [0, 0], keyLength: [7, 3], keyStart: [0, 0] },
    { name: 'longer rows than a tile, head_dim 64', batch: 2, queries: 37, capacity: 37, heads: 4, kvHeads: 2, headDim: 64,
      queryOffset: [0, 0], keyLength: [37, 30], keyStart: [0, 5] },
    { name: 'decode over a long cache, head_dim 128', batch: 3, queries: 1, capacity: 80, heads: 2, kvHeads: 1, headDim: 128,
      queryOffset: [70, 79, 40], keyLength: [71, 80, 41], keyStart: [3, 0, 17] },
  ];
  for (const setting of attentionSettings) {
    add(`attention forward and backward (${setting.name})`, (random) => {
      const { batch, queries, capacity, heads, kvHeads, headDim } = setting;
      const q = randomFloats(random, batch * queries * heads * headDim, 2);
      const k = randomFloats(random, batch * capacity * kvHeads * headDim, 2);
      const v = randomFloats(random, batch * capacity * kvHeads * headDim);
      const dout = randomFloats(random, batch * queries * heads * headDim);
      const options = {
        heads, keyValueHeads: kvHeads, headDim,
        queryOffset: setting.queryOffset, keyLength: setting.keyLength, keyStart: setting.keyStart,
      };
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
        return {
          out: await readFloats(device, out), logSumExp: await readFloats(device, lse),
          dq: await readFloats(device, dq), dk: await readFloats(device, dk), dv: await readFloats(device, dv),
        };
      };
    });
  }
  add('swiglu forward and backward', (random) => {
    const count = 33;
    const gate = randomFloats(random, count, 4);
    const up = randomFloats(random, count);
    const dout = randomFloats(random, count);
    const start = randomFloats(random, count);
    return async (device) => {
      const g = device.upload(gate, [count]);
      const u = device.upload(up, [count]);
      const out = device.allocate([count]);
      device.swigluForward(g, u, out);
      const dg = device.upload(start, [count]);
      const du = device.allocate([count]);
      device.swigluBackward(device.upload(dout, [count]), g, u, dg, du);
      return { out: await readFloats(device, out), dgate: await readFloats(device, dg), dup: await readFloats(device, du) };
    };
  });
  add('embedding forward and backward (repeated ids)', (random) => {
    const [vocabulary, channels] = [11, 6];
    const ids = Int32Array.from([3, 0, 10, 3, 7]);
    const table = randomFloats(random, vocabulary * channels);
    const dout = randomFloats(random, ids.length * channels);
    return async (device) => {
      const index = device.upload(ids, [ids.length]);
      const weights = device.upload(table, [vocabulary, channels]);
      const out = device.allocate([ids.length, channels]);
      device.embeddingForward(index, weights, out);
      const dtable = device.allocate([vocabulary, channels]);
      device.embeddingBackward(index, device.upload(dout, [ids.length, channels]), dtable);
      return { out: await readFloats(device, out), dtable: await readFloats(device, dtable) };
    };
  });
  add('rmsnorm over head_dim rows (QK-norm) and a wide row', (random) => {
    const shapes = [[40, 10], [3, 1000]] as const;
    const inputs = shapes.map(([rows, channels]) => ({
      rows, channels, x: randomFloats(random, rows * channels, 3), w: randomFloats(random, channels), dout: randomFloats(random, rows * channels),
    }));
    return async (device) => {
      const outputs: Record<string, Float32Array> = {};
      for (const { rows, channels, x, w, dout } of inputs) {
        const input = device.upload(x, [rows, channels]);
        const weight = device.upload(w, [channels]);
        const out = device.allocate([rows, channels]);
        const rstd = device.allocate([rows]);
        device.rmsnormForward(input, weight, out, rstd, 1e-6);
        const dx = device.allocate([rows, channels]);
        const dw = device.allocate([channels]);
        device.rmsnormBackward(device.upload(dout, [rows, channels]), input, weight, rstd, dx, dw);
        outputs[`out ${channels}`] = await readFloats(device, out);
        outputs[`dx ${channels}`] = await readFloats(device, dx);
        outputs[`dweight ${channels}`] = await readFloats(device, dw);
      }
      return outputs;
    };
  });
  add('token log-probs over a large vocabulary', (random) => {
    const [rows, vocabulary] = [3, 5000];
    const logits = randomFloats(random, rows * vocabulary, 8);
    const targets = Int32Array.from([4999, 0, 1234]);
    const dlogprobs = randomFloats(random, rows);
    return async (device) => {
      const l = device.upload(logits, [rows, vocabulary]);
      const t = device.upload(targets, [rows]);
      const logprobs = device.allocate([rows]);
      const lse = device.allocate([rows]);
      device.tokenLogProbsForward(l, t, logprobs, lse);
      const dlogits = device.allocate([rows, vocabulary]);
      device.tokenLogProbsBackward(device.upload(dlogprobs, [rows]), l, t, lse, dlogits);
      return { logprobs: await readFloats(device, logprobs), logSumExp: await readFloats(device, lse), dlogits: await readFloats(device, dlogits) };
    };
  });
  add('token log-probs forward and backward (ignored rows)', (random) => {
    const [rows, vocabulary] = [5, 23];
    const logits = randomFloats(random, rows * vocabulary, 6);
    const targets = Int32Array.from([4, -1, 22, 0, -1]);
    const dlogprobs = randomFloats(random, rows);
    return async (device) => {
      const l = device.upload(logits, [rows, vocabulary]);
      const t = device.upload(targets, [rows]);
      const logprobs = device.allocate([rows]);
      const lse = device.allocate([rows]);
      device.tokenLogProbsForward(l, t, logprobs, lse);
      const dlogits = device.upload(randomFloats(createRandom(seed + 1), rows * vocabulary), [rows, vocabulary]);
      device.tokenLogProbsBackward(device.upload(dlogprobs, [rows]), l, t, lse, dlogits);
      return { logprobs: await readFloats(device, logprobs), logSumExp: await readFloats(device, lse), dlogits: await readFloats(device, dlogits) };
    };
  });
  add('sumOfSquares and adamw', (random) => {
    const count = 29;
    const param = randomFloats(random, count);
    const grad = randomFloats(random, count);
    const m = randomFloats(random, count, 0.1);
    const v = Float32Array.from(randomFloats(random, count, 0.01), Math.abs);
    return async (device) => {
      const p = device.upload(param, [count]);
      const g = device.upload(grad, [count]);
      const first = device.upload(m, [count]);
      const second = device.upload(v, [count]);
      const sum = await device.sumOfSquares([p, g]);
      device.adamw(p, g, first, second, {
        learningRate: 0.01, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, step: 3, gradientScale: 0.7,
      });
      return {
        sumOfSquares: Float32Array.of(sum), param: await readFloats(device, p),
        m: await readFloats(device, first), v: await readFloats(device, second),
      };
    };
  });
  for (const options of [
    { temperature: 0, topK: 0, topP: 1 }, { temperature: 1, topK: 0, topP: 1 },
    { temperature: 0.7, topK: 5, topP: 1 }, { temperature: 1.3, topK: 0, topP: 0.8 },
    { temperature: 1, topK: 10, topP: 0.5 },
  ]) {
    add(`sample temperature=${options.temperature} topK=${options.topK} topP=${options.topP}`, (random) => {
      const [rows, vocabulary] = [16, 40];
      const logits = randomFloats(random, rows * vocabulary, 3);
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

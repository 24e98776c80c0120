// The oracle's backward passes against central finite differences in float64, and its forward kernels against
// direct definitions (matmul, rope, sampling, AdamW's first step).
import { describe, expect, test } from 'bun:test';
import type { DeviceV1, Tensor } from '@lsp/core';
import { createOracleDevice, float16ToNumber, bfloat16ToNumber, type OracleDevice } from './oracle-device';
import { compareWithOracle, createRandom, kernelCases } from './oracle-compare';

const random = createRandom(7);
const values = (count: number, scale = 1) => Float64Array.from({ length: count }, () => (random() * 2 - 1) * scale);

/**
 * Checks d(sum(weights * f(inputs)))/d(inputs[i]) from `backward` against central differences of `forward`.
 * `forward` reads the inputs' current contents and returns the output tensor's values.
 */
function checkGradients(
  device: OracleDevice,
  inputs: Tensor[],
  forward: () => Float64Array,
  backward: (dout: Tensor) => Tensor[],
  epsilon = 1e-6,
): void {
  const output = forward();
  const weights = values(output.length);
  const loss = () => {
    const out = forward();
    let sum = 0;
    for (let i = 0; i < out.length; i++) sum += out[i]! * weights[i]!;
    return sum;
  };
  const analytic = backward(device.uploadFloat64(weights, [weights.length]));
  inputs.forEach((input, which) => {
    const data = device.floats(input);
    const gradient = device.floats(analytic[which]!);
    for (let i = 0; i < data.length; i++) {
      const saved = data[i]!;
      data[i] = saved + epsilon;
      const plus = loss();
      data[i] = saved - epsilon;
      const minus = loss();
      data[i] = saved;
      const numeric = (plus - minus) / (2 * epsilon);
      const difference = Math.abs(numeric - gradient[i]!);
      if (difference > 1e-6 + 1e-6 * Math.abs(numeric)) {
        throw new Error(`input ${which} element ${i}: analytic ${gradient[i]}, numeric ${numeric}`);
      }
    }
  });
}

describe('oracle backward passes match finite differences', () => {
  test('rmsnorm', () => {
    const device = createOracleDevice();
    const [rows, channels] = [3, 7];
    const x = device.uploadFloat64(values(rows * channels, 2), [rows, channels]);
    const w = device.uploadFloat64(values(channels), [channels]);
    const out = device.allocate([rows, channels]);
    const rstd = device.allocate([rows]);
    checkGradients(device, [x, w], () => {
      device.rmsnormForward(x, w, out, rstd, 1e-5);
      return device.floats(out).slice();
    }, (dout) => {
      device.rmsnormForward(x, w, out, rstd, 1e-5);
      const dx = device.allocate([rows, channels]);
      const dw = device.allocate([channels]);
      device.rmsnormBackward(dout, x, w, rstd, dx, dw);
      return [dx, dw];
    });
  });

  test('rope: the inverse rotation is the backward pass', () => {
    const device = createOracleDevice();
    const [rows, heads, headDim, maxPosition] = [4, 2, 6, 10];
    const x = device.uploadFloat64(values(rows * heads * headDim), [rows, heads, headDim]);
    const positions = device.upload(Int32Array.of(0, 3, 9, 3), [rows]);
    const angles = values(maxPosition * headDim / 2, 3);
    const cos = device.uploadFloat64(angles.map(Math.cos), [maxPosition, headDim / 2]);
    const sin = device.uploadFloat64(angles.map(Math.sin), [maxPosition, headDim / 2]);
    const out = device.allocate([rows, heads, headDim]);
    checkGradients(device, [x], () => {
      device.rope(x, positions, cos, sin, out, heads);
      return device.floats(out).slice();
    }, (dout) => {
      const dx = device.allocate([rows, heads, headDim]);
      device.rope(dout, positions, cos, sin, dx, heads, true);
      return [dx];
    });
  });

  const attentionSettings = [
    { name: 'grouped heads, prefill', batch: 2, queries: 4, capacity: 4, heads: 4, kvHeads: 2, headDim: 3,
      queryOffset: [0, 0], keyLength: [4, 4], keyStart: [0, 0] },
    { name: 'left padding and a KV cache', batch: 2, queries: 2, capacity: 6, heads: 2, kvHeads: 1, headDim: 4,
      queryOffset: [3, 4], keyLength: [5, 6], keyStart: [2, 0] },
  ];
  for (const setting of attentionSettings) {
    test(`attention (${setting.name})`, () => {
      const device = createOracleDevice();
      const { batch, queries, capacity, heads, kvHeads, headDim } = setting;
      const options = {
        heads, keyValueHeads: kvHeads, headDim, queryOffset: setting.queryOffset,
        keyLength: setting.keyLength, keyStart: setting.keyStart,
      };
      const q = device.uploadFloat64(values(batch * queries * heads * headDim, 1.5), [batch, queries, heads, headDim]);
      const k = device.uploadFloat64(values(batch * capacity * kvHeads * headDim, 1.5), [batch, capacity, kvHeads, headDim]);
      const v = device.uploadFloat64(values(batch * capacity * kvHeads * headDim), [batch, capacity, kvHeads, headDim]);
      const out = device.allocate([batch, queries, heads, headDim]);
      const lse = device.allocate([batch, heads, queries]);
      checkGradients(device, [q, k, v], () => {
        device.attentionForward(q, k, v, out, lse, options);
        return device.floats(out).slice();
      }, (dout) => {
        device.attentionForward(q, k, v, out, lse, options);
        const dq = device.allocate([q.size]);
        const dk = device.allocate([k.size]);
        const dv = device.allocate([v.size]);
        device.attentionBackward(dout, q, k, v, out, lse, dq, dk, dv, options);
        return [dq, dk, dv];
      });
    });
  }

  test('attention forward equals a direct softmax, and a query with no keys gives zeros', () => {
    const device = createOracleDevice();
    const headDim = 2;
    const q = device.uploadFloat64([1, 2, 0.5, -1], [1, 2, 1, headDim]);
    const k = device.uploadFloat64([0.3, -0.2, 1, 1], [1, 2, 1, headDim]);
    const v = device.uploadFloat64([5, 6, 7, 8], [1, 2, 1, headDim]);
    const out = device.allocate([1, 2, 1, headDim]);
    const lse = device.allocate([1, 1, 2]);
    // Query 0 sits at position 0 but key 0 is padding: it sees nothing. Query 1 sees key 1 only.
    device.attentionForward(q, k, v, out, lse, {
      heads: 1, keyValueHeads: 1, headDim, queryOffset: [0], keyLength: [2], keyStart: [1],
    });
    expect(Array.from(device.floats(out))).toEqual([0, 0, 7, 8]);
    device.attentionForward(q, k, v, out, lse, { heads: 1, keyValueHeads: 1, headDim, queryOffset: [0], keyLength: [2] });
    const scale = 1 / Math.sqrt(2);
    const s0 = (0.5 * 0.3 + -1 * -0.2) * scale;
    const s1 = (0.5 * 1 + -1 * 1) * scale;
    const p0 = Math.exp(s0) / (Math.exp(s0) + Math.exp(s1));
    const result = device.floats(out);
    expect(result[2]).toBeCloseTo(p0 * 5 + (1 - p0) * 7, 12);
    expect(result[3]).toBeCloseTo(p0 * 6 + (1 - p0) * 8, 12);
    expect(device.floats(lse)[1]).toBeCloseTo(Math.log(Math.exp(s0) + Math.exp(s1)), 12);
  });

  test('swiglu', () => {
    const device = createOracleDevice();
    const gate = device.uploadFloat64(values(9, 3), [9]);
    const up = device.uploadFloat64(values(9), [9]);
    const out = device.allocate([9]);
    checkGradients(device, [gate, up], () => {
      device.swigluForward(gate, up, out);
      return device.floats(out).slice();
    }, (dout) => {
      const dg = device.allocate([9]);
      const du = device.allocate([9]);
      device.swigluBackward(dout, gate, up, dg, du);
      return [dg, du];
    });
  });

  test('embedding, with a repeated id', () => {
    const device = createOracleDevice();
    const ids = device.upload(Int32Array.of(2, 0, 2), [3]);
    const table = device.uploadFloat64(values(4 * 3), [4, 3]);
    const out = device.allocate([3, 3]);
    checkGradients(device, [table], () => {
      device.embeddingForward(ids, table, out);
      return device.floats(out).slice();
    }, (dout) => {
      const dtable = device.allocate([4, 3]);
      device.embeddingBackward(ids, dout, dtable);
      return [dtable];
    });
  });

  test('token log-probs, with an ignored row', () => {
    const device = createOracleDevice();
    const [rows, vocabulary] = [3, 6];
    const logits = device.uploadFloat64(values(rows * vocabulary, 3), [rows, vocabulary]);
    const targets = device.upload(Int32Array.of(5, -1, 0), [rows]);
    const logprobs = device.allocate([rows]);
    const lse = device.allocate([rows]);
    checkGradients(device, [logits], () => {
      device.tokenLogProbsForward(logits, targets, logprobs, lse);
      return device.floats(logprobs).slice();
    }, (dout) => {
      device.tokenLogProbsForward(logits, targets, logprobs, lse);
      const dlogits = device.allocate([rows, vocabulary]);
      device.tokenLogProbsBackward(dout, logits, targets, lse, dlogits);
      return [dlogits];
    });
    expect(device.floats(logprobs)[1]).toBe(0);
  });

  test('matmul backward by transposed matmuls (the identities the model uses), and bias add by sumRows', () => {
    const device = createOracleDevice();
    const [m, n, k] = [3, 4, 5];
    const a = device.uploadFloat64(values(m * k), [m, k]);
    const w = device.uploadFloat64(values(n * k), [n, k]);
    const bias = device.uploadFloat64(values(n), [n]);
    const out = device.allocate([m, n]);
    checkGradients(device, [a, w, bias], () => {
      device.matmul(a, w, out, m, n, k, { transposeB: true });
      device.add(out, bias, out);
      return device.floats(out).slice();
    }, (dout) => {
      const da = device.allocate([m, k]);
      const dw = device.allocate([n, k]);
      const dbias = device.allocate([n]);
      device.matmul(dout, w, da, m, k, n, { accumulate: true });
      device.matmul(dout, a, dw, n, k, m, { transposeA: true, accumulate: true });
      device.sumRows(dout, dbias);
      return [da, dw, dbias];
    });
  });
});

describe('oracle forward definitions', () => {
  test('matmul options against a direct product', () => {
    const device = createOracleDevice();
    const a = device.uploadFloat64([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = device.uploadFloat64([1, 0, -1, 2, 0.5, 1], [3, 2]);
    const out = device.allocate([2, 2]);
    device.matmul(a, b, out, 2, 2, 3);
    expect(Array.from(device.floats(out))).toEqual([1 * 1 + 2 * -1 + 3 * 0.5, 1 * 0 + 2 * 2 + 3 * 1, 4 - 5 + 3, 0 + 10 + 6]);
    device.matmul(a, b, out, 2, 2, 3, { alpha: 2, accumulate: true });
    expect(Array.from(device.floats(out))).toEqual([0.5, 7, 2, 16].map((x) => 3 * x));
    // A stored (K, M) = (2, 3) is read as (3, 2); B stored (N, K) = (3, 2) is read as (2, 3).
    const c = device.allocate([3, 3]);
    device.matmul(a, b, c, 3, 3, 2, { transposeA: true, transposeB: true });
    const direct = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      direct.push([1, 2, 3, 4, 5, 6][0 * 3 + i]! * [1, 0, -1, 2, 0.5, 1][j * 2 + 0]! +
        [1, 2, 3, 4, 5, 6][1 * 3 + i]! * [1, 0, -1, 2, 0.5, 1][j * 2 + 1]!);
    }
    expect(Array.from(device.floats(c))).toEqual(direct);
  });

  test('f16 and bf16 widening', () => {
    expect(float16ToNumber(0x3c00)).toBe(1);
    expect(float16ToNumber(0xc000)).toBe(-2);
    expect(float16ToNumber(0x0001)).toBe(2 ** -24);
    expect(float16ToNumber(0x7bff)).toBe(65504);
    expect(bfloat16ToNumber(0x3f80)).toBe(1);
    expect(bfloat16ToNumber(0xc0a0)).toBe(-5);
    const device = createOracleDevice();
    const tensor = device.upload(Uint16Array.of(0x3c00, 0x3800), [2], 'f16');
    expect(Array.from(device.floats(tensor))).toEqual([1, 0.5]);
  });

  test('AdamW: the first step moves each weight by lr * sign(g) after decay', () => {
    const device = createOracleDevice();
    const param = device.uploadFloat64([1, -2, 3], [3]);
    const grad = device.uploadFloat64([0.5, -4, 2], [3]);
    const m = device.allocate([3]);
    const v = device.allocate([3]);
    device.adamw(param, grad, m, v, { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 0, weightDecay: 0.01, step: 1 });
    const decayed = [1, -2, 3].map((x) => x * (1 - 0.1 * 0.01));
    const expected = decayed.map((x, i) => x - 0.1 * Math.sign([0.5, -4, 2][i]!));
    Array.from(device.floats(param)).forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 12));
  });

  test('sampling: greedy, top-k 1, the nucleus, and frequencies that follow the softmax', () => {
    const device = createOracleDevice();
    const rows = 4000;
    const row = [0.1, 2, -1, 1.5];
    const logits = device.uploadFloat64(Array.from({ length: rows }, () => row).flat(), [rows, 4]);
    const uniforms = device.uploadFloat64(Array.from({ length: rows }, (_, i) => (i + 0.5) / rows), [rows]);
    const ids = device.allocate([rows], 'i32');
    const draw = (options: { temperature: number; topK: number; topP: number }) => {
      device.sample(logits, uniforms, ids, options);
      const counts = [0, 0, 0, 0];
      for (const id of device.view(ids)) counts[id]!++;
      return counts;
    };
    expect(draw({ temperature: 0, topK: 0, topP: 1 })).toEqual([0, rows, 0, 0]);
    expect(draw({ temperature: 1, topK: 1, topP: 1 })).toEqual([0, rows, 0, 0]);
    const exps = row.map(Math.exp);
    const total = exps.reduce((a, b) => a + b);
    const counts = draw({ temperature: 1, topK: 0, topP: 1 });
    counts.forEach((count, j) => expect(Math.abs(count / rows - exps[j]! / total)).toBeLessThan(1e-3));
    // p = (0.13, 0.46, 0.03, 0.28) roughly: top-p 0.6 keeps tokens 1 and 3 only.
    const nucleus = draw({ temperature: 1, topK: 0, topP: 0.6 });
    expect(nucleus[0]).toBe(0);
    expect(nucleus[2]).toBe(0);
    expect(Math.abs(nucleus[1]! / rows - exps[1]! / (exps[1]! + exps[3]!))).toBeLessThan(1e-3);
  });

  test('misuse is refused: wrong sizes, freed tensors, ids out of range', () => {
    const device = createOracleDevice();
    const a = device.allocate([2, 3]);
    const out = device.allocate([2, 2]);
    expect(() => device.matmul(a, a, out, 2, 2, 2)).toThrow(/matmul sizes/);
    device.free(a);
    expect(() => device.fill(a, 1)).toThrow(/after free/);
    const table = device.allocate([3, 2]);
    const ids = device.upload(Int32Array.of(3), [1]);
    expect(() => device.embeddingForward(ids, table, device.allocate([1, 2]))).toThrow(/outside/);
  });
});

test('every standard kernel case runs on the oracle and agrees with itself', async () => {
  const cases = kernelCases(3);
  expect(cases.length).toBeGreaterThan(20);
  for (const kernelCase of cases) {
    const comparison = await compareWithOracle(createOracleDevice(), kernelCase);
    expect(comparison.summary).toBe('');
    expect(comparison.passed).toBe(true);
  }
});

test('compareWithOracle reports a device that is wrong', async () => {
  const broken = createOracleDevice();
  const original = broken.swigluForward.bind(broken);
  broken.swigluForward = (gate, up, out) => {
    original(gate, up, out);
    broken.floats(out)[3]! += 1e-3;
  };
  const swiglu = kernelCases(3).find((c) => c.name.startsWith('swiglu'))!;
  const comparison = await compareWithOracle(broken, swiglu);
  expect(comparison.passed).toBe(false);
  expect(comparison.summary).toContain('out: 1 mismatches');
});

test('a case for an optional method is skipped on a device without it, and checked on one with it', async () => {
  const multiply = kernelCases(3).find((c) => c.requires === 'multiply')!;
  const oracle = createOracleDevice();
  // A v1 device written before multiply existed: every method but that one.
  const without: DeviceV1 = Object.assign(Object.create(oracle) as DeviceV1, { multiply: undefined });
  const skipped = await compareWithOracle(without, multiply);
  expect(skipped.skipped).toBe('the device has no multiply');
  expect(skipped.outputs).toEqual([]);
  const wrong = createOracleDevice();
  wrong.multiply = (a, _b, out) => wrong.scale(a, 2, out);
  const checked = await compareWithOracle(wrong, multiply);
  expect(checked.skipped).toBeUndefined();
  expect(checked.passed).toBe(false);
});

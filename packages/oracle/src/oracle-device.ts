// The oracle: a plain TypeScript float64 implementation of DeviceV1, the living definition of every kernel.
// Backends are tested against it; its own backward passes are checked by finite differences. Slow on purpose.
//
// Legend as in @lsp/core's device.ts: N rows, B batch, T queries, S key capacity, H query heads, K key/value
// heads, D head dimension, C channels, I intermediate, V vocabulary.
import { bfloat16ToNumber, float16ToNumber } from '@lsp/core';
import type {
  AdamWOptions, AttentionOptions, DeviceInfo, DeviceV1, DType, MatmulOptions, SamplingKernelOptions, Tensor,
} from '@lsp/core';

/** A tensor of the oracle: float data held as float64, ids as int32. */
export class OracleTensor implements Tensor {
  readonly shape: readonly number[];
  readonly dtype: 'f32' | 'i32';
  readonly size: number;
  data: Float64Array | Int32Array;
  freed = false;

  constructor(shape: readonly number[], dtype: 'f32' | 'i32', data: Float64Array | Int32Array) {
    this.shape = [...shape];
    this.dtype = dtype;
    this.size = data.length;
    this.data = data;
  }
}

function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dimension of shape) {
    if (!Number.isInteger(dimension) || dimension < 0) throw new Error(`oracle: bad shape [${shape.join(', ')}]`);
    count *= dimension;
  }
  return count;
}

function perEntry(values: Int32Array | readonly number[] | undefined, batch: number, fallback: number): number[] {
  if (values === undefined) return new Array<number>(batch).fill(fallback);
  return Array.from(values);
}

export class OracleDevice implements DeviceV1 {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'oracle';
  readonly info: DeviceInfo = {
    description: 'float64 reference (plain TypeScript)',
    kind: 'reference',
    storageTypes: ['f32', 'f16', 'bf16', 'i32'],
  };
  private readonly live = new Set<OracleTensor>();

  // --- memory -----------------------------------------------------------------------------------------

  allocate(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const count = elementCount(shape);
    const tensor = dtype === 'i32'
      ? new OracleTensor(shape, 'i32', new Int32Array(count))
      : new OracleTensor(shape, 'f32', new Float64Array(count));
    this.live.add(tensor);
    return tensor;
  }

  upload(data: Float32Array | Int32Array | Uint16Array, shape: readonly number[], dtype?: DType): Tensor {
    const count = elementCount(shape);
    if (data.length !== count) {
      throw new Error(`oracle: upload of ${data.length} elements into shape [${shape.join(', ')}]`);
    }
    let tensor: OracleTensor;
    if (data instanceof Int32Array) {
      if (dtype !== undefined && dtype !== 'i32') throw new Error(`oracle: Int32Array uploaded as ${dtype}`);
      tensor = new OracleTensor(shape, 'i32', Int32Array.from(data));
    } else if (data instanceof Float32Array) {
      if (dtype !== undefined && dtype !== 'f32') throw new Error(`oracle: Float32Array uploaded as ${dtype}`);
      tensor = new OracleTensor(shape, 'f32', Float64Array.from(data));
    } else {
      if (dtype !== 'f16' && dtype !== 'bf16') throw new Error('oracle: Uint16Array uploads need dtype f16 or bf16');
      const widen = dtype === 'f16' ? float16ToNumber : bfloat16ToNumber;
      const values = new Float64Array(count);
      for (let i = 0; i < count; i++) values[i] = widen(data[i]!);
      tensor = new OracleTensor(shape, 'f32', values);
    }
    this.live.add(tensor);
    return tensor;
  }

  /** Oracle only: a float tensor holding float64 data exactly (for finite-difference checks). */
  uploadFloat64(data: Float64Array | readonly number[], shape: readonly number[]): OracleTensor {
    if (data.length !== elementCount(shape)) throw new Error('oracle: uploadFloat64 size mismatch');
    const tensor = new OracleTensor(shape, 'f32', Float64Array.from(data));
    this.live.add(tensor);
    return tensor;
  }

  write(tensor: Tensor, data: Float32Array | Int32Array | Float64Array): void {
    const target = this.own(tensor);
    if (data.length !== target.size) throw new Error(`oracle: write of ${data.length} elements into ${target.size}`);
    if ((target.dtype === 'i32') !== (data instanceof Int32Array)) {
      throw new Error(`oracle: write of ${data.constructor.name} into a ${target.dtype} tensor`);
    }
    target.data.set(data);
  }

  async read(tensor: Tensor): Promise<Float32Array | Int32Array> {
    const source = this.own(tensor);
    return source.dtype === 'i32' ? Int32Array.from(source.data) : Float32Array.from(source.data);
  }

  /** Oracle only: the live float64 (or int32) contents, not a copy. */
  view(tensor: Tensor): Float64Array | Int32Array {
    return this.own(tensor).data;
  }

  /** Oracle only: the float64 contents of a float tensor, not a copy. */
  floats(tensor: Tensor): Float64Array {
    const data = this.own(tensor).data;
    if (!(data instanceof Float64Array)) throw new Error('oracle: expected a float tensor');
    return data;
  }

  copy(source: Tensor, target: Tensor, sourceOffset = 0, targetOffset = 0, count?: number): void {
    const length = count ?? this.own(source).size;
    this.copyRows(source, target, 1, length, sourceOffset, 0, targetOffset, 0);
  }

  copyRows(
    source: Tensor, target: Tensor, rows: number, rowLength: number,
    sourceOffset: number, sourceStride: number, targetOffset: number, targetStride: number,
  ): void {
    const from = this.own(source);
    const to = this.own(target);
    if (from === to) throw new Error('oracle: copy within one tensor');
    if (from.dtype !== to.dtype) throw new Error(`oracle: copy from ${from.dtype} to ${to.dtype}`);
    if (rows < 0 || rowLength < 0) throw new Error('oracle: negative copy');
    if (rows === 0 || rowLength === 0) return;
    const lastSource = sourceOffset + (rows - 1) * sourceStride + rowLength;
    const lastTarget = targetOffset + (rows - 1) * targetStride + rowLength;
    if (sourceOffset < 0 || targetOffset < 0 || lastSource > from.size || lastTarget > to.size) {
      throw new Error(`oracle: copy out of bounds (source ${from.size}, target ${to.size} elements)`);
    }
    for (let r = 0; r < rows; r++) {
      const start = sourceOffset + r * sourceStride;
      to.data.set(from.data.subarray(start, start + rowLength), targetOffset + r * targetStride);
    }
  }

  free(tensor: Tensor): void {
    const owned = this.own(tensor);
    owned.freed = true;
    this.live.delete(owned);
  }

  async synchronize(): Promise<void> {}

  dispose(): void {
    for (const tensor of this.live) tensor.freed = true;
    this.live.clear();
  }

  /** Oracle only: the number of tensors allocated and not freed (leak checks). */
  liveTensorCount(): number {
    return this.live.size;
  }

  // --- elementwise --------------------------------------------------------------------------------------

  add(a: Tensor, b: Tensor, out: Tensor): void {
    const x = this.float(a);
    const y = this.float(b);
    const z = this.float(out);
    if (y.length === 0 || x.length % y.length !== 0 || z.length !== x.length) {
      throw new Error(`oracle: add of ${x.length} and ${y.length} into ${z.length}`);
    }
    for (let i = 0; i < x.length; i++) z[i] = x[i]! + y[i % y.length]!;
  }

  multiply(a: Tensor, b: Tensor, out: Tensor): void {
    const x = this.float(a);
    const y = this.float(b);
    const z = this.float(out);
    this.sameSize(x, y, 'multiply');
    this.sameSize(x, z, 'multiply');
    for (let i = 0; i < x.length; i++) z[i] = x[i]! * y[i]!;
  }

  scale(x: Tensor, factor: number, out: Tensor): void {
    const source = this.float(x);
    const target = this.float(out);
    this.sameSize(source, target, 'scale');
    for (let i = 0; i < source.length; i++) target[i] = source[i]! * factor;
  }

  fill(x: Tensor, value: number): void {
    this.own(x).data.fill(value);
  }

  sumRows(x: Tensor, out: Tensor): void {
    const source = this.float(x);
    const target = this.float(out);
    const columns = target.length;
    if (columns === 0 || source.length % columns !== 0) throw new Error('oracle: sumRows size mismatch');
    for (let i = 0; i < source.length; i++) target[i % columns]! += source[i]!;
  }

  // --- linear algebra -----------------------------------------------------------------------------------

  matmul(a: Tensor, b: Tensor, out: Tensor, m: number, n: number, k: number, options: MatmulOptions = {}): void {
    const left = this.float(a);
    const right = this.float(b);
    const result = this.float(out);
    const batch = options.batch ?? 1;
    const alpha = options.alpha ?? 1;
    const rightCount = options.broadcastB ? 1 : batch;
    if (left.length !== batch * m * k || right.length !== rightCount * k * n || result.length !== batch * m * n) {
      throw new Error(
        `oracle: matmul sizes A ${left.length}, B ${right.length}, out ${result.length} for batch ${batch}, ` +
        `M ${m}, N ${n}, K ${k}`,
      );
    }
    for (let e = 0; e < batch; e++) {
      const leftOffset = e * m * k;
      const rightOffset = options.broadcastB ? 0 : e * k * n;
      const resultOffset = e * m * n;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let p = 0; p < k; p++) {
            const x = options.transposeA ? left[leftOffset + p * m + i]! : left[leftOffset + i * k + p]!;
            const y = options.transposeB ? right[rightOffset + j * k + p]! : right[rightOffset + p * n + j]!;
            sum += x * y;
          }
          const index = resultOffset + i * n + j;
          result[index] = alpha * sum + (options.accumulate ? result[index]! : 0);
        }
      }
    }
  }

  // --- layers -------------------------------------------------------------------------------------------

  rmsnormForward(x: Tensor, weight: Tensor, out: Tensor, rstd: Tensor, epsilon: number): void {
    const input = this.float(x);
    const gain = this.float(weight);
    const output = this.float(out);
    const inverse = this.float(rstd);
    const channels = gain.length;
    const rows = this.rowsOf(input.length, channels, 'rmsnormForward');
    this.sameSize(input, output, 'rmsnormForward');
    if (inverse.length !== rows) throw new Error('oracle: rmsnormForward rstd size');
    for (let r = 0; r < rows; r++) {
      const base = r * channels;
      let sumOfSquares = 0;
      for (let c = 0; c < channels; c++) sumOfSquares += input[base + c]! ** 2;
      const factor = 1 / Math.sqrt(sumOfSquares / channels + epsilon);
      inverse[r] = factor;
      for (let c = 0; c < channels; c++) output[base + c] = input[base + c]! * factor * gain[c]!;
    }
  }

  rmsnormBackward(dout: Tensor, x: Tensor, weight: Tensor, rstd: Tensor, dx: Tensor, dweight: Tensor): void {
    const gradient = this.float(dout);
    const input = this.float(x);
    const gain = this.float(weight);
    const inverse = this.float(rstd);
    const inputGradient = this.float(dx);
    const gainGradient = this.float(dweight);
    const channels = gain.length;
    const rows = this.rowsOf(input.length, channels, 'rmsnormBackward');
    this.sameSize(gradient, input, 'rmsnormBackward');
    this.sameSize(inputGradient, input, 'rmsnormBackward');
    this.sameSize(gainGradient, gain, 'rmsnormBackward');
    for (let r = 0; r < rows; r++) {
      const base = r * channels;
      const factor = inverse[r]!;
      // out_c = x_c f w_c with f = (mean(x^2) + eps)^(-1/2), df/dx_j = -f^3 x_j / C.
      let dot = 0;
      for (let c = 0; c < channels; c++) dot += gradient[base + c]! * gain[c]! * input[base + c]!;
      const correction = (factor * factor * dot) / channels;
      for (let c = 0; c < channels; c++) {
        const g = gradient[base + c]!;
        inputGradient[base + c]! += factor * (g * gain[c]! - input[base + c]! * correction);
        gainGradient[c]! += g * input[base + c]! * factor;
      }
    }
  }

  rope(x: Tensor, positions: Tensor, cos: Tensor, sin: Tensor, out: Tensor, heads: number, inverse = false): void {
    const input = this.float(x);
    const output = this.float(out);
    const position = this.ints(positions);
    const cosine = this.float(cos);
    const sine = this.float(sin);
    this.sameSize(input, output, 'rope');
    const rows = position.length;
    const headDim = input.length / (rows * heads);
    if (!Number.isInteger(headDim) || headDim % 2 !== 0) throw new Error('oracle: rope head dimension must be even');
    const half = headDim / 2;
    if (cosine.length % half !== 0 || cosine.length !== sine.length) throw new Error('oracle: rope table size');
    const maxPosition = cosine.length / half;
    const sign = inverse ? -1 : 1;
    for (let n = 0; n < rows; n++) {
      const p = position[n]!;
      if (p < 0 || p >= maxPosition) throw new Error(`oracle: rope position ${p} outside [0, ${maxPosition})`);
      for (let h = 0; h < heads; h++) {
        const base = (n * heads + h) * headDim;
        for (let i = 0; i < half; i++) {
          const c = cosine[p * half + i]!;
          const s = sign * sine[p * half + i]!;
          const first = input[base + i]!;
          const second = input[base + i + half]!;
          output[base + i] = first * c - second * s;
          output[base + i + half] = second * c + first * s;
        }
      }
    }
  }

  attentionForward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, options: AttentionOptions): void {
    const shape = this.attentionShape(q, k, v, out, logSumExp, options);
    const query = this.float(q);
    const key = this.float(k);
    const value = this.float(v);
    const output = this.float(out);
    const lse = this.float(logSumExp);
    const { batch, queries, capacity, heads, keyValueHeads, headDim, scale } = shape;
    const group = heads / keyValueHeads;
    const scores = new Float64Array(capacity);
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < heads; h++) {
        const kvHead = Math.floor(h / group);
        for (let t = 0; t < queries; t++) {
          const [first, last] = visibleKeys(shape, b, t);
          const queryBase = ((b * queries + t) * heads + h) * headDim;
          const lseIndex = (b * heads + h) * queries + t;
          if (last < first) {
            output.fill(0, queryBase, queryBase + headDim);
            lse[lseIndex] = 0;
            continue;
          }
          let maximum = Number.NEGATIVE_INFINITY;
          for (let s = first; s <= last; s++) {
            const keyBase = ((b * capacity + s) * keyValueHeads + kvHead) * headDim;
            let dot = 0;
            for (let d = 0; d < headDim; d++) dot += query[queryBase + d]! * key[keyBase + d]!;
            scores[s] = dot * scale;
            if (scores[s]! > maximum) maximum = scores[s]!;
          }
          let sum = 0;
          for (let s = first; s <= last; s++) sum += Math.exp(scores[s]! - maximum);
          const logSum = maximum + Math.log(sum);
          lse[lseIndex] = logSum;
          output.fill(0, queryBase, queryBase + headDim);
          for (let s = first; s <= last; s++) {
            const weight = Math.exp(scores[s]! - logSum);
            const valueBase = ((b * capacity + s) * keyValueHeads + kvHead) * headDim;
            for (let d = 0; d < headDim; d++) output[queryBase + d]! += weight * value[valueBase + d]!;
          }
        }
      }
    }
  }

  attentionBackward(
    dout: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor,
    dq: Tensor, dk: Tensor, dv: Tensor, options: AttentionOptions,
  ): void {
    const shape = this.attentionShape(q, k, v, out, logSumExp, options);
    const gradient = this.float(dout);
    const query = this.float(q);
    const key = this.float(k);
    const value = this.float(v);
    const output = this.float(out);
    const lse = this.float(logSumExp);
    const queryGradient = this.float(dq);
    const keyGradient = this.float(dk);
    const valueGradient = this.float(dv);
    this.sameSize(gradient, query, 'attentionBackward dout');
    this.sameSize(queryGradient, query, 'attentionBackward dq');
    this.sameSize(keyGradient, key, 'attentionBackward dk');
    this.sameSize(valueGradient, value, 'attentionBackward dv');
    const { batch, queries, capacity, heads, keyValueHeads, headDim, scale } = shape;
    const group = heads / keyValueHeads;
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < heads; h++) {
        const kvHead = Math.floor(h / group);
        for (let t = 0; t < queries; t++) {
          const [first, last] = visibleKeys(shape, b, t);
          if (last < first) continue;
          const queryBase = ((b * queries + t) * heads + h) * headDim;
          const logSum = lse[(b * heads + h) * queries + t]!;
          // dS_s = P_s (dP_s - sum_s' P_s' dP_s'), and sum_s' P_s' dP_s' = dout . out.
          let rowDot = 0;
          for (let d = 0; d < headDim; d++) rowDot += gradient[queryBase + d]! * output[queryBase + d]!;
          for (let s = first; s <= last; s++) {
            const keyBase = ((b * capacity + s) * keyValueHeads + kvHead) * headDim;
            let dot = 0;
            let valueDot = 0;
            for (let d = 0; d < headDim; d++) {
              dot += query[queryBase + d]! * key[keyBase + d]!;
              valueDot += gradient[queryBase + d]! * value[keyBase + d]!;
            }
            const probability = Math.exp(dot * scale - logSum);
            const scoreGradient = probability * (valueDot - rowDot) * scale;
            for (let d = 0; d < headDim; d++) {
              valueGradient[keyBase + d]! += probability * gradient[queryBase + d]!;
              queryGradient[queryBase + d]! += scoreGradient * key[keyBase + d]!;
              keyGradient[keyBase + d]! += scoreGradient * query[queryBase + d]!;
            }
          }
        }
      }
    }
  }

  swigluForward(gate: Tensor, up: Tensor, out: Tensor): void {
    const g = this.float(gate);
    const u = this.float(up);
    const output = this.float(out);
    this.sameSize(g, u, 'swigluForward');
    this.sameSize(g, output, 'swigluForward');
    for (let i = 0; i < g.length; i++) output[i] = (g[i]! / (1 + Math.exp(-g[i]!))) * u[i]!;
  }

  swigluBackward(dout: Tensor, gate: Tensor, up: Tensor, dgate: Tensor, dup: Tensor): void {
    const gradient = this.float(dout);
    const g = this.float(gate);
    const u = this.float(up);
    const gateGradient = this.float(dgate);
    const upGradient = this.float(dup);
    for (const other of [g, u, gateGradient, upGradient]) this.sameSize(gradient, other, 'swigluBackward');
    for (let i = 0; i < g.length; i++) {
      const sigmoid = 1 / (1 + Math.exp(-g[i]!));
      const silu = g[i]! * sigmoid;
      gateGradient[i]! += gradient[i]! * u[i]! * sigmoid * (1 + g[i]! * (1 - sigmoid));
      upGradient[i]! += gradient[i]! * silu;
    }
  }

  embeddingForward(ids: Tensor, table: Tensor, out: Tensor): void {
    const index = this.ints(ids);
    const weights = this.float(table);
    const output = this.float(out);
    const channels = this.rowsOf(output.length, index.length, 'embeddingForward');
    const vocabulary = this.rowsOf(weights.length, channels, 'embeddingForward');
    for (let n = 0; n < index.length; n++) {
      const id = index[n]!;
      if (id < 0 || id >= vocabulary) throw new Error(`oracle: embedding id ${id} outside [0, ${vocabulary})`);
      output.set(weights.subarray(id * channels, (id + 1) * channels), n * channels);
    }
  }

  embeddingBackward(ids: Tensor, dout: Tensor, dtable: Tensor): void {
    const index = this.ints(ids);
    const gradient = this.float(dout);
    const tableGradient = this.float(dtable);
    const channels = this.rowsOf(gradient.length, index.length, 'embeddingBackward');
    const vocabulary = this.rowsOf(tableGradient.length, channels, 'embeddingBackward');
    for (let n = 0; n < index.length; n++) {
      const id = index[n]!;
      if (id < 0 || id >= vocabulary) throw new Error(`oracle: embedding id ${id} outside [0, ${vocabulary})`);
      for (let c = 0; c < channels; c++) tableGradient[id * channels + c]! += gradient[n * channels + c]!;
    }
  }

  tokenLogProbsForward(logits: Tensor, targets: Tensor, logprobs: Tensor, logSumExp: Tensor): void {
    const scores = this.float(logits);
    const target = this.ints(targets);
    const output = this.float(logprobs);
    const lse = this.float(logSumExp);
    const rows = target.length;
    const vocabulary = this.rowsOf(scores.length, rows, 'tokenLogProbsForward');
    if (output.length !== rows || lse.length !== rows) throw new Error('oracle: tokenLogProbsForward sizes');
    for (let n = 0; n < rows; n++) {
      const base = n * vocabulary;
      let maximum = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < vocabulary; j++) maximum = Math.max(maximum, scores[base + j]!);
      let sum = 0;
      for (let j = 0; j < vocabulary; j++) sum += Math.exp(scores[base + j]! - maximum);
      const logSum = maximum + Math.log(sum);
      lse[n] = logSum;
      const id = target[n]!;
      if (id >= vocabulary) throw new Error(`oracle: target ${id} outside [0, ${vocabulary})`);
      output[n] = id < 0 ? 0 : scores[base + id]! - logSum;
    }
  }

  tokenLogProbsBackward(dlogprobs: Tensor, logits: Tensor, targets: Tensor, logSumExp: Tensor, dlogits: Tensor): void {
    const gradient = this.float(dlogprobs);
    const scores = this.float(logits);
    const target = this.ints(targets);
    const lse = this.float(logSumExp);
    const output = this.float(dlogits);
    const rows = target.length;
    const vocabulary = this.rowsOf(scores.length, rows, 'tokenLogProbsBackward');
    this.sameSize(scores, output, 'tokenLogProbsBackward');
    for (let n = 0; n < rows; n++) {
      const base = n * vocabulary;
      const id = target[n]!;
      if (id < 0) {
        output.fill(0, base, base + vocabulary);
        continue;
      }
      const g = gradient[n]!;
      for (let j = 0; j < vocabulary; j++) {
        output[base + j] = g * ((j === id ? 1 : 0) - Math.exp(scores[base + j]! - lse[n]!));
      }
    }
  }

  // --- optimisation ---------------------------------------------------------------------------------------

  async sumOfSquares(tensors: readonly Tensor[]): Promise<number> {
    let sum = 0;
    for (const tensor of tensors) for (const value of this.float(tensor)) sum += value * value;
    return sum;
  }

  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, options: AdamWOptions): void {
    const weights = this.float(param);
    const gradient = this.float(grad);
    const first = this.float(m);
    const second = this.float(v);
    for (const other of [gradient, first, second]) this.sameSize(weights, other, 'adamw');
    const { learningRate, beta1, beta2, epsilon, weightDecay, step } = options;
    const gradientScale = options.gradientScale ?? 1;
    const firstCorrection = 1 - beta1 ** step;
    const secondCorrection = 1 - beta2 ** step;
    for (let i = 0; i < weights.length; i++) {
      const g = gradient[i]! * gradientScale;
      weights[i]! *= 1 - learningRate * weightDecay;
      first[i] = beta1 * first[i]! + (1 - beta1) * g;
      second[i] = beta2 * second[i]! + (1 - beta2) * g * g;
      weights[i]! -= (learningRate * (first[i]! / firstCorrection)) / (Math.sqrt(second[i]! / secondCorrection) + epsilon);
    }
  }

  // --- sampling -------------------------------------------------------------------------------------------

  sample(logits: Tensor, uniforms: Tensor, ids: Tensor, options: SamplingKernelOptions): void {
    const scores = this.float(logits);
    const uniform = this.float(uniforms);
    const output = this.ints(ids);
    const rows = output.length;
    if (uniform.length !== rows) throw new Error('oracle: sample uniforms size');
    const vocabulary = this.rowsOf(scores.length, rows, 'sample');
    for (let n = 0; n < rows; n++) {
      const row = scores.subarray(n * vocabulary, (n + 1) * vocabulary);
      output[n] = sampleRow(row, uniform[n]!, options);
    }
  }

  // --- helpers ------------------------------------------------------------------------------------------

  private own(tensor: Tensor): OracleTensor {
    if (!(tensor instanceof OracleTensor)) throw new Error('oracle: tensor from another device');
    if (tensor.freed) throw new Error('oracle: tensor used after free');
    if (!this.live.has(tensor)) throw new Error('oracle: tensor from another oracle device');
    return tensor;
  }

  private float(tensor: Tensor): Float64Array {
    const data = this.own(tensor).data;
    if (!(data instanceof Float64Array)) throw new Error('oracle: expected an f32 tensor, got i32');
    return data;
  }

  private ints(tensor: Tensor): Int32Array {
    const data = this.own(tensor).data;
    if (!(data instanceof Int32Array)) throw new Error('oracle: expected an i32 tensor, got f32');
    return data;
  }

  private sameSize(a: { length: number }, b: { length: number }, where: string): void {
    if (a.length !== b.length) throw new Error(`oracle: ${where}: sizes ${a.length} and ${b.length} differ`);
  }

  private rowsOf(total: number, rowLength: number, where: string): number {
    if (rowLength <= 0 || total % rowLength !== 0) {
      throw new Error(`oracle: ${where}: ${total} elements are not rows of ${rowLength}`);
    }
    return total / rowLength;
  }

  private attentionShape(
    q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, options: AttentionOptions,
  ): AttentionShape {
    const { heads, keyValueHeads, headDim } = options;
    const batch = options.queryOffset.length;
    if (heads % keyValueHeads !== 0) throw new Error('oracle: attention heads must be a multiple of key/value heads');
    const queries = this.rowsOf(q.size, batch * heads * headDim, 'attention q');
    const capacity = this.rowsOf(k.size, batch * keyValueHeads * headDim, 'attention k');
    if (v.size !== k.size || out.size !== q.size || logSumExp.size !== batch * heads * queries) {
      throw new Error('oracle: attention sizes of v, out or logSumExp');
    }
    if (options.keyLength.length !== batch || (options.keyStart && options.keyStart.length !== batch)) {
      throw new Error('oracle: attention per-entry arrays differ in length');
    }
    const keyLength = Array.from(options.keyLength);
    for (const length of keyLength) if (length > capacity) throw new Error('oracle: attention keyLength > capacity');
    return {
      batch, queries, capacity, heads, keyValueHeads, headDim,
      scale: options.scale ?? 1 / Math.sqrt(headDim),
      queryOffset: Array.from(options.queryOffset),
      keyLength,
      keyStart: perEntry(options.keyStart, batch, 0),
    };
  }
}

interface AttentionShape {
  batch: number;
  queries: number;
  capacity: number;
  heads: number;
  keyValueHeads: number;
  headDim: number;
  scale: number;
  queryOffset: number[];
  keyLength: number[];
  keyStart: number[];
}

/** The inclusive range of keys query t of entry b sees (empty when last < first). */
function visibleKeys(shape: AttentionShape, b: number, t: number): [number, number] {
  const first = Math.max(0, shape.keyStart[b]!);
  const last = Math.min(shape.queryOffset[b]! + t, shape.keyLength[b]! - 1);
  return [first, last];
}

/** One draw by the definition in DeviceV1.sample. */
function sampleRow(row: Float64Array, uniform: number, options: SamplingKernelOptions): number {
  const vocabulary = row.length;
  let best = 0;
  for (let j = 1; j < vocabulary; j++) if (row[j]! > row[best]!) best = j;
  if (options.temperature <= 0) return best;
  const probability = new Float64Array(vocabulary);
  let total = 0;
  for (let j = 0; j < vocabulary; j++) {
    probability[j] = Math.exp((row[j]! - row[best]!) / options.temperature);
    total += probability[j]!;
  }
  for (let j = 0; j < vocabulary; j++) probability[j]! /= total;
  const kept = new Uint8Array(vocabulary).fill(1);
  const order = Array.from({ length: vocabulary }, (_, j) => j);
  order.sort((a, b) => probability[b]! - probability[a]! || a - b);
  if (options.topK > 0 && options.topK < vocabulary) {
    for (let r = options.topK; r < vocabulary; r++) kept[order[r]!] = 0;
  }
  if (options.topP < 1) {
    let keptMass = 0;
    for (let j = 0; j < vocabulary; j++) if (kept[j]) keptMass += probability[j]!;
    let cumulative = 0;
    let reached = false;
    for (const j of order) {
      if (!kept[j]) continue;
      if (reached) {
        kept[j] = 0;
        continue;
      }
      cumulative += probability[j]! / keptMass;
      if (cumulative >= options.topP) reached = true;
    }
  }
  let keptTotal = 0;
  for (let j = 0; j < vocabulary; j++) if (kept[j]) keptTotal += probability[j]!;
  const threshold = uniform * keptTotal;
  let running = 0;
  let lastKept = best;
  for (let j = 0; j < vocabulary; j++) {
    if (!kept[j]) continue;
    running += probability[j]!;
    lastKept = j;
    if (running > threshold) return j;
  }
  return lastKept;
}

export function createOracleDevice(): OracleDevice {
  return new OracleDevice();
}

export { bfloat16ToNumber, float16ToNumber };

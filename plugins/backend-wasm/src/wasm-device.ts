// The DeviceV1 of the wasm backend: tensors are blocks of the shared memory, kernels are commands in the ring
// that the worker pool runs in call order. Shapes are checked here, before anything is enqueued.
import { InvalidInputError } from '@lsp/core';
import type {
  AdamWOptions, AttentionOptions, DeviceInfo, DeviceV1, DType, MatmulOptions, SamplingKernelOptions, Tensor,
} from '@lsp/core';
import { availableParallelism } from 'node:os';
import { type BlasLibrary, blasSplit, findBlas } from './wasm-blas';
import { floatBits, KernelPool } from './wasm-pool';
import { MatmulFlag, matmulTile, Opcode, sumOfSquaresChunk } from './wasm-protocol';

export interface WasmDeviceOptions {
  /** Kernel workers; one per core this process may use by default (os.availableParallelism). */
  threads?: number;
  /** Private scratch per worker: matmul packing (2.6 MiB), attention blocks and sampling (8 bytes per vocabulary entry). */
  scratchBytes?: number;
  /** Memory reserved at start; it grows on demand up to the 4 GiB wasm32 limit. */
  initialBytes?: number;
  /**
   * Whether the calling thread runs units of the commands it waits for during the first 2 ms of a wait (as
   * OpenBLAS's calling thread computes), instead of polling. Default: when the workers take every core.
   */
  hostRunsUnits?: boolean;
  /**
   * Matrix products on OpenBLAS through bun:ffi (wasm-blas.ts): true to require it, false for the wasm kernels,
   * a path to open that library. Default: OpenBLAS when it is found, else wasm; LSP_BLAS=off or LSP_BLAS=PATH
   * in the environment sets the default.
   */
  blas?: boolean | string;
}

const defaultScratchBytes = 8 << 20;
const stackBytes = 1 << 20;
/** Work units per thread for large commands. */
const unitsPerThread = 4;
/** Fewer for matmul: every unit packs its own copy of the B (row split) or A (column split) panels. */
const matmulUnitsPerThread = 2;
/** Products from this many multiply-adds on several threads pack B once for all units, which split the rows. */
const sharedPackingWork = 1 << 20;
/** Units per thread of a product with B packed once: units only pack their own rows of A. */
const sharedMatmulUnitsPerThread = 8;

/** A tensor of the wasm device: `size` 4-byte elements at byte `offset` of the shared memory. */
export class WasmTensor implements Tensor {
  readonly shape: readonly number[];
  readonly dtype: 'f32' | 'i32';
  readonly size: number;
  readonly offset: number;
  readonly device: WasmDevice;
  freed = false;

  constructor(device: WasmDevice, shape: readonly number[], dtype: 'f32' | 'i32', size: number, offset: number) {
    this.device = device;
    this.shape = [...shape];
    this.dtype = dtype;
    this.size = size;
    this.offset = offset;
  }
}

function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dimension of shape) {
    if (!Number.isInteger(dimension) || dimension < 0) throw new Error(`wasm device: bad shape [${shape.join(', ')}]`);
    count *= dimension;
  }
  return count;
}

let float16Table: Float32Array | undefined;

/** f16 bit pattern to f32, through a 65536-entry table built on first use. */
function float16Values(): Float32Array {
  if (float16Table) return float16Table;
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    table[bits] = exponent === 0 ? sign * fraction * 2 ** -24
      : exponent === 31 ? (fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY)
      : sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  float16Table = table;
  return table;
}

interface DeferredRelease {
  /** The block may be reused once this many commands are complete. */
  ticket: number;
  offset: number;
}

export class WasmDevice implements DeviceV1 {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'wasm';
  readonly info: DeviceInfo;
  readonly pool: KernelPool;
  private readonly live = new Set<WasmTensor>();
  /** Blocks freed while queued commands may still use them, in ticket order. */
  private readonly deferred: DeferredRelease[] = [];
  private disposed = false;
  /** Whether the block most recently allocated was known to hold zeros. */
  private lastBlockZeroed = false;

  /** OpenBLAS when products run on it, else undefined; `matmulPath` says which and why in words. */
  readonly blas: BlasLibrary | undefined;
  readonly matmulPath: string;

  constructor(pool: KernelPool, blas: BlasLibrary | undefined, matmulPath: string) {
    this.pool = pool;
    this.blas = blas;
    this.matmulPath = matmulPath;
    this.info = {
      description: `wasm-simd128 (${pool.threads} thread${pool.threads === 1 ? '' : 's'}), matmul on ${blas ? 'OpenBLAS' : 'wasm'}`,
      kind: 'cpu',
      storageTypes: ['f32', 'f16', 'bf16', 'i32'],
    };
  }

  get threads(): number {
    return this.pool.threads;
  }

  // --- memory -----------------------------------------------------------------------------------------

  allocate(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const tensor = this.create(shape, dtype === 'i32' ? 'i32' : 'f32');
    // Memory never handed out is still zero; a reused block is cleared by a queued fill, in parallel and
    // without holding up the host (no command queued before it uses the block, see releaseLater).
    if (!this.lastBlockZeroed && tensor.size > 0) this.pool.enqueue([Opcode.fill, tensor.offset, tensor.size, 0], this.units(tensor.size));
    return tensor;
  }

  upload(data: Float32Array | Int32Array | Uint16Array, shape: readonly number[], dtype?: DType): Tensor {
    const count = elementCount(shape);
    if (data.length !== count) throw new Error(`wasm device: upload of ${data.length} elements into shape [${shape.join(', ')}]`);
    if (data instanceof Int32Array) {
      if (dtype !== undefined && dtype !== 'i32') throw new Error(`wasm device: Int32Array uploaded as ${dtype}`);
      const tensor = this.create(shape, 'i32');
      new Int32Array(this.buffer(), tensor.offset, count).set(data);
      return tensor;
    }
    if (data instanceof Float32Array) {
      if (dtype !== undefined && dtype !== 'f32') throw new Error(`wasm device: Float32Array uploaded as ${dtype}`);
      const tensor = this.create(shape, 'f32');
      new Float32Array(this.buffer(), tensor.offset, count).set(data);
      return tensor;
    }
    if (dtype !== 'f16' && dtype !== 'bf16') throw new Error('wasm device: Uint16Array uploads need dtype f16 or bf16');
    const tensor = this.create(shape, 'f32');
    if (dtype === 'bf16') {
      // bf16 is the top half of an f32.
      const target = new Uint32Array(this.buffer(), tensor.offset, count);
      for (let i = 0; i < count; i++) target[i] = data[i]! << 16;
    } else {
      const table = float16Values();
      const target = new Float32Array(this.buffer(), tensor.offset, count);
      for (let i = 0; i < count; i++) target[i] = table[data[i]!]!;
    }
    return tensor;
  }

  write(tensor: Tensor, data: Float32Array | Int32Array): void {
    const target = this.own(tensor);
    if (data.length !== target.size) throw new Error(`wasm device: write of ${data.length} elements into ${target.size}`);
    if ((target.dtype === 'i32') !== (data instanceof Int32Array)) {
      throw new Error(`wasm device: write of ${data.constructor.name} into a ${target.dtype} tensor`);
    }
    if (data.length === 0) return;
    // Queued commands may still read or write the tensor: stage the data and copy it in order.
    const staging = this.allocateBlock(data.length * 4);
    if (data instanceof Int32Array) new Int32Array(this.buffer(), staging, data.length).set(data);
    else new Float32Array(this.buffer(), staging, data.length).set(data);
    this.pool.enqueue([Opcode.copy, staging, target.offset, data.length], this.units(data.length));
    this.releaseLater(staging);
  }

  async read(tensor: Tensor): Promise<Float32Array | Int32Array> {
    const source = this.own(tensor);
    await this.pool.wait(this.pool.enqueued);
    return source.dtype === 'i32'
      ? new Int32Array(this.buffer(), source.offset, source.size).slice()
      : new Float32Array(this.buffer(), source.offset, source.size).slice();
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
    if (from === to) throw new Error('wasm device: copy within one tensor');
    if (from.dtype !== to.dtype) throw new Error(`wasm device: copy from ${from.dtype} to ${to.dtype}`);
    if (rows < 0 || rowLength < 0) throw new Error('wasm device: negative copy');
    if (rows === 0 || rowLength === 0) return;
    const lastSource = sourceOffset + (rows - 1) * sourceStride + rowLength;
    const lastTarget = targetOffset + (rows - 1) * targetStride + rowLength;
    if (sourceOffset < 0 || targetOffset < 0 || lastSource > from.size || lastTarget > to.size) {
      throw new Error(`wasm device: copy out of bounds (source ${from.size}, target ${to.size} elements)`);
    }
    const sourceStart = from.offset + sourceOffset * 4;
    const targetStart = to.offset + targetOffset * 4;
    if (rows === 1) this.pool.enqueue([Opcode.copy, sourceStart, targetStart, rowLength], this.units(rowLength));
    else this.pool.enqueue([Opcode.copyRows, sourceStart, targetStart, rows, rowLength, sourceStride, targetStride], this.units(rows * rowLength));
  }

  free(tensor: Tensor): void {
    const owned = this.own(tensor);
    owned.freed = true;
    this.live.delete(owned);
    this.releaseLater(owned.offset);
  }

  async synchronize(): Promise<void> {
    await this.pool.wait(this.pool.enqueued);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const tensor of this.live) tensor.freed = true;
    this.live.clear();
    this.pool.dispose();
  }

  /** Tensors allocated and not freed (leak checks). */
  liveTensorCount(): number {
    return this.live.size;
  }

  // --- elementwise --------------------------------------------------------------------------------------

  add(a: Tensor, b: Tensor, out: Tensor): void {
    const [x, y, z] = [this.float(a), this.float(b), this.float(out)];
    if (y.size === 0 || x.size % y.size !== 0 || z.size !== x.size) {
      throw new Error(`wasm device: add of ${x.size} and ${y.size} into ${z.size}`);
    }
    if (x.size === 0) return;
    this.pool.enqueue([Opcode.add, x.offset, y.offset, z.offset, x.size, y.size], this.units(x.size));
  }

  multiply(a: Tensor, b: Tensor, out: Tensor): void {
    const [x, y, z] = [this.float(a), this.float(b), this.float(out)];
    this.sameSize(x, y, 'multiply');
    this.sameSize(x, z, 'multiply');
    if (x.size === 0) return;
    this.pool.enqueue([Opcode.multiply, x.offset, y.offset, z.offset, x.size], this.units(x.size));
  }

  scale(x: Tensor, factor: number, out: Tensor): void {
    const [source, target] = [this.float(x), this.float(out)];
    this.sameSize(source, target, 'scale');
    this.pool.enqueue([Opcode.scale, source.offset, target.offset, source.size, floatBits(factor)], this.units(source.size));
  }

  fill(x: Tensor, value: number): void {
    const target = this.own(x);
    // An i32 tensor is filled with the integer's bits, a float tensor with the float's.
    const bits = target.dtype === 'i32' ? value | 0 : floatBits(value);
    this.pool.enqueue([Opcode.fill, target.offset, target.size, bits], this.units(target.size));
  }

  sumRows(x: Tensor, out: Tensor): void {
    const [source, target] = [this.float(x), this.float(out)];
    const columns = target.size;
    if (columns === 0 || source.size % columns !== 0) throw new Error('wasm device: sumRows size mismatch');
    this.pool.enqueue([Opcode.sumRows, source.offset, target.offset, source.size / columns, columns], this.units(source.size));
  }

  // --- linear algebra -----------------------------------------------------------------------------------

  matmul(a: Tensor, b: Tensor, out: Tensor, m: number, n: number, k: number, options: MatmulOptions = {}): void {
    const [left, right, result] = [this.float(a), this.float(b), this.float(out)];
    const batch = options.batch ?? 1;
    const rightCount = options.broadcastB ? 1 : batch;
    for (const value of [m, n, k, batch]) {
      if (!Number.isInteger(value) || value < 0) throw new Error(`wasm device: matmul dimension ${value}`);
    }
    if (left.size !== batch * m * k || right.size !== rightCount * k * n || result.size !== batch * m * n) {
      throw new Error(
        `wasm device: matmul sizes A ${left.size}, B ${right.size}, out ${result.size} for batch ${batch}, ` +
        `M ${m}, N ${n}, K ${k}`,
      );
    }
    if (batch * m * n === 0) return;
    const flags = (options.transposeA ? MatmulFlag.transposeA : 0) | (options.transposeB ? MatmulFlag.transposeB : 0) |
      (options.broadcastB ? MatmulFlag.broadcastB : 0) | (options.accumulate ? MatmulFlag.accumulate : 0);
    if (this.blas && k > 0) {
      const split = blasSplit(m, n, k, batch);
      this.pool.enqueue([
        Opcode.blasMatmul, left.offset, right.offset, result.offset, m, n, k, flags, batch, floatBits(options.alpha ?? 1),
        split.byRows ? 1 : 0, split.block,
      ], split.units);
      return;
    }
    const words = [Opcode.matmul, left.offset, right.offset, result.offset, m, n, k, flags, batch, floatBits(options.alpha ?? 1)];
    const dot = options.transposeB && !options.transposeA && m < matmulTile.dotRows;
    if (batch === 1 && !dot && k > 0 && m * n * k >= sharedPackingWork && this.pool.threads > 1) {
      // Every unit of a row split would pack all of B: pack it once, in parallel, and split the rows finely
      // (a worker the OS deschedules then holds up less of the product).
      const packed = this.allocateBlock((Math.ceil(n / matmulTile.columns) * matmulTile.columns * k + 32) * 4);
      this.pool.enqueue([Opcode.packB, right.offset, n, k, flags, packed], this.units(n * k));
      words[7] = flags | MatmulFlag.sharedB;
      const rowPanels = Math.ceil(m / matmulTile.rows);
      this.pool.enqueue([...words, packed], Math.min(rowPanels, this.units(m * n * k, 32768, sharedMatmulUnitsPerThread)));
      this.releaseLater(packed);
      return;
    }
    // Each unit of a row split packs all of B: on one worker, a second unit would only pack it again.
    this.pool.enqueue(words, this.pool.threads > 1 ? this.units(batch * m * n * k, 32768, matmulUnitsPerThread) : 1);
  }

  // --- layers -------------------------------------------------------------------------------------------

  rmsnormForward(x: Tensor, weight: Tensor, out: Tensor, rstd: Tensor, epsilon: number): void {
    const [input, gain, output, inverse] = [this.float(x), this.float(weight), this.float(out), this.float(rstd)];
    const rows = this.rowsOf(input.size, gain.size, 'rmsnormForward');
    this.sameSize(input, output, 'rmsnormForward');
    if (inverse.size !== rows) throw new Error('wasm device: rmsnormForward rstd size');
    this.pool.enqueue([
      Opcode.rmsnormForward, input.offset, gain.offset, output.offset, inverse.offset, rows, gain.size, floatBits(epsilon),
    ], this.units(input.size));
  }

  rmsnormBackward(dout: Tensor, x: Tensor, weight: Tensor, rstd: Tensor, dx: Tensor, dweight: Tensor): void {
    const [gradient, input, gain, inverse] = [this.float(dout), this.float(x), this.float(weight), this.float(rstd)];
    const [inputGradient, gainGradient] = [this.float(dx), this.float(dweight)];
    const rows = this.rowsOf(input.size, gain.size, 'rmsnormBackward');
    this.sameSize(gradient, input, 'rmsnormBackward');
    this.sameSize(inputGradient, input, 'rmsnormBackward');
    this.sameSize(gainGradient, gain, 'rmsnormBackward');
    if (inverse.size !== rows) throw new Error('wasm device: rmsnormBackward rstd size');
    this.pool.enqueue([
      Opcode.rmsnormBackward, gradient.offset, input.offset, gain.offset, inverse.offset, inputGradient.offset,
      gainGradient.offset, rows, gain.size,
    ], this.units(input.size));
  }

  rope(x: Tensor, positions: Tensor, cos: Tensor, sin: Tensor, out: Tensor, heads: number, inverse = false): void {
    const [input, output, position] = [this.float(x), this.float(out), this.ints(positions)];
    const [cosine, sine] = [this.float(cos), this.float(sin)];
    this.sameSize(input, output, 'rope');
    const rows = position.size;
    const headDim = input.size / (rows * heads);
    if (!Number.isInteger(headDim) || headDim % 2 !== 0) throw new Error('wasm device: rope head dimension must be even');
    const half = headDim / 2;
    if (half === 0 || cosine.size % half !== 0 || cosine.size !== sine.size) throw new Error('wasm device: rope table size');
    if (rows === 0) return;
    this.pool.enqueue([
      Opcode.rope, input.offset, position.offset, cosine.offset, sine.offset, output.offset, rows, heads, headDim,
      inverse ? 1 : 0, cosine.size / half,
    ], this.units(input.size));
  }

  attentionForward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, options: AttentionOptions): void {
    const shape = this.attentionShape(q, k, v, out, logSumExp, options);
    this.checkAttentionScratch(shape, options, false);
    const tensors = [q, k, v, out, logSumExp].map((tensor) => this.float(tensor).offset);
    this.enqueueWithEntries(shape, (entries) => [Opcode.attentionForward, ...tensors, ...shape.words, ...entries], this.units(shape.work));
  }

  attentionBackward(
    dout: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor,
    dq: Tensor, dk: Tensor, dv: Tensor, options: AttentionOptions,
  ): void {
    const shape = this.attentionShape(q, k, v, out, logSumExp, options);
    this.sameSize(this.float(dout), this.float(q), 'attentionBackward dout');
    this.sameSize(this.float(dq), this.float(q), 'attentionBackward dq');
    this.sameSize(this.float(dk), this.float(k), 'attentionBackward dk');
    this.sameSize(this.float(dv), this.float(v), 'attentionBackward dv');
    this.checkAttentionScratch(shape, options, true);
    const tensors = [dout, q, k, v, out, logSumExp, dq, dk, dv].map((tensor) => this.float(tensor).offset);
    this.enqueueWithEntries(shape, (entries) => [Opcode.attentionBackward, ...tensors, ...shape.words, ...entries], this.units(shape.work));
  }

  /** Refuses shapes whose smallest block (one query's heads) does not fit in a worker's scratch (attention.rs block_queries). */
  private checkAttentionScratch(shape: AttentionShape, options: AttentionOptions, backward: boolean): void {
    const padded = (value: number) => Math.ceil(value / 8) * 8;
    const [dp, sp] = [padded(options.headDim), padded(shape.capacity)];
    const [fixed, perRow] = backward ? [3 * dp * sp, 2 * dp + 2 * sp + 1] : [2 * dp * sp, dp + sp + 1];
    const floats = Math.floor(this.pool.scratchBytes / 4);
    const rows = floats <= fixed ? 0 : Math.floor((floats - fixed) / perRow / 4) * 4;
    if (rows < options.heads / options.keyValueHeads) {
      throw new Error(`wasm device: attention over ${shape.capacity} keys needs more worker scratch (scratchBytes option)`);
    }
  }

  swigluForward(gate: Tensor, up: Tensor, out: Tensor): void {
    const [g, u, output] = [this.float(gate), this.float(up), this.float(out)];
    this.sameSize(g, u, 'swigluForward');
    this.sameSize(g, output, 'swigluForward');
    this.pool.enqueue([Opcode.swigluForward, g.offset, u.offset, output.offset, g.size], this.units(g.size));
  }

  swigluBackward(dout: Tensor, gate: Tensor, up: Tensor, dgate: Tensor, dup: Tensor): void {
    const all = [dout, gate, up, dgate, dup].map((tensor) => this.float(tensor));
    for (const other of all) this.sameSize(all[0]!, other, 'swigluBackward');
    this.pool.enqueue([Opcode.swigluBackward, ...all.map((tensor) => tensor.offset), all[0]!.size], this.units(all[0]!.size));
  }

  embeddingForward(ids: Tensor, table: Tensor, out: Tensor): void {
    const [index, weights, output] = [this.ints(ids), this.float(table), this.float(out)];
    const channels = this.rowsOf(output.size, index.size, 'embeddingForward');
    const vocabulary = this.rowsOf(weights.size, channels, 'embeddingForward');
    this.pool.enqueue([Opcode.embeddingForward, index.offset, weights.offset, output.offset, index.size, channels, vocabulary], this.units(output.size));
  }

  embeddingBackward(ids: Tensor, dout: Tensor, dtable: Tensor): void {
    const [index, gradient, tableGradient] = [this.ints(ids), this.float(dout), this.float(dtable)];
    const channels = this.rowsOf(gradient.size, index.size, 'embeddingBackward');
    const vocabulary = this.rowsOf(tableGradient.size, channels, 'embeddingBackward');
    this.pool.enqueue([
      Opcode.embeddingBackward, index.offset, gradient.offset, tableGradient.offset, index.size, channels, vocabulary,
    ], this.units(gradient.size));
  }

  tokenLogProbsForward(logits: Tensor, targets: Tensor, logprobs: Tensor, logSumExp: Tensor): void {
    const [scores, target, output, lse] = [this.float(logits), this.ints(targets), this.float(logprobs), this.float(logSumExp)];
    const rows = target.size;
    const vocabulary = this.rowsOf(scores.size, rows, 'tokenLogProbsForward');
    if (output.size !== rows || lse.size !== rows) throw new Error('wasm device: tokenLogProbsForward sizes');
    this.pool.enqueue([Opcode.tokenLogProbsForward, scores.offset, target.offset, output.offset, lse.offset, rows, vocabulary], this.units(scores.size));
  }

  tokenLogProbsBackward(dlogprobs: Tensor, logits: Tensor, targets: Tensor, logSumExp: Tensor, dlogits: Tensor): void {
    const [gradient, scores, target, lse, output] = [
      this.float(dlogprobs), this.float(logits), this.ints(targets), this.float(logSumExp), this.float(dlogits),
    ];
    const rows = target.size;
    const vocabulary = this.rowsOf(scores.size, rows, 'tokenLogProbsBackward');
    this.sameSize(scores, output, 'tokenLogProbsBackward');
    if (gradient.size !== rows || lse.size !== rows) throw new Error('wasm device: tokenLogProbsBackward sizes');
    this.pool.enqueue([
      Opcode.tokenLogProbsBackward, gradient.offset, scores.offset, target.offset, lse.offset, output.offset, rows, vocabulary,
    ], this.units(scores.size));
  }

  // --- optimisation ---------------------------------------------------------------------------------------

  async sumOfSquares(tensors: readonly Tensor[]): Promise<number> {
    const owned = tensors.map((tensor) => this.float(tensor)).filter((tensor) => tensor.size > 0);
    if (owned.length === 0) return 0;
    const chunks = owned.reduce((total, tensor) => total + Math.ceil(tensor.size / sumOfSquaresChunk), 0);
    const list = this.allocateBlock(owned.length * 8);
    const partials = this.allocateBlock(chunks * 8);
    const words = new Uint32Array(this.buffer(), list, owned.length * 2);
    owned.forEach((tensor, index) => {
      words[2 * index] = tensor.offset;
      words[2 * index + 1] = tensor.size;
    });
    this.pool.enqueue([Opcode.sumOfSquares, list, owned.length, partials], this.units(chunks * sumOfSquaresChunk));
    const ticket = this.pool.enqueued;
    this.releaseLater(list);
    try {
      await this.pool.wait(ticket);
      // Chunk partials are added in a fixed order, so the sum does not depend on the thread count.
      const values = new Float64Array(this.buffer(), partials, chunks);
      let sum = 0;
      for (const value of values) sum += value;
      return sum;
    } finally {
      this.releaseLater(partials);
    }
  }

  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, options: AdamWOptions): void {
    const all = [param, grad, m, v].map((tensor) => this.float(tensor));
    for (const other of all) this.sameSize(all[0]!, other, 'adamw');
    const { learningRate, beta1, beta2, epsilon, weightDecay, step } = options;
    this.pool.enqueue([
      Opcode.adamw, ...all.map((tensor) => tensor.offset), all[0]!.size,
      ...[learningRate, beta1, beta2, epsilon, weightDecay, 1 - beta1 ** step, 1 - beta2 ** step, options.gradientScale ?? 1]
        .map(floatBits),
    ], this.units(all[0]!.size));
  }

  // --- sampling -------------------------------------------------------------------------------------------

  sample(logits: Tensor, uniforms: Tensor, ids: Tensor, options: SamplingKernelOptions): void {
    const [scores, uniform, output] = [this.float(logits), this.float(uniforms), this.ints(ids)];
    const rows = output.size;
    if (uniform.size !== rows) throw new Error('wasm device: sample uniforms size');
    const vocabulary = this.rowsOf(scores.size, rows, 'sample');
    if (vocabulary * 8 > this.pool.scratchBytes) {
      throw new Error(`wasm device: sampling over ${vocabulary} tokens needs more worker scratch (scratchBytes option)`);
    }
    const topK = Math.max(0, Math.floor(options.topK));
    this.pool.enqueue([
      Opcode.sample, scores.offset, uniform.offset, output.offset, rows, vocabulary, floatBits(options.temperature),
      topK, floatBits(options.topP),
    ], this.units(scores.size));
  }

  // --- helpers ------------------------------------------------------------------------------------------

  private buffer(): SharedArrayBuffer {
    return this.pool.heap.memory.buffer as unknown as SharedArrayBuffer;
  }

  private create(shape: readonly number[], dtype: 'f32' | 'i32'): WasmTensor {
    if (this.disposed) throw new Error('wasm device: used after dispose');
    const size = elementCount(shape);
    const tensor = new WasmTensor(this, shape, dtype, size, this.allocateBlock(size * 4));
    this.live.add(tensor);
    return tensor;
  }

  private allocateBlock(bytes: number): number {
    this.reclaim();
    const { offset, zeroed } = this.pool.heap.allocateZeroKnown(bytes);
    this.lastBlockZeroed = zeroed;
    return offset;
  }

  /** Releases `offset` once every command enqueued so far is complete. */
  private releaseLater(offset: number): void {
    this.deferred.push({ ticket: this.pool.enqueued, offset });
    this.reclaim();
  }

  private reclaim(): void {
    if (this.deferred.length === 0) return;
    const completed = this.pool.completed();
    let released = 0;
    while (released < this.deferred.length && this.deferred[released]!.ticket <= completed) {
      this.pool.heap.release(this.deferred[released]!.offset);
      released++;
    }
    if (released > 0) this.deferred.splice(0, released);
  }

  /**
   * Work units for a command of about `work` elementary operations: one below `minimum`, else up to four per
   * thread, so that a worker the OS has paused leaves its share to the others.
   */
  private units(work: number, minimum = 16384, perThread = unitsPerThread): number {
    return Math.max(1, Math.min(this.pool.threads * perThread, Math.floor(work / minimum)));
  }

  private enqueueWithEntries(shape: AttentionShape, words: (entries: number[]) => number[], units: number): void {
    // The per-entry arrays travel in a small block, released when the command is done.
    const block = this.allocateBlock(shape.batch * 12);
    const values = new Int32Array(this.buffer(), block, shape.batch * 3);
    values.set(shape.queryOffset, 0);
    values.set(shape.keyLength, shape.batch);
    values.set(shape.keyStart, 2 * shape.batch);
    this.pool.enqueue(words([block, block + shape.batch * 4, block + shape.batch * 8]), units);
    this.releaseLater(block);
  }

  private own(tensor: Tensor): WasmTensor {
    if (!(tensor instanceof WasmTensor) || tensor.device !== this) throw new Error('wasm device: tensor from another device');
    if (tensor.freed) throw new Error('wasm device: tensor used after free');
    return tensor;
  }

  private float(tensor: Tensor): WasmTensor {
    const owned = this.own(tensor);
    if (owned.dtype !== 'f32') throw new Error('wasm device: expected an f32 tensor, got i32');
    return owned;
  }

  private ints(tensor: Tensor): WasmTensor {
    const owned = this.own(tensor);
    if (owned.dtype !== 'i32') throw new Error('wasm device: expected an i32 tensor, got f32');
    return owned;
  }

  private sameSize(a: WasmTensor, b: WasmTensor, where: string): void {
    if (a.size !== b.size) throw new Error(`wasm device: ${where}: sizes ${a.size} and ${b.size} differ`);
  }

  private rowsOf(total: number, rowLength: number, where: string): number {
    if (rowLength <= 0 || total % rowLength !== 0) {
      throw new Error(`wasm device: ${where}: ${total} elements are not rows of ${rowLength}`);
    }
    return total / rowLength;
  }

  private attentionShape(
    q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, options: AttentionOptions,
  ): AttentionShape {
    const { heads, keyValueHeads, headDim } = options;
    const batch = options.queryOffset.length;
    if (!(heads > 0 && keyValueHeads > 0 && heads % keyValueHeads === 0)) {
      throw new Error('wasm device: attention heads must be a positive multiple of key/value heads');
    }
    const queries = this.rowsOf(this.float(q).size, batch * heads * headDim, 'attention q');
    const capacity = this.rowsOf(this.float(k).size, batch * keyValueHeads * headDim, 'attention k');
    if (this.float(v).size !== k.size || this.float(out).size !== q.size || this.float(logSumExp).size !== batch * heads * queries) {
      throw new Error('wasm device: attention sizes of v, out or logSumExp');
    }
    if (options.keyLength.length !== batch || (options.keyStart && options.keyStart.length !== batch)) {
      throw new Error('wasm device: attention per-entry arrays differ in length');
    }
    const keyLength = Array.from(options.keyLength);
    for (const length of keyLength) if (length > capacity) throw new Error('wasm device: attention keyLength > capacity');
    const scale = options.scale ?? 1 / Math.sqrt(headDim);
    return {
      batch, capacity,
      work: batch * heads * queries * capacity * headDim,
      words: [batch, queries, capacity, heads, keyValueHeads, headDim, floatBits(scale)],
      queryOffset: Array.from(options.queryOffset),
      keyLength,
      keyStart: options.keyStart ? Array.from(options.keyStart) : new Array<number>(batch).fill(0),
    };
  }
}

interface AttentionShape {
  batch: number;
  capacity: number;
  /** Multiply-adds of the score products, for the work units. */
  work: number;
  /** B, T, S, H, K, D, scale bits: the command words after the tensors. */
  words: number[];
  queryOffset: number[];
  keyLength: number[];
  keyStart: number[];
}

/** One worker per core the process may run on (affinity-aware, unlike navigator.hardwareConcurrency). */
export function defaultThreadCount(): number {
  return Math.max(1, availableParallelism());
}

export async function createWasmDevice(options: WasmDeviceOptions = {}): Promise<WasmDevice> {
  const threads = options.threads ?? defaultThreadCount();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`wasm device: threads must be a positive integer, got ${threads}`);
  const { blas, matmulPath } = chooseMatmulPath(options.blas);
  const pool = await KernelPool.create({
    threads,
    scratchBytes: options.scratchBytes ?? defaultScratchBytes,
    stackBytes,
    initialBytes: options.initialBytes ?? 64 << 20,
    hostRunsUnits: options.hostRunsUnits ?? threads >= defaultThreadCount(),
    ...(blas ? { blas } : {}),
  });
  return new WasmDevice(pool, blas, matmulPath);
}

/** OpenBLAS or the wasm kernels for products, from the option (or LSP_BLAS), with the reason in words. */
export function chooseMatmulPath(setting: boolean | string | undefined): { blas: BlasLibrary | undefined; matmulPath: string } {
  const environment = process.env.LSP_BLAS;
  const choice = setting ?? (environment === undefined || environment === '' || environment === 'auto' ? undefined : environment === 'off' ? false : environment);
  if (choice === false) return { blas: undefined, matmulPath: 'wasm kernels (OpenBLAS turned off)' };
  const found = findBlas(typeof choice === 'string' ? choice : undefined);
  if ('symbols' in found) return { blas: found, matmulPath: `OpenBLAS through bun:ffi (${found.library}: ${found.config})` };
  if (choice !== undefined) {
    throw new InvalidInputError(`wasm backend: OpenBLAS was asked for but ${found.reason}`, {
      hint: 'install it, point LSP_BLAS at the library, or set LSP_BLAS=off',
    });
  }
  return { blas: undefined, matmulPath: `wasm kernels (${found.reason})` };
}

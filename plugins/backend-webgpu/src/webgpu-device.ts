// The WebGPU device: DeviceV1 on Dawn. Tensors are storage buffers from a pool; kernels are recorded into one
// compute pass and submitted lazily (on read, synchronize, sumOfSquares, a write to a tensor the open pass uses,
// or every `dispatchesPerSubmission` dispatches). Per-dispatch sizes travel in a uniform arena, so a new shape
// never compiles a new pipeline. The WGSL of each operation lives in src/kernels/, one file per operation.
import {
  UnavailableError, widenHalfPrecision,
  type AdamWOptions, type AttentionOptions, type DeviceInfo, type DeviceV1, type DType, type MatmulOptions,
  type SamplingKernelOptions, type Tensor,
} from '@lsp/core';
import { adamw } from './kernels/adamw';
import { add } from './kernels/add';
import { attentionBackward } from './kernels/attention-backward';
import { attentionForward } from './kernels/attention-forward';
import { copyRows } from './kernels/copy-rows';
import { embeddingBackward } from './kernels/embedding-backward';
import { embeddingForward } from './kernels/embedding-forward';
import { fill } from './kernels/fill';
import type { KernelBinding, KernelContext, KernelProgram, KernelTensor, Uniforms } from './kernels/kernel-context';
import { matmul } from './kernels/matmul';
import { multiply } from './kernels/multiply';
import { rmsnormBackward } from './kernels/rmsnorm-backward';
import { rmsnormForward } from './kernels/rmsnorm-forward';
import { rope } from './kernels/rope';
import { sample } from './kernels/sample';
import { scale } from './kernels/scale';
import { sumOfSquares } from './kernels/sum-of-squares';
import { sumRows } from './kernels/sum-rows';
import { swigluBackward } from './kernels/swiglu-backward';
import { swigluForward } from './kernels/swiglu-forward';
import { tokenLogProbsBackward } from './kernels/token-log-probs-backward';
import { tokenLogProbsForward } from './kernels/token-log-probs-forward';
import {
  acquireInstance, type AdapterSummary, chooseAdapter, describeAdapter, listAdapters, releaseInstance, summarize,
} from './webgpu-adapter';

// GPUBufferUsage and GPUMapMode bits (the globals are not installed under Bun).
const usage = { mapRead: 0x1, copySource: 0x4, copyDestination: 0x8, uniform: 0x40, storage: 0x80 } as const;
const mapRead = 0x1;

export interface WebgpuDeviceOptions {
  /** Adapter to use: an index into the adapters Dawn lists, or a substring of its name. Default: the best (discrete first). */
  adapter?: string | number;
  /** Dispatches recorded before a submission is made without being asked for. Default 256. */
  dispatchesPerSubmission?: number;
  /** Bytes of freed buffers kept for reuse before idle ones are destroyed. Default 512 MiB. */
  poolBytes?: number;
  /** A lower storage-binding limit than the adapter's, in bytes (tests of the size policy). */
  maxStorageBindingBytes?: number;
  /** A lower per-dimension workgroup count than the adapter's (tests of the x/y split of large dispatches). */
  maxWorkgroupsPerDimension?: number;
}

export interface WebgpuDeviceInfo extends DeviceInfo {
  adapter: AdapterSummary;
  /** True on Mesa lavapipe/llvmpipe, SwiftShader and other CPU emulations of a GPU. */
  cpuEmulation: boolean;
  /** The limits requested from the adapter that the kernels and the size policy depend on. */
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number; maxComputeWorkgroupsPerDimension: number; maxComputeWorkgroupStorageSize: number };
  /** Kernel variants in use. */
  variants: string[];
}

export class WebgpuTensor implements Tensor {
  freed = false;
  /** Serial of the last submission (recorded or made) that names this tensor's buffer. */
  lastUse = -1;
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly size: number,
    readonly buffer: GPUBuffer,
    /** Bytes bound for this tensor (the buffer may be a larger pooled size class). */
    readonly byteLength: number,
    readonly owner: WebgpuDevice,
  ) {}
}

interface PooledBuffer {
  buffer: GPUBuffer;
  lastUse: number;
}

interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** Pool size classes: four per power of two, at least 256 bytes. */
function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const power = 2 ** Math.floor(Math.log2(bytes));
  const step = Math.max(256, power / 4);
  return Math.ceil(bytes / step) * step;
}

/** f16 or bf16 bit patterns widened to f32 on the host (the kernels compute in f32). */
function widen(data: Uint16Array, dtype: DType): Float32Array {
  if (dtype !== 'f16' && dtype !== 'bf16') throw new Error(`webgpu device: Uint16Array data must be f16 or bf16, not ${dtype}`);
  return widenHalfPrecision(data, dtype);
}

export class WebgpuDevice implements DeviceV1, KernelContext {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'webgpu';
  readonly info: WebgpuDeviceInfo;
  readonly maxWorkgroupsPerDimension: number;
  readonly maxBindingElements: number;
  readonly bindingAlignmentElements: number;
  private readonly maxBindingBytes: number;
  private readonly bindingAlignment: number;
  private readonly dispatchesPerSubmission: number;
  private readonly poolBytes: number;
  private readonly uniformStride: number;
  private readonly arena: GPUBuffer;
  private readonly arenaWords: Uint32Array;
  private readonly pipelines = new Map<string, CachedPipeline>();
  private readonly pool = new Map<number, PooledBuffer[]>();
  private pooledBytes = 0;
  /** Buffers freed while the open (unsubmitted) encoder names them: they join the pool when it is submitted. */
  private releasedInOpenEncoder: GPUBuffer[] = [];
  private encoder: GPUCommandEncoder | undefined;
  private pass: GPUComputePassEncoder | undefined;
  private usedSlots = 0;
  /** Serial of the submission being recorded; `completed` is the last one the queue finished. */
  private serial = 0;
  private completed = -1;
  private readonly errors: string[] = [];
  private readonly live = new Set<WebgpuTensor>();
  private disposed = false;

  constructor(
    private readonly device: GPUDevice,
    adapter: GPUAdapter,
    adapterIndex: number,
    options: WebgpuDeviceOptions,
  ) {
    const summary = summarize(adapter, adapterIndex);
    const limits = device.limits;
    this.maxBindingBytes = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize, options.maxStorageBindingBytes ?? Number.POSITIVE_INFINITY);
    this.bindingAlignment = Math.max(4, limits.minStorageBufferOffsetAlignment);
    this.bindingAlignmentElements = this.bindingAlignment / 4;
    // A binding of at least two alignments, so that a window at any offset holds some elements.
    this.maxBindingBytes = Math.max(this.maxBindingBytes, 2 * this.bindingAlignment);
    this.maxBindingElements = Math.floor(this.maxBindingBytes / 4);
    this.maxWorkgroupsPerDimension = Math.min(limits.maxComputeWorkgroupsPerDimension, options.maxWorkgroupsPerDimension ?? Number.POSITIVE_INFINITY);
    this.dispatchesPerSubmission = options.dispatchesPerSubmission ?? 256;
    this.poolBytes = options.poolBytes ?? 512 * 1024 * 1024;
    this.uniformStride = Math.max(256, limits.minUniformBufferOffsetAlignment);
    this.arena = device.createBuffer({ size: this.uniformStride * this.dispatchesPerSubmission, usage: usage.uniform | usage.copyDestination });
    this.arenaWords = new Uint32Array(this.uniformStride * this.dispatchesPerSubmission / 4);
    this.info = {
      description: `${describeAdapter(adapter)} (vulkan${summary.cpuEmulation ? ', CPU emulation' : ''})`,
      kind: 'gpu',
      storageTypes: ['f32', 'f16', 'bf16', 'i32'],
      adapter: summary,
      cpuEmulation: summary.cpuEmulation,
      limits: {
        maxStorageBufferBindingSize: this.maxBindingBytes,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      },
      variants: ['portable f32'],
    };
    (device as unknown as { onuncapturederror: ((event: GPUUncapturedErrorEvent) => void) | null }).onuncapturederror = (event) => {
      this.errors.push(event.error.message);
    };
    void device.lost.then((lost) => {
      if (!this.disposed) this.errors.push(`device lost (${lost.reason}): ${lost.message}`);
    });
  }

  // --- memory -----------------------------------------------------------------------------------------

  allocate(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const tensor = this.newTensor(shape, dtype === 'i32' ? 'i32' : 'f32');
    return tensor;
  }

  upload(data: Float32Array | Int32Array | Uint16Array, shape: readonly number[], dtype?: DType): Tensor {
    let values: Float32Array | Int32Array;
    let type: 'f32' | 'i32';
    if (data instanceof Uint16Array) {
      values = widen(data, dtype ?? 'f16');
      type = 'f32';
    } else if (data instanceof Int32Array) {
      if (dtype !== undefined && dtype !== 'i32') throw new Error(`webgpu device: Int32Array data uploaded as ${dtype}`);
      values = data;
      type = 'i32';
    } else {
      if (dtype !== undefined && dtype !== 'f32') throw new Error(`webgpu device: Float32Array data uploaded as ${dtype}`);
      values = data;
      type = 'f32';
    }
    const size = this.elementCount(shape);
    if (values.length !== size) throw new Error(`webgpu device: upload of ${values.length} elements as shape [${shape.join(', ')}]`);
    return this.newTensor(shape, type, values);
  }

  write(tensor: Tensor, data: Float32Array | Int32Array): void {
    const own = this.own(tensor);
    if (data.length !== own.size) throw new Error(`webgpu device: write of ${data.length} elements into a tensor of ${own.size}`);
    if ((data instanceof Int32Array) !== (own.dtype === 'i32')) throw new Error(`webgpu device: write of ${data.constructor.name} into an ${own.dtype} tensor`);
    if (own.size === 0) return;
    // queue.writeBuffer runs before anything not yet submitted: submit first what the open pass does with it.
    if (own.lastUse === this.serial && this.encoder) this.flush();
    this.device.queue.writeBuffer(own.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    own.lastUse = this.serial;
  }

  async read(tensor: Tensor): Promise<Float32Array | Int32Array> {
    const own = this.own(tensor);
    if (own.size === 0) return own.dtype === 'i32' ? new Int32Array(0) : new Float32Array(0);
    const bytes = own.size * 4;
    const staging = this.device.createBuffer({ size: bytes, usage: usage.mapRead | usage.copyDestination });
    this.openEncoder();
    this.endPass();
    this.encoder!.copyBufferToBuffer(own.buffer, 0, staging, 0, bytes);
    own.lastUse = this.serial;
    this.flush();
    try {
      await staging.mapAsync(mapRead);
    } catch (error) {
      this.throwErrors();
      throw error;
    }
    const copy = staging.getMappedRange().slice(0);
    staging.unmap();
    staging.destroy();
    this.throwErrors();
    return own.dtype === 'i32' ? new Int32Array(copy) : new Float32Array(copy);
  }

  copy(source: Tensor, target: Tensor, sourceOffset = 0, targetOffset = 0, count?: number): void {
    const from = this.own(source);
    const to = this.own(target);
    const length = count ?? from.size - sourceOffset;
    copyRows(this, from, to, 1, length, sourceOffset, 0, targetOffset, 0);
  }

  copyRows(
    source: Tensor, target: Tensor, rows: number, rowLength: number,
    sourceOffset: number, sourceStride: number, targetOffset: number, targetStride: number,
  ): void {
    copyRows(this, this.own(source), this.own(target), rows, rowLength, sourceOffset, sourceStride, targetOffset, targetStride);
  }

  free(tensor: Tensor): void {
    const own = this.own(tensor);
    own.freed = true;
    this.live.delete(own);
    this.recycle(own.buffer, own.lastUse);
  }

  async synchronize(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwErrors();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.encoder = undefined;
    this.pass = undefined;
    this.live.clear();
    this.pool.clear();
    this.releasedInOpenEncoder = [];
    this.pipelines.clear();
    this.device.destroy();
    releaseInstance();
  }

  /** Tensors allocated and not freed (for tests of the pool). */
  liveTensorCount(): number {
    return this.live.size;
  }

  /** Bytes of freed buffers held for reuse. */
  pooledByteCount(): number {
    return this.pooledBytes;
  }

  /** Pipelines compiled so far (one per kernel variant, whatever the shapes). */
  pipelineCount(): number {
    return this.pipelines.size;
  }

  // --- elementwise --------------------------------------------------------------------------------------

  add(a: Tensor, b: Tensor, out: Tensor): void {
    add(this, this.own(a), this.own(b), this.own(out));
  }

  multiply(a: Tensor, b: Tensor, out: Tensor): void {
    multiply(this, this.own(a), this.own(b), this.own(out));
  }

  scale(x: Tensor, factor: number, out: Tensor): void {
    scale(this, this.own(x), factor, this.own(out));
  }

  fill(x: Tensor, value: number): void {
    fill(this, this.own(x), value);
  }

  sumRows(x: Tensor, out: Tensor): void {
    sumRows(this, this.own(x), this.own(out));
  }

  matmul(a: Tensor, b: Tensor, out: Tensor, m: number, n: number, k: number, options?: MatmulOptions): void {
    matmul(this, this.own(a), this.own(b), this.own(out), m, n, k, options);
  }

  // --- layers -------------------------------------------------------------------------------------------

  rmsnormForward(x: Tensor, weight: Tensor, out: Tensor, rstd: Tensor, epsilon: number): void {
    rmsnormForward(this, this.own(x), this.own(weight), this.own(out), this.own(rstd), epsilon);
  }

  rmsnormBackward(dout: Tensor, x: Tensor, weight: Tensor, rstd: Tensor, dx: Tensor, dweight: Tensor): void {
    rmsnormBackward(this, this.own(dout), this.own(x), this.own(weight), this.own(rstd), this.own(dx), this.own(dweight));
  }

  rope(x: Tensor, positions: Tensor, cos: Tensor, sin: Tensor, out: Tensor, heads: number, inverse = false): void {
    rope(this, this.own(x), this.own(positions), this.own(cos), this.own(sin), this.own(out), heads, inverse);
  }

  attentionForward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, options: AttentionOptions): void {
    attentionForward(this, this.own(q), this.own(k), this.own(v), this.own(out), this.own(logSumExp), options);
  }

  attentionBackward(
    dout: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor,
    dq: Tensor, dk: Tensor, dv: Tensor, options: AttentionOptions,
  ): void {
    attentionBackward(
      this, this.own(dout), this.own(q), this.own(k), this.own(v), this.own(out), this.own(logSumExp),
      this.own(dq), this.own(dk), this.own(dv), options,
    );
  }

  swigluForward(gate: Tensor, up: Tensor, out: Tensor): void {
    swigluForward(this, this.own(gate), this.own(up), this.own(out));
  }

  swigluBackward(dout: Tensor, gate: Tensor, up: Tensor, dgate: Tensor, dup: Tensor): void {
    swigluBackward(this, this.own(dout), this.own(gate), this.own(up), this.own(dgate), this.own(dup));
  }

  embeddingForward(ids: Tensor, table: Tensor, out: Tensor): void {
    embeddingForward(this, this.own(ids), this.own(table), this.own(out));
  }

  embeddingBackward(ids: Tensor, dout: Tensor, dtable: Tensor): void {
    embeddingBackward(this, this.own(ids), this.own(dout), this.own(dtable));
  }

  tokenLogProbsForward(logits: Tensor, targets: Tensor, logprobs: Tensor, logSumExp: Tensor): void {
    tokenLogProbsForward(this, this.own(logits), this.own(targets), this.own(logprobs), this.own(logSumExp));
  }

  tokenLogProbsBackward(dlogprobs: Tensor, logits: Tensor, targets: Tensor, logSumExp: Tensor, dlogits: Tensor): void {
    tokenLogProbsBackward(this, this.own(dlogprobs), this.own(logits), this.own(targets), this.own(logSumExp), this.own(dlogits));
  }

  // --- optimisation and sampling ---------------------------------------------------------------------------

  async sumOfSquares(tensors: readonly Tensor[]): Promise<number> {
    const result = sumOfSquares(this, tensors.map((tensor) => this.own(tensor)));
    const values = await this.read(result as WebgpuTensor);
    this.release(result);
    return values[0]!;
  }

  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, options: AdamWOptions): void {
    adamw(this, this.own(param), this.own(grad), this.own(m), this.own(v), options);
  }

  sample(logits: Tensor, uniforms: Tensor, ids: Tensor, options: SamplingKernelOptions): void {
    sample(this, this.own(logits), this.own(uniforms), this.own(ids), options);
  }

  // --- KernelContext --------------------------------------------------------------------------------------

  dispatch(program: KernelProgram, bindings: readonly KernelBinding[], uniforms: Uniforms, workgroups: number | readonly [number, number, number]): void {
    this.checkAlive();
    if (bindings.length !== program.bindings.length) throw new Error(`webgpu device: ${program.key} takes ${program.bindings.length} tensors, got ${bindings.length}`);
    const bound: WebgpuTensor[] = [];
    const ranges: { offset: number; size: number }[] = [];
    for (const binding of bindings) {
      if ('tensor' in binding) {
        const tensor = binding.tensor as WebgpuTensor;
        const offset = binding.offset * 4;
        const size = Math.max(4, binding.count * 4);
        if (offset % this.bindingAlignment !== 0 || size > this.maxBindingBytes || offset + size > tensor.buffer.size || binding.count < 0) {
          throw new Error(`webgpu device: ${program.key}: a window of ${binding.count} elements at element ${binding.offset} of a tensor of ${tensor.size} is not a valid binding`);
        }
        bound.push(tensor);
        ranges.push({ offset, size });
      } else {
        const tensor = binding as WebgpuTensor;
        if (tensor.byteLength > this.maxBindingBytes) {
          throw new UnavailableError(
            `webgpu device: ${program.key} cannot bind a tensor of ${tensor.size} elements (${tensor.byteLength} bytes) whole: ` +
            `it exceeds this adapter's largest storage binding (${this.maxBindingBytes} bytes) and this kernel does not split it`,
          );
        }
        bound.push(tensor);
        ranges.push({ offset: 0, size: tensor.byteLength });
      }
    }
    for (let i = 0; i < bound.length; i++) {
      for (let j = i + 1; j < bound.length; j++) {
        if (bound[i]!.buffer === bound[j]!.buffer && (program.bindings[i] === 'w' || program.bindings[j] === 'w')) {
          throw new Error(`webgpu device: ${program.key}: an output shares memory with another argument`);
        }
      }
    }
    const [x, y, z] = typeof workgroups === 'number' ? this.grid(workgroups) : workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const cached = this.pipeline(program);
    this.openEncoder();
    if (!this.pass) this.pass = this.encoder!.beginComputePass();
    const slot = this.usedSlots++;
    this.arenaWords.set(uniforms.words, (slot * this.uniformStride) / 4);
    const entries: GPUBindGroupEntry[] = bound.map((tensor, binding) => ({ binding, resource: { buffer: tensor.buffer, ...ranges[binding]! } }));
    entries.push({ binding: bound.length, resource: { buffer: this.arena, offset: slot * this.uniformStride, size: uniforms.words.byteLength } });
    const group = this.device.createBindGroup({ layout: cached.layout, entries });
    this.pass.setPipeline(cached.pipeline);
    this.pass.setBindGroup(0, group);
    this.pass.dispatchWorkgroups(x, y, z);
    for (const tensor of bound) tensor.lastUse = this.serial;
    if (this.usedSlots >= this.dispatchesPerSubmission) this.flush();
  }

  scratch(size: number, dtype: 'f32' | 'i32'): KernelTensor {
    return this.newTensor([size], dtype, undefined, false);
  }

  release(tensor: KernelTensor): void {
    this.free(tensor as WebgpuTensor);
  }

  table(values: readonly number[]): KernelTensor {
    return this.newTensor([values.length], 'i32', Int32Array.from(values));
  }

  sameMemory(a: KernelTensor, b: KernelTensor): boolean {
    return (a as WebgpuTensor).buffer === (b as WebgpuTensor).buffer;
  }

  // --- internals ----------------------------------------------------------------------------------------

  private grid(count: number): [number, number, number] {
    if (count === 0) return [0, 0, 0];
    const x = Math.min(count, this.maxWorkgroupsPerDimension);
    const y = Math.ceil(count / x);
    if (y > this.maxWorkgroupsPerDimension) throw new Error(`webgpu device: ${count} workgroups exceed this adapter's dispatch limits`);
    return [x, y, 1];
  }

  private pipeline(program: KernelProgram): CachedPipeline {
    const known = this.pipelines.get(program.key);
    if (known) return known;
    const entries: GPUBindGroupLayoutEntry[] = [...program.bindings].map((access, binding) => ({
      binding, visibility: 4 /* GPUShaderStage.COMPUTE */, buffer: { type: access === 'w' ? 'storage' : 'read-only-storage' },
    }));
    entries.push({ binding: program.bindings.length, visibility: 4, buffer: { type: 'uniform' } });
    const layout = this.device.createBindGroupLayout({ entries, label: program.key });
    const module = this.device.createShaderModule({ code: program.source, label: program.key });
    const pipeline = this.device.createComputePipeline({
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
      label: program.key,
    });
    const cached = { pipeline, layout };
    this.pipelines.set(program.key, cached);
    return cached;
  }

  private openEncoder(): void {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = undefined;
    }
  }

  /** Submits what has been recorded; buffers freed meanwhile join the pool. */
  private flush(): void {
    if (!this.encoder) return;
    this.endPass();
    if (this.usedSlots > 0) {
      this.device.queue.writeBuffer(this.arena, 0, this.arenaWords.buffer, 0, (this.usedSlots * this.uniformStride));
    }
    this.device.queue.submit([this.encoder.finish()]);
    const submitted = this.serial;
    void this.device.queue.onSubmittedWorkDone().then(() => {
      this.completed = Math.max(this.completed, submitted);
    });
    this.encoder = undefined;
    this.usedSlots = 0;
    this.serial++;
    const released = this.releasedInOpenEncoder;
    this.releasedInOpenEncoder = [];
    for (const buffer of released) this.addToPool(buffer, submitted);
  }

  private recycle(buffer: GPUBuffer, lastUse: number): void {
    if (this.disposed) return;
    if (lastUse === this.serial && this.encoder) this.releasedInOpenEncoder.push(buffer);
    else this.addToPool(buffer, lastUse);
  }

  private addToPool(buffer: GPUBuffer, lastUse: number): void {
    const list = this.pool.get(buffer.size) ?? [];
    list.push({ buffer, lastUse });
    this.pool.set(buffer.size, list);
    this.pooledBytes += buffer.size;
    if (this.pooledBytes > this.poolBytes) this.trimPool();
  }

  /** Destroys pooled buffers that no unfinished submission names; the others stay retired until it finishes. */
  private trimPool(): void {
    for (const [bytes, list] of this.pool) {
      const kept: PooledBuffer[] = [];
      for (const entry of list) {
        if (this.pooledBytes > this.poolBytes / 2 && entry.lastUse <= this.completed) {
          entry.buffer.destroy();
          this.pooledBytes -= bytes;
        } else {
          kept.push(entry);
        }
      }
      if (kept.length) this.pool.set(bytes, kept);
      else this.pool.delete(bytes);
    }
  }

  private newTensor(shape: readonly number[], dtype: 'f32' | 'i32', data?: Float32Array | Int32Array, zero = true): WebgpuTensor {
    this.checkAlive();
    const size = this.elementCount(shape);
    const byteLength = Math.max(4, size * 4);
    if (byteLength > this.info.limits.maxBufferSize) {
      throw new UnavailableError(
        `webgpu device: a tensor of ${size} elements (${byteLength} bytes) exceeds this adapter's largest buffer ` +
        `(maxBufferSize ${this.info.limits.maxBufferSize} bytes); use smaller tensors or a GPU with a larger maxBufferSize`,
      );
    }
    // The size class, but never past the largest buffer (byteLength itself fits).
    const bytes = Math.min(sizeClass(byteLength), Math.floor(this.info.limits.maxBufferSize / 4) * 4);
    const pooled = this.pool.get(bytes)?.pop();
    let buffer: GPUBuffer;
    if (pooled) {
      this.pooledBytes -= bytes;
      buffer = pooled.buffer;
      if (this.pool.get(bytes)!.length === 0) this.pool.delete(bytes);
    } else {
      try {
        buffer = this.device.createBuffer({ size: bytes, usage: usage.storage | usage.copySource | usage.copyDestination, mappedAtCreation: data !== undefined });
      } catch (error) {
        throw new UnavailableError(`webgpu device: out of GPU memory allocating ${bytes} bytes (${(error as Error).message})`, {
          hint: 'use a smaller model or batch (or LoRA: --lora-rank), or --backend wasm',
        });
      }
    }
    const tensor = new WebgpuTensor([...shape], dtype, size, buffer, byteLength, this);
    this.live.add(tensor);
    if (data !== undefined) {
      if (pooled) {
        if (size > 0) this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      } else {
        const range = buffer.getMappedRange();
        (dtype === 'i32' ? new Int32Array(range, 0, size) : new Float32Array(range, 0, size)).set(data);
        buffer.unmap();
      }
    } else if (pooled && zero) {
      fill(this, tensor, 0);
    }
    return tensor;
  }

  private elementCount(shape: readonly number[]): number {
    let size = 1;
    for (const dimension of shape) {
      if (!Number.isInteger(dimension) || dimension < 0) throw new Error(`webgpu device: bad shape [${shape.join(', ')}]`);
      size *= dimension;
    }
    return size;
  }

  private own(tensor: Tensor): WebgpuTensor {
    if (!(tensor instanceof WebgpuTensor) || tensor.owner !== this) throw new Error('webgpu device: tensor from another device');
    if (tensor.freed) throw new Error('webgpu device: tensor used after free');
    this.checkAlive();
    return tensor;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('webgpu device: used after dispose');
  }

  private throwErrors(): void {
    if (this.errors.length === 0) return;
    const message = this.errors.splice(0).join('; ');
    // Out of memory, a lost device, a driver's refusal: the work since the last wait is gone, and a run stops here
    // with its last checkpoint intact.
    throw new UnavailableError(`webgpu device: ${message}`, {
      hint: 'a run keeps its last checkpoint: continue it with --resume (with --backend wasm if the GPU is gone; a smaller batch if it ran out of memory)',
    });
  }
}

/** The limits the kernels rely on, asked for up to what the adapter offers. */
function requiredLimits(adapter: GPUAdapter): Record<string, number> {
  const limits = adapter.limits;
  return {
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
    maxBufferSize: limits.maxBufferSize,
    maxStorageBuffersPerShaderStage: Math.min(limits.maxStorageBuffersPerShaderStage, 16),
    maxComputeWorkgroupStorageSize: Math.min(limits.maxComputeWorkgroupStorageSize, 32768),
    maxComputeInvocationsPerWorkgroup: Math.min(limits.maxComputeInvocationsPerWorkgroup, 1024),
    maxComputeWorkgroupSizeX: Math.min(limits.maxComputeWorkgroupSizeX, 1024),
  };
}

/** Minimums below which the kernels cannot run (WebGPU's defaults cover all but the storage-buffer count). */
const neededStorageBuffers = 9;

/** A WebGPU device on the chosen adapter (see WebgpuDeviceOptions.adapter). */
export async function createWebgpuDevice(options: WebgpuDeviceOptions = {}): Promise<WebgpuDevice> {
  const gpu = acquireInstance();
  try {
    const adapters = await listAdapters(gpu);
    const adapter = chooseAdapter(adapters, options.adapter);
    if (adapter.limits.maxStorageBuffersPerShaderStage < neededStorageBuffers) {
      throw new UnavailableError(`webgpu device: ${describeAdapter(adapter)} offers ${adapter.limits.maxStorageBuffersPerShaderStage} storage buffers per shader stage; the kernels need ${neededStorageBuffers}`, {
        hint: 'use --backend wasm on this machine',
      });
    }
    const device = await adapter.requestDevice({ requiredLimits: requiredLimits(adapter), label: 'lsp' });
    return new WebgpuDevice(device, adapter, adapters.indexOf(adapter), options);
  } catch (error) {
    releaseInstance();
    throw error;
  }
}

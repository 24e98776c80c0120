// The compute device interface, v1: explicit tensors and the kernels the Llama-family model is written over.
// A backend (WebGPU, WASM, the float64 oracle) implements this; packages/model never sees anything else.
//
// Shape legend used in the comments: N rows (tokens, B*T flattened), B batch, T time (query positions),
// S key positions, H query heads, K key/value heads, D head dimension, C channels (hidden), I intermediate,
// V vocabulary. All compute is float32; f16/bf16 are storage types a backend may accept on upload.

export type DType = 'f32' | 'f16' | 'bf16' | 'i32';

/** An opaque handle to memory owned by a device. Only the device that made it may use it. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Number of elements (the product of shape). */
  readonly size: number;
}

export interface MatmulOptions {
  /** Use A transposed: A is stored (K, M) and read as (M, K). */
  transposeA?: boolean;
  /** Use B transposed: B is stored (N, K) and read as (K, N). Linear layers store weights this way. */
  transposeB?: boolean;
  /** Number of independent matrix products; A, B and out hold `batch` matrices back to back. Default 1. */
  batch?: number;
  /** Whether B is shared by every batch entry instead of strided. Default false. */
  broadcastB?: boolean;
  /** out = alpha * op(A) op(B) + (accumulate ? out : 0). alpha defaults to 1. */
  alpha?: number;
  accumulate?: boolean;
}

export interface AttentionOptions {
  /** Position of the first query row relative to the first key, per batch entry (for a KV cache). */
  queryOffset: Int32Array | readonly number[];
  /** Number of valid keys per batch entry (padding beyond it is ignored). */
  keyLength: Int32Array | readonly number[];
  /** Number of leading keys to ignore per batch entry (left padding). Default all zeros. */
  keyStart?: Int32Array | readonly number[];
  /** 1/sqrt(D) unless given. */
  scale?: number;
}

export interface SamplingKernelOptions {
  /** 0 means greedy (argmax). */
  temperature: number;
  /** 0 disables top-k. */
  topK: number;
  /** 1 disables top-p. */
  topP: number;
}

export interface AdamWOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** 1-based step number, for bias correction. */
  step: number;
}

export interface DeviceInfo {
  /** e.g. 'wasm-simd128 (2 threads)', 'NVIDIA H100 (vulkan)'. */
  description: string;
  kind: 'cpu' | 'gpu' | 'reference';
  /** Storage dtypes accepted by `upload`. */
  storageTypes: readonly DType[];
}

/**
 * A device: tensors and kernels. Kernels are enqueued in call order; `read` and `synchronize` wait for them.
 * Every kernel writes into a caller-allocated output, so memory is under the model's control.
 */
export interface DeviceV1 {
  readonly specificationVersion: 'v1';
  readonly name: string;
  readonly info: DeviceInfo;

  // --- memory -----------------------------------------------------------------------------------------
  /** A zero-filled tensor. */
  allocate(shape: readonly number[], dtype?: DType): Tensor;
  /** A tensor holding `data`; f16/bf16 data arrives as Uint16Array bit patterns and is widened by the device. */
  upload(data: Float32Array | Int32Array | Uint16Array, shape: readonly number[], dtype?: DType): Tensor;
  /** Overwrites a tensor's contents (same element count). */
  write(tensor: Tensor, data: Float32Array | Int32Array): void;
  /** Copies a tensor's contents to the host. */
  read(tensor: Tensor): Promise<Float32Array | Int32Array>;
  /** Copies `count` elements from `source[sourceOffset..]` into `target[targetOffset..]`. */
  copy(source: Tensor, target: Tensor, sourceOffset?: number, targetOffset?: number, count?: number): void;
  free(tensor: Tensor): void;
  synchronize(): Promise<void>;
  /** Releases everything the device holds. */
  dispose(): void;

  // --- elementwise --------------------------------------------------------------------------------------
  /** out = a + b (same shape). out may alias a. */
  add(a: Tensor, b: Tensor, out: Tensor): void;
  /** out = x * factor. out may alias x. */
  scale(x: Tensor, factor: number, out: Tensor): void;
  fill(x: Tensor, value: number): void;

  // --- linear algebra -----------------------------------------------------------------------------------
  /** out (batch, M, N) = op(A) (batch, M, K) x op(B) (batch, K, N); see MatmulOptions. */
  matmul(a: Tensor, b: Tensor, out: Tensor, m: number, n: number, k: number, options?: MatmulOptions): void;

  // --- layers (forward / backward pairs; backward outputs are accumulated into, never overwritten) -------
  /** out (N, C) = x / rms(x) * weight; rstd (N) keeps 1/rms for backward. */
  rmsnormForward(x: Tensor, weight: Tensor, out: Tensor, rstd: Tensor, epsilon: number): void;
  /** dx += d/dx, dweight += d/dweight. */
  rmsnormBackward(dout: Tensor, x: Tensor, weight: Tensor, rstd: Tensor, dx: Tensor, dweight: Tensor): void;

  /**
   * Rotary embedding in the Hugging Face layout (rotate_half: pairs (i, i + D/2)), applied per head.
   * x and out (N, heads, D); positions (N) i32; cos and sin (maxPosition, D/2). `inverse` rotates backwards,
   * which is the backward pass.
   */
  rope(x: Tensor, positions: Tensor, cos: Tensor, sin: Tensor, out: Tensor, heads: number, inverse?: boolean): void;

  /**
   * Causal attention with grouped-query heads. q (B, T, H, D); k, v (B, S, K, D) with H a multiple of K;
   * out (B, T, H, D); logSumExp (B, H, T) kept for backward. Query t of entry b sits at key position
   * queryOffset[b] + t and sees keys keyStart[b] <= s <= that position, s < keyLength[b].
   */
  attentionForward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, options: AttentionOptions): void;
  /** dq, dk, dv += gradients. */
  attentionBackward(
    dout: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor,
    dq: Tensor, dk: Tensor, dv: Tensor, options: AttentionOptions,
  ): void;

  /** out (N, I) = silu(gate) * up. */
  swigluForward(gate: Tensor, up: Tensor, out: Tensor): void;
  /** dgate, dup += gradients. */
  swigluBackward(dout: Tensor, gate: Tensor, up: Tensor, dgate: Tensor, dup: Tensor): void;

  /** out (N, C) = table[ids]; ids (N) i32, table (V, C). */
  embeddingForward(ids: Tensor, table: Tensor, out: Tensor): void;
  /** dtable[ids[n]] += dout[n]. */
  embeddingBackward(ids: Tensor, dout: Tensor, dtable: Tensor): void;

  /**
   * Token log-probabilities: logprobs (N) = log_softmax(logits (N, V))[targets]; rows with target < 0 give 0.
   * logSumExp (N) is kept for backward.
   */
  tokenLogProbsForward(logits: Tensor, targets: Tensor, logprobs: Tensor, logSumExp: Tensor): void;
  /** dlogits (N, V) = dlogprobs[n] * (onehot(target) - softmax(logits)); overwritten (logits are large). */
  tokenLogProbsBackward(dlogprobs: Tensor, logits: Tensor, targets: Tensor, logSumExp: Tensor, dlogits: Tensor): void;

  // --- optimisation ---------------------------------------------------------------------------------------
  /** Sum of squares of every element of every tensor, for the global gradient norm. */
  sumOfSquares(tensors: readonly Tensor[]): Promise<number>;
  /** Decoupled-weight-decay Adam, in place on param, m and v. */
  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, options: AdamWOptions): void;

  // --- sampling -------------------------------------------------------------------------------------------
  /**
   * Draws one token per row of logits (N, V) into ids (N) i32. `uniforms` (N) holds one uniform [0, 1) number
   * per row from the caller's seeded generator, so every backend draws the same tokens for the same seed.
   */
  sample(logits: Tensor, uniforms: Tensor, ids: Tensor, options: SamplingKernelOptions): void;
}

// The compute device interface, v1: explicit tensors and the kernels the Llama-family model is written over.
// A backend (WebGPU, WASM, the float64 oracle in @lsp/oracle) implements this; packages/model sees nothing else.
//
// Shape legend used in the comments: N rows (tokens, B*T flattened), B batch, T time (query positions),
// S key positions (KV-cache capacity), H query heads, K key/value heads, D head dimension, C channels
// (hidden), I intermediate, V vocabulary. All compute is float32; f16/bf16 are storage types a backend may
// accept on upload (widened to f32). The oracle computes in float64 and is the definition of every kernel.
//
// Dimensions: a kernel takes its dimensions from its explicit arguments or from element counts as written
// on each method, never from `Tensor.shape`. A tensor is a flat run of elements and the shape is a label,
// so an (N, H*D) projection output may be passed where (N, H, D) or (N*H, D) is expected.
// Aliasing: an output may alias an input only where the method says so.

export type DType = 'f32' | 'f16' | 'bf16' | 'i32';

/** An opaque handle to memory owned by a device. Only the device that made it may use it. */
export interface Tensor {
  readonly shape: readonly number[];
  /** 'f32' or 'i32' once on the device (f16/bf16 uploads are widened to f32). */
  readonly dtype: DType;
  /** Number of elements (the product of shape). */
  readonly size: number;
}

export interface MatmulOptions {
  /** Use A transposed: A is stored (batch, K, M) and read as (M, K). */
  transposeA?: boolean;
  /** Use B transposed: B is stored (batch, N, K) and read as (K, N). Linear layers store weights this way. */
  transposeB?: boolean;
  /** Number of independent matrix products; A, B and out hold `batch` matrices back to back. Default 1. */
  batch?: number;
  /** Whether B is shared by every batch entry instead of strided. Default false. */
  broadcastB?: boolean;
  /** out = alpha * op(A) op(B) + (accumulate ? out : 0). alpha defaults to 1. */
  alpha?: number;
  accumulate?: boolean;
}

/**
 * Causal grouped-query attention over a key/value buffer of capacity S per batch entry.
 * B = queryOffset.length; T = q.size / (B * H * D); S = k.size / (B * K * D).
 */
export interface AttentionOptions {
  /** H, query heads. */
  heads: number;
  /** K, key/value heads; H is a multiple of K and query head h reads key/value head floor(h / (H / K)). */
  keyValueHeads: number;
  /** D. */
  headDim: number;
  /** Key position of the first query row, per batch entry (the number of keys already cached before it). */
  queryOffset: Int32Array | readonly number[];
  /** Number of valid keys per batch entry; keys at s >= keyLength[b] are ignored. */
  keyLength: Int32Array | readonly number[];
  /** Number of leading keys to ignore per batch entry (left padding). Default all zeros. */
  keyStart?: Int32Array | readonly number[];
  /** 1/sqrt(D) unless given. */
  scale?: number;
}

export interface SamplingKernelOptions {
  /** 0 means greedy (argmax, the lowest index among equal maxima). */
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
  /** The gradient is read as grad * gradientScale (gradient clipping without a separate pass). Default 1. */
  gradientScale?: number;
}

export interface DeviceInfo {
  /** e.g. 'wasm-simd128 (2 threads)', 'NVIDIA H100 (vulkan)', 'float64 reference'. */
  description: string;
  kind: 'cpu' | 'gpu' | 'reference';
  /** Storage dtypes accepted by `upload`. */
  storageTypes: readonly DType[];
}

/**
 * A device: tensors and kernels. Kernels are enqueued in call order; `read`, `sumOfSquares` and
 * `synchronize` wait for them. Every kernel writes into a caller-allocated output, so memory is under the
 * model's control. Backward kernels accumulate into their gradient outputs (+=) unless a method says
 * "overwritten", so a parameter used twice (tied embeddings) sums its gradients without extra passes.
 */
export interface DeviceV1 {
  readonly specificationVersion: 'v1';
  readonly name: string;
  readonly info: DeviceInfo;

  // --- memory -----------------------------------------------------------------------------------------
  /** A zero-filled tensor ('f32' unless given; 'f16'/'bf16' allocate f32). */
  allocate(shape: readonly number[], dtype?: DType): Tensor;
  /**
   * A tensor holding `data`. dtype defaults to 'f32' for Float32Array, 'i32' for Int32Array; Uint16Array data
   * are f16 or bf16 bit patterns (dtype says which) and are widened to f32 by the device.
   */
  upload(data: Float32Array | Int32Array | Uint16Array, shape: readonly number[], dtype?: DType): Tensor;
  /** Overwrites a tensor's contents (same element count). */
  write(tensor: Tensor, data: Float32Array | Int32Array): void;
  /** Copies a tensor's contents to the host: Float32Array for f32 tensors, Int32Array for i32. */
  read(tensor: Tensor): Promise<Float32Array | Int32Array>;
  /**
   * Copies `count` elements from `source[sourceOffset..]` into `target[targetOffset..]` (offsets in elements,
   * default 0; count defaults to all of source). Same dtype; source and target must not be the same tensor.
   */
  copy(source: Tensor, target: Tensor, sourceOffset?: number, targetOffset?: number, count?: number): void;
  /**
   * Strided copy of `rows` runs of `rowLength` elements: for r < rows,
   * target[targetOffset + r*targetStride ..+rowLength] = source[sourceOffset + r*sourceStride ..+rowLength].
   * Writes new keys/values into a KV cache (B, S, K, D) and gathers one position per sequence.
   */
  copyRows(
    source: Tensor, target: Tensor, rows: number, rowLength: number,
    sourceOffset: number, sourceStride: number, targetOffset: number, targetStride: number,
  ): void;
  free(tensor: Tensor): void;
  synchronize(): Promise<void>;
  /** Releases everything the device holds. */
  dispose(): void;

  // --- elementwise --------------------------------------------------------------------------------------
  /**
   * out[i] = a[i] + b[i % b.size]; a.size is a multiple of b.size, so b is either the same size as a (the
   * residual add) or one row repeated over the rows of a (the bias add, b (C) over a (N, C)). out may alias a.
   */
  add(a: Tensor, b: Tensor, out: Tensor): void;
  /**
   * out[i] = a[i] * b[i], all three the same size; out may alias a. Optional in v1 (added after it was
   * published): what needs it (LoRA dropout) says so when a backend lacks it.
   */
  multiply?(a: Tensor, b: Tensor, out: Tensor): void;
  /** out = x * factor. out may alias x. */
  scale(x: Tensor, factor: number, out: Tensor): void;
  fill(x: Tensor, value: number): void;
  /** out (C) += sum over rows of x (N, C), C = out.size: the gradient of a bias (the backward of the bias add). */
  sumRows(x: Tensor, out: Tensor): void;

  // --- linear algebra -----------------------------------------------------------------------------------
  /** out (batch, M, N) = alpha * op(A) (batch, M, K) x op(B) (batch, K, N) [+ out]; see MatmulOptions. */
  matmul(a: Tensor, b: Tensor, out: Tensor, m: number, n: number, k: number, options?: MatmulOptions): void;

  // --- layers (forward / backward pairs) ----------------------------------------------------------------
  /**
   * out (N, C) = x / sqrt(mean(x^2) + epsilon) * weight, C = weight.size, N = x.size / C; rstd (N) keeps
   * 1/sqrt(mean(x^2) + epsilon) for backward. QK-norm is this kernel over (N*H, D) with weight (D).
   */
  rmsnormForward(x: Tensor, weight: Tensor, out: Tensor, rstd: Tensor, epsilon: number): void;
  /** dx (N, C) += d/dx, dweight (C) += d/dweight. */
  rmsnormBackward(dout: Tensor, x: Tensor, weight: Tensor, rstd: Tensor, dx: Tensor, dweight: Tensor): void;

  /**
   * Rotary embedding in the Hugging Face layout (rotate_half: pairs (i, i + D/2)), applied per head:
   * for i < D/2, with c = cos[p, i], s = sin[p, i] and p = positions[n],
   *   out[n, h, i] = x[n, h, i] c - x[n, h, i + D/2] s;  out[n, h, i + D/2] = x[n, h, i + D/2] c + x[n, h, i] s.
   * x and out (N, heads, D), N = positions.size, D = x.size / (N * heads); positions (N) i32; cos and sin
   * (maxPosition, D/2) (the model bakes rope scaling into them). `inverse` rotates by -angle, which is the
   * backward pass (dx = rope(dout, inverse), overwritten). out may alias x.
   */
  rope(x: Tensor, positions: Tensor, cos: Tensor, sin: Tensor, out: Tensor, heads: number, inverse?: boolean): void;

  /**
   * Causal attention with grouped-query heads. q (B, T, H, D); k, v (B, S, K, D); out (B, T, H, D);
   * logSumExp (B, H, T) (natural log, of the scaled scores) kept for backward. Query t of entry b sits at key
   * position queryOffset[b] + t and sees keys s with keyStart[b] <= s <= queryOffset[b] + t and s < keyLength[b].
   * A query that sees no key (a left-padding row) gets out = 0 and logSumExp = 0 and has no gradient.
   */
  attentionForward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, options: AttentionOptions): void;
  /** dq (B, T, H, D), dk and dv (B, S, K, D) += gradients, given dout (B, T, H, D) and the forward's tensors. */
  attentionBackward(
    dout: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor,
    dq: Tensor, dk: Tensor, dv: Tensor, options: AttentionOptions,
  ): void;

  /** out (N, I) = silu(gate) * up, silu(x) = x / (1 + exp(-x)). */
  swigluForward(gate: Tensor, up: Tensor, out: Tensor): void;
  /** dgate, dup (N, I) += gradients. */
  swigluBackward(dout: Tensor, gate: Tensor, up: Tensor, dgate: Tensor, dup: Tensor): void;

  /** out (N, C) = table[ids]; ids (N) i32 with 0 <= id < V, table (V, C), C = out.size / N. */
  embeddingForward(ids: Tensor, table: Tensor, out: Tensor): void;
  /** dtable[ids[n]] += dout[n]. */
  embeddingBackward(ids: Tensor, dout: Tensor, dtable: Tensor): void;

  /**
   * Token log-probabilities: logprobs (N) = log_softmax(logits (N, V))[targets], N = targets.size,
   * V = logits.size / N; rows with target < 0 give 0. logSumExp (N) is kept for backward.
   */
  tokenLogProbsForward(logits: Tensor, targets: Tensor, logprobs: Tensor, logSumExp: Tensor): void;
  /**
   * dlogits (N, V) = dlogprobs[n] * (onehot(target) - softmax(logits)), overwritten (logits are large and
   * used once); rows with target < 0 give zeros.
   */
  tokenLogProbsBackward(dlogprobs: Tensor, logits: Tensor, targets: Tensor, logSumExp: Tensor, dlogits: Tensor): void;

  // --- optimisation ---------------------------------------------------------------------------------------
  /** Sum of squares of every element of every tensor (NaN or Infinity if any element is), for the gradient norm. */
  sumOfSquares(tensors: readonly Tensor[]): Promise<number>;
  /**
   * Decoupled-weight-decay Adam (PyTorch's AdamW), in place on param, m and v, with g = grad * gradientScale:
   *   param *= 1 - lr * weightDecay;  m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;
   *   param -= lr * (m / (1 - beta1^step)) / (sqrt(v / (1 - beta2^step)) + epsilon).
   */
  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, options: AdamWOptions): void;

  // --- sampling -------------------------------------------------------------------------------------------
  /**
   * Draws one token per row of logits (N, V) into ids (N) i32, V = logits.size / N. `uniforms` (N) f32 holds
   * one uniform [0, 1) number per row from the caller's seeded generator, so every backend draws the same
   * tokens for the same seed. Definition (temperature > 0), as Hugging Face's warpers in this order:
   *   p = softmax(logits / temperature);
   *   top-k: keep the topK most probable tokens (ties to the lower index);
   *   top-p: renormalise the kept ones, sort them by descending p (ties to the lower index), keep the
   *          shortest prefix whose cumulative sum is >= topP (at least one token);
   *   draw: walk the kept tokens in index order accumulating p; the first whose running sum exceeds
   *         u * (sum of kept p) is the token (the last kept token if rounding leaves none).
   */
  sample(logits: Tensor, uniforms: Tensor, ids: Tensor, options: SamplingKernelOptions): void;
}

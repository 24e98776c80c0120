// The Llama-family transformer (Llama 2/3, Mistral, Qwen2/2.5, Qwen3, SmolLM2) written once over DeviceV1:
// each block a forward/backward pair, activations kept for backward, in dependency order as in llm.c.
//
// Legend: B batch, T time (positions per entry), N = B*T rows, M gathered rows (scored tokens), S KV-cache
// capacity, C hidden, I intermediate, H query heads, K key/value heads, D head dimension, V vocabulary.
// Weights are Hugging Face's: a linear layer W (out, in) computes x W^T (+ bias).
import type { DeviceV1, Tensor } from '@lsp/core';
import type { ModelConfig } from './model-config';
import type { SafetensorsDType } from './safetensors';
import { loraBackward, loraForward, type DropoutSource, type LoraActivations, type LoraState } from './lora';

/** One trainable tensor under its Hugging Face name, with its gradient and AdamW moments once training. */
export interface Parameter {
  name: string;
  shape: number[];
  tensor: Tensor;
  /** The dtype it is saved in (the folder's). */
  storage: SafetensorsDType;
  gradient?: Tensor;
  firstMoment?: Tensor;
  secondMoment?: Tensor;
}

export interface LayerParameters {
  inputNorm: Parameter;
  q: Parameter; qBias?: Parameter;
  k: Parameter; kBias?: Parameter;
  v: Parameter; vBias?: Parameter;
  o: Parameter; oBias?: Parameter;
  qNorm?: Parameter; kNorm?: Parameter;
  postNorm: Parameter;
  gate: Parameter; gateBias?: Parameter;
  up: Parameter; upBias?: Parameter;
  down: Parameter; downBias?: Parameter;
}

export interface ModelParameters {
  embedding: Parameter;
  layers: LayerParameters[];
  finalNorm: Parameter;
  /** The output projection (V, C); the embedding itself when tied. Undefined for a scalar-head model. */
  lmHead: Parameter | undefined;
  /** The scalar head (labels, C) of a sequence-classification model. */
  score: Parameter | undefined;
  /** Every distinct parameter, in file order. */
  all: Parameter[];
}

/** Builds the parameter structure from tensors by name (every name already checked against the config). */
export function assembleParameters(config: ModelConfig, byName: Map<string, Parameter>): ModelParameters {
  const get = (name: string): Parameter => {
    const parameter = byName.get(name);
    if (!parameter) throw new Error(`model: parameter ${name} missing`);
    return parameter;
  };
  const optional = (name: string): Parameter | undefined => byName.get(name);
  const layers: LayerParameters[] = [];
  for (let layer = 0; layer < config.layers; layer++) {
    const prefix = `model.layers.${layer}`;
    layers.push({
      inputNorm: get(`${prefix}.input_layernorm.weight`),
      q: get(`${prefix}.self_attn.q_proj.weight`), qBias: optional(`${prefix}.self_attn.q_proj.bias`),
      k: get(`${prefix}.self_attn.k_proj.weight`), kBias: optional(`${prefix}.self_attn.k_proj.bias`),
      v: get(`${prefix}.self_attn.v_proj.weight`), vBias: optional(`${prefix}.self_attn.v_proj.bias`),
      o: get(`${prefix}.self_attn.o_proj.weight`), oBias: optional(`${prefix}.self_attn.o_proj.bias`),
      qNorm: optional(`${prefix}.self_attn.q_norm.weight`), kNorm: optional(`${prefix}.self_attn.k_norm.weight`),
      postNorm: get(`${prefix}.post_attention_layernorm.weight`),
      gate: get(`${prefix}.mlp.gate_proj.weight`), gateBias: optional(`${prefix}.mlp.gate_proj.bias`),
      up: get(`${prefix}.mlp.up_proj.weight`), upBias: optional(`${prefix}.mlp.up_proj.bias`),
      down: get(`${prefix}.mlp.down_proj.weight`), downBias: optional(`${prefix}.mlp.down_proj.bias`),
    });
  }
  const embedding = get('model.embed_tokens.weight');
  const score = optional('score.weight');
  const lmHead = score ? undefined : config.tieWordEmbeddings ? embedding : get('lm_head.weight');
  return { embedding, layers, finalNorm: get('model.norm.weight'), lmHead, score, all: [...byName.values()] };
}

/**
 * Buffers the last call gave back (a call may hold several passes), kept by shape for the next call, so that a
 * training or decoding step does not allocate (and zero) its activations again. Buffers the next call does not
 * reuse are freed when it finishes, so memory stays at one call's footprint.
 */
export class TensorPool {
  private kept = new Map<string, Tensor[]>();
  private returned: Tensor[] = [];
  constructor(readonly device: DeviceV1) {}

  take(shape: readonly number[], dtype: 'f32' | 'i32'): Tensor | undefined {
    return this.kept.get(`${dtype}:${shape.join(',')}`)?.pop();
  }

  /** Buffers a scope of the current call is done with. */
  release(tensors: readonly Tensor[]): void {
    this.returned.push(...tensors);
  }

  /** Ends a call: frees what it did not reuse and keeps what it released for the next call. */
  finishCall(): void {
    for (const list of this.kept.values()) for (const tensor of list) this.device.free(tensor);
    this.kept.clear();
    for (const tensor of this.returned) {
      const key = `${tensor.dtype}:${tensor.shape.join(',')}`;
      if (!this.kept.has(key)) this.kept.set(key, []);
      this.kept.get(key)!.push(tensor);
    }
    this.returned = [];
  }

  clear(): void {
    this.finishCall();
    this.finishCall();
  }
}

/** Tensors allocated for one pass, freed together (or given to a pool for the next pass). */
export class TensorScope {
  private readonly tensors: Tensor[] = [];
  constructor(readonly device: DeviceV1, private readonly pool?: TensorPool) {}

  private take(shape: number[], dtype: 'f32' | 'i32'): Tensor | undefined {
    const tensor = this.pool?.take(shape, dtype);
    if (tensor) this.tensors.push(tensor);
    return tensor;
  }

  /** A zero-filled tensor (for outputs that kernels accumulate into). */
  allocate(shape: number[], dtype: 'f32' | 'i32' = 'f32'): Tensor {
    const reused = this.take(shape, dtype);
    if (reused) {
      this.device.fill(reused, 0);
      return reused;
    }
    const tensor = this.device.allocate(shape, dtype);
    this.tensors.push(tensor);
    return tensor;
  }

  /** A tensor whose contents the next kernel overwrites entirely (not cleared when reused). */
  output(shape: number[], dtype: 'f32' | 'i32' = 'f32'): Tensor {
    return this.take(shape, dtype) ?? this.allocate(shape, dtype);
  }

  upload(data: Float32Array | Int32Array, shape: number[]): Tensor {
    const reused = this.take(shape, data instanceof Int32Array ? 'i32' : 'f32');
    if (reused) {
      this.device.write(reused, data);
      return reused;
    }
    const tensor = this.device.upload(data, shape);
    this.tensors.push(tensor);
    return tensor;
  }

  free(): void {
    if (this.pool) this.pool.release(this.tensors);
    else for (const tensor of this.tensors) this.device.free(tensor);
    this.tensors.length = 0;
  }
}

/** Where a batch's rows sit: token ids, rotary positions and the attention's per-entry windows. */
export interface BatchLayout {
  batch: number; // B
  time: number; // T
  ids: Tensor; // (N) i32
  positions: Tensor; // (N) i32
  /** Key position of each entry's first row (the number of cached keys before it). */
  queryOffset: number[];
  keyLength: number[];
  keyStart: number[];
}

/** Per-layer KV cache: k, v (B, S, K, D); rows of this pass are written at key position `writeOffset`. */
export interface LayerCache {
  k: Tensor;
  v: Tensor;
  capacity: number; // S
  writeOffset: number;
}

/** Rotary tables on the device: cos, sin (positions, D/2). */
export interface RopeTables {
  cos: Tensor;
  sin: Tensor;
  positions: number;
}

// --- linear ----------------------------------------------------------------------------------------------

/** out (N, O) = x (N, In) W^T (+ bias); W (O, In). */
function linearForward(device: DeviceV1, x: Tensor, weight: Parameter, bias: Parameter | undefined, out: Tensor, rows: number): void {
  const [outFeatures, inFeatures] = weight.shape as [number, number];
  device.matmul(x, weight.tensor, out, rows, outFeatures, inFeatures, { transposeB: true });
  if (bias) device.add(out, bias.tensor, out);
}

/**
 * dx (N, In) += dout W (or = when `overwrite`, for the first of a buffer's contributions, so it needs no
 * clearing); dW += dout^T x; dbias += sum over rows of dout. dx undefined skips it.
 */
function linearBackward(
  device: DeviceV1, dout: Tensor, x: Tensor, weight: Parameter, bias: Parameter | undefined,
  dx: Tensor | undefined, rows: number, overwrite = false,
): void {
  const [outFeatures, inFeatures] = weight.shape as [number, number];
  if (dx) device.matmul(dout, weight.tensor, dx, rows, inFeatures, outFeatures, { accumulate: !overwrite });
  if (weight.gradient) {
    device.matmul(dout, x, weight.gradient, outFeatures, inFeatures, rows, { transposeA: true, accumulate: true });
  }
  if (bias?.gradient) device.sumRows(dout, bias.gradient);
}

/** A projection of a layer: the linear layer, plus its LoRA adapter's term when the context has one for it. */
function projectForward(
  context: ModelContext, scope: TensorScope, kept: Map<Parameter, LoraActivations> | undefined,
  x: Tensor, weight: Parameter, bias: Parameter | undefined, out: Tensor, rows: number,
): void {
  linearForward(context.device, x, weight, bias, out, rows);
  const adapter = context.lora?.byWeight.get(weight);
  if (adapter) kept!.set(weight, loraForward(context.device, scope, adapter, x, out, rows, context.dropout));
}

/** Backward of projectForward (dx as linearBackward: overwritten or accumulated). */
function projectBackward(
  context: ModelContext, scope: TensorScope, saved: LayerActivations, dout: Tensor, x: Tensor,
  weight: Parameter, bias: Parameter | undefined, dx: Tensor | undefined, rows: number, overwrite = false,
): void {
  linearBackward(context.device, dout, x, weight, bias, dx, rows, overwrite);
  const adapter = context.lora?.byWeight.get(weight);
  const kept = saved.lora?.get(weight);
  if (adapter && kept) loraBackward(context.device, scope, adapter, kept, dout, dx, rows);
}

// --- one decoder layer -------------------------------------------------------------------------------------

/** What a layer keeps for its backward pass. */
export interface LayerActivations {
  input: Tensor; // (N, C) residual stream entering the layer
  norm1: Tensor; rstd1: Tensor; // (N, C), (N)
  qRaw: Tensor; kRaw: Tensor; // (N, H*D), (N, K*D) projections (+ bias), before QK-norm
  qNormed?: Tensor; kNormed?: Tensor; rstdQ?: Tensor; rstdK?: Tensor; // QK-norm outputs and (N*H), (N*K)
  q: Tensor; k: Tensor; v: Tensor; // rotated q (N, H*D), rotated k and v (N, K*D)
  attention: Tensor; logSumExp: Tensor; // (N, H*D), (B, H, T)
  middle: Tensor; // (N, C) residual after attention
  norm2: Tensor; rstd2: Tensor;
  gate: Tensor; up: Tensor; activation: Tensor; // (N, I)
  output: Tensor; // (N, C)
  /** What each LoRA-adapted projection keeps, by its base weight. */
  lora?: Map<Parameter, LoraActivations>;
}

export interface ModelContext {
  device: DeviceV1;
  config: ModelConfig;
  parameters: ModelParameters;
  rope: RopeTables;
  /** Most logits held at once (the head works in row chunks beyond it); default 2^24. */
  logitBudget?: number;
  /** Scoring splits a batch into passes of similar lengths of at least this many padded tokens; default 2048. */
  minimumPassTokens?: number;
  /** Bytes of activations one scoring or training pass may keep; default 1 GiB (bounds the tokens of a pass). */
  passBudgetBytes?: number;
  /** LoRA adapters on the projections (the base weights then stay frozen). */
  lora?: LoraState;
  /** Set during a training pass when LoRA dropout is on. */
  dropout?: DropoutSource;
}

function attentionOptions(context: ModelContext, layout: BatchLayout) {
  const { heads, keyValueHeads, headDim } = context.config;
  return {
    heads, keyValueHeads, headDim,
    queryOffset: layout.queryOffset, keyLength: layout.keyLength, keyStart: layout.keyStart,
  };
}

export function layerForward(
  context: ModelContext, scope: TensorScope, weights: LayerParameters, layout: BatchLayout,
  input: Tensor, cache: LayerCache | undefined,
): LayerActivations {
  const { device, config, rope } = context;
  const rows = layout.batch * layout.time;
  const { hiddenSize: c, intermediateSize: i, heads: h, keyValueHeads: kv, headDim: d } = config;
  const epsilon = config.rmsNormEpsilon;
  const lora = context.lora ? new Map<Parameter, LoraActivations>() : undefined;
  const project = (x: Tensor, weight: Parameter, bias: Parameter | undefined, out: Tensor) =>
    projectForward(context, scope, lora, x, weight, bias, out, rows);

  const norm1 = scope.output([rows, c]);
  const rstd1 = scope.output([rows]);
  device.rmsnormForward(input, weights.inputNorm.tensor, norm1, rstd1, epsilon);
  const qRaw = scope.output([rows, h * d]);
  const kRaw = scope.output([rows, kv * d]);
  const v = scope.output([rows, kv * d]);
  project(norm1, weights.q, weights.qBias, qRaw);
  project(norm1, weights.k, weights.kBias, kRaw);
  project(norm1, weights.v, weights.vBias, v);

  let qNormed: Tensor | undefined;
  let kNormed: Tensor | undefined;
  let rstdQ: Tensor | undefined;
  let rstdK: Tensor | undefined;
  if (weights.qNorm && weights.kNorm) {
    // QK-norm: RMSNorm over each head's D channels, i.e. rows (N*H, D).
    qNormed = scope.output([rows * h, d]);
    kNormed = scope.output([rows * kv, d]);
    rstdQ = scope.output([rows * h]);
    rstdK = scope.output([rows * kv]);
    device.rmsnormForward(qRaw, weights.qNorm.tensor, qNormed, rstdQ, epsilon);
    device.rmsnormForward(kRaw, weights.kNorm.tensor, kNormed, rstdK, epsilon);
  }
  const q = scope.output([rows, h * d]);
  const k = scope.output([rows, kv * d]);
  device.rope(qNormed ?? qRaw, layout.positions, rope.cos, rope.sin, q, h);
  device.rope(kNormed ?? kRaw, layout.positions, rope.cos, rope.sin, k, kv);

  const attention = scope.output([rows, h * d]);
  const logSumExp = scope.output([layout.batch, h, layout.time]);
  const options = attentionOptions(context, layout);
  if (cache) {
    // New keys and values go to key positions writeOffset.. of every entry's cache row.
    const run = layout.time * kv * d;
    const stride = cache.capacity * kv * d;
    device.copyRows(k, cache.k, layout.batch, run, 0, run, cache.writeOffset * kv * d, stride);
    device.copyRows(v, cache.v, layout.batch, run, 0, run, cache.writeOffset * kv * d, stride);
    device.attentionForward(q, cache.k, cache.v, attention, logSumExp, options);
  } else {
    device.attentionForward(q, k, v, attention, logSumExp, options);
  }
  const middle = scope.output([rows, c]);
  project(attention, weights.o, weights.oBias, middle);
  device.add(middle, input, middle);

  const norm2 = scope.output([rows, c]);
  const rstd2 = scope.output([rows]);
  device.rmsnormForward(middle, weights.postNorm.tensor, norm2, rstd2, epsilon);
  const gate = scope.output([rows, i]);
  const up = scope.output([rows, i]);
  project(norm2, weights.gate, weights.gateBias, gate);
  project(norm2, weights.up, weights.upBias, up);
  const activation = scope.output([rows, i]);
  device.swigluForward(gate, up, activation);
  const output = scope.output([rows, c]);
  project(activation, weights.down, weights.downBias, output);
  device.add(output, middle, output);

  return {
    input, norm1, rstd1, qRaw, kRaw, qNormed, kNormed, rstdQ, rstdK, q, k, v, attention, logSumExp,
    middle, norm2, rstd2, gate, up, activation, output, lora,
  };
}

/**
 * Backward through one layer. `residual` (N, C) holds dLoss/d(output) on entry and dLoss/d(input) on exit
 * (the residual stream's gradient is updated in place, as llm.c does).
 */
export function layerBackward(
  context: ModelContext, scope: TensorScope, weights: LayerParameters, layout: BatchLayout,
  saved: LayerActivations, residual: Tensor,
): void {
  const { device, config, rope } = context;
  const rows = layout.batch * layout.time;
  const { intermediateSize: i, heads: h, keyValueHeads: kv, headDim: d, hiddenSize: c } = config;

  // MLP: output = middle + down(swiglu(gate(norm2), up(norm2))).
  const dActivation = scope.output([rows, i]);
  projectBackward(context, scope, saved, residual, saved.activation, weights.down, weights.downBias, dActivation, rows, true);
  const dGate = scope.allocate([rows, i]);
  const dUp = scope.allocate([rows, i]);
  device.swigluBackward(dActivation, saved.gate, saved.up, dGate, dUp);
  const dNorm2 = scope.output([rows, c]);
  projectBackward(context, scope, saved, dGate, saved.norm2, weights.gate, weights.gateBias, dNorm2, rows, true);
  projectBackward(context, scope, saved, dUp, saved.norm2, weights.up, weights.upBias, dNorm2, rows);
  device.rmsnormBackward(dNorm2, saved.middle, weights.postNorm.tensor, saved.rstd2, residual, gradientOrScratch(scope, weights.postNorm));

  // Attention: middle = input + o(attention(rope(q), rope(k), v)).
  const dAttention = scope.output([rows, h * d]);
  projectBackward(context, scope, saved, residual, saved.attention, weights.o, weights.oBias, dAttention, rows, true);
  const dq = scope.allocate([rows, h * d]);
  const dk = scope.allocate([rows, kv * d]);
  const dv = scope.allocate([rows, kv * d]);
  device.attentionBackward(
    dAttention, saved.q, saved.k, saved.v, saved.attention, saved.logSumExp, dq, dk, dv, attentionOptions(context, layout),
  );
  // The inverse rotation is rope's backward; it overwrites, so rotate into fresh buffers.
  const dqPre = scope.output([rows, h * d]);
  const dkPre = scope.output([rows, kv * d]);
  device.rope(dq, layout.positions, rope.cos, rope.sin, dqPre, h, true);
  device.rope(dk, layout.positions, rope.cos, rope.sin, dkPre, kv, true);
  let dqRaw = dqPre;
  let dkRaw = dkPre;
  if (weights.qNorm && weights.kNorm && saved.rstdQ && saved.rstdK) {
    dqRaw = scope.allocate([rows, h * d]);
    dkRaw = scope.allocate([rows, kv * d]);
    device.rmsnormBackward(dqPre, saved.qRaw, weights.qNorm.tensor, saved.rstdQ, dqRaw, gradientOrScratch(scope, weights.qNorm));
    device.rmsnormBackward(dkPre, saved.kRaw, weights.kNorm.tensor, saved.rstdK, dkRaw, gradientOrScratch(scope, weights.kNorm));
  }
  const dNorm1 = scope.output([rows, c]);
  projectBackward(context, scope, saved, dqRaw, saved.norm1, weights.q, weights.qBias, dNorm1, rows, true);
  projectBackward(context, scope, saved, dkRaw, saved.norm1, weights.k, weights.kBias, dNorm1, rows);
  projectBackward(context, scope, saved, dv, saved.norm1, weights.v, weights.vBias, dNorm1, rows);
  device.rmsnormBackward(dNorm1, saved.input, weights.inputNorm.tensor, saved.rstd1, residual, gradientOrScratch(scope, weights.inputNorm));
}

/** A parameter's gradient, or a throwaway buffer when it has none (a frozen model's backward). */
function gradientOrScratch(scope: TensorScope, parameter: Parameter): Tensor {
  return parameter.gradient ?? scope.allocate([...parameter.shape]);
}

// --- the whole stack ------------------------------------------------------------------------------------------

/** Embedding and every layer; returns each layer's activations (the last one's output is the final residual). */
export function stackForward(
  context: ModelContext, scope: TensorScope, layout: BatchLayout, caches: LayerCache[] | undefined,
): { embedded: Tensor; layers: LayerActivations[] } {
  const rows = layout.batch * layout.time;
  const embedded = scope.output([rows, context.config.hiddenSize]);
  context.device.embeddingForward(layout.ids, context.parameters.embedding.tensor, embedded);
  const layers: LayerActivations[] = [];
  let x = embedded;
  context.parameters.layers.forEach((weights, index) => {
    const saved = layerForward(context, scope, weights, layout, x, caches?.[index]);
    layers.push(saved);
    x = saved.output;
  });
  return { embedded, layers };
}

/** Backward through every layer and the embedding, from dLoss/d(final residual) held in `residual`. */
export function stackBackward(
  context: ModelContext, scope: TensorScope, layout: BatchLayout, layers: LayerActivations[], residual: Tensor,
): void {
  for (let index = layers.length - 1; index >= 0; index--) {
    layerBackward(context, scope, context.parameters.layers[index]!, layout, layers[index]!, residual);
  }
  const embedding = context.parameters.embedding;
  if (embedding.gradient) context.device.embeddingBackward(layout.ids, residual, embedding.gradient);
}

// --- the head: gather scored rows, final norm, logits, token log-probabilities -----------------------------------

/** Contiguous runs of rows of the (N, C) residual that are scored: `count` rows from `row`, into gathered row `at`. */
export interface RowRun {
  row: number;
  at: number;
  count: number;
}

export interface HeadActivations {
  gathered: Tensor; // (M, C) final residual rows
  normed: Tensor; rstd: Tensor; // (M, C), (M)
  targets: Tensor; // (M) i32
  logprobs: Tensor; // (M)
  /** Logits (M, V) when they fit in one chunk; recomputed chunk by chunk in backward otherwise. */
  logits?: Tensor;
  logSumExp?: Tensor;
}

/** Rows of logits computed at once: large vocabularies are processed in chunks of about `budget` logits. */
export function logitChunkRows(vocabulary: number, budget = 1 << 24): number {
  return Math.max(1, Math.floor(budget / vocabulary));
}

/** Gathers rows of x (N, C) into (M, C). */
export function gatherRows(device: DeviceV1, x: Tensor, runs: readonly RowRun[], out: Tensor, channels: number): void {
  for (const run of runs) device.copy(x, out, run.row * channels, run.at * channels, run.count * channels);
}

/** Final norm of gathered rows: normed (M, C). */
export function finalNormForward(context: ModelContext, scope: TensorScope, gathered: Tensor, rows: number) {
  const normed = scope.output([rows, context.config.hiddenSize]);
  const rstd = scope.output([rows]);
  context.device.rmsnormForward(gathered, context.parameters.finalNorm.tensor, normed, rstd, context.config.rmsNormEpsilon);
  return { normed, rstd };
}

/** logits (rows, V) of normed rows [start, start + rows), through the output projection. */
function logitsOf(context: ModelContext, scope: TensorScope, normed: Tensor, start: number, rows: number, total: number): { logits: Tensor; input: Tensor } {
  const { device, config, parameters } = context;
  const c = config.hiddenSize;
  let input = normed;
  if (rows !== total) {
    input = scope.output([rows, c]);
    device.copy(normed, input, start * c, 0, rows * c);
  }
  const logits = scope.output([rows, config.vocabularySize]);
  linearForward(device, input, parameters.lmHead!, undefined, logits, rows);
  return { logits, input };
}

/** Token log-probabilities (M) of `targets` at the gathered rows. */
export function headForward(
  context: ModelContext, scope: TensorScope, residual: Tensor, runs: readonly RowRun[], targets: Int32Array,
): HeadActivations {
  const { device, config } = context;
  const rows = targets.length;
  const c = config.hiddenSize;
  const gathered = scope.output([rows, c]);
  gatherRows(device, residual, runs, gathered, c);
  const { normed, rstd } = finalNormForward(context, scope, gathered, rows);
  const targetTensor = scope.upload(targets, [rows]);
  const logprobs = scope.output([rows]);
  const chunk = logitChunkRows(config.vocabularySize, context.logitBudget);
  if (rows <= chunk) {
    const { logits } = logitsOf(context, scope, normed, 0, rows, rows);
    const logSumExp = scope.output([rows]);
    device.tokenLogProbsForward(logits, targetTensor, logprobs, logSumExp);
    return { gathered, normed, rstd, targets: targetTensor, logprobs, logits, logSumExp };
  }
  for (let start = 0; start < rows; start += chunk) {
    const count = Math.min(chunk, rows - start);
    const inner = new TensorScope(device);
    const { logits } = logitsOf(context, inner, normed, start, count, rows);
    const chunkTargets = inner.allocate([count], 'i32');
    device.copy(targetTensor, chunkTargets, start, 0, count);
    const chunkLogprobs = inner.allocate([count]);
    const logSumExp = inner.allocate([count]);
    device.tokenLogProbsForward(logits, chunkTargets, chunkLogprobs, logSumExp);
    device.copy(chunkLogprobs, logprobs, 0, start, count);
    inner.free();
  }
  return { gathered, normed, rstd, targets: targetTensor, logprobs };
}

/** From dLoss/dlogprob (M), accumulates head gradients and writes dLoss/d(final residual) into `residual` (N, C), zeroed here. */
export function headBackward(
  context: ModelContext, scope: TensorScope, saved: HeadActivations, runs: readonly RowRun[],
  dlogprobs: Tensor, residual: Tensor,
): void {
  const { device, config, parameters } = context;
  const rows = saved.targets.size;
  const c = config.hiddenSize;
  const dNormed = scope.allocate([rows, c]);
  const chunk = logitChunkRows(config.vocabularySize, context.logitBudget);
  for (let start = 0; start < rows; start += chunk) {
    const count = Math.min(chunk, rows - start);
    const inner = new TensorScope(device);
    let logits = saved.logits;
    let logSumExp = saved.logSumExp;
    let input = saved.normed;
    let targets = saved.targets;
    let dChunk = dlogprobs;
    if (!logits || !logSumExp || count !== rows) {
      const computed = logitsOf(context, inner, saved.normed, start, count, rows);
      logits = computed.logits;
      input = computed.input;
      targets = inner.allocate([count], 'i32');
      device.copy(saved.targets, targets, start, 0, count);
      const chunkLogprobs = inner.allocate([count]);
      logSumExp = inner.allocate([count]);
      device.tokenLogProbsForward(logits, targets, chunkLogprobs, logSumExp);
      dChunk = inner.allocate([count]);
      device.copy(dlogprobs, dChunk, start, 0, count);
    }
    const dLogits = inner.output([count, config.vocabularySize]);
    device.tokenLogProbsBackward(dChunk, logits, targets, logSumExp, dLogits);
    if (count === rows) {
      linearBackward(device, dLogits, input, parameters.lmHead!, undefined, dNormed, count);
    } else {
      const dInput = inner.allocate([count, c]);
      linearBackward(device, dLogits, input, parameters.lmHead!, undefined, dInput, count);
      device.copy(dInput, dNormed, 0, start * c, count * c);
    }
    inner.free();
  }
  const dGathered = scope.allocate([rows, c]);
  device.rmsnormBackward(dNormed, saved.gathered, parameters.finalNorm.tensor, saved.rstd, dGathered, gradientOrScratch(scope, parameters.finalNorm));
  device.fill(residual, 0);
  for (const run of runs) device.copy(dGathered, residual, run.at * c, run.row * c, run.count * c);
}

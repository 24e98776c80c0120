// LlamaModel: the Llama-family transformer as a PolicyModelV1 — batched log-probabilities, gradient
// accumulation and AdamW, batched KV-cache generation, the scalar head of reward models, clone and save.
import {
  InvalidInputError, LspError, NonFiniteError,
  type DeviceV1, type GenerationRequest, type GenerationResult, type OptimizerOptions, type PolicyModelV1,
  type SamplingOptions, type SaveOptions, type ScoredSequence, type TokenizerV1, type TrainingStepResult,
} from '@lsp/core';
import {
  TensorPool, TensorScope, assembleParameters, finalNormForward, gatherRows, headBackward, headForward, stackBackward,
  stackForward, type BatchLayout, type LayerCache, type ModelContext, type ModelParameters, type Parameter,
  type RopeTables, type RowRun,
} from './llama';
import {
  copyLoraState, freeLoraState, loraParameters, mergeLoraIntoWeights, type DropoutSource, type LoraState,
} from './lora';
import type { ModelConfig } from './model-config';
import { ropeTables } from './rope';
import { createRandom } from '@lsp/oracle';

/** A 32-bit seed mixed from several numbers (LoRA dropout masks by seed, step, pass and mask). */
function mixSeed(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const value of values) {
    h = Math.imul(h ^ (value >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Parameter counts and the memory training takes, for the run's first lines. */
export interface ParameterSummary {
  total: number;
  trainable: number;
  /** Bytes of all weights on the device (f32), adapters included. */
  weightBytes: number;
  /** Bytes of the trainable parameters' gradients and AdamW moments. */
  trainingStateBytes: number;
}

/**
 * Splits sequences (by length) into passes of similar lengths, longest first, so a pass pads little: a sequence
 * joins the current pass if it is at least `ratio` of the pass's longest, or while the pass is under
 * `minimumTokens` padded tokens (small passes cost more than the padding they save), and never past
 * `maximumTokens` padded tokens (a pass's activations live at once). Returns indices.
 */
export function lengthGroups(lengths: readonly number[], minimumTokens = 2048, ratio = 0.75, maximumTokens = Number.POSITIVE_INFINITY): number[][] {
  const order = lengths.map((_, index) => index).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  const groups: number[][] = [];
  let current: number[] = [];
  let longest = 0;
  for (const index of order) {
    const length = lengths[index]!;
    const full = longest * (current.length + 1) > maximumTokens;
    if (current.length > 0 && (full || (length < ratio * longest && longest * current.length >= minimumTokens))) {
      groups.push(current);
      current = [];
    }
    if (current.length === 0) longest = length;
    current.push(index);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

export interface GenerateOptions extends SamplingOptions {
  /** Recompute the whole sequence at every step instead of using the KV cache (a check of the cache). */
  useKvCache?: boolean;
  /**
   * Most requests generated at once (default 512): a larger call runs in consecutive batches of this many, each
   * request drawing the numbers it draws in one call, so memory stays bounded by the batch, not the call.
   */
  maxBatch?: number;
  /** Index of the first request within the whole call (set by the batching above; seeds each request's draws). */
  streamOffset?: number;
}

export interface ModelSource {
  /** The folder the model was loaded from (tokenizer files are copied from it on save). */
  directory: string | undefined;
  /** Shard file of each tensor, so save writes the same layout. */
  shardOf: Map<string, string>;
}

export class LlamaModel implements PolicyModelV1 {
  readonly specificationVersion = 'v1' as const;
  readonly context: ModelContext;
  /** Ids that end generation: config.json, generation_config.json and the tokenizer's. */
  readonly eosTokenIds: Set<number>;
  /** Activation buffers of the last pass, reused by the next one of the same shapes. */
  private readonly pool: TensorPool;
  private optimizerStepCount = 0;
  private hasGradients = false;
  private disposed = false;
  /** Training passes since the last optimizer step (LoRA dropout's masks are seeded by it). */
  private passesSinceStep = 0;
  private loraSeed = 0;

  constructor(
    readonly device: DeviceV1,
    readonly config: ModelConfig,
    readonly parameters: ModelParameters,
    readonly tokenizer: TokenizerV1 | undefined,
    readonly source: ModelSource,
    readonly frozen = false,
    eosTokenIds: readonly number[] = config.eosTokenIds,
    /** False for a view that shares another model's base weights (frees only what it owns). */
    private readonly ownsBaseWeights = true,
  ) {
    this.pool = new TensorPool(device);
    this.context = { device, config, parameters, rope: { cos: device.allocate([1, 1]), sin: device.allocate([1, 1]), positions: 0 } };
    this.eosTokenIds = new Set([...eosTokenIds, ...(tokenizer?.specialTokenIds.eos ?? [])]);
  }

  /** The LoRA adapters, when the model trains through them. */
  get lora(): LoraState | undefined {
    return this.context.lora;
  }

  /**
   * Puts LoRA adapters on the model: from now on only they train (the base weights are frozen, and any
   * gradient or optimizer state they had is dropped). `seed` seeds dropout's masks.
   */
  attachLora(state: LoraState, seed = 0): void {
    this.checkLive();
    if (this.context.lora) throw new LspError('lsp.model', 'the model already has LoRA adapters');
    if (this.frozen) throw new LspError('lsp.model', 'a frozen model cannot take trainable adapters');
    for (const parameter of this.parameters.all) {
      for (const key of ['gradient', 'firstMoment', 'secondMoment'] as const) {
        const tensor = parameter[key];
        if (tensor) this.device.free(tensor);
        parameter[key] = undefined;
      }
    }
    this.context.lora = state;
    this.loraSeed = seed;
    this.hasGradients = false;
  }

  /** Folds the adapters into the base weights (W += scaling B A) and removes them: a plain model again. */
  mergeLora(): void {
    this.checkLive();
    const state = this.context.lora;
    if (!state) return;
    mergeLoraIntoWeights(this.device, state);
    freeLoraState(this.device, state);
    this.context.lora = undefined;
  }

  /**
   * The dropout masks of training pass `pass` after `step` optimizer steps: seeded by the LoRA seed, the step and
   * the pass, so a resumed run draws the masks the uninterrupted one drew. Undefined without LoRA dropout.
   */
  loraDropout(step: number, pass: number): DropoutSource | undefined {
    const probability = this.context.lora?.settings.dropout ?? 0;
    if (probability === 0) return undefined;
    const passSeed = mixSeed(this.loraSeed, step, pass);
    let mask = 0;
    return { probability, next: () => createRandom(mixSeed(passSeed, mask++)) };
  }

  /** What trains: the adapters' A and B with LoRA, else every parameter. */
  trainableParameters(): Parameter[] {
    return this.context.lora ? loraParameters(this.context.lora) : this.parameters.all;
  }

  parameterSummary(): ParameterSummary {
    const count = (list: readonly Parameter[]) => list.reduce((sum, parameter) => sum + parameter.shape.reduce((a, b) => a * b, 1), 0);
    const base = count(this.parameters.all);
    const adapters = this.context.lora ? count(loraParameters(this.context.lora)) : 0;
    const trainable = count(this.trainableParameters());
    return { total: base + adapters, trainable, weightBytes: 4 * (base + adapters), trainingStateBytes: 3 * 4 * trainable };
  }

  /**
   * The base model with the adapters switched off, sharing its weights (no copy): the reference policy of a
   * LoRA run. Without adapters, a frozen view of the same weights.
   */
  withoutAdapters(): LlamaModel {
    this.checkLive();
    return new LlamaModel(this.device, this.config, this.parameters, this.tokenizer, this.source, true, [...this.eosTokenIds], false);
  }

  /**
   * A frozen view of the base weights with `state`'s adapters on (no copy of the base): a server's extra adapter.
   * The view owns the adapters and frees them on dispose.
   */
  withAdapter(state: LoraState): LlamaModel {
    this.checkLive();
    const view = new LlamaModel(this.device, this.config, this.parameters, this.tokenizer, this.source, true, [...this.eosTokenIds], false);
    view.context.lora = state;
    return view;
  }

  /** Steps AdamW has taken (restored from a saved folder). */
  get step(): number {
    return this.optimizerStepCount;
  }
  set step(value: number) {
    this.optimizerStepCount = value;
  }

  // --- validation and layout --------------------------------------------------------------------------------

  private checkIds(ids: readonly number[], what: string): void {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabularySize) {
        throw new InvalidInputError(`${what}: token id ${id} is outside the vocabulary [0, ${this.config.vocabularySize})`);
      }
    }
  }

  /** Makes the rotary tables cover positions [0, length) and checks the model can attend that far. */
  private ensureContext(length: number): RopeTables {
    const { maxPositionEmbeddings, slidingWindow } = this.config;
    if (length > maxPositionEmbeddings) {
      throw new InvalidInputError(`sequence of ${length} tokens is longer than max_position_embeddings ${maxPositionEmbeddings}`);
    }
    if (slidingWindow !== undefined && length > slidingWindow) {
      throw new InvalidInputError(`sequence of ${length} tokens is longer than the sliding window ${slidingWindow}, which is not implemented`);
    }
    const rope = this.context.rope;
    if (rope.positions < length) {
      const positions = Math.min(maxPositionEmbeddings, Math.max(length, 2 * rope.positions, 256));
      const { cos, sin } = ropeTables(this.config, positions);
      this.device.free(rope.cos);
      this.device.free(rope.sin);
      const half = this.config.headDim / 2;
      this.context.rope = { cos: this.device.upload(cos, [positions, half]), sin: this.device.upload(sin, [positions, half]), positions };
    }
    return this.context.rope;
  }

  /** Right-padded rows prompt + completion, and the rows whose next token is a completion token. */
  private scoringLayout(scope: TensorScope, sequences: readonly ScoredSequence[]) {
    const batch = sequences.length;
    let time = 1;
    sequences.forEach((sequence, index) => {
      if (sequence.promptIds.length === 0) throw new InvalidInputError(`sequence ${index}: the prompt is empty (log p of the first token needs a context)`);
      this.checkIds(sequence.promptIds, `sequence ${index} prompt`);
      this.checkIds(sequence.completionIds, `sequence ${index} completion`);
      time = Math.max(time, sequence.promptIds.length + sequence.completionIds.length);
    });
    this.ensureContext(time);
    const ids = new Int32Array(batch * time);
    const positions = new Int32Array(batch * time);
    const runs: RowRun[] = [];
    const targets: number[] = [];
    const keyLength: number[] = [];
    sequences.forEach((sequence, b) => {
      const tokens = [...sequence.promptIds, ...sequence.completionIds];
      ids.set(tokens, b * time);
      for (let t = 0; t < time; t++) positions[b * time + t] = t;
      keyLength.push(tokens.length);
      if (sequence.completionIds.length > 0) {
        runs.push({ row: b * time + sequence.promptIds.length - 1, at: targets.length, count: sequence.completionIds.length });
        targets.push(...sequence.completionIds);
      }
    });
    const layout: BatchLayout = {
      batch, time, ids: scope.upload(ids, [batch * time]), positions: scope.upload(positions, [batch * time]),
      queryOffset: new Array<number>(batch).fill(0), keyLength, keyStart: new Array<number>(batch).fill(0),
    };
    return { layout, runs, targets: Int32Array.from(targets) };
  }

  private split(values: Float32Array, sequences: readonly ScoredSequence[]): Float32Array[] {
    let at = 0;
    return sequences.map((sequence) => {
      const part = values.slice(at, at + sequence.completionIds.length);
      at += sequence.completionIds.length;
      return part;
    });
  }

  private checkLive(): void {
    if (this.disposed) throw new LspError('lsp.model', 'the model has been disposed');
  }

  // --- log-probabilities and training -----------------------------------------------------------------------

  /**
   * The forward pass of scoring with everything it keeps, tensors allocated in `scope`: for tests and tools
   * that want the device tensors (the oracle's float64 log-probabilities). Undefined when nothing is scored.
   */
  forwardScored(scope: TensorScope, sequences: readonly ScoredSequence[]) {
    const { layout, runs, targets } = this.scoringLayout(scope, sequences);
    if (targets.length === 0) return undefined;
    const { layers } = stackForward(this.context, scope, layout, undefined);
    const head = headForward(this.context, scope, layers.at(-1)!.output, runs, targets);
    return { layout, runs, layers, head };
  }

  async tokenLogProbs(sequences: readonly ScoredSequence[]): Promise<Float32Array[]> {
    this.checkLive();
    const results: Float32Array[] = sequences.map(() => new Float32Array(0));
    try {
      for (const group of lengthGroups(sequences.map((s) => s.promptIds.length + s.completionIds.length), this.context.minimumPassTokens, 0.75, this.passTokenBudget())) {
        const scope = new TensorScope(this.device, this.pool);
        try {
          const members = group.map((index) => sequences[index]!);
          const forward = this.forwardScored(scope, members);
          if (!forward) continue;
          const values = this.split((await this.device.read(forward.head.logprobs)) as Float32Array, members);
          group.forEach((index, position) => { results[index] = values[position]!; });
        } finally {
          scope.free();
        }
      }
    } finally {
      this.pool.finishCall();
    }
    return results;
  }

  /**
   * Padded tokens one scoring or training pass may hold: the activations every layer keeps (about
   * 5C + 3I + 3HD + 3KD floats a token a layer) within `context.passBudgetBytes` (1 GiB unless set).
   */
  private passTokenBudget(): number {
    const { hiddenSize: c, intermediateSize: i, heads: h, keyValueHeads: k, headDim: d, layers } = this.config;
    const perToken = 4 * layers * (5 * c + 3 * i + 3 * h * d + 3 * k * d);
    return Math.max(1, Math.floor((this.context.passBudgetBytes ?? 2 ** 30) / perToken));
  }

  private ensureGradients(): void {
    for (const parameter of this.trainableParameters()) {
      parameter.gradient ??= this.device.allocate([...parameter.shape]);
    }
  }

  async accumulateGradients(
    sequences: readonly ScoredSequence[],
    lossGradient: (tokenLogProbs: readonly Float32Array[]) => Float32Array[],
  ): Promise<Float32Array[]> {
    this.checkLive();
    if (this.frozen) throw new LspError('lsp.model', 'a frozen model (cloneFrozen) has no gradients');
    if (this.parameters.lmHead === undefined) throw new LspError('lsp.model', 'a scalar-head model has no token log-probabilities to train');
    this.ensureGradients();
    const scope = new TensorScope(this.device, this.pool);
    this.context.dropout = this.loraDropout(this.optimizerStepCount, this.passesSinceStep++);
    try {
      // Sequences of similar length share a pass (less padding); every pass's activations stay until backward,
      // since the loss may couple sequences.
      const passes = lengthGroups(sequences.map((s) => s.promptIds.length + s.completionIds.length), this.context.minimumPassTokens, 0.75, this.passTokenBudget()).flatMap((group) => {
        const forward = this.forwardScored(scope, group.map((index) => sequences[index]!));
        return forward ? [{ group, forward }] : [];
      });
      const perSequence: Float32Array[] = sequences.map(() => new Float32Array(0));
      for (const { group, forward } of passes) {
        const values = (await this.device.read(forward.head.logprobs)) as Float32Array;
        if (!values.every(Number.isFinite)) {
          throw new NonFiniteError('a token log-probability is not finite; no gradient was accumulated', {
            hint: 'lower the learning rate or check the weights',
          });
        }
        const split = this.split(values, group.map((index) => sequences[index]!));
        group.forEach((index, position) => { perSequence[index] = split[position]!; });
      }
      if (passes.length === 0) return perSequence;
      const gradients = lossGradient(perSequence);
      sequences.forEach((sequence, index) => {
        const gradient = gradients[index];
        if (!gradient || gradient.length !== sequence.completionIds.length) {
          throw new LspError('lsp.model', `lossGradient returned ${gradient?.length ?? 'nothing'} values for sequence ${index} of ${sequence.completionIds.length} tokens`);
        }
        if (!gradient.every(Number.isFinite)) {
          throw new NonFiniteError(`the loss gradient of sequence ${index} is not finite; no gradient was accumulated`);
        }
      });
      for (const { group, forward } of passes) {
        const flat = new Float32Array(forward.head.targets.size);
        let at = 0;
        for (const index of group) {
          flat.set(gradients[index]!, at);
          at += gradients[index]!.length;
        }
        const { layout, runs, layers, head } = forward;
        const dlogprobs = scope.upload(flat, [flat.length]);
        const residual = scope.allocate([layout.batch * layout.time, this.config.hiddenSize]);
        headBackward(this.context, scope, head, runs, dlogprobs, residual);
        stackBackward(this.context, scope, layout, layers, residual);
      }
      this.hasGradients = true;
      return perSequence;
    } finally {
      this.context.dropout = undefined;
      scope.free();
      this.pool.finishCall();
    }
  }

  /** Drops any accumulated gradient without a step (after a refused micro-batch of an accumulation). */
  discardGradients(): void {
    this.checkLive();
    this.zeroGradients();
  }

  async optimizerStep(options: OptimizerOptions): Promise<TrainingStepResult> {
    this.checkLive();
    if (this.frozen) throw new LspError('lsp.model', 'a frozen model (cloneFrozen) cannot be trained');
    if (!this.hasGradients) return { gradientNorm: 0, applied: false };
    const trainable = this.trainableParameters();
    const gradients = trainable.map((parameter) => parameter.gradient!);
    const gradientNorm = Math.sqrt(await this.device.sumOfSquares(gradients));
    if (!Number.isFinite(gradientNorm)) {
      this.zeroGradients();
      return { gradientNorm, applied: false };
    }
    const maxNorm = options.maxGradientNorm ?? 0;
    // As torch.nn.utils.clip_grad_norm_: scale by max / (norm + 1e-6) when the norm exceeds max.
    const gradientScale = maxNorm > 0 && gradientNorm > maxNorm ? maxNorm / (gradientNorm + 1e-6) : 1;
    this.optimizerStepCount++;
    for (const parameter of trainable) {
      parameter.firstMoment ??= this.device.allocate([...parameter.shape]);
      parameter.secondMoment ??= this.device.allocate([...parameter.shape]);
      this.device.adamw(parameter.tensor, parameter.gradient!, parameter.firstMoment, parameter.secondMoment, {
        learningRate: options.learningRate,
        beta1: options.beta1 ?? 0.9,
        beta2: options.beta2 ?? 0.999,
        epsilon: options.epsilon ?? 1e-8,
        weightDecay: parameter.shape.length >= 2 ? options.weightDecay ?? 0.01 : 0,
        step: this.optimizerStepCount,
        gradientScale,
      });
    }
    this.zeroGradients();
    return { gradientNorm, applied: true };
  }

  private zeroGradients(): void {
    for (const parameter of this.trainableParameters()) if (parameter.gradient) this.device.fill(parameter.gradient, 0);
    this.hasGradients = false;
    this.passesSinceStep = 0;
  }

  // --- the scalar head ----------------------------------------------------------------------------------------

  /**
   * The scalar head's outputs (labels) at each sequence's last token that is not pad_token_id (transformers'
   * pooling): a reward model's score.
   */
  async scoreSequences(sequences: readonly (readonly number[])[]): Promise<Float32Array[]> {
    this.checkLive();
    const score = this.parameters.score;
    if (!score) throw new LspError('lsp.model', 'this model has no scalar head (not a *ForSequenceClassification folder)');
    const scope = new TensorScope(this.device, this.pool);
    try {
      const asScored = sequences.map((ids) => ({ promptIds: ids, completionIds: [] as number[] }));
      const { layout } = this.scoringLayout(scope, asScored);
      const { layers } = stackForward(this.context, scope, layout, undefined);
      // As transformers: the rightmost token that is not pad_token_id (position 0 when all are).
      const pad = this.config.padTokenId;
      const pooled = sequences.map((ids) => {
        if (pad === undefined) return ids.length - 1;
        for (let t = ids.length - 1; t >= 0; t--) if (ids[t] !== pad) return t;
        return 0;
      });
      const runs = sequences.map((_, b) => ({ row: b * layout.time + pooled[b]!, at: b, count: 1 }));
      const c = this.config.hiddenSize;
      const gathered = scope.allocate([sequences.length, c]);
      gatherRows(this.device, layers.at(-1)!.output, runs, gathered, c);
      const { normed } = finalNormForward(this.context, scope, gathered, sequences.length);
      const labels = score.shape[0]!;
      const out = scope.allocate([sequences.length, labels]);
      this.device.matmul(normed, score.tensor, out, sequences.length, labels, c, { transposeB: true });
      const values = (await this.device.read(out)) as Float32Array;
      return sequences.map((_, b) => values.slice(b * labels, (b + 1) * labels));
    } finally {
      scope.free();
      this.pool.finishCall();
    }
  }

  // --- generation -----------------------------------------------------------------------------------------------

  async generate(
    requests: readonly GenerationRequest[],
    options: GenerateOptions,
    onToken?: (index: number, id: number) => void,
  ): Promise<GenerationResult[]> {
    this.checkLive();
    if (this.parameters.lmHead === undefined) throw new LspError('lsp.model', 'a scalar-head model cannot generate');
    const batch = requests.length;
    if (batch === 0) return [];
    requests.forEach((request, index) => {
      if (request.promptIds.length === 0) throw new InvalidInputError(`request ${index}: the prompt is empty`);
      this.checkIds(request.promptIds, `request ${index} prompt`);
    });
    const stops = options.stopSequences ?? [];
    if (stops.length > 0 && !this.tokenizer) {
      throw new InvalidInputError('stop sequences need the model folder\'s tokenizer, which is not loaded');
    }
    const promptLength = Math.max(...requests.map((request) => request.promptIds.length));
    // Generation stops at the end of the context the model can attend (finish reason 'length').
    const contextLimit = Math.min(this.config.maxPositionEmbeddings, this.config.slidingWindow ?? Number.POSITIVE_INFINITY);
    if (promptLength >= contextLimit) {
      throw new InvalidInputError(`a prompt of ${promptLength} tokens leaves no room to generate within the model's context of ${contextLimit}`);
    }
    const maxNewTokens = Math.min(Math.max(0, Math.floor(options.maxNewTokens)), contextLimit - promptLength);
    const sampling = { temperature: options.temperature ?? 1, topK: options.topK ?? 0, topP: options.topP ?? 1 };
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
    const maxBatch = Math.max(1, Math.floor(options.maxBatch ?? 512));
    if (batch > maxBatch) {
      // Consecutive batches with the whole call's token budget and each request's own stream of draws.
      const results: GenerationResult[] = [];
      for (let start = 0; start < batch; start += maxBatch) {
        results.push(...await this.generate(
          requests.slice(start, start + maxBatch),
          { ...options, maxNewTokens, seed, maxBatch, streamOffset: (options.streamOffset ?? 0) + start },
          onToken && ((index, id) => onToken(start + index, id)),
        ));
      }
      return results;
    }
    const offset = options.streamOffset ?? 0;
    const randoms = requests.map((_, index) => createRandom(seed * 7919 + offset + index));
    this.ensureContext(promptLength + maxNewTokens);

    const completions: number[][] = requests.map(() => []);
    const finish: (GenerationResult['finishReason'] | undefined)[] = requests.map(() => undefined);
    const texts: string[] = requests.map(() => '');
    const useCache = options.useKvCache ?? true;
    const { keyValueHeads, headDim } = this.config;
    const capacity = promptLength + maxNewTokens;
    const row = capacity * keyValueHeads * headDim;
    // The entries still generating, in batch order; finished ones are dropped from the batch (and its KV cache)
    // once a quarter of it has finished, so long answers do not carry short ones along.
    let active = requests.map((_, index) => index);
    let keyStart = active.map((index) => promptLength - requests[index]!.promptIds.length);
    let cacheScope = new TensorScope(this.device);
    const allocateCaches = (entries: number): LayerCache[] => this.parameters.layers.map(() => ({
      k: cacheScope.allocate([entries, capacity, keyValueHeads, headDim]),
      v: cacheScope.allocate([entries, capacity, keyValueHeads, headDim]),
      capacity, writeOffset: 0,
    }));
    let caches: LayerCache[] | undefined = useCache ? allocateCaches(active.length) : undefined;
    try {
      for (let step = 0; step < maxNewTokens && active.length > 0; step++) {
        const batch = active.length;
        const scope = new TensorScope(this.device, this.pool);
        try {
          let layout: BatchLayout;
          if (step === 0 || !useCache) {
            // The whole (left-padded) sequence: the prefill, or every step when the cache is off.
            const time = promptLength + step;
            const ids = new Int32Array(batch * time);
            const positions = new Int32Array(batch * time);
            active.forEach((index, b) => {
              ids.set([...requests[index]!.promptIds, ...completions[index]!], b * time + keyStart[b]!);
              for (let t = 0; t < time; t++) positions[b * time + t] = Math.max(0, t - keyStart[b]!);
            });
            layout = {
              batch, time, ids: scope.upload(ids, [batch * time]), positions: scope.upload(positions, [batch * time]),
              queryOffset: new Array<number>(batch).fill(0), keyLength: new Array<number>(batch).fill(time), keyStart,
            };
          } else {
            // One new token per entry at key position promptLength + step - 1.
            const slot = promptLength + step - 1;
            const ids = Int32Array.from(active, (index) => completions[index]!.at(-1)!);
            const positions = Int32Array.from(keyStart, (start) => slot - start);
            layout = {
              batch, time: 1, ids: scope.upload(ids, [batch]), positions: scope.upload(positions, [batch]),
              queryOffset: new Array<number>(batch).fill(slot), keyLength: new Array<number>(batch).fill(slot + 1), keyStart,
            };
          }
          if (caches) for (const cache of caches) cache.writeOffset = layout.queryOffset[0]!;
          const { layers } = stackForward(this.context, scope, layout, caches);
          // The last row of every entry: all rows when decoding, one strided copy after the prefill.
          const c = this.config.hiddenSize;
          const last = layers.at(-1)!.output;
          let gathered = last;
          if (layout.time > 1) {
            gathered = scope.output([batch, c]);
            this.device.copyRows(last, gathered, batch, c, (layout.time - 1) * c, layout.time * c, 0, c);
          }
          const { normed } = finalNormForward(this.context, scope, gathered, batch);
          const logits = scope.output([batch, this.config.vocabularySize]);
          this.device.matmul(normed, this.parameters.lmHead.tensor, logits, batch, this.config.vocabularySize, c, { transposeB: true });
          // One draw per entry and step from the entry's own generator: a request draws the same numbers alone or in a batch.
          const uniforms = scope.upload(Float32Array.from(active, (index) => randoms[index]!()), [batch]);
          const chosen = scope.output([batch], 'i32');
          this.device.sample(logits, uniforms, chosen, sampling);
          const ids = (await this.device.read(chosen)) as Int32Array;
          active.forEach((index, b) => {
            if (finish[index] !== undefined) return; // finished, still in the batch until the next compaction
            const id = ids[b]!;
            completions[index]!.push(id);
            onToken?.(index, id);
            if (this.eosTokenIds.has(id)) {
              finish[index] = 'eos';
            } else if (stops.length > 0) {
              const text = this.tokenizer!.decode(completions[index]!, { skipSpecialTokens: true });
              const found = stops.map((stop) => text.indexOf(stop)).filter((at) => at >= 0);
              if (found.length > 0) {
                finish[index] = 'stop-sequence';
                texts[index] = text.slice(0, Math.min(...found));
              }
            }
          });
        } finally {
          scope.free();
          this.pool.finishCall();
        }
        const remaining = active.filter((index) => finish[index] === undefined);
        if (remaining.length > 0 && remaining.length <= (3 * active.length) / 4) {
          const kept = active.flatMap((index, b) => (finish[index] === undefined ? [b] : []));
          if (caches) {
            const oldScope = cacheScope;
            const oldCaches = caches;
            cacheScope = new TensorScope(this.device);
            caches = allocateCaches(kept.length);
            oldCaches.forEach((cache, layer) => {
              kept.forEach((from, to) => {
                this.device.copy(cache.k, caches![layer]!.k, from * row, to * row, row);
                this.device.copy(cache.v, caches![layer]!.v, from * row, to * row, row);
              });
            });
            oldScope.free();
          }
          keyStart = kept.map((b) => keyStart[b]!);
          active = kept.map((b) => active[b]!);
        } else if (remaining.length === 0) {
          active = [];
        }
      }
    } finally {
      cacheScope.free();
    }
    return requests.map((_, b) => {
      const reason = finish[b] ?? 'length';
      const text = reason === 'stop-sequence'
        ? texts[b]!
        : this.tokenizer?.decode(completions[b]!, { skipSpecialTokens: true }) ?? '';
      return { completionIds: completions[b]!, text, finishReason: reason };
    });
  }

  // --- copies, saving, disposal -----------------------------------------------------------------------------------

  async cloneFrozen(): Promise<LlamaModel> {
    this.checkLive();
    if (this.context.lora) {
      // The base weights never change while adapters train: the copy shares them and copies the adapters.
      const copy = new LlamaModel(this.device, this.config, this.parameters, this.tokenizer, this.source, true, [...this.eosTokenIds], false);
      copy.context.lora = copyLoraState(this.device, this.context.lora);
      return copy;
    }
    const byName = new Map<string, Parameter>();
    for (const parameter of this.parameters.all) {
      const tensor = this.device.allocate([...parameter.shape]);
      this.device.copy(parameter.tensor, tensor);
      byName.set(parameter.name, { name: parameter.name, shape: parameter.shape, tensor, storage: parameter.storage });
    }
    const parameters = assembleParameters(this.config, byName);
    return new LlamaModel(this.device, this.config, parameters, this.tokenizer, this.source, true, [...this.eosTokenIds]);
  }

  async save(directory: string, options?: SaveOptions): Promise<void> {
    this.checkLive();
    if (this.context.lora) {
      // A LoRA model saves its adapter in PEFT's layout (the base folder is unchanged; `lsp merge` folds it in).
      const { saveLoraAdapter } = await import('./lora-folder');
      await saveLoraAdapter(this, directory);
      return;
    }
    const { saveModel } = await import('./model-folder');
    await saveModel(this, directory, options);
  }

  /** Frees the activation buffers kept for the next pass (they come back on the next pass). */
  releaseWorkspace(): void {
    this.pool.clear();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.clear();
    if (this.context.lora) freeLoraState(this.device, this.context.lora);
    if (this.ownsBaseWeights) {
      for (const parameter of this.parameters.all) {
        for (const tensor of [parameter.tensor, parameter.gradient, parameter.firstMoment, parameter.secondMoment]) {
          if (tensor) this.device.free(tensor);
        }
      }
    }
    this.device.free(this.context.rope.cos);
    this.device.free(this.context.rope.sin);
  }
}

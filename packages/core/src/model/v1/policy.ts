// The policy model interface, v1: what the self-play loop asks of a trainable language model.
import type { TokenizerV1 } from '../../tokenizer/v1/tokenizer';

export interface SamplingOptions {
  maxNewTokens: number;
  /** 0 is greedy. Default 1. */
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Generation also stops on these strings (the text before them is kept). */
  stopSequences?: readonly string[];
  /** Seeds the sampler; the same seed on the same backend gives the same tokens. */
  seed?: number;
}

export interface GenerationRequest {
  promptIds: readonly number[];
}

export interface GenerationResult {
  completionIds: number[];
  text: string;
  finishReason: 'eos' | 'stop-sequence' | 'length';
}

export interface ScoredSequence {
  promptIds: readonly number[];
  completionIds: readonly number[];
}

export interface TrainingStepResult {
  /** Global gradient norm before clipping. */
  gradientNorm: number;
  /** False when a non-finite gradient refused the step (weights unchanged). */
  applied: boolean;
}

export interface OptimizerOptions {
  learningRate: number;
  /** Clip the global gradient norm to this value; 0 disables. */
  maxGradientNorm?: number;
  /** AdamW's decoupled weight decay, applied to weight matrices only (not norms or biases). Default 0.01. */
  weightDecay?: number;
  /** AdamW's moment decay rates and denominator epsilon. Defaults 0.9, 0.999, 1e-8 (PyTorch's). */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export interface SaveOptions {
  /**
   * Write float32 weights whatever the source folder's dtype, so a checkpoint resumes exactly. Default false: the
   * source's dtype (bf16 in, bf16 out), as users expect of an exported model.
   */
  exact?: boolean;
}

export interface PolicyModelV1 {
  readonly specificationVersion: 'v1';
  readonly tokenizer: TokenizerV1 | undefined;
  /** Batched generation with a KV cache; prompts may differ in length. */
  generate(
    requests: readonly GenerationRequest[],
    options: SamplingOptions,
    onToken?: (index: number, id: number) => void,
  ): Promise<GenerationResult[]>;
  /** log p(completion[i] | prompt + completion[:i]) for every sequence, in one batched pass. */
  tokenLogProbs(sequences: readonly ScoredSequence[]): Promise<Float32Array[]>;
  /**
   * One forward and backward pass: computes each sequence's token log-probabilities, asks `lossGradient` for
   * dLoss/dlogprob of every completion token, and accumulates the gradient. Any RL loss fits this shape
   * (policy gradient, KL terms, PPO ratios). Returns the log-probabilities it computed.
   */
  accumulateGradients(
    sequences: readonly ScoredSequence[],
    lossGradient: (tokenLogProbs: readonly Float32Array[]) => Float32Array[],
  ): Promise<Float32Array[]>;
  /** Drops any accumulated gradient without a step (after a refused micro-batch of an accumulation). */
  discardGradients(): void;
  /** Applies the accumulated gradient with the optimizer and clears it. */
  optimizerStep(options: OptimizerOptions): Promise<TrainingStepResult>;
  /** A frozen copy with the same weights (the reference policy). */
  cloneFrozen(): Promise<PolicyModelV1>;
  /** Writes weights (Hugging Face layout) and optimizer state to a folder, atomically. */
  save(directory: string, options?: SaveOptions): Promise<void>;
  dispose(): void;
}

/** A model component: loads a model folder onto a device. */
export interface ModelLoaderV1 {
  readonly specificationVersion: 'v1';
  readonly name: string;
  load(path: string, options: { backend: string; seed?: number }): Promise<PolicyModelV1>;
}

// The advantage-math interface, v1: group statistics, role advantages, KL estimators and the policy loss gradient
// of DESIGN.md section 1. Implemented in Rust/wasm by @lsp/advantage-wasm, with a TypeScript reference beside it.

/** Schulman's estimators of KL(pi || pi_ref) from r = log pi - log pi_ref: k1 = r, k2 = r^2/2, k3 = e^-r - 1 + r. */
export type KlEstimator = 'k1' | 'k2' | 'k3';
/** 'loss': beta * KL is a term of the loss; 'reward': beta * (sequence KL) is subtracted from the reward. */
export type KlPlacement = 'loss' | 'reward';
/**
 * 'sequence-mean': the mean over sequences of the sequence's summed token terms (the paper's loss, with
 * log-probabilities summed over the sequence); 'token-mean': the sum over every token divided by the token count.
 */
export type LossAggregation = 'sequence-mean' | 'token-mean';
/** 'mean-centred': A = R - mean (LSP, LSP-Zero); 'standard-deviation': A = (R - mean) / (std + epsilon) (GRPO). */
export type AdvantageNormalization = 'mean-centred' | 'standard-deviation';

export interface GroupStatistics {
  means: number[];
  standardDeviations: number[];
  /** Groups whose values are all equal (groups of one included); they carry no gradient. */
  zeroVarianceGroups: number;
}

export interface GroupStatisticsOptions {
  /** Divide the squared deviations by n - 1 (Bessel) instead of n. Default false. */
  unbiased?: boolean;
}

export interface GroupAdvantageOptions extends GroupStatisticsOptions {
  normalization: AdvantageNormalization;
  /** Added to the standard deviation before dividing. Default 1e-6. */
  epsilon?: number;
}

export interface GroupAdvantages {
  /** advantages[g][j]: one per value, in the groups' shape; zero in zero-variance groups. */
  advantages: number[][];
  zeroVarianceGroups: number;
}

export interface ChallengerAdvantages {
  /** c_i = -V_i (+ VQ_i when quality values are given). */
  rewards: number[];
  /** A_i = c_i - mean_k c_k (Vbar - V_i without quality). */
  advantages: number[];
}

export interface TokenKl {
  values: Float64Array;
  /** d value / d log pi, per token. */
  derivatives: Float64Array;
}

export interface TokenLogProbs {
  /** log pi of each generated token. */
  logProbs: ArrayLike<number>;
  /** log pi_ref of the same tokens. */
  referenceLogProbs: ArrayLike<number>;
}

export interface PolicySequence extends TokenLogProbs {
  advantage: number;
}

export interface PolicyLossOptions {
  klEstimator: KlEstimator;
  /** beta. */
  klCoefficient: number;
  /** With 'reward' the loss has no KL term (the KL is already in the advantages). */
  klPlacement: KlPlacement;
  aggregation: LossAggregation;
  /** Multiplies the whole term (alpha_ch for the Challenger's). Default 1. */
  scale?: number;
  /**
   * The aggregation's divisor; default the sequence or token count of this call. Pass the whole batch's count
   * when a batch is split into gradient-accumulation micro-batches, so the sum of the parts is the batch loss.
   */
  denominator?: number;
}

export interface PolicyLoss {
  loss: number;
  /** dLoss / dlog pi for every token of every sequence. */
  gradients: Float32Array[];
  /** Sum of the token KL estimates over every token of this call. */
  klSum: number;
  tokens: number;
}

export interface AdvantageMathV1 {
  readonly specificationVersion: 'v1';
  /** Which implementation: 'wasm' or 'typescript'. */
  readonly name: string;
  groupStatistics(groups: readonly (readonly number[])[], options?: GroupStatisticsOptions): GroupStatistics;
  groupAdvantages(groups: readonly (readonly number[])[], options: GroupAdvantageOptions): GroupAdvantages;
  /** From the Solver's values V_i, and the quality values VQ_i for LSP. */
  challengerAdvantages(values: readonly number[], qualityValues?: readonly number[]): ChallengerAdvantages;
  tokenKl(tokens: TokenLogProbs, estimator: KlEstimator): TokenKl;
  /** Per sequence, the sum of its token KL estimates (the penalty of KL-in-reward). */
  sequenceKl(sequences: readonly TokenLogProbs[], estimator: KlEstimator): number[];
  /** L = -scale / D * sum_s sum_t [A_s logp_st - beta k(r_st)] and its gradient per token (on-policy, ratio 1). */
  policyLoss(sequences: readonly PolicySequence[], options: PolicyLossOptions): PolicyLoss;
}

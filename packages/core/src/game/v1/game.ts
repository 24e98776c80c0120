// The game interface, v1: the roles, their prompts, the settings of the algorithm, how rewards become
// per-sequence advantages, and the policy loss of each role (DESIGN.md section 1).
import type {
  AdvantageNormalization, KlEstimator, KlPlacement, LossAggregation, PolicyLoss, PolicySequence,
} from '../../advantage/v1/advantage';
import type { ChatMessage } from '../../tokenizer/v1/tokenizer';

export type Role = 'challenger' | 'solver';

/** Rewards of one iteration: rewards[i][j] is the score of answer j to query i. */
export interface IterationRewards {
  /** Judge rewards R_ij. */
  rewards: readonly (readonly number[])[];
  /** Quality self-rewards RQ_ij as numbers, when the judge computes them itself (JudgeScore.quality). */
  qualityRewards?: readonly (readonly number[])[];
  /**
   * The reference model's replies to `qualityJudgePrompt(q_i, a_ij)`, when quality comes from the reference
   * model: the game parses the score from each (an unparsable reply counts 0 and is counted in the statistics).
   */
  qualityJudgeTexts?: readonly (readonly string[])[];
  /**
   * Per-sequence KL sums (sum over tokens of the game's KL estimator, from log pi and log pi_ref), needed when
   * the game puts the KL in the reward: solver[i][j] for answer j to query i, challenger[i] for query i.
   */
  sequenceKl?: {
    solver: readonly (readonly number[])[];
    challenger?: readonly number[];
  };
}

export interface Advantages {
  /** Per answer: A_ij. */
  solver: number[][];
  /** Per query: A_i (empty when the game has no Challenger). */
  challenger: number[];
  /**
   * Figures for metrics: solverRewardMean, valueMean (Vbar), challengerRewardMean, qualityRewardMean,
   * zeroVarianceGroups, unparsedQualityScores (and unparsedQualityFraction), klPenaltyMean, as the game has them.
   */
  statistics: Record<string, number>;
  /** RQ_ij as the game used it (parsed from the reference model's replies, or the judge's), for samples. */
  qualityRewards?: number[][];
  /** Per answer, whether the reference model's reply held a readable score (absent when quality came as numbers). */
  qualityParsed?: boolean[][];
}

/** The algorithm's settings as the game resolved them from its options (the paper's names in comments). */
export interface GameSettingsV1 {
  /** N. */
  queriesPerIteration: number;
  /** G. */
  answersPerQuery: number;
  /** alpha_ch (0 when the game has no Challenger). */
  challengerWeight: number;
  /** beta. */
  klCoefficient: number;
  klEstimator: KlEstimator;
  klPlacement: KlPlacement;
  aggregation: LossAggregation;
  advantageNormalization: AdvantageNormalization;
  learningRate: number;
  temperature: number;
  maxNewTokens: number;
  /** Micro-batches whose gradients add up to one optimizer step. */
  gradientAccumulation: number;
  /**
   * Where RQ comes from, for games that use it: 'judge' (JudgeScore.quality, e.g. the world's validity) or
   * 'reference-model' (the reference model answers `qualityJudgePrompt`).
   */
  qualitySource?: 'judge' | 'reference-model';
  /** Token budget of the reference model's greedy quality review, when quality comes from it. */
  qualityMaxNewTokens?: number;
}

export interface GameV1 {
  readonly specificationVersion: 'v1';
  readonly name: string;
  readonly roles: readonly Role[];
  /** Whether the game asks for quality self-rewards. */
  readonly usesQualityReward: boolean;
  readonly settings: GameSettingsV1;
  /** The Challenger's prompt for query `index` of an iteration; present when roles include 'challenger'. */
  challengerPrompt?(context: { iteration: number; index: number }): ChatMessage[];
  /** The queries of an iteration for games without a Challenger (GRPO draws them from its dataset). */
  queries?(context: { iteration: number; count: number }): string[];
  /** The Solver's prompt for a query: by default the query is the user message, nothing added. */
  solverPrompt(query: string): ChatMessage[];
  /** The prompt that asks the reference model to score a (query, answer) pair, when quality comes from it. */
  qualityJudgePrompt?(query: string, answer: string): ChatMessage[];
  /** Turns rewards into advantages. */
  computeAdvantages(rewards: IterationRewards): Advantages;
  /**
   * One role's loss over (a micro-batch of) its sequences and dLoss/dlog pi per token, with the game's KL
   * estimator, placement, aggregation and the role's weight (alpha_ch for the Challenger). `denominator` is the
   * role's sequence or token count over the whole batch when it is split for gradient accumulation.
   */
  policyLoss(role: Role, sequences: readonly PolicySequence[], options?: { denominator?: number }): PolicyLoss;
}

export interface GameFactoryV1 {
  readonly specificationVersion: 'v1';
  readonly name: string;
  create(options: Record<string, unknown>): Promise<GameV1> | GameV1;
}

// The game interface, v1: the roles, their prompts, and how rewards become per-sequence advantages.
import type { ChatMessage } from '../../tokenizer/v1/tokenizer';

export type Role = 'challenger' | 'solver';

/** Rewards of one iteration: rewards[i][j] is the score of answer j to query i. */
export interface IterationRewards {
  /** Judge rewards R_ij. */
  rewards: readonly (readonly number[])[];
  /** Quality self-rewards RQ_ij, when the game uses them. */
  qualityRewards?: readonly (readonly number[])[];
}

export interface Advantages {
  /** Per answer: A_ij. */
  solver: number[][];
  /** Per query: A_i (empty when the game has no Challenger). */
  challenger: number[];
  /** Figures for metrics (value means, zero-variance groups). */
  statistics: Record<string, number>;
}

export interface GameV1 {
  readonly specificationVersion: 'v1';
  readonly name: string;
  readonly roles: readonly Role[];
  /** Whether the game asks the reference model for quality self-rewards. */
  readonly usesQualityReward: boolean;
  /** The Challenger's prompt for query `index` of an iteration (a task type, a seed phrase). */
  challengerPrompt(context: { iteration: number; index: number }): ChatMessage[];
  /** The Solver's prompt for a query: by default the query is the user message, nothing added. */
  solverPrompt(query: string): ChatMessage[];
  /** Turns rewards into advantages. */
  computeAdvantages(rewards: IterationRewards): Advantages;
}

export interface GameFactoryV1 {
  readonly specificationVersion: 'v1';
  readonly name: string;
  create(options: Record<string, unknown>): Promise<GameV1> | GameV1;
}

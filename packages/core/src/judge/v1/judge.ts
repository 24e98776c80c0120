// The judge interface, v1: scores (query, answer) pairs. Verifiers, reward models and LLM judges all fit.

export interface JudgeItem {
  query: string;
  answer: string;
  /** Whatever the game knows about the query (a parsed task, a reference answer). */
  metadata?: Record<string, unknown>;
}

export interface JudgeScore {
  score: number;
  /**
   * A quality self-reward the judge computes itself, for judges that can (the built-in world: whether the query
   * is a valid task). When present, LSP uses it as RQ instead of asking the reference model.
   */
  quality?: number;
  /** Free-form details kept in the run's samples (the judge's text, the parsed task). */
  details?: Record<string, unknown>;
}

export interface JudgeV1 {
  readonly specificationVersion: 'v1';
  readonly name: string;
  /** Scores a batch; the result has one entry per item, in order. Called by the runner, not by users. */
  doScore(items: readonly JudgeItem[], context: { signal?: AbortSignal }): Promise<JudgeScore[]>;
}

export interface JudgeFactoryV1 {
  readonly specificationVersion: 'v1';
  readonly name: string;
  create(options: Record<string, unknown>): Promise<JudgeV1> | JudgeV1;
}

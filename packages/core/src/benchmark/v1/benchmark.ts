// The benchmark interface, v1: a fixed set of items, how one answer is scored, how scores aggregate.

export interface BenchmarkItem {
  id: string;
  prompt: string;
  /** Anything the scorer needs (reference answer, constraints, difficulty). */
  metadata?: Record<string, unknown>;
}

export interface BenchmarkV1 {
  readonly specificationVersion: 'v1';
  readonly name: string;
  loadItems(): Promise<BenchmarkItem[]>;
  /** Scores one answer in [0, 1] unless the benchmark says otherwise. */
  scoreItem(item: BenchmarkItem, answer: string): Promise<number> | number;
  /** Aggregates per-item scores into named figures (overall and by category). */
  aggregate(items: readonly BenchmarkItem[], scores: readonly number[]): Record<string, number>;
  /**
   * Optional: what the score of one answer is made of, for `lsp bench --json` (IFEval: each instruction's strict
   * and loose result; code: the test output). Added within v1; runners call it only when it is there.
   */
  details?(item: BenchmarkItem, answer: string): Promise<Record<string, unknown>> | Record<string, unknown>;
}

export interface BenchmarkFactoryV1 {
  readonly specificationVersion: 'v1';
  readonly name: string;
  create(options: Record<string, unknown>): Promise<BenchmarkV1> | BenchmarkV1;
}

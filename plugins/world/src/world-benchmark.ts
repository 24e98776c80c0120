// The world's held-out benchmark ('world'): the fixed set's items, exact scoring, and the mean score overall
// and at every difficulty level, the figure that shows whether self-play made the Solver better.
import {
  ConfigError, InvalidInputError, type BenchmarkFactoryV1, type BenchmarkItem, type BenchmarkV1,
} from '@lsp/core';
import { loadHeldOutSet } from './world-held-out';
import { worldLimits } from './world-task';

export interface WorldBenchmarkOptions {
  /** Only these levels (default all). */
  levels?: readonly number[];
}

function expectedAnswer(item: BenchmarkItem): string {
  const answer = item.metadata?.answer;
  if (typeof answer !== 'string') throw new InvalidInputError(`benchmark world: item ${item.id} has no answer in its metadata`);
  return answer;
}

export function createWorldBenchmark(options: WorldBenchmarkOptions = {}): BenchmarkV1 {
  const levels = options.levels ?? Array.from({ length: worldLimits.maxLevel }, (_, index) => index + 1);
  for (const level of levels) {
    if (!Number.isInteger(level) || level < 1 || level > worldLimits.maxLevel) {
      throw new ConfigError(`benchmark world: level ${String(level)} is not in 1..${worldLimits.maxLevel}`);
    }
  }
  return {
    specificationVersion: 'v1',
    name: 'world',
    async loadItems(): Promise<BenchmarkItem[]> {
      return loadHeldOutSet()
        .items.filter((item) => levels.includes(item.level))
        .map((item) => ({ id: item.id, prompt: item.prompt, metadata: { answer: item.answer, level: item.level, difficulty: item.difficulty } }));
    },
    scoreItem(item: BenchmarkItem, answer: string): number {
      return answer.trim() === expectedAnswer(item) ? 1 : 0;
    },
    /** { overall, 'level-1', ..., 'level-5' }: means of the scores; a level with no items is left out. */
    aggregate(items: readonly BenchmarkItem[], scores: readonly number[]): Record<string, number> {
      if (items.length !== scores.length) {
        throw new InvalidInputError(`benchmark world: ${items.length} items but ${scores.length} scores`);
      }
      const sums = new Map<number, { total: number; count: number }>();
      let total = 0;
      items.forEach((item, index) => {
        const level = item.metadata?.level;
        if (typeof level !== 'number') throw new InvalidInputError(`benchmark world: item ${item.id} has no level in its metadata`);
        const entry = sums.get(level) ?? { total: 0, count: 0 };
        entry.total += scores[index]!;
        entry.count++;
        sums.set(level, entry);
        total += scores[index]!;
      });
      const figures: Record<string, number> = { overall: items.length > 0 ? total / items.length : 0 };
      for (const level of [...sums.keys()].sort((a, b) => a - b)) {
        const entry = sums.get(level)!;
        figures[`level-${level}`] = entry.total / entry.count;
      }
      return figures;
    },
  };
}

export const worldBenchmarkFactory: BenchmarkFactoryV1 = {
  specificationVersion: 'v1',
  name: 'world',
  create: (options) => createWorldBenchmark(options as WorldBenchmarkOptions),
};

// Judge inputs from the built-in world: valid tasks with their right answer, for tests that need realistic pairs.
import type { JudgeItem } from '@lsp/core';
import { generateTasks } from '@lsp/world';

export interface WorldItemOptions {
  /** Default 16. */
  count?: number;
  /** Default 1. */
  seed?: number;
}

/** World tasks as judge items: the query, its exact answer, and the parsed task's facts in `metadata`. */
export function worldItems(options: WorldItemOptions = {}): JudgeItem[] {
  return generateTasks({ count: options.count ?? 16, seed: options.seed ?? 1 }).map((task) => ({
    query: task.canonical,
    answer: task.answer,
    metadata: { level: task.level, difficulty: task.difficulty },
  }));
}

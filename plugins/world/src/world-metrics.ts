// Figures about an iteration's Challenger queries for the run's metrics: how many are valid tasks, how difficult
// the valid ones are, and how they spread over the levels.
import { parseTask, worldLimits } from './world-task';

export interface QuerySummary {
  /** Fraction of queries that parse as tasks (0 when there are none). */
  validQueryFraction: number;
  /** Mean difficulty of the valid queries (0 when none is valid). */
  queryDifficultyMean: number;
  /** Valid queries at each level, '1'..'5', every level present. */
  queryDifficultyCounts: Record<string, number>;
}

export function summarizeQueries(queries: readonly string[]): QuerySummary {
  const counts: Record<string, number> = {};
  for (let level = 1; level <= worldLimits.maxLevel; level++) counts[String(level)] = 0;
  let valid = 0;
  let difficultySum = 0;
  for (const query of queries) {
    const parsed = parseTask(query);
    if (!parsed.valid) continue;
    valid++;
    difficultySum += parsed.task.difficulty;
    counts[String(parsed.task.level)]!++;
  }
  return {
    validQueryFraction: queries.length > 0 ? valid / queries.length : 0,
    queryDifficultyMean: valid > 0 ? difficultySum / valid : 0,
    queryDifficultyCounts: counts,
  };
}

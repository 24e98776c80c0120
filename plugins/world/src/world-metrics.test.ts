// The summary of an iteration's queries.
import { expect, test } from 'bun:test';
import { summarizeQueries } from './world-metrics';

test('valid fraction, mean difficulty of the valid queries, and counts by level', () => {
  // Difficulties 1, 2 and 3 (see world-task.test.ts); two invalid texts.
  const summary = summarizeQueries(['reverse abc', 'upper reverse abc', 'add 3 count hello', 'hello', 'add abc 1']);
  expect(summary.validQueryFraction).toBeCloseTo(0.6, 12);
  expect(summary.queryDifficultyMean).toBeCloseTo(2, 12);
  expect(summary.queryDifficultyCounts).toEqual({ '1': 1, '2': 1, '3': 1, '4': 0, '5': 0 });
});

test('no queries, or none valid, gives zeros rather than NaN', () => {
  expect(summarizeQueries([])).toEqual({ validQueryFraction: 0, queryDifficultyMean: 0, queryDifficultyCounts: { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 } });
  expect(summarizeQueries(['nonsense']).queryDifficultyMean).toBe(0);
});

// Run comparison: the 95% interval by hand, grouping by experiment, and the refusal of a non-run folder.
import { InvalidInputError } from '@lsp/core';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendMetrics, type IterationMetrics } from '../run/run-metrics';
import { compareRuns, formatComparisonTable, meanInterval, renderComparisonHtml } from './run-comparison';

let root: string;

function writeRun(name: string, game: string, seed: number, start: number, end: number, zeroVariance: [number, number] = [2, 4]): string {
  const directory = join(root, name);
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, 'config.json'), JSON.stringify({ game, judge: 'world', model: 'builtin', seed }));
  const base: IterationMetrics = { iteration: 0, time: 0, solverRewardMean: 0, kl: 0, loss: 0, gradientNorm: 0, tokensPerSecond: 1 };
  appendMetrics(directory, { ...base, iteration: 0, heldOutScore: start });
  appendMetrics(directory, { ...base, iteration: 1, time: 1, zeroVarianceGroups: zeroVariance[0] });
  appendMetrics(directory, { ...base, iteration: 2, time: 2, heldOutScore: end, zeroVarianceGroups: zeroVariance[1] });
  return directory;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lsp-compare-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('meanInterval', () => {
  test('matches the Student-t interval computed by hand', () => {
    // mean 0.4, sample sd 0.2, standard error 0.2/sqrt(3), t(0.975, 2 df) = 4.303.
    const interval = meanInterval([0.2, 0.4, 0.6]);
    expect(interval.mean).toBeCloseTo(0.4, 12);
    expect(interval.halfWidth).toBeCloseTo((4.303 * 0.2) / Math.sqrt(3), 10);
  });

  test('one run has no interval', () => {
    expect(Number.isNaN(meanInterval([0.5]).halfWidth)).toBe(true);
  });
});

describe('compareRuns', () => {
  test('groups runs by experiment and summarises start and end over seeds', () => {
    const runs = [
      writeRun('lsp-0', 'lsp', 0, 0.1, 0.5),
      writeRun('lsp-1', 'lsp', 1, 0.1, 0.7, [5, 7]),
      writeRun('grpo-0', 'grpo', 0, 0.1, 0.4),
    ];
    const comparisons = compareRuns(runs);
    expect(comparisons.map((comparison) => comparison.experiment)).toEqual(['lsp / world / builtin', 'grpo / world / builtin']);
    expect(comparisons[0]!.end!.mean).toBeCloseTo(0.6, 12);
    expect(comparisons[0]!.end!.halfWidth).toBeCloseTo((12.706 * Math.SQRT2 * 0.1) / Math.SQRT2, 10);
    expect(comparisons[1]!.start!.count).toBe(1);
    // Zero-variance groups: each run's mean over its iterations (3 and 6), then the interval over runs.
    expect(comparisons[0]!.zeroVarianceGroups!.mean).toBeCloseTo(4.5, 12);
    expect(comparisons[0]!.zeroVarianceGroups!.halfWidth).toBeCloseTo((12.706 * Math.sqrt(4.5)) / Math.SQRT2, 10);
    const table = formatComparisonTable(comparisons);
    expect(table).toContain('0.600 ± 1.271');
    expect(table).toContain('(1 run)');
    expect(table).toContain('zero-variance groups per iteration');
    expect(table).toContain('3.000 (1 run)');
    expect(renderComparisonHtml(comparisons)).toContain('lsp-1 (seed 1): 0.100 → 0.700');
  });

  test('a folder that is not a run is refused with its name', () => {
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    try {
      compareRuns([empty]);
      throw new Error('expected a refusal');
    } catch (error) {
      expect(InvalidInputError.isInstance(error)).toBe(true);
      expect((error as Error).message).toBe(`${empty} is not a run folder (no config.json)`);
    }
  });
});

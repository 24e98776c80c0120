// Run comparison: the 95% interval by hand, grouping by experiment, and the refusal of a non-run folder.
import { InvalidInputError } from '@lsp/core';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendMetrics, type IterationMetrics } from '../run/run-metrics';
import { compareRuns, formatComparisonTable, meanInterval, renderComparisonHtml } from './run-comparison';

let root: string;

function writeRun(
  name: string, game: string, seed: number, start: number, end: number, zeroVariance: [number, number] = [2, 4], sampled?: [number, number],
): string {
  const directory = join(root, name);
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, 'config.json'), JSON.stringify({ game, judge: 'world', model: 'builtin', seed }));
  const base: IterationMetrics = { iteration: 0, time: 0, solverRewardMean: 0, kl: 0, loss: 0, gradientNorm: 0, tokensPerSecond: 1 };
  appendMetrics(directory, { ...base, iteration: 0, heldOutScore: start, ...(sampled ? { heldOutSampledScore: sampled[0] } : {}) });
  appendMetrics(directory, { ...base, iteration: 1, time: 1, zeroVarianceGroups: zeroVariance[0] });
  appendMetrics(directory, { ...base, iteration: 2, time: 2, heldOutScore: end, zeroVarianceGroups: zeroVariance[1], ...(sampled ? { heldOutSampledScore: sampled[1] } : {}) });
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
    // No run recorded a sampled score: no sampled columns.
    expect(table).not.toContain('sampled');
    expect(comparisons[0]!.sampled.start).toBeUndefined();
  });

  test('end - start is each run\'s own difference; sampled scores get their own columns', () => {
    const runs = [
      writeRun('s-0', 'lsp', 0, 0.2, 0.3, [2, 4], [0.10, 0.16]),
      writeRun('s-1', 'lsp', 1, 0.2, 0.25, [2, 4], [0.12, 0.14]),
      writeRun('s-2', 'lsp', 2, 0.2, 0.2, [2, 4], [0.11, 0.17]),
    ];
    const [comparison] = compareRuns(runs);
    // Greedy changes 0.1, 0.05, 0: mean 0.05, sd 0.05; sampled changes 0.06, 0.02, 0.06: mean 0.04667, sd 0.02309.
    expect(comparison!.change!.mean).toBeCloseTo(0.05, 12);
    expect(comparison!.change!.halfWidth).toBeCloseTo((4.303 * 0.05) / Math.sqrt(3), 10);
    expect(comparison!.sampled.start!.mean).toBeCloseTo(0.11, 12);
    expect(comparison!.sampled.end!.mean).toBeCloseTo(0.47 / 3, 12);
    expect(comparison!.sampled.change!.mean).toBeCloseTo(0.14 / 3, 12);
    expect(comparison!.sampled.change!.halfWidth).toBeCloseTo((4.303 * Math.sqrt(0.0016 / 3)) / Math.sqrt(3), 10);
    const table = formatComparisonTable([comparison!]);
    expect(table).toContain('end - start');
    expect(table).toContain('sampled end - start');
    expect(table).toContain('0.050 ± 0.124');
    expect(table).toContain('0.047 ± 0.057');
    expect(renderComparisonHtml([comparison!])).toContain('s-0 (seed 0): 0.200 → 0.300; sampled 0.100 → 0.160');
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

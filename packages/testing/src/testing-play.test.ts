// The kit plays the runner's own loop with the plugins under test: their components are the ones used, the
// metrics come back, a benchmark is scored, and a broken plugin is refused as `bun lsp` refuses it.
import { LspError, type JudgeFactoryV1, type PluginV1 } from '@lsp/core';
import { createWorldJudge } from '@lsp/world';
import { describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { playGame, scoreBenchmark, worldItems } from './index';

/** A judge that scores every answer 0.25, so the Solver's mean reward tells whose judge the run used. */
const quarterJudge: JudgeFactoryV1 = {
  specificationVersion: 'v1',
  name: 'world',
  create: () => ({ specificationVersion: 'v1', name: 'world', doScore: async (items) => items.map(() => ({ score: 0.25 })) }),
};
const quarterPlugin: PluginV1 = { specificationVersion: 'v1', name: 'lsp-plugin-quarter', version: '0.0.1', judges: [quarterJudge] };

describe('playGame', () => {
  test('plays lsp on the built-in world model and returns one metrics record per iteration', async () => {
    const { metrics, samples, config, runDirectory } = await playGame({ iterations: 2 });
    expect(metrics.map((m) => m.iteration)).toEqual([1, 2]);
    expect(config.training.queriesPerIteration).toBe(4);
    expect(config.training.answersPerQuery).toBe(4);
    // The pretrained model writes world tasks, so some queries are valid and the world judge's quality shows.
    for (const m of metrics) {
      expect(m.validQueryFraction).toBeGreaterThan(0);
      expect(m.qualityRewardMean).toBeGreaterThan(0);
      expect(Number.isFinite(m.loss)).toBe(true);
      expect(m.gameStatistics?.valueMean).toBeNumber();
    }
    expect(samples.length).toBeGreaterThan(0);
    expect(runDirectory).toBeUndefined();
  });

  test("the plugin under test wins a shared name: its judge's scores are the Solver's rewards", async () => {
    const { metrics } = await playGame({ plugins: [quarterPlugin], game: 'lsp-zero', iterations: 1 });
    expect(metrics[0]!.solverRewardMean).toBe(0.25);
  });

  test('a benchmark is scored at the start and the end; `out` keeps the run folder', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lsp-testing-out-'));
    try {
      const { metrics, runDirectory } = await playGame({ benchmark: 'world', iterations: 1, out: join(out, 'run') });
      expect(metrics.map((m) => m.iteration)).toEqual([0, 1]);
      expect(metrics[0]!.heldOutScore).toBeGreaterThanOrEqual(0);
      expect(metrics[1]!.heldOutByLevel).toBeDefined();
      expect(existsSync(join(runDirectory!, 'report.html'))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('the tiny random model plays too (for backends)', async () => {
    const { metrics } = await playGame({ model: 'tiny', iterations: 1, training: { maxNewTokens: 4 } });
    expect(metrics).toHaveLength(1);
    expect(metrics[0]!.validQueryFraction).toBeLessThan(1);
  });

  test('a plugin that fails its shape check is refused in one line, as the runner refuses it', async () => {
    const broken = { specificationVersion: 'v1', name: 'lsp-plugin-broken', version: '1.0.0', games: [{ specificationVersion: 'v1', name: 'x' }] };
    const error = await playGame({ plugins: [broken as unknown as PluginV1] }).catch((caught: unknown) => caught);
    expect(LspError.isInstance(error)).toBe(true);
    expect((error as LspError).toLine()).toContain('plugin lsp-plugin-broken: games[0] ("x") fails its shape check');
  });

  test('a bad iteration count is refused in one line', async () => {
    const error = await playGame({ iterations: 0 }).catch((caught: unknown) => caught);
    expect((error as LspError).toLine()).toBe('playGame: iterations must be a positive whole number, got 0');
  });
});

describe('scoreBenchmark and worldItems', () => {
  test("the world benchmark's figures for the built-in model: overall and by level, within [0, 1]", async () => {
    const figures = await scoreBenchmark({ benchmark: 'world' });
    expect(Object.keys(figures)).toEqual(['overall', 'level-1', 'level-2', 'level-3', 'level-4', 'level-5']);
    for (const value of Object.values(figures)) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(1);
    }
    // The pretrained model answers some easy tasks exactly.
    expect(figures['level-1']).toBeGreaterThan(0);
  });

  test('world items carry their right answers: the world judge scores every one 1', async () => {
    const items = worldItems({ count: 12, seed: 5 });
    expect(items).toHaveLength(12);
    const scores = await createWorldJudge().doScore(items, {});
    expect(scores.map((score) => score.score)).toEqual(new Array(12).fill(1));
  });
});

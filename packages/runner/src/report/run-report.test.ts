// report.html: charts' data and library inlined, samples from start/middle/end, hostile text escaped.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { iterationMetricsSchema, zeroVarianceFigures, type IterationMetrics, type IterationSample } from '../run/run-metrics';
import { gameStatisticNames, pickSampleIterations, renderReportHtml, writeReport } from './run-report';

const metrics: IterationMetrics[] = [0, 1, 2, 3, 4].map((iteration) => ({
  iteration, time: iteration * 2, solverRewardMean: iteration / 10, challengerRewardMean: -iteration / 10, kl: 0.01 * iteration,
  loss: 1 - iteration / 10, gradientNorm: 0.5, tokensPerSecond: 100, validQueryFraction: 0.9,
  queryDifficultyCounts: { '1': 4 - Math.min(iteration, 4), '2': Math.min(iteration, 4) },
  ...(iteration % 2 === 0 ? { heldOutScore: 0.2 + iteration / 20, heldOutByLevel: { '1': 0.5, '2': 0.1 } } : {}),
}));
const samples: IterationSample[] = [0, 2, 4].map((iteration) => ({
  iteration, query: iteration === 2 ? 'reverse </script><b>x' : `add ${iteration} 1`, valid: true, difficulty: 1,
  answers: [{ text: String(iteration + 1), reward: 1 }],
}));

describe('run report', () => {
  test('picks the first, middle and last sampled iterations', () => {
    expect(pickSampleIterations(samples).map((pick) => `${pick.label}:${pick.iteration}`)).toEqual(['start:0', 'middle:2', 'end:4']);
    expect(pickSampleIterations(samples.slice(0, 1)).map((pick) => pick.label)).toEqual(['start']);
  });

  test('inlines Chart.js and the metrics, needs no network, and escapes sample text', () => {
    const html = renderReportHtml({ title: 'run <1>', config: { game: 'lsp' }, metrics, samples });
    expect(html).toContain('<title>run &#60;1&#62;</title>');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toContain('https://cdn');
    expect(html).toContain('Chart'); // the library's own code
    expect(html).toContain('"heldOutScore":0.4');
    expect(html).toContain('reverse &#60;/script&#62;&#60;b&#62;x');
    expect(html).toContain('final held-out score 0.400');
    // Exactly the three script elements we write: data, library, charts.
    expect(html.match(/<script/g)).toHaveLength(3);
  });

  test('draws one chart for each figure the game added, named after it', () => {
    const withGame = metrics.map((m, index) => ({ ...m, zeroVarianceGroups: index, gameStatistics: { uncertaintyRewardMean: index / 4, 'a<b': 1 } }));
    const html = renderReportHtml({ title: 't', config: {}, metrics: withGame, samples });
    expect(gameStatisticNames(withGame)).toEqual(['uncertaintyRewardMean', 'a<b']);
    expect(html).toContain('<figcaption>Game statistic: uncertaintyRewardMean</figcaption><canvas id="game-statistic-0">');
    expect(html).toContain('<figcaption>Game statistic: a&#60;b</figcaption><canvas id="game-statistic-1">');
    expect(html).toContain('"gameStatistics":["uncertaintyRewardMean","a\\u003cb"]');
    expect(html).toContain('<canvas id="zero-variance">');
    expect(renderReportHtml({ title: 't', config: {}, metrics, samples })).not.toContain('game-statistic-0"');
  });

  test('charts the fraction of query groups with zero reward variance, or the count for runs that recorded only that', () => {
    const withFraction = metrics.map((m, index) => ({ ...m, ...zeroVarianceFigures(index, 8) }));
    expect(withFraction[2]!.zeroVarianceFraction).toBe(0.25);
    const html = renderReportHtml({ title: 't', config: {}, metrics: withFraction, samples });
    expect(html).toContain('"zeroVarianceFraction":0.25');
    expect(html).toContain('Query groups with zero reward variance');
    // The chart script picks the fraction when any iteration has it.
    expect(html).toContain("if (metrics.some((m) => m.zeroVarianceFraction !== undefined))");
    expect(zeroVarianceFigures(undefined, 8)).toEqual({});
    expect(zeroVarianceFigures(3, 0)).toEqual({ zeroVarianceGroups: 3 });
    expect(iterationMetricsSchema.parse(withFraction[2]).zeroVarianceFraction).toBe(0.25);
  });

  test('writeReport writes report.html in the run folder', () => {
    const directory = mkdtempSync(join(tmpdir(), 'lsp-report-'));
    try {
      const path = writeReport(directory, { title: 't', config: {}, metrics, samples });
      expect(path).toBe(join(directory, 'report.html'));
      expect(readFileSync(path, 'utf8')).toStartWith('<!doctype html>');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

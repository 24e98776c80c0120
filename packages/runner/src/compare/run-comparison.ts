// `lsp compare RUN...`: held-out scores at the start and the end of each run and the zero-variance groups per
// iteration, grouped by experiment (game, judge, model), as a mean and a 95% interval over seeds, for the terminal
// and an HTML page.
import { InvalidInputError } from '@lsp/core';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { escapeHtml } from '../report/run-report';
import { readMetrics } from '../run/run-metrics';

export const runConfigFileName = 'config.json';

/** Two-sided 95% Student-t critical values by degrees of freedom (1..30); the normal value beyond. */
const tCritical95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export interface Interval {
  mean: number;
  /** Half-width of the 95% interval; NaN with a single run (no spread to estimate). */
  halfWidth: number;
  count: number;
}

export function meanInterval(values: readonly number[]): Interval {
  const count = values.length;
  const mean = values.reduce((sum, value) => sum + value, 0) / count;
  if (count < 2) return { mean, halfWidth: Number.NaN, count };
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (count - 1);
  const critical = tCritical95[count - 2] ?? 1.96;
  return { mean, halfWidth: (critical * Math.sqrt(variance)) / Math.sqrt(count), count };
}

export interface RunSummary {
  directory: string;
  experiment: string;
  seed: number | undefined;
  iterations: number;
  startScore: number | undefined;
  endScore: number | undefined;
  /** Mean over the run's iterations of the groups whose rewards were all equal (no Solver gradient). */
  zeroVarianceGroups: number | undefined;
}

export function summariseRun(directory: string): RunSummary {
  const configPath = join(directory, runConfigFileName);
  if (!existsSync(configPath)) {
    throw new InvalidInputError(`${directory} is not a run folder (no ${runConfigFileName})`, {
      hint: 'pass folders written by `lsp run`',
    });
  }
  let config: { game?: string; judge?: string; model?: string; seed?: number };
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch {
    throw new InvalidInputError(`${configPath}: not valid JSON`, { hint: 'the run folder is damaged' });
  }
  const metrics = readMetrics(directory);
  const evaluated = metrics.filter((record) => record.heldOutScore !== undefined);
  const zeroVariance = metrics.map((record) => record.zeroVarianceGroups).filter((count): count is number => count !== undefined);
  return {
    directory,
    experiment: `${config.game ?? '?'} / ${config.judge ?? '?'} / ${basename(config.model ?? '?')}`,
    seed: config.seed,
    iterations: metrics.length,
    startScore: evaluated[0]?.heldOutScore,
    endScore: evaluated[evaluated.length - 1]?.heldOutScore,
    zeroVarianceGroups: zeroVariance.length > 0 ? zeroVariance.reduce((sum, count) => sum + count, 0) / zeroVariance.length : undefined,
  };
}

export interface ExperimentComparison {
  experiment: string;
  runs: RunSummary[];
  start: Interval | undefined;
  end: Interval | undefined;
  zeroVarianceGroups: Interval | undefined;
}

export function compareRuns(directories: readonly string[]): ExperimentComparison[] {
  const groups = new Map<string, RunSummary[]>();
  for (const directory of directories) {
    const summary = summariseRun(directory);
    groups.set(summary.experiment, [...(groups.get(summary.experiment) ?? []), summary]);
  }
  return [...groups].map(([experiment, runs]) => {
    const starts = runs.map((run) => run.startScore).filter((score): score is number => score !== undefined);
    const ends = runs.map((run) => run.endScore).filter((score): score is number => score !== undefined);
    const zeroVariance = runs.map((run) => run.zeroVarianceGroups).filter((count): count is number => count !== undefined);
    return {
      experiment,
      runs,
      start: starts.length > 0 ? meanInterval(starts) : undefined,
      end: ends.length > 0 ? meanInterval(ends) : undefined,
      zeroVarianceGroups: zeroVariance.length > 0 ? meanInterval(zeroVariance) : undefined,
    };
  });
}

export function formatInterval(interval: Interval | undefined, missing = 'not evaluated'): string {
  if (!interval) return missing;
  const spread = Number.isNaN(interval.halfWidth) ? '(1 run)' : `± ${interval.halfWidth.toFixed(3)}`;
  return `${interval.mean.toFixed(3)} ${spread}`;
}

export function formatComparisonTable(comparisons: readonly ExperimentComparison[]): string {
  const header = ['experiment (game / judge / model)', 'runs', 'held-out at start', 'held-out at end', 'zero-variance groups per iteration'];
  const rows = comparisons.map((comparison) => [
    comparison.experiment,
    String(comparison.runs.length),
    formatInterval(comparison.start),
    formatInterval(comparison.end),
    formatInterval(comparison.zeroVarianceGroups, 'not recorded'),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const render = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
  return [render(header), ...rows.map(render), '', 'mean ± half-width of the 95% t-interval over runs (seeds)'].join('\n');
}

export function renderComparisonHtml(comparisons: readonly ExperimentComparison[]): string {
  const rows = comparisons
    .map(
      (comparison) =>
        `<tr><td>${escapeHtml(comparison.experiment)}</td><td>${comparison.runs.length}</td>` +
        `<td>${escapeHtml(formatInterval(comparison.start))}</td><td>${escapeHtml(formatInterval(comparison.end))}</td>` +
        `<td>${escapeHtml(formatInterval(comparison.zeroVarianceGroups, 'not recorded'))}</td>` +
        `<td>${comparison.runs.map((run) => escapeHtml(`${basename(run.directory)} (seed ${run.seed ?? '?'}): ${run.startScore?.toFixed(3) ?? '-'} → ${run.endScore?.toFixed(3) ?? '-'}`)).join('<br>')}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>LSP run comparison</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}</style>
</head><body><h1>Run comparison</h1>
<table><tr><th>experiment (game / judge / model)</th><th>runs</th><th>held-out at start</th><th>held-out at end</th><th>zero-variance groups per iteration</th><th>runs (start → end)</th></tr>${rows}</table>
<p>Mean ± half-width of the 95% Student-t interval over runs (seeds).</p></body></html>
`;
}

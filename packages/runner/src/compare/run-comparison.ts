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

/** A run's held-out score at its first and last evaluation, one way of answering (greedy or sampled). */
export interface StartAndEnd {
  start: number | undefined;
  end: number | undefined;
}

export interface RunSummary {
  directory: string;
  experiment: string;
  seed: number | undefined;
  iterations: number;
  startScore: number | undefined;
  endScore: number | undefined;
  /** The sampled held-out score (config evaluateSamples) at the first and last evaluation that recorded one. */
  sampled: StartAndEnd;
  /** Mean over the run's iterations of the groups whose rewards were all equal (no Solver gradient). */
  zeroVarianceGroups: number | undefined;
}

function startAndEnd(values: readonly (number | undefined)[]): StartAndEnd {
  const recorded = values.filter((value): value is number => value !== undefined);
  return { start: recorded[0], end: recorded[recorded.length - 1] };
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
  const greedy = startAndEnd(metrics.map((record) => record.heldOutScore));
  const zeroVariance = metrics.map((record) => record.zeroVarianceGroups).filter((count): count is number => count !== undefined);
  return {
    directory,
    experiment: `${config.game ?? '?'} / ${config.judge ?? '?'} / ${basename(config.model ?? '?')}`,
    seed: config.seed,
    iterations: metrics.length,
    startScore: greedy.start,
    endScore: greedy.end,
    sampled: startAndEnd(metrics.map((record) => record.heldOutSampledScore)),
    zeroVarianceGroups: zeroVariance.length > 0 ? zeroVariance.reduce((sum, count) => sum + count, 0) / zeroVariance.length : undefined,
  };
}

/** Start, end and end - start (each run's own difference) over the runs of an experiment. */
export interface ScoreChange {
  start: Interval | undefined;
  end: Interval | undefined;
  change: Interval | undefined;
}

export interface ExperimentComparison extends ScoreChange {
  experiment: string;
  runs: RunSummary[];
  /** The same for the sampled held-out score; all undefined when no run recorded one. */
  sampled: ScoreChange;
  zeroVarianceGroups: Interval | undefined;
}

function intervalOf(values: readonly (number | undefined)[]): Interval | undefined {
  const recorded = values.filter((value): value is number => value !== undefined);
  return recorded.length > 0 ? meanInterval(recorded) : undefined;
}

function scoreChange(pairs: readonly StartAndEnd[]): ScoreChange {
  return {
    start: intervalOf(pairs.map((pair) => pair.start)),
    end: intervalOf(pairs.map((pair) => pair.end)),
    change: intervalOf(pairs.map((pair) => (pair.start !== undefined && pair.end !== undefined ? pair.end - pair.start : undefined))),
  };
}

export function compareRuns(directories: readonly string[]): ExperimentComparison[] {
  const groups = new Map<string, RunSummary[]>();
  for (const directory of directories) {
    const summary = summariseRun(directory);
    groups.set(summary.experiment, [...(groups.get(summary.experiment) ?? []), summary]);
  }
  return [...groups].map(([experiment, runs]) => ({
    experiment,
    runs,
    ...scoreChange(runs.map((run) => ({ start: run.startScore, end: run.endScore }))),
    sampled: scoreChange(runs.map((run) => run.sampled)),
    zeroVarianceGroups: intervalOf(runs.map((run) => run.zeroVarianceGroups)),
  }));
}

export function formatInterval(interval: Interval | undefined, missing = 'not evaluated'): string {
  if (!interval) return missing;
  const spread = Number.isNaN(interval.halfWidth) ? '(1 run)' : `± ${interval.halfWidth.toFixed(3)}`;
  return `${interval.mean.toFixed(3)} ${spread}`;
}

/** The table's columns: the sampled ones only when some run recorded a sampled score. */
function comparisonColumns(comparisons: readonly ExperimentComparison[]): [string, (comparison: ExperimentComparison) => string][] {
  const columns: [string, (comparison: ExperimentComparison) => string][] = [
    ['experiment (game / judge / model)', (comparison) => comparison.experiment],
    ['runs', (comparison) => String(comparison.runs.length)],
    ['held-out at start', (comparison) => formatInterval(comparison.start)],
    ['held-out at end', (comparison) => formatInterval(comparison.end)],
    ['end - start', (comparison) => formatInterval(comparison.change)],
  ];
  if (comparisons.some((comparison) => comparison.sampled.start !== undefined)) {
    columns.push(
      ['sampled at start', (comparison) => formatInterval(comparison.sampled.start)],
      ['sampled at end', (comparison) => formatInterval(comparison.sampled.end)],
      ['sampled end - start', (comparison) => formatInterval(comparison.sampled.change)],
    );
  }
  columns.push(['zero-variance groups per iteration', (comparison) => formatInterval(comparison.zeroVarianceGroups, 'not recorded')]);
  return columns;
}

export function formatComparisonTable(comparisons: readonly ExperimentComparison[]): string {
  const columns = comparisonColumns(comparisons);
  const header = columns.map(([title]) => title);
  const rows = comparisons.map((comparison) => columns.map(([, cell]) => cell(comparison)));
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const render = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
  return [
    render(header), ...rows.map(render), '',
    'mean ± half-width of the 95% t-interval over runs (seeds); end - start is each run\'s own difference, then the interval',
  ].join('\n');
}

export function renderComparisonHtml(comparisons: readonly ExperimentComparison[]): string {
  const columns = comparisonColumns(comparisons);
  const score = (value: number | undefined) => value?.toFixed(3) ?? '-';
  const rows = comparisons
    .map(
      (comparison) =>
        `<tr>${columns.map(([, cell]) => `<td>${escapeHtml(cell(comparison))}</td>`).join('')}` +
        `<td>${comparison.runs.map((run) => escapeHtml(`${basename(run.directory)} (seed ${run.seed ?? '?'}): ${score(run.startScore)} → ${score(run.endScore)}` +
          (run.sampled.start !== undefined ? `; sampled ${score(run.sampled.start)} → ${score(run.sampled.end)}` : ''))).join('<br>')}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>LSP run comparison</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}</style>
</head><body><h1>Run comparison</h1>
<table><tr>${columns.map(([title]) => `<th>${escapeHtml(title)}</th>`).join('')}<th>runs (start → end)</th></tr>${rows}</table>
<p>Mean ± half-width of the 95% Student-t interval over runs (seeds); end - start is each run's own difference, then the interval.</p></body></html>
`;
}

// report.html: one static file with the run's charts (Chart.js, inlined so it opens with no network) and
// sample queries and answers from the start, middle and end of the run.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IterationMetrics, IterationSample } from '../run/run-metrics';

export interface ReportInput {
  title: string;
  /** The resolved config, shown as JSON. */
  config: unknown;
  metrics: readonly IterationMetrics[];
  samples: readonly IterationSample[];
}

let chartLibrary: string | undefined;

/** The Chart.js UMD bundle, read once from the installed package. */
export function chartLibrarySource(): string {
  if (chartLibrary === undefined) {
    // The package's exports map hides dist/; its main entry sits beside the UMD bundle.
    const entry = Bun.resolveSync('chart.js', dirname(fileURLToPath(import.meta.url)));
    chartLibrary = readFileSync(join(dirname(entry), 'chart.umd.min.js'), 'utf8');
  }
  return chartLibrary;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** JSON that is safe inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Samples from the first, middle and last iterations that have any. */
export function pickSampleIterations(samples: readonly IterationSample[]): { label: string; iteration: number }[] {
  const iterations = [...new Set(samples.map((sample) => sample.iteration))].sort((a, b) => a - b);
  if (iterations.length === 0) return [];
  const picks = [
    { label: 'start', iteration: iterations[0]! },
    { label: 'middle', iteration: iterations[Math.floor((iterations.length - 1) / 2)]! },
    { label: 'end', iteration: iterations[iterations.length - 1]! },
  ];
  return picks.filter((pick, index) => picks.findIndex((other) => other.iteration === pick.iteration) === index);
}

function samplesSection(samples: readonly IterationSample[]): string {
  const parts: string[] = [];
  for (const { label, iteration } of pickSampleIterations(samples)) {
    const rows = samples
      .filter((sample) => sample.iteration === iteration)
      .slice(0, 6)
      .map((sample) => {
        const answers = sample.answers
          .slice(0, 4)
          .map((answer) => `<li><code>${escapeHtml(answer.text)}</code> <span class="reward">R ${answer.reward.toFixed(2)}` +
            (answer.qualityReward !== undefined ? `, RQ ${answer.qualityReward.toFixed(2)}` : '') +
            (answer.qualityParsed === false ? ' (no readable score)' : '') + '</span>' +
            (answer.qualityReview !== undefined
              ? `<details><summary>quality review</summary><code>${escapeHtml(answer.qualityReview)}</code></details>`
              : '') + '</li>')
          .join('');
        const facts = [
          sample.valid === undefined ? '' : sample.valid ? 'valid' : 'invalid',
          sample.difficulty === undefined ? '' : `difficulty ${sample.difficulty}`,
        ].filter(Boolean).join(', ');
        return `<tr><td><code>${escapeHtml(sample.query)}</code><div class="facts">${facts}</div></td><td><ul>${answers}</ul></td></tr>`;
      })
      .join('');
    parts.push(`<h3>${label} (iteration ${iteration})</h3><table><tr><th>Challenger query</th><th>Solver answers</th></tr>${rows}</table>`);
  }
  return parts.length > 0 ? parts.join('') : '<p>No samples were recorded.</p>';
}

const chartScript = `
const data = JSON.parse(document.getElementById('lsp-data').textContent);
const metrics = data.metrics;
const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
function line(id, series, yTitle) {
  const canvas = document.getElementById(id);
  const datasets = series
    .map((s, index) => ({
      label: s.label,
      data: metrics.filter((m) => m[s.key] !== undefined && m[s.key] !== null).map((m) => ({ x: m.iteration, y: s.pick ? s.pick(m) : m[s.key] })),
      borderColor: palette[index % palette.length], backgroundColor: palette[index % palette.length],
      pointRadius: s.points ? 3 : 0, tension: 0.1, spanGaps: true,
    }))
    .filter((d) => d.data.length > 0);
  if (datasets.length === 0) { canvas.replaceWith(Object.assign(document.createElement('p'), { textContent: 'No data for this chart in this run.' })); return; }
  new Chart(canvas, { type: 'line', data: { datasets }, options: { animation: false, parsing: false,
    scales: { x: { type: 'linear', title: { display: true, text: 'iteration' } }, y: { title: { display: true, text: yTitle } } } } });
}
line('rewards', [
  { key: 'solverRewardMean', label: 'Solver reward' },
  { key: 'challengerRewardMean', label: 'Challenger reward' },
  { key: 'qualityRewardMean', label: 'quality self-reward' },
], 'mean reward');
const levels = [...new Set(metrics.flatMap((m) => Object.keys(m.heldOutByLevel || {})))].sort((a, b) => Number(a) - Number(b));
line('heldout', [{ key: 'heldOutScore', label: 'all levels', points: true }].concat(levels.map((level) => ({
  key: 'heldOutByLevel', label: 'level ' + level, points: true, pick: (m) => (m.heldOutByLevel || {})[level] ?? null,
}))), 'held-out score');
const sampledLevels = [...new Set(metrics.flatMap((m) => Object.keys(m.heldOutSampledByLevel || {})))].sort((a, b) => Number(a) - Number(b));
line('heldout-sampled', [{ key: 'heldOutSampledScore', label: 'all levels', points: true }].concat(sampledLevels.map((level) => ({
  key: 'heldOutSampledByLevel', label: 'level ' + level, points: true, pick: (m) => (m.heldOutSampledByLevel || {})[level] ?? null,
}))), 'held-out score, sampled');
(function difficulty() {
  const canvas = document.getElementById('difficulty');
  const rows = metrics.filter((m) => m.queryDifficultyCounts);
  const keys = [...new Set(rows.flatMap((m) => Object.keys(m.queryDifficultyCounts)))].sort((a, b) => Number(a) - Number(b));
  if (rows.length === 0) { canvas.replaceWith(Object.assign(document.createElement('p'), { textContent: 'No difficulty data in this run.' })); return; }
  const datasets = keys.map((key, index) => ({
    label: 'difficulty ' + key, backgroundColor: palette[index % palette.length],
    data: rows.map((m) => { const total = Object.values(m.queryDifficultyCounts).reduce((a, b) => a + b, 0) || 1; return (m.queryDifficultyCounts[key] || 0) / total; }),
  }));
  new Chart(canvas, { type: 'bar', data: { labels: rows.map((m) => m.iteration), datasets }, options: { animation: false,
    scales: { x: { stacked: true, title: { display: true, text: 'iteration' } }, y: { stacked: true, max: 1, title: { display: true, text: 'fraction of queries' } } } } });
})();
line('valid', [{ key: 'validQueryFraction', label: 'valid queries' }], 'fraction');
line('quality', [
  { key: 'qualityRewardMean', label: 'mean RQ (0..7 for the reference model)' },
  { key: 'qualityUnparsedFraction', label: 'unparsed reviews (fraction)' },
], 'value');
line('answer-length', [{ key: 'answerLengthMean', label: 'mean answer length' }], 'tokens');
const phases = [...new Set(metrics.flatMap((m) => Object.keys(m.phaseTokens || {})))];
line('phase-rates', phases.map((phase) => ({
  key: 'phaseTokens', label: phase,
  pick: (m) => { const t = (m.phaseTokens || {})[phase]; const s = (m.phaseSeconds || {})[phase]; return t > 0 && s > 0 ? t / s : null; },
})), 'tokens/s');
line('kl', [{ key: 'kl', label: 'KL to the reference' }], 'KL');
line('training', [{ key: 'loss', label: 'loss' }, { key: 'gradientNorm', label: 'gradient norm' }], 'value');
// The share of query groups; runs recorded before the fraction was kept show the count.
if (metrics.some((m) => m.zeroVarianceFraction !== undefined)) {
  line('zero-variance', [{ key: 'zeroVarianceFraction', label: 'query groups with equal rewards' }], 'fraction of query groups');
} else {
  line('zero-variance', [{ key: 'zeroVarianceGroups', label: 'query groups with equal rewards' }], 'groups');
}
data.gameStatistics.forEach((name, index) => line('game-statistic-' + index, [{
  key: 'gameStatistics', label: name, pick: (m) => (m.gameStatistics || {})[name] ?? null,
}], name));
`;

/** Names of the figures the game added (metrics.gameStatistics), in first-seen order: one chart each. */
export function gameStatisticNames(metrics: readonly IterationMetrics[]): string[] {
  return [...new Set(metrics.flatMap((m) => Object.keys(m.gameStatistics ?? {})))];
}

export function renderReportHtml(input: ReportInput): string {
  const last = input.metrics[input.metrics.length - 1];
  const summary = last
    ? `${input.metrics.length} iterations, ${last.time.toFixed(0)} s` +
      (last.heldOutScore !== undefined ? `, final held-out score ${last.heldOutScore.toFixed(3)}` : '')
    : 'no iterations recorded';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5em; }
figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: .3em; }
table { border-collapse: collapse; width: 100%; } td, th { border: 1px solid #ddd; padding: .4em; vertical-align: top; text-align: left; }
code { white-space: pre-wrap; word-break: break-word; } .reward, .facts { color: #666; font-size: 12px; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
</style></head><body>
<h1>${escapeHtml(input.title)}</h1>
<p>${escapeHtml(summary)}</p>
<div class="grid">
<figure><figcaption>Rewards by role</figcaption><canvas id="rewards"></canvas></figure>
<figure><figcaption>Held-out score by difficulty (greedy)</figcaption><canvas id="heldout"></canvas></figure>
<figure><figcaption>Held-out score by difficulty, sampled at the play temperature (config evaluateSamples)</figcaption><canvas id="heldout-sampled"></canvas></figure>
<figure><figcaption>Challenger's query difficulty</figcaption><canvas id="difficulty"></canvas></figure>
<figure><figcaption>Valid-query fraction</figcaption><canvas id="valid"></canvas></figure>
<figure><figcaption>Quality self-reward: mean RQ and unparsed reviews</figcaption><canvas id="quality"></canvas></figure>
<figure><figcaption>Solver answer length</figcaption><canvas id="answer-length"></canvas></figure>
<figure><figcaption>Tokens per second by phase</figcaption><canvas id="phase-rates"></canvas></figure>
<figure><figcaption>KL to the reference</figcaption><canvas id="kl"></canvas></figure>
<figure><figcaption>Loss and gradient norm</figcaption><canvas id="training"></canvas></figure>
<figure><figcaption>Query groups with zero reward variance (no Solver gradient)</figcaption><canvas id="zero-variance"></canvas></figure>
${gameStatisticNames(input.metrics)
  .map((name, index) => `<figure><figcaption>Game statistic: ${escapeHtml(name)}</figcaption><canvas id="game-statistic-${index}"></canvas></figure>`)
  .join('\n')}
</div>
<h2>Samples</h2>
${samplesSection(input.samples)}
<h2>Configuration</h2>
<pre>${escapeHtml(JSON.stringify(input.config, null, 2))}</pre>
<script id="lsp-data" type="application/json">${scriptJson({ metrics: input.metrics, gameStatistics: gameStatisticNames(input.metrics) })}</script>
<script>${chartLibrarySource().replace(/<\/script/gi, '<\\/script')}</script>
<script>${chartScript}</script>
</body></html>
`;
}

/** Writes report.html into the run folder (temporary name, then rename, so a reader never sees half a file). */
export function writeReport(runDirectory: string, input: ReportInput): string {
  const path = join(runDirectory, 'report.html');
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, renderReportHtml(input));
  renameSync(temporary, path);
  return path;
}

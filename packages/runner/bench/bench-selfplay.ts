// bun run bench:selfplay — iterations/s and tokens/s of the self-play loop by phase (generation, judging, scoring,
// training), so the slowest phase is visible. Runs the default experiment's settings on the built-in model (or a
// model folder given with --model) for a few iterations on the chosen backend, and prints the figures.
import { configSchema } from '@lsp/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPlugins } from '../src/plugins/plugin-registry';
import { readMetrics } from '../src/run/run-metrics';
import { runExperiment } from '../src/selfplay/experiment';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'builtin' },
    backend: { type: 'string', default: 'wasm' },
    iterations: { type: 'string', default: '5' },
    game: { type: 'string', default: 'lsp' },
  },
});

const out = join(mkdtempSync(join(tmpdir(), 'lsp-bench-selfplay-')), 'run');
try {
  const registry = await loadPlugins();
  const config = configSchema.parse({
    model: values.model, backend: values.backend, game: values.game, iterations: Number(values.iterations),
    benchmark: 'none', checkpointEvery: 1_000_000, out,
  });
  const started = performance.now();
  await runExperiment({ config, registry, print: () => {} });
  const seconds = (performance.now() - started) / 1000;
  const metrics = readMetrics(out).filter((m) => m.iteration > 0);
  const phases = ['generation', 'judging', 'scoring', 'training'] as const;
  const totals = Object.fromEntries(phases.map((phase) => [phase, metrics.reduce((sum, m) => sum + (m.phaseSeconds?.[phase] ?? 0), 0)]));
  const loopSeconds = metrics.reduce((sum, m) => sum + Object.values(m.phaseSeconds ?? {}).reduce((a, b) => a + b, 0), 0);
  const generated = metrics.reduce((sum, m) => sum + (m.generatedTokens ?? 0), 0);
  console.log(`self-play benchmark: game ${values.game}, model ${values.model}, backend ${values.backend}, ${metrics.length} iterations`);
  console.log(`  whole run (loading included): ${seconds.toFixed(1)} s; loop: ${(metrics.length / loopSeconds).toFixed(3)} iterations/s`);
  console.log(`  generated tokens: ${generated} (${(generated / totals.generation!).toFixed(0)} tokens/s while generating)`);
  console.log('  phase        seconds  share');
  for (const phase of phases) {
    console.log(`  ${phase.padEnd(11)} ${totals[phase]!.toFixed(2).padStart(8)}  ${((100 * totals[phase]!) / loopSeconds).toFixed(1).padStart(5)}%`);
  }
  const slowest = phases.reduce((a, b) => (totals[a]! >= totals[b]! ? a : b));
  console.log(`  slowest phase: ${slowest}`);
} finally {
  rmSync(join(out, '..'), { recursive: true, force: true });
}

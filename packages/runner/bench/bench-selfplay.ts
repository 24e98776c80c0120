// bun run bench:selfplay — two parts. (1) One GRPO iteration of the CPU benchmark's model and shapes against TRL's
// GRPOTrainer doing the same work on the same cores, in one run: seconds per iteration, the ratio, and each side's
// split by phase. (2) iterations/s and tokens/s of the self-play loop by phase (generation, judging, scoring,
// training), so the slowest phase is visible: the default experiment's settings on the built-in model (or a model
// folder given with --model) for a few iterations on the chosen backend. `--part trl` or `--part loop` runs one.
import { chooseMatmulPath, createWasmDevice } from '@lsp/backend-wasm';
import { configSchema } from '@lsp/core';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPlugins } from '../src/plugins/plugin-registry';
import { readMetrics } from '../src/run/run-metrics';
import { runExperiment } from '../src/selfplay/experiment';
import { grpoSettings, type IterationTiming, runGrpoIterations, writeGrpoModel } from './grpo-iteration';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'builtin' },
    backend: { type: 'string', default: 'wasm' },
    iterations: { type: 'string', default: '5' },
    game: { type: 'string', default: 'lsp' },
    part: { type: 'string' },
    rounds: { type: 'string', default: '2' },
  },
});
if (values.part !== undefined && values.part !== 'trl' && values.part !== 'loop') {
  console.error(`bench:selfplay: unknown part "${values.part}"; give trl (the GRPO iteration against TRL) or loop (the self-play loop)`);
  process.exit(1);
}

// --- (1) One GRPO iteration against TRL's GRPOTrainer ---------------------------------------------------------

const phases = ['generation', 'reference', 'training', 'other'] as const;
const phaseNames: Record<(typeof phases)[number], string> = {
  generation: 'generation', reference: 'reference log-probs', training: 'forward, backward, AdamW', other: 'rewards, advantages, rest',
};

/** The median iteration's figures, phase by phase (each phase its own median). */
function medianTiming(timings: readonly IterationTiming[]): IterationTiming {
  const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
  return {
    seconds: median(timings.map((t) => t.seconds)),
    generation: median(timings.map((t) => t.generation)),
    reference: median(timings.map((t) => t.reference)),
    training: median(timings.map((t) => t.training)),
    other: median(timings.map((t) => t.other)),
  };
}

/** The Python with TRL: LSP_TRL_PYTHON, else the environment scripts/setup.sh --with-references creates. */
function trlPython(): string | { skipped: string } {
  const root = join(import.meta.dir, '../../..');
  const candidates = [process.env.LSP_TRL_PYTHON, join(root, '.venv-references/bin/python')].filter((c): c is string => !!c);
  for (const python of candidates) {
    if (!existsSync(python)) continue;
    if (Bun.spawnSync([python, '-c', 'import trl'], { stderr: 'ignore', stdout: 'ignore' }).exitCode === 0) return python;
  }
  return {
    skipped: 'no Python with TRL (scripts/setup.sh --with-references creates .venv-references where pip can reach a package index; or set LSP_TRL_PYTHON)',
  };
}

interface TrlResult {
  trl: string;
  torch: string;
  parameters: number;
  iterations: IterationTiming[];
  completion_lengths: [number, number];
}

async function measureTrl(python: string): Promise<TrlResult | { skipped: string }> {
  const child = Bun.spawn([python, join(import.meta.dir, 'trl_reference.py'), JSON.stringify(grpoSettings)], {
    env: { ...process.env, OMP_WAIT_POLICY: 'passive', OMP_NUM_THREADS: String(grpoSettings.threads) },
    stdout: 'pipe', stderr: 'pipe',
  });
  const [output, errors, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) return { skipped: `TRL failed: ${errors.trim().split('\n').at(-1) ?? `exit code ${code}`}` };
  return JSON.parse(output.trim().split('\n').at(-1)!) as TrlResult;
}

async function measureLsp(directory: string, blas: boolean) {
  const device = await createWasmDevice({ threads: grpoSettings.threads, blas });
  try {
    return { description: device.info.description, ...(await runGrpoIterations(directory, device, grpoSettings)) };
  } finally {
    device.dispose();
  }
}

async function trlSection(): Promise<void> {
  const s = grpoSettings;
  const rounds = Number(values.rounds);
  console.log(`(1) one GRPO iteration against TRL's GRPOTrainer, ${s.threads} threads, float32: ${s.prompts} prompts x ${s.answers} answers ` +
    `x exactly ${s.completion_tokens} sampled tokens (prompts of ${s.prompt_tokens}), beta ${s.beta} (k3), loss per-sequence token mean ` +
    `("grpo"), group advantages / std, one AdamW step (clip 1, no decay); model vocab ${s.vocab}, hidden ${s.hidden}, ${s.layers} layers, ` +
    `${s.heads} heads, ${s.kv_heads} KV heads, intermediate ${s.intermediate}, tied embeddings`);
  console.log(`    ${s.iterations} iterations per side after one warm-up, in ${rounds} alternating rounds; figures are the median ` +
    'iteration of the better round of each side\n');
  const directory = mkdtempSync(join(tmpdir(), 'lsp-bench-grpo-'));
  let lsp: Awaited<ReturnType<typeof measureLsp>> | undefined;
  let lspBest: IterationTiming | undefined;
  // The pure wasm path too, where OpenBLAS is the default: what a machine without it gets.
  const withBlas = chooseMatmulPath(undefined).blas !== undefined;
  let wasmOnlyBest: IterationTiming | undefined;
  let trl: TrlResult | { skipped: string } | undefined;
  let trlBest: IterationTiming | undefined;
  try {
    await writeGrpoModel(directory, s);
    const python = trlPython();
    for (let round = 0; round < rounds; round++) {
      const ours = await measureLsp(directory, withBlas);
      const oursMedian = medianTiming(ours.timings);
      if (!lspBest || oursMedian.seconds < lspBest.seconds) [lsp, lspBest] = [ours, oursMedian];
      if (withBlas) {
        const wasmOnly = medianTiming((await measureLsp(directory, false)).timings);
        if (!wasmOnlyBest || wasmOnly.seconds < wasmOnlyBest.seconds) wasmOnlyBest = wasmOnly;
      }
      if (typeof python !== 'string') {
        trl = python;
        continue;
      }
      const theirs = await measureTrl(python);
      if ('skipped' in theirs) {
        trl = theirs;
        break;
      }
      const theirsMedian = medianTiming(theirs.iterations);
      if (!trlBest || theirsMedian.seconds < trlBest.seconds) [trl, trlBest] = [theirs, theirsMedian];
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const row = (name: string, timing: IterationTiming | undefined) =>
    `  ${name.padEnd(30)}${timing ? timing.seconds.toFixed(2).padStart(8) : '       -'}` +
    phases.map((phase) => (timing ? `${timing[phase].toFixed(2)} (${((100 * timing[phase]) / timing.seconds).toFixed(0)}%)` : '-').padStart(14)).join('');
  console.log(`  ${'side'.padEnd(30)}${'s/iter'.padStart(8)}${phases.map((phase) => phase.padStart(14)).join('')}`);
  console.log(row(`LSP (${withBlas ? 'wasm + OpenBLAS' : 'wasm'})`, lspBest));
  if (wasmOnlyBest) console.log(row('LSP (wasm only, LSP_BLAS=off)', wasmOnlyBest));
  const trlResult = trl && !('skipped' in trl) ? trl : undefined;
  console.log(row(trlResult ? `TRL ${trlResult.trl}, torch ${trlResult.torch}` : 'TRL', trlBest));
  console.log(`  phases: ${phases.map((phase) => `${phase} = ${phaseNames[phase]}`).join('; ')}`);
  console.log(`  LSP: ${lsp!.description}, ${lsp!.parameters} parameters, completions of ${lsp!.completionLengths.join('-')} tokens`);
  if (trlResult && trlBest && lspBest) {
    console.log(`  TRL: ${trlResult.parameters} parameters, completions of ${trlResult.completion_lengths.join('-')} tokens, OMP_WAIT_POLICY=passive`);
    console.log(`  LSP is ${(trlBest.seconds / lspBest.seconds).toFixed(2)}x TRL's speed (TRL's seconds per iteration / LSP's)` +
      (wasmOnlyBest ? `; on the wasm kernels alone ${(trlBest.seconds / wasmOnlyBest.seconds).toFixed(2)}x` : ''));
  } else {
    console.log(`  TRL skipped: ${trl && 'skipped' in trl ? trl.skipped : 'not measured'}`);
  }
}

// --- (2) The self-play loop by phase ----------------------------------------------------------------------------

async function loopSection(): Promise<void> {
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
    console.log(`(2) the self-play loop: game ${values.game}, model ${values.model}, backend ${values.backend}, ${metrics.length} iterations`);
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
}

const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');
console.log(`bench:selfplay on ${navigator.hardwareConcurrency} cores, Bun ${Bun.version}, load average ${load()}\n`);
if (values.part !== 'loop') {
  await trlSection();
  console.log(`\nload average after (1): ${load()}\n`);
}
if (values.part !== 'trl') await loopSection();

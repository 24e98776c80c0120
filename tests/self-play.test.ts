// The self-play loop end to end on a tiny random model: every game runs, the run folder holds what it should,
// a non-finite step is refused, and a run stopped and resumed gives the same metrics as one run straight through.
import { NonFiniteError, configSchema, type LspConfig } from '@lsp/core';
import backendWasm from '@lsp/backend-wasm';
import gameLsp from '@lsp/game-lsp';
import tokenizerWasm from '@lsp/tokenizer-wasm';
import world from '@lsp/world';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PluginRegistry } from '../packages/runner/src/plugins/plugin-registry';
import { readMetrics, readSamples, type IterationMetrics } from '../packages/runner/src/run/run-metrics';
import { runExperiment } from '../packages/runner/src/selfplay/experiment';
import { writeTinyWorldModel } from './support/tiny-world-model';

let root: string;
let modelDirectory: string;

function registry(): PluginRegistry {
  const plugins = new PluginRegistry();
  for (const plugin of [backendWasm(), tokenizerWasm(), gameLsp(), world()]) plugins.add(plugin, 'config');
  return plugins;
}

function config(overrides: Record<string, unknown>): LspConfig {
  return configSchema.parse({
    model: modelDirectory,
    backend: 'wasm',
    iterations: 4,
    seed: 3,
    evaluateEvery: 2,
    checkpointEvery: 2,
    training: { queriesPerIteration: 3, answersPerQuery: 2, maxNewTokens: 6, learningRate: 1e-3 },
    ...overrides,
  });
}

const quiet = () => {};
/** The figures a resumed run must reproduce exactly: everything but wall-clock time and speed. */
const deterministic = (metrics: IterationMetrics[]) =>
  metrics.map(({ time: _time, tokensPerSecond: _speed, phaseSeconds: _phases, ...rest }) => rest);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lsp-selfplay-'));
  modelDirectory = join(root, 'model');
  await writeTinyWorldModel(modelDirectory);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('self-play end to end', () => {
  test('lsp writes config, metrics, samples, checkpoints and the report', async () => {
    const out = join(root, 'lsp');
    const result = await runExperiment({ config: config({ out, benchmark: 'none' }), registry: registry(), print: quiet });
    expect(result.lastIteration).toBe(4);
    const metrics = readMetrics(out);
    expect(metrics.map((m) => m.iteration)).toEqual([1, 2, 3, 4]);
    for (const m of metrics) {
      expect(m.challengerRewardMean).toBeDefined();
      expect(m.qualityRewardMean).toBeDefined();
      expect(m.validQueryFraction).toBeGreaterThanOrEqual(0);
      expect(m.validQueryFraction).toBeLessThanOrEqual(1);
      expect(Number.isFinite(m.loss)).toBe(true);
      expect(m.gradientNorm).toBeGreaterThan(0);
      expect(m.tokensPerSecond).toBeGreaterThan(0);
    }
    expect(readSamples(out).length).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).game).toBe('lsp');
    expect(existsSync(join(out, 'checkpoints', 'iteration-000004', 'model', 'model.safetensors'))).toBe(true);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('Rewards by role');
  });

  test('lsp-zero has no quality reward; grpo has no Challenger', async () => {
    const zero = join(root, 'zero');
    await runExperiment({ config: config({ out: zero, game: 'lsp-zero', iterations: 2, benchmark: 'none' }), registry: registry(), print: quiet });
    const zeroMetrics = readMetrics(zero);
    expect(zeroMetrics).toHaveLength(2);
    expect(zeroMetrics[0]!.qualityRewardMean).toBeUndefined();
    expect(zeroMetrics[0]!.challengerRewardMean).toBeDefined();

    const grpo = join(root, 'grpo');
    await runExperiment({
      config: config({ out: grpo, game: 'grpo', iterations: 2, benchmark: 'none', gameOptions: { datasetSize: 50 } }),
      registry: registry(), print: quiet,
    });
    const grpoMetrics = readMetrics(grpo);
    expect(grpoMetrics).toHaveLength(2);
    expect(grpoMetrics[0]!.challengerRewardMean).toBeUndefined();
    expect(grpoMetrics[0]!.validQueryFraction).toBeUndefined();
    expect(readSamples(grpo)[0]!.role).toBe('dataset');
  });

  test('a run stopped after iteration 2 and resumed matches a run straight through', async () => {
    const straight = join(root, 'straight');
    // Sampled held-out scores too (2 draws per item at the play temperature, 1), recorded and resumed like the rest.
    await runExperiment({ config: config({ out: straight, evaluateSamples: 2 }), registry: registry(), print: quiet });

    const interrupted = join(root, 'interrupted');
    let finishedIterations = 0;
    const first = await runExperiment({
      config: config({ out: interrupted, evaluateSamples: 2 }),
      registry: registry(),
      print: (line) => { if (line.startsWith('iter ')) finishedIterations++; },
      stopRequested: () => finishedIterations >= 2,
    });
    expect(first.stopped).toBe(true);
    expect(first.lastIteration).toBe(2);
    const resumed = await runExperiment({ config: config({}), registry: registry(), print: quiet, resume: { directory: interrupted } });
    expect(resumed.lastIteration).toBe(4);

    const expected = readMetrics(straight);
    // Held-out at the start (iteration 0), after 2 and after 4, as evaluateEvery says.
    expect(expected.filter((m) => m.heldOutScore !== undefined).map((m) => m.iteration)).toEqual([0, 2, 4]);
    expect(expected.filter((m) => m.heldOutSampledScore !== undefined).map((m) => m.iteration)).toEqual([0, 2, 4]);
    expect(Object.keys(expected[0]!.heldOutSampledByLevel!)).toEqual(Object.keys(expected[0]!.heldOutByLevel!));
    expect(deterministic(readMetrics(interrupted))).toEqual(deterministic(expected));
    expect(readSamples(interrupted)).toEqual(readSamples(straight));

    // `lsp eval` on the run gives the held-out score the run recorded for its last checkpoint.
    const child = Bun.spawn(
      [process.execPath, join(import.meta.dir, '..', 'packages', 'runner', 'src', 'bin.ts'), 'eval', '--checkpoint', straight, '--backend', 'wasm', '--max-tokens', '6', '--json'],
      { stdout: 'pipe', stderr: 'pipe' },
    );
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    expect(code, stderr).toBe(0);
    const figures = JSON.parse(stdout) as Record<string, number>;
    expect(figures.overall).toBe(expected.at(-1)!.heldOutScore!);
    expect(Object.keys(figures)).toContain('level-1');
    // And sampled with the run's seed, the sampled score it recorded.
    const sampledChild = Bun.spawn(
      [process.execPath, join(import.meta.dir, '..', 'packages', 'runner', 'src', 'bin.ts'), 'eval', '--checkpoint', straight, '--backend', 'wasm', '--max-tokens', '6',
        '--temperature', '1', '--samples', '2', '--seed', '3', '--json'],
      { stdout: 'pipe', stderr: 'pipe' },
    );
    const [sampledOut, sampledErr, sampledCode] = await Promise.all([new Response(sampledChild.stdout).text(), new Response(sampledChild.stderr).text(), sampledChild.exited]);
    expect(sampledCode, sampledErr).toBe(0);
    expect((JSON.parse(sampledOut) as Record<string, number>).overall).toBe(expected.at(-1)!.heldOutSampledScore!);
  });

  test('with LoRA: checkpoints are PEFT adapter folders, a stopped run resumes exactly, eval reads it and merge folds it in', async () => {
    const lora = { lora: { rank: 2, dropout: 0.1 }, training: { queriesPerIteration: 3, answersPerQuery: 2, maxNewTokens: 6, learningRate: 3e-2 } };
    const straight = join(root, 'lora-straight');
    const lines: string[] = [];
    await runExperiment({ config: config({ ...lora, out: straight }), registry: registry(), print: (line) => lines.push(line) });
    expect(lines.find((line) => line.includes('LoRA r 2, alpha 4, dropout 0.1 on q, k, v, o, gate, up, down'))).toContain('the reference is the base with adapters off');
    const checkpoint = join(straight, 'checkpoints', 'iteration-000004', 'model');
    expect(existsSync(join(checkpoint, 'adapter_config.json')) && existsSync(join(checkpoint, 'adapter_model.safetensors'))).toBe(true);
    expect(existsSync(join(checkpoint, 'model.safetensors'))).toBe(false);
    const metrics = readMetrics(straight);
    // The adapters train: the policy moves away from the reference (the base).
    expect(metrics.at(-1)!.kl).toBeGreaterThan(0);

    const interrupted = join(root, 'lora-interrupted');
    let finishedIterations = 0;
    await runExperiment({
      config: config({ ...lora, out: interrupted }), registry: registry(),
      print: (line) => { if (line.startsWith('iter ')) finishedIterations++; },
      stopRequested: () => finishedIterations >= 2,
    });
    await runExperiment({ config: config({}), registry: registry(), print: quiet, resume: { directory: interrupted } });
    expect(deterministic(readMetrics(interrupted))).toEqual(deterministic(metrics));

    const cli = async (...args: string[]) => {
      const child = Bun.spawn([process.execPath, join(import.meta.dir, '..', 'packages', 'runner', 'src', 'bin.ts'), ...args], { stdout: 'pipe', stderr: 'pipe' });
      const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
      expect(code, stderr).toBe(0);
      return stdout;
    };
    const evaluated = JSON.parse(await cli('eval', '--checkpoint', straight, '--backend', 'wasm', '--max-tokens', '6', '--json')) as Record<string, number>;
    expect(evaluated.overall).toBe(metrics.at(-1)!.heldOutScore!);
    const merged = join(root, 'lora-merged');
    expect(await cli('merge', '--adapter', checkpoint, '--out', merged, '--backend', 'wasm')).toContain('merged in');
    expect(existsSync(join(merged, 'adapter_config.json'))).toBe(false);
    const mergedFigures = JSON.parse(await cli('eval', '--checkpoint', merged, '--backend', 'wasm', '--max-tokens', '6', '--json')) as Record<string, number>;
    expect(mergedFigures).toEqual(evaluated);
  });

  test('non-finite steps are refused, no checkpoint is written, and the run stops after three', async () => {
    const poisoned = join(root, 'poisoned-model');
    await writeTinyWorldModel(poisoned, 1, Number.NaN);
    const out = join(root, 'poisoned');
    const lines: string[] = [];
    let caught: unknown;
    try {
      await runExperiment({ config: config({ out, model: poisoned, benchmark: 'none', iterations: 5 }), registry: registry(), print: (line) => lines.push(line) });
    } catch (error) {
      caught = error;
    }
    expect(NonFiniteError.isInstance(caught)).toBe(true);
    expect((caught as Error).message).toBe('training stopped at iteration 3: 3 steps in a row had a non-finite loss or gradient');
    const metrics = readMetrics(out);
    expect(metrics.map((m) => m.stepRefused)).toEqual([true, true, true]);
    expect(metrics.every((m) => m.loss === null && m.gradientNorm === null)).toBe(true);
    expect(lines.some((line) => line.includes('the step is refused and the weights are unchanged'))).toBe(true);
    expect(existsSync(join(out, 'checkpoints', 'latest.json'))).toBe(false);
  });

  test('`lsp run` honours its flags, before or after the command name', async () => {
    const bin = join(import.meta.dir, '..', 'packages', 'runner', 'src', 'bin.ts');
    const out = join(root, 'cli-run');
    const child = Bun.spawn(
      [process.execPath, bin, '--seed', '7', 'run', '--model', modelDirectory, '--out', out, '--iterations', '1', '--backend', 'wasm', '--game', 'lsp-zero'],
      { stdout: 'pipe', stderr: 'pipe' },
    );
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('lsp: finished 1 iterations');
    const saved = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as LspConfig;
    expect([saved.seed, saved.iterations, saved.game, saved.backend, saved.model]).toEqual([7, 1, 'lsp-zero', 'wasm', modelDirectory]);
    expect(readMetrics(out).map((m) => m.iteration)).toEqual([0, 1]);
  });

  test('killed with SIGKILL, or stopped with Ctrl-C, a run resumes to the same metrics as one run straight through', async () => {
    const bin = join(import.meta.dir, '..', 'packages', 'runner', 'src', 'bin.ts');
    const worldIndex = join(import.meta.dir, '..', 'plugins', 'world', 'src', 'index.ts');
    const configPath = join(root, 'signal.config.ts');
    // The signal must land during iteration 3 whatever the machine's speed: the world judge is wrapped by one that,
    // when LSP_TEST_HOLD_AT_ITERATION names the iteration, says so and waits for the signal before it scores. A
    // SIGKILL ends it there; a SIGINT reaches the runner's handler first (it was installed before), then lets the
    // iteration finish. The straight run sets no hold and plays the same game.
    writeFileSync(configPath, `import { createWorldJudge } from ${JSON.stringify(worldIndex)};
const hold = Number(process.env.LSP_TEST_HOLD_AT_ITERATION ?? 0);
let calls = 0;
const held = {
  specificationVersion: 'v1', name: 'held-world',
  create(options) {
    const inner = createWorldJudge(options);
    return {
      specificationVersion: 'v1', name: 'held-world',
      async doScore(items, context) {
        calls++;
        if (calls === hold) {
          await new Promise((resolve) => { process.once('SIGINT', resolve); console.log('judge: holding iteration ' + calls); });
        }
        return inner.doScore(items, context);
      },
    };
  },
};
export default ${JSON.stringify({
      model: modelDirectory, backend: 'wasm', iterations: 6, seed: 4, evaluateEvery: 3, checkpointEvery: 1, judge: 'held-world',
      training: { queriesPerIteration: 3, answersPerQuery: 2, maxNewTokens: 6, learningRate: 1e-3 },
    }).slice(0, -1)}, plugins: [{ name: 'held-world', version: '0.0.0', specificationVersion: 'v1', judges: [held] }] };`);
    const start = (args: string[], hold = 0) => Bun.spawn([process.execPath, bin, 'run', '--config', configPath, ...args], {
      stdout: 'pipe', stderr: 'pipe', env: { ...process.env, LSP_TEST_HOLD_AT_ITERATION: String(hold) },
    });
    const finish = async (child: ReturnType<typeof start>) => {
      const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
      return { stdout, stderr, code };
    };
    /** Starts a run held in iteration 3 (the judge is called once per iteration) and sends `signal` there. */
    const interrupt = async (out: string, signal: 'SIGKILL' | 'SIGINT') => {
      const child = start(['--out', out], 3);
      const reader = child.stdout.getReader();
      let seen = '';
      while (!seen.includes('judge: holding iteration 3')) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += new TextDecoder().decode(value);
      }
      child.kill(signal);
      let rest = '';
      for (let part = await reader.read(); !part.done; part = await reader.read()) rest += new TextDecoder().decode(part.value);
      const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
      return { seen, stderr, code, rest };
    };

    const straight = join(root, 'signal-straight');
    expect((await finish(start(['--out', straight]))).code).toBe(0);

    const killed = join(root, 'signal-killed');
    const kill = await interrupt(killed, 'SIGKILL');
    expect(kill.code).not.toBe(0);
    expect(kill.seen).toContain('iter 2/6');
    expect(kill.seen).not.toContain('iter 3/6');
    const afterKill = await finish(start(['--resume', killed]));
    expect(afterKill.code, afterKill.stderr).toBe(0);
    expect(afterKill.stdout).toContain(`lsp: resuming ${killed} after iteration 2`);

    const stopped = join(root, 'signal-stopped');
    const stop = await interrupt(stopped, 'SIGINT');
    expect(stop.code).toBe(130);
    expect(stop.seen + stop.rest).toContain('stopping after this iteration and saving a checkpoint');
    expect(stop.rest).toContain(`continue with --resume ${stopped}`);
    const afterStop = await finish(start(['--resume', stopped]));
    expect(afterStop.code, afterStop.stderr).toBe(0);
    expect(afterStop.stdout).toContain(`lsp: resuming ${stopped} after iteration 3`);

    const expected = deterministic(readMetrics(straight));
    expect(expected.map((m) => m.iteration)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(deterministic(readMetrics(killed))).toEqual(expected);
    expect(deterministic(readMetrics(stopped))).toEqual(expected);
  });

  test('an existing run folder is not overwritten', async () => {
    await expect(runExperiment({ config: config({ out: join(root, 'lsp') }), registry: registry(), print: quiet })).rejects.toThrow('already holds a run');
  });
});

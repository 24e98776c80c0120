// Any benchmark plugin can be a run's held-out benchmark: `benchmark` and `benchmarkOptions` in the config reach the
// benchmark's factory, and its figures land in the run's metrics as the held-out score.
import { configSchema } from '@lsp/core';
import backendWasm from '@lsp/backend-wasm';
import benchmarkMath from '@lsp/benchmark-math';
import gameLsp from '@lsp/game-lsp';
import tokenizerWasm from '@lsp/tokenizer-wasm';
import world from '@lsp/world';
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PluginRegistry } from '../packages/runner/src/plugins/plugin-registry';
import { readMetrics } from '../packages/runner/src/run/run-metrics';
import { runExperiment } from '../packages/runner/src/selfplay/experiment';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lsp-held-out-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function registry(): PluginRegistry {
  const plugins = new PluginRegistry();
  for (const plugin of [backendWasm(), tokenizerWasm(), gameLsp(), world(), benchmarkMath()]) plugins.add(plugin, 'config');
  return plugins;
}

test('a GSM8K-format file is the held-out benchmark of a run, evaluated at the start and the end', async () => {
  // World tasks written as GSM8K items, asked bare (no instruction): the shipped model answers some of them.
  const data = join(root, 'gsm8k.jsonl');
  const tasks: [string, number][] = [['add 12 7', 19], ['add 3 4', 7], ['multiply 6 7', 42], ['add 20 22', 42], ['subtract 9 4', 5]];
  writeFileSync(data, tasks.map(([question, answer]) => JSON.stringify({ question, answer: `#### ${answer}` })).join('\n') + '\n');
  const out = join(root, 'run');
  await runExperiment({
    config: configSchema.parse({
      model: 'builtin', backend: 'wasm', game: 'lsp', iterations: 2, seed: 0, out, evaluateEvery: 2, checkpointEvery: 2,
      training: { maxNewTokens: 8, queriesPerIteration: 2, answersPerQuery: 2 },
      benchmark: 'gsm8k', benchmarkOptions: { data, instruction: '' },
    }),
    registry: registry(),
    print: () => {},
  });
  const evaluated = readMetrics(out).filter((metrics) => metrics.heldOutScore !== undefined);
  expect(evaluated.map((metrics) => metrics.iteration)).toEqual([0, 2]);
  for (const metrics of evaluated) {
    // A share of five items, and not all wrong: the answers were generated and matched against the file's.
    expect(Number.isInteger(metrics.heldOutScore! * 5)).toBe(true);
    expect(metrics.heldOutScore!).toBeGreaterThan(0);
  }
}, 120_000);

test('the benchmark options reach the factory: a missing data file stops the run before it starts, naming it', async () => {
  const missing = join(root, 'nowhere.jsonl');
  const run = runExperiment({
    config: configSchema.parse({
      model: 'builtin', backend: 'wasm', game: 'lsp', iterations: 1, out: join(root, 'run-missing'),
      benchmark: 'gsm8k', benchmarkOptions: { data: missing },
    }),
    registry: registry(),
    print: () => {},
  });
  await expect(run).rejects.toThrow(missing);
});

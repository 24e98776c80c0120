// The whole training path learns: GRPO on four fixed world tasks, with the shipped model, raises the Solver's
// reward on them. Sampling, judging, advantages, the policy-gradient loss, backward and AdamW all have to be right
// (in sign and in which tokens they score) for the reward to climb; every other test checks them one at a time.
import { configSchema } from '@lsp/core';
import backendWasm from '@lsp/backend-wasm';
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
  root = mkdtempSync(join(tmpdir(), 'lsp-learning-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

test('GRPO on four fixed tasks raises the Solver reward of the shipped model', async () => {
  const dataset = join(root, 'tasks.jsonl');
  // Tasks the shipped model answers right some of the time at temperature 1, so their groups carry a gradient.
  writeFileSync(dataset, ['reverse hello', 'count abcdef', 'add 12 7', 'sort banana'].map((prompt) => JSON.stringify({ prompt })).join('\n') + '\n');
  const registry = new PluginRegistry();
  for (const plugin of [backendWasm(), tokenizerWasm(), gameLsp(), world()]) registry.add(plugin, 'config');
  const out = join(root, 'run');
  const iterations = 30;
  await runExperiment({
    config: configSchema.parse({
      model: 'builtin', backend: 'wasm', game: 'grpo', iterations, seed: 0, benchmark: 'none', out,
      evaluateEvery: iterations, checkpointEvery: iterations,
      training: { learningRate: 3e-4, klEstimator: 'k3', maxNewTokens: 16, queriesPerIteration: 8, answersPerQuery: 8 },
      gameOptions: { dataset },
    }),
    registry,
    print: () => {},
  });
  const rewards = readMetrics(out).map((metrics) => metrics.solverRewardMean!);
  expect(rewards).toHaveLength(iterations);
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const first = mean(rewards.slice(0, 8));
  const last = mean(rewards.slice(-8));
  console.log(`GRPO on four tasks: Solver reward ${first.toFixed(3)} over the first 8 iterations, ${last.toFixed(3)} over the last 8`);
  expect(last).toBeGreaterThan(first + 0.15);
}, 120_000);

// Held-out evaluation, greedy and sampled: a sampled item scores the mean of its draws, draws are reproducible by
// seed, and `lsp eval` takes --temperature and --samples (refusing bad values in one line).
import type { BenchmarkItem, BenchmarkV1 } from '@lsp/core';
import { createWasmDevice } from '@lsp/backend-wasm';
import { createSelfPlayGame } from '@lsp/game-lsp';
import { loadModel } from '@lsp/model';
import { loadTokenizer } from '@lsp/tokenizer-wasm';
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateBenchmark } from '../packages/runner/src/selfplay/self-play-loop';
import { writeTinyWorldModel } from './support/tiny-world-model';

let root: string;
let modelDirectory: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lsp-evaluation-'));
  modelDirectory = join(root, 'model');
  await writeTinyWorldModel(modelDirectory);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A benchmark that scores an answer by the parity of its length and records every answer it is shown. */
function parityBenchmark(seen: Map<string, string[]>): BenchmarkV1 {
  const items: BenchmarkItem[] = ['reverse abc', 'count hello', 'add 3 4'].map((prompt, index) => ({ id: String(index), prompt }));
  return {
    specificationVersion: 'v1',
    name: 'parity',
    loadItems: async () => items,
    scoreItem: (item, answer) => {
      seen.set(item.id, [...(seen.get(item.id) ?? []), answer]);
      return answer.length % 2;
    },
    aggregate: (_items, scores) => Object.fromEntries(scores.map((score, index) => [`item-${index}`, score])),
  };
}

test('a sampled item scores the mean of its draws; the same seed draws the same answers', async () => {
  const device = await createWasmDevice({ threads: 1 });
  const tokenizer = await loadTokenizer(modelDirectory);
  const policy = await loadModel(modelDirectory, { device, tokenizer });
  const game = await createSelfPlayGame('lsp');
  try {
    const seen = new Map<string, string[]>();
    const sampling = { temperature: 1, samples: 5, seed: 11 };
    const figures = await evaluateBenchmark(policy, tokenizer, game, parityBenchmark(seen), 8, sampling);
    for (const index of [0, 1, 2]) {
      const answers = seen.get(String(index))!;
      expect(answers.length).toBe(5);
      expect(figures[`item-${index}`]).toBeCloseTo(answers.filter((answer) => answer.length % 2 === 1).length / 5, 12);
    }
    // A random model's draws differ from one another, so the mean is over real samples, not one answer repeated.
    expect([...seen.values()].some((answers) => new Set(answers).size > 1)).toBe(true);

    const again = new Map<string, string[]>();
    expect(await evaluateBenchmark(policy, tokenizer, game, parityBenchmark(again), 8, sampling)).toEqual(figures);
    expect(again).toEqual(seen);

    // Greedy (the default) answers each item once.
    const greedy = new Map<string, string[]>();
    await evaluateBenchmark(policy, tokenizer, game, parityBenchmark(greedy), 8);
    for (const answers of greedy.values()) expect(answers.length).toBe(1);
    policy.dispose();
  } finally {
    tokenizer.dispose();
    device.dispose();
  }
});

test('lsp eval refuses a negative temperature, zero samples and a bad token budget in one line', async () => {
  const bin = join(import.meta.dir, '..', 'packages', 'runner', 'src', 'bin.ts');
  for (const [flag, value, expected] of [['--temperature', '-1', '--temperature must be 0 or more'], ['--samples', '0', '--samples must be at least 1'],
    ['--max-tokens', 'abc', '--max-tokens must be a whole number'], ['--max-tokens', '0', '--max-tokens must be at least 1']]) {
    const child = Bun.spawn([process.execPath, bin, 'eval', '--checkpoint', modelDirectory, '--backend', 'wasm', flag!, value!], { stdout: 'pipe', stderr: 'pipe' });
    const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
    expect(code).not.toBe(0);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(expected!);
  }
});

// Held-out evaluation, greedy and sampled: a sampled item scores the mean of its draws, draws are reproducible by
// seed, and `lsp eval` takes --temperature and --samples (refusing bad values in one line); `lsp eval --pass-at-k`
// gives greedy accuracy and pass@k per level on the shipped world model.
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

test('lsp eval --pass-at-k on the shipped world model: greedy and pass@k per level, nondecreasing in k, the same again by seed', async () => {
  const bin = join(import.meta.dir, '..', 'packages', 'runner', 'src', 'bin.ts');
  const shippedModel = join(import.meta.dir, '..', 'plugins', 'world', 'model');
  const base = [process.execPath, bin, 'eval', '--checkpoint', shippedModel, '--backend', 'wasm', '--pass-at-k', '--samples', '4', '--limit', '2', '--seed', '3'];
  const printed = Bun.spawn([...base, '--json'], { stdout: 'pipe', stderr: 'pipe' });
  const [stdout, stderr, code] = await Promise.all([new Response(printed.stdout).text(), new Response(printed.stderr).text(), printed.exited]);
  expect(code, stderr).toBe(0);
  expect(stderr).toContain('lsp: pass@k: 50/50 answers (100%)'); // 5 levels x 2 items x (1 greedy + 4 draws)
  const figures = JSON.parse(stdout) as {
    samples: number; temperature: number; ks: number[];
    groups: Record<string, { items: number; greedy: number; passAtK: Record<string, number> }>;
    items: { id: string; level: number; correct: number; greedy: boolean }[];
  };
  expect(figures.samples).toBe(4);
  expect(figures.temperature).toBe(1); // the game's play temperature
  expect(figures.ks).toEqual([1, 4]);
  expect(Object.keys(figures.groups)).toEqual(['overall', 'level-1', 'level-2', 'level-3', 'level-4', 'level-5']);
  expect(figures.items.map((item) => item.id)).toEqual(['L1-01', 'L1-02', 'L2-01', 'L2-02', 'L3-01', 'L3-02', 'L4-01', 'L4-02', 'L5-01', 'L5-02']);
  for (const item of figures.items) expect(item.correct >= 0 && item.correct <= 4).toBe(true);
  for (const group of Object.values(figures.groups)) {
    expect(group.greedy).toBeGreaterThanOrEqual(0);
    expect(group.greedy).toBeLessThanOrEqual(1);
    expect(group.passAtK['pass@1']).toBeGreaterThanOrEqual(0);
    expect(group.passAtK['pass@1']).toBeLessThanOrEqual(1);
    expect(group.passAtK['pass@4']).toBeGreaterThanOrEqual(group.passAtK['pass@1']!);
    expect(group.passAtK['pass@4']).toBeLessThanOrEqual(1);
  }
  // pass@1 is the share of correct draws.
  expect(figures.groups.overall!.passAtK['pass@1']).toBeCloseTo(figures.items.reduce((sum, item) => sum + item.correct, 0) / 40, 12);
  expect(figures.groups.overall!.items).toBe(10);

  // --json FILE: the table on stdout, the same figures (same seed) in the file.
  const file = join(root, 'pass-at-k.json');
  const tabled = Bun.spawn([...base, '--json', file], { stdout: 'pipe', stderr: 'pipe' });
  const [table, tableErrors, tableCode] = await Promise.all([new Response(tabled.stdout).text(), new Response(tabled.stderr).text(), tabled.exited]);
  expect(tableCode, tableErrors).toBe(0);
  const lines = table.trim().split('\n').map((line) => line.trim().split(/\s+/));
  expect(lines[1]).toEqual(['group', 'items', 'greedy', 'pass@1', 'pass@4']);
  expect(lines.slice(2, 8).map((cells) => cells[0])).toEqual(['level-1', 'level-2', 'level-3', 'level-4', 'level-5', 'overall']);
  expect(JSON.parse(await Bun.file(file).text())).toEqual(figures);
});

test('lsp eval refuses --pass-at-k at temperature 0 and a --limit below 1 in one line', async () => {
  const bin = join(import.meta.dir, '..', 'packages', 'runner', 'src', 'bin.ts');
  for (const [flags, expected] of [[['--pass-at-k', '--temperature', '0'], '--pass-at-k draws answers at a temperature above 0'],
    [['--limit', '0'], '--limit must be at least 1'], [['--pass-at-k', '--samples', '0'], '--samples must be at least 1']] as const) {
    const child = Bun.spawn([process.execPath, bin, 'eval', '--checkpoint', modelDirectory, '--backend', 'wasm', ...flags], { stdout: 'pipe', stderr: 'pipe' });
    const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
    expect(code).not.toBe(0);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(expected);
  }
});

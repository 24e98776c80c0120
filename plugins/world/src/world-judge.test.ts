// The world's rule judge, held-out set and benchmark.
import { ConfigError } from '@lsp/core';
import { describe, expect, test } from 'bun:test';
import { createWorldBenchmark } from './world-benchmark';
import { generateTasks } from './world-generator';
import { loadHeldOutSet } from './world-held-out';
import { createWorldJudge, editDistance } from './world-judge';
import { parseTask, worldLimits } from './world-task';

describe('the rule judge', () => {
  test('scores exact answers 1, others 0, and gives valid queries their quality', async () => {
    const judge = createWorldJudge();
    const scores = await judge.doScore(
      [
        { query: 'reverse abc', answer: 'cba' },
        { query: 'reverse abc', answer: ' cba\n' },
        { query: 'reverse abc', answer: 'abc' },
        { query: 'add 12 7', answer: '19' },
        { query: 'add 12 7', answer: '18' },
      ],
      {},
    );
    expect(scores.map((score) => score.score)).toEqual([1, 1, 0, 1, 0]);
    expect(scores.map((score) => score.quality)).toEqual([2, 2, 2, 2, 2]);
    expect(scores[0]!.details).toMatchObject({ valid: true, expected: 'cba', level: 1 });
  });

  test('an invalid query scores 0 with no quality and says why', async () => {
    const [score] = await createWorldJudge().doScore([{ query: 'please reverse abc', answer: 'cba' }], {});
    expect(score).toEqual({ score: 0, quality: 0, details: { valid: false, reason: 'a task starts with an operator, not "please"' } });
  });

  test('options: validQueryQuality, and unknown options refused', async () => {
    const [score] = await createWorldJudge({ validQueryQuality: 1 }).doScore([{ query: 'count ab', answer: '2' }], {});
    expect(score!.quality).toBe(1);
    expect(() => createWorldJudge({ strict: true } as never)).toThrow('judge world: unknown option "strict"');
    let refusal: unknown;
    try {
      createWorldJudge({ validQueryQuality: 'high' as never });
    } catch (error) {
      refusal = error;
    }
    expect(ConfigError.isInstance(refusal)).toBe(true);
    expect((refusal as ConfigError).message).toBe('judge world: validQueryQuality must be a number, got high');
  });
});

describe('partial credit', () => {
  test('edit distance', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('cba', 'abc')).toBe(2);
    expect(editDistance('19', '19')).toBe(0);
  });

  test('a near miss scores partialCredit times its similarity; exact answers 1; invalid queries 0', async () => {
    const judge = createWorldJudge({ partialCredit: 0.5 });
    const scores = await judge.doScore(
      [
        { query: 'reverse abcd', answer: 'dcba' },
        { query: 'reverse abcd', answer: 'dcbx' },
        { query: 'reverse abcd', answer: ' dcb ' },
        { query: 'reverse abcd', answer: 'zzzz' },
        { query: 'reverse abcd', answer: '' },
        { query: 'please reverse abcd', answer: 'dcba' },
      ],
      {},
    );
    // 'dcbx': one substitution in 4 -> 0.5 * 3/4; ' dcb ' trims to 'dcb': one deletion in 4 -> 0.5 * 3/4.
    expect(scores.map((score) => score.score)).toEqual([1, 0.375, 0.375, 0, 0, 0]);
    expect((await createWorldJudge().doScore([{ query: 'reverse abcd', answer: 'dcbx' }], {}))[0]!.score).toBe(0);
  });

  test('partialCredit outside [0, 1) is refused in one line', () => {
    for (const bad of [1, -0.1, Number.NaN, '0.5']) {
      expect(() => createWorldJudge({ partialCredit: bad as never })).toThrow(/^judge world: partialCredit must be a number from 0 up to \(not including\) 1, got /);
    }
  });
});

describe('the held-out set', () => {
  const set = loadHeldOutSet();

  test('is balanced: the same number of distinct items at every level', () => {
    expect(set.items).toHaveLength(set.perLevel * worldLimits.maxLevel);
    for (let level = 1; level <= worldLimits.maxLevel; level++) {
      expect(set.items.filter((item) => item.level === level)).toHaveLength(set.perLevel);
    }
    expect(new Set(set.items.map((item) => item.id)).size).toBe(set.items.length);
    expect(new Set(set.items.map((item) => item.prompt)).size).toBe(set.items.length);
  });

  test('every item parses to its recorded answer, level and difficulty, in canonical form', () => {
    for (const item of set.items) {
      const parsed = parseTask(item.prompt);
      expect(parsed.valid).toBe(true);
      if (!parsed.valid) continue;
      expect(parsed.task).toMatchObject({ answer: item.answer, level: item.level, difficulty: item.difficulty, canonical: item.prompt });
    }
  });

  test('is fixed: the committed file is what its recorded seed generates', () => {
    for (let level = 1; level <= worldLimits.maxLevel; level++) {
      const regenerated = generateTasks({ seed: set.seed + level, count: set.perLevel, levels: [level] }).map((task) => task.canonical);
      expect(set.items.filter((item) => item.level === level).map((item) => item.prompt)).toEqual(regenerated);
    }
  });
});

describe('the world benchmark', () => {
  test('loads the held-out items, scores exactly and aggregates by level', async () => {
    const benchmark = createWorldBenchmark();
    const items = await benchmark.loadItems();
    expect(items).toHaveLength(200);
    const first = items[0]!;
    expect(benchmark.scoreItem(first, String(first.metadata!.answer))).toBe(1);
    expect(benchmark.scoreItem(first, `${String(first.metadata!.answer)}x`)).toBe(0);
    // Right on levels 1 and 2, wrong elsewhere: 80 of 200.
    const scores = items.map((item) => ((item.metadata!.level as number) <= 2 ? 1 : 0));
    expect(benchmark.aggregate(items, scores)).toEqual({
      overall: 0.4, 'level-1': 1, 'level-2': 1, 'level-3': 0, 'level-4': 0, 'level-5': 0,
    });
  });

  test('a level filter, and bad input refused', async () => {
    const benchmark = createWorldBenchmark({ levels: [3] });
    const items = await benchmark.loadItems();
    expect(items).toHaveLength(40);
    expect(items.every((item) => item.metadata!.level === 3)).toBe(true);
    expect(() => benchmark.aggregate(items, [1])).toThrow('40 items but 1 scores');
    expect(() => createWorldBenchmark({ levels: [7] })).toThrow('level 7 is not in 1..5');
  });
});

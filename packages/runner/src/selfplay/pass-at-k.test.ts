// The per-level pass@k summary and table (the estimator itself is tested in @lsp/core).
import { describe, expect, test } from 'bun:test';
import { formatPassAtKTable, summarisePassAtK, type PassAtKFigures, type PassAtKItem } from './pass-at-k';

describe('summarisePassAtK', () => {
  const items: PassAtKItem[] = [
    { id: 'a', level: 1, correct: 4, greedy: true },
    { id: 'b', level: 1, correct: 1, greedy: false },
    { id: 'c', level: 2, correct: 0, greedy: false },
    { id: 'd', level: 2, correct: 2, greedy: true },
  ];

  test('means each k over the items of every level and overall, only k up to the draws', () => {
    const { ks, groups } = summarisePassAtK(items, 4);
    expect(ks).toEqual([1, 4]);
    expect(Object.keys(groups)).toEqual(['overall', 'level-1', 'level-2']);
    expect(groups['level-1']).toEqual({ items: 2, greedy: 0.5, passAtK: { 'pass@1': (1 + 0.25) / 2, 'pass@4': 1 } });
    expect(groups['level-2']!.passAtK['pass@1']).toBeCloseTo(0.25, 15);
    expect(groups['level-2']!.passAtK['pass@4']).toBe(0.5);
    expect(groups.overall!.items).toBe(4);
    expect(groups.overall!.passAtK['pass@1']).toBeCloseTo(7 / 16, 15);
    expect(summarisePassAtK(items.map((item) => ({ ...item, correct: Math.min(item.correct, 1) })), 1).ks).toEqual([1]);
  });

  test('a benchmark without levels has the overall group only; the table lists levels, then overall', () => {
    expect(Object.keys(summarisePassAtK(items.map(({ level: _level, ...rest }) => rest), 4).groups)).toEqual(['overall']);
    const figures: PassAtKFigures = {
      benchmark: 'test', samples: 4, temperature: 1, seed: 0, maxNewTokens: 8, items, ...summarisePassAtK(items, 4),
    };
    const lines = formatPassAtKTable(figures);
    expect(lines[0]!.split(/\s+/)).toEqual(['group', 'items', 'greedy', 'pass@1', 'pass@4']);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(['level-1', 'level-2', 'overall']);
    expect(lines[1]!.split(/\s+/)).toEqual(['level-1', '2', '0.5000', '0.6250', '1.0000']);
  });
});

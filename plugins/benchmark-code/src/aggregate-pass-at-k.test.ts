import { describe, expect, test } from 'bun:test';
import { aggregatePassAtK } from './code-benchmarks';

describe('aggregatePassAtK', () => {
  const item = (id: string) => ({ id, prompt: '' });

  test('one sample per task: pass@1 is the mean score', () => {
    expect(aggregatePassAtK('humaneval', [item('a'), item('b'), item('c'), item('d')], [1, 0, 1, 1])).toEqual({ overall: 0.75, 'pass@1': 0.75 });
    expect(aggregatePassAtK('humaneval', [], [])).toEqual({ overall: 0, 'pass@1': 0 });
  });

  test('repeated items are samples of one task: pass@k for every k up to the fewest samples', () => {
    const items = ['a', 'a', 'a', 'b', 'b', 'b'].map(item);
    const figures = aggregatePassAtK('humaneval', items, [1, 0, 1, 0, 0, 0], [1, 2, 10]);
    // a: n=3, c=2 -> pass@1 2/3, pass@2 1 (one failure cannot fill two draws); b: n=3, c=0 -> 0.
    expect(figures.overall).toBeCloseTo(1 / 3, 15);
    expect(figures['pass@1']).toBeCloseTo(1 / 3, 15);
    expect(figures['pass@2']).toBeCloseTo(0.5, 15);
    expect(figures['pass@10']).toBeUndefined();
  });

  test('pass@1 is the mean over tasks, and scores that are not 0 or 1 give pass@1 only', () => {
    const unequal = aggregatePassAtK('mbpp', ['a', 'a', 'a', 'a', 'b'].map(item), [1, 1, 1, 0, 0], [1, 2]);
    expect(unequal).toEqual({ overall: 0.375, 'pass@1': 0.375 }); // (3/4 + 0) / 2; pass@2 needs 2 samples of b
    expect(aggregatePassAtK('mbpp', ['a', 'a'].map(item), [0.5, 1], [1, 2])).toEqual({ overall: 0.75, 'pass@1': 0.75 });
    expect(() => aggregatePassAtK('mbpp', [item('a')], [])).toThrow('1 items but 0 scores');
  });
});

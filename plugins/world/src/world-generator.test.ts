// The seeded task generator and the training data: levels as asked, answers from the parser, reproducible
// from the seed, and never a held-out task.
import { describe, expect, test } from 'bun:test';
import { generatePretrainingExamples, generateTrainingTasks, pretrainingJsonLines } from './world-datasets';
import { generateTask, generateTasks, worldChallengerPrompt } from './world-generator';
import { heldOutPrompts } from './world-held-out';
import { createRandom } from './world-random';
import { parseTask, worldLimits } from './world-task';

describe('generated tasks', () => {
  test('every level gets tasks of exactly that level, which parse to the same answer', () => {
    const random = createRandom(5);
    for (let level = 1; level <= worldLimits.maxLevel; level++) {
      for (let index = 0; index < 200; index++) {
        const task = generateTask(random, level);
        expect(task.level).toBe(level);
        const reparsed = parseTask(task.canonical);
        expect(reparsed.valid && reparsed.task.answer).toBe(task.answer);
      }
    }
  });

  test('levels are refused outside 1..maxLevel', () => {
    expect(() => generateTask(createRandom(1), 0)).toThrow('level must be an integer in 1..5, got 0');
    expect(() => generateTask(createRandom(1), 6)).toThrow('got 6');
  });

  test('the same seed gives the same tasks; another seed gives others', () => {
    const first = generateTasks({ seed: 9, count: 50 }).map((task) => task.canonical);
    expect(generateTasks({ seed: 9, count: 50 }).map((task) => task.canonical)).toEqual(first);
    const other = generateTasks({ seed: 10, count: 50 }).map((task) => task.canonical);
    expect(other.filter((text) => first.includes(text)).length).toBeLessThan(10);
    expect(new Set(first).size).toBe(50);
  });

  test('compositions appear and higher levels are longer or deeper', () => {
    const tasks = generateTasks({ seed: 3, count: 500 });
    const byLevel = (level: number) => tasks.filter((task) => task.level === level);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    expect(tasks.some((task) => task.depth >= 3)).toBe(true);
    const size = (level: number) => mean(byLevel(level).map((task) => task.effectiveOperations + task.literalCharacters / 4));
    expect(size(5)).toBeGreaterThan(size(3));
    expect(size(3)).toBeGreaterThan(size(1));
  });
});

describe('training data', () => {
  const heldOut = heldOutPrompts();

  test('pretraining examples teach both roles with right answers and never hold a held-out task', () => {
    const examples = generatePretrainingExamples({ seed: 1, count: 4000 });
    expect(examples).toHaveLength(4000);
    const challenger = examples.filter((example) => example.role === 'challenger');
    expect(challenger.length / examples.length).toBeGreaterThan(0.2);
    expect(challenger.length / examples.length).toBeLessThan(0.3);
    for (const example of examples) {
      const query = example.role === 'solver' ? example.messages[0]!.content : example.completion;
      expect(heldOut.has(query)).toBe(false);
      const parsed = parseTask(query);
      expect(parsed.valid).toBe(true);
      if (!parsed.valid) continue;
      if (example.role === 'solver') {
        expect(example.completion).toBe(parsed.task.answer);
        expect([1, 2]).toContain(parsed.task.level);
      } else {
        expect(example.messages).toEqual([{ role: 'user', content: worldChallengerPrompt }]);
        expect([1, 2, 3]).toContain(parsed.task.level);
      }
    }
  });

  test('pretraining data is reproducible and written one JSON object a line', () => {
    const first = generatePretrainingExamples({ seed: 4, count: 30 });
    expect(generatePretrainingExamples({ seed: 4, count: 30 })).toEqual(first);
    const lines = pretrainingJsonLines(first).trimEnd().split('\n');
    expect(lines).toHaveLength(30);
    expect(JSON.parse(lines[7]!)).toEqual(first[7]);
  });

  test('GRPO training tasks cover every level and avoid the held-out set', () => {
    const tasks = generateTrainingTasks({ seed: 2, count: 1000 });
    expect(tasks.some((task) => heldOut.has(task.canonical))).toBe(false);
    for (let level = 1; level <= worldLimits.maxLevel; level++) {
      expect(tasks.filter((task) => task.level === level).length).toBeGreaterThan(150);
    }
  });

  test('bad options are refused', () => {
    expect(() => generatePretrainingExamples({ seed: 1, count: 10, challengerFraction: 2 })).toThrow('challengerFraction must be in 0..1');
    expect(() => generateTrainingTasks({ seed: 1, count: -1 })).toThrow('count must be a whole number');
  });
});

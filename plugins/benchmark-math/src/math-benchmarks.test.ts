import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { ConfigError, InvalidInputError, type BenchmarkItem } from '@lsp/core';
import benchmarkMath, {
  aggregateAccuracy, createGsm8kBenchmark, createMathBenchmark, gsm8kBenchmarkFactory, levelKey, mathBenchmarkFactory,
  scoreGsm8kResponse, scoreMathResponse,
} from './index';

const fixture = (name: string) => join(import.meta.dir, 'fixtures', name);

/** The one-line error a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<{ error: unknown; line: string }> {
  try {
    await promise;
  } catch (error) {
    const line = InvalidInputError.isInstance(error) || ConfigError.isInstance(error) ? error.toLine() : String(error);
    return { error, line };
  }
  throw new Error('expected a failure');
}

describe('plugin', () => {
  test('contributes gsm8k and math', () => {
    const plugin = benchmarkMath();
    expect(plugin.specificationVersion).toBe('v1');
    expect(plugin.benchmarks?.map((factory) => factory.name)).toEqual(['gsm8k', 'math']);
  });
});

describe('gsm8k', () => {
  test('reads the file: the prompt is the question, the reference the number after ####', async () => {
    const benchmark = await gsm8kBenchmarkFactory.create({ data: fixture('gsm8k-sample.jsonl') });
    const items = await benchmark.loadItems();
    expect(items.map((item) => item.metadata?.answer)).toEqual(['18', '1200', '-5', '2.5']);
    expect(items[0]!.id).toBe('gsm8k/0');
    expect(items[0]!.prompt.startsWith('Mia picks 7 apples')).toBe(true);
    expect(items[0]!.prompt).toContain('####');
    const bare = await createGsm8kBenchmark({ data: fixture('gsm8k-sample.jsonl'), instruction: '', limit: 2 }).loadItems();
    expect(bare.length).toBe(2);
    expect(bare[0]!.prompt).toBe('Mia picks 7 apples in the morning and 11 in the afternoon. How many apples does she pick?');
  });

  test('scores tricky responses', async () => {
    const benchmark = createGsm8kBenchmark({ data: fixture('gsm8k-sample.jsonl') });
    const [apples, bikes, cold, rope] = await benchmark.loadItems();
    const score = (item: BenchmarkItem | undefined, response: string) => benchmark.scoreItem(item!, response);
    expect(score(apples, 'She picks 7 + 11 = 18 apples.\n#### 18')).toBe(1);
    expect(score(apples, 'The answer is 18.')).toBe(1);
    expect(score(apples, 'So she picks \\boxed{18} apples in all')).toBe(1);
    expect(score(apples, '7 + 11 = 18')).toBe(1); // the last number
    expect(score(apples, 'The answer is 17.')).toBe(0);
    expect(score(apples, '#### 18.0')).toBe(1);
    expect(score(bikes, 'He pays 4 x $300 = $1,200.\n#### $1,200')).toBe(1);
    expect(score(bikes, 'The answer is 1200 dollars')).toBe(1);
    expect(score(bikes, 'The answer is 1,200.00')).toBe(1);
    expect(score(bikes, 'The answer is 120')).toBe(0);
    expect(score(cold, 'It falls to -5 degrees.')).toBe(1);
    expect(score(cold, '3 - 8 = 5 below zero, so 5')).toBe(0);
    expect(score(rope, 'Each piece is 2.50 meters long.')).toBe(1);
    expect(score(rope, 'Each is 5/2 meters. #### 5/2')).toBe(0); // GSM8K references are decimals; a fraction is not one
    expect(score(rope, '')).toBe(0);
  });

  test('percentages and the "####" convention through the exported scorer', () => {
    expect(scoreGsm8kResponse('That is 25% of the class.\n#### 25%', '25')).toBe(1);
    expect(scoreGsm8kResponse('#### 1,000,000', '1000000')).toBe(1);
  });

  test('aggregates accuracy overall (no level or type in GSM8K)', async () => {
    const benchmark = createGsm8kBenchmark({ data: fixture('gsm8k-sample.jsonl') });
    const items = await benchmark.loadItems();
    expect(benchmark.aggregate(items, [1, 0, 1, 1])).toEqual({ overall: 0.75 });
  });

  test('bad input: one line naming the file, the line and the field', async () => {
    const missing = await failure(createGsm8kBenchmark({ data: fixture('gsm8k-missing-answer.jsonl') }).loadItems());
    expect(InvalidInputError.isInstance(missing.error)).toBe(true);
    expect(missing.line).toBe(`${fixture('gsm8k-missing-answer.jsonl')}:2: field "answer" is missing`);

    const badJson = await failure(createGsm8kBenchmark({ data: fixture('gsm8k-bad-json.jsonl') }).loadItems());
    expect(InvalidInputError.isInstance(badJson.error)).toBe(true);
    expect(badJson.line).toStartWith(`${fixture('gsm8k-bad-json.jsonl')}:3: not valid JSON`);
    expect(badJson.line).not.toContain('\n');

    const noHashes = await failure(createGsm8kBenchmark({ data: fixture('gsm8k-no-hashes.jsonl') }).loadItems());
    expect(noHashes.line).toBe(`${fixture('gsm8k-no-hashes.jsonl')}:1: field "answer" does not end in "#### N" (the final answer)`);

    const absent = await failure(createGsm8kBenchmark({ data: fixture('no-such-file.jsonl') }).loadItems());
    expect(InvalidInputError.isInstance(absent.error)).toBe(true);
    expect(absent.line).toContain('no-such-file.jsonl (ENOENT)');
  });

  test('bad options are refused when the benchmark is created', async () => {
    const noData = await failure(Promise.resolve().then(() => gsm8kBenchmarkFactory.create({})));
    expect(ConfigError.isInstance(noData.error)).toBe(true);
    expect(noData.line).toContain('option data');
    const badLimit = await failure(Promise.resolve().then(() => createGsm8kBenchmark({ data: 'x.jsonl', limit: 0 })));
    expect(badLimit.line).toContain('option limit must be a positive integer');
  });
});

describe('math', () => {
  test('reads problems, the last \\boxed answer, level and type', async () => {
    const benchmark = await mathBenchmarkFactory.create({ data: fixture('math-sample.jsonl') });
    const items = await benchmark.loadItems();
    expect(items.length).toBe(6);
    expect(items[1]!.metadata).toEqual({ problem: 'Find $\\sin 60^\\circ$.', answer: '\\dfrac{\\sqrt{3}}{2}', line: 2, level: 'Level 2', type: 'Precalculus' });
    expect(items[0]!.prompt).toContain('\\boxed{}');
  });

  test('scores tricky responses against the boxed reference', async () => {
    const benchmark = createMathBenchmark({ data: fixture('math-sample.jsonl') });
    const [half, sine, side, polar, percent, divisors] = await benchmark.loadItems();
    const score = (item: BenchmarkItem | undefined, response: string) => benchmark.scoreItem(item!, response);
    expect(score(half, 'Adding gives $\\boxed{\\dfrac12}$.')).toBe(1);
    expect(score(half, 'The answer is $0.5$.')).toBe(1); // the reference's one decimal-to-fraction rule
    expect(score(half, 'The answer is 1/2.')).toBe(1);
    expect(score(half, '\\boxed{\\frac{2}{4}}')).toBe(0); // not reduced: the reference does not simplify
    expect(score(sine, '$\\boxed{\\frac{\\sqrt3}{2}}$')).toBe(1);
    expect(score(sine, '$\\boxed{\\frac{\\sqrt{2}}{2}}$')).toBe(0);
    expect(score(side, 'Each side is $\\boxed{5}$ centimetres.')).toBe(1);
    expect(score(side, 'The answer is 5 cm.')).toBe(1);
    expect(score(polar, '\\boxed{(3,\\frac{\\pi}{2})}')).toBe(1);
    expect(score(polar, '\\boxed{(3,\\pi)}')).toBe(0);
    expect(score(percent, 'It is \\boxed{25}.')).toBe(1);
    expect(score(percent, 'Final Answer: The final answer is $25\\%$. I hope it is correct.')).toBe(1);
    expect(score(divisors, 'There are 16 divisors, so 16')).toBe(1);
    expect(score(divisors, 'I do not know')).toBe(0);
  });

  test('aggregates accuracy overall, by level and by type', async () => {
    const benchmark = createMathBenchmark({ data: fixture('math-sample.jsonl') });
    const items = await benchmark.loadItems();
    // Levels: 1, 2, 1, 2, 3, 3. Types: Prealgebra, Precalculus, Prealgebra, Precalculus, Algebra, Number Theory.
    const figures = benchmark.aggregate(items, [1, 0, 1, 1, 0, 1]);
    expect(figures).toEqual({
      overall: 4 / 6,
      'level-1': 1,
      'level-2': 0.5,
      'level-3': 0.5,
      'type-Algebra': 0,
      'type-Number Theory': 1,
      'type-Prealgebra': 1,
      'type-Precalculus': 0.5,
    });
    expect(Object.keys(figures)[0]).toBe('overall');
    expect(() => benchmark.aggregate(items, [1])).toThrow('6 items but 1 scores');
    expect(aggregateAccuracy('math', [], [])).toEqual({ overall: 0 });
  });

  test('level keys: "Level 3" and 3 give level-3, levels sort numerically', () => {
    expect(levelKey('Level 3')).toBe('level-3');
    expect(levelKey('3')).toBe('level-3');
    expect(levelKey('Level ?')).toBe('level-?');
    const items = [10, 2].map((level, index) => ({ id: String(index), prompt: '', metadata: { answer: '1', level: `Level ${level}` } }));
    expect(Object.keys(aggregateAccuracy('math', items, [1, 0]))).toEqual(['overall', 'level-2', 'level-10']);
  });

  test('the MATH-500 layout: answer, subject, integer level, unique_id', async () => {
    const benchmark = createMathBenchmark({ data: fixture('math500-sample.jsonl') });
    const items = await benchmark.loadItems();
    expect(items.map((item) => item.id)).toEqual(['test/algebra/1.json', 'test/algebra/2.json']);
    expect(items[1]!.metadata).toEqual({ problem: 'Simplify $\\sqrt{12}$.', answer: '2\\sqrt{3}', line: 2, level: '2', type: 'Algebra' });
    expect(benchmark.scoreItem(items[1]!, 'So it is $\\boxed{2\\sqrt3}$')).toBe(1);
    expect(benchmark.aggregate(items, [1, 0])).toEqual({ overall: 0.5, 'level-1': 1, 'level-2': 0, 'type-Algebra': 0.5 });
  });

  test('the exported scorer', () => {
    expect(scoreMathResponse('thus \\boxed{\\$1,000}', '1000')).toBe(1);
    expect(scoreMathResponse('', '1')).toBe(0);
  });

  test('bad input: one line naming the file, the line and the field', async () => {
    const noBox = await failure(createMathBenchmark({ data: fixture('math-no-boxed.jsonl') }).loadItems());
    expect(InvalidInputError.isInstance(noBox.error)).toBe(true);
    expect(noBox.line).toBe(`${fixture('math-no-boxed.jsonl')}:3: field "solution" has no \\boxed{...} answer`);
    const badLevel = await failure(createMathBenchmark({ data: fixture('math-bad-level.jsonl') }).loadItems());
    expect(badLevel.line).toBe(`${fixture('math-bad-level.jsonl')}:1: field "level" must be a string or a number, found an array`);
    const notString = await failure(createMathBenchmark({ data: fixture('math-problem-not-string.jsonl') }).loadItems());
    expect(notString.line).toBe(`${fixture('math-problem-not-string.jsonl')}:1: field "problem" must be a string, found a number`);
    const wrongFormat = await failure(createMathBenchmark({ data: fixture('gsm8k-sample.jsonl') }).loadItems());
    expect(wrongFormat.line).toBe(`${fixture('gsm8k-sample.jsonl')}:1: field "problem" is missing`);
  });
});

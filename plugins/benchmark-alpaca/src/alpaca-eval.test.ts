import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import {
  ConfigError, InvalidInputError, PluginError, type BenchmarkItem, type JudgeItem, type JudgeScore, type JudgeV1,
} from '@lsp/core';
import benchmarkAlpaca, {
  alpacaEvalBenchmarkFactory, createAlpacaEvalBenchmark, fitLengthControlled, lengthControlPenaltyC,
  sampleStandardDeviation, winRateFigures, type AlpacaEvalBenchmarkV1,
} from './index';

const fixture = (name: string) => join(import.meta.dir, 'fixtures', name);

/** The one-line error a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<{ error: unknown; line: string }> {
  try {
    await promise;
  } catch (error) {
    const line = InvalidInputError.isInstance(error) || ConfigError.isInstance(error) || PluginError.isInstance(error)
      ? error.toLine() : String(error);
    return { error, line };
  }
  throw new Error('expected a failure');
}

/** A judge that scores each (query, answer) on its own, and keeps the batches it was given. */
function scalarJudge(score: (answer: string) => number): JudgeV1 & { calls: JudgeItem[][] } {
  const calls: JudgeItem[][] = [];
  return {
    specificationVersion: 'v1',
    name: 'fake-scalar',
    calls,
    doScore: async (items) => {
      calls.push([...items]);
      return items.map(({ answer }) => ({ score: score(answer) }));
    },
  };
}

/** A judge shown both outputs: `prefer(first, second)` is how much it prefers the first, reported as details.preference. */
function pairwiseJudge(prefer: (first: string, second: string) => number): JudgeV1 & { calls: JudgeItem[][] } {
  const calls: JudgeItem[][] = [];
  return {
    specificationVersion: 'v1',
    name: 'fake-pairwise',
    calls,
    doScore: async (items) => {
      calls.push([...items]);
      return items.map(({ answer, metadata }): JudgeScore => {
        if (metadata?.pairwise !== true) return { score: 0 };
        const preference = prefer(String(metadata.first), String(metadata.second));
        return { score: preference, details: { preference, reason: `answer ${answer.length} characters` } };
      });
    },
  };
}

/** Scalar verdicts by marker: GOOD beats the reference, SAME ties it, BAD loses; reference outputs score 2. */
const markerScore = (answer: string) => (answer.startsWith('GOOD') ? 3 : answer.startsWith('BAD') ? 1 : 2);

/** `text` changed to exactly `length` characters (cut, or padded with dots). */
const toLength = (text: string, length: number) => (text.length >= length ? text.slice(0, length) : text.padEnd(length, '.'));

/** Scores every item's answer (one or several) with the benchmark, then aggregates the per-item means. */
async function run(benchmark: AlpacaEvalBenchmarkV1, items: BenchmarkItem[], answers: (string | string[])[]) {
  const scores: number[] = [];
  for (const [index, item] of items.entries()) {
    const given = answers[index]!;
    const list = Array.isArray(given) ? given : [given];
    let total = 0;
    for (const answer of list) total += await benchmark.scoreItem(item, answer);
    scores.push(total / list.length);
  }
  return { scores, figures: benchmark.aggregate(items, scores) };
}

const reference = (item: BenchmarkItem) => item.metadata!.reference as string;
const logit = (p: number) => Math.log(p / (1 - p));

describe('plugin', () => {
  test('contributes alpacaeval', () => {
    const plugin = benchmarkAlpaca();
    expect(plugin.specificationVersion).toBe('v1');
    expect(plugin.name).toBe('@lsp/benchmark-alpaca');
    expect(plugin.benchmarks?.map((factory) => factory.name)).toEqual(['alpacaeval']);
  });
});

describe('reading the evaluation set', () => {
  test('the published JSON array and JSONL give the same items', async () => {
    const judge = scalarJudge(markerScore);
    const fromArray = await (await alpacaEvalBenchmarkFactory.create({ data: fixture('alpaca-sample.json'), judge })).loadItems();
    const fromLines = await createAlpacaEvalBenchmark({ data: fixture('alpaca-sample.jsonl'), judge }).loadItems();
    expect(fromArray.length).toBe(8);
    expect(fromArray.map((item) => item.id)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(fromArray[0]).toEqual({
      id: '0',
      prompt: 'How do I keep basil fresh after buying it?',
      metadata: {
        instruction: 'How do I keep basil fresh after buying it?',
        reference: 'Trim the stems and stand the bunch in a glass of water at room temperature, loosely covered with a bag.',
        generator: 'text_davinci_003',
        dataset: 'helpful_base',
        line: 2,
      },
    });
    // Lines differ (an element of the array spans several); everything else is the same.
    const withoutLine = (items: BenchmarkItem[]) => items.map(({ metadata, ...rest }) => ({ ...rest, metadata: { ...metadata, line: 0 } }));
    expect(withoutLine(fromLines)).toEqual(withoutLine(fromArray));
    expect(fromArray.map((item) => item.metadata?.dataset)).toEqual([
      'helpful_base', 'helpful_base', 'koala', 'koala', 'oasst', 'oasst', 'selfinstruct', 'vicuna',
    ]);
    const limited = await createAlpacaEvalBenchmark({ data: fixture('alpaca-sample.json'), judge, limit: 3 }).loadItems();
    expect(limited.map((item) => item.id)).toEqual(['0', '1', '2']);
  });

  test('a reference file replaces the data file\'s outputs, matched by instruction', async () => {
    const judge = scalarJudge(markerScore);
    const items = await createAlpacaEvalBenchmark({
      data: fixture('alpaca-sample.json'), judge, reference: fixture('baseline-outputs.jsonl'),
    }).loadItems();
    expect(items.map(reference)).toEqual(items.map((_, index) => `Baseline answer ${index}.`));
    expect(items[7]!.metadata?.generator).toBe('starting-model'); // given in the reference file
    expect(items[0]!.metadata?.generator).toBeUndefined(); // not given there: not the data file's generator
    expect(items[0]!.metadata?.dataset).toBe('helpful_base');

    const incomplete = await failure(createAlpacaEvalBenchmark({
      data: fixture('alpaca-sample.json'), judge, reference: fixture('reference-incomplete.jsonl'),
    }).loadItems());
    expect(InvalidInputError.isInstance(incomplete.error)).toBe(true);
    expect(incomplete.line).toStartWith(`${fixture('reference-incomplete.jsonl')}: no output for the instruction of ${fixture('alpaca-sample.json')}:2 (element 0) ("How do I keep basil fresh after buying it?")`);

    const conflict = await failure(createAlpacaEvalBenchmark({
      data: fixture('alpaca-sample.json'), judge, reference: fixture('reference-conflict.jsonl'),
    }).loadItems());
    expect(conflict.line).toBe(`${fixture('reference-conflict.jsonl')}:2: field "output" differs from the output ${fixture('reference-conflict.jsonl')}:1 gives for the same instruction`);
  });

  test('bad input: one line naming the file, the line (and element) and the field', async () => {
    const judge = scalarJudge(markerScore);
    const load = (name: string) => createAlpacaEvalBenchmark({ data: fixture(name), judge }).loadItems();

    const missing = await failure(load('alpaca-missing-output.json'));
    expect(InvalidInputError.isInstance(missing.error)).toBe(true);
    expect(missing.line).toBe(`${fixture('alpaca-missing-output.json')}:8 (element 1): field "output" is missing`);

    const notString = await failure(load('alpaca-instruction-not-string.jsonl'));
    expect(notString.line).toBe(`${fixture('alpaca-instruction-not-string.jsonl')}:3: field "instruction" must be a string, found a number`);

    const dataset = await failure(load('alpaca-dataset-not-string.json'));
    expect(dataset.line).toBe(`${fixture('alpaca-dataset-not-string.json')}:14 (element 2): field "dataset" must be a string, found an array`);

    const badArray = await failure(load('alpaca-bad-json.json'));
    expect(InvalidInputError.isInstance(badArray.error)).toBe(true);
    expect(badArray.line).toStartWith(`${fixture('alpaca-bad-json.json')}:8 (element 1): not valid JSON (`);
    expect(badArray.line).not.toContain('\n');

    const unclosed = await failure(load('alpaca-unclosed.json'));
    expect(unclosed.line).toStartWith(`${fixture('alpaca-unclosed.json')}:3 (element 1): not valid JSON (the array is not closed)`);

    const badLines = await failure(load('alpaca-bad-json.jsonl'));
    expect(badLines.line).toStartWith(`${fixture('alpaca-bad-json.jsonl')}:3: not valid JSON (`);
    expect(badLines.line).not.toContain('\n');

    const absent = await failure(load('no-such-file.json'));
    expect(InvalidInputError.isInstance(absent.error)).toBe(true);
    expect(absent.line).toContain('no-such-file.json (ENOENT)');

    // The published array read up to the limit: a broken element after it is not reached.
    expect((await createAlpacaEvalBenchmark({ data: fixture('alpaca-bad-json.json'), judge, limit: 1 }).loadItems()).length).toBe(1);
  });
});

describe('options', () => {
  test('a missing judge is refused with the way to give one', async () => {
    const missing = await failure(Promise.resolve().then(() => alpacaEvalBenchmarkFactory.create({ data: fixture('alpaca-sample.json') })));
    expect(ConfigError.isInstance(missing.error)).toBe(true);
    expect(missing.line).toBe('benchmark alpacaeval: a judge is needed to compare the model\'s outputs with the reference outputs; pass --judge NAME on lsp bench, or benchmarkOptions.judge in lsp.config.ts');
    expect(missing.line).not.toContain('\n');
    const named = await failure(Promise.resolve().then(() => createAlpacaEvalBenchmark({ data: 'x.json', judge: 'world' })));
    expect(ConfigError.isInstance(named.error)).toBe(true);
    expect(named.line).toContain('option judge "world" is a name');
    const notJudge = await failure(Promise.resolve().then(() => createAlpacaEvalBenchmark({ data: 'x.json', judge: { name: 'x' } })));
    expect(notJudge.line).toContain('option judge must be a judge (an object with doScore), got an object');
  });

  test('data, limit and reference are checked', async () => {
    const judge = scalarJudge(markerScore);
    const noData = await failure(Promise.resolve().then(() => createAlpacaEvalBenchmark({ judge })));
    expect(ConfigError.isInstance(noData.error)).toBe(true);
    expect(noData.line).toContain('option data');
    const badLimit = await failure(Promise.resolve().then(() => createAlpacaEvalBenchmark({ data: 'x.json', judge, limit: 1.5 })));
    expect(badLimit.line).toContain('option limit must be a positive integer, got 1.5');
    const badReference = await failure(Promise.resolve().then(() => createAlpacaEvalBenchmark({ data: 'x.json', judge, reference: 3 })));
    expect(badReference.line).toContain('option reference must be the path');
  });
});

describe('pairwise judgements', () => {
  test('a scalar judge: win, tie and loss from the two scores, in one call with both orders', async () => {
    const judge = scalarJudge(markerScore);
    const benchmark = createAlpacaEvalBenchmark({ data: fixture('alpaca-sample.json'), judge });
    const [item] = await benchmark.loadItems();
    expect(await benchmark.scoreItem(item!, 'GOOD: trim and stand in water.')).toBe(1);
    expect(await benchmark.scoreItem(item!, 'SAME: trim and stand in water.')).toBe(0.5);
    expect(await benchmark.scoreItem(item!, 'BAD: put it in the fridge.')).toBe(0);
    expect(judge.calls[0]).toEqual([
      { query: item!.prompt, answer: 'GOOD: trim and stand in water.', metadata: { pairwise: true, first: 'GOOD: trim and stand in water.', second: reference(item!) } },
      { query: item!.prompt, answer: reference(item!), metadata: { pairwise: true, first: reference(item!), second: 'GOOD: trim and stand in water.' } },
    ]);
    expect(judge.calls.length).toBe(3);
  });

  test('details: both scores and the preference in each order, without judging again', async () => {
    const judge = scalarJudge(markerScore);
    const benchmark = createAlpacaEvalBenchmark({ data: fixture('alpaca-sample.json'), judge });
    const [item] = await benchmark.loadItems();
    await benchmark.scoreItem(item!, 'GOOD!');
    expect(await benchmark.details!(item!, 'GOOD!')).toEqual({
      judge: 'fake-scalar', mode: 'scalar', modelScore: 3, referenceScore: 2,
      preferenceModelFirst: 1, preferenceReferenceFirst: 1, win: 1, modelLength: 5, referenceLength: reference(item!).length,
    });
    expect(judge.calls.length).toBe(1);
    // An answer never scored is judged then.
    expect((await benchmark.details!(item!, 'BAD')).win).toBe(0);
    expect(judge.calls.length).toBe(2);
  });

  test('a pairwise judge: both orders averaged, which cancels a position bias', async () => {
    // Always prefers whichever output it is shown first: a pure position bias, a draw once both orders are averaged.
    const biased = pairwiseJudge(() => 1);
    const benchmark = createAlpacaEvalBenchmark({ data: fixture('alpaca-sample.json'), judge: biased });
    const items = await benchmark.loadItems();
    const { figures } = await run(benchmark, items, items.map(() => 'Some answer.'));
    expect(figures.win_rate).toBe(0.5);
    expect(figures.n_draws).toBe(8);
    expect(figures.n_wins).toBe(0);
    expect(biased.calls.length).toBe(8);
    expect(biased.calls[0]!.map((judgeItem) => judgeItem.metadata?.first)).toEqual(['Some answer.', reference(items[0]!)]);

    // Prefers GOOD answers 0.9 to 0.1 when shown first, but only 0.6 to 0.4 when shown second: (0.9 + 0.6) / 2 = 0.75.
    const judge = pairwiseJudge((first, second) => (first.startsWith('GOOD') ? 0.9 : second.startsWith('GOOD') ? 0.4 : 0.5));
    const pairwise = createAlpacaEvalBenchmark({ data: fixture('alpaca-sample.json'), judge });
    const [item] = await pairwise.loadItems();
    expect(await pairwise.scoreItem(item!, 'GOOD answer')).toBeCloseTo(0.75, 15);
    const details = await pairwise.details!(item!, 'GOOD answer');
    expect(details).toMatchObject({ mode: 'pairwise', preferenceModelFirst: 0.9, win: 0.75 });
    expect(details.preferenceReferenceFirst as number).toBeCloseTo(0.6, 15);
    expect(details.judgeDetails).toEqual([
      { preference: 0.9, reason: 'answer 11 characters' },
      { preference: 0.4, reason: `answer ${reference(item!).length} characters` },
    ]);
    expect(await pairwise.scoreItem(item!, 'plain answer')).toBe(0.5);
  });

  test('a judge that breaks the protocol is named', async () => {
    const items = await createAlpacaEvalBenchmark({ data: fixture('alpaca-sample.json'), judge: scalarJudge(markerScore) }).loadItems();
    const judged = async (judge: JudgeV1) => createAlpacaEvalBenchmark({ data: fixture('alpaca-sample.json'), judge }).scoreItem(items[0]!, 'answer');
    const fake = (doScore: JudgeV1['doScore']): JudgeV1 => ({ specificationVersion: 'v1', name: 'broken', doScore });

    const oneOrder = await failure(judged(fake(async () => [{ score: 1, details: { preference: 1 } }, { score: 0 }])));
    expect(PluginError.isInstance(oneOrder.error)).toBe(true);
    expect(oneOrder.line).toContain('judge broken reported details.preference for one order of the pair only');
    const outOfRange = await failure(judged(fake(async () => [{ score: 1, details: { preference: 2 } }, { score: 0, details: { preference: 0 } }])));
    expect(outOfRange.line).toContain('judge broken reported details.preference 2 (model output first)');
    const count = await failure(judged(fake(async () => [{ score: 1 }])));
    expect(count.line).toContain('judge broken returned 1 scores for 2 items');
    const notFinite = await failure(judged(fake(async () => [{ score: Number.NaN }, { score: 0 }])));
    expect(notFinite.line).toContain('judge broken gave the model output the score NaN');
  });
});

describe('aggregate', () => {
  test('win rate with ties, standard error, counts and the win rate per subset', async () => {
    const benchmark = createAlpacaEvalBenchmark({ data: fixture('alpaca-sample.json'), judge: scalarJudge(markerScore) });
    const items = await benchmark.loadItems();
    // Subsets: helpful_base x2, koala x2, oasst x2, selfinstruct, vicuna.
    const marks = ['GOOD', 'GOOD', 'SAME', 'BAD', 'GOOD', 'SAME', 'BAD', 'GOOD'];
    const { scores, figures } = await run(benchmark, items, marks.map((mark) => `${mark} answer`));
    expect(scores).toEqual([1, 1, 0.5, 0, 1, 0.5, 0, 1]);
    // Mean 5/8. Squared deviations: 4 x 0.375^2 + 2 x 0.125^2 + 2 x 0.625^2 = 1.375; sem = sqrt(1.375 / 7 / 8).
    expect(figures).toMatchObject({
      overall: 0.625, win_rate: 0.625, n_wins: 4, n_draws: 2, n_total: 8,
      'win_rate/helpful_base': 1, 'win_rate/koala': 0.25, 'win_rate/oasst': 0.75, 'win_rate/selfinstruct': 0, 'win_rate/vicuna': 1,
    });
    expect(figures.standard_error).toBeCloseTo(Math.sqrt(1.375 / 56), 15);
    expect(Object.keys(figures)).toEqual([
      'overall', 'win_rate', 'standard_error', 'length_controlled_win_rate', 'n_wins', 'n_draws', 'n_total',
      'win_rate/helpful_base', 'win_rate/koala', 'win_rate/oasst', 'win_rate/selfinstruct', 'win_rate/vicuna',
    ]);
    expect(figures.length_controlled_win_rate).toBeGreaterThan(0);
    expect(figures.length_controlled_win_rate).toBeLessThan(1);
  });

  test('winRateFigures alone: pandas-style sem (n - 1), NaN for one item, like AlpacaEval', () => {
    expect(winRateFigures([1, 0])).toEqual({ win_rate: 0.5, standard_error: Math.sqrt(0.5) / Math.sqrt(2), n_wins: 1, n_draws: 0, n_total: 2 });
    expect(winRateFigures([0.75, 0.5, 0.25])).toMatchObject({ win_rate: 0.5, n_wins: 1, n_draws: 1, n_total: 3 });
    expect(winRateFigures([1]).standard_error).toBeNaN();
    expect(sampleStandardDeviation([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 15);
  });

  test('several answers to one item: the item\'s preference is their mean; each answer weighs 1/K in the length fit', async () => {
    const benchmark = createAlpacaEvalBenchmark({ data: fixture('alpaca-sample.json'), judge: scalarJudge(markerScore), limit: 2 });
    const items = await benchmark.loadItems();
    const { scores, figures } = await run(benchmark, items, [['GOOD a', 'BAD b'], ['GOOD c', 'GOOD d', 'SAME e', 'BAD f']]);
    expect(scores).toEqual([0.5, 0.625]);
    expect(figures).toMatchObject({ win_rate: 0.5625, n_wins: 1, n_draws: 1, n_total: 2 });
  });

  test('a later round of scoring replaces the kept judgements (a run evaluates the same items again)', async () => {
    const benchmark = createAlpacaEvalBenchmark({ data: fixture('alpaca-sample.json'), judge: scalarJudge(markerScore), limit: 4 });
    const items = await benchmark.loadItems();
    expect((await run(benchmark, items, items.map(() => 'GOOD'))).figures.win_rate).toBe(1);
    const second = await run(benchmark, items, items.map(() => 'BAD'));
    expect(second.figures.win_rate).toBe(0);
    expect(second.figures.n_total).toBe(4);
  });

  test('aggregate needs this instance to have scored the items, with the same scores', async () => {
    const benchmark = createAlpacaEvalBenchmark({ data: fixture('alpaca-sample.json'), judge: scalarJudge(markerScore), limit: 2 });
    const items = await benchmark.loadItems();
    const unscored = await failure(Promise.resolve().then(() => benchmark.aggregate(items, [1, 0])));
    expect(InvalidInputError.isInstance(unscored.error)).toBe(true);
    expect(unscored.line).toContain('item 0 was not scored by this benchmark');
    await benchmark.scoreItem(items[0]!, 'GOOD');
    await benchmark.scoreItem(items[1]!, 'GOOD');
    expect(() => benchmark.aggregate(items, [1, 0])).toThrow('item 1 has the score 0 but scoreItem gave its answers a mean of 1');
    expect(() => benchmark.aggregate(items, [1])).toThrow('2 items but 1 scores');
    expect(benchmark.aggregate([], [])).toMatchObject({ overall: 0, win_rate: 0, length_controlled_win_rate: 0, n_total: 0 });
  });
});

describe('length-controlled win rate', () => {
  /** Prefers the longer output 3 to 1 (0.75), a tie on equal lengths: a longer-is-better judge with soft preferences. */
  const preferLonger = (first: string, second: string) => (first.length > second.length ? 0.75 : first.length < second.length ? 0.25 : 0.5);

  test('a longer-is-better judge is corrected toward 50%', async () => {
    const benchmark = createAlpacaEvalBenchmark({ data: fixture('alpaca-sample.json'), judge: pairwiseJudge(preferLonger) });
    const items = await benchmark.loadItems();
    // The model's outputs: 10 characters longer than the reference on six items, 10 shorter on two.
    const longer = [true, true, false, true, true, true, false, true];
    const answers = items.map((item, index) => toLength(reference(item), reference(item).length + (longer[index] ? 10 : -10)));
    const { scores, figures } = await run(benchmark, items, answers);
    expect(scores).toEqual(longer.map((isLonger) => (isLonger ? 0.75 : 0.25)));
    expect(figures.win_rate).toBe(0.625); // (6 x 0.75 + 2 x 0.25) / 8

    // By hand: the differences are +-10, so the length feature takes two values +-a with a = tanh(10 / std), and the
    // two-parameter GLM is saturated: logistic(theta + phi a) = 0.75 and logistic(theta - phi a) = 0.25, whence
    // theta = 0 and phi a = ln 3. The length-controlled win rate logistic(theta) is exactly 50%.
    const differences = [...Array(6).fill(10), ...Array(2).fill(-10)];
    const std = Math.sqrt(600 / 7); // deviations from the mean 5: six of 5, two of 15
    expect(sampleStandardDeviation(differences)).toBeCloseTo(std, 12);
    const exact = fitLengthControlled(differences.map((difference) => ({ preference: difference > 0 ? 0.75 : 0.25, lengthDifference: difference })), Infinity);
    expect(exact.modelTerm).toBeCloseTo(0, 12);
    expect(exact.lengthTerm * Math.tanh(10 / std)).toBeCloseTo(Math.log(3), 12);
    expect(exact.winRate).toBeCloseTo(0.5, 12);

    // The benchmark's fit carries the ridge penalty 1/C on theta and phi. To first order it moves theta by
    // -(H^-1 g)_0 with g = (0, phi / C) and H the Fisher information 0.1875 * sum x x^T: about +0.0078 here, so the
    // figure is 50.2%, not 50%: within 0.005 of 50% and far below the raw 62.5%.
    expect(Math.abs(figures.length_controlled_win_rate! - 0.5)).toBeLessThan(0.005);
    expect(figures.length_controlled_win_rate).toBeGreaterThan(0.5);
  });

  test('a deterministic length judge (preferences separated by length) keeps a finite fit, between 50% and the raw rate', async () => {
    const benchmark = createAlpacaEvalBenchmark({ data: fixture('alpaca-sample.json'), judge: scalarJudge((answer) => answer.length) });
    const items = await benchmark.loadItems();
    const longer = [true, true, false, true, true, true, false, true];
    const answers = items.map((item, index) => toLength(reference(item), reference(item).length + (longer[index] ? 10 : -10)));
    const { figures } = await run(benchmark, items, answers);
    expect(figures.win_rate).toBe(0.75);
    expect(figures.length_controlled_win_rate).toBeGreaterThan(0.5);
    expect(figures.length_controlled_win_rate).toBeLessThan(0.75);
  });

  test('equal lengths leave the length-controlled win rate at the raw rate, up to the ridge term', async () => {
    const benchmark = createAlpacaEvalBenchmark({ data: fixture('alpaca-sample.json'), judge: scalarJudge(markerScore) });
    const items = await benchmark.loadItems();
    const marks = ['GOOD', 'GOOD', 'SAME', 'BAD', 'GOOD', 'SAME', 'BAD', 'GOOD'];
    const answers = items.map((item, index) => toLength(`${marks[index]} ${reference(item)}`, reference(item).length));
    const { figures } = await run(benchmark, items, answers);
    const raw = figures.win_rate!;
    const controlled = figures.length_controlled_win_rate!;
    expect(raw).toBe(0.625);
    // Every length difference is 0, so the length feature is 0 and phi = 0. theta solves the stationarity condition
    // n (logistic(theta) - raw) + theta / C = 0: the ridge pulls the figure toward 50% by |theta| / (C n), under
    // |logit(0.625)| / (100 x 8) = 6.4e-4 here, hence the tolerance 1e-3 (on the 805 published instructions at an
    // 80% win rate it is 1.7e-5). The identity itself holds to rounding.
    expect(Math.abs(controlled - raw)).toBeLessThan(1e-3);
    expect(controlled + logit(controlled) / (lengthControlPenaltyC * 8)).toBeCloseTo(raw, 12);
    // Without the penalty the two are equal to rounding.
    const unpenalised = fitLengthControlled(figuresToObservations([1, 1, 0.5, 0, 1, 0.5, 0, 1], 0), Infinity);
    expect(unpenalised.winRate).toBeCloseTo(0.625, 12);
  });

  test('a constant length difference cannot be told from the model term: the length feature is dropped', () => {
    const fit = fitLengthControlled(figuresToObservations([1, 1, 0.5, 0, 1, 0.5, 0, 1], 25), Infinity);
    expect(fit.lengthScale).toBe(0);
    expect(fit.lengthTerm).toBe(0);
    expect(fit.winRate).toBeCloseTo(0.625, 12);
  });

  test('the fit is scikit-learn\'s on AlpacaEval\'s features', () => {
    // Reference values: scikit-learn 1.2.1, LogisticRegression(C=100, penalty='l2', solver='newton-cg',
    // fit_intercept=False, tol=1e-14) on the columns [1, tanh(d / d.std(ddof=1))], every row twice (label 1 with
    // weight p, label 0 with weight 1 - p), as alpaca_eval's fit_LogisticRegressionCV feeds soft preferences.
    const preferences = [1, 1, 0.5, 0, 1, 0.75, 0, 1, 1, 0.5, 1, 0.25];
    const differences = [120, 40, -10, -60, 300, 15, -5, 80, 0, 22, 210, -140];
    const fit = fitLengthControlled(preferences.map((preference, index) => ({ preference, lengthDifference: differences[index]! })));
    // To 7 decimals: newton-cg stops within about 1e-8 of the optimum (lbfgs, at the same tol, only within 5e-6).
    expect(fit.modelTerm).toBeCloseTo(0.3292606223615266, 7);
    expect(fit.lengthTerm).toBeCloseTo(4.021141475932743, 7);
    expect(fit.winRate).toBeCloseTo(0.5815794640050772, 7); // against the raw 8 / 12
  });

  test('every preference 1 (or 0) stays finite', () => {
    const wins = fitLengthControlled([10, -3, 40, 7].map((difference) => ({ preference: 1, lengthDifference: difference })));
    expect(wins.winRate).toBeGreaterThan(0.95);
    expect(wins.winRate).toBeLessThan(1);
    const losses = fitLengthControlled([10, -3, 40, 7].map((difference) => ({ preference: 0, lengthDifference: difference })));
    expect(losses.winRate).toBeCloseTo(1 - wins.winRate, 12);
  });
});

function figuresToObservations(preferences: number[], lengthDifference: number) {
  return preferences.map((preference) => ({ preference, lengthDifference }));
}

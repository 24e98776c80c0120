// Strict against loose evaluation, and the figures' arithmetic on small hand-computed cases.
import { describe, expect, test } from 'bun:test';
import { evaluatePrompt, ifevalFigures, looseVariants, type IfevalEvaluation } from './evaluation';
import type { IfevalPrompt } from './input';

function prompt(instructions: IfevalPrompt['instructions']): IfevalPrompt {
  return { key: 1, prompt: 'p', instructions, line: 1 };
}

describe('loose variants', () => {
  test('the reference\'s eight: as is, without *, without the first/last/both lines, and those without *', () => {
    expect(looseVariants('Sure:\n*a*\n b \nBye')).toEqual([
      'Sure:\n*a*\n b \nBye', 'Sure:\na\n b \nBye', '*a*\n b \nBye', 'Sure:\n*a*\n b', '*a*\n b', 'a\n b \nBye', 'Sure:\na\n b', 'a\n b',
    ]);
    expect(looseVariants('one line')).toEqual(['one line', 'one line', '', '', '', '', '', '']);
  });
});

describe('strict and loose', () => {
  test('an end phrase followed by a sign-off fails strictly and passes loosely (last line removed)', async () => {
    const result = await evaluatePrompt(
      prompt([{ id: 'startend:end_checker', kwargs: { end_phrase: 'Any other questions?' } }]),
      'Here is my answer.\nAny other questions?\nCheers',
    );
    expect(result.instructions[0]).toMatchObject({ strict: false, loose: true });
    expect(result.promptStrict).toBe(false);
    expect(result.promptLoose).toBe(true);
  });

  test('JSON after an introductory line passes loosely (first line removed)', async () => {
    const result = await evaluatePrompt(prompt([{ id: 'detectable_format:json_format', kwargs: {} }]), 'Sure, here it is:\n{"a": 1}');
    expect(result.instructions[0]).toMatchObject({ strict: false, loose: true });
  });

  test('markdown asterisks around a quoted response pass loosely (asterisks removed)', async () => {
    const result = await evaluatePrompt(prompt([{ id: 'startend:quotation', kwargs: {} }]), '**"All of it, quoted."**');
    expect(result.instructions[0]).toMatchObject({ strict: false, loose: true });
  });

  test('an instruction no variant follows fails both ways; the prompt needs every instruction', async () => {
    const result = await evaluatePrompt(
      prompt([
        { id: 'punctuation:no_comma', kwargs: {} },
        { id: 'length_constraints:number_words', kwargs: { num_words: 10, relation: 'at least' } },
      ]),
      'No commas in this short one.',
    );
    expect(result.instructions.map(({ strict, loose }) => [strict, loose])).toEqual([[true, true], [false, false]]);
    expect(result.promptStrict).toBe(false);
    expect(result.promptLoose).toBe(false);
  });

  test('an empty or blank response follows nothing, not even "no commas"', async () => {
    for (const response of ['', '  \n\t']) {
      const result = await evaluatePrompt(prompt([{ id: 'punctuation:no_comma', kwargs: {} }]), response);
      expect(result.instructions[0]).toMatchObject({ strict: false, loose: false });
    }
  });

  test('loose passes whenever strict does', async () => {
    const result = await evaluatePrompt(prompt([{ id: 'detectable_format:title', kwargs: {} }]), '<<A Title>>\nText.');
    expect(result.instructions[0]).toMatchObject({ strict: true, loose: true });
  });
});

function evaluation(results: [string, boolean, boolean][]): IfevalEvaluation {
  const instructions = results.map(([id, strict, loose]) => ({ id, kwargs: {}, strict, loose }));
  return {
    key: 0,
    promptStrict: instructions.every((result) => result.strict),
    promptLoose: instructions.every((result) => result.loose),
    instructions,
  };
}

describe('figures', () => {
  test('prompt- and instruction-level accuracy, strict and loose, by family and by id (hand-computed)', () => {
    // Item A: title followed strictly; no_comma only loosely.  Item B: title not at all.
    // Item C: no_comma and end_checker strictly; title strictly.
    const figures = ifevalFigures([
      [evaluation([['detectable_format:title', true, true], ['punctuation:no_comma', false, true]])],
      [evaluation([['detectable_format:title', false, false]])],
      [evaluation([['punctuation:no_comma', true, true], ['startend:end_checker', true, true], ['detectable_format:title', true, true]])],
    ]);
    expect(figures).toEqual({
      overall: 1 / 3, // only C
      prompt_strict: 1 / 3,
      prompt_loose: 2 / 3, // A and C
      instruction_strict: 4 / 6, // title A, no_comma C, end C, title C
      instruction_loose: 5 / 6, // and no_comma A
      'by_family/detectable_format/strict': 2 / 3,
      'by_family/detectable_format/loose': 2 / 3,
      'by_family/punctuation/strict': 1 / 2,
      'by_family/punctuation/loose': 1,
      'by_family/startend/strict': 1,
      'by_family/startend/loose': 1,
      'by_id/detectable_format:title/strict': 2 / 3,
      'by_id/detectable_format:title/loose': 2 / 3,
      'by_id/punctuation:no_comma/strict': 1 / 2,
      'by_id/punctuation:no_comma/loose': 1,
      'by_id/startend:end_checker/strict': 1,
      'by_id/startend:end_checker/loose': 1,
    });
  });

  test('several answers to one item are averaged before items are', () => {
    const pass = evaluation([['punctuation:no_comma', true, true], ['detectable_format:title', true, true]]);
    const half = evaluation([['punctuation:no_comma', true, true], ['detectable_format:title', false, true]]);
    const figures = ifevalFigures([[pass, half], [half]]);
    expect(figures.prompt_strict).toBeCloseTo((0.5 + 0) / 2, 12);
    expect(figures.prompt_loose).toBe(1);
    expect(figures.instruction_strict).toBeCloseTo((1 + 0.5 + 1 + 0) / 4, 12);
    expect(figures['by_id/detectable_format:title/strict']).toBeCloseTo((0.5 + 0) / 2, 12);
  });

  test('no items: zero prompt figures and no instruction figures', () => {
    expect(ifevalFigures([])).toEqual({ overall: 0, prompt_strict: 0, prompt_loose: 0 });
  });
});

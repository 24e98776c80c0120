// The world's parser on valid and invalid texts: answers, difficulty from the parse, and the reasons it refuses.
import { describe, expect, test } from 'bun:test';
import { isCorrectAnswer, parseTask, worldLimits, type ParsedTask } from './world-task';

function valid(text: string): ParsedTask {
  const parsed = parseTask(text);
  if (!parsed.valid) throw new Error(`expected "${text}" to be valid, got: ${parsed.reason}`);
  return parsed.task;
}

function reason(text: string): string {
  const parsed = parseTask(text);
  if (parsed.valid) throw new Error(`expected "${text}" to be invalid, got answer ${parsed.task.answer}`);
  expect(parsed.reason).not.toContain('\n');
  return parsed.reason;
}

describe('valid tasks and their answers', () => {
  const cases: [string, string][] = [
    ['reverse abc', 'cba'],
    ['add 12 7', '19'],
    ['upper reverse abc', 'CBA'],
    ['sort banana', 'aaabnn'],
    ['sort bAa', 'Aab'],
    ['count hello', '5'],
    ['repeat 3 ab', 'ababab'],
    ['mul 12 12', '144'],
    ['mul 0 31', '0'],
    ['lower HeLLo', 'hello'],
    ['add 3 count hello', '8'],
    ['reverse add 12 7', '91'],
    ['repeat count ab xy', 'xyxy'],
    ['count repeat 4 abc', '12'],
    ['mul add 2 3 count abcd', '20'],
    ['upper 123', '123'],
    ['mul 999999 999999', '999998000001'],
  ];
  for (const [text, answer] of cases) {
    test(`${text} -> ${answer}`, () => {
      expect(valid(text).answer).toBe(answer);
    });
  }

  test('whitespace is tolerated and the canonical form uses single spaces', () => {
    const task = valid('  upper\treverse   abc \n');
    expect(task.answer).toBe('CBA');
    expect(task.canonical).toBe('upper reverse abc');
  });

  test('answers are checked exactly, surrounding whitespace aside', () => {
    const task = valid('reverse abc');
    expect(isCorrectAnswer(task, 'cba')).toBe(true);
    expect(isCorrectAnswer(task, ' cba\n')).toBe(true);
    expect(isCorrectAnswer(task, 'CBA')).toBe(false);
    expect(isCorrectAnswer(task, 'c b a')).toBe(false);
    expect(isCorrectAnswer(task, 'cba.')).toBe(false);
  });
});

describe('difficulty from the parse', () => {
  test('operators and every four literal characters add one', () => {
    expect(valid('reverse abc')).toMatchObject({ operations: 1, depth: 1, literalCharacters: 3, difficulty: 1, level: 1 });
    expect(valid('reverse abcd')).toMatchObject({ difficulty: 1, level: 1 });
    expect(valid('reverse abcde')).toMatchObject({ difficulty: 2, level: 2 });
    expect(valid('upper reverse abc')).toMatchObject({ operations: 2, depth: 2, difficulty: 2, level: 2 });
    expect(valid('add 3 count hello')).toMatchObject({ operations: 2, depth: 2, literalCharacters: 6, difficulty: 3, level: 3 });
    expect(valid('mul add 2 3 count abcd')).toMatchObject({ operations: 3, depth: 2, difficulty: 4, level: 4 });
  });

  test('the top level holds everything at least that difficult', () => {
    const task = valid('reverse sort upper count repeat 4 abcdefghij');
    expect(task.difficulty).toBeGreaterThan(worldLimits.maxLevel);
    expect(task.level).toBe(worldLimits.maxLevel);
  });

  test('no-op operators do not raise the difficulty', () => {
    expect(valid('upper upper upper 7')).toMatchObject({ operations: 3, effectiveOperations: 0, difficulty: 0, level: 1 });
    expect(valid('repeat 1 abc')).toMatchObject({ effectiveOperations: 0, level: 1 });
    expect(valid('reverse aba')).toMatchObject({ effectiveOperations: 0 });
    expect(valid('sort abc')).toMatchObject({ effectiveOperations: 0 });
    expect(valid('upper lower abc')).toMatchObject({ operations: 2, effectiveOperations: 1 });
  });
});

describe('invalid texts', () => {
  test('empty text and bare literals are not tasks', () => {
    expect(reason('')).toBe('empty');
    expect(reason('   ')).toBe('empty');
    expect(reason('abc')).toContain('starts with an operator');
    expect(reason('42')).toContain('starts with an operator');
    expect(reason('hello world')).toContain('starts with an operator, not "hello"');
    expect(reason('Reverse abc')).toContain('starts with an operator');
  });

  test('missing and extra arguments', () => {
    expect(reason('reverse')).toBe('reverse needs 1 argument');
    expect(reason('add 1')).toBe('add needs 2 arguments');
    expect(reason('add 1 2 3')).toBe('unexpected "3" after a complete task');
    expect(reason('reverse abc def')).toBe('unexpected "def" after a complete task');
  });

  test('type errors: arithmetic takes numbers only', () => {
    expect(reason('add abc 3')).toBe('add needs a number, not "abc"');
    expect(reason('mul 2 reverse 12')).toBe('mul needs a number, not "reverse 12"');
    expect(reason('repeat ab cd')).toBe('repeat needs a number, not "ab"');
  });

  test('tokens that are neither operators, words nor numbers', () => {
    expect(reason('reverse ab!c')).toBe('unexpected character "!"');
    expect(reason('reverse a1b')).toBe('"a1b" is neither an operator, a word nor a number');
    expect(reason('add 007 1')).toBe('"007" is neither an operator, a word nor a number');
    expect(reason('reverse résumé')).toBe('unexpected character "é"');
  });

  test('limits keep answers short', () => {
    expect(reason('repeat 9 ab')).toBe('repeat count 9 is outside 1..5');
    expect(reason('repeat 0 ab')).toBe('repeat count 0 is outside 1..5');
    expect(reason('repeat 5 repeat 5 abcdefgh')).toContain('more than 40');
    expect(reason(`reverse ${'a'.repeat(17)}`)).toContain('longer than 16 letters');
    expect(reason('add 1234567 1')).toContain('more than 6 digits');
    expect(reason(`add 1 ${'add 1 '.repeat(12)}1`)).toContain('more than 24 tokens');
  });
});

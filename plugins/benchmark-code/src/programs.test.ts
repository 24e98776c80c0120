import { describe, expect, test } from 'bun:test';
import { definesFunction, extractCode, extractMbppCode, humanEvalProgram, mbppProgram, mbppPrompt } from './programs';

describe('extracting code from a completion', () => {
  test('the python fence wins, then an unlabelled one, else the text', () => {
    expect(extractCode('Here:\n```python\ndef f():\n    return 1\n```\nand more')).toBe('def f():\n    return 1\n');
    expect(extractCode('```text\nnot this\n```\n```\nx = 1\n```')).toBe('x = 1\n');
    expect(extractCode('```py\nunterminated = True\n')).toBe('unterminated = True\n');
    expect(extractCode('    return 1\n')).toBe('    return 1\n');
  });
  test('MBPP markers', () => {
    expect(extractMbppCode('[BEGIN]\ndef f(x):\n  return x\n[DONE]\nrest')).toBe('def f(x):\n  return x\n');
  });
  test('whole functions are recognised by their name at the start of a line', () => {
    expect(definesFunction('def add(a, b):\n    return a + b', 'add')).toBe(true);
    expect(definesFunction('async def add(a):\n    pass', 'add')).toBe(true);
    expect(definesFunction('    def add(a):\n        pass', 'add')).toBe(false);
    expect(definesFunction('def add_more(a):\n    pass', 'add')).toBe(false);
  });
});

describe('programs', () => {
  const task = { prompt: 'def add(a, b):\n    """Sum."""\n', test: 'def check(candidate):\n    assert candidate(1, 2) == 3\n', entryPoint: 'add' };
  test('HumanEval: prompt + body + test + check(entry_point), as the reference', () => {
    expect(humanEvalProgram(task, '    return a + b\n')).toBe(
      'def add(a, b):\n    """Sum."""\n    return a + b\n\n\ndef check(candidate):\n    assert candidate(1, 2) == 3\n\n\ncheck(add)\n',
    );
  });
  test('HumanEval: a whole function replaces the stub the prompt leaves', () => {
    const program = humanEvalProgram(task, '```python\ndef add(a, b):\n    return a + b\n```');
    expect(program.startsWith('def add(a, b):\n    """Sum."""\n    pass\n\ndef add(a, b):\n    return a + b\n')).toBe(true);
    expect(program.endsWith('check(add)\n')).toBe(true);
  });
  test('MBPP: setup, code, asserts; the prompt is the paper\'s', () => {
    expect(mbppProgram({ testList: ['assert f(1) == 1', 'assert f(2) == 2'], testSetupCode: 'import math' }, 'def f(x):\n  return x')).toBe(
      'import math\n\ndef f(x):\n  return x\n\nassert f(1) == 1\nassert f(2) == 2\n',
    );
    expect(mbppPrompt('Write f.', ['assert f(1) == 1'])).toBe(
      'You are an expert Python programmer, and here is your task: Write f. Your code should pass these tests:\n\nassert f(1) == 1\n',
    );
  });
});

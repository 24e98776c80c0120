// Runs real python3 processes (a few dozen, about 0.1 s each, and two that hit the 1 s time limit).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { TCPSocketListener } from 'bun';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, InvalidInputError, UnavailableError, type BenchmarkItem } from '@lsp/core';
import benchmarkCode, {
  createHumanEvalBenchmark, createMbppBenchmark, humanEvalBenchmarkFactory, mbppBenchmarkFactory, networkIsolationPrefix,
  type CodeBenchmarkV1,
} from './index';

const fixture = (name: string) => join(import.meta.dir, 'fixtures', name);

async function failure(promise: Promise<unknown> | number | (() => unknown)): Promise<{ error: unknown; line: string }> {
  try {
    await (typeof promise === 'function' ? Promise.resolve().then(promise) : promise);
  } catch (error) {
    const known = InvalidInputError.isInstance(error) || ConfigError.isInstance(error) || UnavailableError.isInstance(error);
    return { error, line: known ? error.toLine() : String(error) };
  }
  throw new Error('expected a failure');
}

describe('plugin', () => {
  test('contributes humaneval and mbpp', () => {
    const plugin = benchmarkCode();
    expect(plugin.specificationVersion).toBe('v1');
    expect(plugin.benchmarks?.map((factory) => factory.name)).toEqual(['humaneval', 'mbpp']);
  });
});

describe('refusal without allowCodeExecution', () => {
  test('creating either benchmark fails with one line saying why and how to allow it', async () => {
    for (const factory of [humanEvalBenchmarkFactory, mbppBenchmarkFactory]) {
      for (const options of [{ data: fixture('mbpp-sample.jsonl') }, { data: fixture('mbpp-sample.jsonl'), allowCodeExecution: 'yes' }, {}]) {
        const { error, line } = await failure(() => factory.create(options));
        expect(ConfigError.isInstance(error)).toBe(true);
        expect(line).toContain(`benchmark ${factory.name} runs the model's code, and model code is untrusted`);
        expect(line).toContain('--allow-code-execution');
        expect(line).toContain('allowCodeExecution: true');
        expect(line).not.toContain('\n');
      }
    }
  });
  test('other options are checked too', async () => {
    const base = { data: fixture('humaneval-sample.jsonl'), allowCodeExecution: true };
    expect((await failure(() => createHumanEvalBenchmark({ ...base, timeLimitSeconds: 0 }))).line).toContain('timeLimitSeconds');
    expect((await failure(() => createHumanEvalBenchmark({ ...base, memoryLimitMiB: 'lots' }))).line).toContain('memoryLimitMiB');
    expect((await failure(() => createHumanEvalBenchmark({ ...base, k: [0] }))).line).toContain('option k');
    expect((await failure(() => createHumanEvalBenchmark({ allowCodeExecution: true }))).line).toContain('option data');
  });
});

describe('humaneval', () => {
  let benchmark: CodeBenchmarkV1;
  let items: BenchmarkItem[];
  beforeAll(async () => {
    // A limit far above what any of these programs needs, so a loaded machine cannot fail a passing one; the
    // time-limit test below has its own 1-second benchmark.
    benchmark = createHumanEvalBenchmark({ data: fixture('humaneval-sample.jsonl'), allowCodeExecution: true, timeLimitSeconds: 60 });
    items = await benchmark.loadItems();
  });
  const runningTotal = () => items[0]!;

  test('reads the file: the prompt is the signature and docstring', () => {
    expect(items.map((item) => item.id)).toEqual(['Sample/0', 'Sample/1', 'Sample/2']);
    expect(items[0]!.prompt.startsWith('from typing import List')).toBe(true);
    expect(items[0]!.metadata?.entry_point).toBe('running_total');
  });

  test('every canonical solution passes', async () => {
    const scores = await Promise.all(items.map((item) => benchmark.scoreItem(item, item.metadata!.canonical_solution as string)));
    expect(scores).toEqual([1, 1, 1]);
  });

  test('a passing completion, as a body or as a whole function in a fence', async () => {
    expect(await benchmark.scoreItem(items[1]!, '    return text.lower() == text.lower()[::-1]\n')).toBe(1);
    const chat = 'Here is the function:\n\n```python\ndef count_vowels(word):\n    return len([c for c in word.lower() if c in "aeiou"])\n```\n';
    expect(await benchmark.scoreItem(items[2]!, chat)).toBe(1);
  });

  test('a failing completion: wrong answer, syntax error, an early exit()', async () => {
    const wrong = await benchmark.execute(runningTotal(), '    return numbers\n');
    expect(wrong.status).toBe('failed');
    expect(wrong.stderr).toContain('AssertionError');
    expect(await benchmark.scoreItem(runningTotal(), '    return [\n')).toBe(0);
    const quitter = await benchmark.execute(runningTotal(), '    return []\nimport sys\nsys.exit(0)\n');
    expect(quitter.status).toBe('failed');
    expect(quitter.stderr).toContain('SystemExit');
  });

  test('a looping completion is stopped at the time limit', async () => {
    const limited = createHumanEvalBenchmark({ data: fixture('humaneval-sample.jsonl'), allowCodeExecution: true, timeLimitSeconds: 1 });
    const result = await limited.execute(runningTotal(), '    while True:\n        pass\n');
    expect(result.status).toBe('timeout');
    expect(result.seconds).toBeGreaterThanOrEqual(0.9);
    // Stopped, not run to the end: well under the 30 s the sleeping one below would take.
    expect(result.seconds).toBeLessThan(20);
    expect(await limited.scoreItem(runningTotal(), '    import time\n    time.sleep(30)\n')).toBe(0);
  });

  test('a memory-hungry completion hits the memory limit (default 1 GiB) and fails', async () => {
    const huge = await benchmark.execute(runningTotal(), '    cells = [0] * (2 * 10**9)\n    return cells\n');
    expect(huge.status).toBe('memory');
    // Growing a piece at a time meets the limit too (128 MiB here, to keep the test fast).
    const small = createHumanEvalBenchmark({ data: fixture('humaneval-sample.jsonl'), allowCodeExecution: true, memoryLimitMiB: 128 });
    const growing = await small.execute(runningTotal(), '    pieces = []\n    while True:\n        pieces.append(bytearray(b"x" * 2**20))\n');
    expect(growing.status).toBe('memory');
  });

  test('no inherited secrets, a throwaway folder, no network', async () => {
    process.env.LSP_TEST_SECRET = 'do-not-leak';
    try {
      const probe = [
        '    import os',
        "    assert 'LSP_TEST_SECRET' not in os.environ, 'secret leaked'",
        "    assert os.getcwd() == os.environ['HOME']",
        "    open('scratch.txt', 'w').write('x')",
        '    return [1, 3, 6] if numbers == [1, 2, 3] else ([] if not numbers else [5, 0, 5])',
        '',
      ].join('\n');
      const result = await benchmark.execute(runningTotal(), probe);
      expect(result.stderr).toBe('');
      expect(result.status).toBe('passed');
      expect(existsSync(result.workDirectory)).toBe(false);
    } finally {
      delete process.env.LSP_TEST_SECRET;
    }
  });

  describe('network', () => {
    let server: TCPSocketListener | undefined;
    beforeAll(() => {
      server = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {}, open(socket) { socket.end(); } } });
    });
    afterAll(() => server?.stop(true));
    test.skipIf(networkIsolationPrefix() === null)('a server on this machine cannot be reached', async () => {
      const probe = [
        '    import socket',
        '    try:',
        `        socket.create_connection(('127.0.0.1', ${server!.port}), timeout=2).close()`,
        '        reached = True',
        '    except OSError:',
        '        reached = False',
        "    assert not reached, 'the network was reachable'",
        '    return [1, 3, 6] if numbers == [1, 2, 3] else ([] if not numbers else [5, 0, 5])',
        '',
      ].join('\n');
      const result = await benchmark.execute(runningTotal(), probe);
      expect(result.networkIsolated).toBe(true);
      expect(result.stderr).toBe('');
      expect(result.status).toBe('passed');
    });
  });

  test('aggregate: pass@1 and pass@k over repeated samples', () => {
    const samples = [items[0]!, items[0]!, items[1]!, items[1]!];
    expect(benchmark.aggregate(samples, [1, 0, 0, 0])).toEqual({ overall: 0.25, 'pass@1': 0.25 });
    const withK = createHumanEvalBenchmark({ data: 'unused.jsonl', allowCodeExecution: true, k: [1, 2] });
    expect(withK.aggregate(samples, [1, 0, 0, 0])).toEqual({ overall: 0.25, 'pass@1': 0.25, 'pass@2': 0.5 });
  });

  test('without python3, scoring says so in one line', async () => {
    const noPython = createHumanEvalBenchmark({ data: fixture('humaneval-sample.jsonl'), allowCodeExecution: true, python: '/nonexistent/python3' });
    const { error, line } = await failure(noPython.scoreItem(runningTotal(), '    return []\n'));
    expect(UnavailableError.isInstance(error)).toBe(true);
    expect(line).toBe('benchmark humaneval: no working python3 to run the tests (looked for /nonexistent/python3); install python3 (apt-get install python3) or give its path as the python option');
  });

  test('bad input: one line naming the file, the line and the field', async () => {
    const open = (name: string) => createHumanEvalBenchmark({ data: fixture(name), allowCodeExecution: true }).loadItems();
    const missing = await failure(open('humaneval-missing-test.jsonl'));
    expect(InvalidInputError.isInstance(missing.error)).toBe(true);
    expect(missing.line).toBe(`${fixture('humaneval-missing-test.jsonl')}:2: field "test" is missing`);
    const badJson = await failure(open('humaneval-bad-json.jsonl'));
    expect(badJson.line).toStartWith(`${fixture('humaneval-bad-json.jsonl')}:2: not valid JSON`);
    const badName = await failure(open('humaneval-bad-entry-point.jsonl'));
    expect(badName.line).toStartWith(`${fixture('humaneval-bad-entry-point.jsonl')}:1: field "entry_point" must be a Python function name`);
    const wrongFormat = await failure(open('mbpp-sample.jsonl'));
    expect(wrongFormat.line).toBe(`${fixture('mbpp-sample.jsonl')}:1: field "prompt" is missing`);
  });
});

describe('mbpp', () => {
  let benchmark: CodeBenchmarkV1;
  let items: BenchmarkItem[];
  beforeAll(async () => {
    benchmark = createMbppBenchmark({ data: fixture('mbpp-sample.jsonl'), allowCodeExecution: true, timeLimitSeconds: 60 });
    items = await benchmark.loadItems();
  });

  test('reads the file: numeric task ids, the paper\'s prompt with the tests', () => {
    expect(items.map((item) => item.id)).toEqual(['1', '2', '3']);
    expect(items[0]!.prompt).toContain('here is your task: Write a function to find the largest of three numbers.');
    expect(items[0]!.prompt).toContain('assert max_of_three(1, 2, 3) == 3');
    expect(items[1]!.metadata?.test_setup_code).toBe('import math');
  });

  test('every reference solution passes (the setup code runs first)', async () => {
    const scores = await Promise.all(items.map((item) => benchmark.scoreItem(item, item.metadata!.code as string)));
    expect(scores).toEqual([1, 1, 1]);
  });

  test('passing, failing, looping and memory-hungry completions', async () => {
    const fenced = 'Sure.\n```python\ndef reverse_words(sentence):\n    words = sentence.split()\n    return " ".join(words[::-1])\n```';
    expect(await benchmark.scoreItem(items[2]!, fenced)).toBe(1);
    expect(await benchmark.scoreItem(items[0]!, '[BEGIN]\ndef max_of_three(a, b, c):\n  return sorted([a, b, c])[-1]\n[DONE]')).toBe(1);
    const failing = await benchmark.execute(items[0]!, 'def max_of_three(a, b, c):\n  return a');
    expect(failing.status).toBe('failed');
    const limited = createMbppBenchmark({ data: fixture('mbpp-sample.jsonl'), allowCodeExecution: true, timeLimitSeconds: 1 });
    const looping = await limited.execute(items[0]!, 'def max_of_three(a, b, c):\n  while True:\n    a += 1');
    expect(looping.status).toBe('timeout');
    const hungry = await benchmark.execute(items[0]!, 'def max_of_three(a, b, c):\n  return max([a, b, c] * 10**9)');
    expect(hungry.status).toBe('memory');
  });

  test('aggregate', () => {
    expect(benchmark.aggregate(items, [1, 1, 0])).toEqual({ overall: 2 / 3, 'pass@1': 2 / 3 });
  });

  test('bad input: one line naming the file, the line and the field', async () => {
    const open = (name: string) => createMbppBenchmark({ data: fixture(name), allowCodeExecution: true }).loadItems();
    const badList = await failure(open('mbpp-bad-test-list.jsonl'));
    expect(InvalidInputError.isInstance(badList.error)).toBe(true);
    expect(badList.line).toBe(`${fixture('mbpp-bad-test-list.jsonl')}:3: field "test_list" must be an array of strings, found a string`);
    const missing = await failure(open('mbpp-missing-text.jsonl'));
    expect(missing.line).toBe(`${fixture('mbpp-missing-text.jsonl')}:1: field "text" is missing`);
    const wrongFormat = await failure(open('humaneval-sample.jsonl'));
    expect(wrongFormat.line).toBe(`${fixture('humaneval-sample.jsonl')}:1: field "test_list" is missing`);
  });
});

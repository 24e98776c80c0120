// The `humaneval` and `mbpp` benchmarks: read the published JSONL files, run each completion against the
// task's tests in a sandboxed python3 (sandbox.ts), score 1 when every test passes; pass@1 and pass@k.
// Model-written code is untrusted, so creating either benchmark is refused unless allowCodeExecution is true.
import { availableParallelism } from 'node:os';
import {
  ConfigError, InvalidInputError, type BenchmarkFactoryV1, type BenchmarkItem, type BenchmarkV1,
} from '@lsp/core';
import { checkFileOptions, idField, optionalStringField, readRecords, stringArrayField, stringField } from '@lsp/benchmark-files';
import { passAtK } from '@lsp/core';
import { humanEvalProgram, mbppProgram, mbppPrompt } from './programs';
import { findPython, runPythonProgram, type ExecutionResult } from './sandbox';

export interface CodeBenchmarkOptions {
  /** Path of the JSONL file. */
  data: string;
  /** Only the first N tasks. */
  limit?: number;
  /** Must be true: the model's code is run on this machine. */
  allowCodeExecution?: boolean;
  /** Wall-clock limit per program in seconds (default 10). */
  timeLimitSeconds?: number;
  /** Address-space limit per program in MiB (default 1024). */
  memoryLimitMiB?: number;
  /** The python3 to use (default /usr/bin/python3, else python3 on PATH). */
  python?: string;
  /** Programs run at once (default: the number of cores). */
  concurrency?: number;
  /** The k of the pass@k figures (default [1, 10, 100]; a k larger than some task's sample count is left out). */
  k?: number[];
}

/** A benchmark that also says how each program ended. */
export interface CodeBenchmarkV1 extends BenchmarkV1 {
  /** Runs the completion against the item's tests and reports how it ended (scoreItem is 1 when `status` is 'passed'). */
  execute(item: BenchmarkItem, completion: string): Promise<ExecutionResult>;
}

export const defaultTimeLimitSeconds = 10;
export const defaultMemoryLimitMiB = 1024;
export const defaultK = [1, 10, 100];

interface ResolvedOptions {
  data: string;
  limit?: number;
  timeLimitSeconds: number;
  memoryLimitMiB: number;
  python?: string;
  concurrency: number;
  k: number[];
}

/** The refusal when code execution is not allowed: one line saying why and how to allow it. */
export function codeExecutionRefusal(benchmark: string): ConfigError {
  return new ConfigError(
    `benchmark ${benchmark} runs the model's code, and model code is untrusted: refused without allowCodeExecution`,
    {
      hint: 'pass --allow-code-execution (or benchmarkOptions: { allowCodeExecution: true }) to run it in a separate python3 with a time limit, a memory limit and no network',
    },
  );
}

function checkOptions(benchmark: string, options: Record<string, unknown>): ResolvedOptions {
  if (options.allowCodeExecution !== true) throw codeExecutionRefusal(benchmark);
  const file = checkFileOptions(benchmark, options);
  const { timeLimitSeconds = defaultTimeLimitSeconds, memoryLimitMiB = defaultMemoryLimitMiB, python, concurrency, k = defaultK } = options;
  if (typeof timeLimitSeconds !== 'number' || !Number.isFinite(timeLimitSeconds) || timeLimitSeconds <= 0) {
    throw new ConfigError(`benchmark ${benchmark}: option timeLimitSeconds must be a positive number, got ${JSON.stringify(timeLimitSeconds)}`);
  }
  if (typeof memoryLimitMiB !== 'number' || !Number.isFinite(memoryLimitMiB) || memoryLimitMiB < 32) {
    throw new ConfigError(`benchmark ${benchmark}: option memoryLimitMiB must be a number of MiB, at least 32, got ${JSON.stringify(memoryLimitMiB)}`);
  }
  if (python !== undefined && (typeof python !== 'string' || python === '')) {
    throw new ConfigError(`benchmark ${benchmark}: option python must be the path of a python3 executable`);
  }
  const parallel = concurrency ?? Math.max(1, availableParallelism());
  if (typeof parallel !== 'number' || !Number.isInteger(parallel) || parallel < 1) {
    throw new ConfigError(`benchmark ${benchmark}: option concurrency must be a positive integer, got ${JSON.stringify(concurrency)}`);
  }
  if (!Array.isArray(k) || k.length === 0 || k.some((value) => typeof value !== 'number' || !Number.isInteger(value) || value < 1)) {
    throw new ConfigError(`benchmark ${benchmark}: option k must be a list of positive integers, got ${JSON.stringify(k)}`);
  }
  return {
    ...file,
    timeLimitSeconds,
    memoryLimitMiB,
    ...(python === undefined ? {} : { python: python as string }),
    concurrency: parallel,
    k: [...new Set(k as number[])].sort((a, b) => a - b),
  };
}

/** At most `limit` tasks at once. */
function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/**
 * { overall, 'pass@1', 'pass@k'... }. Scores are grouped by item id: give an item once per sample (n samples
 * of a task are n entries with its id) and each task's pass@k is the unbiased estimate from its n and c; the
 * figures are means over tasks. pass@1 (= overall) is the mean of each task's mean score, the mean of all
 * scores when every task has the same number of samples. A pass@k appears only for k <= the smallest sample
 * count, and only for k > 1 when every score is 0 or 1.
 */
export function aggregatePassAtK(
  benchmark: string, items: readonly BenchmarkItem[], scores: readonly number[], ks: readonly number[] = defaultK,
): Record<string, number> {
  if (items.length !== scores.length) {
    throw new InvalidInputError(`benchmark ${benchmark}: ${items.length} items but ${scores.length} scores`);
  }
  const tasks = new Map<string, { n: number; c: number }>();
  let binary = true;
  items.forEach((item, index) => {
    const score = scores[index]!;
    if (score !== 0 && score !== 1) binary = false;
    const entry = tasks.get(item.id) ?? { n: 0, c: 0 };
    entry.n++;
    entry.c += score;
    tasks.set(item.id, entry);
  });
  if (tasks.size === 0) return { overall: 0, 'pass@1': 0 };
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const entries = [...tasks.values()];
  const passAt1 = mean(entries.map(({ n, c }) => c / n));
  const figures: Record<string, number> = { overall: passAt1, 'pass@1': passAt1 };
  const fewest = Math.min(...entries.map(({ n }) => n));
  if (binary) {
    for (const k of ks) {
      if (k > 1 && k <= fewest) figures[`pass@${k}`] = mean(entries.map(({ n, c }) => passAtK(n, c, k)));
    }
  }
  return figures;
}

function createCodeBenchmark(
  name: string,
  rawOptions: Record<string, unknown>,
  load: (data: string, limit: number | undefined) => Promise<BenchmarkItem[]>,
  program: (item: BenchmarkItem, completion: string) => string,
): CodeBenchmarkV1 {
  const options = checkOptions(name, rawOptions);
  const run = limiter(options.concurrency);
  const execute = (item: BenchmarkItem, completion: string) =>
    run(() => {
      const python = findPython(name, options.python);
      return runPythonProgram(name, program(item, completion), {
        timeLimitSeconds: options.timeLimitSeconds,
        memoryLimitMiB: options.memoryLimitMiB,
        python,
      });
    });
  // The last execution of each item, so that `details` (lsp bench --json) does not run the same program again.
  const last = new Map<string, { completion: string; result: Promise<ExecutionResult> }>();
  const executeOnce = (item: BenchmarkItem, completion: string) => {
    const kept = last.get(item.id);
    if (kept && kept.completion === completion) return kept.result;
    const result = execute(item, completion);
    last.set(item.id, { completion, result });
    return result;
  };
  return {
    specificationVersion: 'v1',
    name,
    loadItems: () => load(options.data, options.limit),
    execute,
    async scoreItem(item, answer) {
      return (await executeOnce(item, answer)).status === 'passed' ? 1 : 0;
    },
    async details(item, answer) {
      return { ...(await executeOnce(item, answer)) };
    },
    aggregate: (items, scores) => aggregatePassAtK(name, items, scores, options.k),
  };
}

function metadataString(benchmark: string, item: BenchmarkItem, field: string): string {
  const value = item.metadata?.[field];
  if (typeof value !== 'string') throw new InvalidInputError(`benchmark ${benchmark}: item ${item.id} has no ${field} in its metadata`);
  return value;
}

/** HumanEval: JSONL of {task_id, prompt, test, entry_point}; the prompt is the function's signature and docstring. */
export function createHumanEvalBenchmark(options: CodeBenchmarkOptions | Record<string, unknown>): CodeBenchmarkV1 {
  return createCodeBenchmark(
    'humaneval',
    options as Record<string, unknown>,
    async (data, limit) => {
      const records = await readRecords('humaneval', data, limit);
      return records.map((record) => {
        const id = idField(record, 'task_id');
        const prompt = stringField(record, 'prompt');
        const test = stringField(record, 'test');
        const entryPoint = stringField(record, 'entry_point').trim();
        if (!/^[A-Za-z_]\w*$/.test(entryPoint)) {
          throw new InvalidInputError(`${record.where}: field "entry_point" must be a Python function name, found ${JSON.stringify(entryPoint)}`);
        }
        const metadata: Record<string, unknown> = { prompt, test, entry_point: entryPoint, line: record.line };
        const canonical = optionalStringField(record, 'canonical_solution');
        if (canonical !== undefined) metadata.canonical_solution = canonical;
        return { id, prompt, metadata };
      });
    },
    (item, completion) => humanEvalProgram({
      prompt: metadataString('humaneval', item, 'prompt'),
      test: metadataString('humaneval', item, 'test'),
      entryPoint: metadataString('humaneval', item, 'entry_point'),
    }, completion),
  );
}

/**
 * MBPP: JSONL of {task_id, text, code, test_list, test_setup_code?}; the prompt is the paper's (the task and
 * its tests). `code` (the reference solution) is kept in the metadata when present; the sanitized release's
 * `prompt` field stands for `text`.
 */
export function createMbppBenchmark(options: CodeBenchmarkOptions | Record<string, unknown>): CodeBenchmarkV1 {
  return createCodeBenchmark(
    'mbpp',
    options as Record<string, unknown>,
    async (data, limit) => {
      const records = await readRecords('mbpp', data, limit);
      return records.map((record) => {
        const id = idField(record, 'task_id');
        const text = record.value.text === undefined && typeof record.value.prompt === 'string'
          ? stringField(record, 'prompt')
          : stringField(record, 'text');
        const testList = stringArrayField(record, 'test_list');
        const testSetupCode = optionalStringField(record, 'test_setup_code') ?? '';
        const metadata: Record<string, unknown> = { text, test_list: testList, test_setup_code: testSetupCode, line: record.line };
        const code = optionalStringField(record, 'code');
        if (code !== undefined) metadata.code = code;
        return { id, prompt: mbppPrompt(text, testList), metadata };
      });
    },
    (item, completion) => {
      const testList = item.metadata?.test_list;
      if (!Array.isArray(testList)) throw new InvalidInputError(`benchmark mbpp: item ${item.id} has no test_list in its metadata`);
      const setup = item.metadata?.test_setup_code;
      return mbppProgram({ testList: testList as string[], testSetupCode: typeof setup === 'string' ? setup : '' }, completion);
    },
  );
}

export const humanEvalBenchmarkFactory: BenchmarkFactoryV1 = {
  specificationVersion: 'v1',
  name: 'humaneval',
  create: (options) => createHumanEvalBenchmark(options),
};

export const mbppBenchmarkFactory: BenchmarkFactoryV1 = {
  specificationVersion: 'v1',
  name: 'mbpp',
  create: (options) => createMbppBenchmark(options),
};

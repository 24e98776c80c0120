// @lsp/benchmark-code: HumanEval and MBPP read from their published JSONL files; each completion runs against
// the task's tests in a separate python3 process with a time limit, a memory limit, no network and a
// throwaway folder, and only when allowCodeExecution is true (model code is untrusted); pass@1 and pass@k
// with the unbiased estimator.
import type { PluginV1 } from '@lsp/core';
import { humanEvalBenchmarkFactory, mbppBenchmarkFactory } from './code-benchmarks';

export {
  createHumanEvalBenchmark, createMbppBenchmark, humanEvalBenchmarkFactory, mbppBenchmarkFactory, aggregatePassAtK,
  codeExecutionRefusal, defaultK, defaultMemoryLimitMiB, defaultTimeLimitSeconds,
} from './code-benchmarks';
export type { CodeBenchmarkOptions, CodeBenchmarkV1 } from './code-benchmarks';
export { passAtK } from '@lsp/core';
export { extractCode, extractMbppCode, definesFunction, humanEvalProgram, mbppProgram, mbppPrompt } from './programs';
export { runPythonProgram, findPython, networkIsolationPrefix } from './sandbox';
export type { ExecutionResult, ExecutionStatus, SandboxOptions } from './sandbox';

export default function benchmarkCode(): PluginV1 {
  return {
    name: '@lsp/benchmark-code',
    version: '0.1.0',
    specificationVersion: 'v1',
    benchmarks: [humanEvalBenchmarkFactory, mbppBenchmarkFactory],
  };
}

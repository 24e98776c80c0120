// @lsp/benchmark-math: GSM8K and MATH read from their published JSONL files, the final answer found in free
// text (`\boxed{}`, `####`, "the answer is", the last number), normalised as the reference graders do, and
// matched exactly; accuracy overall, by level and by type.
import type { PluginV1 } from '@lsp/core';
import { gsm8kBenchmarkFactory, mathBenchmarkFactory } from './math-benchmarks';

export {
  createGsm8kBenchmark, createMathBenchmark, gsm8kBenchmarkFactory, mathBenchmarkFactory,
  scoreGsm8kResponse, scoreMathResponse, aggregateAccuracy, levelKey, gsm8kInstruction, mathInstruction,
} from './math-benchmarks';
export type { MathBenchmarkOptions } from './math-benchmarks';
export {
  extractFinalAnswer, lastBoxed, afterHashes, afterAnswerPhrase, lastNumber, numbersIn,
} from './extract';
export { readBraceGroup } from './tex';
export type { ExtractedAnswer, ExtractionMethod } from './extract';
export { normalizeMathAnswer, isEquivalentMath, canonicalNumber, fixFractions, fixSquareRoots } from './normalize';

export default function benchmarkMath(): PluginV1 {
  return {
    name: '@lsp/benchmark-math',
    version: '0.1.0',
    specificationVersion: 'v1',
    benchmarks: [gsm8kBenchmarkFactory, mathBenchmarkFactory],
  };
}

// @lsp/benchmark-alpaca: AlpacaEval read from its published evaluation set (a JSON array, or JSONL), the model's
// outputs judged against a reference (the file's outputs or a baseline's) by any judge in both orders; win rate
// with its standard error, the length-controlled win rate of AlpacaEval 2.0, and the win rate per subset.
import type { PluginV1 } from '@lsp/core';
import { alpacaEvalBenchmarkFactory } from './alpaca-eval';

export { alpacaEvalBenchmarkFactory, alpacaEvalFigures, createAlpacaEvalBenchmark, winRateFigures } from './alpaca-eval';
export type { AlpacaEvalBenchmarkV1, AlpacaEvalOptions } from './alpaca-eval';
export { characterLength, judgePair, scalarPreference } from './judgement';
export type { Judgement } from './judgement';
export { fitLengthControlled, lengthControlPenaltyC, sampleStandardDeviation } from './length-control';
export type { LengthControlledFit, LengthObservation } from './length-control';

export default function benchmarkAlpaca(): PluginV1 {
  return {
    name: '@lsp/benchmark-alpaca',
    version: '0.1.0',
    specificationVersion: 'v1',
    benchmarks: [alpacaEvalBenchmarkFactory],
  };
}

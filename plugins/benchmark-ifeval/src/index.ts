// @lsp/benchmark-ifeval: IFEval (Zhou et al. 2023) read from its published input_data.jsonl, every instruction of
// the public list checked with the reference implementation's semantics, strict and loose; prompt-level and
// instruction-level accuracy and accuracy by instruction family and id.
import type { PluginV1 } from '@lsp/core';
import { ifevalBenchmarkFactory } from './ifeval-benchmark';

export {
  createIfevalBenchmark, ifevalBenchmarkFactory, evaluateResponse, evaluationDetails, ifevalItem, promptOfItem,
} from './ifeval-benchmark';
export type { IfevalBenchmark, IfevalBenchmarkOptions } from './ifeval-benchmark';
export { evaluatePrompt, ifevalFigures, looseVariants } from './evaluation';
export type { IfevalEvaluation, InstructionResult } from './evaluation';
export { parseIfevalJsonl, parseIfevalRecord, readIfevalFile } from './input';
export type { IfevalInstruction, IfevalPrompt } from './input';
export {
  instructionIds, instructionRegistry, countWords, countCapitalWords, countBullets, countHighlights, countDividedParagraphs,
} from './instructions';
export type { ArgumentKind, InstructionArguments, InstructionDefinition, Relation } from './instructions';
export { countSentences, punktSentences } from './punkt';
export { wordTokenize, treebankTokens } from './word-tokenize';
export { detectLanguage, isInLanguage, ifevalLanguages } from './language';
export { isPythonJson } from './python-json';

export default function benchmarkIfeval(): PluginV1 {
  return {
    name: '@lsp/benchmark-ifeval',
    version: '0.1.0',
    specificationVersion: 'v1',
    benchmarks: [ifevalBenchmarkFactory],
  };
}

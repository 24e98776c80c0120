// @lsp/world: the built-in verifiable world of string and arithmetic tasks (DESIGN.md section 2): its grammar,
// parser and rule judge, the held-out benchmark by difficulty level, and seeded training data.
import type { PluginV1 } from '@lsp/core';
import { worldBenchmarkFactory } from './world-benchmark';
import { worldJudgeFactory } from './world-judge';

export { parseTask, evaluate, render, isCorrectAnswer, operations, operationNames, worldLimits } from './world-task';
export type { Expression, OperationName, ParsedTask, TaskParse } from './world-task';
export { generateTask, generateTasks, worldChallengerPrompt, worldChallengerMessages } from './world-generator';
export type { TaskListOptions } from './world-generator';
export { generatePretrainingExamples, generateTrainingTasks, pretrainingJsonLines } from './world-datasets';
export type { PretrainingExample, PretrainingOptions, TrainingPromptOptions } from './world-datasets';
export { loadHeldOutSet, heldOutPrompts } from './world-held-out';
export type { HeldOutItem, HeldOutSet } from './world-held-out';
export { createWorldJudge, worldJudgeFactory } from './world-judge';
export type { WorldJudgeOptions } from './world-judge';
export { createWorldBenchmark, worldBenchmarkFactory } from './world-benchmark';
export type { WorldBenchmarkOptions } from './world-benchmark';
export { summarizeQueries } from './world-metrics';
export type { QuerySummary } from './world-metrics';
export { createRandom } from './world-random';
export { builtinModelDirectory } from './world-model';
export type { Random } from './world-random';

export default function world(): PluginV1 {
  return {
    name: '@lsp/world',
    version: '0.1.0',
    specificationVersion: 'v1',
    judges: [worldJudgeFactory],
    benchmarks: [worldBenchmarkFactory],
  };
}

// @lsp/testing: the plugin author's kit. Play a game, judge or benchmark for a few self-play iterations on the
// built-in world's model and get the run's metrics back; score a benchmark; check a backend's device against the
// oracle. Everything runs on the CPU in seconds, with no model to download or write.
export { playGame, scoreBenchmark, testingRegistry, kitPlugins, testingTraining } from './testing-play';
export type { PlayOptions, PlayResult, BenchmarkScoreOptions } from './testing-play';
export { writeTinyModel, worldModelDirectory } from './testing-model';
export type { TinyModelOptions } from './testing-model';
export { checkDevice } from './testing-device';
export type { DeviceCheck, DeviceCheckOptions } from './testing-device';
export { worldItems } from './testing-world';
export type { WorldItemOptions } from './testing-world';
export type { IterationMetrics, IterationSample } from '@lsp/runner';

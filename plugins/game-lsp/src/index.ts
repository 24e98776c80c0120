// @lsp/game-lsp: the games of Language Self-Play: 'lsp' (with the quality self-reward), 'lsp-zero' (without),
// and 'grpo' (the same Solver update on a dataset's prompts, the paper's baseline).
import type { PluginV1 } from '@lsp/core';
import { grpoGameFactory } from './game-grpo';
import { lspGameFactory, lspZeroGameFactory } from './game-self-play';

export {
  createSelfPlayGame, lspGameFactory, lspZeroGameFactory, challengerTaskFor, challengerPromptKind,
} from './game-self-play';
export { createGrpoGame, grpoGameFactory, readPromptFile, datasetQueries } from './game-grpo';
export { computeGameAdvantages, type AdvantageVariant } from './game-advantages';
export {
  chatChallengerMessages, qualityJudgeMessages, parseQualityScore, maxQualityScore, qualityCriteria, challengerPresets,
  templateStartMarker, templateEndMarker, type QualityScore, type ChallengerTask, type ChallengerPresetName,
} from './game-prompts';
export { lspOptionsSchema, lspZeroOptionsSchema, grpoOptionsSchema } from './game-options';
export type { LspOptions, LspZeroOptions, GrpoOptions } from './game-options';

export default function gameLsp(): PluginV1 {
  return {
    name: '@lsp/game-lsp',
    version: '0.1.0',
    specificationVersion: 'v1',
    games: [lspGameFactory, lspZeroGameFactory, grpoGameFactory],
  };
}

// @lsp/pretrain: produces the built-in world's small model (`lsp pretrain`): a tokenizer trained on world text,
// a random Llama, supervised training on the world's Solver and Challenger examples, held-out evaluation.
export { runPretraining, formatDuration, pretrainCheckpointDirectory, readPretrainCheckpoint, readPretrainSettings } from './pretrain-run';
export type { PretrainCheckpointState, PretrainOptions, PretrainProgress, PretrainReport, RecordedSettings } from './pretrain-run';
export { learningRateAt } from './pretrain-schedule';
export type { ScheduleOptions } from './pretrain-schedule';
export {
  writeWorldTokenizer, worldTokenizerCorpus, worldSpecialTokens, worldChatTemplate, defaultWorldVocabularySize,
} from './pretrain-tokenizer';
export type { WorldTokenizerOptions } from './pretrain-tokenizer';
export { defaultWorldModelShape, worldModelConfig, writeInitialModel, parameterCount } from './pretrain-model-config';
export type { WorldModelShape } from './pretrain-model-config';
export { parseCurriculum, checkCurriculum, describeCurriculum, stageAt, namedCurricula, stagedCurriculum, singleStage } from './pretrain-curriculum';
export type { CurriculumStage } from './pretrain-curriculum';
export { pretrainingBatches, encodeExample, promptIds, endOfTurnId } from './pretrain-data';
export type { EncodedExample, BatchStreamOptions } from './pretrain-data';
export { evaluateHeldOut, sampleChallenger, answerTokenLimit } from './pretrain-evaluate';
export type { HeldOutScores, ChallengerSamples } from './pretrain-evaluate';

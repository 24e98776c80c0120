// @lsp/judge-reward-model: judge `reward-model`, a Hugging Face *ForSequenceClassification folder scoring
// (query, answer) through its own chat template, in batches, on any backend.
import type { JudgeFactoryV1, PluginV1 } from '@lsp/core';
import { createRewardModelJudge } from './reward-model-judge';

export { createRewardModelJudge, readChatTemplateConfig } from './reward-model-judge';
export type { RewardModelEnvironment, RewardModelJudge } from './reward-model-judge';
export { parseRewardModelOptions, rewardModelJudgeOptionsSchema } from './judge-options';
export type { RewardModelJudgeOptions, ResolvedRewardModelJudgeOptions } from './judge-options';

export const rewardModelJudgeFactory: JudgeFactoryV1 = {
  specificationVersion: 'v1',
  name: 'reward-model',
  create: (options) => createRewardModelJudge(options),
};

export default function judgeRewardModel(): PluginV1 {
  return {
    name: '@lsp/judge-reward-model',
    version: '0.1.0',
    specificationVersion: 'v1',
    judges: [rewardModelJudgeFactory],
  };
}

// @lsp/judge-openai: judge `openai`, an LLM judge over any OpenAI-compatible chat-completions endpoint, with the
// quality rubric of @lsp/game-lsp, custom pointwise and pairwise prompts, retries, and a reply cache on disk.
import type { JudgeFactoryV1, PluginV1 } from '@lsp/core';
import { createOpenAiJudge } from './openai-judge';

export { createOpenAiJudge } from './openai-judge';
export type { OpenAiJudge, OpenAiJudgeStatistics } from './openai-judge';
export { openAiJudgeOptionsSchema, parseJudgeOptions, defaultCacheDirectory } from './judge-options';
export type { OpenAiJudgeOptions, ResolvedOpenAiJudgeOptions } from './judge-options';
export { defaultPairwisePrompt, fillTemplate, readPairwise, readPointwise } from './judge-prompts';
export type { PairwiseReading, PointwiseReading } from './judge-prompts';
export { retryAfterMs } from './chat-client';
export type { ChatClientHooks } from './chat-client';
export { requestKey } from './reply-cache';

export const openAiJudgeFactory: JudgeFactoryV1 = {
  specificationVersion: 'v1',
  name: 'openai',
  create: (options) => createOpenAiJudge(options),
};

export default function judgeOpenAi(): PluginV1 {
  return {
    name: '@lsp/judge-openai',
    version: '0.1.0',
    specificationVersion: 'v1',
    judges: [openAiJudgeFactory],
  };
}

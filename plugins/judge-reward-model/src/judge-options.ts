// The options of judge `reward-model` (judgeOptions in lsp.config.ts, or --judge-model and --judge-option on the
// command line), checked with zod: one line naming the option when one is wrong or unknown.
import { parseComponentOptions } from '@lsp/core';
import { z } from 'zod';

export const rewardModelJudgeOptionsSchema = z
  .object({
    /** A Hugging Face *ForSequenceClassification folder (Llama, Qwen2, Qwen3) with its tokenizer and chat template. */
    model: z.string().min(1),
    /** The compute backend the reward model runs on: 'auto' (the highest-priority available) or a name such as 'wasm'. */
    backend: z.string().min(1).default('auto'),
    /** (query, answer) pairs scored in one forward pass. */
    batchSize: z.number().int().positive().default(8),
    /** score = (raw - center) * scale: centring and scaling of the model's raw reward. */
    center: z.number().refine(Number.isFinite, 'must be a finite number').default(0),
    scale: z.number().refine(Number.isFinite, 'must be a finite number').default(1),
  })
  .strict();

export type RewardModelJudgeOptions = z.input<typeof rewardModelJudgeOptionsSchema>;
export type ResolvedRewardModelJudgeOptions = z.output<typeof rewardModelJudgeOptionsSchema>;

export function parseRewardModelOptions(options: unknown): ResolvedRewardModelJudgeOptions {
  return parseComponentOptions('judge reward-model', rewardModelJudgeOptionsSchema, options,
    'the options are model (a *ForSequenceClassification folder), backend, batchSize, center and scale; e.g. --judge-model DIR');
}

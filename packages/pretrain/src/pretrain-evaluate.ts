// What a pretrained world model can do: greedy Solver accuracy on the world's held-out set by level (the
// benchmark the self-play run reports), and the validity of the tasks it writes as Challenger.
import type { PolicyModelV1, TokenizerV1 } from '@lsp/core';
import { createWorldBenchmark, parseTask, worldChallengerMessages } from '@lsp/world';
import { promptIds } from './pretrain-data';

export interface HeldOutScores {
  /** { overall, 'level-1', ..., 'level-5' } as the world benchmark aggregates them. */
  scores: Record<string, number>;
  /** A few items with the model's answers, for the report. */
  examples: { prompt: string; expected: string; answer: string; level: number }[];
}

/** Longest world answer (40 characters) plus the end-of-turn token and some slack. */
export const answerTokenLimit = 48;

export async function evaluateHeldOut(
  model: PolicyModelV1, tokenizer: TokenizerV1, options: { levels?: readonly number[]; perLevel?: number; batchSize?: number } = {},
): Promise<HeldOutScores> {
  const benchmark = createWorldBenchmark(options.levels ? { levels: options.levels } : {});
  let items = await benchmark.loadItems();
  if (options.perLevel !== undefined) {
    const taken = new Map<number, number>();
    items = items.filter((item) => {
      const level = item.metadata!.level as number;
      taken.set(level, (taken.get(level) ?? 0) + 1);
      return taken.get(level)! <= options.perLevel!;
    });
  }
  const batchSize = options.batchSize ?? 100;
  const answers: string[] = [];
  for (let start = 0; start < items.length; start += batchSize) {
    const batch = items.slice(start, start + batchSize);
    // The Solver's prompt is the query alone as the user message (game.solverPrompt).
    const requests = batch.map((item) => ({ promptIds: promptIds(tokenizer, [{ role: 'user', content: item.prompt }]) }));
    const results = await model.generate(requests, { maxNewTokens: answerTokenLimit, temperature: 0 });
    answers.push(...results.map((result) => result.text));
  }
  const scores = await Promise.all(items.map((item, index) => benchmark.scoreItem(item, answers[index]!)));
  const examples = items
    .map((item, index) => ({ prompt: item.prompt, expected: item.metadata!.answer as string, answer: answers[index]!, level: item.metadata!.level as number }))
    .filter((_, index) => index % 10 === 0);
  return { scores: benchmark.aggregate(items, scores), examples };
}

export interface ChallengerSamples {
  temperature: number;
  samples: { text: string; valid: boolean; level?: number; reason?: string }[];
  validFraction: number;
  meanLevel: number;
}

/** Tasks the model writes for the world's challenger prompt ('new task'), checked by the world's parser. */
export async function sampleChallenger(
  model: PolicyModelV1, tokenizer: TokenizerV1, options: { count: number; temperature: number; seed: number },
): Promise<ChallengerSamples> {
  const prompt = promptIds(tokenizer, worldChallengerMessages());
  const results = await model.generate(
    Array.from({ length: options.count }, () => ({ promptIds: prompt })),
    { maxNewTokens: answerTokenLimit, temperature: options.temperature, seed: options.seed },
  );
  const samples = results.map((result) => {
    const parse = parseTask(result.text);
    return parse.valid
      ? { text: result.text, valid: true, level: parse.task.level }
      : { text: result.text, valid: false, reason: parse.reason };
  });
  const valid = samples.filter((sample) => sample.valid);
  return {
    temperature: options.temperature,
    samples,
    validFraction: samples.length > 0 ? valid.length / samples.length : 0,
    meanLevel: valid.length > 0 ? valid.reduce((sum, sample) => sum + sample.level!, 0) / valid.length : 0,
  };
}

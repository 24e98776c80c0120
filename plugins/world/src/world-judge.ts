// The world's rule judge ('world'): parses the query as a task, then checks the answer exactly. Its quality
// self-reward is the query's validity, which plays the part the reference model's rubric plays for chat models.
import { ConfigError, type JudgeFactoryV1, type JudgeItem, type JudgeScore, type JudgeV1 } from '@lsp/core';
import { isCorrectAnswer, parseTask } from './world-task';

export interface WorldJudgeOptions {
  /**
   * RQ of every answer to a valid query (0 for an invalid one). Default 2, the rubric's two points for the
   * instruction: with rewards in 0..1 it makes any valid query worth more to the Challenger than any invalid one.
   */
  validQueryQuality?: number;
}

export function createWorldJudge(options: WorldJudgeOptions = {}): JudgeV1 {
  const known = new Set(['validQueryQuality']);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new ConfigError(`judge world: unknown option "${key}"`, { hint: 'the only option is validQueryQuality' });
  }
  const validQueryQuality = options.validQueryQuality ?? 2;
  if (typeof validQueryQuality !== 'number' || !Number.isFinite(validQueryQuality)) {
    throw new ConfigError(`judge world: validQueryQuality must be a number, got ${String(validQueryQuality)}`);
  }
  return {
    specificationVersion: 'v1',
    name: 'world',
    async doScore(items: readonly JudgeItem[]): Promise<JudgeScore[]> {
      return items.map(({ query, answer }) => {
        const parsed = parseTask(query);
        // An invalid query has no right answer; its answers all score 0, so the group carries no Solver gradient.
        if (!parsed.valid) return { score: 0, quality: 0, details: { valid: false, reason: parsed.reason } };
        const { task } = parsed;
        return {
          score: isCorrectAnswer(task, answer) ? 1 : 0,
          quality: validQueryQuality,
          details: {
            valid: true, expected: task.answer, level: task.level, difficulty: task.difficulty,
            operations: task.operations, depth: task.depth,
          },
        };
      });
    },
  };
}

export const worldJudgeFactory: JudgeFactoryV1 = {
  specificationVersion: 'v1',
  name: 'world',
  create: (options) => createWorldJudge(options as WorldJudgeOptions),
};

// The world's rule judge ('world'): parses the query as a task, then checks the answer exactly (optionally with
// partial credit for near misses). Its quality self-reward is the query's validity, which plays the part the
// reference model's rubric plays for chat models.
import { ConfigError, type JudgeFactoryV1, type JudgeItem, type JudgeScore, type JudgeV1 } from '@lsp/core';
import { isCorrectAnswer, parseTask } from './world-task';

export interface WorldJudgeOptions {
  /**
   * RQ of every answer to a valid query (0 for an invalid one). Default 2, the rubric's two points for the
   * instruction: with rewards in 0..1 it makes any valid query worth more to the Challenger than any invalid one.
   */
  validQueryQuality?: number;
  /**
   * The most a wrong answer can score, in [0, 1) (default 0: exact answers 1, everything else 0). A wrong answer
   * scores partialCredit * (1 - d / max(|answer|, |expected|)), d the edit distance in characters after
   * trimming, so that answers to one query differ in score more often and GRPO's groups carry a gradient. The
   * held-out benchmark always counts exact answers only.
   */
  partialCredit?: number;
}

/** Levenshtein distance between two strings, by UTF-16 code unit (world values are ASCII). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** partialCredit's score of a wrong answer (0 when partialCredit is 0). */
function nearMissScore(answer: string, expected: string, partialCredit: number): number {
  if (partialCredit === 0) return 0;
  const given = answer.trim();
  const longest = Math.max(given.length, expected.length);
  return longest === 0 ? 0 : partialCredit * (1 - editDistance(given, expected) / longest);
}

export function createWorldJudge(options: WorldJudgeOptions = {}): JudgeV1 {
  const known = new Set(['validQueryQuality', 'partialCredit']);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new ConfigError(`judge world: unknown option "${key}"`, { hint: 'the options are validQueryQuality and partialCredit' });
  }
  const partialCredit = options.partialCredit ?? 0;
  if (typeof partialCredit !== 'number' || !(partialCredit >= 0 && partialCredit < 1)) {
    throw new ConfigError(`judge world: partialCredit must be a number from 0 up to (not including) 1, got ${String(partialCredit)}`);
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
          score: isCorrectAnswer(task, answer) ? 1 : nearMissScore(answer, task.answer, partialCredit),
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

// The world's training data, never overlapping the held-out set: the pretraining examples of the world's small
// model (what `lsp pretrain` trains on) and the prompt set that GRPO-on-data draws from.
import { InvalidInputError } from '@lsp/core';
import { createRandom } from './world-random';
import { generateTask, generateTasks, worldChallengerMessages } from './world-generator';
import { heldOutPrompts } from './world-held-out';
import type { ChatMessage } from '@lsp/core';
import type { ParsedTask } from './world-task';

export interface PretrainingExample {
  role: 'solver' | 'challenger';
  /** The prompt, as chat messages (the model's chat template renders them). */
  messages: ChatMessage[];
  /** What the model should write. */
  completion: string;
  level: number;
}

export interface PretrainingOptions {
  seed: number;
  count: number;
  /** Levels of the Solver's examples (easy by default: the Solver should leave room to improve). */
  solverLevels?: readonly number[];
  /** Levels of the Challenger's examples: a wider range, so the Challenger can reach harder tasks under RL. */
  challengerLevels?: readonly number[];
  /** Fraction of examples that teach the Challenger role. Default 0.25. */
  challengerFraction?: number;
}

/**
 * The world model's pretraining data: Solver examples (task -> answer) at easy levels, and Challenger examples
 * (the world's challenger prompt -> a task). Tasks repeat across examples (low levels hold few tasks), but
 * never come from the held-out set.
 */
export function generatePretrainingExamples(options: PretrainingOptions): PretrainingExample[] {
  const solverLevels = options.solverLevels ?? [1, 2];
  const challengerLevels = options.challengerLevels ?? [1, 2, 3];
  const challengerFraction = options.challengerFraction ?? 0.25;
  if (!(challengerFraction >= 0 && challengerFraction <= 1)) {
    throw new InvalidInputError(`world: challengerFraction must be in 0..1, got ${challengerFraction}`);
  }
  checkCount(options.count);
  const exclude = heldOutPrompts();
  const random = createRandom(options.seed);
  const examples: PretrainingExample[] = [];
  while (examples.length < options.count) {
    const challenger = random.next() < challengerFraction;
    const task = generateTask(random, random.pick(challenger ? challengerLevels : solverLevels));
    if (exclude.has(task.canonical)) continue;
    examples.push(
      challenger
        ? { role: 'challenger', messages: worldChallengerMessages(), completion: task.canonical, level: task.level }
        : { role: 'solver', messages: [{ role: 'user', content: task.canonical }], completion: task.answer, level: task.level },
    );
  }
  return examples;
}

/** One JSON object per line, the format `lsp pretrain` reads: {"role","messages","completion","level"}. */
export function pretrainingJsonLines(examples: readonly PretrainingExample[]): string {
  return examples.map((example) => JSON.stringify(example)).join('\n') + (examples.length > 0 ? '\n' : '');
}

export interface TrainingPromptOptions {
  seed: number;
  count: number;
  /** Levels to draw from uniformly; default every level, the held-out set's distribution. */
  levels?: readonly number[];
}

/** Distinct world tasks for GRPO on data, drawn like the held-out set but never from it. */
export function generateTrainingTasks(options: TrainingPromptOptions): ParsedTask[] {
  checkCount(options.count);
  return generateTasks({ ...options, exclude: heldOutPrompts() });
}

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 0) throw new InvalidInputError(`world: count must be a whole number, got ${count}`);
}

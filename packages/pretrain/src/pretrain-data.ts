// Pretraining batches: the world's examples formatted exactly as the runner prompts the model (the chat template
// with a generation prompt, encoded without added special tokens), completion = answer ids + eos, grouped by length.
import type { ChatMessage, ScoredSequence, TokenizerV1 } from '@lsp/core';
import { InvalidInputError } from '@lsp/core';
import { createRandom, generatePretrainingExamples, type PretrainingExample } from '@lsp/world';
import { stageAt, type CurriculumStage } from './pretrain-curriculum';

export interface EncodedExample extends ScoredSequence {
  role: PretrainingExample['role'];
  level: number;
}

/** The prompt ids the runner gives the model for these messages. */
export function promptIds(tokenizer: TokenizerV1, messages: readonly ChatMessage[]): number[] {
  return tokenizer.encode(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }), { addSpecialTokens: false });
}

export function endOfTurnId(tokenizer: TokenizerV1): number {
  const eos = tokenizer.specialTokenIds.eos[0];
  if (eos === undefined) throw new InvalidInputError('pretrain: the tokenizer has no eos token (tokenizer_config.json eos_token)');
  return eos;
}

export function encodeExample(tokenizer: TokenizerV1, example: PretrainingExample): EncodedExample {
  return {
    role: example.role,
    level: example.level,
    promptIds: promptIds(tokenizer, example.messages),
    completionIds: [...tokenizer.encode(example.completion, { addSpecialTokens: false }), endOfTurnId(tokenizer)],
  };
}

export interface BatchStreamOptions {
  seed: number;
  batchSize: number;
  /** Batches drawn at once and sorted by length, so a batch's rows have similar lengths (less padding). */
  poolBatches?: number;
  solverLevels?: readonly number[];
  challengerLevels?: readonly number[];
  challengerFraction?: number;
  /**
   * Levels by stage of the run (overrides solverLevels and challengerLevels): each pool of batches is drawn at the
   * stage in force at its first batch's step.
   */
  curriculum?: { stages: readonly CurriculumStage[]; steps: number };
}

/** An endless, seeded stream of length-grouped batches of fresh examples. */
export function* pretrainingBatches(tokenizer: TokenizerV1, options: BatchStreamOptions): Generator<EncodedExample[]> {
  const poolBatches = options.poolBatches ?? 8;
  const order = createRandom(options.seed ^ 0x5bd1e995);
  for (let round = 0; ; round++) {
    const stage = options.curriculum ? stageAt(options.curriculum.stages, round * poolBatches, options.curriculum.steps) : undefined;
    const solverLevels = stage?.solverLevels ?? options.solverLevels;
    const challengerLevels = stage ? stage.challengerLevels : options.challengerLevels;
    const examples = generatePretrainingExamples({
      seed: options.seed * 100_003 + round,
      count: options.batchSize * poolBatches,
      ...(solverLevels ? { solverLevels } : {}),
      ...(challengerLevels ? { challengerLevels } : {}),
      ...(options.challengerFraction !== undefined ? { challengerFraction: options.challengerFraction } : {}),
    }).map((example) => encodeExample(tokenizer, example));
    examples.sort((a, b) => a.promptIds.length + a.completionIds.length - (b.promptIds.length + b.completionIds.length));
    const batches = Array.from({ length: poolBatches }, (_, index) => examples.slice(index * options.batchSize, (index + 1) * options.batchSize));
    // Shuffled, so the loss does not see short batches first in every round.
    for (let index = batches.length - 1; index > 0; index--) {
      const other = order.integer(0, index);
      [batches[index], batches[other]] = [batches[other]!, batches[index]!];
    }
    yield* batches;
  }
}

// 'grpo': the paper's baseline, GRPO on data. The same Solver update as the self-play games, on prompts drawn
// from a dataset (the world's generated tasks or a JSONL file), with no Challenger.
import {
  InvalidInputError, type GameFactoryV1, type GameSettingsV1, type GameV1, type IterationRewards, type Role,
} from '@lsp/core';
import { createAdvantageMath } from '@lsp/advantage-wasm';
import { createRandom, generateTrainingTasks } from '@lsp/world';
import { readFileSync } from 'node:fs';
import { computeGameAdvantages } from './game-advantages';
import { commonSettings, grpoOptionsSchema, parseOptions } from './game-options';
import { rolePolicyLoss, solverMessages } from './game-self-play';

/**
 * Prompts from a JSONL file: each line an object with "prompt", or Alpaca's "instruction" (and optional "input",
 * appended after a blank line). Blank lines are skipped; anything else is refused with its line number.
 */
export function readPromptFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InvalidInputError(`game grpo: cannot read the dataset ${path}`, { hint: 'set gameOptions.dataset to a JSONL file of prompts, or to "world"' });
  }
  const prompts: string[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw new InvalidInputError(`game grpo: ${path}:${index + 1} is not JSON`);
    }
    const { prompt, instruction, input } = (record ?? {}) as { prompt?: unknown; instruction?: unknown; input?: unknown };
    if (typeof prompt === 'string' && prompt.trim() !== '') prompts.push(prompt);
    else if (typeof instruction === 'string' && instruction.trim() !== '') {
      prompts.push(typeof input === 'string' && input.trim() !== '' ? `${instruction}\n\n${input}` : instruction);
    } else throw new InvalidInputError(`game grpo: ${path}:${index + 1} has no "prompt" or "instruction" string`);
  });
  if (prompts.length === 0) throw new InvalidInputError(`game grpo: the dataset ${path} holds no prompts`);
  return prompts;
}

/** The dataset's order in one epoch: a seeded shuffle, so iteration k always gets the same prompts. */
function epochOrder(size: number, seed: number, epoch: number): number[] {
  const random = createRandom((seed * 1_000_003 + epoch) >>> 0);
  const order = Array.from({ length: size }, (_, index) => index);
  for (let index = size - 1; index > 0; index--) {
    const other = Math.floor(random.next() * (index + 1));
    [order[index], order[other]] = [order[other]!, order[index]!];
  }
  return order;
}

/**
 * The prompts of an iteration: consecutive slices of the epoch-shuffled dataset, every prompt used once per
 * epoch; depends only on (seed, iteration, count), so a resumed run sees the same prompts.
 */
export function datasetQueries(prompts: readonly string[], seed: number, iteration: number, count: number): string[] {
  const queries: string[] = [];
  for (let position = iteration * count; position < (iteration + 1) * count; position++) {
    const epoch = Math.floor(position / prompts.length);
    queries.push(prompts[epochOrder(prompts.length, seed, epoch)[position % prompts.length]!]!);
  }
  return queries;
}

export async function createGrpoGame(rawOptions: Record<string, unknown> = {}): Promise<GameV1> {
  const options = parseOptions('grpo', grpoOptionsSchema, rawOptions);
  const math = await createAdvantageMath(options.advantageImplementation);
  const prompts =
    options.dataset === 'world'
      ? generateTrainingTasks({ seed: options.seed, count: options.datasetSize }).map((task) => task.canonical)
      : readPromptFile(options.dataset);
  const settings: GameSettingsV1 = commonSettings(options, 0);
  const roles: readonly Role[] = ['solver'];
  return {
    specificationVersion: 'v1',
    name: 'grpo',
    roles,
    usesQualityReward: false,
    settings,
    queries: ({ iteration, count }) => {
      if (!Number.isInteger(iteration) || iteration < 0 || !Number.isInteger(count) || count < 0) {
        throw new InvalidInputError(`game grpo: queries need a whole iteration and count, got ${iteration} and ${count}`);
      }
      return datasetQueries(prompts, options.seed, iteration, count);
    },
    solverPrompt: solverMessages,
    computeAdvantages: (rewards: IterationRewards) => computeGameAdvantages(math, settings, 'grpo', rewards),
    policyLoss: (role, sequences, lossOptions) => rolePolicyLoss('grpo', math, settings, roles, role, sequences, lossOptions),
  };
}

export const grpoGameFactory: GameFactoryV1 = {
  specificationVersion: 'v1',
  name: 'grpo',
  create: (options) => createGrpoGame(options),
};

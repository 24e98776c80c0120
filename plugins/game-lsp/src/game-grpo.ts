// 'grpo': the paper's baseline, GRPO on data. The same Solver update as the self-play games, on prompts drawn
// from a dataset (the world's generated tasks, or a JSONL or JSON file of prompts or Alpaca records), with no Challenger.
import { optionalStringField, parseRecords, stringField, type DataRecord } from '@lsp/benchmark-files';
import {
  InvalidInputError, LspError, type GameFactoryV1, type GameSettingsV1, type GameV1, type IterationRewards, type Role,
} from '@lsp/core';
import { createAdvantageMath } from '@lsp/advantage-wasm';
import { createRandom, generateTrainingTasks } from '@lsp/world';
import { readFileSync } from 'node:fs';
import { computeGameAdvantages } from './game-advantages';
import { commonSettings, grpoOptionsSchema, parseOptions } from './game-options';
import { rolePolicyLoss, solverMessages } from './game-self-play';

const datasetHint = 'the dataset is JSONL or a JSON array of {"prompt"} records or Alpaca {"instruction", "input"} records';

/** The prompt of one record: its "prompt", or Alpaca's "instruction" followed by a blank line and a non-empty "input". */
function promptOf(record: DataRecord): string {
  const value = record.value;
  if (value.prompt !== undefined && value.prompt !== null) return stringField(record, 'prompt');
  if (value.instruction !== undefined && value.instruction !== null) {
    const instruction = stringField(record, 'instruction');
    const input = optionalStringField(record, 'input');
    return input !== undefined && input.trim() !== '' ? `${instruction}\n\n${input}` : instruction;
  }
  throw new InvalidInputError(`${record.where}: no "prompt" or "instruction" field`);
}

/**
 * Prompts from a dataset file, JSONL (blank lines skipped) or a JSON array (Alpaca's alpaca_data.json): each
 * record an object with "prompt", or Alpaca's "instruction" and optional "input" (the prompt is the instruction,
 * then a blank line and the input when the input is not empty). A bad record is refused in one line naming the
 * file, the line (and the element of an array) and the field.
 */
export function readPromptFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InvalidInputError(`game grpo: cannot read the dataset ${path}`, { hint: 'set gameOptions.dataset to a JSONL or JSON file of prompts, or to "world"' });
  }
  let prompts: string[];
  try {
    prompts = parseRecords('grpo', path, text).map(promptOf);
  } catch (error) {
    if (LspError.isInstance(error)) throw new InvalidInputError(`game grpo: ${error.message}`, { hint: datasetHint });
    throw error;
  }
  if (prompts.length === 0) throw new InvalidInputError(`game grpo: the dataset ${path} holds no prompts`, { hint: datasetHint });
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

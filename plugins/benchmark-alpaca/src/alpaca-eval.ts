// The `alpacaeval` benchmark: the model's output for each instruction against a reference output (the data file's
// `output`, or a baseline's from the `reference` file), judged by any JudgeV1 in both orders; win rate with its
// standard error, the length-controlled win rate and the win rate per subset.
import {
  ConfigError, InvalidInputError, type BenchmarkFactoryV1, type BenchmarkItem, type BenchmarkV1, type JudgeV1,
} from '@lsp/core';
import { judgePair, type Judgement } from './judgement';
import { fitLengthControlled, sampleStandardDeviation, type LengthObservation } from './length-control';
import { describe, optionalStringField, readRecords, stringField, type DataRecord } from '@lsp/benchmark-files';

export interface AlpacaEvalOptions {
  /** The evaluation set: a JSON array (alpaca_eval.json) or JSONL of {instruction, output, generator, dataset}. */
  data: string;
  /** Only the first N instructions. */
  limit?: number;
  /** The judge instance (the runner resolves `--judge NAME` / benchmarkOptions.judge to it). */
  judge: JudgeV1;
  /** A JSON array or JSONL of {instruction, output}: the outputs to compare against instead of the data file's. */
  reference?: string;
}

/** Per-item preferences in [0, 1] into AlpacaEval's head-to-head figures (as fractions, not percentages). */
export function winRateFigures(preferences: readonly number[]): {
  win_rate: number; standard_error: number; n_wins: number; n_draws: number; n_total: number;
} {
  const n = preferences.length;
  const mean = n > 0 ? preferences.reduce((sum, value) => sum + value, 0) / n : 0;
  return {
    win_rate: mean,
    // pandas' sem: the sample standard deviation (n - 1) over sqrt(n); NaN below two items, as there.
    standard_error: sampleStandardDeviation(preferences) / Math.sqrt(n),
    n_wins: preferences.filter((value) => value > 0.5).length,
    n_draws: preferences.filter((value) => value === 0.5).length,
    n_total: n,
  };
}

/** What aggregate keeps per item id: the judgements of the answers scored since the item was last aggregated. */
interface ItemRound {
  sealed: boolean;
  judged: { answer: string; judgement: Judgement }[];
}

/** The benchmark with the judgements it keeps for aggregate (exposed for tests and tools). */
export interface AlpacaEvalBenchmarkV1 extends BenchmarkV1 {
  /** Judges one answer without recording it (what scoreItem does, minus the bookkeeping). */
  judgeAnswer(item: BenchmarkItem, answer: string): Promise<Judgement>;
}

function checkOptions(options: Record<string, unknown>): AlpacaEvalOptions {
  const { data, limit, judge, reference } = options;
  if (typeof data !== 'string' || data === '') {
    throw new ConfigError('benchmark alpacaeval: option data (the path of the evaluation set, a JSON array or JSONL) is required', {
      hint: "pass --data alpaca_eval.json on lsp bench, or benchmarkOptions: { data: 'path/to/alpaca_eval.json' }",
    });
  }
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
    throw new ConfigError(`benchmark alpacaeval: option limit must be a positive integer, got ${JSON.stringify(limit)}`);
  }
  if (judge === undefined || judge === null) {
    throw new ConfigError('benchmark alpacaeval: a judge is needed to compare the model\'s outputs with the reference outputs', {
      hint: 'pass --judge NAME on lsp bench, or benchmarkOptions.judge in lsp.config.ts',
    });
  }
  if (typeof judge === 'string') {
    throw new ConfigError(`benchmark alpacaeval: option judge "${judge}" is a name, not a judge; the runner resolves it`, {
      hint: 'pass --judge NAME on lsp bench, or benchmarkOptions.judge in lsp.config.ts',
    });
  }
  if (typeof judge !== 'object' || typeof (judge as Partial<JudgeV1>).doScore !== 'function') {
    throw new ConfigError(`benchmark alpacaeval: option judge must be a judge (an object with doScore), got ${describe(judge)}`, {
      hint: 'pass --judge NAME on lsp bench, or benchmarkOptions.judge in lsp.config.ts',
    });
  }
  if (reference !== undefined && (typeof reference !== 'string' || reference === '')) {
    throw new ConfigError(`benchmark alpacaeval: option reference must be the path of a JSONL (or JSON array) of {instruction, output}, got ${JSON.stringify(reference)}`);
  }
  return {
    data, judge: judge as JudgeV1,
    ...(limit !== undefined ? { limit: limit as number } : {}),
    ...(reference !== undefined ? { reference: reference as string } : {}),
  };
}

/** The reference file's outputs by instruction; the same instruction twice must have the same output. */
async function readReferences(path: string): Promise<Map<string, { output: string; generator?: string; where: string }>> {
  const byInstruction = new Map<string, { output: string; generator?: string; where: string }>();
  for (const record of await readRecords('alpacaeval', path)) {
    const instruction = stringField(record, 'instruction');
    const output = stringField(record, 'output', true);
    const generator = optionalStringField(record, 'generator');
    const known = byInstruction.get(instruction);
    if (known) {
      if (known.output !== output) throw new InvalidInputError(`${record.where}: field "output" differs from the output ${known.where} gives for the same instruction`);
      continue;
    }
    byInstruction.set(instruction, { output, ...(generator !== undefined ? { generator } : {}), where: record.where });
  }
  return byInstruction;
}

function itemOf(record: DataRecord, references: Awaited<ReturnType<typeof readReferences>> | undefined, referencePath?: string): BenchmarkItem {
  const instruction = stringField(record, 'instruction');
  const output = references ? optionalStringField(record, 'output') : stringField(record, 'output', true);
  let generator = optionalStringField(record, 'generator');
  const dataset = optionalStringField(record, 'dataset');
  let reference = output;
  if (references) {
    const given = references.get(instruction);
    if (!given) {
      const shown = instruction.length > 60 ? `${instruction.slice(0, 60)}...` : instruction;
      throw new InvalidInputError(`${referencePath}: no output for the instruction of ${record.where} (${JSON.stringify(shown)})`, {
        hint: 'the reference file needs an {"instruction", "output"} line for every instruction scored',
      });
    }
    reference = given.output;
    generator = given.generator;
  }
  const metadata: Record<string, unknown> = { instruction, reference, line: record.line };
  if (generator !== undefined) metadata.generator = generator;
  if (dataset !== undefined) metadata.dataset = dataset;
  return { id: String(record.index), prompt: instruction, metadata };
}

function metadataString(item: BenchmarkItem, field: string): string {
  const value = item.metadata?.[field];
  if (typeof value !== 'string') throw new InvalidInputError(`benchmark alpacaeval: item ${item.id} has no ${field} in its metadata`);
  return value;
}

/** Scores agree with the kept judgements to this much (a runner's mean of K scores has rounding error). */
const scoreTolerance = 1e-9;

export function createAlpacaEvalBenchmark(options: AlpacaEvalOptions | Record<string, unknown>): AlpacaEvalBenchmarkV1 {
  const { data, limit, judge, reference } = checkOptions(options as Record<string, unknown>);
  const rounds = new Map<string, ItemRound>();
  const judgeItem = (item: BenchmarkItem, answer: string) =>
    judgePair(judge, typeof item.metadata?.instruction === 'string' ? item.metadata.instruction : item.prompt, answer, metadataString(item, 'reference'));

  return {
    specificationVersion: 'v1',
    name: 'alpacaeval',
    async loadItems(): Promise<BenchmarkItem[]> {
      const records = await readRecords('alpacaeval', data, limit);
      const references = reference === undefined ? undefined : await readReferences(reference);
      return records.map((record) => itemOf(record, references, reference));
    },
    judgeAnswer: judgeItem,
    async scoreItem(item, answer) {
      const judgement = await judgeItem(item, answer);
      let round = rounds.get(item.id);
      if (!round || round.sealed) {
        round = { sealed: false, judged: [] };
        rounds.set(item.id, round);
      }
      round.judged.push({ answer, judgement });
      return judgement.win;
    },
    async details(item, answer) {
      const kept = rounds.get(item.id)?.judged.findLast((entry) => entry.answer === answer);
      const judgement = kept?.judgement ?? await judgeItem(item, answer);
      return { judge: judge.name, ...judgement };
    },
    aggregate(items, scores) {
      if (items.length !== scores.length) {
        throw new InvalidInputError(`benchmark alpacaeval: ${items.length} items but ${scores.length} scores`);
      }
      const observations: LengthObservation[] = [];
      items.forEach((item, index) => {
        const round = rounds.get(item.id);
        if (!round || round.judged.length === 0) {
          throw new InvalidInputError(`benchmark alpacaeval: item ${item.id} was not scored by this benchmark; aggregate needs the output lengths scoreItem keeps`, {
            hint: 'call scoreItem on every item (the same benchmark instance) before aggregate',
          });
        }
        const mean = round.judged.reduce((sum, { judgement }) => sum + judgement.win, 0) / round.judged.length;
        if (Math.abs(mean - scores[index]!) > scoreTolerance) {
          throw new InvalidInputError(`benchmark alpacaeval: item ${item.id} has the score ${scores[index]} but scoreItem gave its answers a mean of ${mean}`);
        }
        round.sealed = true;
        for (const { judgement } of round.judged) {
          observations.push({
            preference: judgement.win,
            lengthDifference: judgement.modelLength - judgement.referenceLength,
            weight: 1 / round.judged.length,
          });
        }
      });
      return alpacaEvalFigures(items, scores, observations);
    },
  };
}

/**
 * { overall, win_rate, standard_error, length_controlled_win_rate, n_wins, n_draws, n_total, 'win_rate/<dataset>'... }
 * from per-item preferences and the length observations of their answers (see length-control.ts).
 */
export function alpacaEvalFigures(
  items: readonly BenchmarkItem[], scores: readonly number[], observations: readonly LengthObservation[],
): Record<string, number> {
  const head = winRateFigures(scores);
  const lengthControlled = observations.length > 0 ? fitLengthControlled(observations).winRate : head.win_rate;
  const figures: Record<string, number> = {
    overall: head.win_rate,
    win_rate: head.win_rate,
    standard_error: head.standard_error,
    length_controlled_win_rate: lengthControlled,
    n_wins: head.n_wins,
    n_draws: head.n_draws,
    n_total: head.n_total,
  };
  const subsets = new Map<string, { total: number; count: number }>();
  items.forEach((item, index) => {
    const dataset = item.metadata?.dataset;
    if (typeof dataset !== 'string' || dataset === '') return;
    const entry = subsets.get(dataset) ?? { total: 0, count: 0 };
    entry.total += scores[index]!;
    entry.count++;
    subsets.set(dataset, entry);
  });
  for (const dataset of [...subsets.keys()].sort()) {
    const entry = subsets.get(dataset)!;
    figures[`win_rate/${dataset}`] = entry.total / entry.count;
  }
  return figures;
}

export const alpacaEvalBenchmarkFactory: BenchmarkFactoryV1 = {
  specificationVersion: 'v1',
  name: 'alpacaeval',
  create: (options) => createAlpacaEvalBenchmark(options),
};

// The 'ifeval' benchmark. BenchmarkV1 gives scoreItem one number per answer and aggregate only those numbers, but
// IFEval reports more than one figure per answer (loose as well as strict, each instruction on its own). So:
// - scoreItem returns the prompt-level strict result (1 when every instruction is followed strictly, else 0) and
//   records the answer's full evaluation under the item's id in this benchmark object;
// - aggregate(items, scores) takes prompt_strict (and overall) from the scores it is given, and the loose,
//   instruction-level and per-id figures from the recorded evaluations. An item's record holds every answer scored
//   since the item was last aggregated (several when answers are sampled); scoring the item again after an
//   aggregate starts a fresh record, so a run that evaluates its held-out set every few iterations never mixes
//   rounds. When a record is missing or disagrees with the score given for the item (scores that did not come from
//   this object's scoreItem), aggregate reports only overall and prompt_strict;
// - details(item, answer) returns the per-instruction strict and loose results for `lsp bench --json`.
// evaluateResponse(item, answer) gives the same evaluation without recording anything.
import {
  ConfigError, InvalidInputError, type BenchmarkFactoryV1, type BenchmarkItem, type BenchmarkV1,
} from '@lsp/core';
import { evaluatePrompt, ifevalFigures, type IfevalEvaluation } from './evaluation';
import { parseIfevalRecord, readIfevalFile, type IfevalPrompt } from './input';

export interface IfevalBenchmarkOptions {
  /** Path of IFEval's input_data.jsonl (or any file in its format). */
  data: string;
  /** Read only the first `limit` prompts. */
  limit?: number;
}

export interface IfevalBenchmark extends BenchmarkV1 {
  /** The full evaluation of one answer, without recording it for aggregate. */
  evaluate(item: BenchmarkItem, answer: string): Promise<IfevalEvaluation>;
}

/** The item a prompt becomes: id `ifeval/<key>`, the prompt as it is, the validated instructions in metadata. */
export function ifevalItem(prompt: IfevalPrompt): BenchmarkItem {
  return {
    id: `ifeval/${String(prompt.key)}`,
    prompt: prompt.prompt,
    metadata: {
      key: prompt.key,
      line: prompt.line,
      instruction_id_list: prompt.instructions.map((instruction) => instruction.id),
      kwargs: prompt.instructions.map((instruction) => instruction.kwargs),
    },
  };
}

/** The prompt behind an item; an item made elsewhere is validated as a record of the file would be. */
export function promptOfItem(item: BenchmarkItem): IfevalPrompt {
  const metadata = item.metadata ?? {};
  return parseIfevalRecord(
    { key: metadata.key ?? item.id, prompt: item.prompt, instruction_id_list: metadata.instruction_id_list, kwargs: metadata.kwargs },
    `benchmark ifeval: item ${item.id}`,
    0,
  );
}

/** Evaluates one answer to an item: every instruction's strict and loose result, and the prompt-level results. */
export async function evaluateResponse(item: BenchmarkItem, answer: string): Promise<IfevalEvaluation> {
  return evaluatePrompt(promptOfItem(item), answer);
}

/** What `lsp bench --json` keeps for one answer. */
export function evaluationDetails(evaluation: IfevalEvaluation): Record<string, unknown> {
  return {
    key: evaluation.key,
    prompt_strict: evaluation.promptStrict,
    prompt_loose: evaluation.promptLoose,
    instructions: evaluation.instructions.map(({ id, kwargs, strict, loose }) => ({ id, kwargs, strict, loose })),
  };
}

function checkOptions(options: Record<string, unknown>): IfevalBenchmarkOptions {
  const { data, limit } = options;
  if (typeof data !== 'string' || data === '') {
    throw new ConfigError('benchmark ifeval: option data (the path of input_data.jsonl) is required', {
      hint: "pass benchmarkOptions: { data: 'path/to/input_data.jsonl' }",
    });
  }
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
    throw new ConfigError(`benchmark ifeval: option limit must be a positive integer, got ${JSON.stringify(limit)}`);
  }
  return limit === undefined ? { data } : { data, limit };
}

interface ItemRecord {
  answers: { answer: string; evaluation: IfevalEvaluation }[];
  aggregated: boolean;
}

export function createIfevalBenchmark(options: IfevalBenchmarkOptions | Record<string, unknown>): IfevalBenchmark {
  const { data, limit } = checkOptions(options as Record<string, unknown>);
  const records = new Map<string, ItemRecord>();
  const prompts = new Map<string, IfevalPrompt>();

  const promptOf = (item: BenchmarkItem): IfevalPrompt => {
    const known = prompts.get(item.id);
    return known && known.prompt === item.prompt ? known : promptOfItem(item);
  };
  const evaluate = async (item: BenchmarkItem, answer: string) => evaluatePrompt(promptOf(item), answer);

  return {
    specificationVersion: 'v1',
    name: 'ifeval',
    async loadItems(): Promise<BenchmarkItem[]> {
      const read = await readIfevalFile(data, limit);
      for (const prompt of read) prompts.set(ifevalItem(prompt).id, prompt);
      return read.map(ifevalItem);
    },
    evaluate,
    async scoreItem(item: BenchmarkItem, answer: string): Promise<number> {
      const evaluation = await evaluate(item, answer);
      let record = records.get(item.id);
      if (!record || record.aggregated) {
        record = { answers: [], aggregated: false };
        records.set(item.id, record);
      }
      record.answers.push({ answer, evaluation });
      return evaluation.promptStrict ? 1 : 0;
    },
    async details(item: BenchmarkItem, answer: string): Promise<Record<string, unknown>> {
      const recorded = records.get(item.id)?.answers.find((entry) => entry.answer === answer);
      return evaluationDetails(recorded?.evaluation ?? (await evaluate(item, answer)));
    },
    aggregate(items: readonly BenchmarkItem[], scores: readonly number[]): Record<string, number> {
      if (items.length !== scores.length) {
        throw new InvalidInputError(`benchmark ifeval: ${items.length} items but ${scores.length} scores`);
      }
      const evaluations: IfevalEvaluation[][] = [];
      let complete = true;
      items.forEach((item, index) => {
        const record = records.get(item.id);
        const recorded = record?.answers.map((entry) => entry.evaluation) ?? [];
        const strict = recorded.length > 0 ? recorded.filter((e) => e.promptStrict).length / recorded.length : Number.NaN;
        if (!record || !(Math.abs(strict - scores[index]!) < 1e-9)) complete = false;
        else record.aggregated = true;
        evaluations.push(recorded);
      });
      const promptStrict = items.length > 0 ? scores.reduce((sum, score) => sum + score, 0) / items.length : 0;
      if (!complete) return { overall: promptStrict, prompt_strict: promptStrict };
      return { ...ifevalFigures(evaluations), overall: promptStrict, prompt_strict: promptStrict };
    },
  };
}

export const ifevalBenchmarkFactory: BenchmarkFactoryV1 = {
  specificationVersion: 'v1',
  name: 'ifeval',
  create: (options) => createIfevalBenchmark(options),
};

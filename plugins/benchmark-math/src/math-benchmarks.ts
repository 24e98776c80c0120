// The `gsm8k` and `math` benchmarks: read the published JSONL files, prompt with the problem, find the final
// answer in the model's free text, normalise and compare exactly; accuracy overall, by level and by type.
import {
  ConfigError, InvalidInputError, type BenchmarkFactoryV1, type BenchmarkItem, type BenchmarkV1,
} from '@lsp/core';
import { afterHashes, extractFinalAnswer, lastBoxed, numbersIn } from './extract';
import { checkFileOptions, optionalLabel, readRecords, stringField } from '@lsp/benchmark-files';
import { canonicalNumber, isEquivalentMath } from './normalize';

export interface MathBenchmarkOptions {
  /** Path of the JSONL file. */
  data: string;
  /** Only the first N items. */
  limit?: number;
  /** Text appended to each problem after a blank line ('' for the problem alone); each benchmark has a default. */
  instruction?: string;
}

export const gsm8kInstruction = 'Solve the problem step by step. Then write the final answer, a number, on the last line after "####".';
export const mathInstruction = 'Please reason step by step, and put your final answer within \\boxed{}.';

/** GSM8K: the response is right when the number it gives as its final answer equals the reference's `#### N`. */
export function scoreGsm8kResponse(response: string, reference: string): number {
  const extracted = extractFinalAnswer(response, { numeric: true });
  if (!extracted) return 0;
  const given = canonicalNumber(extracted.answer);
  return given !== undefined && given === canonicalNumber(reference) ? 1 : 0;
}

/** MATH: the response is right when its final answer equals the reference answer after normalisation. */
export function scoreMathResponse(response: string, reference: string): number {
  const extracted = extractFinalAnswer(response);
  return extracted && isEquivalentMath(extracted.answer, reference) ? 1 : 0;
}

/** The figure key of a MATH level: "Level 3" and 3 give 'level-3'. */
export function levelKey(level: string): string {
  const digits = /^\s*(?:level\s*)?(\S+)\s*$/i.exec(level);
  return `level-${(digits?.[1] ?? level).toLowerCase()}`;
}

/**
 * { overall, 'level-N'..., 'type-<Type>'... }: the share of items answered right, overall and for every level
 * and every type the items carry (the keys appear only when the file has those fields).
 */
export function aggregateAccuracy(benchmark: string, items: readonly BenchmarkItem[], scores: readonly number[]): Record<string, number> {
  if (items.length !== scores.length) {
    throw new InvalidInputError(`benchmark ${benchmark}: ${items.length} items but ${scores.length} scores`);
  }
  const groups = new Map<string, { total: number; count: number }>();
  const add = (key: string, score: number) => {
    const entry = groups.get(key) ?? { total: 0, count: 0 };
    entry.total += score;
    entry.count++;
    groups.set(key, entry);
  };
  let total = 0;
  items.forEach((item, index) => {
    const score = scores[index]!;
    total += score;
    const level = item.metadata?.level;
    if (typeof level === 'string') add(levelKey(level), score);
    const type = item.metadata?.type;
    if (typeof type === 'string') add(`type-${type}`, score);
  });
  const figures: Record<string, number> = { overall: items.length > 0 ? total / items.length : 0 };
  const keys = [...groups.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  for (const key of keys) {
    const entry = groups.get(key)!;
    figures[key] = entry.total / entry.count;
  }
  return figures;
}

function withInstruction(problem: string, instruction: string): string {
  return instruction === '' ? problem : `${problem}\n\n${instruction}`;
}

function checkInstruction(benchmark: string, options: Record<string, unknown>, fallback: string): string {
  const { instruction } = options;
  if (instruction === undefined) return fallback;
  if (typeof instruction !== 'string') {
    throw new ConfigError(`benchmark ${benchmark}: option instruction must be a string, got ${JSON.stringify(instruction)}`);
  }
  return instruction;
}

function referenceAnswer(benchmark: string, item: BenchmarkItem): string {
  const answer = item.metadata?.answer;
  if (typeof answer !== 'string') throw new InvalidInputError(`benchmark ${benchmark}: item ${item.id} has no answer in its metadata`);
  return answer;
}

/** GSM8K: JSONL of {question, answer}, the answer's worked solution ending in `#### N`. */
export function createGsm8kBenchmark(options: MathBenchmarkOptions | Record<string, unknown>): BenchmarkV1 {
  const raw = options as Record<string, unknown>;
  const { data, limit } = checkFileOptions('gsm8k', raw);
  const instruction = checkInstruction('gsm8k', raw, gsm8kInstruction);
  return {
    specificationVersion: 'v1',
    name: 'gsm8k',
    async loadItems(): Promise<BenchmarkItem[]> {
      const records = await readRecords('gsm8k', data, limit);
      return records.map((record, index) => {
        const question = stringField(record, 'question');
        const solution = stringField(record, 'answer');
        const final = afterHashes(solution);
        if (final === undefined) {
          throw new InvalidInputError(`${record.where}: field "answer" does not end in "#### N" (the final answer)`);
        }
        const number = numbersIn(final)[0];
        const answer = number === undefined ? undefined : canonicalNumber(number);
        if (answer === undefined) {
          throw new InvalidInputError(`${record.where}: field "answer": "#### ${final}" is not a number`);
        }
        return { id: `gsm8k/${index}`, prompt: withInstruction(question, instruction), metadata: { answer, question, line: record.line } };
      });
    },
    scoreItem: (item, answer) => scoreGsm8kResponse(answer, referenceAnswer('gsm8k', item)),
    aggregate: (items, scores) => aggregateAccuracy('gsm8k', items, scores),
  };
}

/**
 * MATH: JSONL of {problem, solution}, the solution's last `\boxed{...}` the answer, with optional `level`
 * ("Level 3") and `type` ("Algebra"). Files in the MATH-500 layout also work: an `answer` field is used as
 * the reference when present, `subject` stands for `type`, and `unique_id` names the item.
 */
export function createMathBenchmark(options: MathBenchmarkOptions | Record<string, unknown>): BenchmarkV1 {
  const raw = options as Record<string, unknown>;
  const { data, limit } = checkFileOptions('math', raw);
  const instruction = checkInstruction('math', raw, mathInstruction);
  return {
    specificationVersion: 'v1',
    name: 'math',
    async loadItems(): Promise<BenchmarkItem[]> {
      const records = await readRecords('math', data, limit);
      return records.map((record, index) => {
        const problem = stringField(record, 'problem');
        let answer: string | undefined;
        if (record.value.answer !== undefined) answer = stringField(record, 'answer');
        else {
          answer = lastBoxed(stringField(record, 'solution'));
          if (answer === undefined) {
            throw new InvalidInputError(`${record.where}: field "solution" has no \\boxed{...} answer`);
          }
        }
        const metadata: Record<string, unknown> = { answer, problem, line: record.line };
        const level = optionalLabel(record, 'level');
        if (level !== undefined) metadata.level = level;
        const type = optionalLabel(record, 'type') ?? optionalLabel(record, 'subject');
        if (type !== undefined) metadata.type = type;
        const uniqueId = record.value.unique_id;
        const id = typeof uniqueId === 'string' && uniqueId !== '' ? uniqueId : `math/${index}`;
        return { id, prompt: withInstruction(problem, instruction), metadata };
      });
    },
    scoreItem: (item, answer) => scoreMathResponse(answer, referenceAnswer('math', item)),
    aggregate: (items, scores) => aggregateAccuracy('math', items, scores),
  };
}

export const gsm8kBenchmarkFactory: BenchmarkFactoryV1 = {
  specificationVersion: 'v1',
  name: 'gsm8k',
  create: (options) => createGsm8kBenchmark(options),
};

export const mathBenchmarkFactory: BenchmarkFactoryV1 = {
  specificationVersion: 'v1',
  name: 'math',
  create: (options) => createMathBenchmark(options),
};

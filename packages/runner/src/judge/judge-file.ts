// `lsp judge`: any judge scores a file of (query, answer) pairs from outside a run. Reads JSONL lines
// {"query", "answer"} (optionally "metadata", an object handed to the judge), checks every line before scoring
// anything, and writes one {"score"} line per input line, in order, with "quality" and "details" when the judge
// gives them. Also: how the judge flags (--judge-model, --judge-option) become judgeOptions.
import { readFileSync } from 'node:fs';
import { ConfigError, InvalidInputError, type JudgeItem, type JudgeScore, type JudgeV1 } from '@lsp/core';

/** The judge flags of `lsp run` and `lsp judge`, applied on top of lsp.config.ts's judgeOptions. */
export interface JudgeFlags {
  /** --judge-model DIR: judgeOptions.model (the reward-model judge's folder). */
  judgeModel?: string;
  /** --judge-option key=value (repeatable): the value read as JSON when it is JSON (4, true, "x"), else as text. */
  judgeOption?: readonly string[];
}

/** key=value pairs from --judge-option, each value JSON when it parses as JSON, else the text as given. */
export function parseJudgeOptionFlags(pairs: readonly string[]): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    const key = equals > 0 ? pair.slice(0, equals).trim() : '';
    if (key === '') throw new ConfigError(`--judge-option "${pair}" is not key=value`, { hint: 'e.g. --judge-option batchSize=4' });
    const text = pair.slice(equals + 1);
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // Not JSON: a plain string such as a path.
    }
    options[key] = value;
  }
  return options;
}

/**
 * judgeOptions with the command line's flags applied: --judge-option pairs, then --judge-model as "model". The
 * reward-model judge runs on the run's backend unless its options name one.
 */
export function judgeOptionsWithFlags(
  config: { judge: string; backend: string; judgeOptions: Record<string, unknown> },
  flags: JudgeFlags,
): Record<string, unknown> {
  const options: Record<string, unknown> = { ...config.judgeOptions, ...parseJudgeOptionFlags(flags.judgeOption ?? []) };
  if (flags.judgeModel !== undefined) options.model = flags.judgeModel;
  if (config.judge === 'reward-model' && options.backend === undefined) options.backend = config.backend;
  return options;
}

/** Reads and checks the input file: one JudgeItem per non-blank line, or one line naming the file, line and field. */
export function readJudgeInput(path: string): JudgeItem[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidInputError(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
      hint: '--input takes a JSONL file of {"query", "answer"} lines',
    });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const items: JudgeItem[] = [];
  const hint = 'each line is a JSON object {"query": "...", "answer": "..."} (and optionally "metadata": {...})';
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `${path}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new InvalidInputError(`${where}: not valid JSON (${(error as Error).message})`, { hint });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidInputError(`${where}: not a JSON object`, { hint });
    const record = value as Record<string, unknown>;
    for (const field of ['query', 'answer'] as const) {
      if (!(field in record)) throw new InvalidInputError(`${where}: field "${field}" is missing`, { hint });
      if (typeof record[field] !== 'string') throw new InvalidInputError(`${where}: field "${field}" must be a string`, { hint });
    }
    const metadata = record.metadata;
    if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) {
      throw new InvalidInputError(`${where}: field "metadata" must be an object`, { hint });
    }
    items.push({
      query: record.query as string, answer: record.answer as string,
      ...(metadata !== undefined ? { metadata: metadata as Record<string, unknown> } : {}),
    });
  });
  return items;
}

/** One output line: score, then quality and details when the judge gave them. */
export function formatJudgeScore(score: JudgeScore): string {
  return JSON.stringify({
    score: score.score,
    ...(score.quality !== undefined ? { quality: score.quality } : {}),
    ...(score.details !== undefined ? { details: score.details } : {}),
  });
}

/** Scores the file's items with the judge in chunks of `chunk`, writing each line as soon as its chunk is scored. */
export async function runJudgeFile(
  judge: JudgeV1,
  path: string,
  write: (line: string) => void,
  options: { chunk?: number; signal?: AbortSignal } = {},
): Promise<number> {
  const items = readJudgeInput(path);
  const chunk = options.chunk ?? 64;
  for (let start = 0; start < items.length; start += chunk) {
    const batch = items.slice(start, start + chunk);
    const scores = await judge.doScore(batch, options.signal ? { signal: options.signal } : {});
    if (scores.length !== batch.length) {
      throw new InvalidInputError(`judge ${judge.name} returned ${scores.length} scores for ${batch.length} items`);
    }
    for (const score of scores) write(formatJudgeScore(score));
  }
  return items.length;
}

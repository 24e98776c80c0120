// `lsp bench`: one benchmark on a model's generated answers, or on answers given in a JSONL file, with progress,
// a table of figures, and (--json FILE) every item's answers and score, rewritten after each batch so an
// interrupted run keeps what it scored.
import {
  type BenchmarkItem, type BenchmarkV1, InvalidInputError, type LspConfig, PluginError, type TokenizerV1,
} from '@lsp/core';
import { loadModel } from '@lsp/model';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { chooseBackend } from '../backend-choice';
import type { PluginRegistry } from '../plugins/plugin-registry';
import { resolveModelDirectory } from './experiment';
import { chatPromptIds, iterationSeed } from './self-play-loop';

export interface BenchOptions {
  benchmark: string;
  /** The benchmark's data file (passed to its factory as `data`). */
  data?: string;
  /** A model folder (or 'builtin') whose answers are generated; not needed with `responses`. */
  model?: string;
  /** A JSONL of given answers to score instead of generating. */
  responses?: string;
  limit?: number;
  temperature: number;
  samples: number;
  maxTokens: number;
  seed: number;
  allowCodeExecution: boolean;
  /** Where to write every item's answers and score (JSON). */
  json?: string;
  /** More options for the benchmark's factory (lsp.config.ts benchmarkOptions). */
  benchmarkOptions?: Record<string, unknown>;
}

export interface BenchItemResult {
  id: string;
  prompt: string;
  answers: string[];
  score: number;
  details?: Record<string, unknown>[];
}

export interface BenchResult {
  benchmark: string;
  figures: Record<string, number>;
  items: BenchItemResult[];
  /** Items of the benchmark that had no given response (with --responses). */
  unanswered: number;
}

/** The fields a response line may name its item by, in the order they are tried, and its answer's fields. */
const keyFields = ['prompt', 'instruction', 'question', 'problem', 'task_id'] as const;
const answerFields = ['response', 'output'] as const;

/** Reads a responses JSONL: each line's key (prompt, instruction, question, problem or task_id) and answer. */
export function readResponses(path: string): { key: string; answer: string; line: number }[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidInputError(`cannot read responses ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const responses: { key: string; answer: string; line: number }[] = [];
  text.split('\n').forEach((raw, index) => {
    if (raw.trim() === '') return;
    const where = `${path}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new InvalidInputError(`${where}: not valid JSON`, { hint: 'write one JSON object per line' });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidInputError(`${where}: expected a JSON object`);
    const record = value as Record<string, unknown>;
    const keyField = keyFields.find((field) => record[field] !== undefined);
    if (!keyField) throw new InvalidInputError(`${where}: no ${keyFields.join(', ')} field to name the item`);
    const key = record[keyField];
    if (typeof key !== 'string' && typeof key !== 'number') throw new InvalidInputError(`${where}: field "${keyField}" must be a string`);
    const answerField = answerFields.find((field) => record[field] !== undefined);
    if (!answerField) throw new InvalidInputError(`${where}: no "response" (or "output") field`);
    const answer = record[answerField];
    if (typeof answer !== 'string') throw new InvalidInputError(`${where}: field "${answerField}" must be a string`);
    responses.push({ key: String(key), answer, line: index + 1 });
  });
  return responses;
}

/** Pairs given responses with benchmark items, by the item's id or its prompt. */
export function matchResponses(
  items: readonly BenchmarkItem[], responses: readonly { key: string; answer: string; line: number }[], path: string,
): { item: BenchmarkItem; answers: string[] }[] {
  const byKey = new Map<string, BenchmarkItem>();
  for (const item of items) {
    byKey.set(item.id, item);
    if (!byKey.has(item.prompt)) byKey.set(item.prompt, item);
    for (const field of keyFields) {
      const value = item.metadata?.[field];
      if (typeof value === 'string' && !byKey.has(value)) byKey.set(value, item);
    }
  }
  const answers = new Map<BenchmarkItem, string[]>();
  for (const response of responses) {
    const item = byKey.get(response.key) ?? byKey.get(response.key.trim());
    if (!item) {
      throw new InvalidInputError(`${path}:${response.line}: "${response.key.slice(0, 60)}" is not an item of the benchmark`, {
        hint: 'give the item\'s prompt or id exactly as the data file has it',
      });
    }
    answers.set(item, [...(answers.get(item) ?? []), response.answer]);
  }
  return items.filter((item) => answers.has(item)).map((item) => ({ item, answers: answers.get(item)! }));
}

/** Writes JSON to `path` through a temporary name, so a reader never sees half a file. */
function writeJsonAtomically(path: string, value: unknown): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(temporary, path);
}

const generationBatch = 32;

/** Runs the benchmark: generates (or takes) answers, scores them, and aggregates. */
export async function runBench(
  registry: PluginRegistry, config: LspConfig, options: BenchOptions, progress: (line: string) => void,
): Promise<BenchResult> {
  const factoryOptions: Record<string, unknown> = { ...config.benchmarkOptions, ...options.benchmarkOptions };
  if (options.data !== undefined) factoryOptions.data = options.data;
  if (options.limit !== undefined) factoryOptions.limit = options.limit;
  if (options.allowCodeExecution) factoryOptions.allowCodeExecution = true;
  const benchmark: BenchmarkV1 = await registry.get('benchmarks', options.benchmark).create(factoryOptions);
  let items = await benchmark.loadItems();
  if (options.limit !== undefined) items = items.slice(0, options.limit);
  if (items.length === 0) throw new InvalidInputError(`benchmark ${options.benchmark} has no items${options.data ? ` in ${options.data}` : ''}`);

  const results: BenchItemResult[] = [];
  const scored: BenchmarkItem[] = [];
  const scores: number[] = [];
  const save = (figures: Record<string, number>) => {
    if (options.json) writeJsonAtomically(options.json, { benchmark: options.benchmark, figures, items: results });
  };
  const score = async (item: BenchmarkItem, answers: string[]) => {
    let total = 0;
    const details: Record<string, unknown>[] = [];
    for (const answer of answers) {
      total += await benchmark.scoreItem(item, answer);
      if (benchmark.details) details.push(await benchmark.details(item, answer));
    }
    const mean = total / answers.length;
    scored.push(item);
    scores.push(mean);
    results.push({ id: item.id, prompt: item.prompt, answers, score: mean, ...(details.length > 0 ? { details } : {}) });
  };

  if (options.responses) {
    const pairs = matchResponses(items, readResponses(options.responses), options.responses);
    if (pairs.length === 0) throw new InvalidInputError(`${options.responses} answers none of the benchmark's items`);
    for (const [index, { item, answers }] of pairs.entries()) {
      await score(item, answers);
      if ((index + 1) % 100 === 0 || index + 1 === pairs.length) progress(`scored ${index + 1}/${pairs.length}`);
    }
    const figures = benchmark.aggregate(scored, scores);
    save(figures);
    return { benchmark: options.benchmark, figures, items: results, unanswered: items.length - pairs.length };
  }

  if (!options.model) throw new InvalidInputError('lsp bench needs --model DIR (answers to generate) or --responses FILE (answers to score)');
  const modelDirectory = await resolveModelDirectory(options.model);
  const backend = await chooseBackend(registry, config.backend);
  const tokenizerLoader = registry.components('tokenizers')[0]?.component;
  if (!tokenizerLoader) throw new PluginError('no tokenizer plugin is installed', { hint: 'install @lsp/tokenizer-wasm (bun install)' });
  // The game gives the Solver's prompt format, the same as in a run's held-out evaluation.
  const game = await registry.get('games', config.game).create({ ...config.training, ...config.gameOptions });
  const device = await backend.createDevice();
  let tokenizer: TokenizerV1 | undefined;
  try {
    tokenizer = await tokenizerLoader.load(modelDirectory);
    const policy = await loadModel(modelDirectory, { device, tokenizer });
    try {
      const draws = options.temperature > 0 ? Math.max(1, options.samples) : 1;
      const started = performance.now();
      for (let start = 0; start < items.length; start += generationBatch) {
        const batch = items.slice(start, start + generationBatch);
        const requests = batch.flatMap((item) => Array.from({ length: draws }, () => ({
          promptIds: chatPromptIds(tokenizer!, game.solverPrompt(item.prompt)),
        })));
        const generated = await policy.generate(requests, {
          maxNewTokens: options.maxTokens, temperature: options.temperature, seed: iterationSeed(options.seed, start, 0),
        });
        for (const [index, item] of batch.entries()) {
          await score(item, generated.slice(index * draws, (index + 1) * draws).map((result) => result.text.trim()));
        }
        const done = Math.min(items.length, start + generationBatch);
        const seconds = (performance.now() - started) / 1000;
        const left = (seconds / done) * (items.length - done);
        progress(`generated and scored ${done}/${items.length} items (${seconds.toFixed(0)} s, about ${left.toFixed(0)} s left)`);
        save(benchmark.aggregate(scored, scores));
      }
    } finally {
      policy.dispose();
    }
  } finally {
    tokenizer?.dispose();
    device.dispose();
  }
  const figures = benchmark.aggregate(scored, scores);
  save(figures);
  return { benchmark: options.benchmark, figures, items: results, unanswered: 0 };
}

/** The figures as a two-column table. */
export function formatFigures(figures: Record<string, number>): string {
  const names = Object.keys(figures);
  const width = Math.max(6, ...names.map((name) => name.length));
  return [`${'figure'.padEnd(width)}  value`, `${'-'.repeat(width)}  ------`,
    ...names.map((name) => `${name.padEnd(width)}  ${Number.isInteger(figures[name]) ? String(figures[name]) : figures[name]!.toFixed(4)}`)].join('\n');
}

// `lsp bench`: one benchmark on a model's generated answers, or on answers given in a JSONL file, with progress,
// a table of figures, and (--json FILE) every item's answers and score, rewritten after each batch so an
// interrupted run keeps what it scored.
import {
  type BenchmarkItem, InvalidInputError, type LspConfig, PluginError, type TokenizerV1,
} from '@lsp/core';
import { baseFolderOf, loadModel } from '@lsp/model';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseBackend } from '../backend-choice';
import type { PluginRegistry } from '../plugins/plugin-registry';
import { createBenchmark } from './benchmark-factory';
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
  /** A judge for benchmarks that need one (AlpacaEval), by name; its options come from the config's judgeOptions. */
  judge?: string;
  /** A model folder whose answers are the reference the model is compared with (AlpacaEval's baseline). */
  baseline?: string;
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
  if (options.judge !== undefined) factoryOptions.judge = options.judge;
  let benchmark = await createBenchmark(registry, config, options.benchmark, factoryOptions);
  let items = await benchmark.loadItems();
  if (options.limit !== undefined) items = items.slice(0, options.limit);
  if (items.length === 0) throw new InvalidInputError(`benchmark ${options.benchmark} has no items${options.data ? ` in ${options.data}` : ''}`);
  if (options.baseline) {
    // The baseline model's answers become the reference the benchmark compares with, kept in a file for reuse.
    const path = options.json ? `${options.json.replace(/\.json$/, '')}.baseline.jsonl` : join(mkdtempSync(join(tmpdir(), 'lsp-bench-')), 'baseline.jsonl');
    progress(`generating the baseline's answers (${options.baseline})`);
    const answers: string[] = [];
    await generateAnswers(registry, config, options.baseline, items, { ...options, samples: 1, temperature: 0 }, progress, async (_batch, generated) => {
      answers.push(...generated.map((draws) => draws[0]!));
    }, 'generated the baseline\'s answers to');
    writeFileSync(path, items.map((item, index) => JSON.stringify({ instruction: item.prompt, output: answers[index] })).join('\n') + '\n');
    progress(`the baseline's answers: ${path}`);
    benchmark = await createBenchmark(registry, config, options.benchmark, { ...factoryOptions, reference: path });
    items = await benchmark.loadItems();
    if (options.limit !== undefined) items = items.slice(0, options.limit);
  }

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
  await generateAnswers(registry, config, options.model, items, options, progress, async (batch, generated) => {
    for (const [index, item] of batch.entries()) await score(item, generated[index]!);
    save(benchmark.aggregate(scored, scores));
  });
  const figures = benchmark.aggregate(scored, scores);
  save(figures);
  return { benchmark: options.benchmark, figures, items: results, unanswered: 0 };
}

/**
 * Generates `samples` answers (or one greedy answer) to every item with a model folder, in batches, in the prompt
 * format of the config's game (as a run's held-out evaluation does); `each` gets every batch's answers.
 */
async function generateAnswers(
  registry: PluginRegistry, config: LspConfig, model: string, items: readonly BenchmarkItem[],
  options: Pick<BenchOptions, 'temperature' | 'samples' | 'maxTokens' | 'seed'>, progress: (line: string) => void,
  each: (batch: readonly BenchmarkItem[], answers: string[][]) => Promise<void>, label = 'generated and scored',
): Promise<void> {
  const modelDirectory = await resolveModelDirectory(model);
  const backend = await chooseBackend(registry, config.backend);
  const tokenizerLoader = registry.components('tokenizers')[0]?.component;
  if (!tokenizerLoader) throw new PluginError('no tokenizer plugin is installed', { hint: 'install @lsp/tokenizer-wasm (bun install)' });
  const game = await registry.get('games', config.game).create({ ...config.training, ...config.gameOptions });
  const device = await backend.createDevice();
  let tokenizer: TokenizerV1 | undefined;
  try {
    tokenizer = await tokenizerLoader.load(baseFolderOf(modelDirectory));
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
        await each(batch, batch.map((_, index) => generated.slice(index * draws, (index + 1) * draws).map((result) => result.text.trim())));
        const done = Math.min(items.length, start + generationBatch);
        const seconds = (performance.now() - started) / 1000;
        const left = (seconds / done) * (items.length - done);
        progress(`${label} ${done}/${items.length} items (${seconds.toFixed(0)} s, about ${left.toFixed(0)} s left)`);
      }
    } finally {
      policy.dispose();
    }
  } finally {
    tokenizer?.dispose();
    device.dispose();
  }
}

/** The figures as a two-column table. */
export function formatFigures(figures: Record<string, number>): string {
  const names = Object.keys(figures);
  const width = Math.max(6, ...names.map((name) => name.length));
  return [`${'figure'.padEnd(width)}  value`, `${'-'.repeat(width)}  ------`,
    ...names.map((name) => `${name.padEnd(width)}  ${Number.isInteger(figures[name]) ? String(figures[name]) : figures[name]!.toFixed(4)}`)].join('\n');
}

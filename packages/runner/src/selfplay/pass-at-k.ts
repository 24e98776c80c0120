// Pass@k of a model on a benchmark at the play temperature, with greedy accuracy beside it (`lsp eval --pass-at-k`).
// Policy-gradient training mostly turns pass@k into pass@1: where pass@16 is far above pass@1 there is room to
// sharpen; where both are near 0 no step has a correct answer to reinforce.
import { InvalidInputError, passAtK, type BenchmarkItem, type BenchmarkV1, type GameV1, type PolicyModelV1, type TokenizerV1 } from '@lsp/core';
import { chatPromptIds, iterationSeed } from './self-play-loop';

/** The k reported, those up to the number of draws per item. */
export const passAtKValues = [1, 4, 16, 64] as const;
/** Prompts per generation call. */
const passAtKBatch = 128;
/** Seed streams, so the greedy and the sampled passes never share a seed. */
const streams = { greedy: 1, sampled: 2 } as const;

export interface PassAtKOptions {
  /** Draws per item at `temperature`. */
  samples: number;
  temperature: number;
  seed: number;
  maxNewTokens: number;
  /** Called after every generation call with answers done so far and in all (greedy ones included). */
  onProgress?: (done: number, total: number) => void;
}

/** One item's outcome: its correct draws out of `samples`, and whether the greedy answer was correct. */
export interface PassAtKItem {
  id: string;
  level?: number;
  correct: number;
  greedy: boolean;
}

export interface PassAtKGroup {
  items: number;
  greedy: number;
  /** 'pass@1', 'pass@4', ...: the mean over the group's items of the unbiased estimate. */
  passAtK: Record<string, number>;
}

export interface PassAtKFigures {
  benchmark: string;
  samples: number;
  temperature: number;
  seed: number;
  maxNewTokens: number;
  ks: number[];
  /** 'overall', then 'level-N' for benchmarks whose items carry a numeric metadata.level. */
  groups: Record<string, PassAtKGroup>;
  items: PassAtKItem[];
}

function levelOf(item: BenchmarkItem): number | undefined {
  const level = item.metadata?.level;
  return typeof level === 'number' ? level : undefined;
}

/** Answers every prompt once per request in `prompts`, in batches, and returns whether each was fully correct. */
async function correctAnswers(
  policy: PolicyModelV1, tokenizer: TokenizerV1, game: GameV1, benchmark: BenchmarkV1, requests: readonly BenchmarkItem[],
  generation: { maxNewTokens: number; temperature: number; seed: number; stream: number },
  progress: (answered: number) => void,
): Promise<boolean[]> {
  const correct: boolean[] = [];
  for (let start = 0; start < requests.length; start += passAtKBatch) {
    const batch = requests.slice(start, start + passAtKBatch);
    const results = await policy.generate(
      batch.map((item) => ({ promptIds: chatPromptIds(tokenizer, game.solverPrompt(item.prompt)) })),
      { maxNewTokens: generation.maxNewTokens, temperature: generation.temperature, seed: iterationSeed(generation.seed, start, generation.stream) },
    );
    for (const [at, item] of batch.entries()) {
      // A pass is a full score: partial credit (a benchmark scoring in [0, 1]) does not count as a correct draw.
      correct.push((await benchmark.scoreItem(item, results[at]!.text.trim())) >= 1);
    }
    progress(batch.length);
  }
  return correct;
}

/** Pass@k figures from each item's correct draws: per level and overall, every k up to `samples`. */
export function summarisePassAtK(items: readonly PassAtKItem[], samples: number): { ks: number[]; groups: Record<string, PassAtKGroup> } {
  const ks = passAtKValues.filter((k) => k <= samples);
  const members = new Map<string, PassAtKItem[]>([['overall', [...items]]]);
  const levels = [...new Set(items.map((item) => item.level).filter((level): level is number => level !== undefined))].sort((a, b) => a - b);
  for (const level of levels) members.set(`level-${level}`, items.filter((item) => item.level === level));
  const groups: Record<string, PassAtKGroup> = {};
  for (const [name, group] of members) {
    const count = group.length;
    const mean = (values: number[]): number => (count === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / count);
    groups[name] = {
      items: count,
      greedy: mean(group.map((item) => Number(item.greedy))),
      passAtK: Object.fromEntries(ks.map((k) => [`pass@${k}`, mean(group.map((item) => passAtK(samples, item.correct, k)))])),
    };
  }
  return { ks, groups };
}

/** Greedy answers and `samples` draws per item at `temperature`, scored by the benchmark, summarised as pass@k. */
export async function evaluatePassAtK(
  policy: PolicyModelV1, tokenizer: TokenizerV1, game: GameV1, benchmark: BenchmarkV1, options: PassAtKOptions,
): Promise<PassAtKFigures> {
  if (!Number.isInteger(options.samples) || options.samples < 1) throw new InvalidInputError(`pass@k needs at least 1 draw per item, got ${options.samples}`);
  if (!(options.temperature > 0)) throw new InvalidInputError(`pass@k draws at a temperature above 0, got ${options.temperature}`);
  const items = await benchmark.loadItems();
  const total = items.length * (options.samples + 1);
  let done = 0;
  const progress = (answered: number): void => {
    done += answered;
    options.onProgress?.(done, total);
  };
  const greedy = await correctAnswers(policy, tokenizer, game, benchmark, items,
    { maxNewTokens: options.maxNewTokens, temperature: 0, seed: options.seed, stream: streams.greedy }, progress);
  const draws = items.flatMap((item) => Array.from({ length: options.samples }, () => item));
  const sampled = await correctAnswers(policy, tokenizer, game, benchmark, draws,
    { maxNewTokens: options.maxNewTokens, temperature: options.temperature, seed: options.seed, stream: streams.sampled }, progress);
  const outcomes: PassAtKItem[] = items.map((item, index) => {
    let correct = 0;
    for (let draw = 0; draw < options.samples; draw++) if (sampled[index * options.samples + draw]) correct++;
    const level = levelOf(item);
    return { id: item.id, ...(level !== undefined ? { level } : {}), correct, greedy: greedy[index]! };
  });
  return {
    benchmark: benchmark.name,
    samples: options.samples,
    temperature: options.temperature,
    seed: options.seed,
    maxNewTokens: options.maxNewTokens,
    ...summarisePassAtK(outcomes, options.samples),
    items: outcomes,
  };
}

/** The figures as a table: one row per group (levels, then overall), greedy accuracy then pass@k for each k. */
export function formatPassAtKTable(figures: PassAtKFigures): string[] {
  const header = ['group', 'items', 'greedy', ...figures.ks.map((k) => `pass@${k}`)];
  const names = [...Object.keys(figures.groups).filter((name) => name !== 'overall'), 'overall'];
  const rows = names.map((name) => {
    const group = figures.groups[name]!;
    return [name, String(group.items), group.greedy.toFixed(4), ...figures.ks.map((k) => group.passAtK[`pass@${k}`]!.toFixed(4))];
  });
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]): string => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(header), ...rows.map(line)];
}

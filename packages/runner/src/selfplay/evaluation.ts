// Held-out evaluation of a model folder outside a run (`lsp eval`), with the run's own prompt format: the score
// greedy or sampled, or pass@k at the play temperature beside greedy accuracy.
import { InvalidInputError, PluginError, type BenchmarkItem, type BenchmarkV1, type GameV1, type LspConfig, type PolicyModelV1, type TokenizerV1 } from '@lsp/core';
import { baseFolderOf, loadModel } from '@lsp/model';
import { chooseBackend } from '../backend-choice';
import type { PluginRegistry } from '../plugins/plugin-registry';
import { createBenchmark } from './benchmark-factory';
import { resolveModelDirectory } from './experiment';
import { evaluatePassAtK, type PassAtKFigures, type PassAtKOptions } from './pass-at-k';
import { evaluateBenchmark, greedyEvaluation, type EvaluationSampling } from './self-play-loop';

export interface CheckpointParts {
  policy: PolicyModelV1;
  tokenizer: TokenizerV1;
  /** The game gives the Solver's prompt format and the play temperature, the same as during the run. */
  game: GameV1;
  benchmark: BenchmarkV1;
}

/** The first `limit` items of every level (metadata.level; items without one count as one level), in order. */
export function firstItemsPerLevel(items: readonly BenchmarkItem[], limit: number): BenchmarkItem[] {
  const taken = new Map<unknown, number>();
  return items.filter((item) => {
    const level = item.metadata?.level;
    const count = taken.get(level) ?? 0;
    taken.set(level, count + 1);
    return count < limit;
  });
}

/** The benchmark with only the first `limit` items of every level; scoring and aggregation are its own. */
export function limitedBenchmark(benchmark: BenchmarkV1, limit: number | undefined): BenchmarkV1 {
  if (limit === undefined) return benchmark;
  return {
    specificationVersion: benchmark.specificationVersion,
    name: benchmark.name,
    loadItems: async () => firstItemsPerLevel(await benchmark.loadItems(), limit),
    scoreItem: (item, answer) => benchmark.scoreItem(item, answer),
    aggregate: (items, scores) => benchmark.aggregate(items, scores),
  };
}

/** Loads the model folder with the run's game and benchmark, hands them to `use`, and releases them after. */
async function withCheckpoint<T>(
  registry: PluginRegistry, config: LspConfig, model: string, limit: number | undefined,
  use: (parts: CheckpointParts) => Promise<T>,
): Promise<T> {
  const modelDirectory = await resolveModelDirectory(model);
  const backend = await chooseBackend(registry, config.backend);
  const tokenizerLoader = registry.components('tokenizers')[0]?.component;
  if (!tokenizerLoader) throw new PluginError('no tokenizer plugin is installed', { hint: 'install @lsp/tokenizer-wasm (bun install)' });
  const game = await registry.get('games', config.game).create({ ...config.training, ...config.gameOptions });
  const benchmark = limitedBenchmark(await createBenchmark(registry, config, config.benchmark, config.benchmarkOptions), limit);
  const device = await backend.createDevice();
  const tokenizer = await tokenizerLoader.load(baseFolderOf(modelDirectory));
  try {
    const policy = await loadModel(modelDirectory, { device, tokenizer });
    try {
      return await use({ policy, tokenizer, game, benchmark });
    } finally {
      policy.dispose();
    }
  } finally {
    tokenizer.dispose();
    device.dispose();
  }
}

export async function evaluateCheckpoint(
  registry: PluginRegistry, config: LspConfig, model: string, maxNewTokens: number,
  sampling: EvaluationSampling = greedyEvaluation, limit?: number,
): Promise<Record<string, number>> {
  return withCheckpoint(registry, config, model, limit, ({ policy, tokenizer, game, benchmark }) =>
    evaluateBenchmark(policy, tokenizer, game, benchmark, maxNewTokens, sampling));
}

/** Pass@k and greedy accuracy of a model folder; the temperature defaults to the game's play temperature. */
export async function passAtKOfCheckpoint(
  registry: PluginRegistry, config: LspConfig, model: string,
  options: Omit<PassAtKOptions, 'temperature'> & { temperature?: number; limit?: number },
): Promise<PassAtKFigures> {
  const { limit, temperature: chosenTemperature, ...passAtKOptions } = options;
  return withCheckpoint(registry, config, model, limit, ({ policy, tokenizer, game, benchmark }) => {
    const temperature = chosenTemperature ?? game.settings.temperature;
    if (!(temperature > 0)) {
      throw new InvalidInputError(`pass@k draws answers at a temperature above 0, but the play temperature is ${temperature}`, {
        hint: 'pass --temperature T with T above 0',
      });
    }
    return evaluatePassAtK(policy, tokenizer, game, benchmark, { ...passAtKOptions, temperature });
  });
}

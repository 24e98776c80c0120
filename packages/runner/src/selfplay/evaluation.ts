// Held-out evaluation of a model folder outside a run (`lsp eval`), with the run's own prompt format.
import { PluginError, type LspConfig } from '@lsp/core';
import { loadModel } from '@lsp/model';
import { chooseBackend } from '../backend-choice';
import type { PluginRegistry } from '../plugins/plugin-registry';
import { createBenchmark } from './benchmark-factory';
import { resolveModelDirectory } from './experiment';
import { evaluateBenchmark, greedyEvaluation, type EvaluationSampling } from './self-play-loop';

export async function evaluateCheckpoint(
  registry: PluginRegistry, config: LspConfig, model: string, maxNewTokens: number,
  sampling: EvaluationSampling = greedyEvaluation,
): Promise<Record<string, number>> {
  const modelDirectory = await resolveModelDirectory(model);
  const backend = await chooseBackend(registry, config.backend);
  const tokenizerLoader = registry.components('tokenizers')[0]?.component;
  if (!tokenizerLoader) throw new PluginError('no tokenizer plugin is installed', { hint: 'install @lsp/tokenizer-wasm (bun install)' });
  // The game gives the Solver's prompt format, the same as during the run.
  const game = await registry.get('games', config.game).create({ ...config.training, ...config.gameOptions });
  const benchmark = await createBenchmark(registry, config, config.benchmark, config.benchmarkOptions);
  const device = await backend.createDevice();
  const tokenizer = await tokenizerLoader.load(modelDirectory);
  try {
    const policy = await loadModel(modelDirectory, { device, tokenizer });
    try {
      return await evaluateBenchmark(policy, tokenizer, game, benchmark, maxNewTokens, sampling);
    } finally {
      policy.dispose();
    }
  } finally {
    tokenizer.dispose();
    device.dispose();
  }
}

// A benchmark from its factory, with the options that name other components resolved to them.
import type { BenchmarkV1, LspConfig } from '@lsp/core';
import type { PluginRegistry } from '../plugins/plugin-registry';

/**
 * Creates a benchmark from its factory; a `judge` option given by name becomes that judge (created with the
 * config's judgeOptions), for benchmarks that compare answers with a judge (AlpacaEval).
 */
export async function createBenchmark(
  registry: PluginRegistry, config: LspConfig, name: string, options: Record<string, unknown>,
): Promise<BenchmarkV1> {
  const resolved = { ...options };
  if (typeof resolved.judge === 'string') resolved.judge = await registry.get('judges', resolved.judge).create(config.judgeOptions);
  return registry.get('benchmarks', name).create(resolved);
}

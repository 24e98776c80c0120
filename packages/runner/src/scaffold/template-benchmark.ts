// `lsp new benchmark <name>`: a benchmark of a few fixed items scored by exact match and aggregated overall and by
// category. The items are world tasks, so the built-in model answers some of them in the package's own test.
import type { KindTemplate, TemplateNames } from './plugin-template';

export function benchmarkTemplate({ name, packageName, factory, pascal }: TemplateNames): KindTemplate {
  const source = `// ${packageName}: an LSP plugin contributing the "${name}" benchmark.
import { ConfigError, InvalidInputError, type BenchmarkFactoryV1, type BenchmarkItem, type BenchmarkV1, type PluginV1 } from '@lsp/core';

/** The items: a prompt, its exact answer and a category. Replace with your own, or read them from a file. */
export const ${factory}Items: readonly BenchmarkItem[] = [
  { id: 'text-1', prompt: 'reverse abc', metadata: { answer: 'cba', category: 'text' } },
  { id: 'text-2', prompt: 'upper hello', metadata: { answer: 'HELLO', category: 'text' } },
  { id: 'text-3', prompt: 'sort banana', metadata: { answer: 'aaabnn', category: 'text' } },
  { id: 'text-4', prompt: 'repeat 2 ab', metadata: { answer: 'abab', category: 'text' } },
  { id: 'number-1', prompt: 'add 12 7', metadata: { answer: '19', category: 'number' } },
  { id: 'number-2', prompt: 'mul 6 7', metadata: { answer: '42', category: 'number' } },
  { id: 'number-3', prompt: 'count hello', metadata: { answer: '5', category: 'number' } },
  { id: 'number-4', prompt: 'add 3 count hello', metadata: { answer: '8', category: 'number' } },
];

export interface ${pascal}Options {
  /** Only the items of these categories (default all). */
  categories?: readonly string[];
}

function field(item: BenchmarkItem, key: 'answer' | 'category'): string {
  const value = item.metadata?.[key];
  if (typeof value !== 'string') throw new InvalidInputError(\`benchmark ${name}: item \${item.id} has no \${key} in its metadata\`);
  return value;
}

/** Exact answers score 1 (after trimming), anything else 0; figures are the mean overall and per category. */
export function create${pascal}Benchmark(options: ${pascal}Options = {}): BenchmarkV1 {
  const known = [...new Set(${factory}Items.map((item) => field(item, 'category')))];
  const categories = options.categories ?? known;
  for (const category of categories) {
    if (!known.includes(category)) {
      throw new ConfigError(\`benchmark ${name}: no category "\${category}"\`, { hint: \`the categories are \${known.join(', ')}\` });
    }
  }
  return {
    specificationVersion: 'v1',
    name: '${name}',
    async loadItems() {
      return ${factory}Items.filter((item) => categories.includes(field(item, 'category')));
    },
    scoreItem(item, answer) {
      return answer.trim() === field(item, 'answer') ? 1 : 0;
    },
    aggregate(items, scores) {
      if (items.length !== scores.length) throw new InvalidInputError(\`benchmark ${name}: \${items.length} items but \${scores.length} scores\`);
      const mean = (values: number[]) => (values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length);
      const figures: Record<string, number> = { overall: mean([...scores]) };
      for (const category of categories) {
        figures[category] = mean(scores.filter((_, index) => field(items[index]!, 'category') === category));
      }
      return figures;
    },
  };
}

const benchmarkFactory: BenchmarkFactoryV1 = {
  specificationVersion: 'v1',
  name: '${name}',
  create: (options) => create${pascal}Benchmark(options as ${pascal}Options),
};

/** The plugin factory: list \`${factory}()\` in lsp.config.ts, or pass \`--plugin ${name}\`. */
export default function ${factory}(): PluginV1 {
  return {
    specificationVersion: 'v1',
    name: '${packageName}',
    version: '0.1.0',
    benchmarks: [benchmarkFactory],
  };
}
`;
  const test = `// Tests of the ${name} benchmark: scoring and aggregation by hand, then the built-in world's model answering it
// (@lsp/testing scores it as \`lsp eval\` does, and plays a self-play iteration with it as the held-out score).
import { playGame, scoreBenchmark } from '@lsp/testing';
import { describe, expect, test } from 'bun:test';
import ${factory}, { create${pascal}Benchmark } from './index';

describe('${packageName}', () => {
  test('is a v1 plugin with one benchmark', () => {
    expect(${factory}().benchmarks?.map((benchmark) => benchmark.name)).toEqual(['${name}']);
  });

  test('scores exact answers 1 and aggregates by category', async () => {
    const benchmark = create${pascal}Benchmark();
    const items = await benchmark.loadItems();
    const scores = await Promise.all(items.map((item) => benchmark.scoreItem(item, item.id === 'text-1' ? ' cba ' : 'wrong')));
    expect(scores.filter((score) => score === 1)).toHaveLength(1);
    expect(benchmark.aggregate(items, scores)).toEqual({ overall: 1 / 8, text: 1 / 4, number: 0 });
  });

  test('refuses an unknown category in one line', () => {
    expect(() => create${pascal}Benchmark({ categories: ['poetry'] })).toThrow('benchmark ${name}: no category "poetry"');
  });

  test("the built-in world's model answers it: figures overall and per category, within [0, 1]", async () => {
    const figures = await scoreBenchmark({ plugins: [${factory}()], benchmark: '${name}' });
    expect(Object.keys(figures).sort()).toEqual(['number', 'overall', 'text']);
    for (const value of Object.values(figures)) expect(value >= 0 && value <= 1).toBe(true);
  });

  test('is the held-out score of a self-play run: at the start and after the last iteration', async () => {
    const { metrics } = await playGame({ plugins: [${factory}()], benchmark: '${name}', iterations: 1 });
    expect(metrics.filter((m) => m.heldOutScore !== undefined).map((m) => m.iteration)).toEqual([0, 1]);
  });
});
`;
  const readme = `## The benchmark

\`${name}\` holds eight items (\`${factory}Items\` in src/index.ts: world tasks in two categories), scores an answer 1
when it equals the item's answer after trimming, and reports the mean \`overall\` and per category. Option
\`categories\` keeps only some. Replace the items and the rule with yours: a benchmark loads its items
(\`{ id, prompt, metadata }\`), scores one answer in [0, 1] and aggregates the scores into named figures. The runner
asks each prompt as the Solver's user message, greedily; a run records \`overall\` as its held-out score (and
figures named \`level-N\` by level), \`bun lsp eval\` prints every figure.`;
  return {
    describes: `the "${name}" benchmark`,
    lspDependencies: [],
    lspDevDependencies: ['@lsp/testing'],
    source,
    test,
    readme,
    configField: `benchmark: '${name}'`,
    commandLine: `bun lsp eval --plugin ${name} --benchmark ${name} --checkpoint runs/<run>`,
  };
}

// The files of a new plugin package, as written by `lsp new plugin <name>`.

export interface PluginTemplateOptions {
  /** Short name: `lsp new plugin word-count` makes lsp-plugin-word-count. */
  name: string;
  /** How the package depends on @lsp/core: a version range, or file:<path> inside an LSP checkout. */
  coreDependency: string;
}

export function pluginPackageName(name: string): string {
  return `lsp-plugin-${name}`;
}

function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

export function pluginTemplateFiles(options: PluginTemplateOptions): Record<string, string> {
  const packageName = pluginPackageName(options.name);
  const factory = camelCase(options.name);
  const packageJson = {
    name: packageName,
    version: '0.1.0',
    description: `An LSP plugin that adds the "${options.name}" judge.`,
    type: 'module',
    keywords: ['lsp-plugin'],
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
    files: ['dist'],
    scripts: {
      build: 'tsup src/index.ts --format esm --dts --clean',
      typecheck: 'tsc --noEmit',
      test: 'bun test',
    },
    peerDependencies: { '@lsp/core': '>=0.1.0' },
    devDependencies: {
      '@lsp/core': options.coreDependency,
      '@types/bun': '1.4.5',
      tsup: '8.5.0',
      typescript: '5.9.3',
    },
  };
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'Bundler',
      strict: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: true,
      declaration: true,
      verbatimModuleSyntax: true,
      types: ['bun'],
    },
    include: ['src'],
  };
  const index = `// ${packageName}: an LSP plugin contributing the "${options.name}" judge.
import type { JudgeFactoryV1, JudgeItem, JudgeScore, JudgeV1, PluginV1 } from '@lsp/core';

export interface ${capitalise(factory)}Options {
  /** Answers longer than this many characters score 0. */
  maxCharacters?: number;
}

/** Scores 1 when the answer is non-empty and within the length limit, else 0. Replace with your own rule. */
export function create${capitalise(factory)}Judge(options: ${capitalise(factory)}Options = {}): JudgeV1 {
  const maxCharacters = options.maxCharacters ?? 2000;
  return {
    specificationVersion: 'v1',
    name: '${options.name}',
    async doScore(items: readonly JudgeItem[]): Promise<JudgeScore[]> {
      return items.map((item) => {
        const answer = item.answer.trim();
        const ok = answer.length > 0 && answer.length <= maxCharacters;
        return { score: ok ? 1 : 0, details: { characters: answer.length } };
      });
    },
  };
}

const judgeFactory: JudgeFactoryV1 = {
  specificationVersion: 'v1',
  name: '${options.name}',
  create: (options) => create${capitalise(factory)}Judge(options as ${capitalise(factory)}Options),
};

/** The plugin factory: list \`${factory}()\` in lsp.config.ts, or pass \`--plugin ${options.name}\`. */
export default function ${factory}(): PluginV1 {
  return {
    specificationVersion: 'v1',
    name: '${packageName}',
    version: '0.1.0',
    judges: [judgeFactory],
  };
}
`;
  const test = `// Tests of the ${options.name} plugin: its shape, and its judge on answers that should pass and fail.
import { describe, expect, test } from 'bun:test';
import ${factory}, { create${capitalise(factory)}Judge } from './index';

describe('${packageName}', () => {
  test('is a v1 plugin with one judge', () => {
    const plugin = ${factory}();
    expect(plugin.specificationVersion).toBe('v1');
    expect(plugin.name).toBe('${packageName}');
    expect(plugin.judges?.map((judge) => judge.name)).toEqual(['${options.name}']);
  });

  test('scores non-empty answers within the limit as 1 and others as 0', async () => {
    const judge = create${capitalise(factory)}Judge({ maxCharacters: 5 });
    const scores = await judge.doScore(
      [
        { query: 'q', answer: 'hello' },
        { query: 'q', answer: '   ' },
        { query: 'q', answer: 'too long' },
      ],
      {},
    );
    expect(scores.map((entry) => entry.score)).toEqual([1, 0, 0]);
  });
});
`;
  const readme = `# ${packageName}

An LSP plugin that adds the \`${options.name}\` judge.

\`\`\`sh
bun install && bun run build && bun test
\`\`\`

Use it in \`lsp.config.ts\`:

\`\`\`ts
import { defineConfig } from '@lsp/core';
import ${factory} from '${packageName}';

export default defineConfig({ plugins: [${factory}()], judge: '${options.name}' });
\`\`\`

or on the command line: \`bun lsp run --plugin ${options.name} --judge ${options.name}\`.
Publish it to npm with the \`lsp-plugin\` keyword (already in package.json) so \`bun lsp plugins\` finds it.
`;
  return {
    'package.json': `${JSON.stringify(packageJson, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify(tsconfig, null, 2)}\n`,
    'src/index.ts': index,
    'src/index.test.ts': test,
    'README.md': readme,
    '.gitignore': 'node_modules/\ndist/\n',
  };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

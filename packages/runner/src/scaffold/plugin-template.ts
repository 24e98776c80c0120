// The files of a new plugin package, as written by `lsp new plugin|game|judge|benchmark|backend <name>`: what every
// kind shares (package.json, tsconfig.json, README.md, .gitignore) and, from template-<kind>.ts, its source and test.
import { specificationCoreRanges } from '@lsp/core';
import { backendTemplate } from './template-backend';
import { benchmarkTemplate } from './template-benchmark';
import { gameTemplate } from './template-game';
import { judgeTemplate, pluginTemplate } from './template-judge';

export const pluginKinds = ['plugin', 'game', 'judge', 'benchmark', 'backend'] as const;
export type PluginKind = (typeof pluginKinds)[number];

/** The names a template writes, all derived from the short name. */
export interface TemplateNames {
  /** Short name: `lsp new game hard-queries` -> 'hard-queries' (the component's name). */
  name: string;
  /** 'lsp-plugin-hard-queries'. */
  packageName: string;
  /** 'hardQueries': the plugin factory. */
  factory: string;
  /** 'HardQueries': types and classes. */
  pascal: string;
}

/** What a kind contributes beyond the shared files. */
export interface KindTemplate {
  /** The sentence's object: 'the "x" game'. */
  describes: string;
  /** @lsp packages the plugin imports at run time (dependencies), besides @lsp/core (a peer). */
  lspDependencies: string[];
  /** @lsp packages its test uses (devDependencies), besides @lsp/core. */
  lspDevDependencies: string[];
  /** src/index.ts. */
  source: string;
  /** src/index.test.ts. */
  test: string;
  /** README.md's section on what the component does and how to change it. */
  readme: string;
  /** How it is enabled in lsp.config.ts and on the command line. */
  configField: string;
  commandLine: string;
}

export interface PluginTemplateOptions {
  kind: PluginKind;
  name: string;
  /** How the package depends on each @lsp package: a version range, or link:<folder> inside an LSP checkout. */
  lspSpecifiers: Record<string, string>;
}

export function pluginPackageName(name: string): string {
  return `lsp-plugin-${name}`;
}

export function templateNames(name: string): TemplateNames {
  const factory = name.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
  return { name, packageName: pluginPackageName(name), factory, pascal: factory.charAt(0).toUpperCase() + factory.slice(1) };
}

export function kindTemplate(kind: PluginKind, names: TemplateNames): KindTemplate {
  switch (kind) {
    case 'plugin': return pluginTemplate(names);
    case 'judge': return judgeTemplate(names);
    case 'game': return gameTemplate(names);
    case 'benchmark': return benchmarkTemplate(names);
    case 'backend': return backendTemplate(names);
  }
}

/** Every @lsp package a kind's package.json names, for the specifiers the caller must supply. */
export function lspPackagesOf(kind: PluginKind): string[] {
  const template = kindTemplate(kind, templateNames('x'));
  return ['@lsp/core', ...template.lspDependencies, ...template.lspDevDependencies];
}

function sorted(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

export function pluginTemplateFiles(options: PluginTemplateOptions): Record<string, string> {
  const names = templateNames(options.name);
  const template = kindTemplate(options.kind, names);
  const specifier = (name: string) => {
    const value = options.lspSpecifiers[name];
    if (value === undefined) throw new Error(`no version specifier for ${name}`);
    return value;
  };
  const dependencies = sorted(Object.fromEntries(template.lspDependencies.map((name) => [name, specifier(name)])));
  const packageJson = {
    name: names.packageName,
    version: '0.1.0',
    description: `An LSP plugin that adds ${template.describes}.`,
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
    // The specification's range on the core, not one release: later cores keep loading v1 plugins.
    peerDependencies: { '@lsp/core': specificationCoreRanges.v1 },
    ...(Object.keys(dependencies).length > 0 ? { dependencies } : {}),
    devDependencies: sorted({
      '@lsp/core': specifier('@lsp/core'),
      ...Object.fromEntries(template.lspDevDependencies.map((name) => [name, specifier(name)])),
      '@types/bun': '1.4.5',
      tsup: '8.5.0',
      typescript: '5.9.3',
    }),
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
  const readme = `# ${names.packageName}

An LSP plugin that adds ${template.describes}.

\`\`\`sh
bun install && bun run build && bun test
\`\`\`

${template.readme}

## Using it

Install it beside LSP (\`bun add ${names.packageName}\`, or \`bun add /path/to/${names.packageName}\` before it is
published), then list it in \`lsp.config.ts\`:

\`\`\`ts
import { defineConfig } from '@lsp/core';
import ${names.factory} from '${names.packageName}';

export default defineConfig({ plugins: [${names.factory}()], ${template.configField} });
\`\`\`

or name it on the command line: \`${template.commandLine}\`. \`bun lsp plugins\` lists it with its source.

## Publishing

\`npm publish\` (after \`bun run build\`; \`files\` ships \`dist/\` only). Keep the \`lsp-plugin-\` prefix and the
\`lsp-plugin\` keyword (both in package.json): they are how \`bun lsp plugins\` finds an installed plugin and how
\`--plugin ${names.name}\` resolves. The peer dependency on \`@lsp/core\` is the range of cores that implement
specification v1; raise its lower bound if you use something added to v1 later. See LSP's docs/plugins.md.
`;
  return {
    'package.json': `${JSON.stringify(packageJson, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify(tsconfig, null, 2)}\n`,
    'src/index.ts': template.source,
    'src/index.test.ts': template.test,
    'README.md': readme,
    '.gitignore': 'node_modules/\ndist/\n',
  };
}

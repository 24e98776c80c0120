// The templates of `lsp new`: every kind's package.json, sources that parse, and dependencies on the checkout's own
// packages. Installing, building and testing the packages is tests/scaffold.test.ts.
import { specificationCoreRanges } from '@lsp/core';
import { describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lspDependencySpecifiers, pluginNamePattern } from './new-plugin';
import { lspPackagesOf, pluginKinds, pluginTemplateFiles, templateNames } from './plugin-template';

const transpiler = new Bun.Transpiler({ loader: 'ts' });

describe('plugin templates', () => {
  test.each([...pluginKinds])('%s: a package lsp-plugin-<name> with the keyword, the v1 peer range and parsing sources', (kind) => {
    const specifiers = Object.fromEntries(lspPackagesOf(kind).map((name) => [name, '^9.9.9']));
    const files = pluginTemplateFiles({ kind, name: 'hard-queries', lspSpecifiers: specifiers });
    expect(Object.keys(files).sort()).toEqual(['.gitignore', 'README.md', 'package.json', 'src/index.test.ts', 'src/index.ts', 'tsconfig.json']);
    const manifest = JSON.parse(files['package.json']!);
    expect(manifest.name).toBe('lsp-plugin-hard-queries');
    expect(manifest.keywords).toEqual(['lsp-plugin']);
    expect(manifest.peerDependencies).toEqual({ '@lsp/core': specificationCoreRanges.v1 });
    expect(manifest.devDependencies['@lsp/core']).toBe('^9.9.9');
    expect(manifest.scripts.build).toContain('tsup');
    for (const dependency of Object.keys(manifest.dependencies ?? {})) expect(dependency.startsWith('@lsp/')).toBe(true);
    if (kind !== 'plugin') expect(manifest.devDependencies['@lsp/testing']).toBe('^9.9.9');
    for (const source of [files['src/index.ts']!, files['src/index.test.ts']!]) expect(() => transpiler.transformSync(source)).not.toThrow();
    expect(files['src/index.ts']).toContain("export default function hardQueries(): PluginV1");
    expect(files['README.md']).toContain('--plugin hard-queries');
  });

  test('names become identifiers: dashes to camel case', () => {
    expect(templateNames('hard-queries-2')).toEqual({ name: 'hard-queries-2', packageName: 'lsp-plugin-hard-queries-2', factory: 'hardQueries2', pascal: 'HardQueries2' });
    for (const name of ['x', 'word-count', 'r0']) expect(pluginNamePattern.test(name)).toBe(true);
    for (const name of ['Word', '9lives', '-x', 'x-', 'two--dashes', 'under_score', '']) expect(pluginNamePattern.test(name)).toBe(false);
  });

  test('inside a checkout, @lsp packages are links to its workspace folders', () => {
    const specifiers = lspDependencySpecifiers(['@lsp/core', '@lsp/testing', '@lsp/game-lsp', '@lsp/oracle']);
    for (const [name, specifier] of Object.entries(specifiers)) {
      expect(specifier).toStartWith('link:/');
      const folder = specifier.slice('link:'.length);
      expect(existsSync(join(folder, 'package.json'))).toBe(true);
      expect((JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { name: string }).name).toBe(name);
    }
  });
});

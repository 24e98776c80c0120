// Plugin loading: resolution by convention and path, and every refusal with its one-line message.
import { PluginError } from '@lsp/core';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { candidatePackageNames, discoverInstalledPlugins } from './plugin-resolution';
import { importPlugin, loadPlugins } from './plugin-registry';
import { validatePlugin } from './plugin-validation';

let directory: string;

const judge = `{ specificationVersion: 'v1', name: 'always-one', create: () => ({ specificationVersion: 'v1', name: 'always-one', doScore: async (items) => items.map(() => ({ score: 1 })) }) }`;

function writePlugin(relativePath: string, source: string): string {
  const path = join(directory, relativePath);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, source);
  return path;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(PluginError.isInstance(error)).toBe(true);
    const line = (error as PluginError).toLine();
    expect(line).not.toContain('\n');
    return line;
  }
  throw new Error('expected a refusal');
}

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'lsp-plugins-'));
  writePlugin('good.ts', `export default () => ({ specificationVersion: 'v1', name: 'good', version: '1.2.3', judges: [${judge}] });`);
  writePlugin('object-export.ts', `export default { specificationVersion: 'v1', name: 'object', version: '1.0.0' };`);
  writePlugin('future.ts', `export default () => ({ specificationVersion: 'v2', name: 'future', version: '9.0.0' });`);
  writePlugin('no-version.ts', `export default () => ({ specificationVersion: 'v1', name: 'no-version' });`);
  writePlugin('bad-component.ts', `export default () => ({ specificationVersion: 'v1', name: 'bad', version: '1.0.0', judges: [{ specificationVersion: 'v1', name: 'broken', create: 42 }] });`);
  writePlugin('not-array.ts', `export default () => ({ specificationVersion: 'v1', name: 'not-array', version: '1.0.0', games: {} });`);
  writePlugin('not-plugin.ts', `export default 'hello';`);
  writePlugin('throws.ts', `export default () => { throw new Error('boom'); };`);
  writePlugin('syntax-error.ts', `export default () => ({ ;`);
  // An installed package found by convention (keyword lsp-plugin), and one without the keyword.
  writePlugin('node_modules/lsp-plugin-found/package.json', JSON.stringify({ name: 'lsp-plugin-found', version: '0.3.0', keywords: ['lsp-plugin'], main: 'index.js' }));
  writePlugin('node_modules/lsp-plugin-found/index.js', `export default () => ({ specificationVersion: 'v1', name: 'lsp-plugin-found', version: '0.3.0', judges: [${judge}] });`);
  writePlugin('node_modules/@team/lsp-plugin-scoped/package.json', JSON.stringify({ name: '@team/lsp-plugin-scoped', version: '0.1.0', keywords: ['lsp-plugin'], main: 'index.js' }));
  writePlugin('node_modules/@team/lsp-plugin-scoped/index.js', `export default () => ({ specificationVersion: 'v2', name: '@team/lsp-plugin-scoped', version: '0.1.0' });`);
  writePlugin('node_modules/unrelated/package.json', JSON.stringify({ name: 'unrelated', version: '1.0.0', main: 'index.js' }));
});

afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('plugin resolution', () => {
  test('a short name tries @lsp/<name>, then lsp-plugin-<name>, then the bare name', () => {
    expect(candidatePackageNames('judge-ifeval')).toEqual(['@lsp/judge-ifeval', 'lsp-plugin-judge-ifeval', 'judge-ifeval']);
    expect(candidatePackageNames('lsp-plugin-x')).toEqual(['lsp-plugin-x']);
    expect(candidatePackageNames('@someone/thing')).toEqual(['@someone/thing']);
  });

  test('loads a plugin by path (factory or object export)', async () => {
    const plugin = await importPlugin('./good.ts', [directory]);
    expect(plugin.name).toBe('good');
    expect(plugin.judges?.[0]?.name).toBe('always-one');
    expect((await importPlugin('./object-export.ts', [directory])).name).toBe('object');
  });

  test('loads an installed plugin by its short name', async () => {
    const plugin = await importPlugin('found', [directory]);
    expect(plugin.name).toBe('lsp-plugin-found');
    expect(plugin.version).toBe('0.3.0');
  });

  test('discovers installed packages by the lsp-plugin keyword only', () => {
    const found = discoverInstalledPlugins([directory]);
    expect(found).toContain('lsp-plugin-found');
    expect(found).toContain('@team/lsp-plugin-scoped');
    expect(found).not.toContain('unrelated');
  });
});

describe('plugin refusals', () => {
  test('a missing package names what was tried and how to install it', async () => {
    const line = await refusal(importPlugin('no-such-plugin', [directory]));
    expect(line).toContain('plugin no-such-plugin not found');
    expect(line).toContain('lsp-plugin-no-such-plugin');
    expect(line).toContain('bun add');
  });

  test('a missing path is refused', async () => {
    expect(await refusal(importPlugin('./nowhere.ts', [directory]))).toContain('no file or folder');
  });

  test('another specification version is refused with what to do', async () => {
    const line = await refusal(importPlugin('./future.ts', [directory]));
    expect(line).toContain('plugin ./future.ts was built for specification v2');
    expect(line).toContain('supports v1');
  });

  test('a plugin without a version is refused naming the field', async () => {
    expect(await refusal(importPlugin('./no-version.ts', [directory]))).toContain('field "version"');
  });

  test('a component failing its shape check is refused naming the component and field', async () => {
    const line = await refusal(importPlugin('./bad-component.ts', [directory]));
    expect(line).toContain('judges[0] ("broken") fails its shape check');
    expect(line).toContain('"create"');
  });

  test('a component list that is not an array is refused', async () => {
    expect(await refusal(importPlugin('./not-array.ts', [directory]))).toContain('"games" must be an array');
  });

  test('a module that does not export a plugin is refused', async () => {
    expect(await refusal(importPlugin('./not-plugin.ts', [directory]))).toContain('does not export a plugin');
  });

  test('a factory that throws is refused with its message', async () => {
    expect(await refusal(importPlugin('./throws.ts', [directory]))).toContain('its factory threw "boom"');
  });

  test('a module that fails to load is refused in one line', async () => {
    expect(await refusal(importPlugin('./syntax-error.ts', [directory]))).toContain('failed to load');
  });

  test('a config plugin object is validated the same way', () => {
    expect(() => validatePlugin({ specificationVersion: 'v3', name: 'x', version: '1' }, 'x')).toThrow(/specification v3/);
  });
});

describe('the registry', () => {
  test('explicit plugins load first; broken installed plugins become warnings, not failures', async () => {
    const registry = await loadPlugins({ commandLinePlugins: ['./good.ts'], fromDirectories: [directory] });
    expect(registry.plugins.map(({ plugin, origin }) => `${plugin.name}:${origin}`)).toEqual([
      'good:command line',
      'lsp-plugin-found:installed',
    ]);
    expect(registry.warnings).toHaveLength(1);
    expect(registry.warnings[0]!.message).toContain('specification v2');
    // Both plugins name a judge 'always-one'; the explicit one wins.
    expect(registry.components('judges').map(({ plugin }) => plugin.name)).toEqual(['good']);
  });

  test('asking for a component nobody provides names what is available', async () => {
    const registry = await loadPlugins({ commandLinePlugins: ['./good.ts'], fromDirectories: [directory], discover: false });
    expect(() => registry.get('judges', 'ifeval')).toThrow('no judge named "ifeval" (available: always-one)');
    expect(() => registry.get('games', 'lsp')).toThrow('no game named "lsp" (no plugin provides a game)');
  });
});

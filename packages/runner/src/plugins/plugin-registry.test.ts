// Plugin loading: resolution by convention and path, and every refusal with its one-line message.
import { PluginError, coreVersion, specificationCoreRanges } from '@lsp/core';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCorePeerRange } from './plugin-compatibility';
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

  test('an installed package whose entry point is missing is refused as such, not as missing', async () => {
    writePlugin('node_modules/lsp-plugin-unbuilt/package.json', JSON.stringify({ name: 'lsp-plugin-unbuilt', version: '1.0.0', main: 'dist/index.js' }));
    const line = await refusal(importPlugin('unbuilt', [directory]));
    expect(line).toContain(`plugin unbuilt: ${join(directory, 'node_modules', 'lsp-plugin-unbuilt')} is installed but its entry point does not resolve`);
    expect(line).toContain('reinstall it (bun install)');
  });

  test('a missing path is refused', async () => {
    expect(await refusal(importPlugin('./nowhere.ts', [directory]))).toContain('no file or folder');
  });

  test('another specification version is refused with what to do', async () => {
    const line = await refusal(importPlugin('./future.ts', [directory]));
    expect(line).toContain('plugin ./future.ts was built for specification v2');
    expect(line).toContain(`supports v1; upgrade LSP to a release that implements v2`);
    expect(line).toContain('or install a release of future made for specification v1');
  });

  test('a component built for another specification version is refused naming it', () => {
    const plugin = { specificationVersion: 'v1', name: 'mixed', version: '1.0.0', games: [{ specificationVersion: 'v0', name: 'old', create: () => ({}) }] };
    let line = '';
    try {
      validatePlugin(plugin, 'mixed');
    } catch (error) {
      line = (error as PluginError).toLine();
    }
    expect(line).toContain('plugin mixed: games[0] ("old") was built for specification v0');
    expect(line).toContain('install a release of mixed made for specification v1 (bun add mixed@latest)');
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

describe('peer ranges on @lsp/core', () => {
  let packages: string;
  /** An installed package whose module throws if it is ever imported: a refusal must come before its code runs. */
  const writePackage = (name: string, peer: string | undefined, source?: string) => {
    const folder = join(packages, 'node_modules', name);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'package.json'), JSON.stringify({
      name, version: '2.0.0', keywords: ['lsp-plugin'], main: 'index.js', ...(peer ? { peerDependencies: { '@lsp/core': peer } } : {}),
    }));
    writeFileSync(join(folder, 'index.js'), source ?? `export default () => ({ specificationVersion: 'v1', name: '${name}', version: '2.0.0' });`);
  };

  beforeAll(() => {
    packages = mkdtempSync(join(tmpdir(), 'lsp-plugin-peers-'));
    writePackage('lsp-plugin-needs-newer', '>=0.4.0', `throw new Error('imported despite its peer range');`);
    writePackage('lsp-plugin-pinned-old', '^0.0.3');
    writePackage('lsp-plugin-v1-range', specificationCoreRanges.v1);
    writePackage('lsp-plugin-workspace', 'workspace:*');
    writePackage('lsp-plugin-no-peer', undefined);
  });
  afterAll(() => rmSync(packages, { recursive: true, force: true }));

  test('a core older than the range is refused before the plugin runs, saying which versions meet and to upgrade LSP', async () => {
    const line = await refusal(importPlugin('needs-newer', [packages]));
    expect(line).toBe(
      `plugin lsp-plugin-needs-newer 2.0.0 needs @lsp/core >=0.4.0 (its peer dependency) and this LSP has @lsp/core ${coreVersion}; ` +
        `upgrade LSP to a release in >=0.4.0 (bun add @lsp/runner@latest @lsp/core@latest), or install a release of lsp-plugin-needs-newer whose peer range includes ${coreVersion}`,
    );
  });

  test('a core newer than the range is refused, saying to upgrade the plugin', async () => {
    const line = await refusal(importPlugin('pinned-old', [packages]));
    expect(line).toContain(`needs @lsp/core ^0.0.3 (its peer dependency) and this LSP has @lsp/core ${coreVersion}`);
    expect(line).toContain('upgrade the plugin to a release whose peer range includes');
    expect(line).toContain('bun add lsp-plugin-pinned-old@latest');
  });

  test('the v1 range, a workspace range and no peer dependency all load', async () => {
    for (const name of ['v1-range', 'workspace', 'no-peer']) expect((await importPlugin(name, [packages])).name).toBe(`lsp-plugin-${name}`);
  });

  test('installed plugins outside the range become warnings; the rest load', async () => {
    const registry = await loadPlugins({ fromDirectories: [packages] });
    expect(registry.plugins.map(({ plugin }) => plugin.name)).toEqual(['lsp-plugin-no-peer', 'lsp-plugin-v1-range', 'lsp-plugin-workspace']);
    expect(registry.warnings.map((warning) => warning.plugin)).toEqual(['lsp-plugin-needs-newer', 'lsp-plugin-pinned-old']);
  });

  test('checkCorePeerRange judges a range against a given core version', async () => {
    const check = async (range: string, core: string) => checkCorePeerRange('x', { name: 'x', peerDependencies: { '@lsp/core': range } }, core);
    await check('>=0.1.0', '3.2.1');
    expect(await refusal(check('^1.2.0', '1.1.9'))).toContain('; upgrade LSP to a release in ^1.2.0');
    expect(await refusal(check('1.x', '2.0.0'))).toContain('; upgrade the plugin');
  });
});

describe('the registry', () => {
  test('explicit plugins load first; broken installed plugins become warnings, not failures', async () => {
    const registry = await loadPlugins({ commandLinePlugins: ['./good.ts'], fromDirectories: [directory] });
    expect(registry.plugins.map(({ plugin, origin }) => `${plugin.name}:${origin}`)).toEqual([
      'good:flag',
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

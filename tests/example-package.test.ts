// The published path end to end: the runner, the packages it needs and the example variant are packed with
// `bun pm pack`, installed from those tarballs into a project outside the repository, and the example is run there
// with `bun lsp --plugin uncertainty` as a user would, after checking that every installed package loads.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repository = join(import.meta.dir, '..');
const example = join(repository, 'examples', 'uncertainty');
let project: string;

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
}

async function run(command: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn(command, { cwd, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

function readManifest(folder: string): Manifest {
  return JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as Manifest;
}

/** Workspace folders by package name (crates, packages/*, plugins/*). */
function workspaceFolders(): Map<string, string> {
  const folders = new Map<string, string>([['@lsp/crates', join(repository, 'crates')]]);
  for (const group of ['packages', 'plugins']) {
    for (const entry of readdirSync(join(repository, group))) {
      const folder = join(repository, group, entry);
      if (existsSync(join(folder, 'package.json'))) folders.set(readManifest(folder).name, folder);
    }
  }
  return folders;
}

/** The workspace packages `roots` need at run time, followed through their dependencies. */
function runtimeClosure(roots: readonly string[], folders: Map<string, string>): string[] {
  const needed = new Set<string>();
  const visit = (folder: string) => {
    for (const name of Object.keys(readManifest(folder).dependencies ?? {})) {
      const dependency = folders.get(name);
      if (!dependency || needed.has(dependency)) continue;
      needed.add(dependency);
      visit(dependency);
    }
  };
  for (const root of roots) {
    needed.add(root);
    visit(root);
  }
  return [...needed];
}

beforeAll(async () => {
  if (!existsSync(join(example, 'dist', 'index.js'))) throw new Error('examples/uncertainty is not built; run `bun run build`');
  project = mkdtempSync(join(tmpdir(), 'lsp-installed-'));
  const tarballs = join(project, 'tarballs');
  mkdirSync(tarballs);
  const folders = workspaceFolders();
  const specifiers: Record<string, string> = {};
  for (const folder of runtimeClosure([folders.get('@lsp/runner')!, example], folders)) {
    const packed = await run([process.execPath, 'pm', 'pack', '--quiet', '--destination', tarballs], folder);
    if (packed.code !== 0) throw new Error(`bun pm pack failed in ${folder}: ${packed.stderr}`);
    specifiers[readManifest(folder).name] = `file:${packed.stdout.trim().split('\n').at(-1)}`;
  }
  // A user's project: the runner and the plugin, nothing else; the @lsp packages they need come from the tarballs
  // (overrides), everything else from Bun's cache or the registry.
  const overrides = Object.fromEntries(Object.entries(specifiers).filter(([name]) => name.startsWith('@lsp/')));
  writeFileSync(join(project, 'package.json'), JSON.stringify({
    name: 'my-experiments', private: true, type: 'module',
    dependencies: { '@lsp/runner': specifiers['@lsp/runner'], 'lsp-plugin-uncertainty': specifiers['lsp-plugin-uncertainty'] },
    overrides,
  }, null, 2));
  // As docs/plugins.md advises: without it `bun lsp` adds Bun's own "exited with code 1" line after LSP's one line.
  writeFileSync(join(project, 'bunfig.toml'), '[run]\nsilent = true\n');
  const install = await run([process.execPath, 'install', '--prefer-offline'], project);
  if (install.code !== 0) throw new Error(`bun install failed: ${install.stderr}`);
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('the example installed from its tarball', () => {
  test('is the only third-party plugin beside the first-party ones, and every installed package loads', async () => {
    expect(existsSync(join(project, 'node_modules', 'lsp-plugin-uncertainty', 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(project, 'node_modules', 'lsp-plugin-uncertainty', 'src'))).toBe(false);
    const listed = await run([process.execPath, 'lsp', 'plugins', '--json'], project);
    expect(listed.code, listed.stderr).toBe(0);
    const listing = JSON.parse(listed.stdout) as { plugins: { name: string; origin: string; party: string; components: string }[]; warnings: { message: string }[] };
    expect(listing.warnings.map((warning) => warning.message)).toEqual([]);
    expect(listing.plugins.filter((plugin) => plugin.party === 'third-party')).toEqual([
      expect.objectContaining({ name: 'lsp-plugin-uncertainty', origin: 'installed', components: 'games: uncertainty' }),
    ]);
    expect(listing.plugins.map((plugin) => plugin.name)).toContain('@lsp/world');

    const flagged = await run([process.execPath, 'lsp', 'plugins', '--json', '--plugin', 'uncertainty'], project);
    const byFlag = JSON.parse(flagged.stdout) as { plugins: { name: string; origin: string }[] };
    expect(byFlag.plugins.find((plugin) => plugin.name === 'lsp-plugin-uncertainty')?.origin).toBe('flag');
  });

  test('`bun lsp --plugin uncertainty --game uncertainty` runs two iterations and records the game\'s statistic', async () => {
    const result = await run([process.execPath, 'lsp', '--plugin', 'uncertainty', '--game', 'uncertainty', '--iterations', '2', '--out', 'runs/example'], project);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('lsp: finished 2 iterations');
    const runFolder = join(project, 'runs', 'example');
    const config = JSON.parse(readFileSync(join(runFolder, 'config.json'), 'utf8')) as { game: string; plugins: string[] };
    expect(config.game).toBe('uncertainty');
    expect(config.plugins).toContain('lsp-plugin-uncertainty');
    const metrics = readFileSync(join(runFolder, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(metrics.map((m: { iteration: number }) => m.iteration)).toEqual([0, 1, 2]);
    for (const m of metrics.slice(1)) expect(m.gameStatistics.uncertaintyRewardMean).toBeGreaterThanOrEqual(0);
    expect(readFileSync(join(runFolder, 'report.html'), 'utf8')).toContain('Game statistic: uncertaintyRewardMean');
  });

  test('a plugin whose peer range excludes the installed core is refused in one line naming the versions', async () => {
    const folder = join(project, 'needs-newer-core');
    mkdirSync(folder);
    writeFileSync(join(folder, 'package.json'), JSON.stringify({
      name: 'lsp-plugin-needs-newer-core', version: '3.0.0', type: 'module', main: 'index.js', peerDependencies: { '@lsp/core': '>=9.0.0' },
    }));
    writeFileSync(join(folder, 'index.js'), `export default () => ({ specificationVersion: 'v1', name: 'lsp-plugin-needs-newer-core', version: '3.0.0' });`);
    const installedCore = readManifest(join(project, 'node_modules', '@lsp', 'core')).version;
    const refused = await run([process.execPath, 'lsp', 'plugins', '--plugin', './needs-newer-core'], project);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toEqual([
      `lsp: plugin lsp-plugin-needs-newer-core 3.0.0 needs @lsp/core >=9.0.0 (its peer dependency) and this LSP has @lsp/core ${installedCore}; ` +
        `upgrade LSP to a release in >=9.0.0 (bun add @lsp/runner@latest @lsp/core@latest), or install a release of lsp-plugin-needs-newer-core whose peer range includes ${installedCore}`,
    ]);
  });
});

// `lsp new plugin|game|judge|benchmark|backend <name>` end to end: each package is written in a temporary folder,
// installs, builds, typechecks, passes its own test (the kinds but `plugin` play self-play through @lsp/testing),
// and the runner loads it by path as a third-party plugin.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = join(import.meta.dir, '..', 'packages', 'runner', 'src', 'bin.ts');
let directory: string;

async function run(command: string[], cwd: string): Promise<{ code: number; output: string }> {
  const child = Bun.spawn(command, { cwd, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, output: stdout + stderr };
}

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'lsp-scaffold-'));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Each kind, the component it contributes, and how many tests its own suite holds. */
const kinds = [
  { kind: 'plugin', name: 'word-count', components: 'judges: word-count', tests: 2 },
  { kind: 'game', name: 'gated-queries', components: 'games: gated-queries', tests: 4 },
  { kind: 'judge', name: 'short-answers', components: 'judges: short-answers', tests: 3 },
  { kind: 'benchmark', name: 'tiny-tasks', components: 'benchmarks: tiny-tasks', tests: 5 },
  { kind: 'backend', name: 'my-device', components: 'backends: my-device', tests: 3 },
] as const;

describe('lsp new', () => {
  test.each(kinds)('$kind: writes a package that installs, builds, typechecks, passes its own test and loads as a plugin', async ({ kind, name, components, tests }) => {
    const created = await run([process.execPath, bin, 'new', kind, name], directory);
    expect(created.code, created.output).toBe(0);
    const packageDirectory = join(directory, `lsp-plugin-${name}`);
    expect(created.output).toContain(`Wrote ${packageDirectory}`);
    const manifest = JSON.parse(readFileSync(join(packageDirectory, 'package.json'), 'utf8'));
    expect(manifest.keywords).toEqual(['lsp-plugin']);
    expect(manifest.peerDependencies).toEqual({ '@lsp/core': '>=0.1.0' });
    expect(existsSync(join(packageDirectory, 'README.md'))).toBe(true);

    // The @lsp packages are links into this checkout; the rest (tsup, typescript, @types/bun) come from Bun's cache.
    const install = await run([process.execPath, 'install', '--prefer-offline'], packageDirectory);
    expect(install.code, install.output).toBe(0);
    const build = await run([process.execPath, 'run', 'build'], packageDirectory);
    expect(build.code, build.output).toBe(0);
    expect(existsSync(join(packageDirectory, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(packageDirectory, 'dist', 'index.d.ts'))).toBe(true);
    const typecheck = await run([process.execPath, 'run', 'typecheck'], packageDirectory);
    expect(typecheck.code, typecheck.output).toBe(0);
    const ownTest = await run([process.execPath, 'test', '--timeout', '120000'], packageDirectory);
    expect(ownTest.code, ownTest.output).toBe(0);
    expect(ownTest.output).toContain(` ${tests} pass`);
    expect(ownTest.output).toContain(' 0 fail');

    const listed = await run([process.execPath, bin, 'plugins', '--json', '--plugin', `./lsp-plugin-${name}`], directory);
    expect(listed.code, listed.output).toBe(0);
    const listing = JSON.parse(listed.output) as { plugins: { name: string; origin: string; party: string; components: string }[] };
    const plugin = listing.plugins.find((entry) => entry.name === `lsp-plugin-${name}`);
    expect(plugin).toEqual(expect.objectContaining({ origin: 'flag', party: 'third-party', components }));
    expect(listing.plugins.find((entry) => entry.name === '@lsp/world')?.party).toBe('first-party');
  });

  test('refuses an invalid name, an unknown kind and an existing folder in one line', async () => {
    for (const bad of ['Bad_Name', '9lives', 'two--dashes']) {
      const invalid = await run([process.execPath, bin, 'new', 'game', bad], directory);
      expect(invalid.code).not.toBe(0);
      expect(invalid.output.trim().split('\n')).toHaveLength(1);
      expect(invalid.output).toContain(`plugin name "${bad}" is not valid`);
    }
    const unknownKind = await run([process.execPath, bin, 'new', 'gmae', 'x'], directory);
    expect(unknownKind.code).not.toBe(0);
    expect(unknownKind.output.trim().split('\n')).toHaveLength(1);
    expect(unknownKind.output).toContain('(did you mean game?)');
    await run([process.execPath, bin, 'new', 'plugin', 'twice'], directory);
    const again = await run([process.execPath, bin, 'new', 'judge', 'twice'], directory);
    expect(again.code).not.toBe(0);
    expect(again.output).toContain('already exists and is not empty');
  });
});

// `lsp new plugin <name>` end to end: the package is written, installs, builds, passes its own test, and the
// runner loads it by path.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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

describe('lsp new plugin', () => {
  test('writes a package that installs, builds, passes its test and loads as a plugin', async () => {
    const created = await run([process.execPath, bin, 'new', 'plugin', 'word-count'], directory);
    expect(created.code).toBe(0);
    const packageDirectory = join(directory, 'lsp-plugin-word-count');
    expect(existsSync(join(packageDirectory, 'src', 'index.ts'))).toBe(true);

    const install = await run([process.execPath, 'install'], packageDirectory);
    expect(install.code, install.output).toBe(0);
    const build = await run([process.execPath, 'run', 'build'], packageDirectory);
    expect(build.code, build.output).toBe(0);
    expect(existsSync(join(packageDirectory, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(packageDirectory, 'dist', 'index.d.ts'))).toBe(true);
    const ownTest = await run([process.execPath, 'test'], packageDirectory);
    expect(ownTest.code, ownTest.output).toBe(0);
    expect(ownTest.output).toContain('2 pass');

    const listed = await run([process.execPath, bin, 'plugins', '--json', '--plugin', './lsp-plugin-word-count'], directory);
    expect(listed.code, listed.output).toBe(0);
    const listing = JSON.parse(listed.output) as { plugins: { name: string; origin: string; components: string }[] };
    const plugin = listing.plugins.find((entry) => entry.name === 'lsp-plugin-word-count');
    expect(plugin?.origin).toBe('command line');
    expect(plugin?.components).toBe('judges: word-count');
  });

  test('refuses an invalid name and an existing folder in one line', async () => {
    const invalid = await run([process.execPath, bin, 'new', 'plugin', 'Bad_Name'], directory);
    expect(invalid.code).not.toBe(0);
    expect(invalid.output.trim().split('\n')).toHaveLength(1);
    expect(invalid.output).toContain('plugin name "Bad_Name" is not valid');
    await run([process.execPath, bin, 'new', 'plugin', 'twice'], directory);
    const again = await run([process.execPath, bin, 'new', 'plugin', 'twice'], directory);
    expect(again.code).not.toBe(0);
    expect(again.output).toContain('already exists and is not empty');
  });
});

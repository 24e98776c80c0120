// The command line as a user meets it: help, unknown commands and flags, plugin refusals, one line per error.
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';

const bin = join(import.meta.dir, 'bin.ts');

async function lsp(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([process.execPath, bin, ...args], { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

function expectOneErrorLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(stderr).not.toContain('    at ');
  return lines[0]!;
}

describe('lsp --help', () => {
  test('lists the commands and exits 0', async () => {
    const result = await lsp('--help');
    expect(result.code).toBe(0);
    for (const command of ['run', 'plugins', 'doctor', 'new']) expect(result.stdout).toContain(command);
  });

  test('every command has its own help', async () => {
    for (const args of [['run'], ['plugins'], ['doctor'], ['new', 'plugin']]) {
      const result = await lsp(...args, '--help');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: lsp ${args.join(' ')}`);
    }
  });

  test('--version prints the version', async () => {
    const result = await lsp('--version');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('errors', () => {
  test('an unknown command gets one line with the nearest name', async () => {
    const result = await lsp('plugns');
    expect(result.code).not.toBe(0);
    expect(expectOneErrorLine(result.stderr)).toBe("lsp: unknown command 'plugns' (did you mean plugins?); see `lsp --help`");
  });

  test('an unknown flag gets one line with the nearest flag', async () => {
    const result = await lsp('run', '--iteratons', '3');
    expect(result.code).not.toBe(0);
    const line = expectOneErrorLine(result.stderr);
    expect(line).toContain("unknown option '--iteratons'");
    expect(line).toContain('did you mean --iterations?');
  });

  test('an unknown flag of a subcommand suggests that subcommand\'s flags', async () => {
    const line = expectOneErrorLine((await lsp('doctor', '--jsn')).stderr);
    expect(line).toContain('did you mean --json?');
  });

  test('a flag with a bad value names the flag', async () => {
    const result = await lsp('run', '--seed', 'abc');
    expect(result.code).not.toBe(0);
    expect(expectOneErrorLine(result.stderr)).toContain('--seed must be a whole number, got "abc"');
  });

  test('a missing plugin exits non-zero with one line and no stack trace', async () => {
    const result = await lsp('--plugin', 'no-such-plugin');
    expect(result.code).not.toBe(0);
    expect(expectOneErrorLine(result.stderr)).toContain('plugin no-such-plugin not found');
  });

  test('a missing argument is reported in one line', async () => {
    const result = await lsp('new', 'plugin');
    expect(result.code).not.toBe(0);
    expect(expectOneErrorLine(result.stderr)).toContain("missing required argument 'name'");
  });
});

describe('lsp plugins and doctor', () => {
  test('plugins exits 0 and lists plugins as JSON on request', async () => {
    const result = await lsp('plugins', '--json');
    expect(result.code).toBe(0);
    const listing = JSON.parse(result.stdout) as { plugins: { name: string; specificationVersion: string }[] };
    for (const plugin of listing.plugins) expect(plugin.specificationVersion).toBe('v1');
    // The first-party plugins the default experiment needs are found by their keyword.
    const names = listing.plugins.map((plugin) => plugin.name);
    for (const name of ['@lsp/backend-wasm', '@lsp/game-lsp', '@lsp/tokenizer-wasm', '@lsp/world']) expect(names).toContain(name);
  });

  test('doctor reports Bun, the CPU with its SIMD support, WebGPU, and the backend auto takes', async () => {
    const result = await lsp('doctor', '--json');
    const sections = JSON.parse(result.stdout) as { title: string; lines: string[]; problems: string[] }[];
    expect(sections.map((section) => section.title)).toEqual(['Bun', 'WebAssembly modules', 'CPU', 'WebGPU (Dawn)', 'Backend for auto']);
    expect(sections[0]!.lines[0]).toContain(Bun.version);
    // After setup the built modules are found (from the runner's own dependency on @lsp/crates) and compile.
    expect(sections[1]!.problems).toEqual([]);
    for (const module of ['advantage.wasm', 'kernels.wasm', 'tokenizer.wasm']) {
      expect(sections[1]!.lines.some((line) => line.startsWith(module))).toBe(true);
    }
    expect(sections[2]!.lines.join('\n')).toMatch(/wasm SIMD128: (yes|no)/);
    // The WebGPU section either lists adapters or says what to install.
    const webgpu = sections[3]!;
    expect(webgpu.lines.length > 0 || webgpu.problems.some((problem) => problem.includes('install'))).toBe(true);
    // Without a GPU (as in CI, where the only adapter is lavapipe's llvmpipe) auto takes the CPU backend.
    const adapters = webgpu.lines.filter((line) => /\[(vulkan|opengles|metal|d3d12)/.test(line));
    const realGpu = adapters.some((line) => !/llvmpipe|swiftshader|software/i.test(line));
    expect(sections[4]!.lines.at(-1)).toMatch(realGpu ? /^auto takes (webgpu|wasm) \(/ : /^auto takes wasm \(/);
  });
});

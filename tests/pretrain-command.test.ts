// `lsp pretrain` end to end through the real command line on a tiny model: progress lines on stderr, the report
// on stdout, a loadable folder; bad flags are one line on stderr with a non-zero exit and nothing written.
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = join(import.meta.dir, '..', 'packages', 'runner', 'src', 'bin.ts');
const root = mkdtempSync(join(tmpdir(), 'lsp-pretrain-command-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function pretrain(flags: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([process.execPath, bin, 'pretrain', ...flags], { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

const tiny = ['--steps', '3', '--hidden-size', '32', '--layers', '1', '--heads', '2', '--intermediate-size', '64', '--backend', 'wasm'];

describe('lsp pretrain', () => {
  test('shows progress and writes the model folder', async () => {
    const out = join(root, 'model');
    const { code, stdout, stderr } = await pretrain(['--out', out, '--seed', '4', '--no-evaluate', ...tiny]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/^step 1\/3 {2}loss \d+\.\d{4} \(solver \d+\.\d{4}\) {2}lr \S+ {2}\d+ tok\/s {2}elapsed 0:\d\d {2}left 0:\d\d$/m);
    expect(stderr).toMatch(/^step 3\/3 /m);
    expect(stdout).toContain(`model: ${out}`);
    expect(stdout).toMatch(/0\.0\dM parameters \(float16\), vocabulary 260, 3 steps of 32/);
    expect(readdirSync(out).sort()).toEqual(['config.json', 'model.safetensors', 'pretrain.json', 'tokenizer.json', 'tokenizer_config.json']);
  }, 120_000);

  test('a bad flag is one line on stderr and nothing is written', async () => {
    const out = join(root, 'refused');
    const { code, stderr } = await pretrain(['--out', out, '--dtype', 'f8', ...tiny]);
    expect(code).toBe(1);
    expect(stderr).toBe('lsp: --dtype must be f16 or f32, got "f8"\n');
    expect(existsSync(out)).toBe(false);
    const missing = await pretrain(['--out', out, '--from', join(root, 'nowhere'), ...tiny]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('config.json is missing');
    expect(existsSync(out)).toBe(false);
  }, 120_000);

  test('--settings reruns a finished folder from its pretrain.json to the same weights', async () => {
    const again = join(root, 'again');
    const { code, stderr } = await pretrain(['--out', again, '--settings', join(root, 'model', 'pretrain.json'), '--no-evaluate', '--backend', 'wasm']);
    expect(code, stderr).toBe(0);
    expect(readFileSync(join(again, 'model.safetensors'))).toEqual(readFileSync(join(root, 'model', 'model.safetensors')));
    const bad = await pretrain(['--out', join(root, 'never'), '--settings', join(root, 'model', 'config.json'), ...tiny]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('config.json: has no "settings" and "shape"');
  }, 120_000);
});

// `lsp score` and `lsp generate` as a user runs them: the exact output format, streaming, one-line errors.
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = join(import.meta.dir, '..', 'bin.ts');
const fixture = join(import.meta.dir, '..', '..', '..', 'model', 'fixtures', 'llama3-bf16');
const work = mkdtempSync(join(tmpdir(), 'lsp-model-commands-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function lsp(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([process.execPath, bin, ...args], { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited,
  ]);
  return { code, stdout, stderr };
}

test('lsp score writes one {"logprob","tokens","token_logprobs"} line per input line, the same on wasm and the oracle', async () => {
  const input = join(work, 'input.jsonl');
  writeFileSync(input, '{"prompt_ids":[1,5,9,2],"completion_ids":[17,3,44,8,0]}\n{"prompt_ids":[7],"completion_ids":[7,7,30]}\n');
  const outputs: { token_logprobs: number[] }[][] = [];
  for (const backend of ['oracle', 'wasm']) {
    const result = await lsp('score', '--model', fixture, '--input', input, '--backend', backend);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines.length).toBe(2);
    expect(Object.keys(lines[0])).toEqual(['logprob', 'tokens', 'token_logprobs']);
    expect(lines.map((line) => line.tokens)).toEqual([5, 3]);
    for (const line of lines) expect(line.logprob).toBeCloseTo(line.token_logprobs.reduce((a: number, b: number) => a + b, 0), 9);
    outputs.push(lines);
  }
  outputs[0]!.forEach((line, i) => line.token_logprobs.forEach((value, j) => {
    expect(Math.abs(outputs[1]![i]!.token_logprobs[j]! - value)).toBeLessThan(1e-4);
  }));
});

test('lsp generate streams the greedy continuation transformers gives for the fixture', async () => {
  const result = await lsp('generate', '--model', fixture, '--prompt-ids', '1,5,9,2', '--max-tokens', '8', '--temperature', '0', '--backend', 'wasm');
  expect(result.code).toBe(0);
  // reference.json's greedy_float32[0], computed by transformers.
  expect(result.stdout.trim()).toBe('10 54 54 47 28 76 28 23');
});

test('bad input gives one line and a non-zero exit', async () => {
  const missing = await lsp('score', '--model', join(work, 'nowhere'), '--input', join(work, 'none.jsonl'), '--backend', 'oracle');
  expect(missing.code).toBe(1);
  expect(missing.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(missing.stderr).toContain('config.json: not found');
  const noModel = await lsp('score', '--input', 'x.jsonl');
  expect(noModel.stderr.trim()).toBe('lsp: score needs --model DIR (a Hugging Face model folder)');
  const text = await lsp('generate', '--model', fixture, '--prompt', 'hello', '--backend', 'oracle');
  expect(text.stderr.trim()).toBe('lsp: a text prompt needs tokenizer.json in the model folder; give --prompt-ids instead');
});

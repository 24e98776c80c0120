// `lsp bench` as a user drives it: given responses scored in the published formats, the built-in model's answers
// generated and scored, --json with every item, and one-line errors for bad input.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matchResponses, readResponses } from '../selfplay/bench-run';

const bin = join(import.meta.dir, '..', 'bin.ts');

async function lsp(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([process.execPath, bin, ...args], { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited,
  ]);
  return { code, stdout, stderr };
}

function jsonLines(rows: readonly Record<string, unknown>[]): string {
  return rows.map((row) => JSON.stringify(row)).join('\n') + '\n';
}

const gsm8k = [
  { question: 'Ann has 3 pens and buys 4 more. How many pens does she have?', answer: 'She has 3 + 4 = 7 pens.\n#### 7' },
  { question: 'A box holds 1,200 beads; 200 are used. How many are left?', answer: '1,200 - 200 = 1,000\n#### 1,000' },
  { question: 'Tom reads 5 pages a day for 6 days. How many pages?', answer: '5 * 6 = 30\n#### 30' },
];

describe('lsp bench --responses', () => {
  test('scores given GSM8K answers, writes every item to --json, and names the items without a response', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'lsp-bench-'));
    try {
      writeFileSync(join(directory, 'gsm8k.jsonl'), jsonLines(gsm8k));
      // The first right (with a thousands comma), the second wrong; the third has no response.
      writeFileSync(join(directory, 'responses.jsonl'), jsonLines([
        { question: gsm8k[1]!.question, response: 'They are left with 1,000 beads. The answer is 1000.' },
        { question: gsm8k[0]!.question, response: 'The answer is 8.' },
      ]));
      const result = await lsp('bench', '--benchmark', 'gsm8k', '--data', join(directory, 'gsm8k.jsonl'),
        '--responses', join(directory, 'responses.jsonl'), '--json', join(directory, 'out.json'));
      expect(result.stderr).not.toContain('lsp: ');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('2 items scored, 1 without a response');
      expect(result.stdout).toMatch(/overall\s+0\.5000/);
      const written = JSON.parse(readFileSync(join(directory, 'out.json'), 'utf8'));
      expect(written.figures.overall).toBe(0.5);
      expect(written.items.map((item: { score: number }) => item.score)).toEqual([0, 1]);
      expect(written.items[1].answers).toEqual(['They are left with 1,000 beads. The answer is 1000.']);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test('a response naming no item, a line without a response field, and bad JSON each get one line with file and line', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'lsp-bench-'));
    try {
      writeFileSync(join(directory, 'gsm8k.jsonl'), jsonLines(gsm8k));
      const cases: [string, RegExp][] = [
        [jsonLines([{ question: 'What is not in the file?', response: '1' }]), /responses\.jsonl:1: "What is not in the file\?" is not an item/],
        [jsonLines([{ question: gsm8k[0]!.question, response: '7' }, { question: gsm8k[1]!.question }]), /responses\.jsonl:2: no "response" \(or "output"\) field/],
        [`${JSON.stringify({ question: gsm8k[0]!.question, response: '7' })}\n{"question": \n`, /responses\.jsonl:2: not valid JSON/],
        [jsonLines([{ answer: '7' }]), /responses\.jsonl:1: no prompt, instruction, question, problem, task_id field/],
      ];
      for (const [text, message] of cases) {
        writeFileSync(join(directory, 'responses.jsonl'), text);
        const result = await lsp('bench', '--benchmark', 'gsm8k', '--data', join(directory, 'gsm8k.jsonl'),
          '--responses', join(directory, 'responses.jsonl'));
        expect(result.code).toBe(1);
        const lines = result.stderr.trimEnd().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(message);
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test('neither --model nor --responses is one line saying what to give', async () => {
    const result = await lsp('bench', '--benchmark', 'world');
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('lsp: lsp bench needs --model DIR (answers to generate) or --responses FILE (answers to score)');
  });
});

describe('lsp bench --model', () => {
  test('generates the built-in model\'s answers to the world benchmark and scores them as lsp eval does', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'lsp-bench-'));
    try {
      const bench = await lsp('bench', '--benchmark', 'world', '--model', 'builtin', '--limit', '24', '--max-tokens', '32',
        '--json', join(directory, 'world.json'));
      expect(bench.code).toBe(0);
      expect(bench.stderr).toContain('generated and scored 24/24 items');
      const written = JSON.parse(readFileSync(join(directory, 'world.json'), 'utf8'));
      expect(written.items).toHaveLength(24);
      const mean = written.items.reduce((sum: number, item: { score: number }) => sum + item.score, 0) / 24;
      // The figures are the benchmark's own aggregate of the item scores written beside them.
      expect(written.figures.overall).toBeCloseTo(mean, 12);
      for (const item of written.items) expect(typeof item.answers[0]).toBe('string');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('response matching', () => {
  test('matches by id, by prompt and by the metadata fields the formats name, numbers as strings', () => {
    const items = [
      { id: 'HumanEval/0', prompt: 'def f():\n' },
      { id: '11', prompt: 'Write a function.', metadata: { text: 'Write a function.' } },
      { id: 'gsm8k/0', prompt: 'Q?\n\nSolve it.', metadata: { question: 'Q?' } },
    ];
    const directory = mkdtempSync(join(tmpdir(), 'lsp-bench-'));
    try {
      const path = join(directory, 'r.jsonl');
      writeFileSync(path, jsonLines([
        { task_id: 'HumanEval/0', response: 'a' }, { task_id: 11, response: 'b' }, { question: 'Q?', response: 'c' },
        { task_id: 'HumanEval/0', output: 'd' },
      ]));
      const pairs = matchResponses(items, readResponses(path), path);
      expect(pairs.map((pair) => [pair.item.id, pair.answers])).toEqual([
        ['HumanEval/0', ['a', 'd']], ['11', ['b']], ['gsm8k/0', ['c']],
      ]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

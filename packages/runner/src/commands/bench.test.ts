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

describe('lsp bench with a judge (alpacaeval)', () => {
  const alpaca = [
    { instruction: 'add 2 3', output: '4', generator: 'reference', dataset: 'helpful_base' },
    { instruction: 'reverse abc', output: 'cba', generator: 'reference', dataset: 'koala' },
  ];

  test('--judge names the judge that compares the given answers with the file\'s outputs', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'lsp-bench-'));
    try {
      writeFileSync(join(directory, 'alpaca.jsonl'), jsonLines(alpaca));
      // The world judge scores world tasks: the first answer is right where the reference is wrong, the second wrong.
      writeFileSync(join(directory, 'responses.jsonl'), jsonLines([
        { instruction: 'add 2 3', output: '5' }, { instruction: 'reverse abc', output: 'abc' },
      ]));
      const result = await lsp('bench', '--benchmark', 'alpacaeval', '--data', join(directory, 'alpaca.jsonl'),
        '--responses', join(directory, 'responses.jsonl'), '--judge', 'world', '--json', join(directory, 'out.json'));
      expect(result.code).toBe(0);
      const written = JSON.parse(readFileSync(join(directory, 'out.json'), 'utf8'));
      expect(written.figures.win_rate).toBe(0.5);
      expect(written.figures['win_rate/helpful_base']).toBe(1);
      expect(written.figures['win_rate/koala']).toBe(0);
      expect(written.items.map((item: { score: number }) => item.score)).toEqual([1, 0]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test('--baseline generates the reference answers with another model: the same model ties everywhere', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'lsp-bench-'));
    try {
      writeFileSync(join(directory, 'alpaca.jsonl'), jsonLines(alpaca));
      const result = await lsp('bench', '--benchmark', 'alpacaeval', '--data', join(directory, 'alpaca.jsonl'),
        '--model', 'builtin', '--baseline', 'builtin', '--judge', 'world', '--max-tokens', '16', '--json', join(directory, 'out.json'));
      expect(result.code).toBe(0);
      const written = JSON.parse(readFileSync(join(directory, 'out.json'), 'utf8'));
      expect(written.figures.win_rate).toBe(0.5);
      const baseline = readFileSync(join(directory, 'out.baseline.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      expect(baseline.map((line: { instruction: string }) => line.instruction)).toEqual(['add 2 3', 'reverse abc']);
      expect(baseline.map((line: { output: string }) => line.output)).toEqual(written.items.map((item: { answers: string[] }) => item.answers[0]));
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test('without a judge: one line saying how to give one', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'lsp-bench-'));
    try {
      writeFileSync(join(directory, 'alpaca.jsonl'), jsonLines(alpaca));
      const result = await lsp('bench', '--benchmark', 'alpacaeval', '--data', join(directory, 'alpaca.jsonl'), '--model', 'builtin');
      expect(result.code).toBe(1);
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('--judge');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('lsp bench on the sample files of every format', () => {
  const root = join(import.meta.dir, '..', '..', '..', '..');
  const readRows = (path: string) => readFileSync(join(root, path), 'utf8').trim().split('\n').map((line) => JSON.parse(line));

  test('IFEval, MATH and MBPP answers given as the reference scripts take them are scored, details in --json', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'lsp-bench-'));
    try {
      const math = readRows('plugins/benchmark-math/src/fixtures/math-sample.jsonl');
      const mbpp = readRows('plugins/benchmark-code/src/fixtures/mbpp-sample.jsonl');
      // MATH: the first answered with its own solution's box, the rest with nonsense; MBPP: its own code.
      writeFileSync(join(directory, 'math.jsonl'), jsonLines(math.map((row, index) => ({
        problem: row.problem, response: index === 0 ? row.solution : 'I do not know.',
      }))));
      writeFileSync(join(directory, 'mbpp.jsonl'), jsonLines(mbpp.map((row) => ({ task_id: row.task_id, response: row.code }))));
      const runs: [string[], (figures: Record<string, number>, items: { details?: unknown[] }[]) => void][] = [
        [['--benchmark', 'ifeval', '--data', join(root, 'plugins/benchmark-ifeval/src/fixtures/input_data.jsonl'),
          '--responses', join(root, 'plugins/benchmark-ifeval/src/fixtures/input_response_data.jsonl')], (figures, items) => {
          expect(figures.prompt_loose).toBeGreaterThanOrEqual(figures.prompt_strict!);
          expect(items[0]!.details![0]).toHaveProperty('instructions');
        }],
        [['--benchmark', 'math', '--data', join(root, 'plugins/benchmark-math/src/fixtures/math-sample.jsonl'),
          '--responses', join(directory, 'math.jsonl')], (figures) => {
          expect(figures.overall).toBeCloseTo(1 / math.length, 12);
        }],
        [['--benchmark', 'mbpp', '--data', join(root, 'plugins/benchmark-code/src/fixtures/mbpp-sample.jsonl'),
          '--responses', join(directory, 'mbpp.jsonl'), '--allow-code-execution'], (figures, items) => {
          expect(figures['pass@1']).toBe(1);
          expect(items[0]!.details![0]).toHaveProperty('status', 'passed');
        }],
      ];
      for (const [args, check] of runs) {
        const result = await lsp('bench', ...args, '--json', join(directory, 'out.json'));
        expect(result.stderr).not.toContain('lsp: ');
        expect(result.code).toBe(0);
        const written = JSON.parse(readFileSync(join(directory, 'out.json'), 'utf8'));
        check(written.figures, written.items);
      }
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

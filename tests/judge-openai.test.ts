// Judge `openai` end to end: against `bun lsp serve` as a user starts it (the built-in world model, whose judging
// is junk: what is checked is the protocol, the counting of malformed replies, the cache and the refusals), and a
// self-play run judged over HTTP through a fault-injecting proxy, which must train exactly as a fault-free run,
// stop with one line and its last checkpoint when the judge server stays down, and resume without asking for
// anything twice.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, UnavailableError, configSchema, type LspConfig, type LspError, type PluginV1 } from '@lsp/core';
import backendWasm from '@lsp/backend-wasm';
import gameLsp from '@lsp/game-lsp';
import { createOpenAiJudge } from '@lsp/judge-openai';
import tokenizerWasm from '@lsp/tokenizer-wasm';
import world from '@lsp/world';
import { PluginRegistry } from '../packages/runner/src/plugins/plugin-registry';
import { readMetrics, type IterationMetrics } from '../packages/runner/src/run/run-metrics';
import { runExperiment } from '../packages/runner/src/selfplay/experiment';
import { startFakeJudge, startFaultProxy, type Fault } from './support/fault-proxy';
import { writeTinyWorldModel } from './support/tiny-world-model';

const bin = join(import.meta.dir, '..', 'packages', 'runner', 'src', 'bin.ts');
const root = mkdtempSync(join(tmpdir(), 'lsp-judge-openai-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const folder = (name: string) => join(root, `${name}-${folders++}`);

async function lsp(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([process.execPath, bin, ...args], { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore', env: { ...process.env, ...env } });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

/** Every file under a folder, as text. */
function allText(directory: string): string {
  return readdirSync(directory).map((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? allText(path) : readFileSync(path, 'latin1');
  }).join('\n');
}

describe('judge openai against `bun lsp serve`', () => {
  const key = 'sk-serve-test-31415';
  let child: ReturnType<typeof Bun.spawn>;
  let baseURL: string;
  let output = '';
  const shortPrompt = 'Q: {query}\nA: {answer}\n<score>';
  const judgeOptions = (extra: Record<string, unknown> = {}) => ({
    baseURL, model: 'builtin', apiKeyEnv: 'LSP_SERVE_TEST_KEY', prompt: shortPrompt, maxScore: 9, maxTokens: 12, seed: 1,
    retries: 3, backoffMs: 1, maxBackoffMs: 4, ...extra,
  });
  const items = [
    { query: 'reverse abc', answer: 'cba' }, { query: 'add 2 3', answer: '5' }, { query: 'upper q', answer: 'Q' },
    { query: 'sort dcba', answer: 'abcd' }, { query: 'repeat 2 ab', answer: 'abab' }, { query: 'reverse abc', answer: 'cba' },
  ];

  beforeAll(async () => {
    process.env.LSP_SERVE_TEST_KEY = key;
    child = Bun.spawn([process.execPath, bin, 'serve', '--model', 'builtin', '--port', '0', '--backend', 'wasm', '--api-key-env', 'LSP_SERVE_TEST_KEY'], {
      stdout: 'pipe', stderr: 'pipe', stdin: 'ignore', env: { ...process.env, LSP_SERVE_TEST_KEY: key },
    });
    const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    while (!/at (http:\/\/\S+\/v1)/.test(output)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`lsp serve exited before serving: ${output}${await new Response(child.stderr as ReadableStream).text()}`);
      output += decoder.decode(value);
    }
    baseURL = /at (http:\/\/\S+\/v1)/.exec(output)![1]!;
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        output += decoder.decode(value);
      }
    })();
  }, 60_000);

  afterAll(() => {
    delete process.env.LSP_SERVE_TEST_KEY;
    child.kill('SIGKILL');
  });

  test('scores every item, counts the malformed replies, and a second run reads them from the cache', async () => {
    expect(output).toContain(`lsp: serving builtin at ${baseURL} on `);
    expect(output).toContain('(key from $LSP_SERVE_TEST_KEY)');
    expect(output).not.toContain(key);
    const cacheDirectory = folder('serve-cache');
    const judge = createOpenAiJudge(judgeOptions({ cacheDirectory }));
    const scores = await judge.doScore(items, {});
    expect(scores).toHaveLength(6);
    expect(scores[5]).toEqual(scores[0]!);
    const malformed = scores.filter((score) => score.details?.malformed === true).length;
    for (const score of scores) {
      expect(typeof score.details?.reply).toBe('string');
      expect(score.score).toBeGreaterThanOrEqual(0);
      expect(score.score).toBeLessThanOrEqual(1);
      expect(score.details?.malformedReplies).toBe(malformed);
      if (score.details?.malformed) expect(score.score).toBe(0);
    }
    expect(judge.statistics()).toMatchObject({ answered: 5, cacheHits: 0, retries: 0, invalidResponses: 0 });
    // Distinct unique items counted once each in the judge's tally.
    expect(judge.statistics().malformedReplies).toBe(malformed);

    const again = createOpenAiJudge(judgeOptions({ cacheDirectory }));
    const cached = await again.doScore(items, {});
    expect(cached.map((score) => score.details?.reply)).toEqual(scores.map((score) => score.details?.reply));
    expect(again.statistics()).toMatchObject({ answered: 0, cacheHits: 5, requests: 0 });
    expect(allText(cacheDirectory)).not.toContain(key);
  }, 60_000);

  test('through the fault proxy the replies are the same as straight from the server', async () => {
    const direct = await createOpenAiJudge(judgeOptions({ cacheDirectory: false })).doScore(items, {});
    const faults: Fault[] = ['500', '429', 'malformed', 'truncated'];
    const proxy = startFaultProxy(baseURL, (hash, attempt) => (attempt === 0 ? faults[parseInt(hash.slice(0, 2), 16) % 5] : undefined));
    try {
      const judge = createOpenAiJudge({ ...judgeOptions({ cacheDirectory: false }), baseURL: proxy.url }, { sleep: async () => {} });
      const proxied = await judge.doScore(items, {});
      expect(proxied.map((score) => [score.score, score.details?.reply])).toEqual(direct.map((score) => [score.score, score.details?.reply]));
      expect(proxy.faultsInjected).toBeGreaterThan(0);
      expect(judge.statistics().retries).toBe(proxy.faultsInjected);
      expect(proxy.askedAfterAnswer).toEqual([]);
    } finally {
      proxy.stop();
    }
  }, 60_000);

  test('pairwise items through a short comparison prompt give a preference in [0, 1]', async () => {
    const judge = createOpenAiJudge(judgeOptions({ cacheDirectory: false, pairwisePrompt: '{query}|{first}|{second}|<verdict>' }));
    const [score] = await judge.doScore([{ query: 'upper a', answer: 'A', metadata: { pairwise: true, first: 'A', second: 'a' } }], {});
    expect([0, 0.5, 1]).toContain(score!.details?.preference as number);
    expect(score!.score).toBe(score!.details?.preference as number);
  }, 60_000);

  test('what the server refuses stops the judge at once with one line: a prompt too long, a wrong key', async () => {
    const rubric = await createOpenAiJudge(judgeOptions({ cacheDirectory: false, prompt: 'quality' })).doScore(items.slice(0, 1), {})
      .then(() => undefined, (error: unknown) => error);
    expect(ConfigError.isInstance(rubric)).toBe(true);
    const line = (rubric as LspError).toLine();
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain(`judge openai: ${baseURL}/chat/completions refused the request (HTTP 400: This model's maximum context length is 256 tokens`);

    process.env.LSP_SERVE_TEST_KEY = 'sk-not-it';
    try {
      const wrong = await createOpenAiJudge(judgeOptions({ cacheDirectory: false })).doScore(items.slice(0, 1), {})
        .then(() => undefined, (error: unknown) => error);
      expect((wrong as LspError).toLine()).toBe(`judge openai: ${baseURL}/chat/completions refused the key in $LSP_SERVE_TEST_KEY (HTTP 401); check the key in LSP_SERVE_TEST_KEY`);
    } finally {
      process.env.LSP_SERVE_TEST_KEY = key;
    }
  }, 60_000);

  test('Ctrl-C stops the server; bad flags are one line', async () => {
    child.kill('SIGINT');
    expect(await child.exited).toBe(0);
    await Bun.sleep(0);
    expect(output).toContain('lsp: server stopped');
    const noModel = await lsp(['serve']);
    expect(noModel.stderr.trim()).toBe('lsp: serve needs --model DIR (a Hugging Face model folder)');
    const noKey = await lsp(['serve', '--model', 'builtin', '--api-key-env', 'LSP_SERVE_UNSET_KEY'], { LSP_SERVE_UNSET_KEY: '' });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr.trim()).toBe('lsp: the environment variable LSP_SERVE_UNSET_KEY named by --api-key-env is not set; export LSP_SERVE_UNSET_KEY=<key> first');
    const port = await lsp(['serve', '--model', 'builtin', '--port', '70000']);
    expect(port.stderr.trim()).toBe('lsp: --port must be a port number from 0 to 65535, got 70000');
    const help = await lsp(['serve', '--help']);
    for (const flag of ['--model', '--adapter', '--port', '--host', '--backend', '--api-key-env']) expect(help.stdout).toContain(flag);
  }, 60_000);
});

describe('a self-play run judged over HTTP', () => {
  const runKey = 'sk-run-test-27182';
  let modelDirectory: string;
  const fakeJudge = startFakeJudge();
  afterAll(() => fakeJudge.stop());
  const template = 'Instruction: {query}\nAnswer: {answer}\nScore the answer from 0 to 10 as <score>N</score>.';

  beforeAll(async () => {
    modelDirectory = folder('model');
    await writeTinyWorldModel(modelDirectory);
  });

  /** The registry of the run; the judge's waits go through `onWait` (which brings a dead proxy back), instantly. */
  function registry(onWait: () => void = () => {}): PluginRegistry {
    const judges: PluginV1 = {
      specificationVersion: 'v1', name: 'judge-openai-under-test', version: '0.0.0',
      judges: [{ specificationVersion: 'v1', name: 'openai', create: (options) => createOpenAiJudge(options, { sleep: async () => onWait() }) }],
    };
    const plugins = new PluginRegistry();
    for (const plugin of [backendWasm(), tokenizerWasm(), gameLsp(), world(), judges]) plugins.add(plugin, 'config');
    return plugins;
  }

  function config(out: string, baseURL: string): LspConfig {
    return configSchema.parse({
      model: modelDirectory, backend: 'wasm', iterations: 4, seed: 5, evaluateEvery: 2, checkpointEvery: 2, benchmark: 'none', out,
      training: { queriesPerIteration: 3, answersPerQuery: 2, maxNewTokens: 6, learningRate: 1e-3 },
      judge: 'openai',
      judgeOptions: {
        baseURL, model: 'fake-judge', prompt: template, apiKeyEnv: 'LSP_RUN_JUDGE_KEY', cacheDirectory: `${out}-judge-cache`,
        retries: 5, backoffMs: 1, maxBackoffMs: 4, timeoutMs: 3000,
      },
    });
  }

  const deterministic = (metrics: IterationMetrics[]) =>
    metrics.map(({ time: _time, tokensPerSecond: _speed, phaseSeconds: _phases, ...rest }) => rest);

  test('faults change nothing; a judge server that stays down stops the run at its last checkpoint; the resume asks for nothing twice', async () => {
    process.env.LSP_RUN_JUDGE_KEY = runKey;
    try {
      const clean = folder('clean');
      await runExperiment({ config: config(clean, fakeJudge.url), registry: registry(), print: () => {} });
      const reference = deterministic(readMetrics(clean));
      expect(reference.map((metrics) => metrics.iteration)).toEqual([1, 2, 3, 4]);
      expect(new Set(reference.map((metrics) => metrics.solverRewardMean)).size).toBeGreaterThan(1);

      // Faults on the first attempt of most bodies, a reply that never comes, and a server that dies once.
      let hung = false;
      let died = false;
      const faulty = startFaultProxy(fakeJudge.url, (hash, attempt) => {
        if (attempt > 0) return undefined;
        const byte = parseInt(hash.slice(0, 2), 16);
        if (byte % 7 === 3 && !hung) {
          hung = true;
          return 'hang';
        }
        if (byte % 7 === 4 && !died) {
          died = true;
          return 'die';
        }
        return (['500', '429', 'malformed', 'truncated', undefined, undefined, undefined] as const)[byte % 7];
      });
      const withFaults = folder('faults');
      try {
        await runExperiment({ config: config(withFaults, faulty.url), registry: registry(() => faulty.revive()), print: () => {} });
      } finally {
        faulty.stop();
      }
      expect(deterministic(readMetrics(withFaults))).toEqual(reference);
      expect(faulty.faultsInjected).toBeGreaterThan(5);
      expect(died).toBe(true);
      expect(faulty.askedAfterAnswer).toEqual([]);

      // The judge server dies in iteration 3 after two answers, and stays down.
      let calls = 0;
      let dieAt: number | undefined;
      let seen = 0;
      const dying = startFaultProxy(fakeJudge.url, () => (dieAt !== undefined && ++seen === dieAt ? 'die' : undefined));
      const stopped = folder('stopped');
      try {
        dying.revivable = false;
        const error = await runExperiment({
          config: config(stopped, dying.url), registry: registry(() => dying.revive()), print: () => {},
          stopRequested: () => {
            if (++calls === 2) dieAt = 3;
            return false;
          },
        }).then(() => undefined, (caught: unknown) => caught);
        expect(UnavailableError.isInstance(error)).toBe(true);
        const line = (error as LspError).toLine();
        expect(line.split('\n')).toHaveLength(1);
        expect(line).toStartWith(`judge openai: ${dying.url}/chat/completions gave no usable reply after 6 attempts (last: connection failed`);
        expect(JSON.parse(readFileSync(join(stopped, 'checkpoints', 'latest.json'), 'utf8')).iteration).toBe(2);
        expect(existsSync(join(stopped, 'checkpoints', 'iteration-000002', 'model', 'model.safetensors'))).toBe(true);
        expect(readMetrics(stopped).map((metrics) => metrics.iteration)).toEqual([1, 2]);
        const answeredBeforeDeath = [...dying.answered.keys()];

        dying.revivable = true;
        dying.revive();
        const resumed = await runExperiment({ config: config(stopped, dying.url), registry: registry(), print: () => {}, resume: { directory: stopped } });
        expect(resumed.lastIteration).toBe(4);
        expect(deterministic(readMetrics(stopped))).toEqual(reference);
        expect(dying.askedAfterAnswer).toEqual([]);
        expect(answeredBeforeDeath.length).toBeGreaterThan(0);
        for (const hash of answeredBeforeDeath) expect(dying.requests.get(hash)).toBe(1);
        // The key is in the environment only: not in the run folder, not in the cache.
        expect(allText(stopped)).not.toContain(runKey);
        expect(allText(`${stopped}-judge-cache`)).not.toContain(runKey);
        expect(JSON.parse(readFileSync(join(stopped, 'config.json'), 'utf8')).judgeOptions.apiKeyEnv).toBe('LSP_RUN_JUDGE_KEY');
      } finally {
        dying.stop();
      }
    } finally {
      delete process.env.LSP_RUN_JUDGE_KEY;
    }
  }, 300_000);
});

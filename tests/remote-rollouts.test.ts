// Remote rollouts against `bun lsp serve` on the built-in world model (CPU): the server's generations equal local
// ones for the same seed (greedy and sampled), a 2-iteration run with remote rollouts gives a local run's metrics
// and leaves the server holding the trained policy, a server without weight reloading is refused unless stale
// rollouts are accepted, mismatched tokenizers and models are refused in one line, and 5xx answers are retried
// within a bounded budget. Nothing depends on timing.
import {
  LspError, configSchema, type LspConfig, type PolicyModelV1, type TokenizerV1,
} from '@lsp/core';
import backendWasm from '@lsp/backend-wasm';
import gameLsp from '@lsp/game-lsp';
import { loadModel, type LlamaModel } from '@lsp/model';
import tokenizerWasm, { loadTokenizer } from '@lsp/tokenizer-wasm';
import world, { builtinModelDirectory } from '@lsp/world';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModel } from '../packages/runner/src/commands/score';
import { PluginRegistry } from '../packages/runner/src/plugins/plugin-registry';
import { readMetrics, type IterationMetrics } from '../packages/runner/src/run/run-metrics';
import { runExperiment } from '../packages/runner/src/selfplay/experiment';
import { RemoteRollouts, createRolloutProvider } from '../packages/runner/src/selfplay/remote-rollouts';
import { chatPromptIds } from '../packages/runner/src/selfplay/self-play-loop';
import { startOpenAiServer, type OpenAiServer } from '../packages/runner/src/serve/openai-server';
import { startServe } from '../packages/runner/src/serve/run-serve';
import { startFaultProxy } from './support/fault-proxy';

let root: string;
let serve: Awaited<ReturnType<typeof startServe>>;
let url: string;
let policy: LlamaModel;
let tokenizer: TokenizerV1;
const quiet = () => {};
const noWait = { baseDelayMs: 0, attempts: 3 };

function registry(): PluginRegistry {
  const plugins = new PluginRegistry();
  for (const plugin of [backendWasm(), tokenizerWasm(), gameLsp(), world()]) plugins.add(plugin, 'config');
  return plugins;
}

function runConfig(overrides: Record<string, unknown>): LspConfig {
  return configSchema.parse({
    model: 'builtin', backend: 'wasm', iterations: 2, seed: 5, benchmark: 'none', checkpointEvery: 1,
    training: { queriesPerIteration: 3, answersPerQuery: 2, maxNewTokens: 12, learningRate: 1e-3 },
    ...overrides,
  });
}

const deterministic = (metrics: IterationMetrics[]) =>
  metrics.map(({ time: _time, tokensPerSecond: _speed, phaseSeconds: _phases, ...rest }) => rest);

const prompts = () => ['reverse abc', 'what is 3 + 4?', 'uppercase hello', 'count the letters in banana']
  .map((content) => ({ promptIds: chatPromptIds(tokenizer, [{ role: 'user', content }]) }));

/** The one line an LspError prints. */
async function refusal(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    if (!LspError.isInstance(error)) throw error;
    return error.toLine();
  }
  throw new Error('expected a refusal');
}

/** The server's log-probabilities of fixed sequences (what it would sample from). */
async function serverLogProbs(base: string, promptIds: number[]): Promise<number[]> {
  const response = await fetch(`${base}/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'builtin', prompt: promptIds, max_tokens: 6, temperature: 0, logprobs: 0, return_token_ids: true }),
  });
  const json = (await response.json()) as { choices: { logprobs: { token_logprobs: number[] } }[] };
  return json.choices[0]!.logprobs.token_logprobs;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lsp-remote-rollouts-'));
  serve = await startServe({ model: 'builtin', backend: 'wasm', host: '127.0.0.1', port: 0 });
  url = serve.server.baseUrl;
  policy = await openModel(builtinModelDirectory(), 'wasm');
  tokenizer = policy.tokenizer!;
});

afterAll(async () => {
  await serve.close();
  policy.dispose();
  tokenizer.dispose();
  policy.device.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('remote rollouts on lsp serve', () => {
  test('the server generates the tokens local generation gives for the same seed (greedy and sampled)', async () => {
    const rollouts = await RemoteRollouts.connect({
      url, policy, reference: policy, tokenizer, weightsDirectory: join(root, 'same-tokens'), retry: noWait,
    });
    expect(rollouts.reloadMethod).toBe('lsp');
    expect(rollouts.modelId).toBe('builtin');
    for (const options of [
      { maxNewTokens: 16, temperature: 0, seed: 1 },
      { maxNewTokens: 16, temperature: 1, seed: 7 },
      { maxNewTokens: 16, temperature: 0.8, topP: 0.9, topK: 20, seed: 11 },
    ]) {
      const requests = [...prompts(), ...prompts()];
      const remote = await rollouts.generate(requests, options);
      const local = await policy.generate(requests, options);
      expect(remote.map((result) => result.completionIds)).toEqual(local.map((result) => result.completionIds));
      expect(remote.map((result) => result.text)).toEqual(local.map((result) => result.text));
      expect(remote.map((result) => result.finishReason)).toEqual(local.map((result) => result.finishReason));
    }
  });

  test('a 2-iteration run with remote rollouts gives the local run\'s metrics, and the server ends on the trained policy', async () => {
    const localOut = join(root, 'run-local');
    const remoteOut = join(root, 'run-remote');
    const before = await serverLogProbs(url, prompts()[0]!.promptIds as number[]);
    await runExperiment({ config: runConfig({ out: localOut }), registry: registry(), print: quiet });
    const lines: string[] = [];
    const remote = await runExperiment({
      config: runConfig({ out: remoteOut, rollouts: 'openai', rolloutUrl: url }), registry: registry(),
      print: (line) => lines.push(line), rolloutRetry: noWait,
    });
    expect(remote.lastIteration).toBe(2);
    expect(lines.some((line) => line.includes(`rollouts on ${url}`) && line.includes('reloaded there after every step'))).toBe(true);
    const localMetrics = deterministic(readMetrics(localOut));
    expect(localMetrics.length).toBe(2);
    // Iteration 2 generates on the policy after step 1: equal only if the server took the new weights.
    expect(deterministic(readMetrics(remoteOut))).toEqual(localMetrics);

    // The server holds the final policy: its log-probabilities are the final checkpoint's, not the start's.
    const final = await loadModel(join(remoteOut, 'checkpoints', 'iteration-000002', 'model'), { device: policy.device, tokenizer });
    try {
      const promptIds = prompts()[0]!.promptIds as number[];
      const after = await serverLogProbs(url, promptIds);
      const [greedy] = await final.generate([{ promptIds }], { maxNewTokens: 6, temperature: 0 });
      const [expected] = await final.tokenLogProbs([{ promptIds, completionIds: greedy!.completionIds }]);
      expect(after.length).toBe(expected!.length);
      after.forEach((value, index) => expect(value).toBeCloseTo(expected![index]!, 4));
      expect(after).not.toEqual(before);
    } finally {
      final.dispose();
    }
  });

  test('with LoRA the adapter goes to the server after every step (vLLM\'s load_lora_adapter), giving the local LoRA run\'s metrics', async () => {
    const lora = { lora: { rank: 2 }, training: { queriesPerIteration: 3, answersPerQuery: 2, maxNewTokens: 12, learningRate: 3e-2 } };
    const localOut = join(root, 'lora-local');
    const remoteOut = join(root, 'lora-remote');
    await runExperiment({ config: runConfig({ ...lora, out: localOut }), registry: registry(), print: quiet });
    // A server of its own, on the built-in model as shipped (the shared one took another run's weights).
    const own = await startServe({ model: 'builtin', backend: 'wasm', host: '127.0.0.1', port: 0 });
    const url = own.server.baseUrl;
    try {
      const lines: string[] = [];
      await runExperiment({
        config: runConfig({ ...lora, out: remoteOut, rollouts: 'openai', rolloutUrl: url }), registry: registry(),
        print: (line) => lines.push(line), rolloutRetry: noWait,
      });
      expect(lines.some((line) => line.includes('the adapter is loaded there after every step'))).toBe(true);
      const localMetrics = deterministic(readMetrics(localOut));
      expect(localMetrics[1]!.kl).toBeGreaterThan(0);
      // Iteration 2 generates on the adapter after step 1: equal only if the server took it.
      expect(deterministic(readMetrics(remoteOut))).toEqual(localMetrics);
      // The server lists the base and the last adapter only (each earlier one was unloaded), over the same base.
      const listed = (await (await fetch(`${url}/models`)).json()) as { data: { id: string; parent: string | null }[] };
      expect(listed.data.map((entry) => entry.parent)).toEqual([null, 'builtin']);
      const adapter = listed.data[1]!.id;
      expect(adapter).toMatch(/^lsp-policy-[0-9a-f]{8}-3$/);
      // Unloading it leaves the base alone.
      const unload = await fetch(`${url}/unload_lora_adapter`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lora_name: adapter }) });
      expect(unload.status).toBe(200);
      const after = (await (await fetch(`${url}/models`)).json()) as { data: { id: string }[] };
      expect(after.data.map((entry) => entry.id)).toEqual(['builtin']);
    } finally {
      await own.close();
    }
  });

  test('lsp serve --adapter serves base + adapter; a server without adapter loading is refused for a LoRA run', async () => {
    const checkpoint = join(root, 'lora-local', 'checkpoints', 'iteration-000002', 'model');
    const adapted = await startServe({ model: 'builtin', backend: 'wasm', host: '127.0.0.1', port: 0, adapter: checkpoint });
    const local = await loadModel(checkpoint, { device: policy.device, tokenizer });
    try {
      const promptIds = prompts()[1]!.promptIds as number[];
      const served = await serverLogProbs(adapted.server.baseUrl, promptIds);
      const [greedy] = await local.generate([{ promptIds }], { maxNewTokens: 6, temperature: 0 });
      const [expected] = await local.tokenLogProbs([{ promptIds, completionIds: greedy!.completionIds }]);
      expect(served.length).toBeGreaterThan(0);
      expect(served.length).toBe(expected!.length);
      served.forEach((value, index) => expect(value).toBeCloseTo(expected![index]!, 4));
    } finally {
      local.dispose();
      await adapted.close();
    }
    const bare: OpenAiServer = startOpenAiServer({
      model: policy, modelName: 'builtin', eosTokenIds: policy.eosTokenIds, vocabularySize: policy.config.vocabularySize,
      contextLength: policy.config.maxPositionEmbeddings, port: 0,
    });
    try {
      const options = { url: bare.baseUrl, policy, reference: policy, tokenizer, weightsDirectory: join(root, 'bare-lora'), retry: noWait, lora: true };
      const line = await refusal(RemoteRollouts.connect(options));
      expect(line).toContain('cannot load LoRA adapters');
      expect(line).toContain('--enable-lora');
      expect(line.split('\n').length).toBe(1);
    } finally {
      await bare.stop();
    }
  });

  test('a server that cannot reload weights is refused unless stale rollouts are accepted', async () => {
    const bare: OpenAiServer = startOpenAiServer({
      model: policy, modelName: 'builtin', eosTokenIds: policy.eosTokenIds, vocabularySize: policy.config.vocabularySize,
      contextLength: policy.config.maxPositionEmbeddings, port: 0,
    });
    try {
      const options = { url: bare.baseUrl, policy, reference: policy, tokenizer, weightsDirectory: join(root, 'bare'), retry: noWait };
      const line = await refusal(RemoteRollouts.connect(options));
      expect(line).toContain('cannot reload weights');
      expect(line).toContain('--rollout-stale-policy');
      expect(line.split('\n').length).toBe(1);
      const logged: string[] = [];
      const stale = await RemoteRollouts.connect({ ...options, stalePolicy: true, log: (text) => logged.push(text) });
      expect(stale.reloadMethod).toBe('none');
      expect(logged.length).toBe(1);
      await stale.policyUpdated(1); // nothing to send
    } finally {
      await bare.stop();
    }
  });

  test('a mismatched tokenizer or model is refused in one line', async () => {
    // (the perturbed model below differs by far more than the tolerance; its line prints the measured difference)
    // A local tokenizer that encodes differently from the served one.
    const shifted: TokenizerV1 = Object.assign(Object.create(tokenizer) as TokenizerV1, {
      encode: (text: string, options?: { addSpecialTokens?: boolean }) => tokenizer.encode(text, options).map((id) => (id + 1) % policy.config.vocabularySize),
    });
    const tokenizerLine = await refusal(RemoteRollouts.connect({
      url, policy, reference: policy, tokenizer: shifted, weightsDirectory: join(root, 'shifted'), retry: noWait,
    }));
    expect(tokenizerLine).toContain('tokenizer does not match');
    expect(tokenizerLine.split('\n').length).toBe(1);

    // Another model with the same tokenizer (a perturbed copy), against a server that keeps serving the built-in model.
    const bare = startOpenAiServer({
      model: policy, modelName: 'builtin', eosTokenIds: policy.eosTokenIds, vocabularySize: policy.config.vocabularySize,
      contextLength: policy.config.maxPositionEmbeddings, port: 0,
    });
    const other: PolicyModelV1 = await loadModel(builtinModelDirectory(), { device: policy.device, tokenizer });
    try {
      // Perturb the copy: one large step on a made-up loss changes its predictions.
      const sequences = prompts().map((prompt) => ({ promptIds: prompt.promptIds, completionIds: [5, 6, 7, 8] }));
      await other.accumulateGradients(sequences, (logProbs) => logProbs.map((row) => new Float32Array(row.length).fill(-1)));
      await other.optimizerStep({ learningRate: 0.05, maxGradientNorm: 0, weightDecay: 0 });
      const modelLine = await refusal(RemoteRollouts.connect({
        url: bare.baseUrl, policy: other, reference: other, tokenizer, weightsDirectory: join(root, 'other'), stalePolicy: true, retry: noWait,
      }));
      expect(modelLine).toContain('its model builtin does not match the local one');
      expect(modelLine.split('\n').length).toBe(1);
    } finally {
      other.dispose();
      await bare.stop();
    }

    // A model id the server does not list.
    const nameLine = await refusal(RemoteRollouts.connect({
      url, model: 'other', policy, reference: policy, tokenizer, weightsDirectory: join(root, 'named'), retry: noWait,
    }));
    expect(nameLine).toContain('serves builtin, not other');
  });

  test('bad rollout settings are refused in one line', async () => {
    const parts = { policy, reference: policy, tokenizer, runDirectory: join(root, 'settings') };
    expect(await createRolloutProvider({}, parts)).toBeUndefined();
    expect(await refusal(createRolloutProvider({ rollouts: 'openai' }, parts))).toContain('--rollouts openai needs --rollout-url');
    expect(await refusal(createRolloutProvider({ rollouts: 'openai', rolloutUrl: url, rolloutApiKeyEnv: 'LSP_TEST_UNSET_KEY' }, parts, {})))
      .toContain('LSP_TEST_UNSET_KEY');
    expect(() => configSchema.parse({ rollouts: 'remote' })).toThrow();
  });

  test('5xx answers are retried; past the budget the run gets one line', async () => {
    const flaky = startFaultProxy(url, (_key, attempt) => (attempt === 0 ? '500' : undefined));
    const dead = startFaultProxy(url, () => '500');
    try {
      const rollouts = await RemoteRollouts.connect({
        url: flaky.url, policy, reference: policy, tokenizer, weightsDirectory: join(root, 'flaky'), retry: noWait,
      });
      const options = { maxNewTokens: 8, temperature: 1, seed: 3 };
      const remote = await rollouts.generate(prompts(), options);
      const local = await policy.generate(prompts(), options);
      expect(remote.map((result) => result.completionIds)).toEqual(local.map((result) => result.completionIds));
      expect(flaky.faultsInjected).toBeGreaterThan(0);

      const line = await refusal(RemoteRollouts.connect({
        url: dead.url, policy, reference: policy, tokenizer, weightsDirectory: join(root, 'dead'), retry: noWait,
      }));
      expect(line).toContain('failed 3 times in a row (last: 500');
      expect(line).toContain('last checkpoint is intact');
    } finally {
      flaky.stop();
      dead.stop();
    }
  });
});

describe('POST /v1/load_weights on lsp serve', () => {
  test('a bad path is refused with a 400 in OpenAI\'s error shape', async () => {
    for (const [body, expected] of [
      [{}, "'path' must be the path of a model folder"],
      [{ path: join(root, 'no-such-folder') }, 'has no config.json'],
    ] as const) {
      const response = await fetch(`${url}/load_weights`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(response.status).toBe(400);
      const json = (await response.json()) as { error: { message: string; param: string } };
      expect(json.error.message).toContain(expected);
      expect(json.error.param).toBe('path');
    }
    expect((await fetch(`${url}/load_weights`)).status).toBe(405);
  });
});

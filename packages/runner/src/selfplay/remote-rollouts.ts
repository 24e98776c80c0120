// Remote rollouts (`--rollouts openai --rollout-url URL`): the Challenger's and Solver's generations run on an
// OpenAI-compatible server (vLLM, SGLang, `lsp serve`) while training stays local. Token ids are what train, so
// prompts go as token ids to /v1/completions and the completion ids come back (`return_token_ids: true`); nothing
// is re-tokenised. At start the server's model and tokenizer are checked against the local ones; after every
// optimizer step the policy is saved to a folder and the server asked to reload it (POST /v1/load_weights of
// `lsp serve`, or SGLang's POST /update_weights_from_disk); a server that can do neither is refused unless the
// run accepts off-policy rollouts (`rolloutStalePolicy`). Requests are retried on 5xx, 429, network errors and
// timeouts within a bounded budget; then the run stops with one line, its last checkpoint intact.
import {
  ConfigError, InvalidInputError, LspError, UnavailableError,
  type GenerationRequest, type GenerationResult, type PolicyModelV1, type SamplingOptions, type TokenizerV1,
} from '@lsp/core';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';

/** What the self-play loop calls for the Challenger's and Solver's generations (policy.generate's shape). */
export interface GenerationProvider {
  generate(requests: readonly GenerationRequest[], options: SamplingOptions): Promise<GenerationResult[]>;
  /** Called after every applied optimizer step: the new policy must reach whatever generates. */
  policyUpdated(iteration: number): Promise<void>;
}

export interface RetryPolicy {
  /** Tries per request, the first included. Default 5. */
  attempts: number;
  /** Per-try time limit in ms. Default 600 000 (generation of a whole batch can be slow). */
  timeoutMs: number;
  /** Backoff before retry k is baseDelayMs * 2^(k-1), plus up to 25% jitter. Default 500. */
  baseDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 5, timeoutMs: 600_000, baseDelayMs: 500 };

export interface RemoteRolloutOptions {
  /** Base URL of the OpenAI API, e.g. http://gpu-box:8000/v1. */
  url: string;
  apiKey?: string;
  /** The model id to ask for; default the only one /v1/models lists. */
  model?: string;
  /** The trained policy: saved for the server after each step, and checked against the server's answers. */
  policy: PolicyModelV1;
  /** The starting policy (what a server without reloading keeps serving). */
  reference: PolicyModelV1;
  tokenizer: TokenizerV1;
  /** Folder the policy is written to for the server to reload (a path the server also sees). */
  weightsDirectory: string;
  /** Accept a server that cannot reload the policy (off-policy rollouts). */
  stalePolicy?: boolean;
  /**
   * The policy trains LoRA adapters: after each step the adapter (not the weights) is written and loaded with
   * vLLM's POST /v1/load_lora_adapter, under a new name the rollouts then ask for.
   */
  lora?: boolean;
  retry?: Partial<RetryPolicy>;
  log?: (line: string) => void;
}

/** The largest mean absolute difference of per-token log-probabilities between the server and the local model. */
export const modelMatchTolerance = 0.1;

type Json = Record<string, unknown>;

/** An HTTP answer that is final (4xx): retrying will not help. */
class FinalHttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function errorText(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } | string; message?: string; detail?: unknown };
    const message = typeof parsed.error === 'string' ? parsed.error : parsed.error?.message ?? parsed.message ?? parsed.detail;
    if (message !== undefined) return `${status} ${typeof message === 'string' ? message : JSON.stringify(message)}`;
  } catch {
    // Not JSON: the text itself.
  }
  return `${status} ${body.slice(0, 200).replace(/\s+/g, ' ').trim()}`;
}

export class RemoteRollouts implements GenerationProvider {
  private readonly retry: RetryPolicy;
  private readonly base: string;
  private readonly log: (line: string) => void;
  private model = '';
  /** How the server takes the policy: lsp serve's weights endpoint, SGLang's, LoRA adapters, or not at all. */
  private reload: 'lsp' | 'sglang' | 'lora' | 'none' = 'none';
  /** Adapters loaded: the name of the last one, and a run token that keeps names unique on a shared server. */
  private adapterName: string | undefined;
  private adapterCount = 0;
  private readonly adapterToken = randomUUID().slice(0, 8);
  /** Requests sent (for tests and the report of a failure). */
  requests = 0;

  private constructor(private readonly options: RemoteRolloutOptions) {
    this.retry = { ...defaultRetryPolicy, ...options.retry };
    this.base = options.url.replace(/\/+$/, '');
    this.log = options.log ?? (() => {});
  }

  /**
   * Connects and checks the server: it lists the model, accepts prompts as token ids and returns token ids, its
   * tokenizer encodes text as the local one does, it can take the policy after each step (or the run accepts
   * stale rollouts), and its log-probabilities match the local model's. Throws one line otherwise.
   */
  static async connect(options: RemoteRolloutOptions): Promise<RemoteRollouts> {
    const rollouts = new RemoteRollouts(options);
    await rollouts.checkModel();
    await rollouts.checkTokenizer();
    await rollouts.checkReload();
    await rollouts.checkWeights();
    return rollouts;
  }

  get reloadMethod(): 'lsp' | 'sglang' | 'lora' | 'none' {
    return this.reload;
  }

  get modelId(): string {
    return this.model;
  }

  private fail(message: string, hint?: string): never {
    throw new InvalidInputError(`rollout server ${this.base}: ${message}`, hint ? { hint } : {});
  }

  /** One HTTP request with retries on 5xx, 429, network errors and timeouts; 4xx other than 429 fail at once. */
  private async call(method: 'GET' | 'POST', url: string, body?: unknown, textReply = false): Promise<{ status: number; json: Json }> {
    let last = '';
    for (let attempt = 1; attempt <= this.retry.attempts; attempt++) {
      if (attempt > 1) {
        const delay = this.retry.baseDelayMs * 2 ** (attempt - 2);
        await Bun.sleep(delay + Math.random() * delay * 0.25);
      }
      this.requests++;
      try {
        const response = await fetch(url, {
          method,
          headers: {
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(this.retry.timeoutMs),
        });
        const text = await response.text();
        if (response.status >= 500 || response.status === 429) {
          last = errorText(response.status, text);
          continue;
        }
        if (response.status >= 400) throw new FinalHttpError(response.status, errorText(response.status, text));
        try {
          return { status: response.status, json: JSON.parse(text) as Json };
        } catch {
          // vLLM answers its adapter endpoints in plain text.
          if (textReply) return { status: response.status, json: { text } };
          last = `${response.status} a reply that is not JSON`;
          continue;
        }
      } catch (error) {
        if (error instanceof FinalHttpError) throw error;
        last = error instanceof Error ? (error.name === 'TimeoutError' ? `no answer within ${this.retry.timeoutMs} ms` : error.message) : String(error);
      }
    }
    throw new UnavailableError(
      `rollout server ${this.base} failed ${this.retry.attempts} times in a row (last: ${last})`,
      { hint: 'the last checkpoint is intact: resume the run with --resume once the server answers again' },
    );
  }

  private async post(path: string, body: unknown): Promise<Json> {
    try {
      return (await this.call('POST', `${this.base}${path}`, body)).json;
    } catch (error) {
      if (error instanceof FinalHttpError) this.fail(`POST ${path} was refused: ${error.message}`);
      throw error;
    }
  }

  private async checkModel(): Promise<void> {
    let listed: string[];
    try {
      const { json } = await this.call('GET', `${this.base}/models`);
      listed = Array.isArray(json.data) ? (json.data as Json[]).map((entry) => String(entry.id)) : [];
    } catch (error) {
      if (error instanceof FinalHttpError) this.fail(`GET /models was refused: ${error.message}`, 'check --rollout-url (the base URL ending in /v1) and the key');
      throw error;
    }
    if (this.options.model !== undefined) {
      if (!listed.includes(this.options.model)) this.fail(`serves ${listed.join(', ') || 'no model'}, not ${this.options.model}`, 'set rolloutModel to the id GET /v1/models lists');
      this.model = this.options.model;
    } else if (listed.length === 1) {
      this.model = listed[0]!;
    } else {
      this.fail(`lists ${listed.length === 0 ? 'no model' : `${listed.length} models (${listed.join(', ')})`}`, 'set rolloutModel to the id of the policy\'s model');
    }
  }

  /** One completion of id prompts with token ids back; the prompts must come back unchanged. */
  private async complete(promptIds: readonly (readonly number[])[], body: Json): Promise<Json[]> {
    const json = await this.post('/completions', {
      model: this.model, prompt: promptIds, n: 1, return_token_ids: true, stream: false, ...body,
    });
    const choices = Array.isArray(json.choices) ? (json.choices as Json[]) : [];
    if (choices.length !== promptIds.length) this.fail(`answered ${choices.length} choices for ${promptIds.length} prompts`);
    const ordered = [...choices].sort((a, b) => Number(a.index) - Number(b.index));
    for (const [index, choice] of ordered.entries()) {
      if (!Array.isArray(choice.token_ids) || !Array.isArray(choice.prompt_token_ids)) {
        this.fail('returns no token ids (prompt_token_ids, token_ids)', 'use a server that takes return_token_ids: true (vLLM 0.10.2 or later, a recent SGLang, lsp serve)');
      }
      const echoed = choice.prompt_token_ids as number[];
      const sent = promptIds[index]!;
      if (echoed.length !== sent.length || echoed.some((id, at) => id !== sent[at])) {
        this.fail(`changed prompt ${index}'s token ids (it re-tokenised them)`, 'the server must take prompts as token ids');
      }
    }
    return ordered;
  }

  /** The server encodes a text prompt to the ids the local tokenizer gives, and takes id prompts as they are. */
  private async checkTokenizer(): Promise<void> {
    const { tokenizer } = this.options;
    const text = 'reverse the string abc, then add 12 and 7.';
    const expected = tokenizer.encode(text, { addSpecialTokens: true });
    const json = await this.post('/completions', { model: this.model, prompt: text, max_tokens: 1, temperature: 0, return_token_ids: true });
    const choice = (Array.isArray(json.choices) ? (json.choices as Json[]) : [])[0];
    if (!choice || !Array.isArray(choice.prompt_token_ids)) {
      this.fail('returns no prompt_token_ids', 'use a server that takes return_token_ids: true (vLLM 0.10.2 or later, a recent SGLang, lsp serve)');
    }
    const got = choice.prompt_token_ids as number[];
    if (got.length !== expected.length || got.some((id, at) => id !== expected[at])) {
      this.fail(`its tokenizer does not match the local one ("${text}" is [${got.slice(0, 12).join(', ')}${got.length > 12 ? ', ...' : ''}] there, [${expected.slice(0, 12).join(', ')}${expected.length > 12 ? ', ...' : ''}] here)`,
        'serve the same model folder the run trains');
    }
    await this.complete([expected], { max_tokens: 1, temperature: 0 });
  }

  /** Which reload endpoint the server has: tried with the current policy, which a resumed run needs there anyway. */
  private async checkReload(): Promise<void> {
    if (this.options.lora) {
      if (await this.pushAdapter()) {
        this.reload = 'lora';
        return;
      }
      if (!this.options.stalePolicy) {
        this.fail('cannot load LoRA adapters (no POST /v1/load_lora_adapter), so its rollouts would come from a stale policy',
          'start vLLM with --enable-lora --max-lora-rank R and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True (or serve with `bun lsp serve`), or pass --rollout-stale-policy');
      }
      this.reload = 'none';
      this.log(`rollout server ${this.base} cannot load LoRA adapters: rollouts come from the base model it serves (--rollout-stale-policy)`);
      return;
    }
    if (await this.pushWeights('lsp')) {
      this.reload = 'lsp';
      return;
    }
    if (await this.pushWeights('sglang', false)) {
      this.reload = 'sglang';
      return;
    }
    if (!this.options.stalePolicy) {
      this.fail('cannot reload weights (no POST /v1/load_weights or /update_weights_from_disk; vLLM has no stable full-weight reload), so its rollouts would come from a stale policy',
        'pass --rollout-stale-policy to accept off-policy rollouts, or serve with `bun lsp serve` or SGLang');
    }
    this.reload = 'none';
    this.log(`rollout server ${this.base} cannot reload weights: rollouts come from the policy it serves, not the trained one (--rollout-stale-policy)`);
  }

  /** Saves the policy and asks the server to load it; false when the server has no such endpoint (404/405). */
  private async pushWeights(method: 'lsp' | 'sglang', save = true): Promise<boolean> {
    const folder = resolve(this.options.weightsDirectory);
    if (save) await this.options.policy.save(folder, { exact: true });
    const root = this.base.replace(/\/v1$/, '');
    const [url, body] = method === 'lsp'
      ? [`${this.base}/load_weights`, { path: folder }]
      : [`${root}/update_weights_from_disk`, { model_path: folder }];
    try {
      const { json } = await this.call('POST', url, body);
      if (method === 'sglang' && json.success === false) this.fail(`did not load the policy from ${folder}: ${String(json.message ?? 'no reason given')}`);
      return true;
    } catch (error) {
      if (error instanceof FinalHttpError) {
        if (error.status === 404 || error.status === 405) return false;
        this.fail(`did not load the policy from ${folder}: ${error.message}`, 'the folder must be readable by the server at the same path (rolloutWeightsDir)');
      }
      throw error;
    }
  }

  /**
   * Writes the policy's adapter under a new name and has the server load it (vLLM's /v1/load_lora_adapter), then
   * asks for that name and unloads the previous adapter; false when the server has no such endpoint (404/405).
   */
  private async pushAdapter(): Promise<boolean> {
    const name = `lsp-policy-${this.adapterToken}-${++this.adapterCount}`;
    const folder = resolve(this.options.weightsDirectory, name);
    await this.options.policy.save(folder);
    try {
      await this.call('POST', `${this.base}/load_lora_adapter`, { lora_name: name, lora_path: folder }, true);
    } catch (error) {
      rmSync(folder, { recursive: true, force: true });
      if (error instanceof FinalHttpError) {
        if (error.status === 404 || error.status === 405) return false;
        this.fail(`did not load the adapter from ${folder}: ${error.message}`, 'the folder must be readable by the server at the same path (rolloutWeightsDir), and its --max-lora-rank at least the run\'s rank');
      }
      throw error;
    }
    const previous = this.adapterName;
    this.adapterName = name;
    this.model = name;
    if (previous) {
      try {
        await this.call('POST', `${this.base}/unload_lora_adapter`, { lora_name: previous }, true);
      } catch (error) {
        if (!(error instanceof FinalHttpError)) throw error;
        this.log(`rollout server ${this.base} did not unload adapter ${previous}: ${error.message}`);
      }
      rmSync(resolve(this.options.weightsDirectory, previous), { recursive: true, force: true });
    }
    return true;
  }

  /** Greedy completions of a few prompts: the server's log-probabilities of its tokens must match the local model's. */
  private async checkWeights(): Promise<void> {
    const { tokenizer } = this.options;
    // What the server should be serving now: the policy when it took it, the starting model otherwise.
    const local = this.reload === 'none' ? this.options.reference : this.options.policy;
    const prompts = ['reverse abc', 'what is 2 + 3?'].map((content) =>
      tokenizer.encode(tokenizer.applyChatTemplate([{ role: 'user', content }], { addGenerationPrompt: true }), { addSpecialTokens: false }));
    const choices = await this.complete(prompts, { max_tokens: 8, temperature: 0, logprobs: 0 });
    const sequences = choices.map((choice, index) => ({ promptIds: prompts[index]!, completionIds: choice.token_ids as number[] }));
    const scored = sequences.filter((sequence) => sequence.completionIds.length > 0);
    const localLogProbs = scored.length > 0 ? await local.tokenLogProbs(scored) : [];
    let difference = 0;
    let tokens = 0;
    let next = 0;
    for (const [index, choice] of choices.entries()) {
      if (sequences[index]!.completionIds.length === 0) continue;
      const theirs = (choice.logprobs as { token_logprobs?: unknown } | null)?.token_logprobs;
      if (!Array.isArray(theirs)) this.fail('returns no token log-probabilities (logprobs: 0)', 'the model check needs them');
      const ours = localLogProbs[next++]!;
      for (let at = 0; at < ours.length; at++) {
        difference += Math.abs(Number(theirs[at]) - ours[at]!);
        tokens++;
      }
    }
    const meanDifference = tokens > 0 ? difference / tokens : 0;
    if (!(meanDifference <= modelMatchTolerance)) {
      this.fail(`its model ${this.model} does not match the local one (log-probabilities differ by ${meanDifference.toFixed(3)} a token, more than ${modelMatchTolerance})`,
        'serve the same model folder the run trains (or its latest checkpoint)');
    }
  }

  async generate(requests: readonly GenerationRequest[], options: SamplingOptions): Promise<GenerationResult[]> {
    if (requests.length === 0) return [];
    const stops = options.stopSequences ?? [];
    // One request with the call's seed: lsp serve then generates it as one call of its own, which gives the tokens
    // local generation gives for the same prompts, settings and seed (docs/serve.md).
    const choices = await this.complete(requests.map((request) => request.promptIds), {
      max_tokens: options.maxNewTokens,
      temperature: options.temperature ?? 1,
      top_p: options.topP ?? 1,
      top_k: options.topK && options.topK > 0 ? options.topK : -1,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(stops.length > 0 ? { stop: stops } : {}),
    });
    return choices.map((choice) => {
      const completionIds = (choice.token_ids as unknown[]).map(Number);
      // Without stop sequences a 'stop' is the end token; the text is decoded here as local generation decodes it.
      const stopped = stops.length > 0 && choice.finish_reason === 'stop';
      const finishReason: GenerationResult['finishReason'] = choice.finish_reason === 'length' ? 'length' : stopped ? 'stop-sequence' : 'eos';
      const text = stopped ? String(choice.text ?? '') : this.options.tokenizer.decode(completionIds, { skipSpecialTokens: true });
      return { completionIds, text, finishReason };
    });
  }

  async policyUpdated(_iteration: number): Promise<void> {
    if (this.reload === 'none') return;
    if (this.reload === 'lora') {
      if (!(await this.pushAdapter())) this.fail('stopped answering /v1/load_lora_adapter');
      return;
    }
    if (!(await this.pushWeights(this.reload))) this.fail('stopped answering its weight-reload endpoint');
  }
}

/** The provider a config asks for: undefined for local rollouts, else a connected, checked RemoteRollouts. */
export async function createRolloutProvider(
  config: { rollouts?: 'local' | 'openai'; rolloutUrl?: string; rolloutApiKeyEnv?: string; rolloutModel?: string; rolloutStalePolicy?: boolean; rolloutWeightsDir?: string },
  parts: {
    policy: PolicyModelV1; reference: PolicyModelV1; tokenizer: TokenizerV1; runDirectory: string; lora?: boolean;
    log?: (line: string) => void; retry?: Partial<RetryPolicy>;
  },
  environment: Record<string, string | undefined> = process.env,
): Promise<RemoteRollouts | undefined> {
  if ((config.rollouts ?? 'local') === 'local') {
    if (config.rolloutUrl !== undefined) throw new ConfigError('rolloutUrl is set but rollouts is local', { hint: 'add --rollouts openai, or drop --rollout-url' });
    return undefined;
  }
  if (!config.rolloutUrl) throw new ConfigError('--rollouts openai needs --rollout-url URL (the server\'s base URL, e.g. http://gpu-box:8000/v1)');
  let apiKey: string | undefined;
  if (config.rolloutApiKeyEnv !== undefined) {
    apiKey = environment[config.rolloutApiKeyEnv]?.trim();
    if (!apiKey) throw new ConfigError(`the environment variable ${config.rolloutApiKeyEnv} named by rolloutApiKeyEnv is not set`, { hint: `export ${config.rolloutApiKeyEnv}=<key> first` });
  }
  try {
    return await RemoteRollouts.connect({
      url: config.rolloutUrl,
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(config.rolloutModel !== undefined ? { model: config.rolloutModel } : {}),
      policy: parts.policy, reference: parts.reference, tokenizer: parts.tokenizer,
      weightsDirectory: config.rolloutWeightsDir ?? resolve(parts.runDirectory, 'rollout-weights'),
      stalePolicy: config.rolloutStalePolicy ?? false,
      lora: parts.lora ?? false,
      ...(parts.retry ? { retry: parts.retry } : {}),
      ...(parts.log ? { log: parts.log } : {}),
    });
  } catch (error) {
    if (LspError.isInstance(error)) throw error;
    throw new UnavailableError(`rollout server ${config.rolloutUrl}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

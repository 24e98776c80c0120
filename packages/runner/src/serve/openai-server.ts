// `lsp serve`'s HTTP side: an OpenAI-compatible API on Bun.serve over the batched generation of a policy model.
// GET /v1/models, POST /v1/chat/completions and POST /v1/completions (with and without `stream`), errors in
// OpenAI's JSON shape, and an optional bearer key. GET /health answers without a key (for load balancers and
// tests waiting for the server).
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { LspError, UnavailableError, type PolicyModelV1, type TokenizerV1 } from '@lsp/core';
import { GenerationBatcher, type BatcherStats, type EntryDelta, type EntryOutput } from './generation-batcher';
import { ApiError, errorResponse, jsonResponse } from './openai-errors';
import {
  parseChatRequest, parseCompletionRequest, parseJsonBody, type GenerationPlan, type ServedModelFacts,
} from './openai-requests';

export interface OpenAiServerOptions {
  model: PolicyModelV1;
  /** The id clients give as `model` and /v1/models lists. */
  modelName: string;
  /** Token ids that end generation (the model's eos and end-of-turn ids). */
  eosTokenIds: ReadonlySet<number>;
  vocabularySize: number;
  contextLength: number;
  /** Sampling defaults for settings a request leaves out (generation_config.json's). */
  defaults?: ServedModelFacts['defaults'];
  /** Address to bind. Default 127.0.0.1 (this machine only). */
  host?: string;
  /** Default 8000; 0 picks a free port. */
  port?: number;
  /** When set, every /v1 request needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  batchWindowMs?: number;
  maxBatchEntries?: number;
  /**
   * Enables POST /v1/load_weights {"path": DIR}: opens the model folder DIR (same architecture and tokenizer) and
   * serves it from the next batch on. Throws an ApiError (or any error, answered as 400) when the folder does not fit.
   */
  loadWeights?: (path: string) => Promise<PolicyModelV1>;
  /**
   * Enables vLLM's POST /v1/load_lora_adapter {"lora_name", "lora_path"} and /v1/unload_lora_adapter
   * {"lora_name"}: the adapter folder on the served base model, answering requests whose `model` is lora_name.
   * The server disposes the models it gets from here.
   */
  loadAdapter?: (path: string) => Promise<PolicyModelV1>;
}

export interface OpenAiServer {
  /** The API's base URL, e.g. http://127.0.0.1:8000/v1 (what clients take as baseURL). */
  readonly baseUrl: string;
  readonly port: number;
  readonly stats: BatcherStats;
  stop(): Promise<void>;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

function checkKey(request: Request, key: string | undefined): void {
  if (key === undefined) return;
  const header = request.headers.get('authorization') ?? '';
  const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
  if (given === undefined) {
    throw new ApiError(401, "You didn't provide an API key: send it as 'Authorization: Bearer <key>'.", { code: 'invalid_api_key' });
  }
  if (!timingSafeEqual(sha256(given), sha256(key))) {
    throw new ApiError(401, 'Incorrect API key provided.', { code: 'invalid_api_key' });
  }
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

function usageOf(plan: GenerationPlan, outputs: readonly EntryOutput[]): Usage {
  const prompt = plan.prompts.reduce((sum, ids) => sum + ids.length, 0);
  const completion = outputs.reduce((sum, output) => sum + output.completionIds.length, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Token pieces for log-probability listings: each id's own text (special tokens included). */
function tokenPieces(tokenizer: TokenizerV1 | undefined, ids: readonly number[]): string[] {
  return ids.map((id) => tokenizer?.decode([id]) ?? `token_id:${id}`);
}

function chatLogprobs(tokenizer: TokenizerV1 | undefined, output: EntryOutput) {
  const pieces = tokenPieces(tokenizer, output.completionIds);
  return {
    content: pieces.map((token, index) => ({
      token, logprob: output.tokenLogProbs![index]!, bytes: Array.from(new TextEncoder().encode(token)), top_logprobs: [],
    })),
  };
}

function completionLogprobs(tokenizer: TokenizerV1 | undefined, output: EntryOutput) {
  const pieces = tokenPieces(tokenizer, output.completionIds);
  const offsets: number[] = [];
  let offset = 0;
  for (const piece of pieces) {
    offsets.push(offset);
    offset += piece.length;
  }
  return { tokens: pieces, token_logprobs: output.tokenLogProbs!, top_logprobs: null, text_offset: offsets };
}

/** An error as one line: an LspError's own line, else its message. */
function errorLine(error: unknown): string {
  return LspError.isInstance(error) ? error.toLine() : error instanceof Error ? error.message : String(error);
}

export function startOpenAiServer(options: OpenAiServerOptions): OpenAiServer {
  const { model, modelName } = options;
  const tokenizer = model.tokenizer;
  /** LoRA adapters loaded beside the served model: each its own model (sharing the base weights) and batcher. */
  const adapters = new Map<string, { model: PolicyModelV1; batcher: GenerationBatcher; path: string }>();
  const facts: ServedModelFacts = {
    name: modelName, tokenizer, vocabularySize: options.vocabularySize, contextLength: options.contextLength,
    defaults: options.defaults ?? {}, adapterNames: () => [...adapters.keys()],
  };
  const batcherFor = (served: PolicyModelV1) => new GenerationBatcher(served, {
    eosTokenIds: options.eosTokenIds, contextLength: options.contextLength,
    ...(options.batchWindowMs !== undefined ? { windowMs: options.batchWindowMs } : {}),
    ...(options.maxBatchEntries !== undefined ? { maxBatchEntries: options.maxBatchEntries } : {}),
  });
  const batcher = batcherFor(model);
  /** The batcher of the model a request names. */
  const batcherOf = (plan: GenerationPlan) => adapters.get(plan.model)?.batcher ?? batcher;
  const created = Math.floor(Date.now() / 1000);

  /** The plan's entries: every prompt's n choices, prompt by prompt (choice index = prompt * n + choice). */
  const entriesOf = (plan: GenerationPlan) => plan.prompts.flatMap((promptIds) =>
    Array.from({ length: plan.n }, () => ({ promptIds, maxTokens: plan.maxTokens })));
  const samplingOf = (plan: GenerationPlan) => ({
    temperature: plan.temperature, topP: plan.topP, topK: plan.topK, stop: plan.stop,
    ...(plan.seed !== undefined ? { seed: plan.seed } : {}),
  });
  const promptOf = (plan: GenerationPlan, choice: number) => plan.prompts[Math.floor(choice / plan.n)]!;

  async function complete(plan: GenerationPlan): Promise<Response> {
    const outputs = await batcherOf(plan).submit(entriesOf(plan), samplingOf(plan), { logprobs: plan.logprobs });
    const now = Math.floor(Date.now() / 1000);
    const usage = usageOf(plan, outputs);
    if (plan.kind === 'chat') {
      return jsonResponse(200, {
        id: `chatcmpl-${randomUUID().replaceAll('-', '')}`,
        object: 'chat.completion', created: now, model: plan.model,
        choices: outputs.map((output, index) => ({
          index,
          message: { role: 'assistant', content: output.text, refusal: null },
          logprobs: plan.logprobs ? chatLogprobs(tokenizer, output) : null,
          finish_reason: output.finishReason,
          ...(plan.returnTokenIds ? { token_ids: output.completionIds } : {}),
        })),
        usage,
        ...(plan.returnTokenIds ? { prompt_token_ids: plan.prompts[0] } : {}),
      });
    }
    return jsonResponse(200, {
      id: `cmpl-${randomUUID().replaceAll('-', '')}`,
      object: 'text_completion', created: now, model: plan.model,
      choices: outputs.map((output, index) => ({
        index,
        text: output.text,
        logprobs: plan.logprobs ? completionLogprobs(tokenizer, output) : null,
        finish_reason: output.finishReason,
        ...(plan.returnTokenIds ? { prompt_token_ids: promptOf(plan, index), token_ids: output.completionIds } : {}),
      })),
      usage,
    });
  }

  /** Server-sent events in OpenAI's chunk format, ending with `data: [DONE]`. */
  function streamCompletion(plan: GenerationPlan): Response {
    const id = plan.kind === 'chat' ? `chatcmpl-${randomUUID().replaceAll('-', '')}` : `cmpl-${randomUUID().replaceAll('-', '')}`;
    const object = plan.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    const now = Math.floor(Date.now() / 1000);
    const encoder = new TextEncoder();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let open = true;
    const send = (data: unknown) => {
      if (!open) return;
      try {
        controller.enqueue(encoder.encode(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`));
      } catch {
        open = false;
      }
    };
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
      id, object, created: now, model: plan.model, choices, ...(plan.includeUsage ? { usage: null } : {}), ...extra,
    });
    const started = new Set<number>();
    const choiceChunk = (index: number, delta: EntryDelta, finish: string | null, logprobs: unknown = null) => {
      const first = !started.has(index);
      started.add(index);
      const ids = plan.returnTokenIds ? { token_ids: delta.ids } : {};
      if (plan.kind === 'chat') {
        const content = first ? { role: 'assistant', content: delta.text } : delta.text || finish === null ? { content: delta.text } : {};
        const promptIds = plan.returnTokenIds && first ? { prompt_token_ids: plan.prompts[0] } : {};
        return chunk([{ index, delta: content, logprobs, finish_reason: finish, ...ids }], promptIds);
      }
      const promptIds = plan.returnTokenIds && first ? { prompt_token_ids: promptOf(plan, index) } : {};
      return chunk([{ index, text: delta.text, logprobs, finish_reason: finish, ...promptIds, ...ids }]);
    };
    const body = new ReadableStream<Uint8Array>({
      start(streamController) {
        controller = streamController;
      },
      cancel() {
        open = false;
      },
    });
    const entries = entriesOf(plan);
    void batcherOf(plan).submit(entries, samplingOf(plan), {
      logprobs: plan.logprobs,
      onDelta: (index, delta) => {
        // Ids without text (an end token, bytes of an unfinished character) are news only to token-id clients.
        if (delta.text || plan.returnTokenIds) send(choiceChunk(index, delta, null));
      },
    }).then((outputs) => {
      outputs.forEach((output, index) => {
        if (plan.logprobs) {
          // Log-probabilities come from one scoring pass after generation: the whole choice arrives at once.
          const logprobs = plan.kind === 'chat' ? chatLogprobs(tokenizer, output) : completionLogprobs(tokenizer, output);
          send(choiceChunk(index, { text: output.text, ids: output.completionIds }, output.finishReason, logprobs));
        } else {
          send(choiceChunk(index, { text: '', ids: [] }, output.finishReason));
        }
      });
      if (plan.includeUsage) send({ id, object, created: now, model: plan.model, choices: [], usage: usageOf(plan, outputs) });
      send('[DONE]');
    }, (error: unknown) => {
      send(internalError(error).body());
      send('[DONE]');
    }).finally(() => {
      if (!open) return;
      open = false;
      try {
        controller.close();
      } catch {
        // Already closed by the client.
      }
    });
    return new Response(body, {
      status: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' },
    });
  }

  function internalError(error: unknown): ApiError {
    if (error instanceof ApiError) return error;
    return new ApiError(500, `The server failed to generate: ${errorLine(error)}`);
  }

  /** POST /v1/load_weights: the folder's weights replace the served ones between batches. */
  async function loadWeights(body: Record<string, unknown>): Promise<Response> {
    const folder = body.path;
    if (typeof folder !== 'string' || folder.trim() === '') {
      throw new ApiError(400, "'path' must be the path of a model folder on the server's machine.", { param: 'path', code: 'invalid_value' });
    }
    if (adapters.size > 0) {
      throw new ApiError(400, `LoRA adapters (${[...adapters.keys()].join(', ')}) are loaded over the served weights; unload them before replacing the weights.`, { param: 'path', code: 'invalid_value' });
    }
    let next: PolicyModelV1;
    try {
      next = await options.loadWeights!(folder);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw new ApiError(400, `Cannot load weights from ${folder}: ${errorLine(error)}`, { param: 'path', code: 'invalid_value' });
    }
    const previous = await batcher.replaceModel(next);
    previous.dispose();
    return jsonResponse(200, { status: 'ok', path: folder });
  }

  const loraName = (body: Record<string, unknown>): string => {
    const name = body.lora_name;
    if (typeof name !== 'string' || name.trim() === '') {
      throw new ApiError(400, "'lora_name' must be the name requests will give as `model`.", { param: 'lora_name', code: 'invalid_value' });
    }
    return name;
  };

  /** Closes an adapter's batcher, waits for its batch in progress, and frees its model. */
  async function retire(entry: { model: PolicyModelV1; batcher: GenerationBatcher }): Promise<void> {
    entry.batcher.close();
    await entry.batcher.replaceModel(entry.model);
    entry.model.dispose();
  }

  /** POST /v1/load_lora_adapter (vLLM's): the adapter folder served under lora_name; load_inplace replaces one. */
  async function loadLoraAdapter(body: Record<string, unknown>): Promise<Response> {
    const name = loraName(body);
    const path = body.lora_path;
    if (typeof path !== 'string' || path.trim() === '') {
      throw new ApiError(400, "'lora_path' must be the path of a PEFT adapter folder on the server's machine.", { param: 'lora_path', code: 'invalid_value' });
    }
    if (name === modelName) throw new ApiError(400, `'${name}' is the served model's own name; give the adapter another.`, { param: 'lora_name', code: 'invalid_value' });
    const existing = adapters.get(name);
    if (existing && body.load_inplace !== true) {
      throw new ApiError(400, `The lora adapter '${name}' has already been loaded (pass load_inplace: true to replace it).`, { param: 'lora_name', code: 'invalid_value' });
    }
    let next: PolicyModelV1;
    try {
      next = await options.loadAdapter!(path);
    } catch (error) {
      throw new ApiError(400, `Cannot load the LoRA adapter from ${path}: ${errorLine(error)}`, { param: 'lora_path', code: 'invalid_value' });
    }
    if (existing) {
      const previous = await existing.batcher.replaceModel(next);
      previous.dispose();
      existing.model = next;
      existing.path = path;
    } else {
      adapters.set(name, { model: next, batcher: batcherFor(next), path });
    }
    return new Response(`Success: LoRA adapter '${name}' added successfully.`, { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }

  /** POST /v1/unload_lora_adapter (vLLM's). */
  async function unloadLoraAdapter(body: Record<string, unknown>): Promise<Response> {
    const name = loraName(body);
    const entry = adapters.get(name);
    if (!entry) throw new ApiError(404, `The lora adapter '${name}' cannot be found.`, { param: 'lora_name', code: 'not_found' });
    adapters.delete(name);
    await retire(entry);
    return new Response(`Success: LoRA adapter '${name}' removed successfully.`, { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }

  async function route(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    const path = pathname.replace(/\/+$/, '') || '/';
    if (path === '/health') return new Response('ok\n', { status: 200 });
    const routes: Record<string, string> = { '/v1/models': 'GET', '/v1/chat/completions': 'POST', '/v1/completions': 'POST' };
    if (options.loadWeights) routes['/v1/load_weights'] = 'POST';
    if (options.loadAdapter) {
      routes['/v1/load_lora_adapter'] = 'POST';
      routes['/v1/unload_lora_adapter'] = 'POST';
    }
    const isModel = path.startsWith('/v1/models/');
    const method = routes[path] ?? (isModel ? 'GET' : undefined);
    if (!method) throw new ApiError(404, `Unknown path ${request.method} ${pathname}: lsp serve answers GET /v1/models, POST /v1/chat/completions and POST /v1/completions.`, { code: 'not_found' });
    if (request.method !== method) throw new ApiError(405, `${request.method} is not allowed on ${pathname}; use ${method}.`, { code: 'method_not_allowed' });
    checkKey(request, options.apiKey);
    const modelObject = { id: modelName, object: 'model', created, owned_by: 'lsp', root: modelName, parent: null };
    const adapterObjects = [...adapters].map(([name, entry]) => ({ id: name, object: 'model', created, owned_by: 'lsp', root: entry.path, parent: modelName }));
    if (path === '/v1/models') return jsonResponse(200, { object: 'list', data: [modelObject, ...adapterObjects] });
    if (isModel) {
      const name = decodeURIComponent(path.slice('/v1/models/'.length));
      const found = [modelObject, ...adapterObjects].find((entry) => entry.id === name);
      if (!found) throw new ApiError(404, `The model '${name}' does not exist: this server serves '${modelName}'.`, { code: 'model_not_found' });
      return jsonResponse(200, found);
    }
    const body = parseJsonBody(await request.text());
    if (path === '/v1/load_weights') return loadWeights(body);
    if (path === '/v1/load_lora_adapter') return loadLoraAdapter(body);
    if (path === '/v1/unload_lora_adapter') return unloadLoraAdapter(body);
    const plan = path === '/v1/chat/completions' ? parseChatRequest(body, facts) : parseCompletionRequest(body, facts);
    return plan.stream ? streamCompletion(plan) : complete(plan);
  }

  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: options.host ?? '127.0.0.1',
      port: options.port ?? 8000,
      // Generation can take longer than Bun's default 10 s of silence on a connection.
      idleTimeout: 0,
      fetch: async (request) => {
        try {
          return await route(request);
        } catch (error) {
          return errorResponse(internalError(error));
        }
      },
      error: (error) => errorResponse(internalError(error)),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const inUse = /in use|EADDRINUSE/i.test(reason);
    throw new UnavailableError(
      inUse ? `port ${options.port ?? 8000} on ${options.host ?? '127.0.0.1'} is in use` : `cannot listen on ${options.host ?? '127.0.0.1'}:${options.port ?? 8000} (${reason})`,
      { hint: inUse ? 'choose another --port (0 picks a free one)' : 'check --host and --port' },
    );
  }
  const port = server.port ?? options.port ?? 8000;
  const host = server.hostname ?? options.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    baseUrl: `http://${urlHost}:${port}/v1`,
    port,
    stats: batcher.stats,
    async stop() {
      batcher.close();
      await server.stop(true);
      for (const entry of adapters.values()) await retire(entry);
      adapters.clear();
    },
  };
}

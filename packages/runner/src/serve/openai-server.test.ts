// `lsp serve` through the official `openai` npm client, unchanged, on the built-in world model (CPU): models,
// chat with and without streaming, completions from text and from token ids (ids and log-probabilities back),
// sampling settings, stop sequences, usage, refusals in OpenAI's error shape, the API key, and 32 concurrent
// clients answered in shared batches.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import OpenAI from 'openai';
import type { TokenizerV1 } from '@lsp/core';
import type { LlamaModel } from '@lsp/model';
import { builtinModelDirectory } from '@lsp/world';
import { openModel } from '../commands/score';
import { startOpenAiServer, type OpenAiServer, type OpenAiServerOptions } from './openai-server';
import { readApiKey } from './run-serve';

let model: LlamaModel;
let tokenizer: TokenizerV1;
const servers: OpenAiServer[] = [];
let server: OpenAiServer;
let client: OpenAI;

function serve(extra: Partial<OpenAiServerOptions> = {}): OpenAiServer {
  const started = startOpenAiServer({
    model, modelName: 'builtin', eosTokenIds: model.eosTokenIds, vocabularySize: model.config.vocabularySize,
    contextLength: model.config.maxPositionEmbeddings, port: 0, ...extra,
  });
  servers.push(started);
  return started;
}

beforeAll(async () => {
  model = await openModel(builtinModelDirectory(), 'wasm');
  tokenizer = model.tokenizer!;
  server = serve();
  client = new OpenAI({ baseURL: server.baseUrl, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  for (const started of servers) await started.stop();
  model.dispose();
  tokenizer.dispose();
  model.device.dispose();
});

/** What the model generates locally for one prompt: the reference the server's answers are checked against. */
async function local(promptIds: number[], options: { maxNewTokens: number; temperature: number; seed?: number; stopSequences?: string[] }) {
  const [result] = await model.generate([{ promptIds }], { seed: 0, ...options });
  return result!;
}

const chatIds = (content: string) => tokenizer.encode(
  tokenizer.applyChatTemplate([{ role: 'user', content }], { addGenerationPrompt: true }), { addSpecialTokens: false });

describe('lsp serve through the openai client', () => {
  test('lists the served model', async () => {
    const models = await client.models.list();
    expect(models.data.map((entry) => entry.id)).toEqual(['builtin']);
    expect((await client.models.retrieve('builtin')).id).toBe('builtin');
  });

  test('chat: the greedy answer the model gives locally, with usage and finish_reason', async () => {
    const completion = await client.chat.completions.create({
      model: 'builtin', messages: [{ role: 'user', content: 'reverse abc' }], temperature: 0, max_tokens: 30,
    });
    const reference = await local(chatIds('reverse abc'), { maxNewTokens: 30, temperature: 0 });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]!.message).toMatchObject({ role: 'assistant', content: reference.text });
    expect(completion.choices[0]!.finish_reason).toBe(reference.finishReason === 'length' ? 'length' : 'stop');
    expect(completion.usage).toEqual({
      prompt_tokens: chatIds('reverse abc').length, completion_tokens: reference.completionIds.length,
      total_tokens: chatIds('reverse abc').length + reference.completionIds.length,
    });
  });

  test('chat streaming: chunks add up to the same answer, then a usage chunk', async () => {
    const messages = [{ role: 'user' as const, content: 'upper abc' }];
    const whole = await client.chat.completions.create({ model: 'builtin', messages, temperature: 0, max_tokens: 30 });
    const stream = await client.chat.completions.create({
      model: 'builtin', messages, temperature: 0, max_tokens: 30, stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.object).toBe('chat.completion.chunk');
      for (const choice of chunk.choices) {
        text += choice.delta.content ?? '';
        finish = choice.finish_reason ?? finish;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text).toBe(whole.choices[0]!.message.content!);
    expect(finish).toBe(whole.choices[0]!.finish_reason);
    expect(usage).toEqual(whole.usage);
  });

  test('completions: text prompt, a stop sequence, max_tokens and n', async () => {
    const greedy = await local(tokenizer.encode('reverse hello', { addSpecialTokens: true }), { maxNewTokens: 12, temperature: 0 });
    const plain = await client.completions.create({ model: 'builtin', prompt: 'reverse hello', max_tokens: 12, temperature: 0 });
    expect(plain.object).toBe('text_completion');
    expect(plain.choices[0]!.text).toBe(greedy.text);
    // A stop sequence taken from the middle of the greedy answer cuts it there.
    const stop = greedy.text.slice(2, 3);
    expect(stop.length).toBe(1);
    const stopped = await client.completions.create({ model: 'builtin', prompt: 'reverse hello', max_tokens: 12, temperature: 0, stop: [stop] });
    expect(stopped.choices[0]!.text).toBe(greedy.text.slice(0, greedy.text.indexOf(stop)));
    expect(stopped.choices[0]!.finish_reason).toBe('stop');
    const short = await client.completions.create({
      model: 'builtin', prompt: 'sort dcba', max_tokens: 2, temperature: 1, n: 3, return_token_ids: true,
    } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(short.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    const lengths = short.choices.map((choice) => (choice as { token_ids?: number[] }).token_ids!.length);
    short.choices.forEach((choice, index) => {
      // An answer that ends with the end token within two tokens stops; every other one is cut at two.
      expect(lengths[index]).toBeLessThanOrEqual(2);
      if (choice.finish_reason === 'length') expect(lengths[index]).toBe(2);
    });
    expect(short.usage!.completion_tokens).toBe(lengths.reduce((a, b) => a + b, 0));
    expect(short.usage!.prompt_tokens).toBe(tokenizer.encode('sort dcba', { addSpecialTokens: true }).length);
  });

  test('completions from token ids give token ids and log-probabilities back; a seed reproduces local generation', async () => {
    const promptIds = tokenizer.encode('repeat 2 ab', { addSpecialTokens: true });
    const request = {
      model: 'builtin', prompt: promptIds, max_tokens: 10, temperature: 1, seed: 1234, logprobs: 0, return_token_ids: true,
    } as OpenAI.CompletionCreateParamsNonStreaming;
    const first = await client.completions.create(request);
    const again = await client.completions.create(request);
    const choice = first.choices[0] as OpenAI.CompletionChoice & { token_ids: number[]; prompt_token_ids: number[] };
    const reference = await local(promptIds, { maxNewTokens: 10, temperature: 1, seed: 1234 });
    expect(choice.prompt_token_ids).toEqual(promptIds);
    expect(choice.token_ids).toEqual(reference.completionIds);
    expect((again.choices[0] as typeof choice).token_ids).toEqual(choice.token_ids);
    const [logProbs] = await model.tokenLogProbs([{ promptIds, completionIds: choice.token_ids }]);
    expect(choice.logprobs!.token_logprobs!).toHaveLength(choice.token_ids.length);
    choice.logprobs!.token_logprobs!.forEach((value, index) => expect(value).toBeCloseTo(logProbs![index]!, 5));
    expect(first.usage!.prompt_tokens).toBe(promptIds.length);

    // Several prompts as id lists in one request, streamed: every choice's ids arrive with its text.
    const stream = await client.completions.create({
      model: 'builtin', prompt: [promptIds, tokenizer.encode('add 1 2', { addSpecialTokens: true })], max_tokens: 6,
      temperature: 0, stream: true, return_token_ids: true,
    } as OpenAI.CompletionCreateParamsStreaming);
    const ids: number[][] = [[], []];
    const texts = ['', ''];
    for await (const chunk of stream) {
      for (const streamed of chunk.choices as (OpenAI.CompletionChoice & { token_ids?: number[] })[]) {
        ids[streamed.index]!.push(...(streamed.token_ids ?? []));
        texts[streamed.index] += streamed.text;
      }
    }
    ids.forEach((list, index) => expect(tokenizer.decode(list, { skipSpecialTokens: true }).startsWith(texts[index]!)).toBe(true));
    expect(ids[0]!.length).toBeGreaterThan(0);
  });

  test('bad requests are refused with OpenAI\'s error shape and status', async () => {
    const refusal = async (work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (error) {
        return error as InstanceType<typeof OpenAI.APIError>;
      }
      throw new Error('the request was not refused');
    };
    const empty = await refusal(() => client.chat.completions.create({ model: 'builtin', messages: [] }));
    expect(empty).toBeInstanceOf(OpenAI.BadRequestError);
    expect(empty.status).toBe(400);
    expect(empty.param).toBe('messages');
    const temperature = await refusal(() => client.chat.completions.create({ model: 'builtin', messages: [{ role: 'user', content: 'x' }], temperature: -1 }));
    expect(temperature.status).toBe(400);
    expect(temperature.message).toContain("'temperature' must be a number of at least 0");
    const unknown = await refusal(() => client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }));
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown.code).toBe('model_not_found');
    const tooLong = await refusal(() => client.completions.create({ model: 'builtin', prompt: 'x'.repeat(400) }));
    expect(tooLong.code).toBe('context_length_exceeded');
    const outOfRange = await refusal(() => client.completions.create({ model: 'builtin', prompt: [1, 99999] }));
    expect(outOfRange.message).toContain('Token id 99999 is out of range');
    const penalty = await refusal(() => client.completions.create({ model: 'builtin', prompt: 'x', presence_penalty: 1 }));
    expect(penalty.code).toBe('unsupported_parameter');

    const raw = await fetch(`${server.baseUrl}/chat/completions`, { method: 'POST', body: '{not json' });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({
      error: { message: expect.stringContaining('not valid JSON'), type: 'invalid_request_error', param: null, code: 'invalid_json' },
    });
    expect((await fetch(`${server.baseUrl}/embeddings`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${server.baseUrl}/completions`)).status).toBe(405);
  });

  test('with an API key, a missing or wrong key gets 401 and the right one is answered', async () => {
    const keyed = serve({ apiKey: 'sk-test-4242' });
    const wrong = new OpenAI({ baseURL: keyed.baseUrl, apiKey: 'sk-wrong', maxRetries: 0 });
    const error = await wrong.models.list().then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    const bare = await fetch(`${keyed.baseUrl}/models`);
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    expect((await fetch(`${keyed.baseUrl.replace(/\/v1$/, '')}/health`)).status).toBe(200);
    const right = new OpenAI({ baseURL: keyed.baseUrl, apiKey: 'sk-test-4242', maxRetries: 0 });
    const answer = await right.chat.completions.create({ model: 'builtin', messages: [{ role: 'user', content: 'upper q' }], max_tokens: 4 });
    expect(answer.choices).toHaveLength(1);
    expect(readApiKey('LSP_SERVE_TEST_KEY', { LSP_SERVE_TEST_KEY: ' sk-1 ' })).toBe('sk-1');
    expect(() => readApiKey('LSP_SERVE_TEST_KEY', {})).toThrow('the environment variable LSP_SERVE_TEST_KEY named by --api-key-env is not set');
    expect(() => readApiKey('sk-live-oops', {})).toThrow('--api-key-env takes the name of an environment variable');
  });

  test('32 concurrent clients are all answered, in shared batches', async () => {
    const busy = serve();
    const words = ['ab', 'cd', 'ef', 'gh', 'ij', 'kl', 'mn', 'op'];
    const before = busy.stats.generateCalls;
    const answers = await Promise.all(Array.from({ length: 32 }, (_, index) => {
      const own = new OpenAI({ baseURL: busy.baseUrl, apiKey: 'unused', maxRetries: 0 });
      return own.chat.completions.create({
        model: 'builtin', messages: [{ role: 'user', content: `reverse ${words[index % 8]}${index}` }], max_tokens: 8, temperature: 0,
      });
    }));
    expect(answers).toHaveLength(32);
    for (const answer of answers) {
      expect(answer.choices).toHaveLength(1);
      expect(['stop', 'length']).toContain(answer.choices[0]!.finish_reason);
      expect(answer.usage!.completion_tokens).toBeGreaterThan(0);
    }
    const calls = busy.stats.generateCalls - before;
    expect(calls).toBeLessThan(32);
    expect(busy.stats.largestBatch).toBeGreaterThan(1);
  });
});

// Request bodies of `lsp serve`: /v1/chat/completions and /v1/completions read into one plan of prompts (token
// ids) and sampling settings, every field checked before anything reaches the model, so that one bad request is
// refused alone instead of failing the batch it would have joined. Fields the server does not act on are refused
// when they would change the answer (penalties, logit bias, tools, top log-probabilities) and ignored otherwise
// (user, store, metadata, service_tier...), as OpenAI-compatible servers do.
import type { ChatMessage, TokenizerV1 } from '@lsp/core';
import { ApiError, invalidField } from './openai-errors';

/** What the request checks need to know about the served model. */
export interface ServedModelFacts {
  /** The name clients give as `model` (what /v1/models lists). */
  name: string;
  /** Names of LoRA adapters loaded beside it (POST /v1/load_lora_adapter), also valid as `model`. */
  adapterNames?: () => readonly string[];
  tokenizer: TokenizerV1 | undefined;
  vocabularySize: number;
  /** Prompt plus completion tokens the model can attend. */
  contextLength: number;
  /** generation_config.json's sampling defaults, used when a request leaves a setting out. */
  defaults: { temperature?: number; topP?: number; topK?: number };
}

export interface SamplingPlan {
  temperature: number;
  topP: number;
  topK: number;
  /** undefined: up to the end of the context (chat requests without max_tokens). */
  maxTokens: number | undefined;
  seed: number | undefined;
  stop: string[];
  /** Choices per prompt. */
  n: number;
  logprobs: boolean;
  /** vLLM's `return_token_ids`: prompt and completion token ids in the response. */
  returnTokenIds: boolean;
  stream: boolean;
  includeUsage: boolean;
}

export interface GenerationPlan extends SamplingPlan {
  kind: 'chat' | 'completion';
  /** The model that answers: the served one or a loaded adapter's name. */
  model: string;
  /** One entry per prompt (chat requests have one). */
  prompts: number[][];
}

type Body = Record<string, unknown>;

/** Parses a request's JSON text into an object, or a 400 in OpenAI's words. */
export function parseJsonBody(text: string): Body {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'We could not parse the JSON body of your request: it is not valid JSON.', { code: 'invalid_json' });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError(400, 'The body of your request must be a JSON object.', { code: 'invalid_json' });
  }
  return value as Body;
}

const isInteger = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

function optionalNumber(body: Body, field: string, check: (value: number) => boolean, range: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) {
    throw invalidField(field, `'${field}' must be ${range}, got ${JSON.stringify(value)}.`);
  }
  return value;
}

function optionalInteger(body: Body, field: string, minimum: number, maximum = Number.MAX_SAFE_INTEGER): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!isInteger(value) || value < minimum || value > maximum) {
    const range = maximum === Number.MAX_SAFE_INTEGER ? `a whole number of at least ${minimum}` : `a whole number from ${minimum} to ${maximum}`;
    throw invalidField(field, `'${field}' must be ${range}, got ${JSON.stringify(value)}.`);
  }
  return value;
}

function optionalBoolean(body: Body, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidField(field, `'${field}' must be true or false, got ${JSON.stringify(value)}.`);
  return value;
}

/** Refuses a field whose effect the server does not implement, unless it is absent or set to its neutral value. */
function refuseUnlessNeutral(body: Body, field: string, neutral: (value: unknown) => boolean, why: string): void {
  const value = body[field];
  if (value === undefined || value === null || neutral(value)) return;
  throw invalidField(field, `'${field}' is not supported by lsp serve: ${why}.`, 'unsupported_parameter');
}

/** The model a request names: the served one (also when left out) or a loaded adapter. */
function checkModel(body: Body, facts: ServedModelFacts): string {
  const model = body.model;
  if (model === undefined || model === null) return facts.name;
  if (typeof model !== 'string') throw invalidField('model', `'model' must be a string, got ${JSON.stringify(model)}.`);
  const adapters = facts.adapterNames?.() ?? [];
  if (model !== facts.name && !adapters.includes(model)) {
    const served = [facts.name, ...adapters].map((name) => `'${name}'`).join(', ');
    throw new ApiError(404, `The model '${model}' does not exist: this server serves ${served}.`, { param: 'model', code: 'model_not_found' });
  }
  return model;
}

function parseStop(body: Body, facts: ServedModelFacts): string[] {
  const value = body.stop;
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string') || list.length > 16) {
    throw invalidField('stop', `'stop' must be a string or a list of up to 16 strings, got ${JSON.stringify(value)}.`);
  }
  const stops = (list as string[]).filter((stop) => stop.length > 0);
  if (stops.length > 0 && !facts.tokenizer) {
    throw invalidField('stop', "'stop' needs the model folder's tokenizer.json, which this server has not loaded.");
  }
  return stops;
}

function parseSampling(body: Body, facts: ServedModelFacts, kind: 'chat' | 'completion'): SamplingPlan {
  refuseUnlessNeutral(body, 'frequency_penalty', (value) => value === 0, 'leave it out or set it to 0');
  refuseUnlessNeutral(body, 'presence_penalty', (value) => value === 0, 'leave it out or set it to 0');
  refuseUnlessNeutral(body, 'repetition_penalty', (value) => value === 1, 'leave it out or set it to 1');
  refuseUnlessNeutral(body, 'logit_bias', (value) => typeof value === 'object' && value !== null && Object.keys(value).length === 0, 'leave it out');
  refuseUnlessNeutral(body, 'tools', (value) => Array.isArray(value) && value.length === 0, 'the server generates text only');
  refuseUnlessNeutral(body, 'functions', (value) => Array.isArray(value) && value.length === 0, 'the server generates text only');
  refuseUnlessNeutral(body, 'response_format', (value) => typeof value === 'object' && value !== null && (value as Body).type === 'text', 'the server generates free text only');
  refuseUnlessNeutral(body, 'echo', (value) => value === false, 'the prompt is not repeated in the answer');
  refuseUnlessNeutral(body, 'suffix', (value) => value === '', 'there is no insertion mode');

  const temperature = optionalNumber(body, 'temperature', (value) => value >= 0, 'a number of at least 0')
    ?? facts.defaults.temperature ?? 1;
  const topP = optionalNumber(body, 'top_p', (value) => value > 0 && value <= 1, 'a number above 0 and at most 1')
    ?? facts.defaults.topP ?? 1;
  const topKValue = optionalInteger(body, 'top_k', -1);
  const topK = topKValue === undefined ? (facts.defaults.topK ?? 0) : Math.max(0, topKValue);
  const maxCompletionTokens = optionalInteger(body, 'max_completion_tokens', 1);
  const maxTokensField = optionalInteger(body, 'max_tokens', 1);
  // OpenAI's legacy completions default to 16 tokens; chat answers run to a stop or the end of the context.
  const maxTokens = maxCompletionTokens ?? maxTokensField ?? (kind === 'completion' ? 16 : undefined);
  const seed = optionalInteger(body, 'seed', Number.MIN_SAFE_INTEGER);
  const n = optionalInteger(body, 'n', 1, 128) ?? 1;
  const bestOf = optionalInteger(body, 'best_of', 1, 128);
  if (bestOf !== undefined && bestOf !== n) throw invalidField('best_of', "'best_of' is not supported by lsp serve: leave it out or set it to n.", 'unsupported_parameter');
  const stream = optionalBoolean(body, 'stream') ?? false;
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && (typeof streamOptions !== 'object' || Array.isArray(streamOptions))) {
    throw invalidField('stream_options', "'stream_options' must be an object such as {\"include_usage\": true}.");
  }
  const includeUsage = (streamOptions as Body | null | undefined)?.include_usage === true;

  let logprobs = false;
  if (kind === 'chat') {
    logprobs = optionalBoolean(body, 'logprobs') ?? false;
    const top = optionalInteger(body, 'top_logprobs', 0, 20);
    if (top !== undefined && top > 0) {
      throw invalidField('top_logprobs', "'top_logprobs' above 0 is not supported by lsp serve: it returns the log-probability of each sampled token only.", 'unsupported_parameter');
    }
  } else {
    const value = optionalInteger(body, 'logprobs', 0, 5);
    if (value !== undefined && value > 0) {
      throw invalidField('logprobs', "'logprobs' above 0 is not supported by lsp serve: it returns the log-probability of each sampled token only (set it to 0).", 'unsupported_parameter');
    }
    logprobs = value === 0;
  }
  const returnTokenIds = optionalBoolean(body, 'return_token_ids') ?? false;
  return {
    temperature, topP, topK, maxTokens, seed, stop: parseStop(body, facts), n, logprobs, returnTokenIds, stream, includeUsage,
  };
}

function checkPromptIds(ids: readonly number[], facts: ServedModelFacts, param: string): void {
  if (ids.length === 0) throw invalidField(param, 'The prompt is empty.');
  for (const id of ids) {
    if (!isInteger(id) || id < 0 || id >= facts.vocabularySize) {
      throw invalidField(param, `Token id ${JSON.stringify(id)} is out of range: the model's vocabulary has ${facts.vocabularySize} tokens.`);
    }
  }
  if (ids.length >= facts.contextLength) {
    throw invalidField(param, `This model's maximum context length is ${facts.contextLength} tokens, and the prompt has ${ids.length}: no room is left to answer.`, 'context_length_exceeded');
  }
}

function requireTokenizer(facts: ServedModelFacts, param: string, what: string): TokenizerV1 {
  if (!facts.tokenizer) throw invalidField(param, `${what} needs the model folder's tokenizer.json, which this server has not loaded; send the prompt as token ids to /v1/completions.`);
  return facts.tokenizer;
}

/** A chat message's text: a string, or a list of text parts. */
function messageText(content: unknown, index: number): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part, partIndex) => {
      const record = part as Body;
      if (typeof part !== 'object' || part === null || record.type !== 'text' || typeof record.text !== 'string') {
        throw invalidField(`messages[${index}].content[${partIndex}]`, 'Only text content parts ({"type": "text", "text": "..."}) are supported by lsp serve.');
      }
      return record.text;
    }).join('');
  }
  throw invalidField(`messages[${index}].content`, `messages[${index}].content must be a string or a list of text parts.`);
}

export function parseChatRequest(body: Body, facts: ServedModelFacts): GenerationPlan {
  const model = checkModel(body, facts);
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalidField('messages', "'messages' must be a non-empty list of {\"role\", \"content\"} objects.");
  }
  const chat: ChatMessage[] = messages.map((message, index) => {
    const record = message as Body;
    if (typeof message !== 'object' || message === null || typeof record.role !== 'string') {
      throw invalidField(`messages[${index}]`, `messages[${index}] must be an object with a string 'role'.`);
    }
    if (record.tool_calls !== undefined || record.role === 'tool' || record.role === 'function') {
      throw invalidField(`messages[${index}]`, 'Tool calls are not supported by lsp serve.', 'unsupported_parameter');
    }
    // OpenAI's 'developer' role is the system prompt of templates written before it existed.
    return { role: record.role === 'developer' ? 'system' : record.role, content: messageText(record.content, index) };
  });
  const sampling = parseSampling(body, facts, 'chat');
  const tokenizer = requireTokenizer(facts, 'messages', 'A chat request');
  let text: string;
  try {
    text = tokenizer.applyChatTemplate(chat, { addGenerationPrompt: true });
  } catch (error) {
    throw invalidField('messages', `The model's chat template refused the messages: ${error instanceof Error ? error.message : String(error)}`);
  }
  const promptIds = tokenizer.encode(text, { addSpecialTokens: false });
  checkPromptIds(promptIds, facts, 'messages');
  return { kind: 'chat', model, prompts: [promptIds], ...sampling };
}

export function parseCompletionRequest(body: Body, facts: ServedModelFacts): GenerationPlan {
  const model = checkModel(body, facts);
  const prompt = body.prompt;
  const invalid = () => invalidField('prompt', "'prompt' must be a string, a list of strings, a list of token ids, or a list of lists of token ids.");
  let prompts: number[][];
  if (typeof prompt === 'string') {
    prompts = [encodeText(prompt, facts)];
  } else if (Array.isArray(prompt) && prompt.length > 0) {
    if (prompt.every((item) => typeof item === 'number')) {
      prompts = [prompt as number[]];
    } else if (prompt.every((item) => typeof item === 'string')) {
      prompts = (prompt as string[]).map((text) => encodeText(text, facts));
    } else if (prompt.every((item) => Array.isArray(item) && item.every((id) => typeof id === 'number'))) {
      prompts = prompt as number[][];
    } else {
      throw invalid();
    }
  } else {
    throw invalid();
  }
  prompts.forEach((ids, index) => checkPromptIds(ids, facts, prompts.length === 1 ? 'prompt' : `prompt[${index}]`));
  const sampling = parseSampling(body, facts, 'completion');
  if (prompts.length * sampling.n > 256) throw invalidField('n', `A request may ask for up to 256 completions (prompts times n), not ${prompts.length * sampling.n}.`);
  return { kind: 'completion', model, prompts, ...sampling };
}

/** A text prompt of /v1/completions: encoded with the tokenizer's special tokens (BOS), as `lsp generate` does. */
function encodeText(text: string, facts: ServedModelFacts): number[] {
  return requireTokenizer(facts, 'prompt', 'A text prompt').encode(text, { addSpecialTokens: true });
}

// One chat-completions request with the judge's fault handling, over fetch: a time limit per attempt (sending,
// waiting and reading the reply), retries with exponential backoff and jitter on 429 (waiting at least what
// Retry-After asks), 5xx, timeouts, broken connections and response bodies that are not a chat completion, and an
// immediate one-line error for what a retry cannot fix (a refused key, a bad request, an unknown model).
import { ConfigError, UnavailableError } from '@lsp/core';

export interface ChatClientSettings {
  url: string;
  apiKey: string | undefined;
  /** Named in errors about the key (never the key itself). */
  apiKeyEnv: string | undefined;
  /** Where answered requests are kept (named in the error that stops a run), or false. */
  cacheDirectory: string | false;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  maxBackoffMs: number;
  maxRetryAfterMs: number;
}

/** Test seams: how the client waits between attempts, and its jitter's random numbers. */
export interface ChatClientHooks {
  sleep?: (milliseconds: number) => Promise<void>;
  random?: () => number;
}

export interface ChatReply {
  content: string;
  model?: string;
  /** HTTP attempts this reply took. */
  attempts: number;
}

export interface ChatClientStatistics {
  /** HTTP attempts made. */
  requests: number;
  /** Attempts retried (after 429, 5xx, a timeout, a broken connection or a malformed body). */
  retries: number;
  /** 200 responses whose body was not a chat completion (not JSON, no choices[0].message.content). */
  invalidResponses: number;
}

/** A fault worth another attempt, with the wait the server asked for, if any. */
class RetryableFault extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}

/** Retry-After (seconds, or an HTTP date) or OpenAI's retry-after-ms, in milliseconds. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const milliseconds = headers.get('retry-after-ms');
  if (milliseconds !== null && Number.isFinite(Number(milliseconds)) && Number(milliseconds) >= 0) return Number(milliseconds);
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The first line of a server's error text, shortened, with the key (should a server echo it) blotted out. */
function serverSays(text: string, apiKey: string | undefined): string {
  let message = text;
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const inner = typeof parsed.error === 'string' ? parsed.error : parsed.error?.message ?? parsed.message;
    if (typeof inner === 'string') message = inner;
  } catch {
    // Not JSON: the text as it is.
  }
  if (apiKey) message = message.split(apiKey).join('***');
  const line = message.split('\n')[0]!.trim();
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

function readContent(text: string): { content: string; model?: string } | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const choice = (body as { choices?: { message?: { content?: unknown } }[] } | null)?.choices?.[0];
  const content = choice?.message?.content;
  if (typeof content !== 'string') return undefined;
  const model = (body as { model?: unknown }).model;
  return typeof model === 'string' ? { content, model } : { content };
}

const sleeper = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds));

export class ChatClient {
  readonly statistics: ChatClientStatistics = { requests: 0, retries: 0, invalidResponses: 0 };
  private readonly sleep: (milliseconds: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly settings: ChatClientSettings, hooks: ChatClientHooks = {}) {
    this.sleep = hooks.sleep ?? sleeper;
    this.random = hooks.random ?? Math.random;
  }

  /** The wait before retry number `retry` (1-based): exponential, with "equal jitter" (half fixed, half random). */
  backoff(retry: number, serverAsked: number | undefined): number {
    const { backoffMs, maxBackoffMs, maxRetryAfterMs } = this.settings;
    const exponential = Math.min(maxBackoffMs, backoffMs * 2 ** (retry - 1));
    const jittered = exponential / 2 + (exponential / 2) * this.random();
    return Math.max(jittered, Math.min(serverAsked ?? 0, maxRetryAfterMs));
  }

  /** Sends `body` until a reply comes, or the retry budget is spent (then one UnavailableError line). */
  async complete(body: string, signal?: AbortSignal): Promise<ChatReply> {
    const { url, retries } = this.settings;
    let last = '';
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      try {
        const reply = await this.attempt(body, signal);
        return { ...reply, attempts: attempt };
      } catch (error) {
        if (!(error instanceof RetryableFault)) throw error;
        last = error.message;
        if (attempt > retries) {
          const cached = this.settings.cacheDirectory === false
            ? ''
            : `; the replies received are cached in ${this.settings.cacheDirectory}, so a resumed run does not ask for them again`;
          throw new UnavailableError(`judge openai: ${url} gave no usable reply after ${attempt} attempt${attempt === 1 ? '' : 's'} (last: ${last})`, {
            hint: `check the server, or raise retries or timeoutMs in judgeOptions${cached}`,
          });
        }
        this.statistics.retries++;
        await this.sleep(this.backoff(attempt, error.retryAfterMs));
      }
    }
  }

  private async attempt(body: string, signal: AbortSignal | undefined): Promise<{ content: string; model?: string }> {
    const { url, apiKey, timeoutMs } = this.settings;
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    this.statistics.requests++;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
        body,
        signal: combined,
      });
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? error;
      if (timeout.aborted) throw new RetryableFault(`no complete reply within ${timeoutMs} ms`);
      throw new RetryableFault(`connection failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
    if (response.ok) {
      const reply = readContent(text);
      if (reply) return reply;
      this.statistics.invalidResponses++;
      throw new RetryableFault('HTTP 200 whose body is not a chat completion with choices[0].message.content');
    }
    const status = response.status;
    if (status === 408 || status === 409 || status === 425 || status === 429 || status >= 500) {
      throw new RetryableFault(`HTTP ${status}${text ? `: ${serverSays(text, apiKey)}` : ''}`, retryAfterMs(response.headers));
    }
    if (status === 401 || status === 403) {
      const which = this.settings.apiKeyEnv ? `the key in $${this.settings.apiKeyEnv}` : 'no key';
      throw new ConfigError(`judge openai: ${url} refused ${which} (HTTP ${status})`, {
        hint: this.settings.apiKeyEnv ? `check the key in ${this.settings.apiKeyEnv}` : 'set apiKeyEnv in judgeOptions to the name of the variable holding the key',
      });
    }
    throw new ConfigError(`judge openai: ${url} refused the request (HTTP ${status}${text ? `: ${serverSays(text, apiKey)}` : ''})`, {
      hint: 'check baseURL, model and prompt in judgeOptions',
    });
  }
}

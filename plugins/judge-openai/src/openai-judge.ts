// Judge `openai`: an LLM judge over any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, SGLang,
// llama.cpp's server, `bun lsp serve`). Each item becomes one request body; identical bodies in a batch are asked
// once; replies come from the disk cache when it has them (keyed by the body's sha256), else from the server,
// at most `concurrency` at a time, each written to the cache as soon as it arrives. When a request fails for good
// no new request starts, those in flight finish (and are cached), and doScore throws one line: the run stops with
// its last checkpoint, and a resumed run pays only for what was never answered.
//
// fetch rather than the `openai` client: the judge owns the retry policy (the client's own retries would stack on
// it), reads the raw body to tell a malformed response from a good one, and the cache key is the exact body sent.
import { mkdirSync } from 'node:fs';
import { ConfigError, type JudgeItem, type JudgeScore, type JudgeV1 } from '@lsp/core';
import { maxQualityScore } from '@lsp/game-lsp';
import { ChatClient, type ChatClientHooks, type ChatClientStatistics } from './chat-client';
import { parseJudgeOptions, type ResolvedOpenAiJudgeOptions } from './judge-options';
import { pairwiseMessages, pointwiseMessages, readPairwise, readPointwise } from './judge-prompts';
import { ReplyCache, requestKey } from './reply-cache';

export interface OpenAiJudgeStatistics extends ChatClientStatistics {
  /** Replies received from the server (each written to the cache). */
  answered: number;
  /** Replies read from the cache instead of asked for. */
  cacheHits: number;
  /** Replies whose score or verdict could not be read (scored 0, or preference 0.5 for pairwise items). */
  malformedReplies: number;
}

export interface OpenAiJudge extends JudgeV1 {
  /** Counts since the judge was created. */
  statistics(): OpenAiJudgeStatistics;
  readonly options: Readonly<ResolvedOpenAiJudgeOptions>;
}

interface PairwiseMetadata {
  first: string;
  second: string;
}

function pairwiseOf(item: JudgeItem, index: number): PairwiseMetadata | undefined {
  const metadata = item.metadata;
  if (!metadata || metadata.pairwise !== true) return undefined;
  if (typeof metadata.first !== 'string' || typeof metadata.second !== 'string') {
    throw new ConfigError(`judge openai: item ${index} is marked pairwise but its metadata.first and metadata.second are not both strings`, {
      hint: 'a pairwise item carries metadata { pairwise: true, first, second }',
    });
  }
  return { first: metadata.first, second: metadata.second };
}

/** A small semaphore: at most `limit` tasks run at once, the rest wait in order (a finished task hands its slot on). */
function createLimiter(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

export function createOpenAiJudge(rawOptions: unknown, hooks: ChatClientHooks = {}): OpenAiJudge {
  const options = parseJudgeOptions(rawOptions);
  let apiKey: string | undefined;
  if (options.apiKeyEnv) {
    apiKey = process.env[options.apiKeyEnv]?.trim();
    if (!apiKey) {
      throw new ConfigError(`judge openai: the environment variable ${options.apiKeyEnv} named by apiKeyEnv is not set`, {
        hint: `export ${options.apiKeyEnv}=<key> before the run`,
      });
    }
  }
  let cache: ReplyCache | undefined;
  if (options.cacheDirectory !== false) {
    try {
      mkdirSync(options.cacheDirectory, { recursive: true });
    } catch (error) {
      throw new ConfigError(`judge openai: cannot create the cache directory ${options.cacheDirectory} (${error instanceof Error ? error.message : String(error)})`, {
        hint: 'set cacheDirectory in judgeOptions to a writable folder, or false to cache nothing',
      });
    }
    cache = new ReplyCache(options.cacheDirectory);
  }
  const url = `${options.baseURL.replace(/\/+$/, '')}/chat/completions`;
  const client = new ChatClient({
    url, apiKey, apiKeyEnv: options.apiKeyEnv, cacheDirectory: options.cacheDirectory, timeoutMs: options.timeoutMs, retries: options.retries,
    backoffMs: options.backoffMs, maxBackoffMs: options.maxBackoffMs, maxRetryAfterMs: options.maxRetryAfterMs,
  }, hooks);
  const limit = createLimiter(options.concurrency);
  const counts = { answered: 0, cacheHits: 0, malformedReplies: 0 };

  /** The exact body sent for an item: its key in the cache. */
  const bodyOf = (item: JudgeItem, pairwise: PairwiseMetadata | undefined): string => JSON.stringify({
    model: options.model,
    messages: pairwise
      ? pairwiseMessages(options.pairwisePrompt, item.query, pairwise.first, pairwise.second)
      : pointwiseMessages(options.prompt, item.query, item.answer),
    temperature: options.temperature,
    max_tokens: options.maxTokens,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });

  return {
    specificationVersion: 'v1',
    name: 'openai',
    options,
    statistics: () => ({ ...client.statistics, ...counts }),
    async doScore(items: readonly JudgeItem[], context: { signal?: AbortSignal }): Promise<JudgeScore[]> {
      const requests = items.map((item, index) => {
        const pairwise = pairwiseOf(item, index);
        const body = bodyOf(item, pairwise);
        return { pairwise, body, key: requestKey(body) };
      });
      const replies = new Map<string, { content: string; cached: boolean; attempts: number }>();
      const unique = new Map(requests.map((request) => [request.key, request.body]));
      let failure: unknown;
      await Promise.all([...unique].map(async ([key, body]) => {
        const cached = cache?.read(key);
        if (cached) {
          counts.cacheHits++;
          replies.set(key, { content: cached.content, cached: true, attempts: 0 });
          return;
        }
        await limit(async () => {
          if (failure !== undefined) return;
          try {
            const reply = await client.complete(body, context.signal);
            counts.answered++;
            cache?.write(key, { content: reply.content, ...(reply.model ? { model: reply.model } : {}) });
            replies.set(key, { content: reply.content, cached: false, attempts: reply.attempts });
          } catch (error) {
            failure ??= error;
          }
        });
      }));
      if (failure !== undefined) throw failure;

      const readings = requests.map(({ pairwise, key }) => {
        const reply = replies.get(key)!;
        if (pairwise) {
          const reading = readPairwise(reply.content);
          return {
            parsed: reading.parsed,
            score: {
              score: reading.preference,
              details: { preference: reading.preference, verdict: reading.verdict ?? null, reply: reply.content, cached: reply.cached, attempts: reply.attempts },
            } as JudgeScore,
          };
        }
        const reading = readPointwise(options.prompt, reply.content, options.maxScore);
        return {
          parsed: reading.parsed,
          score: {
            score: reading.score,
            // The rubric's total is also the quality self-reward on its own 0..7 scale (used when the game takes RQ from the judge).
            ...(options.prompt === 'quality' ? { quality: reading.points } : {}),
            details: {
              points: reading.points, maxPoints: options.prompt === 'quality' ? maxQualityScore : options.maxScore,
              reply: reply.content, cached: reply.cached, attempts: reply.attempts,
            },
          } as JudgeScore,
        };
      });
      const malformed = readings.filter((reading) => !reading.parsed).length;
      counts.malformedReplies += malformed;
      return readings.map(({ parsed, score }) => ({
        ...score,
        details: { ...score.details, malformed: !parsed, malformedReplies: malformed },
      }));
    },
  };
}

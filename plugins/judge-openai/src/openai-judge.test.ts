// Judge `openai` against a fake chat-completions server written here, which answers each request body with a
// fixed reply and can be told to misbehave per item: 500s, 429 with Retry-After, a reply that never comes, a body
// that stalls or stops halfway, malformed JSON, a 200 without a message, and a server that dies mid-run. Whatever
// it does, the scores equal a fault-free run's, no body is asked for again once it was answered, and a second run
// reads everything from the cache. Waits between attempts go through the judge's sleep hook (the fake server
// comes back up there), so nothing here depends on timing, and no duration is asserted.
import { afterAll, afterEach, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, LspError, UnavailableError, type JudgeItem } from '@lsp/core';
import judgeOpenAi, { createOpenAiJudge, defaultCacheDirectory, readPairwise, readPointwise, retryAfterMs } from './index';

type Fault = '500' | '503-html' | '429' | 'hang' | 'stall' | 'truncated' | 'malformed-json' | 'no-content' | 'die' | '401';

const work = mkdtempSync(join(tmpdir(), 'lsp-judge-openai-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let cacheCount = 0;
const freshCache = () => join(work, `cache-${cacheCount++}`);

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const template = 'Question: {query}\nAnswer: {answer}\nRate the answer from 0 to 10 as <score>N</score>.';

/** The fake judge model: a fixed reply per request body, one in six of them without a score. */
function replyFor(body: string): string {
  const byte = parseInt(sha256(body).slice(0, 2), 16);
  const content = JSON.parse(body).messages[0].content as string;
  if (content.includes('<verdict>')) return `Reasons. <verdict>${['1', '2', 'tie'][byte % 3]}</verdict>`;
  return byte % 6 === 0 ? 'I would rather not say.' : `Reasons. <score>${byte % 11}</score>`;
}

interface FakeServer {
  url: string;
  /** Requests per body hash, and bodies asked for again after an answer. */
  requests: Map<string, number>;
  /** Requests per item (by the query the prompt holds). */
  byQuery: Map<string, number>;
  answered: Map<string, number>;
  askedAfterAnswer: string[];
  maxInFlight: number;
  /** Brings a dead server back on the same port. */
  revive(): void;
  isDown(): boolean;
  stop(): void;
}

const servers: FakeServer[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.stop();
});

/** `faults` maps an item's query to what the server does on its first, second... attempt (then it answers). */
function fakeServer(faults: Record<string, Fault[]> = {}, options: { expectKey?: string } = {}): FakeServer {
  const requests = new Map<string, number>();
  const byQuery = new Map<string, number>();
  const answered = new Map<string, number>();
  const askedAfterAnswer: string[] = [];
  const attempts = new Map<string, number>();
  let inFlight = 0;
  let answering = 0;
  let maxInFlight = 0;
  let down = false;
  const never = new Promise<Response>(() => {});
  const encoder = new TextEncoder();
  const handle = async (request: Request): Promise<Response> => {
    const body = await request.text();
    const key = sha256(body);
    requests.set(key, (requests.get(key) ?? 0) + 1);
    if (answered.has(key)) askedAfterAnswer.push(key);
    if (options.expectKey !== undefined && request.headers.get('authorization') !== `Bearer ${options.expectKey}`) {
      return Response.json({ error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } }, { status: 401 });
    }
    const query = /(?:Question: |<instruction>\n)(.*)\n/.exec(JSON.parse(body).messages[0].content)?.[1] ?? '';
    byQuery.set(query, (byQuery.get(query) ?? 0) + 1);
    const attempt = attempts.get(key) ?? 0;
    attempts.set(key, attempt + 1);
    const fault = faults[query]?.[attempt];
    switch (fault) {
      case '500': return Response.json({ error: { message: 'internal error', type: 'server_error' } }, { status: 500 });
      case '503-html': return new Response('<html>Service Unavailable</html>', { status: 503 });
      case '429': return Response.json({ error: { message: 'Rate limit reached' } }, { status: 429, headers: { 'retry-after': '7' } });
      case 'hang': return never;
      case 'stall': return new Response(new ReadableStream({ start: (controller) => controller.enqueue(encoder.encode('{"choices": [')) }));
      case 'truncated': return new Response(new ReadableStream({
        start: (controller) => {
          controller.enqueue(encoder.encode('{"choices": [{"message'));
          controller.close();
        },
      }), { headers: { 'content-type': 'application/json', 'content-length': '400' } });
      case 'malformed-json': return new Response('{"choices": [{"message": {"content": "<score>3</sc', { headers: { 'content-type': 'application/json' } });
      case 'no-content': return Response.json({ id: 'x', choices: [] });
      case 'die': {
        // Dies between answers (an answer cut off on its way would be the server's loss, not the judge's
        // repeat): once the replies being written are out, every connection drops, hung ones included.
        while (answering > 0) await Bun.sleep(0);
        await Bun.sleep(0);
        down = true;
        void server.stop(true);
        return never;
      }
      case '401': return Response.json({ error: { message: 'no' } }, { status: 401 });
      default:
    }
    answered.set(key, (answered.get(key) ?? 0) + 1);
    answering++;
    queueMicrotask(() => setTimeout(() => answering--, 0));
    return Response.json({
      id: 'chatcmpl-1', object: 'chat.completion', created: 0, model: 'fake-judge',
      choices: [{ index: 0, message: { role: 'assistant', content: replyFor(body) }, finish_reason: 'stop' }],
    });
  };
  const start = (port: number) => Bun.serve({
    hostname: '127.0.0.1', port, idleTimeout: 0,
    fetch: async (request) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        return await handle(request);
      } finally {
        inFlight--;
      }
    },
  });
  let server = start(0);
  const port = server.port!;
  const fake: FakeServer = {
    url: `http://127.0.0.1:${port}/v1`,
    requests, byQuery, answered, askedAfterAnswer,
    get maxInFlight() {
      return maxInFlight;
    },
    revive() {
      if (!down) return;
      down = false;
      server = start(port);
    },
    isDown: () => down,
    stop: () => void server.stop(true),
  };
  servers.push(fake);
  return fake;
}

const items: JudgeItem[] = Array.from({ length: 14 }, (_, index) => ({ query: `q${index}`, answer: `answer number ${index}` }));
// Two repeats: identical items in a batch are asked for once.
items.push({ ...items[3]! }, { ...items[7]! });

function judgeFor(server: FakeServer, cacheDirectory: string | false, extra: Record<string, unknown> = {}, sleeps: number[] = []) {
  return createOpenAiJudge(
    { baseURL: server.url, model: 'fake-judge', prompt: template, cacheDirectory, timeoutMs: 2000, retries: 4, backoffMs: 1, maxBackoffMs: 4, concurrency: 4, ...extra },
    {
      sleep: async (milliseconds) => {
        sleeps.push(milliseconds);
        server.revive();
      },
    },
  );
}

const scoresOf = (scores: { score: number; details?: Record<string, unknown> }[]) => scores.map(({ score, details }) => [score, details?.points, details?.malformed]);

describe('judge openai', () => {
  test('survives every fault with the scores of a fault-free run, asking for nothing twice once answered', async () => {
    const clean = fakeServer();
    const reference = await judgeFor(clean, freshCache()).doScore(items, {});
    expect(clean.requests.size).toBe(14);
    expect([...clean.requests.values()].every((count) => count === 1)).toBe(true);

    const faulty = fakeServer({
      q0: ['500', '500'], q1: ['429'], q2: ['hang'], q3: ['malformed-json'], q4: ['no-content', '503-html'],
      q5: ['truncated'], q6: ['die'], q7: ['stall'], q8: ['500', '429', '503-html'],
    });
    const sleeps: number[] = [];
    const judge = judgeFor(faulty, freshCache(), {}, sleeps);
    const scores = await judge.doScore(items, {});
    expect(scoresOf(scores)).toEqual(scoresOf(reference));
    expect(scores.map((score) => score.details?.reply)).toEqual(reference.map((score) => score.details?.reply));
    // Every item answered once, and never asked for again after that (its repeats included); attempts that met
    // the dead server never reached it, so the server saw at most as many requests as the judge made attempts.
    expect(faulty.askedAfterAnswer).toEqual([]);
    expect([...faulty.answered.values()]).toEqual(Array.from({ length: 14 }, () => 1));
    items.forEach((item, index) => {
      expect(faulty.byQuery.get(item.query)).toBeLessThanOrEqual(scores[index]!.details!.attempts as number);
    });
    const planned = { q0: 3, q1: 2, q2: 2, q3: 2, q4: 3, q5: 2, q7: 2, q8: 4 };
    for (const [query, attempts] of Object.entries(planned)) expect(faulty.byQuery.get(query)).toBeGreaterThanOrEqual(attempts);
    expect(faulty.isDown()).toBe(false);
    // Retry-After: 7 was waited out (through the sleep hook), once for q1 and once for q8.
    expect(sleeps.filter((milliseconds) => milliseconds >= 7000)).toHaveLength(2);
    const statistics = judge.statistics();
    expect(statistics.answered).toBe(14);
    // The malformed JSON, the 200 without a message and the truncated body; the stalled body timed out instead.
    expect(statistics.invalidResponses).toBe(3);
  }, 60_000);

  test('a reply that never comes, or stops halfway, times out and is asked for again', async () => {
    const clean = fakeServer();
    const reference = await judgeFor(clean, false).doScore(items.slice(0, 4), {});
    const slow = fakeServer({ q1: ['hang'], q2: ['stall', 'hang'] });
    const judge = judgeFor(slow, false, { timeoutMs: 1000 });
    const scores = await judge.doScore(items.slice(0, 4), {});
    expect(scoresOf(scores)).toEqual(scoresOf(reference));
    expect([slow.byQuery.get('q1'), slow.byQuery.get('q2')]).toEqual([2, 3]);
    expect(scores.map((score) => score.details?.attempts)).toEqual([1, 2, 3, 1]);
    expect(slow.askedAfterAnswer).toEqual([]);
  }, 60_000);

  test('a second run reads every reply from the cache and asks the server for nothing', async () => {
    const server = fakeServer();
    const cache = freshCache();
    const first = await judgeFor(server, cache).doScore(items, {});
    const requests = server.requests.size;
    const again = judgeFor(server, cache);
    const second = await again.doScore(items, {});
    expect(server.requests.size).toBe(requests);
    expect([...server.requests.values()].reduce((a, b) => a + b, 0)).toBe(14);
    expect(scoresOf(second)).toEqual(scoresOf(first));
    expect(second.every((score) => score.details?.cached === true)).toBe(true);
    expect(again.statistics()).toMatchObject({ cacheHits: 14, answered: 0, requests: 0 });
  });

  test('malformed replies score 0 and are counted, per item and for the batch', async () => {
    const server = fakeServer();
    const judge = judgeFor(server, false);
    const scores = await judge.doScore(items, {});
    const malformed = scores.filter((score) => score.details?.malformed === true);
    for (const score of malformed) {
      expect(score.score).toBe(0);
      expect(readPointwise(template, String(score.details?.reply), 10).parsed).toBe(false);
    }
    for (const score of scores) expect(score.details?.malformedReplies).toBe(malformed.length);
    expect(judge.statistics().malformedReplies).toBe(malformed.length);
    for (const score of scores.filter((each) => each.details?.malformed === false)) {
      expect(score.score).toBe((score.details!.points as number) / 10);
    }
  });

  test('after the retry budget the batch fails with one line; what was answered is cached and not asked again', async () => {
    const broken = fakeServer({ q5: ['500', '500', '500'] });
    const cache = freshCache();
    const failing = createOpenAiJudge({ baseURL: broken.url, model: 'fake-judge', prompt: template, cacheDirectory: cache, retries: 2, backoffMs: 1, maxBackoffMs: 2, concurrency: 2 });
    const error = await failing.doScore(items, {}).then(() => undefined, (caught: unknown) => caught);
    expect(UnavailableError.isInstance(error)).toBe(true);
    const line = (error as LspError).toLine();
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain(`judge openai: ${broken.url}/chat/completions gave no usable reply after 3 attempts (last: HTTP 500: internal error)`);
    // The server healed (q5's faults are spent): a resumed run asks only for what was never answered.
    const before = new Map(broken.requests);
    const resumed = judgeFor(broken, cache);
    await resumed.doScore(items, {});
    const askedNow = [...broken.requests].filter(([key, count]) => count > (before.get(key) ?? 0));
    expect(askedNow.length).toBe(resumed.statistics().answered);
    expect(broken.askedAfterAnswer).toEqual([]);
    expect(resumed.statistics().cacheHits + resumed.statistics().answered).toBe(14);
  });

  test('the key is read from the variable apiKeyEnv names, sent as a bearer token, and never printed or cached', async () => {
    const key = 'sk-test-judge-9f8e7d';
    process.env.LSP_JUDGE_TEST_KEY = key;
    try {
      const server = fakeServer({}, { expectKey: key });
      const cache = freshCache();
      const judge = judgeFor(server, cache, { apiKeyEnv: 'LSP_JUDGE_TEST_KEY' });
      await judge.doScore(items.slice(0, 3), {});
      expect(judge.statistics().answered).toBe(3);
      for (const folder of readdirSync(cache)) {
        for (const file of readdirSync(join(cache, folder))) expect(readFileSync(join(cache, folder, file), 'utf8')).not.toContain(key);
      }
      process.env.LSP_JUDGE_TEST_KEY = 'sk-wrong';
      const refused = await judgeFor(server, false, { apiKeyEnv: 'LSP_JUDGE_TEST_KEY' }).doScore(items.slice(3, 4), {}).then(() => undefined, (caught: unknown) => caught);
      expect(ConfigError.isInstance(refused)).toBe(true);
      expect((refused as LspError).toLine()).toBe(`judge openai: ${server.url}/chat/completions refused the key in $LSP_JUDGE_TEST_KEY (HTTP 401); check the key in LSP_JUDGE_TEST_KEY`);
      expect(server.requests.size).toBe(4); // a 401 is not retried
    } finally {
      delete process.env.LSP_JUDGE_TEST_KEY;
    }
    expect(() => createOpenAiJudge({ baseURL: 'http://127.0.0.1:1/v1', model: 'm', apiKeyEnv: 'LSP_JUDGE_TEST_KEY' }))
      .toThrow('judge openai: the environment variable LSP_JUDGE_TEST_KEY named by apiKeyEnv is not set');
  });

  test('pairwise items get a preference for the first answer in [0, 1]; requests stay within the concurrency limit', async () => {
    const server = fakeServer();
    const judge = judgeFor(server, false, { concurrency: 2 });
    const pairs: JudgeItem[] = Array.from({ length: 6 }, (_, index) => ({
      query: `p${index}`, answer: `a${index}`, metadata: { pairwise: true, first: `a${index}`, second: `b${index}` },
    }));
    const scores = await judge.doScore([...pairs, ...items.slice(0, 4)], {});
    expect(server.maxInFlight).toBeLessThanOrEqual(2);
    scores.slice(0, 6).forEach((score) => {
      const reading = readPairwise(String(score.details?.reply));
      expect(reading.parsed).toBe(true);
      expect(score.details?.preference).toBe(reading.preference);
      expect(score.score).toBe(reading.preference);
      expect([0, 0.5, 1]).toContain(score.score);
    });
    expect(scores.slice(6).every((score) => score.details?.preference === undefined)).toBe(true);
  });

  test('the quality rubric is game-lsp\'s, read with its parser; RQ is the rubric\'s 0..7 total', async () => {
    const server = fakeServer();
    const judge = judgeFor(server, false, { prompt: 'quality' });
    const [score] = await judge.doScore([{ query: 'reverse abc', answer: 'cba' }], {});
    const [body] = [...server.requests.keys()];
    expect(body).toBeDefined();
    expect(score!.details?.maxPoints).toBe(7);
    expect(readPointwise('quality', '<score>5</score>', 10)).toEqual({ score: 5 / 7, points: 5, parsed: true });
    expect(readPointwise('quality', '<score>9</score>', 10).parsed).toBe(false);
    expect(readPointwise('Q {answer}', 'so <score>2</score> then <score>7.5</score>', 10)).toEqual({ score: 0.75, points: 7.5, parsed: true });
    expect(readPairwise('<verdict>2</verdict> no, <verdict>tie</verdict>')).toEqual({ preference: 0.5, verdict: 'tie', parsed: true });
  });

  test('bad options are refused with one line naming the option', () => {
    const refuse = (options: Record<string, unknown>) => {
      try {
        createOpenAiJudge(options);
      } catch (error) {
        return (error as LspError).toLine();
      }
      return 'accepted';
    };
    expect(refuse({ model: 'm' })).toStartWith('judge openai: option "baseURL" is required;');
    expect(refuse({ baseURL: 'ftp://x', model: 'm' })).toStartWith('judge openai: option "baseURL": must be an http:// or https:// URL');
    expect(refuse({ baseURL: 'http://x/v1', model: 'm', apiKey: 'sk-1' })).toStartWith('judge openai: unknown option "apiKey"');
    expect(refuse({ baseURL: 'http://x/v1', model: 'm', prompt: 'Rate {query}' })).toStartWith('judge openai: option "prompt": must be "quality" or a template holding {answer}');
    expect(refuse({ baseURL: 'http://x/v1', model: 'm', apiKeyEnv: 'sk-abc-123' })).toContain('never the key itself');
    expect(refuse({ baseURL: 'http://x/v1', model: 'm', retries: -1 })).toStartWith('judge openai: option "retries":');
  });

  test('Retry-After in seconds, as a date, or as retry-after-ms; the plugin and the default cache folder', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '2.5' }))).toBe(2500);
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '40', 'retry-after': '9' }))).toBe(40);
    expect(retryAfterMs(new Headers({ 'retry-after': new Date(10_000).toUTCString() }), 4_000)).toBe(6_000);
    expect(retryAfterMs(new Headers({}))).toBeUndefined();
    const plugin = judgeOpenAi();
    expect(plugin.judges?.map((factory) => factory.name)).toEqual(['openai']);
    expect(defaultCacheDirectory({ XDG_CACHE_HOME: '/c' })).toBe('/c/lsp/judge-openai');
  });
});

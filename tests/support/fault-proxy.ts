// A fake chat-completions judge and a fault-injecting proxy for the tests of judge `openai`.
//
// The fake judge answers each request body with a fixed reply derived from the body's sha256 (a score out of 10,
// or no score at all for one body in six), so a run judged through it is deterministic. The proxy forwards to any
// OpenAI-compatible upstream (the fake judge, or `bun lsp serve`) and, per request body and attempt, can answer
// 500, 429 with Retry-After, a malformed or truncated body, never answer, or die (stop listening and drop every
// connection until revived). It counts requests per body and notes any body asked for again after it was
// answered.
import { createHash } from 'node:crypto';

export type Fault = '500' | '429' | 'malformed' | 'truncated' | 'hang' | 'die';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export interface FakeJudge {
  url: string;
  stop(): void;
}

/** The reply the fake judge gives to a request body. */
export function fakeJudgeReply(body: string): string {
  const byte = parseInt(sha256(body).slice(0, 2), 16);
  return byte % 6 === 0 ? 'I cannot tell.' : `Some reasons. <score>${byte % 11}</score>`;
}

export function startFakeJudge(): FakeJudge {
  const server = Bun.serve({
    hostname: '127.0.0.1', port: 0,
    fetch: async (request) => {
      const body = await request.text();
      return Response.json({
        id: 'chatcmpl-fake', object: 'chat.completion', created: 0, model: 'fake-judge',
        choices: [{ index: 0, message: { role: 'assistant', content: fakeJudgeReply(body) }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/v1`, stop: () => void server.stop(true) };
}

export interface FaultProxy {
  /** The base URL to give the judge. */
  url: string;
  /** Requests that reached the proxy, per body hash. */
  requests: Map<string, number>;
  /** Answers passed on, per body hash. */
  answered: Map<string, number>;
  /** Bodies asked for again after the proxy had passed an answer on. */
  askedAfterAnswer: string[];
  faultsInjected: number;
  /** Stop listening and drop every connection; `revive` brings the proxy back on the same port. */
  die(): void;
  revive(): void;
  readonly down: boolean;
  /** While false, `revive` does nothing (the server stays dead). */
  revivable: boolean;
  stop(): void;
}

/**
 * `plan(key, attempt)` says what happens to the attempt-th request (0-based) of the body with sha256 `key`;
 * undefined forwards it upstream.
 */
export function startFaultProxy(upstream: string, plan: (key: string, attempt: number) => Fault | undefined = () => undefined): FaultProxy {
  const requests = new Map<string, number>();
  const answered = new Map<string, number>();
  const askedAfterAnswer: string[] = [];
  const encoder = new TextEncoder();
  const never = new Promise<Response>(() => {});
  let answering = 0;
  let forwarding = 0;
  let down = false;
  let faultsInjected = 0;

  const handle = async (request: Request): Promise<Response> => {
    const body = await request.text();
    const key = sha256(body);
    const attempt = requests.get(key) ?? 0;
    requests.set(key, attempt + 1);
    if (answered.has(key)) askedAfterAnswer.push(key);
    const fault = plan(key, attempt);
    if (fault) faultsInjected++;
    switch (fault) {
      case '500': return Response.json({ error: { message: 'upstream failed', type: 'server_error' } }, { status: 500 });
      case '429': return Response.json({ error: { message: 'Rate limit reached' } }, { status: 429, headers: { 'retry-after': '3' } });
      case 'malformed': return new Response('{"choices": [{"message": {"content": "<score>3</sc', { headers: { 'content-type': 'application/json' } });
      case 'truncated': return new Response(new ReadableStream({
        start: (controller) => {
          controller.enqueue(encoder.encode('{"choices": [{"mess'));
          controller.close();
        },
      }), { headers: { 'content-type': 'application/json', 'content-length': '500' } });
      case 'hang': return never;
      case 'die': {
        // Between answers: once the requests being forwarded are answered and their replies written, every
        // connection drops (an answer lost on its way would be the server's loss, not a repeat by the judge).
        while (forwarding > 0 || answering > 0) await Bun.sleep(0);
        await Bun.sleep(0);
        proxy.die();
        return never;
      }
      default:
    }
    forwarding++;
    let forwarded: Response;
    let text: string;
    try {
      forwarded = await fetch(`${upstream}${new URL(request.url).pathname.replace(/^\/v1/, '')}`, {
        method: request.method,
        headers: {
          'content-type': 'application/json',
          ...(request.headers.get('authorization') ? { authorization: request.headers.get('authorization')! } : {}),
        },
        body,
      });
      text = await forwarded.text();
    } finally {
      forwarding--;
    }
    if (forwarded.ok && !down) {
      answered.set(key, (answered.get(key) ?? 0) + 1);
      answering++;
      setTimeout(() => answering--, 0);
    }
    return new Response(text, { status: forwarded.status, headers: { 'content-type': forwarded.headers.get('content-type') ?? 'application/json' } });
  };

  const listen = (port: number) => Bun.serve({ hostname: '127.0.0.1', port, idleTimeout: 0, fetch: handle });
  let server = listen(0);
  const port = server.port!;
  const proxy: FaultProxy = {
    url: `http://127.0.0.1:${port}/v1`,
    requests, answered, askedAfterAnswer,
    get faultsInjected() {
      return faultsInjected;
    },
    get down() {
      return down;
    },
    revivable: true,
    die() {
      if (down) return;
      down = true;
      void server.stop(true);
    },
    revive() {
      if (!down || !proxy.revivable) return;
      down = false;
      server = listen(port);
    },
    stop() {
      down = true;
      void server.stop(true);
    },
  };
  return proxy;
}

// The options of judge `openai` (judgeOptions in lsp.config.ts), checked with zod: one line naming the option
// when one is wrong or unknown. The API key never appears here, only the name of the variable that holds it.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseComponentOptions } from '@lsp/core';
import { z } from 'zod';
import { defaultPairwisePrompt } from './judge-prompts';

const environmentName = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const openAiJudgeOptionsSchema = z
  .object({
    /** The API's base URL, e.g. https://api.openai.com/v1 or http://127.0.0.1:8000/v1 (`bun lsp serve`). */
    baseURL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL such as http://127.0.0.1:8000/v1' }),
    /** The model name the server expects in "model". */
    model: z.string().min(1),
    /** The NAME of the environment variable holding the API key (sent as a bearer token). Unset: no key is sent. */
    apiKeyEnv: z.string().regex(environmentName, 'must be the name of an environment variable, e.g. OPENAI_API_KEY (never the key itself)').optional(),
    /** 'quality' (game-lsp's 0..7 rubric) or a template with {query} and {answer} that asks for <score>N</score>. */
    prompt: z.string().min(1).default('quality')
      .refine((prompt) => prompt === 'quality' || prompt.includes('{answer}'), 'must be "quality" or a template holding {answer} (and usually {query})'),
    /** The top of a custom prompt's scale: scores are points / maxScore. Ignored for 'quality' (7). */
    maxScore: z.number().positive().default(10),
    /** The prompt for items with metadata { pairwise: true, first, second }: {query}, {first}, {second}, asks for <verdict>. */
    pairwisePrompt: z.string().min(1).default(defaultPairwisePrompt)
      .refine((prompt) => prompt.includes('{first}') && prompt.includes('{second}'), 'must hold {first} and {second}'),
    temperature: z.number().min(0).default(0),
    /** The judge's reply budget in tokens. */
    maxTokens: z.number().int().positive().default(512),
    /** Sent as "seed" when set (servers that honour it give the same reply again). */
    seed: z.number().int().optional(),
    /** Requests in flight at once. */
    concurrency: z.number().int().positive().default(8),
    /** One attempt's limit, from sending the request to the end of the reply. */
    timeoutMs: z.number().positive().default(120_000),
    /** Attempts after the first, on 429, 5xx, timeouts, broken connections and malformed response bodies. */
    retries: z.number().int().nonnegative().default(6),
    /** The first retry's wait; each further one doubles it (with jitter), up to maxBackoffMs. */
    backoffMs: z.number().nonnegative().default(1000),
    maxBackoffMs: z.number().nonnegative().default(60_000),
    /** A server's Retry-After is honoured up to this long. */
    maxRetryAfterMs: z.number().nonnegative().default(120_000),
    /** Replies are kept here, by the sha256 of the request body, so a resumed run does not ask again; false: no cache. */
    cacheDirectory: z.union([z.string().min(1), z.literal(false)]).optional(),
  })
  .strict();

export type OpenAiJudgeOptions = z.input<typeof openAiJudgeOptionsSchema>;
export type ResolvedOpenAiJudgeOptions = Omit<z.output<typeof openAiJudgeOptionsSchema>, 'cacheDirectory'> & {
  cacheDirectory: string | false;
};

/** Where replies are cached by default: $XDG_CACHE_HOME/lsp/judge-openai, else ~/.cache/lsp/judge-openai. */
export function defaultCacheDirectory(environment: Record<string, string | undefined> = process.env): string {
  return join(environment.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lsp', 'judge-openai');
}

export function parseJudgeOptions(options: unknown): ResolvedOpenAiJudgeOptions {
  const parsed = parseComponentOptions('judge openai', openAiJudgeOptionsSchema, options,
    'fix judgeOptions in lsp.config.ts (baseURL, model, apiKeyEnv, prompt, ...)');
  return { ...parsed, cacheDirectory: parsed.cacheDirectory ?? defaultCacheDirectory() };
}

// The logic of `lsp score` and `lsp generate`: JSONL scoring of given completions, and streamed generation from
// a prompt. The command files in the runner only parse flags, open a device and call these.
import { readFileSync } from 'node:fs';
import { InvalidInputError, type ScoredSequence } from '@lsp/core';
import { readGenerationConfig } from './model-folder';
import type { LlamaModel } from './policy-model';

/** One output line of `lsp score`: the format is checked from outside, keep it exactly. */
export interface ScoreLine {
  logprob: number;
  tokens: number;
  token_logprobs: number[];
}

function parseIds(value: unknown, field: string, where: string): number[] {
  if (!Array.isArray(value) || !value.every((id) => Number.isInteger(id) && id >= 0)) {
    throw new InvalidInputError(`${where}: "${field}" must be a list of token ids`);
  }
  return value as number[];
}

/**
 * Reads score input lines, {"prompt_ids": [...], "completion_ids": [...]} or {"prompt": "...", "completion": "..."}
 * (the latter needs the model's tokenizer: the prompt is encoded with special tokens, the completion without).
 */
export function parseScoreInput(text: string, model: LlamaModel, file = 'input'): ScoredSequence[] {
  const sequences: ScoredSequence[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `${file}:${index + 1}`;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line);
    } catch {
      throw new InvalidInputError(`${where}: not valid JSON`);
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new InvalidInputError(`${where}: not a JSON object`);
    if ('prompt_ids' in record || 'completion_ids' in record) {
      sequences.push({
        promptIds: parseIds(record.prompt_ids, 'prompt_ids', where),
        completionIds: parseIds(record.completion_ids, 'completion_ids', where),
      });
      return;
    }
    if (typeof record.prompt !== 'string' || typeof record.completion !== 'string') {
      throw new InvalidInputError(`${where}: needs "prompt_ids" and "completion_ids", or "prompt" and "completion" strings`);
    }
    const tokenizer = model.tokenizer;
    if (!tokenizer) throw new InvalidInputError(`${where}: text needs the model folder's tokenizer.json, which is not loaded; give prompt_ids and completion_ids`);
    sequences.push({
      promptIds: tokenizer.encode(record.prompt, { addSpecialTokens: true }),
      completionIds: tokenizer.encode(record.completion, { addSpecialTokens: false }),
    });
  });
  return sequences;
}

/** Scores sequences in batches of about `tokensPerBatch` tokens and writes one line per sequence, in order. */
export async function scoreSequences(
  model: LlamaModel, sequences: readonly ScoredSequence[], write: (line: string) => void, tokensPerBatch = 4096,
): Promise<void> {
  for (let start = 0; start < sequences.length;) {
    let end = start;
    let tokens = 0;
    do {
      const sequence = sequences[end]!;
      tokens += sequence.promptIds.length + sequence.completionIds.length;
      end++;
    } while (end < sequences.length && tokens < tokensPerBatch);
    const batch = sequences.slice(start, end);
    const logprobs = await model.tokenLogProbs(batch);
    for (const row of logprobs) {
      const values = Array.from(row);
      const line: ScoreLine = { logprob: values.reduce((a, b) => a + b, 0), tokens: values.length, token_logprobs: values };
      write(JSON.stringify(line));
    }
    start = end;
  }
}

/** `lsp score`: reads a JSONL file, writes one JSONL line per input line. */
export async function runScore(model: LlamaModel, inputFile: string, write: (line: string) => void): Promise<void> {
  let text: string;
  try {
    text = readFileSync(inputFile, 'utf8');
  } catch {
    throw new InvalidInputError(`${inputFile}: cannot be read`);
  }
  await scoreSequences(model, parseScoreInput(text, model, inputFile), write);
}

export interface GenerateCommandOptions {
  prompt?: string;
  promptIds?: number[];
  chat?: boolean;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
}

/** Sampling defaults of the folder's generation_config.json (do_sample, temperature, top_p, top_k), if any. */
export function generationDefaults(directory: string): { temperature?: number; topP?: number; topK?: number } {
  const json = readGenerationConfig(directory);
  if (!json) return {};
  if (json.do_sample === false) return { temperature: 0 };
  const number = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
  return { temperature: number(json.temperature), topP: number(json.top_p), topK: number(json.top_k) };
}

/**
 * `lsp generate`: one prompt (text through the tokenizer, optionally the chat template; or ids), streaming what
 * it generates through `write` as it comes: text when there is a tokenizer, else ids separated by spaces.
 */
export async function runGenerate(
  model: LlamaModel, options: GenerateCommandOptions, write: (text: string) => void,
  defaults: { temperature?: number; topP?: number; topK?: number } = {},
): Promise<{ completionIds: number[]; finishReason: string }> {
  const tokenizer = model.tokenizer;
  let promptIds: number[];
  if (options.promptIds) {
    promptIds = options.promptIds;
  } else {
    if (options.prompt === undefined) throw new InvalidInputError('generate needs --prompt or --prompt-ids');
    if (!tokenizer) throw new InvalidInputError('a text prompt needs tokenizer.json in the model folder; give --prompt-ids instead');
    if (options.chat) {
      const text = tokenizer.applyChatTemplate([{ role: 'user', content: options.prompt }], { addGenerationPrompt: true });
      promptIds = tokenizer.encode(text, { addSpecialTokens: false });
    } else {
      promptIds = tokenizer.encode(options.prompt, { addSpecialTokens: true });
    }
  }
  const decoder = tokenizer?.createStreamDecoder({ skipSpecialTokens: true });
  let first = true;
  const [result] = await model.generate(
    [{ promptIds }],
    {
      maxNewTokens: options.maxTokens ?? 256,
      temperature: options.temperature ?? defaults.temperature ?? 1,
      topP: options.topP ?? defaults.topP ?? 1,
      topK: options.topK ?? defaults.topK ?? 0,
      seed: options.seed,
    },
    (_, id) => {
      if (decoder) {
        const text = decoder.push(id);
        if (text) write(text);
      } else {
        write(first ? String(id) : ` ${id}`);
        first = false;
      }
    },
  );
  if (decoder) {
    const rest = decoder.flush();
    if (rest) write(rest);
  }
  return { completionIds: result!.completionIds, finishReason: result!.finishReason };
}

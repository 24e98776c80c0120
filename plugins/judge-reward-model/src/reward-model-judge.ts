// Judge `reward-model`: a Hugging Face *ForSequenceClassification folder (Llama, Qwen2, Qwen3 — what @lsp/model
// reads) as a judge. Each (query, answer) becomes the conversation [user: query, assistant: answer], rendered with
// the folder's own chat template and tokenized as transformers' apply_chat_template(tokenize=True) does (no
// generation prompt, no special tokens added beyond the template's own); batches of batchSize go through the model
// at once, and the score is the scalar head at each sequence's last token that is not pad_token_id (transformers'
// pooling), centred and scaled: score = (raw - center) * scale.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createWasmBackend } from '@lsp/backend-wasm';
import {
  chooseAvailableBackend, ConfigError, InvalidInputError,
  type BackendV1, type ChatMessage, type DeviceV1, type JudgeItem, type JudgeScore, type JudgeV1,
} from '@lsp/core';
import { loadModel, readModelConfig, type LlamaModel } from '@lsp/model';
import { loadTokenizer, renderChatTemplate, type TokenizerConfig, type WasmTokenizer } from '@lsp/tokenizer-wasm';
import { parseRewardModelOptions, type ResolvedRewardModelJudgeOptions } from './judge-options';

export interface RewardModelJudge extends JudgeV1 {
  readonly options: Readonly<ResolvedRewardModelJudgeOptions>;
  /** The backend the model runs on. */
  readonly backendName: string;
  /** The token ids the model scores for one item: the chat template applied to [user: query, assistant: answer]. */
  encode(item: Pick<JudgeItem, 'query' | 'answer'>): number[];
  /** The model's raw scores (before center and scale), one per item. */
  rawScores(items: readonly Pick<JudgeItem, 'query' | 'answer'>[], signal?: AbortSignal): Promise<number[]>;
  /** Frees the model, the tokenizer and the device. */
  dispose(): void;
}

export interface RewardModelEnvironment {
  /** The backends the judge may choose from by name (default: @lsp/backend-wasm's). */
  backends?: readonly BackendV1[];
}

const prefix = 'judge reward-model';

function fail(message: string, hint?: string): never {
  throw new ConfigError(`${prefix}: ${message}`, hint ? { hint } : {});
}

function readJsonObject(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    fail(`${path} is not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${path} is not a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * The tokenizer config transformers would use for the chat template: tokenizer_config.json, with the template from
 * chat_template.jinja when the folder has one (transformers saves it there since 4.51 and prefers it).
 */
export function readChatTemplateConfig(directory: string): TokenizerConfig {
  const configPath = join(directory, 'tokenizer_config.json');
  const config = existsSync(configPath) ? (readJsonObject(configPath) as TokenizerConfig) : {};
  const jinjaPath = join(directory, 'chat_template.jinja');
  if (existsSync(jinjaPath)) return { ...config, chat_template: readFileSync(jinjaPath, 'utf8') };
  const template = config.chat_template;
  const usable = typeof template === 'string' ? template.trim() !== '' : Array.isArray(template) && template.length > 0;
  if (!usable) {
    fail(`${directory} has no chat template (neither chat_template in tokenizer_config.json nor chat_template.jinja)`,
      'a reward model scores conversations through its own chat template; use the folder as published on the Hub');
  }
  return config;
}

export async function createRewardModelJudge(rawOptions: unknown, environment: RewardModelEnvironment = {}): Promise<RewardModelJudge> {
  const options = parseRewardModelOptions(rawOptions);
  const directory = options.model;
  if (!existsSync(directory) || !statSync(directory).isDirectory()) {
    fail(`the model folder ${directory} does not exist`, 'set --judge-model (judgeOptions.model) to a *ForSequenceClassification folder');
  }
  // The head first: a causal LM folder is the likeliest mistake, and says so before anything is loaded.
  const config = readModelConfig(directory);
  if (config.scoreLabels === undefined) {
    fail(`${directory} has no score head (config.json's architectures is not a *ForSequenceClassification)`,
      'pass a reward model such as Skywork/Skywork-Reward-V2-Llama-3.2-3B, not a chat or base model');
  }
  if (config.scoreLabels !== 1) {
    fail(`${directory} has a score head with ${config.scoreLabels} labels; a reward model has one (num_labels 1)`);
  }
  if (!existsSync(join(directory, 'tokenizer.json'))) {
    fail(`${directory} has no tokenizer.json`, 'a reward model is scored through its own tokenizer; copy it into the folder');
  }
  const templateConfig = readChatTemplateConfig(directory);
  const backends = environment.backends ?? [createWasmBackend()];
  const backend = await chooseAvailableBackend(backends, options.backend, {
    label: prefix,
    lookUp: (name) => {
      const found = backends.find((candidate) => candidate.name === name);
      if (!found) fail(`backend "${name}" is not one this judge can use (${backends.map((b) => b.name).join(', ') || 'none'})`, 'set the judge\'s backend to auto or one of those');
      return found;
    },
  });

  let tokenizer: WasmTokenizer | undefined;
  let device: DeviceV1 | undefined;
  let model: LlamaModel | undefined;
  try {
    tokenizer = await loadTokenizer(directory);
    device = await backend.createDevice();
    model = await loadModel(directory, { device, tokenizer });
  } catch (error) {
    model?.dispose();
    device?.dispose();
    tokenizer?.dispose();
    throw error;
  }
  const live = { tokenizer, device, model };
  let disposed = false;

  const encode = ({ query, answer }: Pick<JudgeItem, 'query' | 'answer'>): number[] => {
    if (disposed) throw new InvalidInputError(`${prefix}: the judge has been disposed`);
    const messages: ChatMessage[] = [{ role: 'user', content: query }, { role: 'assistant', content: answer }];
    const text = renderChatTemplate(templateConfig, messages, { addGenerationPrompt: false });
    // As apply_chat_template: the template writes the special tokens it wants (BOS included); none are added.
    return live.tokenizer.encode(text, { addSpecialTokens: false });
  };

  const rawScores = async (items: readonly Pick<JudgeItem, 'query' | 'answer'>[], signal?: AbortSignal): Promise<number[]> => {
    const sequences = items.map((item, index) => {
      if (typeof item.query !== 'string' || typeof item.answer !== 'string') {
        throw new InvalidInputError(`${prefix}: item ${index} needs a string query and answer`);
      }
      const ids = encode(item);
      if (ids.length > config.maxPositionEmbeddings) {
        throw new InvalidInputError(`${prefix}: item ${index} is ${ids.length} tokens, more than the model's max_position_embeddings (${config.maxPositionEmbeddings})`);
      }
      return ids;
    });
    const scores: number[] = [];
    for (let start = 0; start < sequences.length; start += options.batchSize) {
      signal?.throwIfAborted();
      const outputs = await live.model.scoreSequences(sequences.slice(start, start + options.batchSize));
      for (const output of outputs) scores.push(output[0]!);
    }
    return scores;
  };

  return {
    specificationVersion: 'v1',
    name: 'reward-model',
    options,
    backendName: backend.name,
    encode,
    rawScores,
    async doScore(items: readonly JudgeItem[], context: { signal?: AbortSignal }): Promise<JudgeScore[]> {
      const raw = await rawScores(items, context.signal);
      return raw.map((value) => ({ score: (value - options.center) * options.scale, details: { raw: value } }));
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      live.model.dispose();
      live.tokenizer.dispose();
      live.device.dispose();
    },
  };
}

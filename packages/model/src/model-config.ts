// config.json of a Hugging Face Llama-family folder, read into one typed ModelConfig. Both dialects occur in
// real folders: transformers 4 (rope_theta, rope_scaling with type and/or rope_type, torch_dtype) and
// transformers 5 (rope_parameters holding rope_theta and the scaling, dtype). Defaults are transformers'.
import { InvalidInputError } from '@lsp/core';

export type Architecture = 'llama' | 'mistral' | 'qwen2' | 'qwen3';
export const supportedArchitectures: readonly Architecture[] = ['llama', 'mistral', 'qwen2', 'qwen3'];

export type RopeScaling =
  | { type: 'default' }
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number };

export type StorageDType = 'float32' | 'float16' | 'bfloat16';

export interface ModelConfig {
  architecture: Architecture;
  vocabularySize: number;
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  keyValueHeads: number;
  headDim: number;
  rmsNormEpsilon: number;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** Bias on q_proj, k_proj, v_proj. */
  qkvBias: boolean;
  /** Bias on o_proj. */
  outputBias: boolean;
  /** Bias on gate_proj, up_proj, down_proj. */
  mlpBias: boolean;
  /** Qwen3's per-head RMSNorm of queries and keys before the rotation. */
  qkNorm: boolean;
  /** Longest sequence the attention sees in full; undefined when there is no sliding window. */
  slidingWindow: number | undefined;
  /** Number of outputs of the scalar head (`score`) of a *ForSequenceClassification model, else undefined. */
  scoreLabels: number | undefined;
  dtype: StorageDType;
  eosTokenIds: number[];
  bosTokenId: number | undefined;
  padTokenId: number | undefined;
  /** The parsed JSON as found, written back on save. */
  raw: Record<string, unknown>;
}

type Json = Record<string, unknown>;

function fail(file: string, message: string): never {
  throw new InvalidInputError(`${file}: ${message}`);
}

/**
 * Largest accepted value of each size in config.json: far above every released model (Llama 3.1 405B has 126
 * layers, hidden size 16384, intermediate size 53248; vocabularies reach about 260k), low enough that a mistyped
 * or hostile file is refused before its sizes allocate anything.
 */
export const configSizeLimits: Record<string, number> = {
  vocab_size: 1 << 22,
  hidden_size: 1 << 17,
  intermediate_size: 1 << 20,
  num_hidden_layers: 1024,
  num_attention_heads: 1024,
  num_key_value_heads: 1024,
  head_dim: 4096,
  max_position_embeddings: 1 << 24,
  original_max_position_embeddings: 1 << 24,
  sliding_window: 1 << 24,
  num_labels: 1 << 16,
};

function integerField(json: Json, field: string, file: string, fallback?: number): number {
  const value = json[field];
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    fail(file, `missing field "${field}"`);
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    fail(file, `field "${field}" must be a positive integer, got ${JSON.stringify(value)}`);
  }
  const limit = configSizeLimits[field];
  if (limit !== undefined && value > limit) {
    fail(file, `field "${field}" is ${value}, above the largest supported ${limit}: check the file`);
  }
  return value;
}

function numberField(json: Json, field: string, file: string, fallback?: number): number {
  const value = json[field];
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    fail(file, `missing field "${field}"`);
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(file, `field "${field}" must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function booleanField(json: Json, field: string, file: string, fallback: boolean): boolean {
  const value = json[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') fail(file, `field "${field}" must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function tokenIds(value: unknown, field: string, file: string): number[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const id of list) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      fail(file, `field "${field}" must be a token id or a list of them, got ${JSON.stringify(value)}`);
    }
  }
  return list as number[];
}

function architectureOf(json: Json, file: string): Architecture {
  const modelType = json.model_type;
  if (typeof modelType !== 'string') fail(file, 'missing field "model_type"');
  if (!(supportedArchitectures as readonly string[]).includes(modelType)) {
    fail(file, `model_type "${modelType}" is not supported (supported: ${supportedArchitectures.join(', ')})`);
  }
  return modelType as Architecture;
}

function ropeOf(json: Json, file: string, maxPositionEmbeddings: number): { theta: number; scaling: RopeScaling } {
  // transformers 5 keeps everything in rope_parameters; transformers 4 splits rope_theta and rope_scaling.
  const parametersField = json.rope_parameters !== undefined && json.rope_parameters !== null ? 'rope_parameters' : 'rope_scaling';
  const parameters = (json[parametersField] ?? {}) as Json;
  if (typeof parameters !== 'object' || Array.isArray(parameters)) {
    fail(file, `field "${parametersField}" must be an object`);
  }
  const theta = parameters.rope_theta !== undefined
    ? numberField(parameters, 'rope_theta', `${file}: ${parametersField}`)
    : numberField(json, 'rope_theta', file, 10000);
  if (parameters.partial_rotary_factor !== undefined && parameters.partial_rotary_factor !== 1) {
    fail(file, `${parametersField}.partial_rotary_factor ${JSON.stringify(parameters.partial_rotary_factor)} is not supported`);
  }
  if (json.partial_rotary_factor !== undefined && json.partial_rotary_factor !== 1) {
    fail(file, `partial_rotary_factor ${JSON.stringify(json.partial_rotary_factor)} is not supported`);
  }
  // rope_type wins over the older "type", as in transformers' standardize_rope_params.
  const type = parameters.rope_type ?? parameters.type ?? 'default';
  const where = `${file}: ${parametersField}`;
  switch (type) {
    case 'default':
      return { theta, scaling: { type: 'default' } };
    case 'linear':
      return { theta, scaling: { type: 'linear', factor: numberField(parameters, 'factor', where) } };
    case 'llama3':
      return {
        theta,
        scaling: {
          type: 'llama3',
          factor: numberField(parameters, 'factor', where),
          lowFreqFactor: numberField(parameters, 'low_freq_factor', where),
          highFreqFactor: numberField(parameters, 'high_freq_factor', where),
          originalMaxPositionEmbeddings: integerField(
            parameters, 'original_max_position_embeddings', where,
            integerField(json, 'original_max_position_embeddings', file, maxPositionEmbeddings),
          ),
        },
      };
    default:
      return fail(file, `${parametersField}.rope_type "${String(type)}" is not supported (supported: default, linear, llama3)`);
  }
}

/** Reads a config.json object (already parsed); `file` names it in errors. */
export function parseModelConfig(json: unknown, file = 'config.json'): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(file, 'must hold a JSON object');
  const raw = json as Json;
  const architecture = architectureOf(raw, file);
  const architectures = Array.isArray(raw.architectures) ? (raw.architectures as unknown[]) : [];
  const known = architectures.filter((name): name is string => typeof name === 'string');
  const unsupported = known.find((name) => !/For(CausalLM|SequenceClassification)$|Model$/.test(name));
  if (unsupported) fail(file, `architecture "${unsupported}" is not supported (a *ForCausalLM or *ForSequenceClassification)`);
  const sequenceClassification = known.some((name) => name.endsWith('ForSequenceClassification'));

  const hiddenSize = integerField(raw, 'hidden_size', file);
  const heads = integerField(raw, 'num_attention_heads', file);
  const keyValueHeads = integerField(raw, 'num_key_value_heads', file, heads);
  if (heads % keyValueHeads !== 0) {
    fail(file, `num_attention_heads ${heads} is not a multiple of num_key_value_heads ${keyValueHeads}`);
  }
  const defaultHeadDim = architecture === 'qwen3' ? 128 : Math.floor(hiddenSize / heads);
  const headDim = integerField(raw, 'head_dim', file, defaultHeadDim);
  if (headDim === 0) fail(file, `hidden_size ${hiddenSize} is smaller than num_attention_heads ${heads}: give head_dim`);
  if (headDim % 2 !== 0) fail(file, `head_dim ${headDim} must be even for the rotary embedding`);
  const hiddenAct = raw.hidden_act ?? raw.hidden_activation ?? 'silu';
  if (hiddenAct !== 'silu') fail(file, `hidden_act "${String(hiddenAct)}" is not supported (silu)`);
  const maxPositionEmbeddings = integerField(
    raw, 'max_position_embeddings', file, architecture === 'llama' ? 2048 : architecture === 'mistral' ? 131072 : 32768,
  );
  const rope = ropeOf(raw, file, maxPositionEmbeddings);

  const attentionBias = booleanField(raw, 'attention_bias', file, false);
  let slidingWindow: number | undefined;
  if (architecture === 'mistral' && raw.sliding_window !== undefined && raw.sliding_window !== null) {
    slidingWindow = integerField(raw, 'sliding_window', file);
  } else if ((architecture === 'qwen2' || architecture === 'qwen3') && booleanField(raw, 'use_sliding_window', file, false)) {
    slidingWindow = integerField(raw, 'sliding_window', file, 4096);
  }

  let scoreLabels: number | undefined;
  if (sequenceClassification) {
    const labels = raw.id2label && typeof raw.id2label === 'object' ? Object.keys(raw.id2label).length : undefined;
    scoreLabels = integerField(raw, 'num_labels', file, labels ?? 2);
  }

  const dtypeField = raw.dtype !== undefined ? 'dtype' : 'torch_dtype';
  const dtypeValue = raw[dtypeField] ?? 'float32';
  if (dtypeValue !== 'float32' && dtypeValue !== 'float16' && dtypeValue !== 'bfloat16') {
    fail(file, `${dtypeField} "${String(dtypeValue)}" is not supported (float32, float16, bfloat16)`);
  }

  const padValue = raw.pad_token_id;
  return {
    architecture,
    vocabularySize: integerField(raw, 'vocab_size', file),
    hiddenSize,
    intermediateSize: integerField(raw, 'intermediate_size', file),
    layers: integerField(raw, 'num_hidden_layers', file),
    heads,
    keyValueHeads,
    headDim,
    rmsNormEpsilon: numberField(raw, 'rms_norm_eps', file, 1e-6),
    ropeTheta: rope.theta,
    ropeScaling: rope.scaling,
    maxPositionEmbeddings,
    tieWordEmbeddings: booleanField(raw, 'tie_word_embeddings', file, false),
    qkvBias: architecture === 'qwen2' ? true : architecture === 'mistral' ? false : attentionBias,
    outputBias: architecture === 'qwen2' || architecture === 'mistral' ? false : attentionBias,
    mlpBias: architecture === 'llama' ? booleanField(raw, 'mlp_bias', file, false) : false,
    qkNorm: architecture === 'qwen3',
    slidingWindow,
    scoreLabels,
    dtype: dtypeValue,
    eosTokenIds: tokenIds(raw.eos_token_id, 'eos_token_id', file),
    bosTokenId: tokenIds(raw.bos_token_id, 'bos_token_id', file)[0],
    padTokenId: typeof padValue === 'number' ? padValue : undefined,
    raw,
  };
}

/** The name, shape and role of every tensor the config implies, in Hugging Face naming. */
export interface TensorSpec {
  name: string;
  shape: number[];
}

export function expectedTensors(config: ModelConfig): TensorSpec[] {
  const { hiddenSize: c, intermediateSize: i, heads: h, keyValueHeads: k, headDim: d, vocabularySize: v } = config;
  const specs: TensorSpec[] = [{ name: 'model.embed_tokens.weight', shape: [v, c] }];
  for (let layer = 0; layer < config.layers; layer++) {
    const prefix = `model.layers.${layer}`;
    specs.push({ name: `${prefix}.input_layernorm.weight`, shape: [c] });
    specs.push({ name: `${prefix}.self_attn.q_proj.weight`, shape: [h * d, c] });
    if (config.qkvBias) specs.push({ name: `${prefix}.self_attn.q_proj.bias`, shape: [h * d] });
    specs.push({ name: `${prefix}.self_attn.k_proj.weight`, shape: [k * d, c] });
    if (config.qkvBias) specs.push({ name: `${prefix}.self_attn.k_proj.bias`, shape: [k * d] });
    specs.push({ name: `${prefix}.self_attn.v_proj.weight`, shape: [k * d, c] });
    if (config.qkvBias) specs.push({ name: `${prefix}.self_attn.v_proj.bias`, shape: [k * d] });
    specs.push({ name: `${prefix}.self_attn.o_proj.weight`, shape: [c, h * d] });
    if (config.outputBias) specs.push({ name: `${prefix}.self_attn.o_proj.bias`, shape: [c] });
    if (config.qkNorm) {
      specs.push({ name: `${prefix}.self_attn.q_norm.weight`, shape: [d] });
      specs.push({ name: `${prefix}.self_attn.k_norm.weight`, shape: [d] });
    }
    specs.push({ name: `${prefix}.post_attention_layernorm.weight`, shape: [c] });
    specs.push({ name: `${prefix}.mlp.gate_proj.weight`, shape: [i, c] });
    if (config.mlpBias) specs.push({ name: `${prefix}.mlp.gate_proj.bias`, shape: [i] });
    specs.push({ name: `${prefix}.mlp.up_proj.weight`, shape: [i, c] });
    if (config.mlpBias) specs.push({ name: `${prefix}.mlp.up_proj.bias`, shape: [i] });
    specs.push({ name: `${prefix}.mlp.down_proj.weight`, shape: [c, i] });
    if (config.mlpBias) specs.push({ name: `${prefix}.mlp.down_proj.bias`, shape: [c] });
  }
  specs.push({ name: 'model.norm.weight', shape: [c] });
  if (config.scoreLabels !== undefined) {
    specs.push({ name: 'score.weight', shape: [config.scoreLabels, c] });
  } else if (!config.tieWordEmbeddings) {
    specs.push({ name: 'lm_head.weight', shape: [v, c] });
  }
  return specs;
}

/** Tensors a folder may hold that the model does not use (old rotary buffers, a tied head saved anyway). */
export function isIgnorableTensor(name: string, config: ModelConfig): boolean {
  if (name.endsWith('.rotary_emb.inv_freq')) return true;
  return name === 'lm_head.weight' && (config.tieWordEmbeddings || config.scoreLabels !== undefined);
}

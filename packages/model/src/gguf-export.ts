// GGUF export of a Hugging Face model folder, for llama.cpp and the tools built on it (`lsp export --format gguf`).
// GGUF v3 as ggml's docs/gguf.md specifies it: little-endian header (magic, version, tensor count, metadata
// count), typed metadata, tensor descriptions (ggml dimension order: the innermost first), then the tensor data,
// each tensor starting on a multiple of general.alignment (32) from the start of the data section.
// Names, metadata keys and the Llama query/key row order follow llama.cpp's convert_hf_to_gguf.py.
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InvalidInputError } from '@lsp/core';
import { expectedTensors, parseModelConfig, type ModelConfig } from './model-config';
import { readModelTensorIndex, readTensorData, toFloat16Bits, type TensorEntry } from './safetensors';

export type GgufDType = 'f32' | 'f16' | 'q8_0';
export const ggufDTypes: readonly GgufDType[] = ['f32', 'f16', 'q8_0'];

export interface GgufExportOptions {
  /** Hugging Face model folder: config.json, safetensors weights, tokenizer.json (tokenizer_config.json optional). */
  model: string;
  /** The .gguf file to write (written under a temporary name, then renamed into place). */
  out: string;
  /** Storage type of the matrices; vectors (norms, biases) stay f32 as llama.cpp's converter keeps them. Default f16. */
  dtype?: GgufDType;
}

export interface GgufExportSummary {
  file: string;
  architecture: string;
  tensors: number;
  metadata: number;
  bytes: number;
  /** How many matrices were stored each way (q8_0 falls back to f16 when a row is not a multiple of 32). */
  types: Record<string, number>;
}

// --- GGUF constants (gguf-py/gguf/constants.py) -------------------------------------------------------------

const ggufMagic = 0x46554747; // "GGUF" read as a little-endian u32
const ggufVersion = 3;
const alignment = 32;

const enum ValueType { U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7, String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12 }

/** ggml tensor types used here, with their block size and bytes per block. */
const ggmlTypes = {
  F32: { id: 0, block: 1, bytes: 4 },
  F16: { id: 1, block: 1, bytes: 2 },
  Q8_0: { id: 8, block: 32, bytes: 34 },
} as const;
type GgmlType = keyof typeof ggmlTypes;

/** general.file_type (llama_ftype): ALL_F32, MOSTLY_F16, MOSTLY_Q8_0. */
const fileTypes: Record<GgufDType, number> = { f32: 0, f16: 1, q8_0: 7 };

/** tokenizer.ggml.token_type values (llama_token_type). */
const TokenType = { Normal: 1, Unknown: 2, Control: 3, UserDefined: 4, Unused: 5, Byte: 6 } as const;

// --- metadata encoding --------------------------------------------------------------------------------------

type MetadataValue =
  | { type: ValueType.U32 | ValueType.I32 | ValueType.F32; value: number }
  | { type: ValueType.Bool; value: boolean }
  | { type: ValueType.String; value: string }
  | { type: ValueType.Array; itemType: ValueType.String; value: readonly string[] }
  | { type: ValueType.Array; itemType: ValueType.I32 | ValueType.F32; value: readonly number[] };

const u32 = (value: number): MetadataValue => ({ type: ValueType.U32, value });
const f32 = (value: number): MetadataValue => ({ type: ValueType.F32, value });
const str = (value: string): MetadataValue => ({ type: ValueType.String, value });
const bool = (value: boolean): MetadataValue => ({ type: ValueType.Bool, value });

/** Growable little-endian byte buffer. */
class ByteWriter {
  private buffer = Buffer.alloc(1 << 16);
  length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = Buffer.alloc(size);
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }
  u32(value: number): void { this.reserve(4); this.buffer.writeUInt32LE(value, this.length); this.length += 4; }
  i32(value: number): void { this.reserve(4); this.buffer.writeInt32LE(value, this.length); this.length += 4; }
  f32(value: number): void { this.reserve(4); this.buffer.writeFloatLE(value, this.length); this.length += 4; }
  u64(value: number): void { this.reserve(8); this.buffer.writeBigUInt64LE(BigInt(value), this.length); this.length += 8; }
  u8(value: number): void { this.reserve(1); this.buffer.writeUInt8(value, this.length); this.length += 1; }
  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.u64(bytes.length);
    this.reserve(bytes.length);
    bytes.copy(this.buffer, this.length);
    this.length += bytes.length;
  }
  pad(to: number): void {
    const padding = (to - (this.length % to)) % to;
    this.reserve(padding);
    this.buffer.fill(0, this.length, this.length + padding);
    this.length += padding;
  }
  bytes(): Buffer { return this.buffer.subarray(0, this.length); }
}

function writeValue(writer: ByteWriter, entry: MetadataValue): void {
  writer.u32(entry.type);
  switch (entry.type) {
    case ValueType.U32: writer.u32(entry.value); break;
    case ValueType.I32: writer.i32(entry.value); break;
    case ValueType.F32: writer.f32(entry.value); break;
    case ValueType.Bool: writer.u8(entry.value ? 1 : 0); break;
    case ValueType.String: writer.string(entry.value); break;
    case ValueType.Array:
      writer.u32(entry.itemType);
      writer.u64(entry.value.length);
      if (entry.itemType === ValueType.String) for (const item of entry.value as readonly string[]) writer.string(item);
      else if (entry.itemType === ValueType.I32) for (const item of entry.value as readonly number[]) writer.i32(item);
      else for (const item of entry.value as readonly number[]) writer.f32(item);
      break;
  }
}

// --- numeric conversions ------------------------------------------------------------------------------------

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function readFloat32(entry: TensorEntry): Float32Array {
  const tensor = readTensorData(entry);
  if (tensor.dtype === 'F32') return tensor.data;
  const out = new Float32Array(tensor.data.length);
  if (tensor.dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < tensor.data.length; i++) bits[i] = tensor.data[i]! << 16;
  } else {
    for (let i = 0; i < tensor.data.length; i++) out[i] = halfToFloat(tensor.data[i]!);
  }
  return out;
}

/** q8_0 as ggml's quantize_row_q8_0_ref: per 32 values, d = max|x| / 127 stored as f16, q = round(x / d). */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % 32 !== 0) throw new Error(`q8_0 needs a multiple of 32 values, got ${values.length}`);
  const blocks = values.length / 32;
  const out = new Uint8Array(blocks * 34);
  const view = new DataView(out.buffer);
  for (let block = 0; block < blocks; block++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(values[block * 32 + j]!));
    const d = Math.fround(amax / 127);
    const inverse = d !== 0 ? Math.fround(1 / d) : 0;
    view.setUint16(block * 34, toFloat16Bits(d), true);
    for (let j = 0; j < 32; j++) {
      const x = Math.fround(values[block * 32 + j]! * inverse);
      // C's roundf: halves away from zero.
      const q = Math.sign(x) * Math.round(Math.abs(x));
      view.setInt8(block * 34 + 2 + j, Math.max(-128, Math.min(127, q)));
    }
  }
  return out;
}

/** Dequantizes q8_0 blocks (what llama.cpp computes with), for tests. */
export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array((bytes.length / 34) * 32);
  for (let block = 0; block < bytes.length / 34; block++) {
    const d = halfToFloat(view.getUint16(block * 34, true));
    for (let j = 0; j < 32; j++) out[block * 32 + j] = d * view.getInt8(block * 34 + 2 + j);
  }
  return out;
}

function encode(values: Float32Array, type: GgmlType): Uint8Array {
  if (type === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (type === 'F16') {
    const half = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) half[i] = toFloat16Bits(values[i]!);
    return new Uint8Array(half.buffer);
  }
  return quantizeQ8_0(values);
}

/**
 * Reorders the rows of a query or key projection (or its bias) from Hugging Face's rotate-half layout to the
 * interleaved pairs llama.cpp's Llama RoPE rotates: within each head, row 2i+j takes the old row j*(d/2)+i
 * (convert_hf_to_gguf.py's LlamaModel.permute).
 */
export function permuteForLlamaRope(values: Float32Array, heads: number, columns: number): Float32Array {
  const rows = values.length / columns;
  const headDim = rows / heads;
  const half = headDim / 2;
  const out = new Float32Array(values.length);
  for (let head = 0; head < heads; head++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (head * headDim + j * half + i) * columns;
        const to = (head * headDim + 2 * i + j) * columns;
        out.set(values.subarray(from, from + columns), to);
      }
    }
  }
  return out;
}

// --- what is exported ---------------------------------------------------------------------------------------

interface PlannedTensor {
  name: string;
  /** ggml order: the innermost (contiguous) dimension first. */
  dims: number[];
  type: GgmlType;
  byteLength: number;
  offset: number;
  values: () => Float32Array;
}

function ggufArchitecture(config: ModelConfig): 'llama' | 'qwen2' | 'qwen3' {
  const where = 'config.json';
  if (config.scoreLabels !== undefined) {
    throw new InvalidInputError(`${where}: architectures: a *ForSequenceClassification model cannot be exported to GGUF (only *ForCausalLM)`);
  }
  if (config.slidingWindow !== undefined) {
    throw new InvalidInputError(`${where}: sliding_window ${config.slidingWindow} cannot be exported to GGUF (llama.cpp's ${config.architecture} attends the whole context)`);
  }
  if (config.architecture === 'llama' || config.architecture === 'mistral') {
    if (config.qkvBias || config.outputBias) {
      throw new InvalidInputError(`${where}: attention_bias true is not supported by the GGUF export of ${config.architecture}`);
    }
    if (config.mlpBias) throw new InvalidInputError(`${where}: mlp_bias true is not supported by the GGUF export of ${config.architecture}`);
    return 'llama';
  }
  return config.architecture;
}

function ggufTensorName(hfName: string): string {
  const fixed: Record<string, string> = {
    'model.embed_tokens.weight': 'token_embd.weight',
    'model.norm.weight': 'output_norm.weight',
    'lm_head.weight': 'output.weight',
  };
  if (fixed[hfName]) return fixed[hfName]!;
  const match = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(hfName);
  const parts: Record<string, string> = {
    input_layernorm: 'attn_norm',
    'self_attn.q_proj': 'attn_q',
    'self_attn.k_proj': 'attn_k',
    'self_attn.v_proj': 'attn_v',
    'self_attn.o_proj': 'attn_output',
    'self_attn.q_norm': 'attn_q_norm',
    'self_attn.k_norm': 'attn_k_norm',
    post_attention_layernorm: 'ffn_norm',
    'mlp.gate_proj': 'ffn_gate',
    'mlp.up_proj': 'ffn_up',
    'mlp.down_proj': 'ffn_down',
  };
  const part = match ? parts[match[2]!] : undefined;
  if (!match || !part) throw new InvalidInputError(`tensor "${hfName}" has no GGUF name`);
  return `blk.${match[1]}.${part}.${match[3]}`;
}

/** Llama 3's RoPE scaling as llama.cpp applies it: a rope_freqs tensor dividing each frequency (convert_hf_to_gguf.py). */
function llama3RopeFactors(config: ModelConfig): Float32Array {
  const scaling = config.ropeScaling;
  if (scaling.type !== 'llama3') throw new Error('not llama3 scaling');
  const dim = config.headDim;
  const lowFreqWavelength = scaling.originalMaxPositionEmbeddings / scaling.lowFreqFactor;
  const highFreqWavelength = scaling.originalMaxPositionEmbeddings / scaling.highFreqFactor;
  const factors = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) {
    const frequency = 1 / config.ropeTheta ** ((2 * i) / dim);
    const wavelength = (2 * Math.PI) / frequency;
    if (wavelength < highFreqWavelength) factors[i] = 1;
    else if (wavelength > lowFreqWavelength) factors[i] = scaling.factor;
    else {
      const smooth = (scaling.originalMaxPositionEmbeddings / wavelength - scaling.lowFreqFactor) / (scaling.highFreqFactor - scaling.lowFreqFactor);
      factors[i] = 1 / ((1 - smooth) / scaling.factor + smooth);
    }
  }
  return factors;
}

// --- tokenizer ----------------------------------------------------------------------------------------------

/** The Split regexes of the byte-level BPE pre-tokenizers llama.cpp knows, with its tokenizer.ggml.pre name. */
const knownPreTokenizers: { pre: string; pattern: string }[] = [
  {
    pre: 'llama-bpe',
    pattern: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  },
  {
    pre: 'qwen2',
    pattern: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  },
];

type Json = Record<string, unknown>;

/**
 * tokenizer.ggml.pre for a byte-level BPE tokenizer.json: GPT-2's own ByteLevel regex is llama.cpp's "gpt-2" (the
 * built-in world model's tokenizer), Llama 3's and Qwen2's Split regexes are "llama-bpe" and "qwen2".
 */
function preTokenizerName(preTokenizer: unknown): string {
  const fail = (what: string): never => {
    throw new InvalidInputError(`tokenizer.json: pre_tokenizer ${what} has no llama.cpp equivalent (supported: GPT-2 ByteLevel, Llama 3 and Qwen2 Split regexes)`);
  };
  if (typeof preTokenizer !== 'object' || preTokenizer === null) return fail('(none)');
  const node = preTokenizer as Json;
  if (node.type === 'ByteLevel') {
    if (node.use_regex === false) return fail('ByteLevel without use_regex');
    return 'gpt-2';
  }
  if (node.type === 'Sequence' && Array.isArray(node.pretokenizers)) {
    const steps = node.pretokenizers as Json[];
    const split = steps.find((step) => step?.type === 'Split');
    const byteLevel = steps.find((step) => step?.type === 'ByteLevel');
    const pattern = (split?.pattern as Json | undefined)?.Regex;
    if (!byteLevel) return fail('Sequence without ByteLevel');
    if (typeof pattern === 'string') {
      const known = knownPreTokenizers.find((entry) => entry.pattern === pattern);
      if (known) return known.pre;
      return fail(`Split regex ${JSON.stringify(pattern).slice(0, 60)}`);
    }
    if (steps.length === 1) return preTokenizerName(byteLevel);
  }
  return fail(JSON.stringify(node.type ?? null));
}

function readJsonFile(path: string, name: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new InvalidInputError(`${name}: not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidInputError(`${name}: must hold a JSON object`);
  return parsed as Json;
}

function tokenizerMetadata(directory: string, config: ModelConfig): [string, MetadataValue][] {
  const tokenizerFile = join(directory, 'tokenizer.json');
  if (!existsSync(tokenizerFile)) {
    throw new InvalidInputError(`${directory}: no tokenizer.json (llama.cpp needs the vocabulary in the GGUF file)`);
  }
  const tokenizer = readJsonFile(tokenizerFile, 'tokenizer.json');
  const model = (tokenizer.model ?? {}) as Json;
  if (model.type !== 'BPE') {
    throw new InvalidInputError(`tokenizer.json: model.type ${JSON.stringify(model.type ?? null)} is not supported by the GGUF export (byte-level BPE)`);
  }
  if (model.byte_fallback === true) {
    throw new InvalidInputError('tokenizer.json: model.byte_fallback true (a SentencePiece-style tokenizer) is not supported by the GGUF export (byte-level BPE)');
  }
  const pre = preTokenizerName(tokenizer.pre_tokenizer);
  const vocab = model.vocab as Record<string, unknown> | undefined;
  if (typeof vocab !== 'object' || vocab === null) throw new InvalidInputError('tokenizer.json: missing field "model.vocab"');

  const tokens: (string | undefined)[] = new Array(config.vocabularySize).fill(undefined);
  const types: number[] = new Array(config.vocabularySize).fill(TokenType.Normal);
  const place = (text: string, id: unknown, field: string): void => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new InvalidInputError(`tokenizer.json: ${field} has a bad id ${JSON.stringify(id)}`);
    if (id >= config.vocabularySize) {
      throw new InvalidInputError(`tokenizer.json: ${field} "${text}" has id ${id}, outside config.json vocab_size ${config.vocabularySize}`);
    }
    tokens[id] = text;
  };
  for (const [text, id] of Object.entries(vocab)) place(text, id, 'model.vocab');
  for (const added of (Array.isArray(tokenizer.added_tokens) ? tokenizer.added_tokens : []) as Json[]) {
    if (typeof added.content !== 'string') throw new InvalidInputError('tokenizer.json: added_tokens entry without "content"');
    place(added.content, added.id, 'added_tokens');
    types[added.id as number] = added.special === true ? TokenType.Control : TokenType.UserDefined;
  }
  // Rows of the embedding past the tokenizer's vocabulary get placeholder tokens, as convert_hf_to_gguf.py does.
  const tokenList = tokens.map((text, id) => {
    if (text !== undefined) return text;
    types[id] = TokenType.Unused;
    return `[PAD${id}]`;
  });

  const merges = (Array.isArray(model.merges) ? model.merges : []).map((merge: unknown) => {
    if (typeof merge === 'string') return merge;
    if (Array.isArray(merge) && merge.length === 2 && merge.every((part) => typeof part === 'string')) return merge.join(' ');
    throw new InvalidInputError(`tokenizer.json: model.merges entry ${JSON.stringify(merge)} is neither "a b" nor ["a", "b"]`);
  });

  const tokenizerConfigFile = join(directory, 'tokenizer_config.json');
  const tokenizerConfig = existsSync(tokenizerConfigFile) ? readJsonFile(tokenizerConfigFile, 'tokenizer_config.json') : {};
  const idOf = (field: string): number | undefined => {
    const value = tokenizerConfig[field];
    const text = typeof value === 'string' ? value : typeof (value as Json | undefined)?.content === 'string' ? (value as Json).content as string : undefined;
    if (text === undefined) return undefined;
    const id = tokenList.indexOf(text);
    return id >= 0 ? id : undefined;
  };

  const entries: [string, MetadataValue][] = [
    ['tokenizer.ggml.model', str('gpt2')],
    ['tokenizer.ggml.pre', str(pre)],
    ['tokenizer.ggml.tokens', { type: ValueType.Array, itemType: ValueType.String, value: tokenList }],
    ['tokenizer.ggml.token_type', { type: ValueType.Array, itemType: ValueType.I32, value: types }],
    ['tokenizer.ggml.merges', { type: ValueType.Array, itemType: ValueType.String, value: merges }],
  ];
  const bos = config.bosTokenId ?? idOf('bos_token');
  const eos = config.eosTokenIds[0] ?? idOf('eos_token');
  const pad = config.padTokenId ?? idOf('pad_token');
  const unk = idOf('unk_token');
  for (const [key, id] of [['bos', bos], ['eos', eos], ['unknown', unk], ['padding', pad]] as const) {
    if (id === undefined) continue;
    if (id >= config.vocabularySize) throw new InvalidInputError(`config.json: ${key} token id ${id} is outside vocab_size ${config.vocabularySize}`);
    entries.push([`tokenizer.ggml.${key}_token_id`, u32(id)]);
  }
  // Whether a BOS is prepended: tokenizer_config.json's add_bos_token, else whether the post-processor adds it.
  let addBos = tokenizerConfig.add_bos_token;
  if (typeof addBos !== 'boolean') {
    const single = ((tokenizer.post_processor ?? {}) as Json).single;
    const first = Array.isArray(single) ? (single[0] as Json | undefined)?.SpecialToken as Json | undefined : undefined;
    addBos = bos !== undefined && first !== undefined && first.id === tokenList[bos];
  }
  entries.push(['tokenizer.ggml.add_bos_token', bool(addBos as boolean)]);
  entries.push(['tokenizer.ggml.add_eos_token', bool(tokenizerConfig.add_eos_token === true)]);

  let template = tokenizerConfig.chat_template;
  if (Array.isArray(template)) template = (template as Json[]).find((entry) => entry?.name === 'default')?.template;
  if (template === undefined && existsSync(join(directory, 'chat_template.jinja'))) template = readFileSync(join(directory, 'chat_template.jinja'), 'utf8');
  if (typeof template === 'string') entries.push(['tokenizer.chat_template', str(template)]);
  return entries;
}

// --- the export ---------------------------------------------------------------------------------------------

export async function exportGguf(options: GgufExportOptions): Promise<GgufExportSummary> {
  const dtype = options.dtype ?? 'f16';
  if (!ggufDTypes.includes(dtype)) throw new InvalidInputError(`--dtype ${String(dtype)} is not supported (${ggufDTypes.join(', ')})`);
  const directory = resolve(options.model);
  const configFile = join(directory, 'config.json');
  if (!existsSync(configFile)) throw new InvalidInputError(`${options.model}: no config.json (not a Hugging Face model folder)`);
  const config = parseModelConfig(readJsonFile(configFile, 'config.json'), 'config.json');
  const arch = ggufArchitecture(config);
  const { entries } = readModelTensorIndex(directory);

  const metadata: [string, MetadataValue][] = [
    ['general.architecture', str(arch)],
    ['general.name', str(typeof config.raw._name_or_path === 'string' && config.raw._name_or_path ? config.raw._name_or_path : directory.split('/').pop() ?? 'model')],
    ['general.file_type', u32(fileTypes[dtype])],
    ['general.alignment', u32(alignment)],
    [`${arch}.vocab_size`, u32(config.vocabularySize)],
    [`${arch}.context_length`, u32(config.maxPositionEmbeddings)],
    [`${arch}.embedding_length`, u32(config.hiddenSize)],
    [`${arch}.block_count`, u32(config.layers)],
    [`${arch}.feed_forward_length`, u32(config.intermediateSize)],
    [`${arch}.attention.head_count`, u32(config.heads)],
    [`${arch}.attention.head_count_kv`, u32(config.keyValueHeads)],
    [`${arch}.attention.key_length`, u32(config.headDim)],
    [`${arch}.attention.value_length`, u32(config.headDim)],
    [`${arch}.attention.layer_norm_rms_epsilon`, f32(config.rmsNormEpsilon)],
    [`${arch}.rope.dimension_count`, u32(config.headDim)],
    [`${arch}.rope.freq_base`, f32(config.ropeTheta)],
  ];
  if (dtype === 'q8_0') metadata.push(['general.quantization_version', u32(2)]);
  if (config.ropeScaling.type === 'linear') {
    metadata.push([`${arch}.rope.scaling.type`, str('linear')], [`${arch}.rope.scaling.factor`, f32(config.ropeScaling.factor)]);
  } else if (config.ropeScaling.type === 'llama3' && arch !== 'llama') {
    throw new InvalidInputError(`config.json: rope_scaling llama3 is only exported for llama models, not ${arch}`);
  }
  metadata.push(...tokenizerMetadata(directory, config));

  // Tensors in llama.cpp's order: embedding, the blocks, the final norm, the head.
  const planned: PlannedTensor[] = [];
  const types: Record<string, number> = {};
  const add = (name: string, shape: number[], values: () => Float32Array): void => {
    const matrix = shape.length === 2;
    let type: GgmlType = 'F32';
    if (matrix && dtype === 'f16') type = 'F16';
    if (matrix && dtype === 'q8_0') type = shape[1]! % 32 === 0 ? 'Q8_0' : 'F16';
    const count = shape.reduce((a, b) => a * b, 1);
    const info = ggmlTypes[type];
    if (matrix) types[type] = (types[type] ?? 0) + 1;
    planned.push({ name, dims: [...shape].reverse(), type, byteLength: (count / info.block) * info.bytes, offset: 0, values });
  };
  if (config.ropeScaling.type === 'llama3') add('rope_freqs.weight', [config.headDim / 2], () => llama3RopeFactors(config));
  for (const spec of expectedTensors(config)) {
    const entry = entries.get(spec.name);
    if (!entry) throw new InvalidInputError(`model.safetensors: tensor "${spec.name}" is missing`);
    if (entry.shape.join(',') !== spec.shape.join(',')) {
      throw new InvalidInputError(`model.safetensors: tensor "${spec.name}" has shape [${entry.shape.join(', ')}], config.json implies [${spec.shape.join(', ')}]`);
    }
    const isQuery = /\.self_attn\.q_proj\.(weight|bias)$/.test(spec.name);
    const isKey = /\.self_attn\.k_proj\.(weight|bias)$/.test(spec.name);
    const permute = arch === 'llama' && (isQuery || isKey);
    const heads = isQuery ? config.heads : config.keyValueHeads;
    const columns = spec.shape.length === 2 ? spec.shape[1]! : 1;
    add(ggufTensorName(spec.name), spec.shape, () => {
      const values = readFloat32(entry);
      return permute ? permuteForLlamaRope(values, heads, columns) : values;
    });
  }
  let offset = 0;
  for (const tensor of planned) {
    tensor.offset = offset;
    offset += tensor.byteLength;
    offset += (alignment - (offset % alignment)) % alignment;
  }

  const header = new ByteWriter();
  header.u32(ggufMagic);
  header.u32(ggufVersion);
  header.u64(planned.length);
  header.u64(metadata.length);
  for (const [key, value] of metadata) {
    header.string(key);
    writeValue(header, value);
  }
  for (const tensor of planned) {
    header.string(tensor.name);
    header.u32(tensor.dims.length);
    for (const dim of tensor.dims) header.u64(dim);
    header.u32(ggmlTypes[tensor.type].id);
    header.u64(tensor.offset);
  }
  header.pad(alignment);

  const out = resolve(options.out);
  if (!existsSync(dirname(out))) throw new InvalidInputError(`--out ${options.out}: folder ${dirname(out)} does not exist`);
  const temporary = `${out}.partial-${process.pid}`;
  const descriptor = openSync(temporary, 'w');
  let written = 0;
  try {
    written += writeSync(descriptor, header.bytes());
    const dataStart = written;
    for (const tensor of planned) {
      const padding = dataStart + tensor.offset - written;
      if (padding > 0) written += writeSync(descriptor, Buffer.alloc(padding));
      const bytes = encode(tensor.values(), tensor.type);
      if (bytes.byteLength !== tensor.byteLength) throw new Error(`internal: ${tensor.name} encoded to ${bytes.byteLength} bytes, planned ${tensor.byteLength}`);
      written += writeSync(descriptor, bytes);
    }
    const tail = (alignment - ((written - dataStart) % alignment)) % alignment;
    if (tail > 0) written += writeSync(descriptor, Buffer.alloc(tail));
  } catch (error) {
    closeSync(descriptor);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(descriptor);
  renameSync(temporary, out);
  return { file: out, architecture: arch, tensors: planned.length, metadata: metadata.length, bytes: written, types };
}

// Bad input: truncated or inconsistent safetensors, config.json with a missing field or an unsupported
// architecture or rope scaling, tensors that disagree with config.json. One line each, naming what is wrong.
// Also both config.json dialects and the f16/bf16 conversions of the writer.
import { afterAll, describe, expect, test } from 'bun:test';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '@lsp/core';
import { createOracleDevice, float16ToNumber, bfloat16ToNumber } from '@lsp/oracle';
import { loadModel } from './model-folder';
import { parseModelConfig } from './model-config';
import { inverseFrequencies } from './rope';
import { toBfloat16Bits, toFloat16Bits, writeSafetensors } from './safetensors';

const work = mkdtempSync(join(tmpdir(), 'lsp-bad-input-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const fixtures = join(import.meta.dir, '..', 'fixtures');
let copies = 0;

/** A fresh copy of a fixture folder to damage. */
function copyOf(name: string): string {
  const directory = join(work, `${name}-${copies++}`);
  cpSync(join(fixtures, name), directory, { recursive: true });
  return directory;
}

/** Loads and returns the error's one line; fails the test if loading succeeds or throws anything else. */
async function refusal(directory: string): Promise<string> {
  const error = await loadModel(directory, { device: createOracleDevice() }).then(() => undefined, (e: unknown) => e);
  if (!InvalidInputError.isInstance(error)) throw new Error(`expected InvalidInputError, got ${String(error)}`);
  const line = error.toLine();
  expect(line).not.toContain('\n');
  return line;
}

function editConfig(directory: string, edit: (config: Record<string, unknown>) => void): void {
  const path = join(directory, 'config.json');
  const config = JSON.parse(readFileSync(path, 'utf8'));
  edit(config);
  writeFileSync(path, JSON.stringify(config));
}

/** Rewrites a safetensors file's header (keeping its data bytes). */
function editHeader(file: string, edit: (header: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void): void {
  const bytes = readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8'));
  edit(header);
  const text = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  writeFileSync(file, Buffer.concat([prefix, text, bytes.subarray(8 + length)]));
}

describe('bad safetensors files are refused with one line naming the file and tensor', () => {
  test('truncated data', async () => {
    const directory = copyOf('mistral-f32');
    const file = join(directory, 'model.safetensors');
    truncateSync(file, readFileSync(file).length - 100);
    expect(await refusal(directory)).toMatch(/^model\.safetensors: tensor "[^"]+": data_offsets .* run past the data .*truncated/);
  });

  test('truncated inside the header', async () => {
    const directory = copyOf('mistral-f32');
    truncateSync(join(directory, 'model.safetensors'), 200);
    expect(await refusal(directory)).toMatch(/^model\.safetensors: header length \d+ runs past the end of the file \(200 bytes\)/);
  });

  test('shorter than the length prefix', async () => {
    const directory = copyOf('mistral-f32');
    truncateSync(join(directory, 'model.safetensors'), 5);
    expect(await refusal(directory)).toMatch(/^model\.safetensors: truncated: 5 bytes/);
  });

  test('overlapping offsets', async () => {
    const directory = copyOf('mistral-f32');
    editHeader(join(directory, 'model.safetensors'), (header) => {
      const norm = header['model.norm.weight']!;
      const other = header['model.layers.0.input_layernorm.weight']!;
      norm.data_offsets = [...other.data_offsets];
    });
    expect(await refusal(directory)).toMatch(/^model\.safetensors: tensor "[^"]+": data (overlaps the tensor before it|_offsets leave a gap)/);
  });

  test('a dtype that does not exist, and one the model cannot use', async () => {
    const unknown = copyOf('mistral-f32');
    editHeader(join(unknown, 'model.safetensors'), (header) => { header['model.norm.weight']!.dtype = 'F33'; });
    expect(await refusal(unknown)).toBe('model.safetensors: tensor "model.norm.weight": unknown dtype "F33"');
    const integer = copyOf('mistral-f32');
    editHeader(join(integer, 'model.safetensors'), (header) => {
      header['model.norm.weight']!.dtype = 'I32';
    });
    expect(await refusal(integer)).toBe('model.safetensors: tensor "model.norm.weight": dtype I32 is not supported (F32, F16, BF16)');
  });

  test('data size that disagrees with the shape', async () => {
    const directory = copyOf('mistral-f32');
    editHeader(join(directory, 'model.safetensors'), (header) => { header['model.norm.weight']!.shape = [31]; });
    expect(await refusal(directory)).toBe('model.safetensors: tensor "model.norm.weight": 128 bytes of data for shape [31] F32 (124 bytes)');
  });

  test('a header that is not JSON', async () => {
    const directory = copyOf('mistral-f32');
    const file = join(directory, 'model.safetensors');
    const bytes = readFileSync(file);
    bytes[9] = 0x7b; // '{' where a '"' was: invalid JSON
    writeFileSync(file, bytes);
    expect(await refusal(directory)).toBe('model.safetensors: header is not valid JSON');
  });

  test('a shard the index names but the folder lacks, and a tensor in the wrong shard', async () => {
    const missing = copyOf('qwen3-sharded');
    rmSync(join(missing, 'model-00002-of-00004.safetensors'));
    expect(await refusal(missing)).toBe('model.safetensors.index.json: shard model-00002-of-00004.safetensors is missing');
    const wrong = copyOf('qwen3-sharded');
    const indexFile = join(wrong, 'model.safetensors.index.json');
    const index = JSON.parse(readFileSync(indexFile, 'utf8'));
    index.weight_map['model.norm.weight'] = 'model-00001-of-00004.safetensors';
    writeFileSync(indexFile, JSON.stringify(index));
    expect(await refusal(wrong)).toBe('model.safetensors.index.json: tensor "model.norm.weight" is not in model-00001-of-00004.safetensors');
  });
});

describe('tensors that disagree with config.json', () => {
  test('a shape that config.json does not imply', async () => {
    const directory = copyOf('mistral-f32');
    editConfig(directory, (config) => { config.intermediate_size = 40; });
    expect(await refusal(directory)).toBe(
      'model.safetensors: tensor "model.layers.0.mlp.gate_proj.weight" has shape [48, 32] but config.json implies [40, 32]',
    );
  });

  test('a missing tensor', async () => {
    const directory = copyOf('mistral-f32');
    editConfig(directory, (config) => { config.num_hidden_layers = 3; });
    expect(await refusal(directory)).toBe(
      'model.safetensors: tensor "model.layers.2.input_layernorm.weight" is missing (config.json implies shape [32])',
    );
  });

  test('a tensor the model does not have', async () => {
    const directory = copyOf('qwen2-f16-v4');
    editConfig(directory, (config) => { config.model_type = 'llama'; config.architectures = ['LlamaForCausalLM']; });
    expect(await refusal(directory)).toBe('model.safetensors: tensor "model.layers.0.self_attn.k_proj.bias" is not part of a llama model with this config.json');
  });
});

describe('config.json', () => {
  test('a missing field, an unsupported architecture, an unsupported rope scaling, no config at all', async () => {
    const noHidden = copyOf('mistral-f32');
    editConfig(noHidden, (config) => { delete config.hidden_size; });
    expect(await refusal(noHidden)).toBe('config.json: missing field "hidden_size"');
    const gpt2 = copyOf('mistral-f32');
    editConfig(gpt2, (config) => { config.model_type = 'gpt2'; });
    expect(await refusal(gpt2)).toBe('config.json: model_type "gpt2" is not supported (supported: llama, mistral, qwen2, qwen3)');
    const yarn = copyOf('llama3-bf16');
    editConfig(yarn, (config) => { (config.rope_parameters as Record<string, unknown>).rope_type = 'yarn'; });
    expect(await refusal(yarn)).toBe('config.json: rope_parameters.rope_type "yarn" is not supported (supported: default, linear, llama3)');
    const dynamic = copyOf('qwen2-f16-v4');
    editConfig(dynamic, (config) => { config.rope_scaling = { type: 'dynamic', factor: 2 }; });
    expect(await refusal(dynamic)).toBe('config.json: rope_scaling.rope_type "dynamic" is not supported (supported: default, linear, llama3)');
    const llama3WithoutFactor = copyOf('llama3-bf16');
    editConfig(llama3WithoutFactor, (config) => { delete (config.rope_parameters as Record<string, unknown>).low_freq_factor; });
    expect(await refusal(llama3WithoutFactor)).toBe('config.json: rope_parameters: missing field "low_freq_factor"');
    const badJson = copyOf('mistral-f32');
    writeFileSync(join(badJson, 'config.json'), '{"model_type": ');
    expect(await refusal(badJson)).toBe('config.json: not valid JSON');
    const none = copyOf('mistral-f32');
    rmSync(join(none, 'config.json'));
    expect(await refusal(none)).toMatch(/^config\.json: not found in /);
  });

  test('absurd sizes are refused in one line before anything is allocated', async () => {
    for (const field of ['num_hidden_layers', 'hidden_size', 'intermediate_size', 'num_attention_heads', 'vocab_size', 'max_position_embeddings', 'head_dim']) {
      for (const value of [1e300, 2 ** 31]) {
        const directory = copyOf('mistral-f32');
        editConfig(directory, (config) => { config[field] = value; });
        expect(await refusal(directory)).toStartWith(`config.json: field "${field}" is ${value}, above the largest supported `);
      }
    }
    const fewHeads = copyOf('mistral-f32');
    editConfig(fewHeads, (config) => { config.num_attention_heads = 64; config.num_key_value_heads = 64; delete config.head_dim; });
    expect(await refusal(fewHeads)).toBe('config.json: hidden_size 32 is smaller than num_attention_heads 64: give head_dim');
  });

  test('a safetensors header length over 100 MB is refused without reading it', async () => {
    const directory = copyOf('mistral-f32');
    const file = join(directory, 'model.safetensors');
    const bytes = readFileSync(file);
    bytes.writeBigUInt64LE(200_000_000n, 0);
    writeFileSync(file, bytes);
    expect(await refusal(directory)).toBe('model.safetensors: header length 200000000 is over 100000000 bytes: not a safetensors file');
  });

  test('the transformers 4 and 5 dialects describe the same rope', () => {
    const base = {
      model_type: 'llama', vocab_size: 10, hidden_size: 8, intermediate_size: 8, num_hidden_layers: 1,
      num_attention_heads: 2, max_position_embeddings: 4096,
    };
    const scaling = { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 1024 };
    const v5 = parseModelConfig({ ...base, dtype: 'bfloat16', rope_parameters: { rope_type: 'llama3', rope_theta: 500000, ...scaling } });
    const v4 = parseModelConfig({ ...base, torch_dtype: 'bfloat16', rope_theta: 500000, rope_scaling: { rope_type: 'llama3', type: 'llama3', ...scaling } });
    const v4Old = parseModelConfig({ ...base, torch_dtype: 'bfloat16', rope_theta: 500000, rope_scaling: { type: 'llama3', ...scaling } });
    for (const config of [v4, v4Old]) {
      expect(config.ropeScaling).toEqual(v5.ropeScaling);
      expect(config.ropeTheta).toBe(500000);
      expect(config.dtype).toBe('bfloat16');
    }
    expect(v5.ropeScaling.type).toBe('llama3');
    // Defaults as transformers: theta 10000, no scaling, float32.
    const plain = parseModelConfig(base);
    expect([plain.ropeTheta, plain.ropeScaling.type, plain.dtype, plain.keyValueHeads, plain.headDim]).toEqual([10000, 'default', 'float32', 2, 4]);
    // llama3 scaling keeps high frequencies, divides low ones by the factor.
    const unscaled = inverseFrequencies({ ...v5, ropeScaling: { type: 'default' } });
    const scaled = inverseFrequencies(v5);
    expect(scaled[0]).toBe(unscaled[0]);
    expect(scaled.at(-1)).toBeCloseTo(unscaled.at(-1)! / 8, 12);
  });
});

describe('the writer', () => {
  test('f16 and bf16 conversions round to nearest even and invert the readers', () => {
    for (const value of [0, 1, -2, 0.1, 65504, 1e-7, 3.14159, -1e-5]) {
      expect(Math.abs(float16ToNumber(toFloat16Bits(value)) - value)).toBeLessThanOrEqual(Math.max(Math.abs(value) * 2 ** -11, 2 ** -25));
      expect(Math.abs(bfloat16ToNumber(toBfloat16Bits(value)) - value)).toBeLessThanOrEqual(Math.abs(value) * 2 ** -8);
    }
    expect(toFloat16Bits(1e6)).toBe(0x7c00);
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway: to even
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(toBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
  });

  test('files it writes pass the reader and keep the data', async () => {
    const file = join(work, 'written.safetensors');
    const values = Float32Array.of(1, 2, 3, 4, 5, 6);
    await writeSafetensors(file, [
      { name: 'a', dtype: 'F32', shape: [2, 3], values: async () => values },
      { name: 'b', dtype: 'BF16', shape: [3], values: async () => Float32Array.of(0.5, -1, 2) },
    ]);
    const { readSafetensorsHeader, readTensorData } = await import('./safetensors');
    const entries = readSafetensorsHeader(file);
    expect(entries.map((entry) => [entry.name, entry.dtype, entry.shape])).toEqual([['a', 'F32', [2, 3]], ['b', 'BF16', [3]]]);
    expect(entries[0]!.byteOffset % 8).toBe(0);
    expect(Array.from(readTensorData(entries[0]!).data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(readTensorData(entries[1]!).data, bfloat16ToNumber)).toEqual([0.5, -1, 2]);
  });
});

// Model folders in Hugging Face layout: loading (config.json checked against every tensor) onto a device,
// and saving back in the same layout, written under a temporary name and renamed into place.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InvalidInputError, widenHalfPrecision, type DeviceV1, type DType, type ModelLoaderV1, type SaveOptions, type TokenizerV1 } from '@lsp/core';
import { assembleParameters, type Parameter } from './llama';
import { expectedTensors, isIgnorableTensor, parseModelConfig, type ModelConfig } from './model-config';
import { LlamaModel } from './policy-model';
import {
  readModelTensorIndex, readSafetensorsHeader, readTensorData, writeSafetensors, type SafetensorsDType,
  type TensorData, type TensorToWrite,
} from './safetensors';

/** Files copied unchanged when a model is saved (the tokenizer and generation settings). */
const companionFiles = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json', 'tokenizer.model',
  'vocab.json', 'merges.txt', 'added_tokens.json', 'chat_template.jinja', 'chat_template.json',
];

export function readJson(file: string, name: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new InvalidInputError(`${name}: not found in ${dirname(file)}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidInputError(`${name}: not valid JSON`);
  }
}

/** generation_config.json of a folder as an object, or undefined when the folder has none. */
export function readGenerationConfig(directory: string): Record<string, unknown> | undefined {
  const file = join(directory, 'generation_config.json');
  if (!existsSync(file)) return undefined;
  const json = readJson(file, 'generation_config.json');
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InvalidInputError('generation_config.json: must hold a JSON object');
  return json as Record<string, unknown>;
}

/** config.json of a folder, parsed and checked. */
export function readModelConfig(directory: string): ModelConfig {
  return parseModelConfig(readJson(join(directory, 'config.json'), 'config.json'), 'config.json');
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

function uploadTensor(device: DeviceV1, data: TensorData, shape: number[]) {
  if (data.dtype === 'F32') return device.upload(data.data, shape);
  const dtype: DType = data.dtype === 'F16' ? 'f16' : 'bf16';
  if (device.info.storageTypes.includes(dtype)) return device.upload(data.data, shape, dtype);
  // A device without half-precision uploads gets the values widened here.
  return device.upload(widenHalfPrecision(data.data, dtype), shape);
}

export interface LoadModelOptions {
  device: DeviceV1;
  /** The folder's tokenizer, when text is needed (stop strings, decoding). */
  tokenizer?: TokenizerV1;
  /** Seeds LoRA dropout's masks when the folder is an adapter that goes on training. */
  loraSeed?: number;
}

/**
 * Loads a Hugging Face folder onto a device. Every tensor config.json implies must be present with the implied
 * shape; tensors are read and uploaded one at a time. Optimizer state saved by `save` is restored. A PEFT adapter
 * folder loads its base model (adapter_config.json's base_model_name_or_path) with the adapter on.
 */
export async function loadModel(directory: string, options: LoadModelOptions): Promise<LlamaModel> {
  const { device } = options;
  if (!existsSync(join(directory, 'config.json')) && existsSync(join(directory, 'adapter_config.json'))) {
    // A PEFT adapter folder: its base model with the adapter on.
    const { baseFolderOf, loadLoraAdapter } = await import('./lora-folder');
    const model = await loadModel(baseFolderOf(directory), options);
    try {
      loadLoraAdapter(model, directory, options.loraSeed);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }
  const config = readModelConfig(directory);
  const { entries, indexFile } = readModelTensorIndex(directory);
  const expected = expectedTensors(config);
  const expectedNames = new Set(expected.map((spec) => spec.name));
  const fileOf = (name: string) => basename(entries.get(name)?.file ?? 'model.safetensors');
  for (const spec of expected) {
    const entry = entries.get(spec.name);
    if (!entry) {
      throw new InvalidInputError(`${indexFile ?? 'model.safetensors'}: tensor "${spec.name}" is missing (config.json implies shape [${spec.shape.join(', ')}])`);
    }
    if (!sameShape(entry.shape, spec.shape)) {
      throw new InvalidInputError(
        `${fileOf(spec.name)}: tensor "${spec.name}" has shape [${entry.shape.join(', ')}] but config.json implies [${spec.shape.join(', ')}]`,
      );
    }
  }
  for (const name of entries.keys()) {
    if (!expectedNames.has(name) && !isIgnorableTensor(name, config)) {
      throw new InvalidInputError(`${fileOf(name)}: tensor "${name}" is not part of a ${config.architecture} model with this config.json`);
    }
  }
  const byName = new Map<string, Parameter>();
  const shardOf = new Map<string, string>();
  try {
    for (const spec of expected) {
      const entry = entries.get(spec.name)!;
      const tensor = uploadTensor(device, readTensorData(entry), spec.shape);
      byName.set(spec.name, { name: spec.name, shape: spec.shape, tensor, storage: entry.dtype });
      shardOf.set(spec.name, basename(entry.file));
    }
  } catch (error) {
    for (const parameter of byName.values()) device.free(parameter.tensor);
    throw error;
  }
  const parameters = assembleParameters(config, byName);
  const eos = [...config.eosTokenIds];
  const generationConfig = readGenerationConfig(directory);
  if (generationConfig) {
    const value = generationConfig.eos_token_id;
    for (const id of Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]) {
      if (typeof id === 'number' && Number.isInteger(id)) eos.push(id);
    }
  }
  const model = new LlamaModel(device, config, parameters, options.tokenizer, { directory: resolve(directory), shardOf }, false, eos);
  restoreOptimizerState(model, directory);
  return model;
}

/** Restores AdamW's moments and step (optimizer.safetensors, optimizer.json) of `parameters` when the folder has them. */
export function restoreOptimizerState(model: LlamaModel, directory: string, parameters: readonly Parameter[] = model.parameters.all): void {
  const stateFile = join(directory, 'optimizer.safetensors');
  const stepFile = join(directory, 'optimizer.json');
  if (!existsSync(stateFile) || !existsSync(stepFile)) return;
  const step = (readJson(stepFile, 'optimizer.json') as { step?: unknown }).step;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) throw new InvalidInputError('optimizer.json: field "step" must be a non-negative integer');
  const entries = new Map(readSafetensorsHeader(stateFile).map((entry) => [entry.name, entry]));
  for (const parameter of parameters) {
    for (const [suffix, key] of [['exp_avg', 'firstMoment'], ['exp_avg_sq', 'secondMoment']] as const) {
      const entry = entries.get(`${parameter.name}.${suffix}`);
      if (!entry) throw new InvalidInputError(`optimizer.safetensors: tensor "${parameter.name}.${suffix}" is missing`);
      if (!sameShape(entry.shape, parameter.shape) || entry.dtype !== 'F32') {
        throw new InvalidInputError(`optimizer.safetensors: tensor "${parameter.name}.${suffix}" does not match the model (F32 [${parameter.shape.join(', ')}])`);
      }
      parameter[key] = uploadTensor(model.device, readTensorData(entry), parameter.shape);
    }
  }
  model.step = step;
}

/** Writes AdamW's moments of `parameters` and the step beside a model's or an adapter's weights, when it has them. */
export async function writeOptimizerState(model: LlamaModel, directory: string, parameters: readonly Parameter[]): Promise<void> {
  if (!parameters.some((parameter) => parameter.firstMoment && parameter.secondMoment)) return;
  const values = (tensor: Parameter['tensor']) => async () => (await model.device.read(tensor)) as Float32Array;
  const state: TensorToWrite[] = [];
  for (const parameter of parameters) {
    if (!parameter.firstMoment || !parameter.secondMoment) continue;
    state.push({ name: `${parameter.name}.exp_avg`, dtype: 'F32' as SafetensorsDType, shape: parameter.shape, values: values(parameter.firstMoment) });
    state.push({ name: `${parameter.name}.exp_avg_sq`, dtype: 'F32' as SafetensorsDType, shape: parameter.shape, values: values(parameter.secondMoment) });
  }
  await writeSafetensors(join(directory, 'optimizer.safetensors'), state);
  writeFileSync(join(directory, 'optimizer.json'), `${JSON.stringify({ step: model.step })}\n`);
}

/**
 * Writes a folder under a temporary name and swaps it into place: the old folder (if any) is moved aside first,
 * so a crash never leaves a half-written one.
 */
export async function writeFolderAtomically(directory: string, write: (temporary: string) => Promise<void>): Promise<void> {
  const target = resolve(directory);
  const temporary = `${target}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(dirname(target), { recursive: true });
  rmSync(temporary, { recursive: true, force: true });
  mkdirSync(temporary);
  try {
    await write(temporary);
    const previous = `${target}.old-${process.pid}-${Date.now()}`;
    const hadPrevious = existsSync(target);
    if (hadPrevious) renameSync(target, previous);
    renameSync(temporary, target);
    if (hadPrevious) rmSync(previous, { recursive: true, force: true });
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}

/** Writes the model's folder: config.json, weights in the source's dtype and sharding, tokenizer files, optimizer state. */
export async function saveModel(model: LlamaModel, directory: string, options: SaveOptions = {}): Promise<void> {
  await writeFolderAtomically(directory, async (temporary) => {
    writeFileSync(join(temporary, 'config.json'), `${JSON.stringify(model.config.raw, null, 2)}\n`);
    const values = (tensor: Parameter['tensor']) => async () => (await model.device.read(tensor)) as Float32Array;
    const shards = new Map<string, TensorToWrite[]>();
    for (const parameter of model.parameters.all) {
      const shard = model.source.shardOf.get(parameter.name) ?? 'model.safetensors';
      if (!shards.has(shard)) shards.set(shard, []);
      shards.get(shard)!.push({ name: parameter.name, dtype: options.exact ? 'F32' : parameter.storage, shape: parameter.shape, values: values(parameter.tensor) });
    }
    if (shards.size > 1) {
      const weightMap: Record<string, string> = {};
      let totalSize = 0;
      for (const [shard, tensors] of shards) {
        for (const tensor of tensors) {
          weightMap[tensor.name] = shard;
          totalSize += tensor.shape.reduce((a, b) => a * b, 1) * (tensor.dtype === 'F32' ? 4 : 2);
        }
      }
      const index = { metadata: { total_size: totalSize }, weight_map: weightMap };
      writeFileSync(join(temporary, 'model.safetensors.index.json'), `${JSON.stringify(index, null, 2)}\n`);
    }
    for (const [shard, tensors] of shards) await writeSafetensors(join(temporary, shard), tensors);
    await writeOptimizerState(model, temporary, model.parameters.all);
    const sourceDirectory = model.source.directory;
    if (sourceDirectory) {
      for (const file of companionFiles) {
        const from = join(sourceDirectory, file);
        if (existsSync(from)) copyFileSync(from, join(temporary, file));
      }
    }
  });
}

export interface ModelLoaderSettings {
  /** Opens the device a backend name stands for (the runner's backend choice). */
  openDevice(backend: string): Promise<DeviceV1>;
  /** Loads the folder's tokenizer, if it has one. */
  loadTokenizer?(directory: string): Promise<TokenizerV1 | undefined>;
}

/** The model component (ModelLoaderV1) for Llama-family folders, for a plugin or the runner to register. */
export function createLlamaModelLoader(settings: ModelLoaderSettings): ModelLoaderV1 {
  return {
    specificationVersion: 'v1',
    name: 'llama',
    async load(path: string, options: { backend: string }): Promise<LlamaModel> {
      const tokenizer = await settings.loadTokenizer?.(path);
      const device = await settings.openDevice(options.backend);
      return loadModel(path, { device, tokenizer });
    },
  };
}

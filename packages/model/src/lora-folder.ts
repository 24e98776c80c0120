// LoRA adapters in PEFT's folder layout: adapter_config.json and adapter_model.safetensors (A and B under
// base_model.model.<module>.lora_A/B.weight), plus AdamW's state when a run checkpoints one. Read with every field
// PEFT would act on checked, so an adapter is either computed as PEFT computes it or refused in one line.
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidInputError, widenHalfPrecision, type DeviceV1 } from '@lsp/core';
import {
  adaptedWeights, allLoraTargets, assembleLoraState, checkLoraSettings, loraModule, loraTargets, loraTensorName,
  type LoraSettings, type LoraState, type LoraTarget,
} from './lora';
import type { ModelConfig } from './model-config';
import { readJson, restoreOptimizerState, writeFolderAtomically, writeOptimizerState } from './model-folder';
import type { LlamaModel } from './policy-model';
import { readSafetensorsHeader, readTensorData, writeSafetensors, type TensorToWrite } from './safetensors';

export const adapterConfigFile = 'adapter_config.json';
export const adapterWeightsFile = 'adapter_model.safetensors';

/** Whether a folder holds a PEFT adapter. */
export function isAdapterFolder(directory: string): boolean {
  return existsSync(join(directory, adapterConfigFile));
}

/**
 * The folder with config.json behind `directory`: the folder itself, or, for a PEFT adapter folder, the base model
 * its adapter_config.json names (base_model_name_or_path, relative to the adapter folder when not absolute).
 */
export function baseFolderOf(directory: string): string {
  if (existsSync(join(directory, 'config.json')) || !isAdapterFolder(directory)) return directory;
  const json = readJson(join(directory, adapterConfigFile), adapterConfigFile) as { base_model_name_or_path?: unknown };
  const base = json?.base_model_name_or_path;
  if (typeof base !== 'string' || base.length === 0) {
    fail('names no base model (base_model_name_or_path); load the base folder and apply the adapter to it, or merge it with `lsp merge`');
  }
  const path = resolve(directory, base);
  if (!existsSync(join(path, 'config.json'))) {
    fail(`base_model_name_or_path ${JSON.stringify(base)} is not a model folder here (a hub id cannot be downloaded); set it to the base model's folder`);
  }
  return path;
}

function fail(message: string): never {
  throw new InvalidInputError(`${adapterConfigFile}: ${message}`);
}

/** Fields PEFT acts on that LSP's LoRA does not implement: each must be absent or hold its neutral value. */
const neutralFields: [string, (value: unknown) => boolean, string][] = [
  ['fan_in_fan_out', (v) => v === false, 'false'],
  ['bias', (v) => v === 'none', '"none"'],
  ['use_dora', (v) => v === false, 'false'],
  ['lora_bias', (v) => v === false, 'false'],
  ['modules_to_save', (v) => v === null || (Array.isArray(v) && v.length === 0), 'null'],
  ['rank_pattern', (v) => isEmptyObject(v), '{}'],
  ['alpha_pattern', (v) => isEmptyObject(v), '{}'],
  ['exclude_modules', (v) => v === null, 'null'],
  ['target_parameters', (v) => v === null, 'null'],
  ['trainable_token_indices', (v) => v === null, 'null'],
  ['layer_replication', (v) => v === null, 'null'],
  ['use_qalora', (v) => v === false, 'false'],
];

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

export interface AdapterConfig {
  settings: LoraSettings;
  baseModel: string | undefined;
}

/** Reads and checks adapter_config.json against the model it is to be applied to. */
export function readAdapterConfig(directory: string, config: ModelConfig): AdapterConfig {
  const json = readJson(join(directory, adapterConfigFile), adapterConfigFile);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('must hold a JSON object');
  const raw = json as Record<string, unknown>;
  if (raw.peft_type !== 'LORA') fail(`peft_type ${JSON.stringify(raw.peft_type)} is not supported (only "LORA")`);
  if (raw.task_type !== undefined && raw.task_type !== null && raw.task_type !== 'CAUSAL_LM') {
    fail(`task_type ${JSON.stringify(raw.task_type)} is not supported (only "CAUSAL_LM")`);
  }
  for (const [field, neutral, expected] of neutralFields) {
    if (raw[field] !== undefined && !neutral(raw[field])) fail(`${field} ${JSON.stringify(raw[field])} is not supported (only ${expected})`);
  }
  const rank = raw.r;
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1) fail('field "r" must be a positive whole number');
  const alpha = raw.lora_alpha ?? 8;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha <= 0) fail('field "lora_alpha" must be a positive number');
  const dropout = raw.lora_dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) fail('field "lora_dropout" must be a number in [0, 1)');
  const rsLora = raw.use_rslora ?? false;
  if (typeof rsLora !== 'boolean') fail('field "use_rslora" must be true or false');
  let layers: number[] | undefined;
  const transform = raw.layers_to_transform;
  if (transform !== undefined && transform !== null) {
    const list = typeof transform === 'number' ? [transform] : transform;
    if (!Array.isArray(list) || !list.every((layer) => Number.isInteger(layer) && layer >= 0 && layer < config.layers)) {
      fail(`layers_to_transform must list layers of this ${config.layers}-layer model`);
    }
    layers = [...new Set(list as number[])].sort((a, b) => a - b);
  }
  const targets = matchTargets(raw.target_modules, config, layers);
  const settings: LoraSettings = { rank, alpha, dropout, targets, rsLora, ...(layers ? { layers } : {}) };
  try {
    checkLoraSettings(settings, config);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const base = raw.base_model_name_or_path;
  return { settings, baseModel: typeof base === 'string' && base.length > 0 ? base : undefined };
}

/** The projections target_modules selects, matched as PEFT matches module names (a name or a suffix; a string is a regex). */
function matchTargets(value: unknown, config: ModelConfig, layers: number[] | undefined): LoraTarget[] {
  const layerList = layers ?? Array.from({ length: config.layers }, (_, layer) => layer);
  if (value === 'all-linear') return [...allLoraTargets];
  if (typeof value === 'string') {
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${value})$`);
    } catch {
      fail(`target_modules ${JSON.stringify(value)} is not a valid regular expression`);
    }
    const targets = allLoraTargets.filter((target) => layerList.some((layer) => pattern.test(loraModule(layer, target))));
    for (const target of targets) {
      if (!layerList.every((layer) => pattern.test(loraModule(layer, target)))) {
        fail(`target_modules ${JSON.stringify(value)} adapts ${target}_proj in some layers only; list the layers in layers_to_transform`);
      }
    }
    if (targets.length === 0) fail(`target_modules ${JSON.stringify(value)} matches no projection of the model`);
    return targets;
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((name) => typeof name === 'string')) {
    fail('field "target_modules" must be a list of module names, a regular expression or "all-linear"');
  }
  const chosen = new Set<LoraTarget>();
  for (const name of value as string[]) {
    const matched = allLoraTargets.filter((target) => {
      const path = `model.layers.0.${loraTargets[target]}`;
      return path === name || path.endsWith(`.${name}`);
    });
    if (matched.length === 0) {
      fail(`target_modules names "${name}", which is not a projection LSP adapts (${allLoraTargets.map((t) => `${t}_proj`).join(', ')})`);
    }
    for (const target of matched) chosen.add(target);
  }
  return allLoraTargets.filter((target) => chosen.has(target));
}

/**
 * Reads a PEFT adapter folder onto `model` (its base weights already loaded), with AdamW's state when the folder
 * has it (a run's checkpoint). `seed` seeds LoRA dropout's masks.
 */
export function loadLoraAdapter(model: LlamaModel, directory: string, seed = 0): void {
  const state = readLoraState(model, directory);
  model.attachLora(state, seed);
  restoreOptimizerState(model, directory, model.trainableParameters());
}

/** A frozen view of `model`'s base weights with the folder's adapter on (for serving several adapters at once). */
export function loadAdapterView(model: LlamaModel, directory: string): LlamaModel {
  return model.withAdapter(readLoraState(model, directory));
}

/** The adapters of a PEFT folder on `model`'s device, checked against its base weights; not attached. */
export function readLoraState(model: LlamaModel, directory: string): LoraState {
  const { settings } = readAdapterConfig(directory, model.config);
  const file = join(directory, adapterWeightsFile);
  if (!existsSync(file)) {
    if (existsSync(join(directory, 'adapter_model.bin'))) {
      throw new InvalidInputError(`${directory}: adapter_model.bin (a pickle) is not read; save the adapter with safe_serialization=True`);
    }
    throw new InvalidInputError(`${adapterWeightsFile}: not found in ${directory}`);
  }
  const entries = new Map(readSafetensorsHeader(file).map((entry) => [entry.name, entry]));
  const entryOf = (name: string) => entries.get(name) ?? entries.get(name.replace(/\.weight$/, '.default.weight'));
  const expected = adaptedWeights(model.parameters, settings).flatMap(({ layer, target, weight }) => {
    const module = loraModule(layer, target);
    const [outFeatures, inFeatures] = weight.shape as [number, number];
    return [
      { name: loraTensorName(module, 'A'), shape: [settings.rank, inFeatures] },
      { name: loraTensorName(module, 'B'), shape: [outFeatures, settings.rank] },
    ];
  });
  const known = new Set(expected.flatMap(({ name }) => [name, name.replace(/\.weight$/, '.default.weight')]));
  for (const name of entries.keys()) {
    if (!known.has(name)) throw new InvalidInputError(`${adapterWeightsFile}: tensor "${name}" is not an adapter of the modules adapter_config.json targets`);
  }
  for (const { name, shape } of expected) {
    const entry = entryOf(name);
    if (!entry) throw new InvalidInputError(`${adapterWeightsFile}: tensor "${name}" is missing (adapter_config.json targets it)`);
    if (entry.shape.length !== 2 || entry.shape[0] !== shape[0] || entry.shape[1] !== shape[1]) {
      throw new InvalidInputError(`${adapterWeightsFile}: tensor "${name}" has shape [${entry.shape.join(', ')}] but r ${settings.rank} on this model implies [${shape.join(', ')}]`);
    }
  }
  return assembleLoraState(model.device, model.parameters, settings, (name) => {
    const entry = entryOf(name)!;
    const data = readTensorData(entry);
    if (data.dtype === 'F32') return { shape: entry.shape, data: data.data };
    return { shape: entry.shape, data: widenHalfPrecision(data.data, data.dtype === 'BF16' ? 'bf16' : 'f16') };
  });
}

/** The adapter_config.json PEFT reads back (and that loadLoraAdapter accepts). */
export function adapterConfigJson(settings: LoraSettings, baseModel: string | undefined): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModel ?? null,
    r: settings.rank,
    lora_alpha: settings.alpha,
    lora_dropout: settings.dropout,
    target_modules: settings.targets.map((target) => loraTargets[target].split('.').at(-1)!),
    layers_to_transform: settings.layers ?? null,
    use_rslora: settings.rsLora ?? false,
    fan_in_fan_out: false,
    bias: 'none',
    use_dora: false,
    modules_to_save: null,
    rank_pattern: {},
    alpha_pattern: {},
    init_lora_weights: true,
    inference_mode: true,
    revision: null,
  };
}

/** Writes the model's adapter as a PEFT folder (float32 A and B), with AdamW's state when training has begun. */
export async function saveLoraAdapter(model: LlamaModel, directory: string): Promise<void> {
  const state = model.lora;
  if (!state) throw new InvalidInputError('the model has no LoRA adapter to save');
  await writeFolderAtomically(directory, async (temporary) => {
    const base = model.source.directory ? resolve(model.source.directory) : undefined;
    writeFileSync(join(temporary, adapterConfigFile), `${JSON.stringify(adapterConfigJson(state.settings, base), null, 2)}\n`);
    const tensors: TensorToWrite[] = state.adapters.flatMap((adapter) => [adapter.a, adapter.b]).map((parameter) => ({
      name: parameter.name, dtype: 'F32', shape: parameter.shape,
      values: async () => (await model.device.read(parameter.tensor)) as Float32Array,
    }));
    await writeSafetensors(join(temporary, adapterWeightsFile), tensors);
    await writeOptimizerState(model, temporary, model.trainableParameters());
  });
}

export interface MergeOptions {
  /** The base model folder; default the adapter's base_model_name_or_path. */
  base?: string;
  adapter: string;
  out: string;
  device: DeviceV1;
}

export interface MergeSummary {
  base: string;
  adapters: number;
  settings: LoraSettings;
}

/**
 * `lsp merge`: the base with the adapter folded into its weights (W += scaling B A), written as a plain Hugging
 * Face folder in the base's dtypes and sharding, with the base's tokenizer files.
 */
export async function mergeAdapter(options: MergeOptions): Promise<MergeSummary> {
  if (!isAdapterFolder(options.adapter)) {
    throw new InvalidInputError(`${options.adapter} is not a PEFT adapter folder (no ${adapterConfigFile})`);
  }
  const base = options.base ?? baseFolderOf(options.adapter);
  if (!existsSync(join(base, 'config.json'))) throw new InvalidInputError(`--base ${base} has no config.json`);
  const { loadModel, saveModel } = await import('./model-folder');
  const model = await loadModel(base, { device: options.device });
  try {
    loadLoraAdapter(model, options.adapter);
    const state = model.lora!;
    const summary = { base: resolve(base), adapters: state.adapters.length, settings: state.settings };
    model.mergeLora();
    await saveModel(model, options.out);
    return summary;
  } finally {
    model.dispose();
  }
}

// LoRA: rank-r adapters on the projections of a Llama-family model, as PEFT computes them. A targeted linear
// layer W (out, in) gives   y = x W^T (+ bias) + scaling * (dropout(x) A^T) B^T,   A (r, in), B (out, r),
// scaling = alpha / r (alpha / sqrt(r) with rsLoRA). While adapters are on, only A and B train: the base
// weights are frozen and shared, so the reference policy is the same weights with the adapters switched off.
import { InvalidInputError, type DeviceV1, type Tensor } from '@lsp/core';
import { createRandom } from '@lsp/oracle';
import type { LayerParameters, ModelParameters, Parameter, TensorScope } from './llama';
import type { ModelConfig } from './model-config';

/** The projections LoRA can adapt, by their short names; the module path under `model.layers.N`. */
export const loraTargets = {
  q: 'self_attn.q_proj',
  k: 'self_attn.k_proj',
  v: 'self_attn.v_proj',
  o: 'self_attn.o_proj',
  gate: 'mlp.gate_proj',
  up: 'mlp.up_proj',
  down: 'mlp.down_proj',
} as const satisfies Record<string, string>;

export type LoraTarget = keyof typeof loraTargets;
export const allLoraTargets = Object.keys(loraTargets) as LoraTarget[];

export interface LoraSettings {
  rank: number;
  alpha: number;
  /** Dropout on the adapter's input while training (PEFT's lora_dropout). */
  dropout: number;
  targets: LoraTarget[];
  /** scaling = alpha / sqrt(rank) instead of alpha / rank. */
  rsLora?: boolean;
  /** Layers adapted (PEFT's layers_to_transform); every layer when undefined. */
  layers?: number[];
}

/** One adapted projection. A and B are named as PEFT saves them. */
export interface LoraAdapter {
  /** e.g. model.layers.0.self_attn.q_proj */
  module: string;
  target: LoraTarget;
  layer: number;
  a: Parameter; // (r, in)
  b: Parameter; // (out, r)
  scaling: number;
}

export interface LoraState {
  settings: LoraSettings;
  /** The adapter of each adapted base weight. */
  byWeight: Map<Parameter, LoraAdapter>;
  adapters: LoraAdapter[];
}

/** What a training pass's dropout draws its masks from; undefined outside training (and at dropout 0). */
export interface DropoutSource {
  probability: number;
  /** A fresh generator for one mask (seeded by the model's step, the pass and the adapter). */
  next(): () => number;
}

/** Activations one adapted projection keeps for backward. */
export interface LoraActivations {
  /** The adapter's input: x, or x with dropout applied. */
  input: Tensor;
  /** The dropout mask (0 or 1 / (1 - p)), when dropout was applied. */
  mask?: Tensor;
  /** scaling * input A^T (N, r). */
  hidden: Tensor;
}

/** The PEFT module path of a target in a layer. */
export function loraModule(layer: number, target: LoraTarget): string {
  return `model.layers.${layer}.${loraTargets[target]}`;
}

/** Short names from a user's list: q, q_proj or self_attn.q_proj; `all` (or PEFT's `all-linear`) for every one. */
export function parseLoraTargets(values: readonly string[], field = 'lora.targets'): LoraTarget[] {
  if (values.length === 0) throw new InvalidInputError(`${field}: empty; name at least one of ${allLoraTargets.join(', ')} (or all)`);
  const chosen = new Set<LoraTarget>();
  for (const value of values) {
    if (value === 'all' || value === 'all-linear') {
      for (const target of allLoraTargets) chosen.add(target);
      continue;
    }
    const target = allLoraTargets.find((name) => value === name || value === `${name}_proj` || value === loraTargets[name]);
    if (!target) {
      throw new InvalidInputError(`${field}: "${value}" is not a projection of the model; choose from ${allLoraTargets.join(', ')} (or all)`);
    }
    chosen.add(target);
  }
  return allLoraTargets.filter((target) => chosen.has(target));
}

/** Checks rank, alpha and dropout; one line naming the field otherwise. */
export function checkLoraSettings(settings: LoraSettings, config: ModelConfig): void {
  const { rank, alpha, dropout } = settings;
  if (!Number.isInteger(rank) || rank < 1 || rank > 65536) throw new InvalidInputError(`lora.rank: ${rank} must be a whole number from 1`);
  const smallest = Math.min(config.hiddenSize, config.intermediateSize, config.heads * config.headDim, config.keyValueHeads * config.headDim);
  if (rank > smallest) throw new InvalidInputError(`lora.rank: ${rank} is larger than the model's smallest adapted dimension (${smallest})`);
  if (!Number.isFinite(alpha) || alpha <= 0) throw new InvalidInputError(`lora.alpha: ${alpha} must be a positive number`);
  if (!Number.isFinite(dropout) || dropout < 0 || dropout >= 1) throw new InvalidInputError(`lora.dropout: ${dropout} must be in [0, 1)`);
  for (const layer of settings.layers ?? []) {
    if (!Number.isInteger(layer) || layer < 0 || layer >= config.layers) {
      throw new InvalidInputError(`lora layers: ${layer} is not a layer of this ${config.layers}-layer model`);
    }
  }
}

export function loraScaling(settings: Pick<LoraSettings, 'rank' | 'alpha' | 'rsLora'>): number {
  return settings.rsLora ? settings.alpha / Math.sqrt(settings.rank) : settings.alpha / settings.rank;
}

function weightOf(layer: LayerParameters, target: LoraTarget): Parameter {
  return layer[target];
}

/** Every (layer, target, base weight) the settings adapt, in PEFT's module order. */
export function adaptedWeights(parameters: ModelParameters, settings: LoraSettings) {
  const layers = settings.layers ? new Set(settings.layers) : undefined;
  return parameters.layers.flatMap((weights, layer) =>
    layers && !layers.has(layer) ? [] : settings.targets.map((target) => ({ layer, target, weight: weightOf(weights, target) })));
}

/**
 * New adapters as PEFT initialises them: A ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming-uniform with a = sqrt(5)),
 * B = 0, so the adapted model starts equal to the base. Seeded.
 */
export function createLoraState(
  device: DeviceV1, config: ModelConfig, parameters: ModelParameters, settings: LoraSettings, seed: number,
): LoraState {
  checkLoraSettings(settings, config);
  const random = createRandom(seed * 2654435761 + 97);
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const { layer, target, weight } of adaptedWeights(parameters, settings)) {
    const [outFeatures, inFeatures] = weight.shape as [number, number];
    const bound = 1 / Math.sqrt(inFeatures);
    const a = new Float32Array(settings.rank * inFeatures);
    for (let i = 0; i < a.length; i++) a[i] = (random() * 2 - 1) * bound;
    const module = loraModule(layer, target);
    tensors[loraTensorName(module, 'A')] = { shape: [settings.rank, inFeatures], data: a };
    tensors[loraTensorName(module, 'B')] = { shape: [outFeatures, settings.rank], data: new Float32Array(outFeatures * settings.rank) };
  }
  return assembleLoraState(device, parameters, settings, (name) => tensors[name]!);
}

/** The name PEFT saves an adapter matrix under. */
export function loraTensorName(module: string, matrix: 'A' | 'B'): string {
  return `base_model.model.${module}.lora_${matrix}.weight`;
}

/** Uploads A and B of every adapted weight from `values` (by PEFT name) and builds the state. */
export function assembleLoraState(
  device: DeviceV1, parameters: ModelParameters, settings: LoraSettings,
  values: (name: string) => { shape: number[]; data: Float32Array },
): LoraState {
  const scaling = loraScaling(settings);
  const adapters: LoraAdapter[] = [];
  const byWeight = new Map<Parameter, LoraAdapter>();
  try {
    for (const { layer, target, weight } of adaptedWeights(parameters, settings)) {
      const module = loraModule(layer, target);
      const parameter = (matrix: 'A' | 'B'): Parameter => {
        const name = loraTensorName(module, matrix);
        const { shape, data } = values(name);
        return { name, shape, tensor: device.upload(data, shape), storage: 'F32' };
      };
      const adapter: LoraAdapter = { module, target, layer, a: parameter('A'), b: parameter('B'), scaling };
      adapters.push(adapter);
      byWeight.set(weight, adapter);
    }
  } catch (error) {
    freeLoraState(device, { settings, byWeight, adapters });
    throw error;
  }
  return { settings, byWeight, adapters };
}

/** A and B of every adapter, in order: what trains. */
export function loraParameters(state: LoraState): Parameter[] {
  return state.adapters.flatMap((adapter) => [adapter.a, adapter.b]);
}

export function freeLoraState(device: DeviceV1, state: LoraState): void {
  for (const parameter of loraParameters(state)) {
    for (const tensor of [parameter.tensor, parameter.gradient, parameter.firstMoment, parameter.secondMoment]) {
      if (tensor) device.free(tensor);
    }
  }
}

/** A copy of the adapters' weights (not their gradients or moments) on the same device. */
export function copyLoraState(device: DeviceV1, state: LoraState): LoraState {
  const copy = (parameter: Parameter): Parameter => {
    const tensor = device.allocate([...parameter.shape]);
    device.copy(parameter.tensor, tensor);
    return { name: parameter.name, shape: parameter.shape, tensor, storage: parameter.storage };
  };
  const copies = new Map(state.adapters.map((adapter) => [adapter, { ...adapter, a: copy(adapter.a), b: copy(adapter.b) }]));
  return {
    settings: state.settings,
    byWeight: new Map([...state.byWeight].map(([weight, adapter]) => [weight, copies.get(adapter)!])),
    adapters: [...copies.values()],
  };
}

// --- the adapted projection's passes -----------------------------------------------------------------------------

/**
 * out (N, O) += scaling * (dropout(x) A^T) B^T, after the base projection wrote out. Returns what backward needs.
 */
export function loraForward(
  device: DeviceV1, scope: TensorScope, adapter: LoraAdapter, x: Tensor, out: Tensor, rows: number,
  dropout: DropoutSource | undefined,
): LoraActivations {
  const [rank, inFeatures] = adapter.a.shape as [number, number];
  const outFeatures = adapter.b.shape[0]!;
  let input = x;
  let mask: Tensor | undefined;
  if (dropout && dropout.probability > 0) {
    if (!device.multiply) throw new InvalidInputError(`LoRA dropout needs the multiply kernel, which the ${device.name} backend lacks; set lora.dropout to 0`);
    const random = dropout.next();
    const keep = 1 / (1 - dropout.probability);
    const values = new Float32Array(rows * inFeatures);
    for (let i = 0; i < values.length; i++) values[i] = random() < dropout.probability ? 0 : keep;
    mask = scope.upload(values, [rows, inFeatures]);
    input = scope.output([rows, inFeatures]);
    device.multiply(x, mask, input);
  }
  const hidden = scope.output([rows, rank]);
  device.matmul(input, adapter.a.tensor, hidden, rows, rank, inFeatures, { transposeB: true, alpha: adapter.scaling });
  device.matmul(hidden, adapter.b.tensor, out, rows, outFeatures, rank, { transposeB: true, accumulate: true });
  return { input, mask, hidden };
}

/**
 * Backward of the adapter's term, given dout (N, O): dB += dout^T hidden; dA += scaling dH^T input with
 * dH = dout B; dx += scaling (dH A) (times the mask under dropout). dx was already written by the base layer.
 */
export function loraBackward(
  device: DeviceV1, scope: TensorScope, adapter: LoraAdapter, saved: LoraActivations, dout: Tensor,
  dx: Tensor | undefined, rows: number,
): void {
  const [rank, inFeatures] = adapter.a.shape as [number, number];
  const outFeatures = adapter.b.shape[0]!;
  const dHidden = scope.output([rows, rank]);
  device.matmul(dout, adapter.b.tensor, dHidden, rows, rank, outFeatures);
  if (adapter.b.gradient) {
    device.matmul(dout, saved.hidden, adapter.b.gradient, outFeatures, rank, rows, { transposeA: true, accumulate: true });
  }
  if (adapter.a.gradient) {
    device.matmul(dHidden, saved.input, adapter.a.gradient, rank, inFeatures, rows, { transposeA: true, accumulate: true, alpha: adapter.scaling });
  }
  if (!dx) return;
  if (saved.mask) {
    const dInput = scope.output([rows, inFeatures]);
    device.matmul(dHidden, adapter.a.tensor, dInput, rows, inFeatures, rank, { alpha: adapter.scaling });
    device.multiply!(dInput, saved.mask, dInput);
    device.add(dx, dInput, dx);
  } else {
    device.matmul(dHidden, adapter.a.tensor, dx, rows, inFeatures, rank, { accumulate: true, alpha: adapter.scaling });
  }
}

/** Folds every adapter into its base weight: W += scaling * B A (the merged model computes what base + adapter did). */
export function mergeLoraIntoWeights(device: DeviceV1, state: LoraState): void {
  for (const [weight, adapter] of state.byWeight) {
    const [outFeatures, inFeatures] = weight.shape as [number, number];
    const rank = adapter.a.shape[0]!;
    device.matmul(adapter.b.tensor, adapter.a.tensor, weight.tensor, outFeatures, inFeatures, rank, { accumulate: true, alpha: adapter.scaling });
  }
}

// The shape checks attention forward and backward share, and the per-entry table they upload
// (queryOffset, keyLength, keyStart: B values each, as one i32 tensor).
import type { AttentionOptions } from '@lsp/core';
import { checkSize, checkType, type KernelContext, type KernelTensor, rowsOf, Uniforms } from './kernel-context';

/** The largest head dimension the kernels hold in workgroup memory. */
export const maxHeadDim = 1024;

export interface AttentionShape {
  batch: number;
  queries: number;
  capacity: number;
  heads: number;
  keyValueHeads: number;
  headDim: number;
  scale: number;
  table: readonly number[];
}

export function attentionShape(q: KernelTensor, k: KernelTensor, v: KernelTensor, out: KernelTensor, logSumExp: KernelTensor, options: AttentionOptions, what: string): AttentionShape {
  for (const [tensor, name] of [[q, 'q'], [k, 'k'], [v, 'v'], [out, 'out'], [logSumExp, 'logSumExp']] as const) checkType(tensor, 'f32', `${what} ${name}`);
  const { heads, keyValueHeads, headDim } = options;
  const batch = options.queryOffset.length;
  if (!Number.isInteger(heads) || !Number.isInteger(keyValueHeads) || keyValueHeads <= 0 || heads % keyValueHeads !== 0) {
    throw new Error(`webgpu device: ${what}: heads ${heads} must be a multiple of key/value heads ${keyValueHeads}`);
  }
  if (!Number.isInteger(headDim) || headDim <= 0 || headDim > maxHeadDim) throw new Error(`webgpu device: ${what}: head dimension ${headDim} outside 1..${maxHeadDim}`);
  if (batch === 0) throw new Error(`webgpu device: ${what}: empty queryOffset`);
  const queries = rowsOf(q.size, batch * heads * headDim, `${what} q`);
  const capacity = rowsOf(k.size, batch * keyValueHeads * headDim, `${what} k`);
  checkSize(v, k.size, `${what} v`);
  checkSize(out, q.size, `${what} out`);
  checkSize(logSumExp, batch * heads * queries, `${what} logSumExp`);
  if (options.keyLength.length !== batch || (options.keyStart && options.keyStart.length !== batch)) {
    throw new Error(`webgpu device: ${what}: queryOffset, keyLength and keyStart differ in length`);
  }
  const keyLength = Array.from(options.keyLength);
  for (const length of keyLength) if (length > capacity) throw new Error(`webgpu device: ${what}: keyLength ${length} > capacity ${capacity}`);
  const keyStart = options.keyStart ? Array.from(options.keyStart) : new Array<number>(batch).fill(0);
  return {
    batch, queries, capacity, heads, keyValueHeads, headDim,
    scale: options.scale ?? 1 / Math.sqrt(headDim),
    table: [...Array.from(options.queryOffset), ...keyLength, ...keyStart],
  };
}

export function attentionUniforms(shape: AttentionShape): Uniforms {
  return new Uniforms().u32(shape.batch).u32(shape.queries).u32(shape.capacity).u32(shape.heads).u32(shape.keyValueHeads).u32(shape.headDim).f32(shape.scale);
}

export const attentionParams = 'batch: u32, queries: u32, capacity: u32, heads: u32, keyValueHeads: u32, headDim: u32, scale: f32';

/** WGSL: the inclusive visible key range of query t of entry b (empty when last < first), from the table. */
export const visibleKeys = `
fn firstKey(b: u32) -> i32 { return max(0, table[2u * params.batch + b]); }
fn lastKey(b: u32, t: u32) -> i32 {
  return min(min(table[b] + i32(t), table[params.batch + b] - 1), i32(params.capacity) - 1);
}`;

export type { KernelContext };

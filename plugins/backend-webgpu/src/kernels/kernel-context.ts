// What a kernel file sees of the device: checked tensors, a dispatch that records into the open compute pass,
// scratch tensors, and the uniform words of one dispatch. Each kernel file holds its WGSL and its dispatch.
import type { DType } from '@lsp/core';

/** The tensor a kernel receives (after the device checked that it is its own and not freed). */
export interface KernelTensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly size: number;
}

/**
 * One WGSL program. `bindings` names each storage binding in order, 'r' read-only and 'w' written; the uniform
 * block is the binding after them. Entry point `main`.
 */
export interface KernelProgram {
  /** The pipeline cache key: kernel and variant, e.g. 'add' or 'add/in-place'. */
  key: string;
  source: string;
  bindings: string;
}

/**
 * A window of a tensor bound instead of the whole of it: `count` elements from element `offset`, which must be a
 * multiple of `bindingAlignmentElements` (see `windowOf` for an offset that is not).
 */
export interface KernelWindow {
  readonly tensor: KernelTensor;
  readonly offset: number;
  readonly count: number;
}

/** What one storage binding of a dispatch holds: a whole tensor (within the binding limit) or a window of one. */
export type KernelBinding = KernelTensor | KernelWindow;

export interface KernelContext {
  /**
   * Records one dispatch of `program` over `tensors` (in binding order). `workgroups` is a count split across
   * x and y when it exceeds the per-dimension limit (kernels derive their linear index with `workgroupIndex`),
   * or an explicit [x, y, z]. A whole tensor larger than the binding limit is refused; bind windows of it.
   */
  dispatch(program: KernelProgram, tensors: readonly KernelBinding[], uniforms: Uniforms, workgroups: number | readonly [number, number, number]): void;
  /** Elements of the largest storage binding (the adapter's, or the lower test limit). */
  readonly maxBindingElements: number;
  /** The storage binding offset alignment in elements (minStorageBufferOffsetAlignment / 4, 64 for 256 bytes). */
  readonly bindingAlignmentElements: number;
  /** A temporary tensor, not zero-filled; give it back with `release` once the dispatches using it are recorded. */
  scratch(size: number, dtype: 'f32' | 'i32'): KernelTensor;
  release(tensor: KernelTensor): void;
  /** A small i32 tensor holding `values` (per-call tables such as attention's per-entry offsets). */
  table(values: readonly number[]): KernelTensor;
  /** Whether two tensors share memory (an output aliasing an input). */
  sameMemory(a: KernelTensor, b: KernelTensor): boolean;
  readonly maxWorkgroupsPerDimension: number;
}

/** The uniform words of one dispatch: scalars in the order of the WGSL `Params` struct (at most 16). */
export class Uniforms {
  readonly words = new Uint32Array(16);
  private readonly floats = new Float32Array(this.words.buffer);
  private readonly ints = new Int32Array(this.words.buffer);
  private count = 0;

  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`webgpu device: uniform ${value} is not a u32`);
    this.words[this.next()] = value;
    return this;
  }

  i32(value: number): this {
    this.ints[this.next()] = value;
    return this;
  }

  f32(value: number): this {
    this.floats[this.next()] = value;
    return this;
  }

  private next(): number {
    if (this.count >= 16) throw new Error('webgpu device: more than 16 uniform words');
    return this.count++;
  }
}

/** Declarations of the storage bindings and the uniform block, from (name, element type, access) triples. */
export function declareBindings(storage: readonly (readonly [string, 'f32' | 'i32' | 'u32', 'r' | 'w'])[], params: string): string {
  const lines = storage.map(([name, type, access], index) =>
    `@group(0) @binding(${index}) var<storage, ${access === 'r' ? 'read' : 'read_write'}> ${name}: array<${type}>;`);
  lines.push(`struct Params { ${params} }`);
  lines.push(`@group(0) @binding(${storage.length}) var<uniform> params: Params;`);
  return lines.join('\n');
}

/** The access string of a binding list, for KernelProgram.bindings. */
export function accessOf(storage: readonly (readonly [string, string, 'r' | 'w'])[]): string {
  return storage.map(([, , access]) => access).join('');
}

/** The linear workgroup index of a dispatch split across x and y (see KernelContext.dispatch). */
export const workgroupIndex = `
fn workgroupIndex(id: vec3u, count: vec3u) -> u32 { return id.y * count.x + id.x; }`;

/** The entry point's builtins every 1-D kernel takes. */
export const linearBuiltins =
  '@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroups: vec3u, @builtin(local_invocation_index) local: u32';

/** Whether a tensor can be bound whole. */
export function fitsBinding(context: KernelContext, tensor: KernelTensor): boolean {
  return Math.max(1, tensor.size) <= context.maxBindingElements;
}

/** The most elements a window at any offset may hold: its start moves back to an aligned offset by up to one alignment. */
export function windowElements(context: KernelContext): number {
  return context.maxBindingElements - context.bindingAlignmentElements + 1;
}

/**
 * A window holding elements [offset, offset + count) of `tensor`: the binding starts at the aligned offset at or
 * before `offset`, and `shift` (offset minus that start, passed to the kernel in its uniforms) is where element
 * `offset` lies in the window.
 */
export function windowOf(context: KernelContext, tensor: KernelTensor, offset: number, count: number): { binding: KernelWindow; shift: number } {
  const shift = offset % context.bindingAlignmentElements;
  return { binding: { tensor, offset: offset - shift, count: shift + count }, shift };
}

/**
 * Ranges [start, length) of `count` elements for kernels that touch element i of every tensor: one range when
 * every tensor can be bound whole (the single-dispatch path), else aligned ranges (their windows need no shift).
 */
export function elementRanges(context: KernelContext, count: number, tensors: readonly KernelTensor[]): [number, number][] {
  if (tensors.every((tensor) => fitsBinding(context, tensor))) return [[0, count]];
  const step = Math.floor(context.maxBindingElements / context.bindingAlignmentElements) * context.bindingAlignmentElements;
  const ranges: [number, number][] = [];
  for (let start = 0; start < count; start += step) ranges.push([start, Math.min(step, count - start)]);
  return ranges;
}

/** The binding of `tensor` for range [start, start + length) of `elementRanges`: whole on the single-dispatch path. */
export function rangeOf(tensor: KernelTensor, start: number, length: number): KernelBinding {
  return start === 0 && length === tensor.size ? tensor : { tensor, offset: start, count: length };
}

/**
 * Blocks of rows [first, first + count) of a (rows, rowLength) tensor, with the binding and element shift of each:
 * the whole tensor in one block when it fits a binding, else windows of as many whole rows as fit.
 */
export function rowWindows(
  context: KernelContext, tensor: KernelTensor, rows: number, rowLength: number, what: string,
): [number, number, KernelBinding, number][] {
  if (fitsBinding(context, tensor)) return [[0, rows, tensor, 0]];
  const perWindow = Math.floor(windowElements(context) / rowLength);
  if (perWindow === 0) {
    throw new Error(
      `webgpu device: ${what}: a row of ${rowLength} elements (${rowLength * 4} bytes) does not fit one storage binding ` +
      `(${context.maxBindingElements * 4} bytes, less up to ${context.bindingAlignmentElements * 4 - 4} for the offset alignment)`,
    );
  }
  const ranges: [number, number, KernelBinding, number][] = [];
  for (let first = 0; first < rows; first += perWindow) {
    const count = Math.min(perWindow, rows - first);
    const { binding, shift } = windowOf(context, tensor, first * rowLength, count * rowLength);
    ranges.push([first, count, binding, shift]);
  }
  return ranges;
}

/** The binding of `tensor` (the size of `source`) over the same elements as `binding`, a binding of `source`. */
export function alike(binding: KernelBinding, source: KernelTensor, tensor: KernelTensor): KernelBinding {
  return binding === source ? tensor : { ...(binding as KernelWindow), tensor };
}

export function checkSize(tensor: KernelTensor, size: number, what: string): void {
  if (tensor.size !== size) throw new Error(`webgpu device: ${what} has ${tensor.size} elements, expected ${size}`);
}

export function checkType(tensor: KernelTensor, dtype: 'f32' | 'i32', what: string): void {
  if (tensor.dtype !== dtype) throw new Error(`webgpu device: ${what} must be ${dtype}, got ${tensor.dtype}`);
}

/** Rows of `rowLength` in `total` elements, or an error naming the kernel. */
export function rowsOf(total: number, rowLength: number, what: string): number {
  if (rowLength <= 0 || total % rowLength !== 0) throw new Error(`webgpu device: ${what}: ${total} elements are not rows of ${rowLength}`);
  return total / rowLength;
}

export const workgroupSize = 256;

export function workgroupsFor(count: number, perWorkgroup = workgroupSize): number {
  return Math.ceil(count / perWorkgroup);
}

/** Tree reductions over a workgroup of 256; call from uniform control flow. The result is every invocation's. */
export const workgroupReductions = `
var<workgroup> partial: array<f32, 256>;
fn reduceSum(local: u32, value: f32) -> f32 {
  partial[local] = value;
  workgroupBarrier();
  for (var width = 128u; width > 0u; width >>= 1u) {
    if (local < width) { partial[local] += partial[local + width]; }
    workgroupBarrier();
  }
  let result = partial[0];
  workgroupBarrier();
  return result;
}
fn reduceMax(local: u32, value: f32) -> f32 {
  partial[local] = value;
  workgroupBarrier();
  for (var width = 128u; width > 0u; width >>= 1u) {
    if (local < width) { partial[local] = max(partial[local], partial[local + width]); }
    workgroupBarrier();
  }
  let result = partial[0];
  workgroupBarrier();
  return result;
}`;

// safetensors files: a validating header reader that loads one tensor at a time (so a 1B model is never held
// twice in memory), single files or shards with model.safetensors.index.json, and a writer. f32, f16, bf16.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InvalidInputError } from '@lsp/core';

export type SafetensorsDType = 'F32' | 'F16' | 'BF16';
const bytesPerElement: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2 };
/** Dtypes of the format this reader knows but the model cannot use. */
const otherKnownDTypes = ['F64', 'I64', 'I32', 'I16', 'I8', 'U8', 'U16', 'U32', 'U64', 'BOOL', 'F8_E4M3', 'F8_E5M2'];

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** The file holding it. */
  file: string;
  /** Absolute byte offset of its data in the file. */
  byteOffset: number;
  byteLength: number;
}

/** Raw data of one tensor: f32 values, or f16/bf16 bit patterns. */
export type TensorData =
  | { dtype: 'F32'; data: Float32Array }
  | { dtype: 'F16' | 'BF16'; data: Uint16Array };

const maxHeaderBytes = 100_000_000;

function fail(file: string, message: string): never {
  throw new InvalidInputError(`${basename(file)}: ${message}`);
}

/** Reads and validates a safetensors header (as the safetensors library does: contiguous, in-bounds offsets). */
export function readSafetensorsHeader(file: string): TensorEntry[] {
  let descriptor: number;
  try {
    descriptor = openSync(file, 'r');
  } catch {
    fail(file, 'cannot be opened');
  }
  try {
    const fileSize = fstatSync(descriptor).size;
    if (fileSize < 8) fail(file, `truncated: ${fileSize} bytes, too short for a safetensors header`);
    const lengthBytes = Buffer.alloc(8);
    readSync(descriptor, lengthBytes, 0, 8, 0);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    // The safetensors library refuses headers over 100 MB; a real one is a few hundred KB.
    if (headerLength > maxHeaderBytes) fail(file, `header length ${headerLength} is over ${maxHeaderBytes} bytes: not a safetensors file`);
    if (headerLength > fileSize - 8) {
      fail(file, `header length ${headerLength} runs past the end of the file (${fileSize} bytes): truncated or not safetensors`);
    }
    const headerBytes = Buffer.alloc(headerLength);
    readSync(descriptor, headerBytes, 0, headerLength, 8);
    let header: unknown;
    try {
      header = JSON.parse(headerBytes.toString('utf8'));
    } catch {
      fail(file, 'header is not valid JSON');
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(file, 'header is not a JSON object');
    const dataStart = 8 + headerLength;
    const dataSize = fileSize - dataStart;
    const entries: TensorEntry[] = [];
    for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') continue;
      const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof info !== 'object' || info === null) fail(file, `tensor "${name}": entry is not an object`);
      const dtype = info.dtype;
      if (typeof dtype !== 'string') fail(file, `tensor "${name}": missing dtype`);
      if (!(dtype in bytesPerElement)) {
        if (otherKnownDTypes.includes(dtype)) fail(file, `tensor "${name}": dtype ${dtype} is not supported (F32, F16, BF16)`);
        fail(file, `tensor "${name}": unknown dtype ${JSON.stringify(dtype)}`);
      }
      const shape = info.shape;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
        fail(file, `tensor "${name}": shape must be a list of non-negative integers`);
      }
      const offsets = info.data_offsets;
      if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
        fail(file, `tensor "${name}": data_offsets must be two non-negative integers`);
      }
      const [begin, end] = offsets as [number, number];
      if (end < begin) fail(file, `tensor "${name}": data_offsets [${begin}, ${end}] end before they begin`);
      if (end > dataSize) {
        fail(file, `tensor "${name}": data_offsets [${begin}, ${end}] run past the data (${dataSize} bytes): truncated`);
      }
      const elements = (shape as number[]).reduce((a, b) => a * b, 1);
      const byteLength = elements * bytesPerElement[dtype as SafetensorsDType];
      if (end - begin !== byteLength) {
        fail(file, `tensor "${name}": ${end - begin} bytes of data for shape [${shape.join(', ')}] ${dtype} (${byteLength} bytes)`);
      }
      entries.push({
        name, dtype: dtype as SafetensorsDType, shape: shape as number[], file,
        byteOffset: dataStart + begin, byteLength,
      });
    }
    entries.sort((a, b) => a.byteOffset - b.byteOffset || a.byteLength - b.byteLength);
    let expected = dataStart;
    for (const entry of entries) {
      if (entry.byteOffset < expected) fail(file, `tensor "${entry.name}": data overlaps the tensor before it`);
      if (entry.byteOffset > expected) fail(file, `tensor "${entry.name}": data_offsets leave a gap before it`);
      expected = entry.byteOffset + entry.byteLength;
    }
    if (expected !== fileSize) fail(file, `${fileSize - expected} bytes after the last tensor are not described by the header`);
    return entries;
  } finally {
    closeSync(descriptor);
  }
}

/**
 * Every tensor of a model folder: model.safetensors, or the shards named by model.safetensors.index.json.
 * Names are unique across shards; a tensor listed by the index must be in the shard it names.
 */
export function readModelTensorIndex(directory: string): { entries: Map<string, TensorEntry>; shards: string[]; indexFile: string | undefined } {
  const indexFile = join(directory, 'model.safetensors.index.json');
  const single = join(directory, 'model.safetensors');
  const entries = new Map<string, TensorEntry>();
  if (existsSync(indexFile)) {
    let index: { weight_map?: Record<string, unknown> };
    try {
      index = JSON.parse(readFileSync(indexFile, 'utf8'));
    } catch {
      throw new InvalidInputError('model.safetensors.index.json: not valid JSON');
    }
    const weightMap = typeof index === 'object' && index !== null ? index.weight_map : undefined;
    if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
      throw new InvalidInputError('model.safetensors.index.json: missing field "weight_map"');
    }
    const shards = [...new Set(Object.values(weightMap))];
    for (const shard of shards) {
      if (typeof shard !== 'string' || !shard.endsWith('.safetensors') || shard.includes('/') || shard.includes('\\')) {
        throw new InvalidInputError(`model.safetensors.index.json: bad shard name ${JSON.stringify(shard)}`);
      }
      const path = join(directory, shard);
      if (!existsSync(path)) throw new InvalidInputError(`model.safetensors.index.json: shard ${shard} is missing`);
      for (const entry of readSafetensorsHeader(path)) {
        if (entries.has(entry.name)) throw new InvalidInputError(`${shard}: tensor "${entry.name}" also appears in another shard`);
        entries.set(entry.name, entry);
      }
    }
    for (const [name, shard] of Object.entries(weightMap)) {
      const entry = entries.get(name);
      if (!entry || basename(entry.file) !== shard) {
        throw new InvalidInputError(`model.safetensors.index.json: tensor "${name}" is not in ${String(shard)}`);
      }
    }
    return { entries, shards: shards as string[], indexFile: 'model.safetensors.index.json' };
  }
  if (!existsSync(single)) {
    throw new InvalidInputError(`${directory}: no model.safetensors or model.safetensors.index.json`);
  }
  for (const entry of readSafetensorsHeader(single)) entries.set(entry.name, entry);
  return { entries, shards: ['model.safetensors'], indexFile: undefined };
}

/** Reads one tensor's bytes from its file (a fresh, aligned buffer). */
export function readTensorData(entry: TensorEntry): TensorData {
  const buffer = new ArrayBuffer(entry.byteLength);
  const descriptor = openSync(entry.file, 'r');
  try {
    const bytes = new Uint8Array(buffer);
    let done = 0;
    while (done < entry.byteLength) {
      const read = readSync(descriptor, bytes, done, entry.byteLength - done, entry.byteOffset + done);
      if (read <= 0) fail(entry.file, `tensor "${entry.name}": file ended while reading its data`);
      done += read;
    }
  } finally {
    closeSync(descriptor);
  }
  return entry.dtype === 'F32'
    ? { dtype: 'F32', data: new Float32Array(buffer) }
    : { dtype: entry.dtype, data: new Uint16Array(buffer) };
}

// --- half precision (writing back in the folder's dtype) ---------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Rounds an f32 to bf16 bits, to nearest even (as torch does). */
export function toBfloat16Bits(value: number): number {
  f32[0] = value;
  const bits = u32[0]!;
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return 0x7fc0;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Rounds a number to f16 bits, to nearest even, with subnormals and overflow to infinity. */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    let half = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = mantissa >>> 13;
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1))) {
    half++;
    if (half === 0x400) {
      half = 0;
      halfExponent++;
      if (halfExponent >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (halfExponent << 10) | half;
}

// --- writing ------------------------------------------------------------------------------------------------

export interface TensorToWrite {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Produces the f32 values when the writer reaches this tensor (one tensor in memory at a time). */
  values: () => Promise<Float32Array>;
}

/** Writes a safetensors file, tensors in the given order, converting f32 values to each tensor's dtype. */
export async function writeSafetensors(
  file: string, tensors: readonly TensorToWrite[], metadata: Record<string, string> = { format: 'pt' },
): Promise<void> {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const tensor of tensors) {
    const length = tensor.shape.reduce((a, b) => a * b, 1) * bytesPerElement[tensor.dtype];
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  let headerText = JSON.stringify(header);
  // The format pads the header with spaces so the data starts on an 8-byte boundary.
  headerText += ' '.repeat((8 - (Buffer.byteLength(headerText) % 8)) % 8);
  const headerBytes = Buffer.from(headerText, 'utf8');
  const descriptor = openSync(file, 'w');
  try {
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(headerBytes.length));
    writeSync(descriptor, prefix);
    writeSync(descriptor, headerBytes);
    for (const tensor of tensors) {
      const values = await tensor.values();
      let bytes: Uint8Array;
      if (tensor.dtype === 'F32') {
        bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      } else {
        const convert = tensor.dtype === 'F16' ? toFloat16Bits : toBfloat16Bits;
        const half = new Uint16Array(values.length);
        for (let i = 0; i < values.length; i++) half[i] = convert(values[i]!);
        bytes = new Uint8Array(half.buffer);
      }
      writeSync(descriptor, bytes);
    }
  } finally {
    closeSync(descriptor);
  }
}

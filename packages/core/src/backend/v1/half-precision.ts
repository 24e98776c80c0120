// Half-precision storage types read as numbers, exactly: what a device does when it widens f16 or bf16 uploads to
// f32 (every backend, the loader for devices without half-precision uploads, the oracle).

/** f16 bit pattern to number (exact). */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const scratchFloat32 = new Float32Array(1);
const scratchUint32 = new Uint32Array(scratchFloat32.buffer);

/** bf16 bit pattern to number (exact: the top half of an f32). */
export function bfloat16ToNumber(bits: number): number {
  scratchUint32[0] = (bits & 0xffff) << 16;
  return scratchFloat32[0]!;
}

/** f16 or bf16 bit patterns widened to f32 (bf16 by placing the bits, f16 value by value). */
export function widenHalfPrecision(data: Uint16Array, dtype: 'f16' | 'bf16'): Float32Array {
  const out = new Float32Array(data.length);
  if (dtype === 'bf16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < data.length; i++) bits[i] = data[i]! << 16;
  } else {
    for (let i = 0; i < data.length; i++) out[i] = float16ToNumber(data[i]!);
  }
  return out;
}

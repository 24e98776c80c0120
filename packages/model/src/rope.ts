// Rotary embedding tables (cos, sin) with the default, linear and llama3 frequency scalings, computed the way
// transformers' modeling_rope_utils.py does (float32 inverse frequencies and angles), so the tables match it.
import type { ModelConfig } from './model-config';

const round = Math.fround;

/** inv_freq (D/2) as transformers computes it, every step rounded to float32. */
export function inverseFrequencies(config: ModelConfig): Float64Array {
  const dim = config.headDim;
  const half = dim / 2;
  const inverse = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = round(round(2 * i) / dim);
    inverse[i] = round(1 / round(config.ropeTheta ** exponent));
  }
  const scaling = config.ropeScaling;
  if (scaling.type === 'linear') {
    for (let i = 0; i < half; i++) inverse[i] = round(inverse[i]! / scaling.factor);
  } else if (scaling.type === 'llama3') {
    // Long wavelengths are slowed by `factor`, short ones kept, the band between interpolated smoothly.
    const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: context } = scaling;
    const lowFreqWavelength = context / lowFreqFactor;
    const highFreqWavelength = context / highFreqFactor;
    for (let i = 0; i < half; i++) {
      const frequency = inverse[i]!;
      const wavelength = round((2 * Math.PI) / frequency);
      const scaled = wavelength > lowFreqWavelength ? round(frequency / factor) : frequency;
      const isMedium = !(wavelength < highFreqWavelength) && !(wavelength > lowFreqWavelength);
      if (isMedium) {
        const smooth = round((round(context / wavelength) - lowFreqFactor) / (highFreqFactor - lowFreqFactor));
        inverse[i] = round(round((1 - smooth) * round(scaled / factor)) + round(smooth * scaled));
      } else {
        inverse[i] = scaled;
      }
    }
  }
  return inverse;
}

/** cos and sin tables (positions, D/2), float32 angles as transformers' rotary forward computes them. */
export function ropeTables(config: ModelConfig, positions: number): { cos: Float32Array; sin: Float32Array } {
  const inverse = inverseFrequencies(config);
  const half = inverse.length;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = round(inverse[i]! * p);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

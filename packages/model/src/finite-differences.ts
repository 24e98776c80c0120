// The directional finite-difference check the model's gradient tests share (oracle device, float64): along a random
// direction u of a parameter, the analytic gradient's g . u must match (f(x + eps u) - f(x - eps u)) / 2 eps.
import type { OracleDevice } from '@lsp/oracle';
import type { Parameter } from './llama';

/**
 * Checks `parameter`'s accumulated gradient against central differences of `objective` along a direction drawn
 * from `random`; throws naming the parameter when they disagree, and returns the analytic value (so a caller can
 * also require it to be non-zero).
 */
export function checkDirectionalDerivative(
  device: OracleDevice, parameter: Parameter, objective: () => number, random: () => number, epsilon = 1e-5,
): number {
  const data = device.floats(parameter.tensor);
  const gradient = device.floats(parameter.gradient!);
  const direction = Float64Array.from(data, () => random() * 2 - 1);
  let analytic = 0;
  for (let i = 0; i < data.length; i++) analytic += gradient[i]! * direction[i]!;
  const saved = data.slice();
  for (let i = 0; i < data.length; i++) data[i] = saved[i]! + epsilon * direction[i]!;
  const plus = objective();
  for (let i = 0; i < data.length; i++) data[i] = saved[i]! - epsilon * direction[i]!;
  const minus = objective();
  data.set(saved);
  const numeric = (plus - minus) / (2 * epsilon);
  if (Math.abs(numeric - analytic) > 1e-7 + 1e-6 * Math.abs(numeric)) {
    throw new Error(`${parameter.name}: analytic ${analytic}, numeric ${numeric}`);
  }
  return analytic;
}

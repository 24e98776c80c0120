// sumOfSquares: the sum of x^2 over every element of every tensor. Each workgroup squares and sums 2048
// elements of one tensor into a partial; one workgroup then sums the partials. NaN and Infinity propagate.
import { checkType, elementRanges, rangeOf, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, Uniforms, workgroupIndex, workgroupReductions } from './kernel-context';

const perWorkgroup = 2048;

const partialProgram: KernelProgram = {
  key: 'sum-of-squares/partial',
  bindings: 'rw',
  source: `${declareBindings([['x', 'f32', 'r'], ['partials', 'f32', 'w']], 'count: u32, offset: u32')}
${workgroupIndex}
${workgroupReductions}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroups: vec3u, @builtin(local_invocation_index) local: u32) {
  let w = workgroupIndex(workgroup, workgroups);
  let start = w * ${perWorkgroup}u;
  var sum = 0.0;
  for (var e = 0u; e < ${perWorkgroup / 256}u; e++) {
    let i = start + e * 256u + local;
    if (i < params.count) { let value = x[i]; sum += value * value; }
  }
  let total = reduceSum(local, sum);
  if (local == 0u && start < params.count) { partials[params.offset + w] = total; }
}`,
};

const finalProgram: KernelProgram = {
  key: 'sum-of-squares/final',
  bindings: 'rw',
  source: `${declareBindings([['partials', 'f32', 'r'], ['result', 'f32', 'w']], 'count: u32')}
${workgroupReductions}
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) local: u32) {
  var sum = 0.0;
  for (var i = local; i < params.count; i += 256u) { sum += partials[i]; }
  let total = reduceSum(local, sum);
  if (local == 0u) { result[0] = total; }
}`,
};

/** Records the reduction and returns a one-element scratch tensor holding the sum (the caller reads and releases it). */
export function sumOfSquares(context: KernelContext, tensors: readonly KernelTensor[]): KernelTensor {
  for (const tensor of tensors) checkType(tensor, 'f32', 'sumOfSquares tensor');
  // A tensor over the binding limit is reduced by aligned windows, each giving its own partials in order.
  const windows = tensors.map((tensor) => elementRanges(context, tensor.size, [tensor]));
  const total = windows.reduce((sum, ranges) => sum + ranges.reduce((count, [, length]) => count + Math.ceil(length / perWorkgroup), 0), 0);
  const partials = context.scratch(Math.max(1, total), 'f32');
  let offset = 0;
  tensors.forEach((tensor, index) => {
    for (const [start, length] of windows[index]!) {
      const count = Math.ceil(length / perWorkgroup);
      if (count > 0) context.dispatch(partialProgram, [rangeOf(tensor, start, length), partials], new Uniforms().u32(length).u32(offset), count);
      offset += count;
    }
  });
  const result = context.scratch(1, 'f32');
  context.dispatch(finalProgram, [partials, result], new Uniforms().u32(total), [1, 1, 1]);
  context.release(partials);
  return result;
}

// rmsnormBackward: dx (N, C) += rstd (dout w - x rstd^2 (sum_c dout w x) / C), one workgroup per row; then
// dweight (C) += sum_n dout x rstd, one invocation per channel summing rows in order.
import { alike, checkSize, checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, rowsOf, rowWindows, Uniforms, workgroupIndex, workgroupReductions, workgroupsFor } from './kernel-context';

const inputProgram: KernelProgram = {
  key: 'rmsnorm-backward/input',
  bindings: 'rrrrw',
  source: `${declareBindings([['dout', 'f32', 'r'], ['x', 'f32', 'r'], ['weight', 'f32', 'r'], ['rstd', 'f32', 'r'], ['dx', 'f32', 'w']], 'rows: u32, channels: u32, first: u32, shift: u32')}
${workgroupIndex}
${workgroupReductions}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroups: vec3u, @builtin(local_invocation_index) local: u32) {
  let n = workgroupIndex(workgroup, workgroups);
  let clamped = min(n, params.rows - 1u);
  // Rows [first, first + rows), dout, x and dx bound from element shift of their windows.
  let row = params.shift + clamped * params.channels;
  var dot = 0.0;
  for (var c = local; c < params.channels; c += 256u) { dot += dout[row + c] * weight[c] * x[row + c]; }
  let factor = rstd[params.first + clamped];
  let correction = factor * factor * reduceSum(local, dot) / f32(params.channels);
  if (n >= params.rows) { return; }
  for (var c = local; c < params.channels; c += 256u) {
    dx[row + c] += factor * (dout[row + c] * weight[c] - x[row + c] * correction);
  }
}`,
};

const weightProgram: KernelProgram = {
  key: 'rmsnorm-backward/weight',
  bindings: 'rrrw',
  source: `${declareBindings([['dout', 'f32', 'r'], ['x', 'f32', 'r'], ['rstd', 'f32', 'r'], ['dweight', 'f32', 'w']], 'rows: u32, channels: u32, first: u32, shift: u32')}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  let c = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (c >= params.channels) { return; }
  var sum = 0.0;
  for (var n = 0u; n < params.rows; n++) { let i = params.shift + n * params.channels + c; sum += dout[i] * x[i] * rstd[params.first + n]; }
  dweight[c] += sum;
}`,
};

export function rmsnormBackward(
  context: KernelContext, dout: KernelTensor, x: KernelTensor, weight: KernelTensor, rstd: KernelTensor, dx: KernelTensor, dweight: KernelTensor,
): void {
  for (const [tensor, name] of [[dout, 'dout'], [x, 'x'], [weight, 'weight'], [rstd, 'rstd'], [dx, 'dx'], [dweight, 'dweight']] as const) {
    checkType(tensor, 'f32', `rmsnormBackward ${name}`);
  }
  const channels = weight.size;
  const rows = rowsOf(x.size, channels, 'rmsnormBackward');
  checkSize(dout, x.size, 'rmsnormBackward dout');
  checkSize(dx, x.size, 'rmsnormBackward dx');
  checkSize(rstd, rows, 'rmsnormBackward rstd');
  checkSize(dweight, channels, 'rmsnormBackward dweight');
  if (rows === 0) return;
  // Over the binding limit, blocks of rows: dweight gets each block's sum in row order (deterministic).
  const blocks = rowWindows(context, x, rows, channels, 'rmsnormBackward x');
  for (const [first, count, binding, shift] of blocks) {
    const uniforms = new Uniforms().u32(count).u32(channels).u32(first).u32(shift);
    context.dispatch(inputProgram, [alike(binding, x, dout), binding, weight, rstd, alike(binding, x, dx)], uniforms, count);
  }
  for (const [first, count, binding, shift] of blocks) {
    const uniforms = new Uniforms().u32(count).u32(channels).u32(first).u32(shift);
    context.dispatch(weightProgram, [alike(binding, x, dout), binding, rstd, dweight], uniforms, workgroupsFor(channels));
  }
}

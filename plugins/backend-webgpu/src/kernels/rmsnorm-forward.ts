// rmsnormForward: out (N, C) = x / sqrt(mean(x^2) + epsilon) * weight, rstd (N) kept; one workgroup per row.
import { alike, checkSize, checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, rowsOf, rowWindows, Uniforms, workgroupIndex, workgroupReductions } from './kernel-context';

const program: KernelProgram = {
  key: 'rmsnorm-forward',
  bindings: 'rrww',
  source: `${declareBindings([['x', 'f32', 'r'], ['weight', 'f32', 'r'], ['out', 'f32', 'w'], ['rstd', 'f32', 'w']], 'rows: u32, channels: u32, epsilon: f32, first: u32, shift: u32')}
${workgroupIndex}
${workgroupReductions}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroups: vec3u, @builtin(local_invocation_index) local: u32) {
  let n = workgroupIndex(workgroup, workgroups);
  // Rows [first, first + rows), x and out bound from element shift of their windows.
  let row = params.shift + min(n, params.rows - 1u) * params.channels;
  var sum = 0.0;
  for (var c = local; c < params.channels; c += 256u) { let value = x[row + c]; sum += value * value; }
  let factor = 1.0 / sqrt(reduceSum(local, sum) / f32(params.channels) + params.epsilon);
  if (n >= params.rows) { return; }
  if (local == 0u) { rstd[params.first + n] = factor; }
  for (var c = local; c < params.channels; c += 256u) { out[row + c] = x[row + c] * factor * weight[c]; }
}`,
};

export function rmsnormForward(context: KernelContext, x: KernelTensor, weight: KernelTensor, out: KernelTensor, rstd: KernelTensor, epsilon: number): void {
  for (const [tensor, name] of [[x, 'x'], [weight, 'weight'], [out, 'out'], [rstd, 'rstd']] as const) checkType(tensor, 'f32', `rmsnormForward ${name}`);
  const rows = rowsOf(x.size, weight.size, 'rmsnormForward');
  checkSize(out, x.size, 'rmsnormForward out');
  checkSize(rstd, rows, 'rmsnormForward rstd');
  if (rows === 0) return;
  for (const [first, count, binding, shift] of rowWindows(context, x, rows, weight.size, 'rmsnormForward x')) {
    const uniforms = new Uniforms().u32(count).u32(weight.size).f32(epsilon).u32(first).u32(shift);
    context.dispatch(program, [binding, weight, alike(binding, x, out), rstd], uniforms, count);
  }
}

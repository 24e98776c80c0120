// swigluBackward: dgate += dout * up * silu'(gate), dup += dout * silu(gate), silu'(x) = s (1 + x (1 - s)), s = sigmoid(x).
import { checkSize, elementRanges, rangeOf, checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, Uniforms, workgroupIndex, workgroupsFor } from './kernel-context';

const program: KernelProgram = {
  key: 'swiglu-backward',
  bindings: 'rrrww',
  source: `${declareBindings([['dout', 'f32', 'r'], ['gate', 'f32', 'r'], ['up', 'f32', 'r'], ['dgate', 'f32', 'w'], ['dup', 'f32', 'w']], 'count: u32')}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  let i = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (i >= params.count) { return; }
  let g = gate[i];
  let s = 1.0 / (1.0 + exp(-g));
  let d = dout[i];
  dgate[i] += d * up[i] * s * (1.0 + g * (1.0 - s));
  dup[i] += d * g * s;
}`,
};

export function swigluBackward(context: KernelContext, dout: KernelTensor, gate: KernelTensor, up: KernelTensor, dgate: KernelTensor, dup: KernelTensor): void {
  for (const [tensor, name] of [[dout, 'dout'], [gate, 'gate'], [up, 'up'], [dgate, 'dgate'], [dup, 'dup']] as const) {
    checkType(tensor, 'f32', `swigluBackward ${name}`);
    checkSize(tensor, gate.size, `swigluBackward ${name}`);
  }
  if (gate.size === 0) return;
  const tensors = [dout, gate, up, dgate, dup];
  for (const [start, length] of elementRanges(context, gate.size, tensors)) {
    context.dispatch(program, tensors.map((tensor) => rangeOf(tensor, start, length)), new Uniforms().u32(length), workgroupsFor(length));
  }
}

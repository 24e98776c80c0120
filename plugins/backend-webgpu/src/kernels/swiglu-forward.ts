// swigluForward: out (N, I) = silu(gate) * up, silu(x) = x / (1 + exp(-x)).
import { checkSize, elementRanges, rangeOf, checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, Uniforms, workgroupIndex, workgroupsFor } from './kernel-context';

const program: KernelProgram = {
  key: 'swiglu-forward',
  bindings: 'rrw',
  source: `${declareBindings([['gate', 'f32', 'r'], ['up', 'f32', 'r'], ['out', 'f32', 'w']], 'count: u32')}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  let i = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (i >= params.count) { return; }
  let g = gate[i];
  out[i] = g / (1.0 + exp(-g)) * up[i];
}`,
};

export function swigluForward(context: KernelContext, gate: KernelTensor, up: KernelTensor, out: KernelTensor): void {
  for (const [tensor, name] of [[gate, 'gate'], [up, 'up'], [out, 'out']] as const) {
    checkType(tensor, 'f32', `swigluForward ${name}`);
    checkSize(tensor, gate.size, `swigluForward ${name}`);
  }
  if (gate.size === 0) return;
  for (const [start, length] of elementRanges(context, gate.size, [gate, up, out])) {
    context.dispatch(program, [gate, up, out].map((tensor) => rangeOf(tensor, start, length)), new Uniforms().u32(length), workgroupsFor(length));
  }
}

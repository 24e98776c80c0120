// fill: every element of x set to one 32-bit pattern (an f32 value, or an i32 for integer tensors); also zeroes
// a pooled buffer handed out by `allocate`.
import { checkType, elementRanges, rangeOf, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, Uniforms, workgroupIndex, workgroupsFor } from './kernel-context';

const program: KernelProgram = {
  key: 'fill',
  bindings: 'w',
  source: `${declareBindings([['x', 'u32', 'w']], 'count: u32, bits: u32')}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  let i = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (i >= params.count) { return; }
  x[i] = params.bits;
}`,
};

export function fill(context: KernelContext, x: KernelTensor, value: number): void {
  if (x.size === 0) return;
  if (x.dtype === 'i32') {
    if (!Number.isInteger(value)) throw new Error(`webgpu device: fill of an i32 tensor with ${value}`);
  } else {
    checkType(x, 'f32', 'fill x');
  }
  for (const [start, length] of elementRanges(context, x.size, [x])) {
    const uniforms = new Uniforms().u32(length);
    if (x.dtype === 'i32') uniforms.i32(value);
    else uniforms.f32(value);
    context.dispatch(program, [rangeOf(x, start, length)], uniforms, workgroupsFor(length));
  }
}

// scale: out = x * factor; out may alias x.
import { accessOf, elementRanges, rangeOf, checkSize, checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, Uniforms, workgroupIndex, workgroupsFor } from './kernel-context';

function program(inPlace: boolean): KernelProgram {
  const storage = inPlace ? ([['x', 'f32', 'w']] as const) : ([['x', 'f32', 'r'], ['out', 'f32', 'w']] as const);
  return {
    key: inPlace ? 'scale/in-place' : 'scale',
    bindings: accessOf(storage),
    source: `${declareBindings(storage, 'count: u32, factor: f32')}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  let i = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (i >= params.count) { return; }
  ${inPlace ? 'x' : 'out'}[i] = x[i] * params.factor;
}`,
  };
}

const programs = [program(false), program(true)] as const;

export function scale(context: KernelContext, x: KernelTensor, factor: number, out: KernelTensor): void {
  checkType(x, 'f32', 'scale x');
  checkType(out, 'f32', 'scale out');
  checkSize(out, x.size, 'scale out');
  if (x.size === 0) return;
  const inPlace = context.sameMemory(x, out);
  for (const [start, length] of elementRanges(context, x.size, [x, out])) {
    const source = rangeOf(x, start, length);
    context.dispatch(programs[inPlace ? 1 : 0], inPlace ? [source] : [source, rangeOf(out, start, length)], new Uniforms().u32(length).f32(factor), workgroupsFor(length));
  }
}

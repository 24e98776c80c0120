// multiply: out[i] = a[i] * b[i], all the same size; out may alias a (the optional DeviceV1.multiply, LoRA dropout).
import { accessOf, elementRanges, rangeOf, checkSize, checkType, declareBindings, type KernelBinding, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, Uniforms, workgroupIndex, workgroupsFor } from './kernel-context';

function program(inPlace: boolean): KernelProgram {
  const storage = inPlace
    ? ([['a', 'f32', 'w'], ['b', 'f32', 'r']] as const)
    : ([['a', 'f32', 'r'], ['b', 'f32', 'r'], ['out', 'f32', 'w']] as const);
  return {
    key: inPlace ? 'multiply/in-place' : 'multiply',
    bindings: accessOf(storage),
    source: `${declareBindings(storage, 'count: u32')}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  let i = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (i >= params.count) { return; }
  ${inPlace ? 'a' : 'out'}[i] = a[i] * b[i];
}`,
  };
}

const programs = [program(false), program(true)] as const;

export function multiply(context: KernelContext, a: KernelTensor, b: KernelTensor, out: KernelTensor): void {
  for (const [tensor, name] of [[a, 'a'], [b, 'b'], [out, 'out']] as const) checkType(tensor, 'f32', `multiply ${name}`);
  checkSize(b, a.size, 'multiply b');
  checkSize(out, a.size, 'multiply out');
  if (a.size === 0) return;
  const inPlace = context.sameMemory(a, out);
  for (const [start, length] of elementRanges(context, a.size, [a, b, out])) {
    const [left, right, target] = [a, b, out].map((tensor) => rangeOf(tensor, start, length)) as [KernelBinding, KernelBinding, KernelBinding];
    context.dispatch(programs[inPlace ? 1 : 0], inPlace ? [left, right] : [left, right, target], new Uniforms().u32(length), workgroupsFor(length));
  }
}

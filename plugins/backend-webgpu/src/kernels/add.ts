// add: out[i] = a[i] + b[i % b.size]; b is a's size (residual) or one row repeated over a's rows (bias). out may alias a.
import { accessOf, elementRanges, rangeOf, checkSize, checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, Uniforms, workgroupIndex, workgroupsFor } from './kernel-context';

function program(inPlace: boolean): KernelProgram {
  const storage = inPlace
    ? ([['a', 'f32', 'w'], ['b', 'f32', 'r']] as const)
    : ([['a', 'f32', 'r'], ['b', 'f32', 'r'], ['out', 'f32', 'w']] as const);
  const target = inPlace ? 'a' : 'out';
  return {
    key: inPlace ? 'add/in-place' : 'add',
    bindings: accessOf(storage),
    source: `${declareBindings(storage, 'count: u32, period: u32, phase: u32')}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  let i = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (i >= params.count) { return; }
  ${target}[i] = a[i] + b[(i + params.phase) % params.period];
}`,
  };
}

const programs = [program(false), program(true)] as const;

export function add(context: KernelContext, a: KernelTensor, b: KernelTensor, out: KernelTensor): void {
  for (const [tensor, name] of [[a, 'a'], [b, 'b'], [out, 'out']] as const) checkType(tensor, 'f32', `add ${name}`);
  if (b.size === 0 || a.size % b.size !== 0) throw new Error(`webgpu device: add of ${a.size} and ${b.size} elements: a.size must be a multiple of b.size`);
  checkSize(out, a.size, 'add out');
  if (a.size === 0) return;
  const inPlace = context.sameMemory(a, out);
  // A residual b is split with a and out; a repeated row b is bound whole, its phase at the range's start passed.
  const residual = b.size === a.size;
  for (const [start, length] of elementRanges(context, a.size, residual ? [a, b, out] : [a, out])) {
    const uniforms = new Uniforms().u32(length).u32(residual ? length : b.size).u32(residual ? 0 : start % b.size);
    const left = rangeOf(a, start, length);
    const right = residual ? rangeOf(b, start, length) : b;
    context.dispatch(programs[inPlace ? 1 : 0], inPlace ? [left, right] : [left, right, rangeOf(out, start, length)], uniforms, workgroupsFor(length));
  }
}

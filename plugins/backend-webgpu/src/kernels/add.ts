// add: out[i] = a[i] + b[i % b.size]; b is a's size (residual) or one row repeated over a's rows (bias). out may alias a.
import { accessOf, checkSize, checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, Uniforms, workgroupIndex, workgroupsFor } from './kernel-context';

function program(inPlace: boolean): KernelProgram {
  const storage = inPlace
    ? ([['a', 'f32', 'w'], ['b', 'f32', 'r']] as const)
    : ([['a', 'f32', 'r'], ['b', 'f32', 'r'], ['out', 'f32', 'w']] as const);
  const target = inPlace ? 'a' : 'out';
  return {
    key: inPlace ? 'add/in-place' : 'add',
    bindings: accessOf(storage),
    source: `${declareBindings(storage, 'count: u32, period: u32')}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  let i = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (i >= params.count) { return; }
  ${target}[i] = a[i] + b[i % params.period];
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
  const uniforms = new Uniforms().u32(a.size).u32(b.size);
  context.dispatch(programs[inPlace ? 1 : 0], inPlace ? [a, b] : [a, b, out], uniforms, workgroupsFor(a.size));
}

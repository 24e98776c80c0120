// rope: rotary embedding, Hugging Face layout (pairs (i, i + D/2)), per head; `inverse` rotates by -angle (the
// backward). One invocation per (row, head, pair); it reads both halves before writing, so out may alias x.
import { alike, checkSize, checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, rowsOf, rowWindows, Uniforms, workgroupIndex, workgroupsFor } from './kernel-context';

function program(inPlace: boolean): KernelProgram {
  const storage = inPlace
    ? ([['x', 'f32', 'w'], ['positions', 'i32', 'r'], ['cosines', 'f32', 'r'], ['sines', 'f32', 'r']] as const)
    : ([['x', 'f32', 'r'], ['positions', 'i32', 'r'], ['cosines', 'f32', 'r'], ['sines', 'f32', 'r'], ['out', 'f32', 'w']] as const);
  const target = inPlace ? 'x' : 'out';
  return {
    key: inPlace ? 'rope/in-place' : 'rope',
    bindings: storage.map(([, , access]) => access).join(''),
    source: `${declareBindings(storage, 'rows: u32, heads: u32, half: u32, maxPosition: u32, sign: f32, first: u32, shift: u32')}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  let index = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (index >= params.rows * params.heads * params.half) { return; }
  let i = index % params.half;
  let rowHead = index / params.half;
  let n = rowHead / params.heads;
  // Rows [first, first + rows), x and out bound from element shift of their windows.
  let base = params.shift + rowHead * 2u * params.half;
  let position = positions[params.first + n];
  var c = 1.0;
  var s = 0.0;
  if (position >= 0 && u32(position) < params.maxPosition) {
    c = cosines[u32(position) * params.half + i];
    s = params.sign * sines[u32(position) * params.half + i];
  }
  let first = x[base + i];
  let second = x[base + i + params.half];
  ${target}[base + i] = first * c - second * s;
  ${target}[base + i + params.half] = second * c + first * s;
}`,
  };
}

const programs = [program(false), program(true)] as const;

export function rope(
  context: KernelContext, x: KernelTensor, positions: KernelTensor, cos: KernelTensor, sin: KernelTensor, out: KernelTensor, heads: number, inverse: boolean,
): void {
  checkType(positions, 'i32', 'rope positions');
  for (const [tensor, name] of [[x, 'x'], [cos, 'cos'], [sin, 'sin'], [out, 'out']] as const) checkType(tensor, 'f32', `rope ${name}`);
  checkSize(out, x.size, 'rope out');
  if (positions.size === 0) return;
  const headDim = rowsOf(x.size, positions.size * heads, 'rope x');
  if (headDim % 2 !== 0) throw new Error(`webgpu device: rope head dimension ${headDim} is odd`);
  const half = headDim / 2;
  checkSize(sin, cos.size, 'rope sin');
  const maxPosition = rowsOf(cos.size, half, 'rope cos');
  const inPlace = context.sameMemory(x, out);
  for (const [first, count, binding, shift] of rowWindows(context, x, positions.size, heads * headDim, 'rope x')) {
    const uniforms = new Uniforms().u32(count).u32(heads).u32(half).u32(maxPosition).f32(inverse ? -1 : 1).u32(first).u32(shift);
    const bindings = inPlace ? [binding, positions, cos, sin] : [binding, positions, cos, sin, alike(binding, x, out)];
    context.dispatch(programs[inPlace ? 1 : 0], bindings, uniforms, workgroupsFor(count * heads * half));
  }
}

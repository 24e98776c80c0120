// sumRows: out (C) += sum over rows of x (N, C), one invocation per column summing its rows in order (deterministic).
import { checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, rowsOf, rowWindows, Uniforms, workgroupIndex, workgroupsFor } from './kernel-context';

const program: KernelProgram = {
  key: 'sum-rows',
  bindings: 'rw',
  source: `${declareBindings([['x', 'f32', 'r'], ['out', 'f32', 'w']], 'rows: u32, columns: u32, shift: u32')}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  let c = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (c >= params.columns) { return; }
  var sum = 0.0;
  for (var r = 0u; r < params.rows; r++) { sum += x[params.shift + r * params.columns + c]; }
  out[c] += sum;
}`,
};

export function sumRows(context: KernelContext, x: KernelTensor, out: KernelTensor): void {
  checkType(x, 'f32', 'sumRows x');
  checkType(out, 'f32', 'sumRows out');
  const rows = rowsOf(x.size, out.size, 'sumRows');
  // Over the binding limit, blocks of rows, each block's sum added in row order (deterministic).
  for (const [, count, binding, shift] of rowWindows(context, x, rows, out.size, 'sumRows x')) {
    context.dispatch(program, [binding, out], new Uniforms().u32(count).u32(out.size).u32(shift), workgroupsFor(out.size));
  }
}

// embeddingForward: out (N, C) = table[ids]; an id outside [0, V) gives a zero row rather than a stray read.
import { checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, rowsOf, rowWindows, Uniforms, workgroupIndex, workgroupsFor } from './kernel-context';

const program: KernelProgram = {
  key: 'embedding-forward',
  bindings: 'rrw',
  source: `${declareBindings([['ids', 'i32', 'r'], ['table', 'f32', 'r'], ['out', 'f32', 'w']], 'rows: u32, channels: u32, vocabulary: u32, first: u32, end: u32, shift: u32, writeInvalid: u32, rowStart: u32, outShift: u32')}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  let i = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (i >= params.rows * params.channels) { return; }
  // Rows [rowStart, rowStart + rows) of ids and out, out bound from element outShift of its window.
  let n = params.rowStart + i / params.channels;
  let c = i % params.channels;
  let id = ids[n];
  // This dispatch binds table rows [first, end) from element shift of its window: it writes the rows of ids in
  // that range, and (the first dispatch) the zero rows of ids outside the vocabulary.
  if (id >= 0 && u32(id) < params.vocabulary) {
    let row = u32(id);
    if (row >= params.first && row < params.end) { out[params.outShift + i] = table[params.shift + (row - params.first) * params.channels + c]; }
  } else if (params.writeInvalid != 0u) {
    out[params.outShift + i] = 0.0;
  }
}`,
};

export function embeddingForward(context: KernelContext, ids: KernelTensor, table: KernelTensor, out: KernelTensor): void {
  checkType(ids, 'i32', 'embeddingForward ids');
  checkType(table, 'f32', 'embeddingForward table');
  checkType(out, 'f32', 'embeddingForward out');
  if (ids.size === 0) return;
  const channels = rowsOf(out.size, ids.size, 'embeddingForward out');
  const vocabulary = rowsOf(table.size, channels, 'embeddingForward table');
  if (out.size === 0) return;
  for (const [rowStart, rows, target, outShift] of rowWindows(context, out, ids.size, channels, 'embeddingForward out')) {
    for (const [first, count, binding, shift] of rowWindows(context, table, vocabulary, channels, 'embeddingForward table')) {
      const uniforms = new Uniforms().u32(rows).u32(channels).u32(vocabulary).u32(first).u32(first + count).u32(shift).u32(first === 0 ? 1 : 0)
        .u32(rowStart).u32(outShift);
      context.dispatch(program, [ids, binding, target], uniforms, workgroupsFor(rows * channels));
    }
  }
}


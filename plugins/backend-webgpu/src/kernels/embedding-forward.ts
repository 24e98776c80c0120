// embeddingForward: out (N, C) = table[ids]; an id outside [0, V) gives a zero row rather than a stray read.
import { checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, rowsOf, Uniforms, workgroupIndex, workgroupsFor } from './kernel-context';

const program: KernelProgram = {
  key: 'embedding-forward',
  bindings: 'rrw',
  source: `${declareBindings([['ids', 'i32', 'r'], ['table', 'f32', 'r'], ['out', 'f32', 'w']], 'rows: u32, channels: u32, vocabulary: u32')}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  let i = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (i >= params.rows * params.channels) { return; }
  let n = i / params.channels;
  let c = i % params.channels;
  let id = ids[n];
  var value = 0.0;
  if (id >= 0 && u32(id) < params.vocabulary) { value = table[u32(id) * params.channels + c]; }
  out[i] = value;
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
  context.dispatch(program, [ids, table, out], new Uniforms().u32(ids.size).u32(channels).u32(vocabulary), workgroupsFor(out.size));
}

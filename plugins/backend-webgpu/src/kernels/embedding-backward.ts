// embeddingBackward: dtable[ids[n]] += dout[n], deterministic without float atomics: one workgroup per row n. The
// first row holding an id sums the dout rows of every row with that id, in row order, and adds the sum once; the
// other rows with that id do nothing. Each workgroup scans the ids once in chunks of 256.
import { checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, rowsOf, rowWindows, Uniforms, workgroupIndex } from './kernel-context';

const program: KernelProgram = {
  key: 'embedding-backward',
  bindings: 'rrw',
  source: `${declareBindings([['ids', 'i32', 'r'], ['dout', 'f32', 'r'], ['dtable', 'f32', 'w']], 'rows: u32, channels: u32, vocabulary: u32, first: u32, end: u32, shift: u32, rowStart: u32, doutShift: u32')}
${workgroupIndex}
var<workgroup> matches: array<u32, 256>;
var<workgroup> earlier: atomic<u32>;
// Channels each invocation accumulates, in registers, per pass over the ids (wider rows take more passes).
const perInvocation = 8u;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroups: vec3u, @builtin(local_invocation_index) local: u32) {
  // Rows [rowStart, rows) of ids and dout (dout bound from element doutShift of its window): the first of them
  // holding an id adds the sum of their dout rows with that id (a dout over the binding limit is summed by blocks
  // of rows, in order, so the result stays deterministic).
  let n = params.rowStart + workgroupIndex(workgroup, workgroups);
  let valid = n < params.rows;
  var id = -1;
  if (valid) { id = ids[n]; }
  if (local == 0u) { atomicStore(&earlier, 0u); }
  workgroupBarrier();
  // Does an earlier row hold the same id?
  for (var start = params.rowStart; start < params.rows; start += 256u) {
    let other = start + local;
    if (valid && other < n && ids[other] == id) { atomicStore(&earlier, 1u); }
  }
  workgroupBarrier();
  // This dispatch binds dtable rows [first, end) from element shift of its window; other ids are another's.
  let row = u32(max(id, 0));
  let skip = workgroupUniformLoad(&earlier) != 0u || !valid || id < 0 || row >= params.vocabulary || row < params.first || row >= params.end;
  if (skip) { return; }
  let base = params.shift + (row - params.first) * params.channels;
  var sums: array<f32, perInvocation>;
  for (var c0 = 0u; c0 < params.channels; c0 += 256u * perInvocation) {
    // Zeroed explicitly: a declaration inside the loop is not re-initialised on every driver (lavapipe keeps it).
    for (var e = 0u; e < perInvocation; e++) { sums[e] = 0.0; }
    for (var start = n; start < params.rows; start += 256u) {
      let other = start + local;
      var found = 0u;
      if (other < params.rows && ids[other] == id) { found = 1u; }
      matches[local] = found;
      workgroupBarrier();
      let count = min(256u, params.rows - start);
      for (var j = 0u; j < count; j++) {
        if (matches[j] != 0u) {
          let doutRow = params.doutShift + (start + j - params.rowStart) * params.channels;
          for (var e = 0u; e < perInvocation; e++) {
            let c = c0 + e * 256u + local;
            if (c < params.channels) { sums[e] += dout[doutRow + c]; }
          }
        }
      }
      workgroupBarrier();
    }
    for (var e = 0u; e < perInvocation; e++) {
      let c = c0 + e * 256u + local;
      if (c < params.channels) { dtable[base + c] += sums[e]; }
    }
  }
}`,
};

export function embeddingBackward(context: KernelContext, ids: KernelTensor, dout: KernelTensor, dtable: KernelTensor): void {
  checkType(ids, 'i32', 'embeddingBackward ids');
  checkType(dout, 'f32', 'embeddingBackward dout');
  checkType(dtable, 'f32', 'embeddingBackward dtable');
  if (ids.size === 0) return;
  const channels = rowsOf(dout.size, ids.size, 'embeddingBackward dout');
  const vocabulary = rowsOf(dtable.size, channels, 'embeddingBackward dtable');
  if (channels === 0) return;
  for (const [rowStart, rows, source, doutShift] of rowWindows(context, dout, ids.size, channels, 'embeddingBackward dout')) {
    for (const [first, count, binding, shift] of rowWindows(context, dtable, vocabulary, channels, 'embeddingBackward dtable')) {
      const uniforms = new Uniforms().u32(rowStart + rows).u32(channels).u32(vocabulary).u32(first).u32(first + count).u32(shift).u32(rowStart).u32(doutShift);
      context.dispatch(program, [ids, source, binding], uniforms, rows);
    }
  }
}

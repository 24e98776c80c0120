// attentionForward: causal grouped-query attention, one workgroup per (entry, head, query). A first pass finds
// the largest score; then keys are taken 256 at a time: their weights exp(score - max) go to workgroup memory
// and each invocation accumulates its head-dimension channels of the weighted values. A query that sees no key
// gets out = 0 and logSumExp = 0.
import type { AttentionOptions } from '@lsp/core';
import { attentionParams, attentionShape, attentionUniforms, maxHeadDim, visibleKeys } from './attention-shape';
import { declareBindings, type KernelContext, type KernelProgram, type KernelTensor, workgroupIndex, workgroupReductions } from './kernel-context';

const program: KernelProgram = {
  key: 'attention-forward',
  bindings: 'rrrrww',
  source: `${declareBindings([['q', 'f32', 'r'], ['k', 'f32', 'r'], ['v', 'f32', 'r'], ['table', 'i32', 'r'], ['out', 'f32', 'w'], ['logSumExp', 'f32', 'w']], attentionParams)}
${workgroupIndex}
${workgroupReductions}
${visibleKeys}
var<workgroup> query: array<f32, ${maxHeadDim}>;
var<workgroup> weights: array<f32, 256>;

fn score(keyBase: u32) -> f32 {
  var dot = 0.0;
  for (var d = 0u; d < params.headDim; d++) { dot += query[d] * k[keyBase + d]; }
  return dot * params.scale;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroups: vec3u, @builtin(local_invocation_index) local: u32) {
  let w = workgroupIndex(workgroup, workgroups);
  let rows = params.batch * params.heads * params.queries;
  let row = min(w, rows - 1u);
  let t = row % params.queries;
  let h = (row / params.queries) % params.heads;
  let b = row / (params.queries * params.heads);
  let kvh = h / (params.heads / params.keyValueHeads);
  let D = params.headDim;
  let queryBase = ((b * params.queries + t) * params.heads + h) * D;
  let keyStride = params.keyValueHeads * D;
  let entryBase = b * params.capacity * keyStride + kvh * D;
  for (var d = local; d < D; d += 256u) { query[d] = q[queryBase + d]; }
  workgroupBarrier();
  let first = firstKey(b);
  let last = lastKey(b, t);
  var largest = bitcast<f32>(0xff7fffffu);
  for (var s = first + i32(local); s <= last; s += 256) { largest = max(largest, score(entryBase + u32(s) * keyStride)); }
  let maximum = reduceMax(local, largest);
  var sum = 0.0;
  var accumulated: array<f32, ${maxHeadDim / 256}>;
  for (var start = first; start <= last; start += 256) {
    let s = start + i32(local);
    var weight = 0.0;
    if (s <= last) { weight = exp(score(entryBase + u32(s) * keyStride) - maximum); }
    weights[local] = weight;
    sum += weight;
    workgroupBarrier();
    let count = u32(min(256, last - start + 1));
    for (var e = 0u; e < ${maxHeadDim / 256}u; e++) {
      let d = local + e * 256u;
      if (d < D) {
        var value = accumulated[e];
        for (var j = 0u; j < count; j++) { value += weights[j] * v[entryBase + (u32(start) + j) * keyStride + d]; }
        accumulated[e] = value;
      }
    }
    workgroupBarrier();
  }
  let total = reduceSum(local, sum);
  if (w >= rows) { return; }
  let seen = last >= first;
  for (var e = 0u; e < ${maxHeadDim / 256}u; e++) {
    let d = local + e * 256u;
    if (d < D) {
      var value = 0.0;
      if (seen) { value = accumulated[e] / total; }
      out[queryBase + d] = value;
    }
  }
  if (local == 0u) {
    var lse = 0.0;
    if (seen) { lse = maximum + log(total); }
    logSumExp[(b * params.heads + h) * params.queries + t] = lse;
  }
}`,
};

export function attentionForward(
  context: KernelContext, q: KernelTensor, k: KernelTensor, v: KernelTensor, out: KernelTensor, logSumExp: KernelTensor, options: AttentionOptions,
): void {
  const shape = attentionShape(q, k, v, out, logSumExp, options, 'attentionForward');
  const rows = shape.batch * shape.heads * shape.queries;
  if (rows === 0) return;
  const table = context.table(shape.table);
  context.dispatch(program, [q, k, v, table, out, logSumExp], attentionUniforms(shape), rows);
  context.release(table);
}

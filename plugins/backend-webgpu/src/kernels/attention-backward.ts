// attentionBackward: dq, dk, dv += gradients of causal grouped-query attention, deterministic without atomics.
// 1. delta (B, H, T) = sum_d dout * out, one invocation per query row.
// 2. dq: one workgroup per (entry, head, query), keys 256 at a time: ds = p (dout . v - delta), dq += scale ds k.
// 3. dk, dv: one workgroup per (entry, key/value head, key), over the (query head, query) pairs that see the key
//    256 at a time: dv += p dout, dk += scale ds q.
import type { AttentionOptions } from '@lsp/core';
import { attentionParams, attentionShape, attentionUniforms, maxHeadDim, visibleKeys } from './attention-shape';
import { checkSize, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, workgroupIndex, workgroupsFor } from './kernel-context';

const perInvocation = maxHeadDim / 256;

const deltaProgram: KernelProgram = {
  key: 'attention-backward/delta',
  bindings: 'rrw',
  source: `${declareBindings([['dout', 'f32', 'r'], ['out', 'f32', 'r'], ['delta', 'f32', 'w']], attentionParams)}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  // Row index in (B, T, H) order, the layout of out; delta is stored (B, H, T) like logSumExp.
  let row = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (row >= params.batch * params.queries * params.heads) { return; }
  let h = row % params.heads;
  let t = (row / params.heads) % params.queries;
  let b = row / (params.heads * params.queries);
  var sum = 0.0;
  for (var d = 0u; d < params.headDim; d++) { sum += dout[row * params.headDim + d] * out[row * params.headDim + d]; }
  delta[(b * params.heads + h) * params.queries + t] = sum;
}`,
};

const queryProgram: KernelProgram = {
  key: 'attention-backward/query',
  bindings: 'rrrrrrrw',
  source: `${declareBindings([['dout', 'f32', 'r'], ['q', 'f32', 'r'], ['k', 'f32', 'r'], ['v', 'f32', 'r'], ['logSumExp', 'f32', 'r'], ['delta', 'f32', 'r'], ['table', 'i32', 'r'], ['dq', 'f32', 'w']], attentionParams)}
${workgroupIndex}
${visibleKeys}
var<workgroup> query: array<f32, ${maxHeadDim}>;
var<workgroup> gradient: array<f32, ${maxHeadDim}>;
var<workgroup> weights: array<f32, 256>;

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
  for (var d = local; d < D; d += 256u) { query[d] = q[queryBase + d]; gradient[d] = dout[queryBase + d]; }
  workgroupBarrier();
  let lse = logSumExp[row];
  let rowDelta = delta[row];
  let first = firstKey(b);
  let last = lastKey(b, t);
  var accumulated: array<f32, ${perInvocation}>;
  for (var start = first; start <= last; start += 256) {
    let s = start + i32(local);
    var weight = 0.0;
    if (s <= last) {
      let keyBase = entryBase + u32(s) * keyStride;
      var dot = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < D; d++) { dot += query[d] * k[keyBase + d]; dp += gradient[d] * v[keyBase + d]; }
      weight = exp(dot * params.scale - lse) * (dp - rowDelta);
    }
    weights[local] = weight;
    workgroupBarrier();
    let count = u32(min(256, last - start + 1));
    for (var e = 0u; e < ${perInvocation}u; e++) {
      let d = local + e * 256u;
      if (d < D) {
        var value = accumulated[e];
        for (var j = 0u; j < count; j++) { value += weights[j] * k[entryBase + (u32(start) + j) * keyStride + d]; }
        accumulated[e] = value;
      }
    }
    workgroupBarrier();
  }
  if (w >= rows || last < first) { return; }
  for (var e = 0u; e < ${perInvocation}u; e++) {
    let d = local + e * 256u;
    if (d < D) { dq[queryBase + d] += params.scale * accumulated[e]; }
  }
}`,
};

const keyProgram: KernelProgram = {
  key: 'attention-backward/key',
  bindings: 'rrrrrrrww',
  source: `${declareBindings([['dout', 'f32', 'r'], ['q', 'f32', 'r'], ['k', 'f32', 'r'], ['v', 'f32', 'r'], ['logSumExp', 'f32', 'r'], ['delta', 'f32', 'r'], ['table', 'i32', 'r'], ['dk', 'f32', 'w'], ['dv', 'f32', 'w']], attentionParams)}
${workgroupIndex}
var<workgroup> key: array<f32, ${maxHeadDim}>;
var<workgroup> value: array<f32, ${maxHeadDim}>;
var<workgroup> probabilities: array<f32, 256>;
var<workgroup> scores: array<f32, 256>;
var<workgroup> queryRows: array<u32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroups: vec3u, @builtin(local_invocation_index) local: u32) {
  let w = workgroupIndex(workgroup, workgroups);
  let keyRows = params.batch * params.keyValueHeads * params.capacity;
  let row = min(w, keyRows - 1u);
  // Key rows in (B, S, K) order, the layout of k.
  let kvh = row % params.keyValueHeads;
  let s = (row / params.keyValueHeads) % params.capacity;
  let b = row / (params.keyValueHeads * params.capacity);
  let D = params.headDim;
  let keyBase = row * D;
  for (var d = local; d < D; d += 256u) { key[d] = k[keyBase + d]; value[d] = v[keyBase + d]; }
  workgroupBarrier();
  let group = params.heads / params.keyValueHeads;
  // Queries t >= s - queryOffset see key s, when keyStart <= s < keyLength.
  let inRange = i32(s) >= table[2u * params.batch + b] && i32(s) < table[params.batch + b];
  let firstQuery = u32(clamp(i32(s) - table[b], 0, i32(params.queries)));
  var span = params.queries - firstQuery;
  if (!inRange) { span = 0u; }
  let pairs = group * span;
  var keyGradient: array<f32, ${perInvocation}>;
  var valueGradient: array<f32, ${perInvocation}>;
  for (var start = 0u; start < pairs; start += 256u) {
    let pair = start + local;
    var probability = 0.0;
    var ds = 0.0;
    var queryRow = 0u;
    if (pair < pairs) {
      let h = kvh * group + pair / span;
      let t = firstQuery + pair % span;
      queryRow = ((b * params.queries + t) * params.heads + h) * D;
      let statistic = (b * params.heads + h) * params.queries + t;
      var dot = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < D; d++) { dot += q[queryRow + d] * key[d]; dp += dout[queryRow + d] * value[d]; }
      probability = exp(dot * params.scale - logSumExp[statistic]);
      ds = probability * (dp - delta[statistic]);
    }
    probabilities[local] = probability;
    scores[local] = ds;
    queryRows[local] = queryRow;
    workgroupBarrier();
    let count = min(256u, pairs - start);
    for (var e = 0u; e < ${perInvocation}u; e++) {
      let d = local + e * 256u;
      if (d < D) {
        var dkSum = keyGradient[e];
        var dvSum = valueGradient[e];
        for (var j = 0u; j < count; j++) {
          dvSum += probabilities[j] * dout[queryRows[j] + d];
          dkSum += scores[j] * q[queryRows[j] + d];
        }
        keyGradient[e] = dkSum;
        valueGradient[e] = dvSum;
      }
    }
    workgroupBarrier();
  }
  if (w >= keyRows || pairs == 0u) { return; }
  for (var e = 0u; e < ${perInvocation}u; e++) {
    let d = local + e * 256u;
    if (d < D) {
      dk[keyBase + d] += params.scale * keyGradient[e];
      dv[keyBase + d] += valueGradient[e];
    }
  }
}`,
};

export function attentionBackward(
  context: KernelContext, dout: KernelTensor, q: KernelTensor, k: KernelTensor, v: KernelTensor, out: KernelTensor, logSumExp: KernelTensor,
  dq: KernelTensor, dk: KernelTensor, dv: KernelTensor, options: AttentionOptions,
): void {
  const shape = attentionShape(q, k, v, out, logSumExp, options, 'attentionBackward');
  checkSize(dout, q.size, 'attentionBackward dout');
  checkSize(dq, q.size, 'attentionBackward dq');
  checkSize(dk, k.size, 'attentionBackward dk');
  checkSize(dv, k.size, 'attentionBackward dv');
  const rows = shape.batch * shape.heads * shape.queries;
  if (rows === 0) return;
  const uniforms = attentionUniforms(shape);
  const table = context.table(shape.table);
  const delta = context.scratch(rows, 'f32');
  context.dispatch(deltaProgram, [dout, out, delta], uniforms, workgroupsFor(rows));
  context.dispatch(queryProgram, [dout, q, k, v, logSumExp, delta, table, dq], uniforms, rows);
  const keyRows = shape.batch * shape.keyValueHeads * shape.capacity;
  if (keyRows > 0) context.dispatch(keyProgram, [dout, q, k, v, logSumExp, delta, table, dk, dv], uniforms, keyRows);
  context.release(delta);
  context.release(table);
}

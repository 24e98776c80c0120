// sample: one token per row of logits (N, V) by DeviceV1.sample's definition, one workgroup per row. Tokens are
// ordered by logit (the order of their probabilities, ties to the lower index) through an order-preserving u32
// key; top-k and top-p thresholds are found by bisecting that key (32 counting passes each) and each tie cut by
// bisecting the index. The draw walks kept tokens in index order: each invocation sums a contiguous chunk, an
// exclusive prefix over chunks places the walk, and the lowest index whose running sum exceeds u * kept mass wins.
// Reductions take two barriers each and the shader has few of them: lavapipe compiles every barrier site into a
// separate continuation, and a tree reduction per pass made this shader take 15 s to compile there.
import type { SamplingKernelOptions } from '@lsp/core';
import { checkSize, checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, rowsOf, rowWindows, Uniforms, workgroupIndex } from './kernel-context';

const program: KernelProgram = {
  key: 'sample',
  bindings: 'rrw',
  source: `${declareBindings([['logits', 'f32', 'r'], ['uniforms', 'f32', 'r'], ['ids', 'i32', 'w']], 'rows: u32, vocabulary: u32, temperature: f32, topK: u32, topP: f32, first: u32, shift: u32')}
${workgroupIndex}
var<workgroup> sums: array<vec4f, 256>;
var<workgroup> sixteenSums: array<vec4f, 16>;
var<workgroup> pairs: array<vec2u, 256>;
var<workgroup> sixteenPairs: array<vec2u, 16>;
var<workgroup> chunkSums: array<f32, 256>;

/** The sum over the workgroup, in two levels of 16 (two barriers). Call from uniform control flow. */
fn sum4(local: u32, value: vec4f) -> vec4f {
  sums[local] = value;
  workgroupBarrier();
  if (local < 16u) {
    var sum = vec4f(0.0);
    for (var i = 0u; i < 16u; i++) { sum += sums[local * 16u + i]; }
    sixteenSums[local] = sum;
  }
  workgroupBarrier();
  var total = vec4f(0.0);
  for (var i = 0u; i < 16u; i++) { total += sixteenSums[i]; }
  return total;
}

/** Of two (key, index) pairs: the larger key, then the lower index. */
fn better(a: vec2u, b: vec2u) -> vec2u {
  if (b.x > a.x || (b.x == a.x && b.y < a.y)) { return b; }
  return a;
}

/** The best pair over the workgroup (mode 0: largest key then lowest index; mode 1: componentwise minimum). */
fn reducePairs(local: u32, value: vec2u, mode: u32) -> vec2u {
  pairs[local] = value;
  workgroupBarrier();
  if (local < 16u) {
    var best = pairs[local * 16u];
    for (var i = 1u; i < 16u; i++) {
      if (mode == 0u) { best = better(best, pairs[local * 16u + i]); } else { best = min(best, pairs[local * 16u + i]); }
    }
    sixteenPairs[local] = best;
  }
  workgroupBarrier();
  var best = sixteenPairs[0];
  for (var i = 1u; i < 16u; i++) {
    if (mode == 0u) { best = better(best, sixteenPairs[i]); } else { best = min(best, sixteenPairs[i]); }
  }
  return best;
}

/** A u32 whose order is the order of the float (negative floats flipped). */
fn orderKey(value: f32) -> u32 {
  let bits = bitcast<u32>(value);
  if ((bits & 0x80000000u) != 0u) { return ~bits; }
  return bits | 0x80000000u;
}

var<private> rowBase: u32;
var<private> maximum: f32;
var<private> kKey: u32;
var<private> kTie: u32;
var<private> pKey: u32;
var<private> pTie: u32;

fn topKOn() -> bool { return params.topK > 0u && params.topK < params.vocabulary; }
fn topPOn() -> bool { return params.topP < 1.0; }

fn probability(j: u32) -> f32 { return exp((logits[rowBase + j] - maximum) / params.temperature); }

/** Within the top-k cut (every token while top-k is off: kKey 0, kTie the largest index). */
fn keptByTopK(key: u32, j: u32) -> bool { return key > kKey || (key == kKey && j <= kTie); }

fn kept(j: u32) -> bool {
  let key = orderKey(logits[rowBase + j]);
  return keptByTopK(key, j) && (key > pKey || (key == pKey && j <= pTie));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroups: vec3u, @builtin(local_invocation_index) local: u32) {
  let w = workgroupIndex(workgroup, workgroups);
  let n = min(w, params.rows - 1u);
  let V = params.vocabulary;
  // Rows [first, first + rows) of the logits, bound from element shift of their window.
  rowBase = params.shift + n * V;
  // Argmax, the lowest index among equal maxima.
  var mine = vec2u(0u, 0xffffffffu);
  for (var j = local; j < V; j += 256u) { mine = better(mine, vec2u(orderKey(logits[rowBase + j]), j)); }
  let best = reducePairs(local, mine, 0u).y;
  maximum = logits[rowBase + best];
  if (params.temperature <= 0.0) {
    if (local == 0u && w < params.rows) { ids[params.first + w] = i32(best); }
    return;
  }
  // Four bisections share one loop body, each phase a preparation pass and 32 bisection passes. Phase 0 finds
  // the top-k threshold key (the largest key with at least topK tokens at or above it), phase 1 the index of the
  // last token tied at it that top-k keeps, phase 2 the top-p threshold key (the largest key whose kept tokens at
  // or above it hold at least topP of the kept mass), phase 3 the last tied token top-p keeps (tied tokens are
  // taken in index order until the mass reaches the goal). A phase that is off leaves its cut keeping everything.
  kKey = 0u;
  kTie = 0xffffffffu;
  pKey = 0u;
  pTie = 0xffffffffu;
  var built = 0u;
  var needed = 0u;
  var goal = 0.0;
  for (var step = 0u; step < 132u; step++) {
    let phase = step / 33u;
    let position = step % 33u;
    if ((phase < 2u && !topKOn()) || (phase >= 2u && !topPOn())) { continue; }
    let preparing = position == 0u;
    let bit = (32u - position) & 31u;
    if (preparing) { built = 0u; }
    let candidate = built | (1u << bit);
    let threshold = select(pKey, kKey, phase == 1u);
    var contribution = vec4f(0.0);
    for (var j = local; j < V; j += 256u) {
      let key = orderKey(logits[rowBase + j]);
      let inTopK = phase < 2u || keptByTopK(key, j);
      var p = 1.0;
      if (phase >= 2u) { p = probability(j); }
      let counted = select(select((key == threshold) && (j < candidate), (key >= candidate), phase % 2u == 0u), select((key > threshold), true, phase == 2u), preparing);
      let weight = select(1.0, p, phase == 2u || (phase == 3u && preparing));
      let tie = preparing && phase == 3u && key == threshold;
      if (inTopK) {
        contribution += vec4f(select(0.0, weight, counted), select(0.0, 1.0, tie), select(0.0, p, tie), 0.0);
      }
    }
    let total = sum4(local, contribution);
    if (preparing) {
      if (phase == 1u) { needed = params.topK - u32(total.x); }
      if (phase == 2u) { goal = params.topP * total.x; }
      if (phase == 3u) {
        needed = 1u;
        let tied = total.z / max(total.y, 1.0);
        if (tied > 0.0 && goal > total.x) { needed = u32(clamp(ceil((goal - total.x) / tied), 1.0, max(total.y, 1.0))); }
      }
    } else {
      var accept = false;
      if (phase == 0u) { accept = total.x >= f32(params.topK); }
      else if (phase == 2u) { accept = total.x >= goal; }
      else { accept = total.x < f32(needed); }
      if (accept) { built = candidate; }
      if (bit == 0u) {
        if (phase == 0u) { kKey = built; }
        else if (phase == 1u) { kTie = built; }
        else if (phase == 2u) { pKey = built; }
        else { pTie = built; }
      }
    }
  }
  // The draw over kept tokens in index order, a contiguous chunk per invocation.
  let chunk = (V + 255u) / 256u;
  let chunkStart = min(local * chunk, V);
  let chunkEnd = min(chunkStart + chunk, V);
  var chunkSum = 0.0;
  var lastKept = 0u;
  for (var j = chunkStart; j < chunkEnd; j++) { if (kept(j)) { chunkSum += probability(j); lastKept = j + 1u; } }
  chunkSums[local] = chunkSum;
  workgroupBarrier();
  var prefix = 0.0;
  var total = 0.0;
  // Bounded by the chunks in use (not the constant 256, which a driver may unroll at a large compile cost).
  let chunks = (V + chunk - 1u) / chunk;
  for (var l = 0u; l < chunks; l++) {
    if (l == local) { prefix = total; }
    total += chunkSums[l];
  }
  let threshold = uniforms[params.first + n] * total;
  var drawn = 0xffffffffu;
  var running = prefix;
  for (var j = chunkStart; j < chunkEnd; j++) {
    if (kept(j)) {
      running += probability(j);
      if (running > threshold) { drawn = j; break; }
    }
  }
  // Componentwise minimum of (drawn, complement of last kept + 1): the first drawn token and the last kept one.
  let chosen = reducePairs(local, vec2u(drawn, 0xffffffffu - lastKept), 1u);
  if (local == 0u && w < params.rows) {
    var token = chosen.x;
    let last = 0xffffffffu - chosen.y;
    if (token == 0xffffffffu) { token = select(best, last - 1u, last > 0u); }
    ids[params.first + w] = i32(token);
  }
}`,
};

export function sample(context: KernelContext, logits: KernelTensor, uniforms: KernelTensor, ids: KernelTensor, options: SamplingKernelOptions): void {
  checkType(logits, 'f32', 'sample logits');
  checkType(uniforms, 'f32', 'sample uniforms');
  checkType(ids, 'i32', 'sample ids');
  const rows = ids.size;
  if (rows === 0) return;
  checkSize(uniforms, rows, 'sample uniforms');
  const vocabulary = rowsOf(logits.size, rows, 'sample logits');
  if (vocabulary === 0) throw new Error('webgpu device: sample over an empty vocabulary');
  if (!Number.isInteger(options.topK) || options.topK < 0) throw new Error(`webgpu device: sample topK ${options.topK}`);
  for (const [first, count, binding, shift] of rowWindows(context, logits, rows, vocabulary, 'sample logits')) {
    const params = new Uniforms().u32(count).u32(vocabulary).f32(options.temperature).u32(options.topK).f32(options.topP).u32(first).u32(shift);
    context.dispatch(program, [binding, uniforms, ids], params, count);
  }
}

// matmul: out (batch, M, N) = alpha * op(A) op(B) [+ out], tiled in workgroup memory: a 64 x 64 output tile per
// workgroup of 16 x 16 invocations, each accumulating a 4 x 4 block over K in steps of 16.
import type { MatmulOptions } from '@lsp/core';
import { checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, Uniforms } from './kernel-context';

const tile = 64;

const program: KernelProgram = {
  key: 'matmul/tiled-64x64x16',
  bindings: 'rrw',
  source: `${declareBindings([['a', 'f32', 'r'], ['b', 'f32', 'r'], ['out', 'f32', 'w']],
    'm: u32, n: u32, k: u32, transposeA: u32, transposeB: u32, strideA: u32, strideB: u32, alpha: f32, accumulate: u32')}
// tileA[kk * 64 + i] = op(A)[row0 + i, k0 + kk]; tileB[kk * 64 + j] = op(B)[k0 + kk, col0 + j].
var<workgroup> tileA: array<f32, 1024>;
var<workgroup> tileB: array<f32, 1024>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_id) localId: vec3u, @builtin(local_invocation_index) local: u32) {
  let m = params.m;
  let n = params.n;
  let k = params.k;
  let row0 = workgroup.y * 64u;
  let col0 = workgroup.x * 64u;
  let aBase = workgroup.z * params.strideA;
  let bBase = workgroup.z * params.strideB;
  var sum: array<f32, 16>;
  for (var k0 = 0u; k0 < k; k0 += 16u) {
    for (var e = 0u; e < 4u; e++) {
      let index = local + e * 256u;
      // Each load walks the stored matrix along its contiguous dimension.
      var i: u32; var kk: u32;
      if (params.transposeA == 0u) { i = index / 16u; kk = index % 16u; } else { kk = index / 64u; i = index % 64u; }
      let gi = row0 + i;
      let gk = k0 + kk;
      var value = 0.0;
      if (gi < m && gk < k) {
        if (params.transposeA == 0u) { value = a[aBase + gi * k + gk]; } else { value = a[aBase + gk * m + gi]; }
      }
      tileA[kk * 64u + i] = value;
      var j: u32;
      if (params.transposeB == 0u) { kk = index / 64u; j = index % 64u; } else { j = index / 16u; kk = index % 16u; }
      let gj = col0 + j;
      let gk2 = k0 + kk;
      var other = 0.0;
      if (gj < n && gk2 < k) {
        if (params.transposeB == 0u) { other = b[bBase + gk2 * n + gj]; } else { other = b[bBase + gj * k + gk2]; }
      }
      tileB[kk * 64u + j] = other;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      let av = vec4f(tileA[kk * 64u + localId.y * 4u], tileA[kk * 64u + localId.y * 4u + 1u], tileA[kk * 64u + localId.y * 4u + 2u], tileA[kk * 64u + localId.y * 4u + 3u]);
      let bv = vec4f(tileB[kk * 64u + localId.x * 4u], tileB[kk * 64u + localId.x * 4u + 1u], tileB[kk * 64u + localId.x * 4u + 2u], tileB[kk * 64u + localId.x * 4u + 3u]);
      for (var r = 0u; r < 4u; r++) {
        sum[r * 4u] = fma(av[r], bv.x, sum[r * 4u]);
        sum[r * 4u + 1u] = fma(av[r], bv.y, sum[r * 4u + 1u]);
        sum[r * 4u + 2u] = fma(av[r], bv.z, sum[r * 4u + 2u]);
        sum[r * 4u + 3u] = fma(av[r], bv.w, sum[r * 4u + 3u]);
      }
    }
    workgroupBarrier();
  }
  let outBase = workgroup.z * m * n;
  for (var r = 0u; r < 4u; r++) {
    let gi = row0 + localId.y * 4u + r;
    if (gi >= m) { continue; }
    for (var c = 0u; c < 4u; c++) {
      let gj = col0 + localId.x * 4u + c;
      if (gj >= n) { continue; }
      let o = outBase + gi * n + gj;
      var value = params.alpha * sum[r * 4u + c];
      if (params.accumulate != 0u) { value += out[o]; }
      out[o] = value;
    }
  }
}`,
};

function checkDimension(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0) throw new Error(`webgpu device: matmul ${what} ${value} is not a non-negative integer`);
}

export function matmul(
  context: KernelContext, a: KernelTensor, b: KernelTensor, out: KernelTensor, m: number, n: number, k: number, options: MatmulOptions = {},
): void {
  for (const [tensor, name] of [[a, 'A'], [b, 'B'], [out, 'out']] as const) checkType(tensor, 'f32', `matmul ${name}`);
  const batch = options.batch ?? 1;
  for (const [value, what] of [[m, 'M'], [n, 'N'], [k, 'K'], [batch, 'batch']] as const) checkDimension(value, what);
  const bCount = options.broadcastB ? 1 : batch;
  if (a.size !== batch * m * k || b.size !== bCount * k * n || out.size !== batch * m * n) {
    throw new Error(`webgpu device: matmul sizes: A ${a.size}, B ${b.size}, out ${out.size} do not fit batch ${batch}, M ${m}, N ${n}, K ${k}`);
  }
  if (context.sameMemory(out, a) || context.sameMemory(out, b)) throw new Error('webgpu device: matmul output aliases an input');
  if (batch === 0 || m === 0 || n === 0) return;
  if (batch > context.maxWorkgroupsPerDimension) throw new Error(`webgpu device: matmul batch ${batch} exceeds ${context.maxWorkgroupsPerDimension}`);
  const uniforms = new Uniforms()
    .u32(m).u32(n).u32(k).u32(options.transposeA ? 1 : 0).u32(options.transposeB ? 1 : 0)
    .u32(m * k).u32(options.broadcastB ? 0 : k * n).f32(options.alpha ?? 1).u32(options.accumulate ? 1 : 0);
  context.dispatch(program, [a, b, out], uniforms, [Math.ceil(n / tile), Math.ceil(m / tile), batch]);
}

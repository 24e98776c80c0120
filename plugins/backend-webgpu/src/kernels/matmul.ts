// matmul: out (batch, M, N) = alpha * op(A) op(B) [+ out], tiled in workgroup memory: a 64 x 64 output tile per
// workgroup of 16 x 16 invocations, each accumulating a 4 x 4 block over K in steps of 16.
import type { MatmulOptions } from '@lsp/core';
import { checkType, declareBindings, fitsBinding, type KernelBinding, type KernelContext, type KernelProgram, type KernelTensor, Uniforms, windowElements, windowOf } from './kernel-context';

const tile = 64;

const program: KernelProgram = {
  key: 'matmul/tiled-64x64x16',
  bindings: 'rrw',
  source: `${declareBindings([['a', 'f32', 'r'], ['b', 'f32', 'r'], ['out', 'f32', 'w']],
    'm: u32, n: u32, k: u32, transposeA: u32, transposeB: u32, lda: u32, ldb: u32, ldo: u32, strideA: u32, strideB: u32, strideOut: u32, alpha: f32, accumulate: u32, shiftA: u32, shiftB: u32, shiftOut: u32')}
// op(A)[i, kk] is a[shiftA + i * lda + kk] (or a[shiftA + kk * lda + i] transposed), op(B)[kk, j] likewise, and
// out[i, j] is out[shiftOut + i * ldo + j]: a dispatch may cover a block of a larger product through windows.
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
  let aBase = params.shiftA + workgroup.z * params.strideA;
  let bBase = params.shiftB + workgroup.z * params.strideB;
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
        if (params.transposeA == 0u) { value = a[aBase + gi * params.lda + gk]; } else { value = a[aBase + gk * params.lda + gi]; }
      }
      tileA[kk * 64u + i] = value;
      var j: u32;
      if (params.transposeB == 0u) { kk = index / 64u; j = index % 64u; } else { j = index / 16u; kk = index % 16u; }
      let gj = col0 + j;
      let gk2 = k0 + kk;
      var other = 0.0;
      if (gj < n && gk2 < k) {
        if (params.transposeB == 0u) { other = b[bBase + gk2 * params.ldb + gj]; } else { other = b[bBase + gj * params.ldb + gk2]; }
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
  let outBase = params.shiftOut + workgroup.z * params.strideOut;
  for (var r = 0u; r < 4u; r++) {
    let gi = row0 + localId.y * 4u + r;
    if (gi >= m) { continue; }
    for (var c = 0u; c < 4u; c++) {
      let gj = col0 + localId.x * 4u + c;
      if (gj >= n) { continue; }
      let o = outBase + gi * params.ldo + gj;
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
  const transposeA = options.transposeA ? 1 : 0;
  const transposeB = options.transposeB ? 1 : 0;
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  const alpha = options.alpha ?? 1;
  if (fitsBinding(context, a) && fitsBinding(context, b) && fitsBinding(context, out)) {
    if (batch > context.maxWorkgroupsPerDimension) throw new Error(`webgpu device: matmul batch ${batch} exceeds ${context.maxWorkgroupsPerDimension}`);
    const uniforms = new Uniforms()
      .u32(m).u32(n).u32(k).u32(transposeA).u32(transposeB).u32(lda).u32(ldb).u32(n)
      .u32(m * k).u32(options.broadcastB ? 0 : k * n).u32(m * n).f32(alpha).u32(options.accumulate ? 1 : 0).u32(0).u32(0).u32(0);
    context.dispatch(program, [a, b, out], uniforms, [Math.ceil(n / tile), Math.ceil(m / tile), batch]);
    return;
  }
  // An operand over the binding limit: blocks of rows and columns of the product (and of K, accumulated in order)
  // such that the stored span of every large operand's block fits a window; one dispatch per block and batch entry.
  const [mBlock, nBlock, kBlock] = matmulBlocks(context, [a, b, out].map((tensor) => !fitsBinding(context, tensor)) as [boolean, boolean, boolean], m, n, k, transposeA === 1, transposeB === 1);
  const bind = (tensor: KernelTensor, offset: number, span: number): { binding: KernelBinding; shift: number } =>
    fitsBinding(context, tensor) ? { binding: tensor, shift: offset } : windowOf(context, tensor, offset, span);
  for (let z = 0; z < batch; z++) {
    const zB = options.broadcastB ? 0 : z;
    for (let i0 = 0; i0 < m; i0 += mBlock) {
      const rows = Math.min(mBlock, m - i0);
      for (let j0 = 0; j0 < n; j0 += nBlock) {
        const columns = Math.min(nBlock, n - j0);
        for (let k0 = 0; k0 === 0 || k0 < k; k0 += kBlock) {
          const depth = Math.min(kBlock, k - k0);
          const left = bind(a, z * m * k + (transposeA ? k0 * m + i0 : i0 * k + k0), transposeA ? span(depth, rows, m) : span(rows, depth, k));
          const right = bind(b, zB * k * n + (transposeB ? j0 * k + k0 : k0 * n + j0), transposeB ? span(columns, depth, k) : span(depth, columns, n));
          const target = bind(out, z * m * n + i0 * n + j0, span(rows, columns, n));
          const uniforms = new Uniforms()
            .u32(rows).u32(columns).u32(depth).u32(transposeA).u32(transposeB).u32(lda).u32(ldb).u32(n)
            .u32(0).u32(0).u32(0).f32(alpha).u32(options.accumulate || k0 > 0 ? 1 : 0).u32(left.shift).u32(right.shift).u32(target.shift);
          context.dispatch(program, [left.binding, right.binding, target.binding], uniforms, [Math.ceil(columns / tile), Math.ceil(rows / tile), 1]);
          if (kBlock === 0) break;
        }
      }
    }
  }
}

/** Elements a block of `outer` stored rows of `inner` elements spans in a matrix with rows of `leading`. */
function span(outer: number, inner: number, leading: number): number {
  return outer === 0 || inner === 0 ? 0 : (outer - 1) * leading + inner;
}

/**
 * Block sizes (M, N, K) for a product whose operands flagged in `large` are bound by windows. Each large operand's
 * block spans (outer - 1) * leading + inner stored elements; its outer dimension shrinks first (M and N blocks stay
 * multiples of the 64 tile where they can), its inner one only when one stored row is too long.
 */
function matmulBlocks(context: KernelContext, large: [boolean, boolean, boolean], m: number, n: number, k: number, transposeA: boolean, transposeB: boolean): [number, number, number] {
  const room = windowElements(context);
  const blocks = { m, n, k };
  type Dimension = keyof typeof blocks;
  // For A, B and out: the dimension along stored rows (outer), the one within a row (inner), and the row length.
  const layouts: [Dimension, Dimension, number][] = [
    transposeA ? ['k', 'm', m] : ['m', 'k', k],
    transposeB ? ['n', 'k', k] : ['k', 'n', n],
    ['m', 'n', n],
  ];
  const rounded = (value: number, dimension: Dimension) => (dimension !== 'k' && value > tile ? Math.floor(value / tile) * tile : value);
  for (let changed = true; changed;) {
    changed = false;
    layouts.forEach(([outer, inner, leading], index) => {
      if (!large[index] || span(blocks[outer], blocks[inner], leading) <= room) return;
      if (blocks[inner] > room) {
        blocks[inner] = rounded(room, inner);
        blocks[outer] = 1;
      } else {
        blocks[outer] = rounded(Math.max(1, Math.floor((room - blocks[inner]) / leading) + 1), outer);
      }
      changed = true;
    });
  }
  return [Math.max(1, blocks.m), Math.max(1, blocks.n), blocks.k];
}

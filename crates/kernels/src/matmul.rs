// Packed, register-blocked f32 matmul in the BLIS style: B is packed into KC x NR panels, A into MR x KC panels
// (with alpha folded in), and an MR x NR micro-kernel keeps its accumulators in SIMD registers.
use crate::math::{min, round_up};
use core::arch::wasm32::*;

/// Rows of the micro-kernel.
pub const MR: usize = 6;
/// Floats per depth step of a packed A panel: MR vectors, padded to a power of two so that the steps stay
/// aligned for the pointer masks.
const AS: usize = 4 * if MR <= 4 { 4 } else { 8 };
/// SIMD vectors per micro-kernel row; NR = 4 * NV columns.
const NV: usize = 2;
pub const NR: usize = NV * 4;
/// Depth of one packed block: KC x NR floats of B (16 KiB) stay in L1 while the A panels stream from L2.
/// MR = 6, NR = 8: JavaScriptCore uses the 16 xmm registers only and wasm has no FMA, so a tile needs its
/// accumulators, the B vectors, one A vector and one product: 12 + 2 + 1 + 1. A 4 x 12 tile (17 registers)
/// spilled four accumulators to the stack and ran 1.5x slower than 4 x 8 (Bun 1.4.5); 6 x 8 runs about 1.1x
/// 4 x 8 once A is stored as whole vectors (with splat loads it spilled).
const KC: usize = 512;
/// Rows of A packed at once (MC / MR panels of KC steps, 512 KiB).
const MC: usize = MR * (256 / AS);
/// Columns of B packed at once (KC x NC floats, about 2 MiB, in L2); a whole number of panels.
const NC: usize = NR * (1024 / NR);

/// Floats of scratch one worker needs for the packing buffers.
pub const SCRATCH_FLOATS: usize = KC * NC + (MC / MR) * KC * AS + 32;

/// A strided matrix view: element (i, j) lives at ptr[i * row_stride + j * column_stride].
#[derive(Clone, Copy)]
pub struct View {
    pub ptr: *const f32,
    pub row_stride: usize,
    pub column_stride: usize,
}

/// One matrix product: c (m, n, row stride ldc) = alpha * a (m, k) b (k, n) + (accumulate ? c : 0).
pub struct Product {
    pub a: View,
    pub b: View,
    pub c: *mut f32,
    pub ldc: usize,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub alpha: f32,
    pub accumulate: bool,
}

/// Computes rows [row_begin, row_end) and columns [column_begin, column_end) of a product. Every output element
/// is summed in the same order whatever the ranges are, so any split across workers gives identical results.
pub unsafe fn gemm(p: &Product, rows: (usize, usize), columns: (usize, usize), scratch: *mut f32, shared_b: Option<*const f32>) {
    let (row_begin, row_end) = rows;
    let (column_begin, column_end) = columns;
    if row_begin >= row_end || column_begin >= column_end {
        return;
    }
    if p.k == 0 {
        if !p.accumulate {
            for i in row_begin..row_end {
                for j in column_begin..column_end {
                    *p.c.add(i * p.ldc + j) = 0.0;
                }
            }
        }
        return;
    }
    let packed_b = aligned_128(scratch);
    let packed_a = packed_b.add(KC * NC);
    let mut jc = column_begin;
    while jc < column_end {
        let nc = min(NC, column_end - jc);
        let mut pc = 0;
        while pc < p.k {
            let kc = min(KC, p.k - pc);
            let packed_b = match shared_b {
                Some(base) => base.add(pc * round_up(p.n, NR) + jc * kc),
                None => {
                    pack_b(p.b, pc, kc, jc, nc, packed_b);
                    packed_b as *const f32
                }
            };
            let load_c = pc > 0 || p.accumulate;
            let mut ic = row_begin;
            while ic < row_end {
                let mc = min(MC, row_end - ic);
                pack_a(p.a, ic, mc, pc, kc, p.alpha, packed_a);
                let mut jr = 0;
                while jr < nc {
                    let nr = min(NR, nc - jr);
                    let mut ir = 0;
                    while ir < mc {
                        let mr = min(MR, mc - ir);
                        let c = p.c.add((ic + ir) * p.ldc + jc + jr);
                        micro_kernel(kc, packed_a.add(ir / MR * kc * AS), packed_b.add(jr * kc), c, p.ldc, mr, nr, load_c);
                        ir += MR;
                    }
                    jr += NR;
                }
                ic += mc;
            }
            pc += kc;
        }
        jc += nc;
    }
}

/// The first 128-byte boundary in a buffer (the worker scratch, or a shared packed B buffer of
/// round_up(n, NR) * k + 32 floats, wasm-device.ts): every B panel step (NR floats) and A panel step (AS floats)
/// from there is aligned.
pub fn aligned_128(buffer: *mut f32) -> *mut f32 {
    (((buffer as usize) + 127) & !127) as *mut f32
}

/// Packs panels [begin, end) of all of B into the shared buffer: panel (pc block, column panel) holds kc x NR
/// floats at pc * round_up(n, NR) + column * kc, the layout `gemm` reads with `shared_b`.
pub unsafe fn pack_shared_b(b: View, n: usize, k: usize, out: *mut f32, begin: usize, end: usize) {
    let panels = round_up(n, NR) / NR;
    for index in begin..end {
        let (block, panel) = (index / panels, index % panels);
        let pc = block * KC;
        let kc = min(KC, k - pc);
        let column = panel * NR;
        pack_b(b, pc, kc, column, min(NR, n - column), out.add(pc * round_up(n, NR) + column * kc));
    }
}

/// Panels `pack_shared_b` splits: depth blocks times column panels.
pub fn shared_b_panels(n: usize, k: usize) -> usize {
    ((k + KC - 1) / KC) * (round_up(n, NR) / NR)
}

/// The four lanes of v, each spread over a whole vector.
#[inline(always)]
fn spread(v: v128) -> [v128; 4] {
    [i32x4_shuffle::<0, 0, 0, 0>(v, v), i32x4_shuffle::<1, 1, 1, 1>(v, v), i32x4_shuffle::<2, 2, 2, 2>(v, v), i32x4_shuffle::<3, 3, 3, 3>(v, v)]
}

/// Packs rows [row, row + mc) and depth [depth, depth + kc) of A, times alpha, as MR-row panels laid out
/// depth-major (MR values per depth step), each value stored four times (a whole vector: the micro-kernel
/// then loads it at an offset in one instruction, where JavaScriptCore splits an offset load32_splat into a
/// scalar load and a shuffle), zero-padded to a whole panel.
unsafe fn pack_a(a: View, row: usize, mc: usize, depth: usize, kc: usize, alpha: f32, out: *mut f32) {
    let mut panel = 0;
    while panel < mc {
        let rows = min(MR, mc - panel);
        let dst = out.add(panel / MR * kc * AS);
        if a.row_stride == 1 && rows == MR && MR == 6 {
            // A transposed in storage: the MR values of one depth step are contiguous.
            let scale = f32x4_splat(alpha);
            for p in 0..kc {
                let src = a.ptr.add((row + panel) + (depth + p) * a.column_stride);
                let mut low = v128_load(src as *const v128);
                let mut high = v128_load64_zero(src.add(4) as *const u64);
                if alpha != 1.0 {
                    low = f32x4_mul(low, scale);
                    high = f32x4_mul(high, scale);
                }
                let d = dst.add(p * AS);
                let (low, high) = (spread(low), spread(high));
                for i in 0..MR {
                    v128_store(d.add(4 * i) as *mut v128, if i < 4 { low[i] } else { high[i - 4] });
                }
            }
        } else if a.column_stride == 1 && rows == MR {
            // A in row-major storage: four depth steps of each row in one load, each value then spread over a
            // whole vector by a shuffle (one scalar load and a splat each cost more under JavaScriptCore).
            let scale = f32x4_splat(alpha);
            let mut p = 0;
            while p + 4 <= kc {
                for i in 0..MR {
                    let mut v = v128_load(a.ptr.add((row + panel + i) * a.row_stride + depth + p) as *const v128);
                    if alpha != 1.0 {
                        v = f32x4_mul(v, scale);
                    }
                    let d = dst.add(p * AS + i * 4);
                    for (step, lane) in spread(v).into_iter().enumerate() {
                        v128_store(d.add(step * AS) as *mut v128, lane);
                    }
                }
                p += 4;
            }
            while p < kc {
                for i in 0..MR {
                    let value = *a.ptr.add((row + panel + i) * a.row_stride + depth + p);
                    v128_store(dst.add(p * AS + i * 4) as *mut v128, f32x4_splat(if alpha == 1.0 { value } else { alpha * value }));
                }
                p += 1;
            }
        } else {
            for p in 0..kc {
                for i in 0..MR {
                    let value = if i < rows {
                        let value = *a.ptr.add((row + panel + i) * a.row_stride + (depth + p) * a.column_stride);
                        if alpha == 1.0 { value } else { alpha * value }
                    } else {
                        0.0
                    };
                    v128_store(dst.add(p * AS + i * 4) as *mut v128, f32x4_splat(value));
                }
            }
        }
        panel += MR;
    }
}

/// Packs depth [depth, depth + kc) and columns [column, column + nc) of B as NR-column panels laid out
/// depth-major (NR values per depth step), zero-padded to a whole panel.
unsafe fn pack_b(b: View, depth: usize, kc: usize, column: usize, nc: usize, out: *mut f32) {
    let mut panel = 0;
    while panel < nc {
        let columns = min(NR, nc - panel);
        let dst = out.add(panel * kc);
        if b.column_stride == 1 && columns == NR {
            for p in 0..kc {
                let src = b.ptr.add((depth + p) * b.row_stride + column + panel);
                for v in 0..NV {
                    v128_store(dst.add(p * NR + v * 4) as *mut v128, v128_load(src.add(v * 4) as *const v128));
                }
            }
        } else if b.row_stride == 1 && columns == NR {
            // B transposed in storage (linear-layer weights): each column is contiguous along the depth, so
            // four columns are read together and transposed in registers.
            for group in 0..NV {
                let base = b.ptr.add(depth + (column + panel + group * 4) * b.column_stride);
                let s = b.column_stride;
                let mut p = 0;
                while p + 4 <= kc {
                    let r0 = v128_load(base.add(p) as *const v128);
                    let r1 = v128_load(base.add(s + p) as *const v128);
                    let r2 = v128_load(base.add(2 * s + p) as *const v128);
                    let r3 = v128_load(base.add(3 * s + p) as *const v128);
                    let t0 = i32x4_shuffle::<0, 4, 1, 5>(r0, r1);
                    let t1 = i32x4_shuffle::<2, 6, 3, 7>(r0, r1);
                    let t2 = i32x4_shuffle::<0, 4, 1, 5>(r2, r3);
                    let t3 = i32x4_shuffle::<2, 6, 3, 7>(r2, r3);
                    let d = dst.add(p * NR + group * 4);
                    v128_store(d as *mut v128, i64x2_shuffle::<0, 2>(t0, t2));
                    v128_store(d.add(NR) as *mut v128, i64x2_shuffle::<1, 3>(t0, t2));
                    v128_store(d.add(2 * NR) as *mut v128, i64x2_shuffle::<0, 2>(t1, t3));
                    v128_store(d.add(3 * NR) as *mut v128, i64x2_shuffle::<1, 3>(t1, t3));
                    p += 4;
                }
                while p < kc {
                    for j in 0..4 {
                        *dst.add(p * NR + group * 4 + j) = *base.add(j * s + p);
                    }
                    p += 1;
                }
            }
        } else {
            for j in 0..NR {
                if j < columns {
                    let src = b.ptr.add(depth * b.row_stride + (column + panel + j) * b.column_stride);
                    for p in 0..kc {
                        *dst.add(p * NR + j) = *src.add(p * b.row_stride);
                    }
                } else {
                    for p in 0..kc {
                        *dst.add(p * NR + j) = 0.0;
                    }
                }
            }
        }
        panel += NR;
    }
}

/// c (mr x nr, row stride ldc) = (load_c ? c : 0) + packed_a panel x packed_b panel over kc depth steps.
#[inline(always)]
unsafe fn micro_kernel(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, mr: usize, nr: usize, load_c: bool) {
    let mut acc = [[f32x4_splat(0.0); NV]; MR];
    let mut a = a;
    let mut b = b;
    for _ in 0..kc {
        // The masks tell LLVM the panels' alignment, so the constant offsets become load offsets rather than
        // separate additions (JavaScriptCore folds load offsets into the address).
        let aligned_b = ((b as usize) & !31) as *const f32;
        let aligned_a = ((a as usize) & !(AS * 4 - 1)) as *const f32;
        let mut bv = [f32x4_splat(0.0); NV];
        for v in 0..NV {
            bv[v] = v128_load(aligned_b.add(v * 4) as *const v128);
        }
        for i in 0..MR {
            let av = v128_load(aligned_a.add(i * 4) as *const v128);
            for v in 0..NV {
                acc[i][v] = f32x4_add(acc[i][v], f32x4_mul(av, bv[v]));
            }
        }
        a = a.add(AS);
        b = b.add(NR);
    }
    if mr == MR && nr == NR {
        for i in 0..MR {
            for v in 0..NV {
                let dst = c.add(i * ldc + v * 4) as *mut v128;
                let value = if load_c { f32x4_add(v128_load(dst), acc[i][v]) } else { acc[i][v] };
                v128_store(dst, value);
            }
        }
    } else {
        let mut tile = [0.0f32; MR * NR];
        for i in 0..MR {
            for v in 0..NV {
                v128_store(tile.as_mut_ptr().add(i * NR + v * 4) as *mut v128, acc[i][v]);
            }
        }
        for i in 0..mr {
            for j in 0..nr {
                let dst = c.add(i * ldc + j);
                *dst = if load_c { *dst + tile[i * NR + j] } else { tile[i * NR + j] };
            }
        }
    }
}

/// Below this many rows a product with B stored transposed (N, K) skips packing: both operands are already
/// contiguous along the depth, and packing B would cost as much as the product itself (decoding steps).
pub const DOT_ROWS: usize = 16;

/// Rows [row_begin, row_end) x columns [column_begin, column_end) of c = alpha * a (m, k) b^T + (accumulate ? c : 0)
/// with a stored (M, K) and b stored (N, K), as 3 x 3 tiles of dot products along the depth (9 accumulators,
/// 3 B vectors, one A vector and a product: 4 x 3 needed 17 xmm registers and spilled).
pub unsafe fn gemm_dot(p: &Product, rows: (usize, usize), columns: (usize, usize)) {
    let (row_begin, row_end) = rows;
    let (column_begin, column_end) = columns;
    let mut i = row_begin;
    while i < row_end {
        let r = min(3, row_end - i);
        let mut j = column_begin;
        while j < column_end {
            let c = min(3, column_end - j);
            match (r, c) {
                (3, 3) => dot_tile::<3, 3>(p, i, j),
                (3, 2) => dot_tile::<3, 2>(p, i, j),
                (3, 1) => dot_tile::<3, 1>(p, i, j),
                (2, 3) => dot_tile::<2, 3>(p, i, j),
                (2, 2) => dot_tile::<2, 2>(p, i, j),
                (2, 1) => dot_tile::<2, 1>(p, i, j),
                (1, 3) => dot_tile::<1, 3>(p, i, j),
                (1, 2) => dot_tile::<1, 2>(p, i, j),
                _ => dot_tile::<1, 1>(p, i, j),
            }
            j += c;
        }
        i += r;
    }
}

/// An R x C tile of dot products. Each element's sum has the same order whatever tile it falls in: four lane
/// sums over the depth in steps of 4, folded, then the leftover depth in order.
#[inline(always)]
unsafe fn dot_tile<const R: usize, const C: usize>(p: &Product, row: usize, column: usize) {
    let k = p.k;
    let mut acc = [[f32x4_splat(0.0); C]; R];
    let mut a_rows = [p.a.ptr; R];
    let mut b_rows = [p.b.ptr; C];
    for i in 0..R {
        a_rows[i] = p.a.ptr.add((row + i) * p.a.row_stride);
    }
    for j in 0..C {
        b_rows[j] = p.b.ptr.add((column + j) * p.b.column_stride);
    }
    let mut depth = 0;
    while depth + 4 <= k {
        let mut bv = [f32x4_splat(0.0); C];
        for j in 0..C {
            bv[j] = v128_load(b_rows[j].add(depth) as *const v128);
        }
        for i in 0..R {
            let av = v128_load(a_rows[i].add(depth) as *const v128);
            for j in 0..C {
                acc[i][j] = f32x4_add(acc[i][j], f32x4_mul(av, bv[j]));
            }
        }
        depth += 4;
    }
    for i in 0..R {
        for j in 0..C {
            let mut sum = crate::math::sum4(acc[i][j]);
            for d in depth..k {
                sum += *a_rows[i].add(d) * *b_rows[j].add(d);
            }
            let dst = p.c.add((row + i) * p.ldc + column + j);
            *dst = if p.accumulate { p.alpha * sum + *dst } else { p.alpha * sum };
        }
    }
}

// exp, ln and sqrt in f32 (no_std has no libm): Cephes-style polynomials, within a few ulp, SIMD and scalar.
use core::arch::wasm32::*;

const LOG2_E: f32 = 1.442_695_f32;
const LN2_HIGH: f32 = 0.693_359_375;
const LN2_LOW: f32 = -2.121_944_4e-4;
// Below this exp underflows to 0; above the upper bound it overflows to infinity.
const EXP_LOWER: f32 = -87.336_54;
const EXP_UPPER: f32 = 88.722_84;

/// exp4's constants, each a whole vector in memory. JavaScriptCore builds every v128.const anew where it is
/// used, from general registers (several instructions each), while a vector load is one instruction or an
/// operand; exp4 uses 15 of them, which cost more than its arithmetic.
#[repr(C, align(16))]
struct ExpConstants {
    upper: [f32; 4],
    lower: [f32; 4],
    log2_e: [f32; 4],
    ln2_high: [f32; 4],
    ln2_low: [f32; 4],
    polynomial: [[f32; 4]; 6],
    one: [f32; 4],
    shift: [f32; 4],
    zero: [f32; 4],
    infinity: [f32; 4],
    bias: [i32; 4],
}

static EXP_CONSTANTS: ExpConstants = ExpConstants {
    upper: [EXP_UPPER; 4],
    lower: [EXP_LOWER; 4],
    log2_e: [LOG2_E; 4],
    ln2_high: [LN2_HIGH; 4],
    ln2_low: [LN2_LOW; 4],
    polynomial: [[1.987_569_1e-4; 4], [1.398_199_9e-3; 4], [8.333_452e-3; 4], [4.166_579_6e-2; 4], [1.666_666_5e-1; 4], [0.5; 4]],
    one: [1.0; 4],
    // 1.5 * 2^23, whose bits are 0x4b40_0000.
    shift: [12_582_912.0; 4],
    zero: [0.0; 4],
    infinity: [f32::INFINITY; 4],
    bias: [127; 4],
};

/// Read through a volatile load, so that LLVM cannot fold the loads back into constants.
static EXP_CONSTANTS_ADDRESS: &ExpConstants = &EXP_CONSTANTS;

#[inline(always)]
fn load<T>(lanes: &[T; 4]) -> v128 {
    unsafe { v128_load(lanes.as_ptr() as *const v128) }
}

/// The smaller of two sizes.
#[inline(always)]
pub fn min(a: usize, b: usize) -> usize {
    if a < b { a } else { b }
}

/// x rounded up to a multiple of m.
#[inline(always)]
pub fn round_up(x: usize, m: usize) -> usize {
    (x + m - 1) / m * m
}

/// e^x on four lanes; NaN stays NaN, very negative inputs give 0.
#[inline(always)]
pub fn exp4(x: v128) -> v128 {
    let c = unsafe { core::ptr::read_volatile(&EXP_CONSTANTS_ADDRESS) };
    let (upper, lower) = (load(&c.upper), load(&c.lower));
    // pmin/pmax are one instruction each on x86, where min/max need a NaN- and zero-sign-fixing sequence;
    // with the operands in this order a NaN x still comes through, and every other x gives the same result.
    let clamped = f32x4_pmax(f32x4_pmin(x, upper), lower);
    let n = f32x4_nearest(f32x4_mul(clamped, load(&c.log2_e)));
    let r = f32x4_sub(f32x4_sub(clamped, f32x4_mul(n, load(&c.ln2_high))), f32x4_mul(n, load(&c.ln2_low)));
    let mut p = load(&c.polynomial[0]);
    for coefficient in &c.polynomial[1..] {
        p = f32x4_add(f32x4_mul(p, r), load(coefficient));
    }
    let r2 = f32x4_mul(r, r);
    let y = f32x4_add(f32x4_add(f32x4_mul(p, r2), r), load(&c.one));
    // 2^n split in two factors so that n = 128 (x near the upper bound) does not overflow the exponent field.
    // n is a whole number in [-127, 128]: adding 1.5 * 2^23 puts it in the low mantissa bits, which is exact
    // and cheaper than the saturating conversion.
    let shift = load(&c.shift);
    let integer = i32x4_sub(f32x4_add(n, shift), shift);
    let half = i32x4_shr(integer, 1);
    let rest = i32x4_sub(integer, half);
    let bias = load(&c.bias);
    let scale_a = i32x4_shl(i32x4_add(half, bias), 23);
    let scale_b = i32x4_shl(i32x4_add(rest, bias), 23);
    let result = f32x4_mul(f32x4_mul(y, scale_a), scale_b);
    let underflow = f32x4_lt(x, lower);
    let overflow = f32x4_gt(x, upper);
    let result = v128_bitselect(load(&c.zero), result, underflow);
    v128_bitselect(load(&c.infinity), result, overflow)
}

#[inline(always)]
pub fn exp(x: f32) -> f32 {
    f32x4_extract_lane::<0>(exp4(f32x4_splat(x)))
}

#[inline(always)]
pub fn sqrt(x: f32) -> f32 {
    f32x4_extract_lane::<0>(f32x4_sqrt(f32x4_splat(x)))
}

/// Natural logarithm; ln(0) = -inf, ln of a negative number or NaN is NaN.
pub fn ln(x: f32) -> f32 {
    if x.is_nan() || x < 0.0 {
        return f32::NAN;
    }
    if x == 0.0 {
        return f32::NEG_INFINITY;
    }
    if x == f32::INFINITY {
        return x;
    }
    let mut bits = x.to_bits();
    let mut exponent: i32 = 0;
    if bits < 0x0080_0000 {
        // Subnormal: scale into the normal range first.
        bits = (x * 16_777_216.0).to_bits();
        exponent -= 24;
    }
    exponent += ((bits >> 23) as i32) - 126;
    // Mantissa in [0.5, 1).
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
    if m < core::f32::consts::FRAC_1_SQRT_2 {
        exponent -= 1;
        m = m + m - 1.0;
    } else {
        m -= 1.0;
    }
    let z = m * m;
    let mut y = 7.037_683_6e-2_f32;
    y = y * m - 1.151_461_0e-1;
    y = y * m + 1.167_699_9e-1;
    y = y * m - 1.242_014_1e-1;
    y = y * m + 1.424_932_3e-1;
    y = y * m - 1.666_805_8e-1;
    y = y * m + 2.000_071_4e-1;
    y = y * m - 2.499_999_4e-1;
    y = y * m + 3.333_333_1e-1;
    y = y * m * z;
    let e = exponent as f32;
    y += -2.121_944_4e-4 * e;
    y += -0.5 * z;
    m + y + 0.693_359_375 * e
}

/// Sum of the four lanes, in a fixed order.
#[inline(always)]
pub fn sum4(v: v128) -> f32 {
    (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v)) + (f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v))
}

/// Largest of the four lanes (NaN if any lane is NaN).
#[inline(always)]
pub fn max4(v: v128) -> f32 {
    let a = f32x4_max(v, i32x4_shuffle::<2, 3, 0, 1>(v, v));
    let b = f32x4_max(a, i32x4_shuffle::<1, 0, 3, 2>(a, a));
    f32x4_extract_lane::<0>(b)
}

/// Dot product of two f32 runs of length n.
#[inline(always)]
pub unsafe fn dot(a: *const f32, b: *const f32, n: usize) -> f32 {
    let mut acc0 = f32x4_splat(0.0);
    let mut acc1 = f32x4_splat(0.0);
    let mut i = 0;
    while i + 8 <= n {
        acc0 = f32x4_add(acc0, f32x4_mul(v128_load(a.add(i) as *const v128), v128_load(b.add(i) as *const v128)));
        acc1 = f32x4_add(acc1, f32x4_mul(v128_load(a.add(i + 4) as *const v128), v128_load(b.add(i + 4) as *const v128)));
        i += 8;
    }
    if i + 4 <= n {
        acc0 = f32x4_add(acc0, f32x4_mul(v128_load(a.add(i) as *const v128), v128_load(b.add(i) as *const v128)));
        i += 4;
    }
    let mut sum = sum4(f32x4_add(acc0, acc1));
    while i < n {
        sum += *a.add(i) * *b.add(i);
        i += 1;
    }
    sum
}

/// The four floats at offset i of each of four rows.
#[inline(always)]
unsafe fn load4(rows: [*const f32; 4], i: usize) -> [v128; 4] {
    [
        v128_load(rows[0].add(i) as *const v128),
        v128_load(rows[1].add(i) as *const v128),
        v128_load(rows[2].add(i) as *const v128),
        v128_load(rows[3].add(i) as *const v128),
    ]
}

/// Four dot products of each of the R rows x[r] with y[0..4] (each of length n), reduced together: lane j of
/// result r is x[r] . y[j]. The y rows are loaded once for all R rows; each result is computed by the same
/// operations whatever R is.
#[inline(always)]
pub unsafe fn dot4<const R: usize>(x: [*const f32; R], y: [*const f32; 4], n: usize) -> [v128; R] {
    let mut acc = [[f32x4_splat(0.0); 4]; R];
    let mut i = 0;
    while i + 4 <= n {
        let yv = load4(y, i);
        for r in 0..R {
            let xv = v128_load(x[r].add(i) as *const v128);
            for j in 0..4 {
                acc[r][j] = f32x4_add(acc[r][j], f32x4_mul(xv, yv[j]));
            }
        }
        i += 4;
    }
    let mut result = [f32x4_splat(0.0); R];
    for r in 0..R {
        // Transpose so that lane j of each row belongs to product j, then add the rows: (l0 + l1) + (l2 + l3).
        let acc = acc[r];
        let t0 = i32x4_shuffle::<0, 4, 1, 5>(acc[0], acc[1]);
        let t1 = i32x4_shuffle::<2, 6, 3, 7>(acc[0], acc[1]);
        let t2 = i32x4_shuffle::<0, 4, 1, 5>(acc[2], acc[3]);
        let t3 = i32x4_shuffle::<2, 6, 3, 7>(acc[2], acc[3]);
        let r0 = i64x2_shuffle::<0, 2>(t0, t2);
        let r1 = i64x2_shuffle::<1, 3>(t0, t2);
        let r2 = i64x2_shuffle::<0, 2>(t1, t3);
        let r3 = i64x2_shuffle::<1, 3>(t1, t3);
        let mut sums = f32x4_add(f32x4_add(r0, r1), f32x4_add(r2, r3));
        if i < n {
            let mut tail = [0.0f32; 4];
            for j in 0..4 {
                for d in i..n {
                    tail[j] += *x[r].add(d) * *y[j].add(d);
                }
            }
            sums = f32x4_add(sums, v128_load(tail.as_ptr() as *const v128));
        }
        result[r] = sums;
    }
    result
}

/// y[r][0..n] += sum over j of lane j of alpha[r] * x[j][0..n], in the order j = 0..4, for each of the R rows
/// (one pass over the x rows for all of them).
#[inline(always)]
pub unsafe fn axpy4<const R: usize>(alpha: [v128; R], x: [*const f32; 4], y: [*mut f32; R], n: usize) {
    let mut a = [[f32x4_splat(0.0); 4]; R];
    for r in 0..R {
        a[r] = [
            f32x4_splat(f32x4_extract_lane::<0>(alpha[r])),
            f32x4_splat(f32x4_extract_lane::<1>(alpha[r])),
            f32x4_splat(f32x4_extract_lane::<2>(alpha[r])),
            f32x4_splat(f32x4_extract_lane::<3>(alpha[r])),
        ];
    }
    let mut i = 0;
    while i + 4 <= n {
        let xv = load4(x, i);
        for r in 0..R {
            let p = y[r].add(i) as *mut v128;
            let mut v = v128_load(p);
            for j in 0..4 {
                v = f32x4_add(v, f32x4_mul(a[r][j], xv[j]));
            }
            v128_store(p, v);
        }
        i += 4;
    }
    while i < n {
        for r in 0..R {
            let mut v = *y[r].add(i);
            for j in 0..4 {
                v += f32x4_extract_lane::<0>(a[r][j]) * *x[j].add(i);
            }
            *y[r].add(i) = v;
        }
        i += 1;
    }
}

// Elementwise kernels: fill, add (with a repeated row), multiply, scale, row sums, SwiGLU. Callers pass each worker's
// range; within it every element is computed the same way whatever the split.
use crate::math::exp4;
use core::arch::wasm32::*;

#[inline(always)]
unsafe fn load(p: *const f32) -> v128 {
    v128_load(p as *const v128)
}

#[inline(always)]
unsafe fn store(p: *mut f32, v: v128) {
    v128_store(p as *mut v128, v)
}

pub unsafe fn fill(x: *mut f32, count: usize, value: f32) {
    let v = f32x4_splat(value);
    let mut i = 0;
    while i + 4 <= count {
        store(x.add(i), v);
        i += 4;
    }
    while i < count {
        *x.add(i) = value;
        i += 1;
    }
}

/// out[i] = a[i] + b[i] for i < count (out may alias a).
pub unsafe fn add(a: *const f32, b: *const f32, out: *mut f32, count: usize) {
    let mut i = 0;
    while i + 4 <= count {
        store(out.add(i), f32x4_add(load(a.add(i)), load(b.add(i))));
        i += 4;
    }
    while i < count {
        *out.add(i) = *a.add(i) + *b.add(i);
        i += 1;
    }
}

/// out[i] = a[i] * b[i] for i < count (out may alias a).
pub unsafe fn multiply(a: *const f32, b: *const f32, out: *mut f32, count: usize) {
    let mut i = 0;
    while i + 4 <= count {
        store(out.add(i), f32x4_mul(load(a.add(i)), load(b.add(i))));
        i += 4;
    }
    while i < count {
        *out.add(i) = *a.add(i) * *b.add(i);
        i += 1;
    }
}

/// out[i] = x[i] * factor (out may alias x).
pub unsafe fn scale(x: *const f32, out: *mut f32, count: usize, factor: f32) {
    let f = f32x4_splat(factor);
    let mut i = 0;
    while i + 4 <= count {
        store(out.add(i), f32x4_mul(load(x.add(i)), f));
        i += 4;
    }
    while i < count {
        *out.add(i) = *x.add(i) * factor;
        i += 1;
    }
}

/// out[c] += sum over rows of x[r, c] for columns [column_begin, column_end), rows summed in order.
pub unsafe fn sum_rows(x: *const f32, out: *mut f32, rows: usize, columns: usize, column_begin: usize, column_end: usize) {
    let mut c = column_begin;
    while c + 4 <= column_end {
        let mut acc = load(out.add(c));
        for r in 0..rows {
            acc = f32x4_add(acc, load(x.add(r * columns + c)));
        }
        store(out.add(c), acc);
        c += 4;
    }
    while c < column_end {
        let mut acc = *out.add(c);
        for r in 0..rows {
            acc += *x.add(r * columns + c);
        }
        *out.add(c) = acc;
        c += 1;
    }
}

/// sigmoid(x) = 1 / (1 + e^-x) on four lanes.
#[inline(always)]
fn sigmoid4(x: v128) -> v128 {
    f32x4_div(f32x4_splat(1.0), f32x4_add(f32x4_splat(1.0), exp4(f32x4_neg(x))))
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    f32x4_extract_lane::<0>(sigmoid4(f32x4_splat(x)))
}

/// out = silu(gate) * up.
pub unsafe fn swiglu_forward(gate: *const f32, up: *const f32, out: *mut f32, count: usize) {
    let mut i = 0;
    while i + 4 <= count {
        let g = load(gate.add(i));
        store(out.add(i), f32x4_mul(f32x4_mul(g, sigmoid4(g)), load(up.add(i))));
        i += 4;
    }
    while i < count {
        let g = *gate.add(i);
        *out.add(i) = g * sigmoid(g) * *up.add(i);
        i += 1;
    }
}

/// dgate += dout * up * silu'(gate), dup += dout * silu(gate); the two reads of gate and up are fused into one pass.
pub unsafe fn swiglu_backward(dout: *const f32, gate: *const f32, up: *const f32, dgate: *mut f32, dup: *mut f32, count: usize) {
    let one = f32x4_splat(1.0);
    let mut i = 0;
    while i + 4 <= count {
        let g = load(gate.add(i));
        let d = load(dout.add(i));
        let s = sigmoid4(g);
        let derivative = f32x4_mul(s, f32x4_add(one, f32x4_mul(g, f32x4_sub(one, s))));
        store(dgate.add(i), f32x4_add(load(dgate.add(i)), f32x4_mul(f32x4_mul(d, load(up.add(i))), derivative)));
        store(dup.add(i), f32x4_add(load(dup.add(i)), f32x4_mul(d, f32x4_mul(g, s))));
        i += 4;
    }
    while i < count {
        let g = *gate.add(i);
        let d = *dout.add(i);
        let s = sigmoid(g);
        *dgate.add(i) += d * *up.add(i) * (s * (1.0 + g * (1.0 - s)));
        *dup.add(i) += d * (g * s);
        i += 1;
    }
}

// Row-wise layers: RMSNorm, rotary embedding, embedding lookup, token log-probabilities. Each function
// handles a range of rows (or columns, where rows would race on a shared gradient).
use crate::math::{dot, exp4, ln, max4, sqrt, sum4};
use core::arch::wasm32::*;

#[inline(always)]
unsafe fn load(p: *const f32) -> v128 {
    v128_load(p as *const v128)
}

#[inline(always)]
unsafe fn store(p: *mut f32, v: v128) {
    v128_store(p as *mut v128, v)
}

/// out (rows, C) = x * rstd * weight with rstd = 1 / sqrt(mean(x^2) + epsilon), for rows [begin, end).
pub unsafe fn rmsnorm_forward(x: *const f32, weight: *const f32, out: *mut f32, rstd: *mut f32, channels: usize, epsilon: f32, begin: usize, end: usize) {
    for r in begin..end {
        let row = x.add(r * channels);
        let factor = 1.0 / sqrt(dot(row, row, channels) / channels as f32 + epsilon);
        *rstd.add(r) = factor;
        let f = f32x4_splat(factor);
        let o = out.add(r * channels);
        let mut c = 0;
        while c + 4 <= channels {
            store(o.add(c), f32x4_mul(f32x4_mul(load(row.add(c)), f), load(weight.add(c))));
            c += 4;
        }
        while c < channels {
            *o.add(c) = *row.add(c) * factor * *weight.add(c);
            c += 1;
        }
    }
}

/// dx += rstd * (dout * w - x * rstd^2 * dot(dout * w, x) / C) for rows [begin, end).
pub unsafe fn rmsnorm_backward_rows(dout: *const f32, x: *const f32, weight: *const f32, rstd: *const f32, dx: *mut f32, channels: usize, begin: usize, end: usize) {
    for r in begin..end {
        let g = dout.add(r * channels);
        let row = x.add(r * channels);
        let d = dx.add(r * channels);
        let factor = *rstd.add(r);
        let mut acc = f32x4_splat(0.0);
        let mut c = 0;
        while c + 4 <= channels {
            acc = f32x4_add(acc, f32x4_mul(f32x4_mul(load(g.add(c)), load(weight.add(c))), load(row.add(c))));
            c += 4;
        }
        let mut total = sum4(acc);
        while c < channels {
            total += *g.add(c) * *weight.add(c) * *row.add(c);
            c += 1;
        }
        let correction = factor * factor * total / channels as f32;
        let (f, k) = (f32x4_splat(factor), f32x4_splat(correction));
        c = 0;
        while c + 4 <= channels {
            let term = f32x4_sub(f32x4_mul(load(g.add(c)), load(weight.add(c))), f32x4_mul(load(row.add(c)), k));
            store(d.add(c), f32x4_add(load(d.add(c)), f32x4_mul(f, term)));
            c += 4;
        }
        while c < channels {
            *d.add(c) += factor * (*g.add(c) * *weight.add(c) - *row.add(c) * correction);
            c += 1;
        }
    }
}

/// dweight[c] += sum over all rows of dout * x * rstd, for columns [begin, end), rows in order.
pub unsafe fn rmsnorm_backward_weight(dout: *const f32, x: *const f32, rstd: *const f32, dweight: *mut f32, rows: usize, channels: usize, begin: usize, end: usize) {
    let mut c = begin;
    while c + 4 <= end {
        let mut acc = f32x4_splat(0.0);
        for r in 0..rows {
            let i = r * channels + c;
            acc = f32x4_add(acc, f32x4_mul(f32x4_mul(load(dout.add(i)), load(x.add(i))), f32x4_splat(*rstd.add(r))));
        }
        store(dweight.add(c), f32x4_add(load(dweight.add(c)), acc));
        c += 4;
    }
    while c < end {
        let mut acc = 0.0f32;
        for r in 0..rows {
            let i = r * channels + c;
            acc += *dout.add(i) * *x.add(i) * *rstd.add(r);
        }
        *dweight.add(c) += acc;
        c += 1;
    }
}

/// Rotary embedding (rotate_half pairs (i, i + D/2)) of head rows [begin, end) of x (N * heads, D).
/// Returns false when a position lies outside the cos/sin tables.
pub unsafe fn rope(x: *const f32, positions: *const i32, cos: *const f32, sin: *const f32, out: *mut f32, heads: usize, head_dim: usize, max_position: usize, inverse: bool, begin: usize, end: usize) -> bool {
    let half = head_dim / 2;
    let sign = if inverse { -1.0f32 } else { 1.0 };
    for unit in begin..end {
        let p = *positions.add(unit / heads);
        if p < 0 || p as usize >= max_position {
            return false;
        }
        let (c_row, s_row) = (cos.add(p as usize * half), sin.add(p as usize * half));
        let (src, dst) = (x.add(unit * head_dim), out.add(unit * head_dim));
        let mut i = 0;
        while i + 4 <= half {
            let c = load(c_row.add(i));
            let s = f32x4_mul(load(s_row.add(i)), f32x4_splat(sign));
            let first = load(src.add(i));
            let second = load(src.add(i + half));
            store(dst.add(i), f32x4_sub(f32x4_mul(first, c), f32x4_mul(second, s)));
            store(dst.add(i + half), f32x4_add(f32x4_mul(second, c), f32x4_mul(first, s)));
            i += 4;
        }
        while i < half {
            let c = *c_row.add(i);
            let s = *s_row.add(i) * sign;
            let first = *src.add(i);
            let second = *src.add(i + half);
            *dst.add(i) = first * c - second * s;
            *dst.add(i + half) = second * c + first * s;
            i += 1;
        }
    }
    true
}

/// out rows [begin, end) = table[ids]; false when an id is outside [0, vocabulary).
pub unsafe fn embedding_forward(ids: *const i32, table: *const f32, out: *mut f32, channels: usize, vocabulary: usize, begin: usize, end: usize) -> bool {
    for n in begin..end {
        let id = *ids.add(n);
        if id < 0 || id as usize >= vocabulary {
            return false;
        }
        core::ptr::copy_nonoverlapping(table.add(id as usize * channels), out.add(n * channels), channels);
    }
    true
}

/// dtable[ids[n], c] += dout[n, c] for columns [begin, end), rows in order (repeated ids never race).
pub unsafe fn embedding_backward(ids: *const i32, dout: *const f32, dtable: *mut f32, rows: usize, channels: usize, vocabulary: usize, begin: usize, end: usize) -> bool {
    for n in 0..rows {
        let id = *ids.add(n);
        if id < 0 || id as usize >= vocabulary {
            return false;
        }
        crate::elementwise::add(dtable.add(id as usize * channels + begin), dout.add(n * channels + begin), dtable.add(id as usize * channels + begin), end - begin);
    }
    true
}

/// log(sum(exp(row))) of a row, with the exponentials summed in f32 blocks and the blocks in f64.
pub unsafe fn log_sum_exp(row: *const f32, length: usize) -> f32 {
    let mut m4 = f32x4_splat(f32::NEG_INFINITY);
    let mut j = 0;
    while j + 4 <= length {
        m4 = f32x4_max(m4, load(row.add(j)));
        j += 4;
    }
    let mut maximum = max4(m4);
    while j < length {
        let value = *row.add(j);
        maximum = if value > maximum || value.is_nan() { value } else { maximum };
        j += 1;
    }
    if maximum == f32::NEG_INFINITY || maximum.is_nan() || maximum == f32::INFINITY {
        return maximum;
    }
    let shift = f32x4_splat(maximum);
    let mut total = 0.0f64;
    let mut block = 0;
    while block < length {
        let block_end = if block + 256 < length { block + 256 } else { length };
        let mut acc = f32x4_splat(0.0);
        let mut j = block;
        while j + 4 <= block_end {
            acc = f32x4_add(acc, exp4(f32x4_sub(load(row.add(j)), shift)));
            j += 4;
        }
        let mut partial = sum4(acc);
        while j < block_end {
            partial += crate::math::exp(*row.add(j) - maximum);
            j += 1;
        }
        total += partial as f64;
        block = block_end;
    }
    maximum + ln(total as f32)
}

/// logprobs[n] = logits[n, target] - logSumExp[n] (0 for target < 0) for rows [begin, end).
pub unsafe fn token_log_probs_forward(logits: *const f32, targets: *const i32, logprobs: *mut f32, lse: *mut f32, vocabulary: usize, begin: usize, end: usize) -> bool {
    for n in begin..end {
        let row = logits.add(n * vocabulary);
        let target = *targets.add(n);
        if target >= vocabulary as i32 {
            return false;
        }
        let log_sum = log_sum_exp(row, vocabulary);
        *lse.add(n) = log_sum;
        *logprobs.add(n) = if target < 0 { 0.0 } else { *row.add(target as usize) - log_sum };
    }
    true
}

/// dlogits[n] = dlogprobs[n] * (onehot(target) - softmax(logits[n])), overwritten, for rows [begin, end).
pub unsafe fn token_log_probs_backward(dlogprobs: *const f32, logits: *const f32, targets: *const i32, lse: *const f32, dlogits: *mut f32, vocabulary: usize, begin: usize, end: usize) -> bool {
    for n in begin..end {
        let (row, out) = (logits.add(n * vocabulary), dlogits.add(n * vocabulary));
        let target = *targets.add(n);
        if target >= vocabulary as i32 {
            return false;
        }
        if target < 0 {
            crate::elementwise::fill(out, vocabulary, 0.0);
            continue;
        }
        let g = *dlogprobs.add(n);
        let (shift, minus_g) = (f32x4_splat(*lse.add(n)), f32x4_splat(-g));
        let mut j = 0;
        while j + 4 <= vocabulary {
            store(out.add(j), f32x4_mul(minus_g, exp4(f32x4_sub(load(row.add(j)), shift))));
            j += 4;
        }
        while j < vocabulary {
            *out.add(j) = -g * crate::math::exp(*row.add(j) - *lse.add(n));
            j += 1;
        }
        let t = target as usize;
        *out.add(t) = g * (1.0 - crate::math::exp(*row.add(t) - *lse.add(n)));
    }
    true
}

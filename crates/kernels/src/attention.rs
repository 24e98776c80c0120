// Causal grouped-query attention over a KV buffer, forward and backward. The forward handles one query row
// (b, t, h) at a time; the backward computes dq by query rows and dk, dv by key rows, so no two workers ever
// add into the same gradient and the result does not depend on the split.
use crate::math::{axpy4, dot, dot4, exp, exp4, ln};
use core::arch::wasm32::*;

pub struct Attention {
    pub q: *const f32,
    pub k: *const f32,
    pub v: *const f32,
    pub out: *const f32,
    pub lse: *mut f32,
    pub batch: usize,
    /// T, query rows per entry.
    pub queries: usize,
    /// S, key capacity per entry.
    pub capacity: usize,
    pub heads: usize,
    pub key_value_heads: usize,
    pub head_dim: usize,
    pub scale: f32,
    pub query_offset: *const i32,
    pub key_length: *const i32,
    pub key_start: *const i32,
}

impl Attention {
    /// The inclusive range of keys that query t of entry b sees (empty when last < first).
    #[inline(always)]
    unsafe fn visible(&self, b: usize, t: usize) -> (isize, isize) {
        let first = (*self.key_start.add(b)).max(0) as isize;
        let last = ((*self.query_offset.add(b)) as isize + t as isize).min(*self.key_length.add(b) as isize - 1);
        (first, last)
    }
    #[inline(always)]
    fn query_row(&self, b: usize, t: usize, h: usize) -> usize {
        ((b * self.queries + t) * self.heads + h) * self.head_dim
    }
    #[inline(always)]
    fn key_row(&self, b: usize, s: usize, kv: usize) -> usize {
        ((b * self.capacity + s) * self.key_value_heads + kv) * self.head_dim
    }
    #[inline(always)]
    fn lse_index(&self, b: usize, h: usize, t: usize) -> usize {
        (b * self.heads + h) * self.queries + t
    }
    pub fn query_units(&self) -> usize {
        self.batch * self.queries * self.heads
    }
    pub fn key_units(&self) -> usize {
        self.batch * self.capacity * self.key_value_heads
    }
}

/// Forward for query units [begin, end) (unit = (b * T + t) * H + h); `scores` holds S floats.
pub unsafe fn forward(a: &Attention, out: *mut f32, scores: *mut f32, begin: usize, end: usize) {
    let d = a.head_dim;
    let group = a.heads / a.key_value_heads;
    for unit in begin..end {
        let h = unit % a.heads;
        let t = (unit / a.heads) % a.queries;
        let b = unit / (a.heads * a.queries);
        let kv = h / group;
        let row = a.query_row(b, t, h);
        let output = out.add(row);
        let (first, last) = a.visible(b, t);
        crate::elementwise::fill(output, d, 0.0);
        if last < first {
            *a.lse.add(a.lse_index(b, h, t)) = 0.0;
            continue;
        }
        let (first, count) = (first as usize, (last - first + 1) as usize);
        let query = a.q.add(row);
        let scale = f32x4_splat(a.scale);
        // Scores four keys at a time (lanes past the last key repeat the first of the group and are not stored).
        let mut i = 0;
        while i < count {
            let n = if count - i < 4 { count - i } else { 4 };
            let mut keys = [a.k; 4];
            for j in 0..4 {
                keys[j] = a.k.add(a.key_row(b, first + i + if j < n { j } else { 0 }, kv));
            }
            let mut lanes = [0.0f32; 4];
            v128_store(lanes.as_mut_ptr() as *mut v128, f32x4_mul(dot4(query, keys, d), scale));
            for j in 0..n {
                *scores.add(i + j) = lanes[j];
            }
            i += 4;
        }
        let mut maximum = f32::NEG_INFINITY;
        for i in 0..count {
            let score = *scores.add(i);
            maximum = if score > maximum { score } else { maximum };
        }
        let shift = f32x4_splat(maximum);
        let mut i = 0;
        while i + 4 <= count {
            let w = exp4(f32x4_sub(v128_load(scores.add(i) as *const v128), shift));
            v128_store(scores.add(i) as *mut v128, w);
            i += 4;
        }
        while i < count {
            *scores.add(i) = exp(*scores.add(i) - maximum);
            i += 1;
        }
        let mut sum = 0.0f32;
        for i in 0..count {
            sum += *scores.add(i);
        }
        // out = sum of weight * value, four values per pass over the output row.
        let mut i = 0;
        while i < count {
            let n = if count - i < 4 { count - i } else { 4 };
            let mut values = [a.v; 4];
            let mut weights = [0.0f32; 4];
            for j in 0..n {
                values[j] = a.v.add(a.key_row(b, first + i + j, kv));
                weights[j] = *scores.add(i + j);
            }
            for j in n..4 {
                values[j] = values[0];
            }
            axpy4(v128_load(weights.as_ptr() as *const v128), values, output, d);
            i += 4;
        }
        let inverse = 1.0 / sum;
        crate::elementwise::scale(output, output, d, inverse);
        *a.lse.add(a.lse_index(b, h, t)) = maximum + ln(sum);
    }
}

/// dq for query units [begin, end): dq += sum_s P_s (dout . v_s - dout . out) scale k_s. Also stores
/// dout . out per query row in `row_dots` (B, H, T) for backward_keys, which runs as the next command.
pub unsafe fn backward_queries(a: &Attention, dout: *const f32, dq: *mut f32, row_dots: *mut f32, begin: usize, end: usize) {
    let d = a.head_dim;
    let group = a.heads / a.key_value_heads;
    for unit in begin..end {
        let h = unit % a.heads;
        let t = (unit / a.heads) % a.queries;
        let b = unit / (a.heads * a.queries);
        let kv = h / group;
        let row = a.query_row(b, t, h);
        let (query, gradient) = (a.q.add(row), dout.add(row));
        let row_dot = dot(gradient, a.out.add(row), d);
        *row_dots.add(a.lse_index(b, h, t)) = row_dot;
        let (first, last) = a.visible(b, t);
        if last < first {
            continue;
        }
        let log_sum = f32x4_splat(*a.lse.add(a.lse_index(b, h, t)));
        let (scale, row_dot4) = (f32x4_splat(a.scale), f32x4_splat(row_dot));
        // Keys four at a time: four dot products reduced together and one exp4 for the four probabilities.
        let mut s = first as usize;
        while s <= last as usize {
            let count = if last as usize + 1 - s < 4 { last as usize + 1 - s } else { 4 };
            let mut keys = [a.k; 4];
            let mut values = [a.v; 4];
            for j in 0..4 {
                let key_row = a.key_row(b, s + if j < count { j } else { 0 }, kv);
                keys[j] = a.k.add(key_row);
                values[j] = a.v.add(key_row);
            }
            let scores = f32x4_sub(f32x4_mul(dot4(query, keys, d), scale), log_sum);
            let p = exp4(scores);
            let mut score_gradient = f32x4_mul(f32x4_mul(p, f32x4_sub(dot4(gradient, values, d), row_dot4)), scale);
            // Lanes past the last key repeat key `s` and must add nothing.
            score_gradient = v128_and(score_gradient, lane_mask(count));
            axpy4(score_gradient, keys, dq.add(row), d);
            s += 4;
        }
    }
}

/// All lanes below `count` set, the others clear.
#[inline(always)]
fn lane_mask(count: usize) -> v128 {
    i32x4_gt(i32x4_splat(count as i32), i32x4(0, 1, 2, 3))
}

/// dk, dv for key units [begin, end) (unit = (b * S + s) * K + kv), summed over the group's heads and queries,
/// four queries at a time; `row_dots` comes from backward_queries.
pub unsafe fn backward_keys(a: &Attention, dout: *const f32, dk: *mut f32, dv: *mut f32, row_dots: *const f32, begin: usize, end: usize) {
    let d = a.head_dim;
    let group = a.heads / a.key_value_heads;
    let scale = f32x4_splat(a.scale);
    for unit in begin..end {
        let kv = unit % a.key_value_heads;
        let s = (unit / a.key_value_heads) % a.capacity;
        let b = unit / (a.key_value_heads * a.capacity);
        let first = (*a.key_start.add(b)).max(0) as usize;
        if s < first || s as isize >= *a.key_length.add(b) as isize {
            continue;
        }
        // Query t sees key s when query_offset + t >= s.
        let offset = *a.query_offset.add(b) as isize;
        let first_query = if s as isize > offset { (s as isize - offset) as usize } else { 0 };
        let key_row = a.key_row(b, s, kv);
        let (key, value) = (a.k.add(key_row), a.v.add(key_row));
        for h in kv * group..(kv + 1) * group {
            let mut t = first_query;
            while t < a.queries {
                let count = if a.queries - t < 4 { a.queries - t } else { 4 };
                let mut queries = [a.q; 4];
                let mut gradients = [dout; 4];
                let mut lse = [0.0f32; 4];
                let mut row_dot = [0.0f32; 4];
                for j in 0..4 {
                    let tj = t + if j < count { j } else { 0 };
                    let row = a.query_row(b, tj, h);
                    queries[j] = a.q.add(row);
                    gradients[j] = dout.add(row);
                    lse[j] = *a.lse.add(a.lse_index(b, h, tj));
                    row_dot[j] = *row_dots.add(a.lse_index(b, h, tj));
                }
                // Lanes past the last query repeat query t and must add nothing.
                let mask = lane_mask(count);
                let scores = f32x4_sub(f32x4_mul(dot4(key, queries, d), scale), v128_load(lse.as_ptr() as *const v128));
                let p = v128_and(exp4(scores), mask);
                let value_dots = f32x4_sub(dot4(value, gradients, d), v128_load(row_dot.as_ptr() as *const v128));
                let score_gradient = v128_and(f32x4_mul(f32x4_mul(p, value_dots), scale), mask);
                axpy4(p, gradients, dv.add(key_row), d);
                axpy4(score_gradient, queries, dk.add(key_row), d);
                t += 4;
            }
        }
    }
}

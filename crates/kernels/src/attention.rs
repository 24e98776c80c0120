// Causal grouped-query attention over a KV buffer, forward and backward, as small matrix products. A unit is
// one entry and key/value head with the query heads that share it: the rows of a block are (query, head) pairs,
// the keys are packed once, and 4 x 8 register tiles (as in the matmul) compute scores, weighted values and
// gradients. Blocks have a size fixed by the shape and the scratch, and a unit's dk and dv are its own, so the
// result does not depend on the split across workers.
use crate::math::{axpy4, dot, dot4, exp, exp4, ln, max4, min, round_up, sum4};
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
    /// Keys that query t of entry b sees, counted from the entry's first key.
    #[inline(always)]
    unsafe fn seen(&self, b: usize, t: usize) -> usize {
        let (first, last) = self.visible(b, t);
        if last < first { 0 } else { (last - first + 1) as usize }
    }
    fn group(&self) -> usize {
        self.heads / self.key_value_heads
    }
    fn padded_dim(&self) -> usize {
        round_up(self.head_dim, 8)
    }
    /// Queries per block whose buffers fit in `scratch_floats` (0 when not even one does): the packed keys and
    /// values (two copies forward, three backward) and, per (query, head) row, its queries (and output
    /// gradients) and a row of weights (and of score gradients).
    pub fn block_queries(&self, scratch_floats: usize, backward: bool) -> usize {
        let (dp, sp) = (self.padded_dim(), round_up(self.capacity, 8));
        let (fixed, per_row) = if backward { (3 * dp * sp, 2 * dp + 2 * sp + 1) } else { (2 * dp * sp, dp + sp + 1) };
        if scratch_floats <= fixed {
            return 0;
        }
        let rows = (scratch_floats - fixed) / per_row / 4 * 4;
        min(rows / self.group(), self.queries)
    }
    /// Forward units: (entry, key/value head, block of `block` queries).
    pub fn forward_units(&self, block: usize) -> usize {
        self.batch * self.key_value_heads * ((self.queries + block - 1) / block)
    }
    /// Backward units: (entry, key/value head), which own their rows of dk and dv.
    pub fn backward_units(&self) -> usize {
        self.batch * self.key_value_heads
    }
}

/// A 4 x 8 tile of a product: lane j of row i is the sum over p < depth, in order, of
/// a[i * a_row + p * a_step] * b[p * b_step + j]. Eight accumulators, two B vectors, one A splat and one
/// product fit the 16 xmm registers JavaScriptCore allocates.
#[inline(always)]
unsafe fn tile(a: *const f32, a_row: usize, a_step: usize, b: *const f32, b_step: usize, depth: usize) -> [[v128; 2]; 4] {
    let mut acc = [[f32x4_splat(0.0); 2]; 4];
    let (mut a, mut b) = (a, b);
    for _ in 0..depth {
        let b0 = v128_load(b as *const v128);
        let b1 = v128_load(b.add(4) as *const v128);
        for i in 0..4 {
            let x = v128_load32_splat(a.add(i * a_row) as *const u32);
            acc[i][0] = f32x4_add(acc[i][0], f32x4_mul(x, b0));
            acc[i][1] = f32x4_add(acc[i][1], f32x4_mul(x, b1));
        }
        a = a.add(a_step);
        b = b.add(b_step);
    }
    acc
}

/// dst[0..columns] = factor * row (+ dst when `add`), columns <= 8.
#[inline(always)]
unsafe fn put(row: [v128; 2], dst: *mut f32, columns: usize, factor: f32, add: bool) {
    let f = f32x4_splat(factor);
    let values = [f32x4_mul(row[0], f), f32x4_mul(row[1], f)];
    if columns == 8 {
        for v in 0..2 {
            let p = dst.add(4 * v) as *mut v128;
            v128_store(p, if add { f32x4_add(v128_load(p), values[v]) } else { values[v] });
        }
    } else {
        let mut lanes = [0.0f32; 8];
        v128_store(lanes.as_mut_ptr() as *mut v128, values[0]);
        v128_store(lanes.as_mut_ptr().add(4) as *mut v128, values[1]);
        for c in 0..columns {
            *dst.add(c) = if add { *dst.add(c) + lanes[c] } else { lanes[c] };
        }
    }
}

/// Rows (query, head) of one block, in the order (t0, head 0), (t0, head 1), ..., of key/value head kv.
struct Block {
    b: usize,
    kv: usize,
    t0: usize,
    rows: usize,
}

impl Block {
    #[inline(always)]
    fn query(&self, a: &Attention, r: usize) -> (usize, usize) {
        let g = a.group();
        (self.t0 + r / g, self.kv * g + r % g)
    }
    /// Keys seen by the last valid row of the tile starting at row r (the most any row of it sees).
    #[inline(always)]
    unsafe fn tile_keys(&self, a: &Attention, r: usize) -> usize {
        let last = if r + 3 < self.rows { r + 3 } else { self.rows - 1 };
        a.seen(self.b, self.query(a, last).0)
    }
    /// For each row r of the block, its query row of `destination` (B, T, H, D) gets `scales[r]` (1 without) times
    /// row r of `left` (rows of `left_row` floats) by the packed rows of `packed` (dp floats each), over the keys
    /// the row's tile sees: the weighted values forward, dq += dS keys backward. `accumulate` adds to the row.
    #[inline(always)]
    unsafe fn rows_times_packed(
        &self, a: &Attention, left: *const f32, left_row: usize, packed: *const f32, destination: *mut f32,
        scales: Option<*const f32>, accumulate: bool,
    ) {
        let (d, dp) = (a.head_dim, a.padded_dim());
        let mut r = 0;
        while r < self.rows {
            let seen = self.tile_keys(a, r);
            let mut e = 0;
            while e < d {
                let acc = tile(left.add(r * left_row), left_row, 1, packed.add(e), dp, seen);
                for i in 0..min(4, self.rows - r) {
                    let (t, h) = self.query(a, r + i);
                    let scale = match scales { Some(scales) => *scales.add(r + i), None => 1.0 };
                    put(acc[i], destination.add(a.query_row(self.b, t, h) + e), min(8, d - e), scale, accumulate);
                }
                e += 8;
            }
            r += 4;
        }
    }
}

/// Copies the block's rows of `source` (B, T, H, D) into `out` (rows padded to 4) x dp, zero-padded.
unsafe fn pack_rows(a: &Attention, block: &Block, source: *const f32, out: *mut f32) {
    let (d, dp) = (a.head_dim, a.padded_dim());
    for r in 0..round_up(block.rows, 4) {
        let dst = out.add(r * dp);
        if r < block.rows {
            let (t, h) = block.query(a, r);
            core::ptr::copy_nonoverlapping(source.add(a.query_row(block.b, t, h)), dst, d);
            crate::elementwise::fill(dst.add(d), dp - d, 0.0);
        } else {
            crate::elementwise::fill(dst, dp, 0.0);
        }
    }
}

/// Keys (or values) [first, first + n) of entry b, head kv: `rows` as n x dp (zero-padded), and/or
/// `columns` as D x np transposed (keys past n zero).
unsafe fn pack_keys(a: &Attention, source: *const f32, b: usize, kv: usize, first: usize, n: usize, np: usize, rows: *mut f32, columns: *mut f32) {
    let (d, dp) = (a.head_dim, a.padded_dim());
    for j in 0..n {
        let src = source.add(a.key_row(b, first + j, kv));
        if !rows.is_null() {
            core::ptr::copy_nonoverlapping(src, rows.add(j * dp), d);
            crate::elementwise::fill(rows.add(j * dp + d), dp - d, 0.0);
        }
        if !columns.is_null() {
            for e in 0..d {
                *columns.add(e * np + j) = *src.add(e);
            }
        }
    }
    if !columns.is_null() {
        for e in 0..d {
            crate::elementwise::fill(columns.add(e * np + n), np - n, 0.0);
        }
    }
}

/// out (rows x np) = factor * x (rows of dp) keys^T (D x np), for the keys each tile of rows sees.
unsafe fn scores(a: &Attention, block: &Block, x: *const f32, keys: *const f32, np: usize, factor: f32, out: *mut f32) {
    let dp = a.padded_dim();
    let mut r = 0;
    while r < block.rows {
        let seen = block.tile_keys(a, r);
        let mut j = 0;
        while j < seen {
            let acc = tile(x.add(r * dp), dp, 1, keys.add(j), np, a.head_dim);
            for i in 0..4 {
                put(acc[i], out.add((r + i) * np + j), 8, factor, false);
            }
            j += 8;
        }
        r += 4;
    }
}

/// Forward for units [begin, end) of blocks of `block` queries; `scratch` holds block_queries' buffers.
#[inline(never)]
pub unsafe fn forward(a: &Attention, out: *mut f32, scratch: *mut f32, block: usize, begin: usize, end: usize) {
    let dp = a.padded_dim();
    let blocks = (a.queries + block - 1) / block;
    for unit in begin..end {
        let b = unit / (blocks * a.key_value_heads);
        let kv = (unit / blocks) % a.key_value_heads;
        let t0 = (unit % blocks) * block;
        let t1 = min(a.queries, t0 + block);
        let this = Block { b, kv, t0, rows: (t1 - t0) * a.group() };
        let first = a.visible(b, 0).0 as usize;
        let n = a.seen(b, t1 - 1);
        if a.queries * a.group() < 8 {
            forward_rows(a, &this, first, out, scratch);
            continue;
        }
        let np = round_up(n, 8);
        let rows_padded = round_up(this.rows, 4);
        let keys = scratch;
        let values = keys.add(dp * np);
        let queries = values.add(np * dp);
        let weights = queries.add(rows_padded * dp);
        let inverse = weights.add(rows_padded * np);
        pack_keys(a, a.k, b, kv, first, n, np, core::ptr::null_mut(), keys);
        pack_keys(a, a.v, b, kv, first, n, np, values, core::ptr::null_mut());
        pack_rows(a, &this, a.q, queries);
        scores(a, &this, queries, keys, np, a.scale, weights);
        for r in 0..this.rows {
            let (t, h) = this.query(a, r);
            let seen = a.seen(b, t);
            let row = weights.add(r * np);
            if seen == 0 {
                crate::elementwise::fill(row, np, 0.0);
                *inverse.add(r) = 0.0;
                *a.lse.add(a.lse_index(b, h, t)) = 0.0;
                continue;
            }
            let (maximum, sum) = softmax_numerators(row, seen);
            crate::elementwise::fill(row.add(seen), np - seen, 0.0);
            *inverse.add(r) = 1.0 / sum;
            *a.lse.add(a.lse_index(b, h, t)) = maximum + ln(sum);
        }
        // out = weights values / sum, each tile over the keys its rows see (the others weigh exactly 0).
        this.rows_times_packed(a, weights, np, values, out, Some(inverse), false);
    }
}

/// Forward of a block of fewer than two tiles of rows (decoding): packing the keys would cost more than the
/// products, so the rows take dot products with the key rows, four keys at a time, and make one pass over the
/// value rows per four keys; the heads of one query go in pairs, which load each key and value once.
/// `scratch` holds 2 S floats.
unsafe fn forward_rows(a: &Attention, block: &Block, first: usize, out: *mut f32, scratch: *mut f32) {
    let g = a.group();
    let mut r = 0;
    while r < block.rows {
        if g % 2 == 0 {
            forward_heads::<2>(a, block, r, first, out, scratch);
            r += 2;
        } else {
            forward_heads::<1>(a, block, r, first, out, scratch);
            r += 1;
        }
    }
}

/// Rows [r, r + R) of a block, all of one query.
#[inline(always)]
unsafe fn forward_heads<const R: usize>(a: &Attention, block: &Block, r: usize, first: usize, out: *mut f32, scratch: *mut f32) {
    let (d, b) = (a.head_dim, block.b);
    let t = block.query(a, r).0;
    let seen = a.seen(b, t);
    let mut rows = [0usize; R];
    let mut lse = [0usize; R];
    for i in 0..R {
        let h = block.query(a, r + i).1;
        rows[i] = a.query_row(b, t, h);
        lse[i] = a.lse_index(b, h, t);
        crate::elementwise::fill(out.add(rows[i]), d, 0.0);
    }
    if seen == 0 {
        for i in 0..R {
            *a.lse.add(lse[i]) = 0.0;
        }
        return;
    }
    let capacity = round_up(a.capacity, 4);
    let queries = rows.map(|row| a.q.add(row));
    let scale = f32x4_splat(a.scale);
    // Lanes past the last key repeat the first of the group and are not stored.
    let mut j = 0;
    while j < seen {
        let count = min(4, seen - j);
        let mut keys = [a.k; 4];
        for k in 0..4 {
            keys[k] = a.k.add(a.key_row(b, first + j + if k < count { k } else { 0 }, block.kv));
        }
        let sums = dot4::<R>(queries, keys, d);
        for i in 0..R {
            v128_store(scratch.add(i * capacity + j) as *mut v128, f32x4_mul(sums[i], scale));
        }
        j += 4;
    }
    let mut sums = [0.0f32; R];
    for i in 0..R {
        let (maximum, sum) = softmax_numerators(scratch.add(i * capacity), seen);
        sums[i] = sum;
        *a.lse.add(lse[i]) = maximum + ln(sum);
    }
    let outputs = rows.map(|row| out.add(row));
    let mut j = 0;
    while j < seen {
        let count = min(4, seen - j);
        let mut values = [a.v; 4];
        let mut weights = [f32x4_splat(0.0); R];
        for k in 0..4 {
            values[k] = a.v.add(a.key_row(b, first + j + if k < count { k } else { 0 }, block.kv));
        }
        for i in 0..R {
            let mut lanes = [0.0f32; 4];
            for k in 0..count {
                lanes[k] = *scratch.add(i * capacity + j + k);
            }
            weights[i] = v128_load(lanes.as_ptr() as *const v128);
        }
        axpy4::<R>(weights, values, outputs, d);
        j += 4;
    }
    for i in 0..R {
        crate::elementwise::scale(outputs[i], outputs[i], d, 1.0 / sums[i]);
    }
}

/// Replaces row[0..count] by exp(row - max) and returns (max, sum of the exponentials).
unsafe fn softmax_numerators(row: *mut f32, count: usize) -> (f32, f32) {
    let mut m4 = f32x4_splat(f32::NEG_INFINITY);
    let mut j = 0;
    while j + 4 <= count {
        m4 = f32x4_pmax(m4, v128_load(row.add(j) as *const v128));
        j += 4;
    }
    let mut maximum = max4(m4);
    while j < count {
        let value = *row.add(j);
        maximum = if value > maximum { value } else { maximum };
        j += 1;
    }
    let shift = f32x4_splat(maximum);
    let mut sum4_ = f32x4_splat(0.0);
    let mut j = 0;
    while j + 4 <= count {
        let w = exp4(f32x4_sub(v128_load(row.add(j) as *const v128), shift));
        v128_store(row.add(j) as *mut v128, w);
        sum4_ = f32x4_add(sum4_, w);
        j += 4;
    }
    let mut sum = sum4(sum4_);
    while j < count {
        let w = exp(*row.add(j) - maximum);
        *row.add(j) = w;
        sum += w;
        j += 1;
    }
    (maximum, sum)
}

/// Backward for units [begin, end) (entry, key/value head): dq, dk and dv are added to. The unit's queries
/// are taken in blocks of `block`; `scratch` holds block_queries' buffers.
#[inline(never)]
pub unsafe fn backward(a: &Attention, dout: *const f32, dq: *mut f32, dk: *mut f32, dv: *mut f32, scratch: *mut f32, block: usize, begin: usize, end: usize) {
    let (d, dp) = (a.head_dim, a.padded_dim());
    for unit in begin..end {
        let (b, kv) = (unit / a.key_value_heads, unit % a.key_value_heads);
        let n = a.seen(b, a.queries - 1);
        if n == 0 {
            continue;
        }
        let first = a.visible(b, 0).0 as usize;
        let offset = *a.query_offset.add(b) as isize;
        let np = round_up(n, 8);
        let rows_padded = round_up(block * a.group(), 4);
        let keys_t = scratch;
        let values_t = keys_t.add(dp * np);
        let keys = values_t.add(dp * np);
        let queries = keys.add(np * dp);
        let gradients = queries.add(rows_padded * dp);
        let weights = gradients.add(rows_padded * dp);
        let score_gradients = weights.add(rows_padded * np);
        let row_dots = score_gradients.add(rows_padded * np);
        pack_keys(a, a.k, b, kv, first, n, np, keys, keys_t);
        pack_keys(a, a.v, b, kv, first, n, np, core::ptr::null_mut(), values_t);
        let mut t0 = 0;
        while t0 < a.queries {
            let t1 = min(a.queries, t0 + block);
            let this = Block { b, kv, t0, rows: (t1 - t0) * a.group() };
            pack_rows(a, &this, a.q, queries);
            pack_rows(a, &this, dout, gradients);
            scores(a, &this, queries, keys_t, np, a.scale, weights);
            scores(a, &this, gradients, values_t, np, 1.0, score_gradients);
            // P = exp(score - lse); dS = P (dout . v - dout . out) scale; zero past the keys a row sees.
            for r in 0..this.rows {
                let (t, h) = this.query(a, r);
                let seen = a.seen(b, t);
                let row = a.query_row(b, t, h);
                let row_dot = dot(dout.add(row), a.out.add(row), d);
                *row_dots.add(r) = row_dot;
                let (p, ds) = (weights.add(r * np), score_gradients.add(r * np));
                let (log_sum, row_dot4, scale) = (f32x4_splat(*a.lse.add(a.lse_index(b, h, t))), f32x4_splat(row_dot), f32x4_splat(a.scale));
                let mut j = 0;
                while j < seen {
                    // Lanes past `seen` are computed and then cleared below.
                    let w = exp4(f32x4_sub(v128_load(p.add(j) as *const v128), log_sum));
                    v128_store(p.add(j) as *mut v128, w);
                    let g = f32x4_mul(f32x4_mul(w, f32x4_sub(v128_load(ds.add(j) as *const v128), row_dot4)), scale);
                    v128_store(ds.add(j) as *mut v128, g);
                    j += 4;
                }
                crate::elementwise::fill(p.add(seen), np - seen, 0.0);
                crate::elementwise::fill(ds.add(seen), np - seen, 0.0);
            }
            // dq += dS keys.
            this.rows_times_packed(a, score_gradients, np, keys, dq, None, true);
            // dk += dS^T queries and dv += P^T dout, four keys at a time, over the rows that see them.
            let block_keys = a.seen(b, t1 - 1);
            let mut j = 0;
            while j < block_keys {
                let seen_from = (first + j) as isize - offset;
                let start = if seen_from > t0 as isize { (seen_from as usize - t0) * a.group() } else { 0 };
                if start < this.rows {
                    let depth = this.rows - start;
                    let mut e = 0;
                    while e < d {
                        let dk_tile = tile(score_gradients.add(start * np + j), 1, np, queries.add(start * dp + e), dp, depth);
                        let dv_tile = tile(weights.add(start * np + j), 1, np, gradients.add(start * dp + e), dp, depth);
                        for i in 0..min(4, block_keys - j) {
                            let key = a.key_row(b, first + j + i, kv) + e;
                            put(dk_tile[i], dk.add(key), min(8, d - e), 1.0, true);
                            put(dv_tile[i], dv.add(key), min(8, d - e), 1.0, true);
                        }
                        e += 8;
                    }
                }
                j += 4;
            }
            t0 = t1;
        }
    }
}


// Decodes one command record (an opcode and its arguments, 32-bit words written by the TypeScript device) and
// runs one work unit of it. Pointers are byte offsets into the shared memory; floats are passed as bits.
use crate::matmul::{self, Product, View, MR, NR};
use crate::{attention, elementwise, layers, optim, sample};

pub const OP_FILL: u32 = 1;
pub const OP_COPY: u32 = 2;
pub const OP_MATMUL: u32 = 3;
pub const OP_ADD: u32 = 4;
pub const OP_SCALE: u32 = 5;
pub const OP_RMSNORM_FORWARD: u32 = 6;
pub const OP_RMSNORM_BACKWARD: u32 = 7;
pub const OP_ROPE: u32 = 8;
pub const OP_ATTENTION_FORWARD: u32 = 9;
pub const OP_ATTENTION_BACKWARD: u32 = 10;
pub const OP_SWIGLU_FORWARD: u32 = 11;
pub const OP_SWIGLU_BACKWARD: u32 = 12;
pub const OP_EMBEDDING_FORWARD: u32 = 13;
pub const OP_EMBEDDING_BACKWARD: u32 = 14;
pub const OP_TOKEN_LOG_PROBS_FORWARD: u32 = 15;
pub const OP_TOKEN_LOG_PROBS_BACKWARD: u32 = 16;
pub const OP_SUM_OF_SQUARES: u32 = 17;
pub const OP_ADAMW: u32 = 18;
pub const OP_SAMPLE: u32 = 19;
pub const OP_SUM_ROWS: u32 = 20;
pub const OP_COPY_ROWS: u32 = 21;
pub const OP_PACK_B: u32 = 22;
pub const OP_MULTIPLY: u32 = 23;

/// Status codes returned to the host.
pub const STATUS_OK: u32 = 0;
pub const STATUS_UNKNOWN_OPCODE: u32 = 1;
pub const STATUS_INDEX_OUT_OF_RANGE: u32 = 2;
pub const STATUS_SCRATCH_TOO_SMALL: u32 = 3;

/// Elements per sum-of-squares chunk (wasm-protocol.ts sumOfSquaresChunk).
const SUM_OF_SQUARES_CHUNK: usize = 16384;
/// Elementwise work is split in runs of this many elements.
const RUN: usize = 1024;
/// Most queries per attention forward unit.
const ATTENTION_FORWARD_BLOCK: usize = 32;

/// Reads argument words of a command.
struct Args(*const u32);

impl Args {
    #[inline(always)]
    unsafe fn word(&self, index: usize) -> u32 {
        *self.0.add(index)
    }
    #[inline(always)]
    unsafe fn usize(&self, index: usize) -> usize {
        self.word(index) as usize
    }
    #[inline(always)]
    unsafe fn f32(&self, index: usize) -> f32 {
        f32::from_bits(self.word(index))
    }
    #[inline(always)]
    unsafe fn ptr<T>(&self, index: usize) -> *mut T {
        self.word(index) as usize as *mut T
    }
}

/// The range [begin, end) of `total` items that unit `part` of `parts` handles, in whole multiples of `align`.
#[inline]
pub fn share(total: usize, part: usize, parts: usize, align: usize) -> (usize, usize) {
    let blocks = (total + align - 1) / align;
    let begin = blocks * part / parts * align;
    let end = blocks * (part + 1) / parts * align;
    (if begin < total { begin } else { total }, if end < total { end } else { total })
}

/// Returns a status (STATUS_OK or an error).
pub unsafe fn run(command: *const u32, part: usize, parts: usize, scratch: *mut u8, scratch_bytes: usize) -> u32 {
    let args = Args(command.add(1));
    let ok = |success: bool| if success { STATUS_OK } else { STATUS_INDEX_OUT_OF_RANGE };
    match *command {
        OP_FILL => {
            let (begin, end) = share(args.usize(1), part, parts, RUN);
            elementwise::fill(args.ptr::<f32>(0).add(begin), end - begin, args.f32(2));
        }
        OP_COPY => {
            let (begin, end) = share(args.usize(2), part, parts, RUN);
            core::ptr::copy(args.ptr::<u32>(0).add(begin), args.ptr::<u32>(1).add(begin), end - begin);
        }
        OP_COPY_ROWS => {
            // Words: source, target, rows, row length, source stride, target stride (elements).
            let (source, target, row_length) = (args.ptr::<u32>(0), args.ptr::<u32>(1), args.usize(3));
            let (begin, end) = share(args.usize(2), part, parts, 1);
            for r in begin..end {
                core::ptr::copy(source.add(r * args.usize(4)), target.add(r * args.usize(5)), row_length);
            }
        }
        OP_MATMUL => {
            if scratch_bytes < matmul::SCRATCH_FLOATS * 4 {
                return STATUS_SCRATCH_TOO_SMALL;
            }
            matmul_command(&args, part, parts, scratch as *mut f32)
        }
        OP_PACK_B => {
            // Words: b, n, k, flags (transpose B), buffer of matmul::shared_b_floats(n, k).
            let (n, k) = (args.usize(1), args.usize(2));
            let view = b_view(args.ptr(0), n, k, args.word(3));
            let (begin, end) = share(matmul::shared_b_panels(n, k), part, parts, 1);
            matmul::pack_shared_b(view, n, k, matmul::aligned_128(args.ptr(4)), begin, end);
        }
        OP_ADD => {
            // Words: a, b, out, count, b count (count is a multiple of it; b repeats over the rows of a).
            let (a, b, out, count, row) = (args.ptr::<f32>(0), args.ptr::<f32>(1), args.ptr::<f32>(2), args.usize(3), args.usize(4));
            if row == count {
                let (begin, end) = share(count, part, parts, RUN);
                elementwise::add(a.add(begin), b.add(begin), out.add(begin), end - begin);
            } else {
                let (begin, end) = share(count / row, part, parts, 1);
                for r in begin..end {
                    elementwise::add(a.add(r * row), b, out.add(r * row), row);
                }
            }
        }
        OP_MULTIPLY => {
            // Words: a, b, out, count.
            let (begin, end) = share(args.usize(3), part, parts, RUN);
            elementwise::multiply(args.ptr::<f32>(0).add(begin), args.ptr::<f32>(1).add(begin), args.ptr::<f32>(2).add(begin), end - begin);
        }
        OP_SCALE => {
            let (begin, end) = share(args.usize(2), part, parts, RUN);
            elementwise::scale(args.ptr::<f32>(0).add(begin), args.ptr::<f32>(1).add(begin), end - begin, args.f32(3));
        }
        OP_SUM_ROWS => {
            // Words: x, out, rows, columns.
            let (begin, end) = share(args.usize(3), part, parts, 4);
            elementwise::sum_rows(args.ptr(0), args.ptr(1), args.usize(2), args.usize(3), begin, end);
        }
        OP_RMSNORM_FORWARD => {
            // Words: x, weight, out, rstd, rows, channels, epsilon.
            let (begin, end) = share(args.usize(4), part, parts, 1);
            layers::rmsnorm_forward(args.ptr(0), args.ptr(1), args.ptr(2), args.ptr(3), args.usize(5), args.f32(6), begin, end);
        }
        OP_RMSNORM_BACKWARD => {
            // Words: dout, x, weight, rstd, dx, dweight, rows, channels. dx by rows, dweight by columns.
            let (rows, channels) = (args.usize(6), args.usize(7));
            let (begin, end) = share(rows, part, parts, 1);
            layers::rmsnorm_backward_rows(args.ptr(0), args.ptr(1), args.ptr(2), args.ptr(3), args.ptr(4), channels, begin, end);
            let (begin, end) = share(channels, part, parts, 4);
            layers::rmsnorm_backward_weight(args.ptr(0), args.ptr(1), args.ptr(3), args.ptr(5), rows, channels, begin, end);
        }
        OP_ROPE => {
            // Words: x, positions, cos, sin, out, rows, heads, head dim, inverse, max position.
            let heads = args.usize(6);
            let (begin, end) = share(args.usize(5) * heads, part, parts, 1);
            return ok(layers::rope(args.ptr(0), args.ptr(1), args.ptr(2), args.ptr(3), args.ptr(4), heads, args.usize(7), args.usize(9), args.word(8) != 0, begin, end));
        }
        OP_ATTENTION_FORWARD => {
            // Words: q, k, v, out, lse, B, T, S, H, K, D, scale, query offsets, key lengths, key starts.
            let a = attention_arguments(&args, 0, 0);
            if a.batch == 0 || a.queries == 0 {
                return STATUS_OK;
            }
            // Smaller blocks than the scratch allows give more units to share; a row's result is the same.
            let block = a.block_queries(scratch_bytes / 4, false);
            if block == 0 {
                return STATUS_SCRATCH_TOO_SMALL;
            }
            let block = if block < ATTENTION_FORWARD_BLOCK { block } else { ATTENTION_FORWARD_BLOCK };
            let (begin, end) = share(a.forward_units(block), part, parts, 1);
            attention::forward(&a, args.ptr(3), scratch as *mut f32, block, begin, end);
        }
        OP_ATTENTION_BACKWARD => {
            // Words: dout, q, k, v, out, lse, dq, dk, dv, B, T, S, H, K, D, scale, offsets, lengths, starts.
            let a = attention_arguments(&args, 1, 3);
            if a.batch == 0 || a.queries == 0 {
                return STATUS_OK;
            }
            // The block size sets the order of dk and dv's sums, so it depends on the shape and scratch only.
            let block = a.block_queries(scratch_bytes / 4, true);
            if block == 0 {
                return STATUS_SCRATCH_TOO_SMALL;
            }
            let (begin, end) = share(a.backward_units(), part, parts, 1);
            attention::backward(&a, args.ptr(0), args.ptr(6), args.ptr(7), args.ptr(8), scratch as *mut f32, block, begin, end);
        }
        OP_SWIGLU_FORWARD => {
            let (begin, end) = share(args.usize(3), part, parts, RUN);
            elementwise::swiglu_forward(args.ptr::<f32>(0).add(begin), args.ptr::<f32>(1).add(begin), args.ptr::<f32>(2).add(begin), end - begin);
        }
        OP_SWIGLU_BACKWARD => {
            let (begin, end) = share(args.usize(5), part, parts, RUN);
            elementwise::swiglu_backward(
                args.ptr::<f32>(0).add(begin), args.ptr::<f32>(1).add(begin), args.ptr::<f32>(2).add(begin),
                args.ptr::<f32>(3).add(begin), args.ptr::<f32>(4).add(begin), end - begin,
            );
        }
        OP_EMBEDDING_FORWARD => {
            // Words: ids, table, out, rows, channels, vocabulary.
            let (begin, end) = share(args.usize(3), part, parts, 1);
            return ok(layers::embedding_forward(args.ptr(0), args.ptr(1), args.ptr(2), args.usize(4), args.usize(5), begin, end));
        }
        OP_EMBEDDING_BACKWARD => {
            // Words: ids, dout, dtable, rows, channels, vocabulary; split by columns.
            let (begin, end) = share(args.usize(4), part, parts, 4);
            return ok(layers::embedding_backward(args.ptr(0), args.ptr(1), args.ptr(2), args.usize(3), args.usize(4), args.usize(5), begin, end));
        }
        OP_TOKEN_LOG_PROBS_FORWARD => {
            // Words: logits, targets, logprobs, lse, rows, vocabulary.
            let (begin, end) = share(args.usize(4), part, parts, 1);
            return ok(layers::token_log_probs_forward(args.ptr(0), args.ptr(1), args.ptr(2), args.ptr(3), args.usize(5), begin, end));
        }
        OP_TOKEN_LOG_PROBS_BACKWARD => {
            // Words: dlogprobs, logits, targets, lse, dlogits, rows, vocabulary.
            let (begin, end) = share(args.usize(5), part, parts, 1);
            return ok(layers::token_log_probs_backward(args.ptr(0), args.ptr(1), args.ptr(2), args.ptr(3), args.ptr(4), args.usize(6), begin, end));
        }
        OP_SUM_OF_SQUARES => {
            // Words: list of (pointer, count) pairs, tensor count, float64 partials (one per chunk).
            let (list, tensors, partials) = (args.ptr::<u32>(0), args.usize(1), args.ptr::<f64>(2));
            let mut total_chunks = 0;
            for t in 0..tensors {
                total_chunks += (*list.add(2 * t + 1) as usize + SUM_OF_SQUARES_CHUNK - 1) / SUM_OF_SQUARES_CHUNK;
            }
            let (begin, end) = share(total_chunks, part, parts, 1);
            let mut chunk = 0;
            for t in 0..tensors {
                let (pointer, count) = (*list.add(2 * t) as usize as *const f32, *list.add(2 * t + 1) as usize);
                let mut offset = 0;
                while offset < count {
                    if chunk >= begin && chunk < end {
                        let length = if count - offset < SUM_OF_SQUARES_CHUNK { count - offset } else { SUM_OF_SQUARES_CHUNK };
                        *partials.add(chunk) = optim::sum_of_squares(pointer.add(offset), length);
                    }
                    chunk += 1;
                    offset += SUM_OF_SQUARES_CHUNK;
                }
            }
        }
        OP_ADAMW => {
            // Words: param, grad, m, v, count, lr, beta1, beta2, epsilon, weight decay, 1 - beta1^t, 1 - beta2^t, gradient scale.
            let o = optim::AdamW {
                learning_rate: args.f32(5), beta1: args.f32(6), beta2: args.f32(7), epsilon: args.f32(8),
                weight_decay: args.f32(9), first_correction: args.f32(10), second_correction: args.f32(11),
                gradient_scale: args.f32(12),
            };
            let (begin, end) = share(args.usize(4), part, parts, RUN);
            optim::adamw(args.ptr(0), args.ptr(1), args.ptr(2), args.ptr(3), &o, begin, end);
        }
        OP_SAMPLE => {
            // Words: logits, uniforms, ids, rows, vocabulary, temperature, top-k, top-p.
            let vocabulary = args.usize(4);
            if vocabulary * 8 > scratch_bytes {
                return STATUS_SCRATCH_TOO_SMALL;
            }
            let o = sample::Sampling { temperature: args.f32(5), top_k: args.usize(6), top_p: args.f32(7) };
            let (logits, uniforms, ids) = (args.ptr::<f32>(0), args.ptr::<f32>(1), args.ptr::<i32>(2));
            let (begin, end) = share(args.usize(3), part, parts, 1);
            for n in begin..end {
                *ids.add(n) = sample::sample_row(logits.add(n * vocabulary), vocabulary, *uniforms.add(n), &o, scratch as *mut f32, (scratch as *mut u32).add(vocabulary));
            }
        }
        _ => return STATUS_UNKNOWN_OPCODE,
    }
    STATUS_OK
}

/// Reads the attention words starting at `first` (q); `extra` counts the gradient pointers between lse and B.
unsafe fn attention_arguments(args: &Args, first: usize, extra: usize) -> attention::Attention {
    let dims = first + 5 + extra;
    attention::Attention {
        q: args.ptr(first),
        k: args.ptr(first + 1),
        v: args.ptr(first + 2),
        out: args.ptr(first + 3),
        lse: args.ptr(first + 4),
        batch: args.usize(dims),
        queries: args.usize(dims + 1),
        capacity: args.usize(dims + 2),
        heads: args.usize(dims + 3),
        key_value_heads: args.usize(dims + 4),
        head_dim: args.usize(dims + 5),
        scale: args.f32(dims + 6),
        query_offset: args.ptr(dims + 7),
        key_length: args.ptr(dims + 8),
        key_start: args.ptr(dims + 9),
    }
}

const FLAG_TRANSPOSE_A: u32 = 1;
const FLAG_TRANSPOSE_B: u32 = 2;
const FLAG_BROADCAST_B: u32 = 4;
const FLAG_ACCUMULATE: u32 = 8;
/// B was packed by OP_PACK_B into the buffer at word 9; the rows are split in panels.
const FLAG_SHARED_B: u32 = 16;

/// B (k, n) at `ptr`, stored (N, K) when `flags` has FLAG_TRANSPOSE_B, else (K, N).
fn b_view(ptr: *const f32, n: usize, k: usize, flags: u32) -> View {
    let (row_stride, column_stride) = if flags & FLAG_TRANSPOSE_B != 0 { (1, k) } else { (n, 1) };
    View { ptr, row_stride, column_stride }
}

/// Words: a, b, out, m, n, k, flags, batch, alpha, shared packed B (FLAG_SHARED_B).
unsafe fn matmul_command(args: &Args, part: usize, parts: usize, scratch: *mut f32) {
    let (a, b, c) = (args.ptr::<f32>(0) as *const f32, args.ptr::<f32>(1) as *const f32, args.ptr::<f32>(2));
    let (m, n, k, flags, batch) = (args.usize(3), args.usize(4), args.usize(5), args.word(6), args.usize(7));
    let alpha = args.f32(8);
    let (a_rs, a_cs) = if flags & FLAG_TRANSPOSE_A != 0 { (1, m) } else { (k, 1) };
    let b_batch_stride = if flags & FLAG_BROADCAST_B != 0 { 0 } else { k * n };
    let product = |index: usize| Product {
        a: View { ptr: a.add(index * m * k), row_stride: a_rs, column_stride: a_cs },
        b: b_view(b.add(index * b_batch_stride), n, k, flags),
        c: c.add(index * m * n),
        ldc: n,
        m,
        n,
        k,
        alpha,
        accumulate: flags & FLAG_ACCUMULATE != 0,
    };
    // Few rows against B stored (N, K) (decoding against linear weights): dot products along the depth, as
    // packing B would cost as much as the product. The choice depends on the shape only, never on the split.
    let use_dot = flags & (FLAG_TRANSPOSE_A | FLAG_TRANSPOSE_B) == FLAG_TRANSPOSE_B && m < matmul::DOT_ROWS && k > 0;
    let compute = |index: usize, rows: (usize, usize), columns: (usize, usize)| {
        if use_dot {
            matmul::gemm_dot(&product(index), rows, columns)
        } else {
            matmul::gemm(&product(index), rows, columns, scratch, None)
        }
    };
    let row_panels = (m + MR - 1) / MR;
    if flags & FLAG_SHARED_B != 0 {
        // B is packed once for all units (batch 1): units take whole row panels and pack only their rows of A.
        let shared = matmul::aligned_128(args.ptr(9)) as *const f32;
        let (begin, end) = share(row_panels, part, parts, 1);
        let row_end = if end * MR < m { end * MR } else { m };
        matmul::gemm(&product(0), (begin * MR, row_end), (0, n), scratch, Some(shared));
        return;
    }
    if (m as u64) * (n as u64) * (k as u64) * (batch as u64) < 32768 {
        // Too small to be worth a second worker (the product is taken in 64 bits: 2048^3 overflows usize).
        if part == 0 {
            for index in 0..batch {
                compute(index, (0, m), (0, n));
            }
        }
    } else if batch * row_panels >= 4 * parts && !(batch == 1 && m < n && n >= 4 * parts * NR) {
        // Split whole MR-row panels over (batch, row) pairs. Every unit packs all of B (k x n) and a column
        // split packs all of A (m x k) instead, so fewer rows than columns (decoding 64 streams) split columns.
        let (begin, end) = share(batch * row_panels, part, parts, 1);
        let mut unit = begin;
        while unit < end {
            let index = unit / row_panels;
            let first_panel = unit % row_panels;
            let last_panel = if (index + 1) * row_panels < end { row_panels } else { end - index * row_panels };
            let row_end = if last_panel * MR < m { last_panel * MR } else { m };
            compute(index, (first_panel * MR, row_end), (0, n));
            unit = (index * row_panels) + last_panel;
        }
    } else {
        // Few rows: split the columns instead.
        let (begin, end) = share(n, part, parts, NR);
        for index in 0..batch {
            compute(index, (0, m), (begin, end));
        }
    }
}

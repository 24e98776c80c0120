// Optimiser kernels: AdamW in one fused pass over param, grad, m and v, and the sum of squares for the global
// gradient norm (fixed chunks with float64 partials, so every thread count gives the same number).
use crate::math::sqrt;
use core::arch::wasm32::*;

pub struct AdamW {
    pub learning_rate: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub epsilon: f32,
    pub weight_decay: f32,
    /// 1 - beta1^step and 1 - beta2^step, computed by the host in float64.
    pub first_correction: f32,
    pub second_correction: f32,
    pub gradient_scale: f32,
}

/// Elements [begin, end) of one AdamW step (PyTorch's definition, see DeviceV1.adamw).
pub unsafe fn adamw(param: *mut f32, grad: *const f32, m: *mut f32, v: *mut f32, o: &AdamW, begin: usize, end: usize) {
    let decay = 1.0 - o.learning_rate * o.weight_decay;
    let (one_minus_beta1, one_minus_beta2) = (1.0 - o.beta1, 1.0 - o.beta2);
    let splat = f32x4_splat;
    let mut i = begin;
    while i + 4 <= end {
        let g = f32x4_mul(v128_load(grad.add(i) as *const v128), splat(o.gradient_scale));
        let p = f32x4_mul(v128_load(param.add(i) as *const v128), splat(decay));
        let first = f32x4_add(f32x4_mul(splat(o.beta1), v128_load(m.add(i) as *const v128)), f32x4_mul(splat(one_minus_beta1), g));
        let second = f32x4_add(f32x4_mul(splat(o.beta2), v128_load(v.add(i) as *const v128)), f32x4_mul(f32x4_mul(splat(one_minus_beta2), g), g));
        let denominator = f32x4_add(f32x4_sqrt(f32x4_div(second, splat(o.second_correction))), splat(o.epsilon));
        let step = f32x4_div(f32x4_mul(splat(o.learning_rate), f32x4_div(first, splat(o.first_correction))), denominator);
        v128_store(m.add(i) as *mut v128, first);
        v128_store(v.add(i) as *mut v128, second);
        v128_store(param.add(i) as *mut v128, f32x4_sub(p, step));
        i += 4;
    }
    while i < end {
        let g = *grad.add(i) * o.gradient_scale;
        let p = *param.add(i) * decay;
        let first = o.beta1 * *m.add(i) + one_minus_beta1 * g;
        let second = o.beta2 * *v.add(i) + one_minus_beta2 * g * g;
        *m.add(i) = first;
        *v.add(i) = second;
        *param.add(i) = p - (o.learning_rate * (first / o.first_correction)) / (sqrt(second / o.second_correction) + o.epsilon);
        i += 1;
    }
}

/// Sum of squares of x[0..count] in float64.
pub unsafe fn sum_of_squares(x: *const f32, count: usize) -> f64 {
    let mut low = f64x2_splat(0.0);
    let mut high = f64x2_splat(0.0);
    let mut i = 0;
    while i + 4 <= count {
        let v = v128_load(x.add(i) as *const v128);
        let a = f64x2_promote_low_f32x4(v);
        let b = f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 0, 1>(v, v));
        low = f64x2_add(low, f64x2_mul(a, a));
        high = f64x2_add(high, f64x2_mul(b, b));
        i += 4;
    }
    let both = f64x2_add(low, high);
    let mut sum = f64x2_extract_lane::<0>(both) + f64x2_extract_lane::<1>(both);
    while i < count {
        let value = *x.add(i) as f64;
        sum += value * value;
        i += 1;
    }
    sum
}

// Sampling one token per row with temperature, top-k and top-p, by the exact definition of DeviceV1.sample
// (Hugging Face's warpers), driven by one host-supplied uniform number per row.
use crate::math::exp4;
use core::arch::wasm32::*;
use core::cmp::Ordering;

pub struct Sampling {
    pub temperature: f32,
    pub top_k: usize,
    pub top_p: f32,
}

/// Draws a token from one row of `vocabulary` logits. `probabilities` and `order` are scratch of V elements.
pub unsafe fn sample_row(row: *const f32, vocabulary: usize, uniform: f32, o: &Sampling, probabilities: *mut f32, order: *mut u32) -> i32 {
    let best = argmax(row, vocabulary);
    if !(o.temperature > 0.0) {
        return best as i32;
    }
    // Unnormalised probabilities; the totals are kept in float64 so that thresholds match the reference closely.
    let (shift, inverse_temperature) = (f32x4_splat(*row.add(best)), f32x4_splat(1.0 / o.temperature));
    let mut j = 0;
    while j + 4 <= vocabulary {
        let z = f32x4_mul(f32x4_sub(v128_load(row.add(j) as *const v128), shift), inverse_temperature);
        v128_store(probabilities.add(j) as *mut v128, exp4(z));
        j += 4;
    }
    while j < vocabulary {
        let z = f32x4_mul(f32x4_sub(f32x4_splat(*row.add(j)), shift), inverse_temperature);
        *probabilities.add(j) = f32x4_extract_lane::<0>(exp4(z));
        j += 1;
    }
    let p = core::slice::from_raw_parts(probabilities as *const f32, vocabulary);
    let filter_k = o.top_k > 0 && o.top_k < vocabulary;
    let filter_p = o.top_p < 1.0;
    if !filter_k && !filter_p {
        return draw(p, (0..vocabulary).map(|j| j as u32), uniform, best);
    }
    // Candidates in descending probability, ties to the lower index.
    let candidates = core::slice::from_raw_parts_mut(order, vocabulary);
    for (j, slot) in candidates.iter_mut().enumerate() {
        *slot = j as u32;
    }
    let descending = |a: &u32, b: &u32| -> Ordering {
        let (x, y) = (p[*a as usize], p[*b as usize]);
        y.partial_cmp(&x).unwrap_or(Ordering::Equal).then(a.cmp(b))
    };
    let mut kept = vocabulary;
    if filter_k {
        candidates.select_nth_unstable_by(o.top_k - 1, descending);
        kept = o.top_k;
    }
    if filter_p {
        // The kept mass, summed in index order as the definition walks it.
        candidates[..kept].sort_unstable();
        let mut mass = 0.0f64;
        for &j in candidates[..kept].iter() {
            mass += p[j as usize] as f64;
        }
        // Only the most probable tokens up to topP of the mass need sorting: select the first `window`,
        // sort them, and widen the window only when they fall short. The prefix equals that of a full sort.
        let mut window = if kept < 64 { kept } else { 64 };
        loop {
            if window < kept {
                candidates[..kept].select_nth_unstable_by(window - 1, descending);
            }
            candidates[..window].sort_unstable_by(descending);
            let mut cumulative = 0.0f64;
            let mut prefix = 0;
            for (rank, &j) in candidates[..window].iter().enumerate() {
                cumulative += p[j as usize] as f64 / mass;
                if cumulative >= o.top_p as f64 {
                    prefix = rank + 1;
                    break;
                }
            }
            if prefix > 0 {
                kept = prefix;
                break;
            }
            if window == kept {
                break;
            }
            window = if kept / 4 < window { kept } else { window * 4 };
        }
    }
    let kept_candidates = &mut candidates[..kept];
    kept_candidates.sort_unstable();
    draw(p, kept_candidates.iter().copied(), uniform, best)
}

/// Walks the kept tokens in index order; the first whose running sum exceeds u * (their total) is drawn.
fn draw<I: Iterator<Item = u32> + Clone>(p: &[f32], kept: I, uniform: f32, fallback: usize) -> i32 {
    let mut total = 0.0f64;
    for j in kept.clone() {
        total += p[j as usize] as f64;
    }
    let threshold = uniform as f64 * total;
    let mut running = 0.0f64;
    let mut last = fallback as u32;
    for j in kept {
        running += p[j as usize] as f64;
        last = j;
        if running > threshold {
            return j as i32;
        }
    }
    last as i32
}

/// The lowest index of the largest logit (NaN never wins), with the maximum found four lanes at a time.
unsafe fn argmax(row: *const f32, length: usize) -> usize {
    let mut lanes = f32x4_splat(f32::NEG_INFINITY);
    let mut j = 0;
    while j + 4 <= length {
        // pmax keeps the accumulator when the new value is NaN.
        lanes = f32x4_pmax(lanes, v128_load(row.add(j) as *const v128));
        j += 4;
    }
    let mut maximum = f32::NEG_INFINITY;
    for lane in [f32x4_extract_lane::<0>(lanes), f32x4_extract_lane::<1>(lanes), f32x4_extract_lane::<2>(lanes), f32x4_extract_lane::<3>(lanes)] {
        if lane > maximum {
            maximum = lane;
        }
    }
    while j < length {
        if *row.add(j) > maximum {
            maximum = *row.add(j);
        }
        j += 1;
    }
    if maximum > f32::NEG_INFINITY {
        for j in 0..length {
            if *row.add(j) == maximum {
                return j;
            }
        }
    }
    // Every logit is -inf or NaN: the scalar definition decides.
    let mut best = 0usize;
    for j in 1..length {
        if *row.add(j) > *row.add(best) {
            best = j;
        }
    }
    best
}

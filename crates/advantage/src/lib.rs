// Advantage math of the self-play loop (DESIGN.md section 1) in f64: statistics over ragged groups, Solver and
// Challenger advantages, KL estimators per token, and the gradient of the policy loss for each token.
//
// Plain C ABI: the TypeScript loader (plugins/advantage-wasm) allocates every buffer with `allocate`, writes the
// inputs, calls, reads the outputs and frees with `release`; no function here keeps a pointer between calls.
// Every sum runs in index order, the same order as the TypeScript reference, so the two agree to rounding.

use core::slice;

/// Status codes returned to the loader (0 is success).
const OK: u32 = 0;
const BAD_ESTIMATOR: u32 = 1;
const BAD_AGGREGATION: u32 = 2;
const BAD_OFFSETS: u32 = 3;

/// Reserves `bytes` bytes (8-aligned) for the loader; freed with `release(pointer, bytes)`.
#[no_mangle]
pub extern "C" fn allocate(bytes: u32) -> *mut u8 {
    let mut buffer: Vec<u64> = Vec::with_capacity(words(bytes));
    let pointer = buffer.as_mut_ptr() as *mut u8;
    core::mem::forget(buffer);
    pointer
}

/// Frees a buffer from `allocate` with the same byte count.
#[no_mangle]
pub unsafe extern "C" fn release(pointer: *mut u8, bytes: u32) {
    drop(Vec::from_raw_parts(pointer as *mut u64, 0, words(bytes)));
}

fn words(bytes: u32) -> usize {
    (bytes as usize + 7) / 8
}

/// Group `g` is values[offsets[g] .. offsets[g + 1]]; offsets has groups + 1 entries and never decreases.
unsafe fn groups_of<'a>(values: *const f64, offsets: *const u32, groups: u32) -> Option<(&'a [f64], &'a [u32])> {
    let offsets = slice::from_raw_parts(offsets, groups as usize + 1);
    if offsets.windows(2).any(|pair| pair[1] < pair[0]) {
        return None;
    }
    let total = offsets[groups as usize] as usize;
    let values = if total == 0 { &[][..] } else { slice::from_raw_parts(values, total) };
    Some((values, offsets))
}

struct Moments {
    mean: f64,
    standard_deviation: f64,
    /// Every value equal (a group of one included): such a group carries no gradient.
    zero_variance: bool,
}

fn moments(group: &[f64], unbiased: bool) -> Moments {
    let count = group.len();
    if count == 0 {
        return Moments { mean: 0.0, standard_deviation: 0.0, zero_variance: true };
    }
    let mut sum = 0.0;
    for value in group {
        sum += value;
    }
    let mean = sum / count as f64;
    let mut squares = 0.0;
    for value in group {
        squares += (value - mean) * (value - mean);
    }
    let divisor = if unbiased { count as f64 - 1.0 } else { count as f64 };
    let standard_deviation = if divisor > 0.0 { (squares / divisor).sqrt() } else { 0.0 };
    let zero_variance = group.iter().all(|value| *value == group[0]);
    Moments { mean, standard_deviation, zero_variance }
}

/// Mean and standard deviation (population, or Bessel-corrected when `unbiased` is 1) of every group.
/// Returns the number of zero-variance groups, or u32::MAX when the offsets decrease.
#[no_mangle]
pub unsafe extern "C" fn group_statistics(
    values: *const f64, offsets: *const u32, groups: u32, unbiased: u32, means: *mut f64, deviations: *mut f64,
) -> u32 {
    let (values, offsets) = match groups_of(values, offsets, groups) { Some(found) => found, None => return u32::MAX };
    let means = slice::from_raw_parts_mut(means, groups as usize);
    let deviations = slice::from_raw_parts_mut(deviations, groups as usize);
    let mut zero_variance_groups = 0;
    for group in 0..groups as usize {
        let statistics = moments(&values[offsets[group] as usize..offsets[group + 1] as usize], unbiased == 1);
        means[group] = statistics.mean;
        deviations[group] = statistics.standard_deviation;
        zero_variance_groups += statistics.zero_variance as u32;
    }
    zero_variance_groups
}

/// Group-relative advantages: x - mean (mean-centred, LSP's Solver), or (x - mean) / (std + epsilon) when
/// `normalize` is 1 (GRPO's std-normalised form). Returns the number of zero-variance groups (u32::MAX on bad
/// offsets).
#[no_mangle]
pub unsafe extern "C" fn group_advantages(
    values: *const f64, offsets: *const u32, groups: u32, normalize: u32, unbiased: u32, epsilon: f64,
    advantages: *mut f64,
) -> u32 {
    let (values, offsets) = match groups_of(values, offsets, groups) { Some(found) => found, None => return u32::MAX };
    let advantages = slice::from_raw_parts_mut(advantages, values.len());
    let mut zero_variance_groups = 0;
    for group in 0..groups as usize {
        let range = offsets[group] as usize..offsets[group + 1] as usize;
        let statistics = moments(&values[range.clone()], unbiased == 1);
        zero_variance_groups += statistics.zero_variance as u32;
        for index in range {
            advantages[index] = if statistics.zero_variance {
                // Equal rewards carry no signal; the rounded mean of equal values can differ from them by an ulp,
                // which std division would blow up into a spurious advantage.
                0.0
            } else if normalize == 1 {
                (values[index] - statistics.mean) / (statistics.standard_deviation + epsilon)
            } else {
                values[index] - statistics.mean
            };
        }
    }
    zero_variance_groups
}

/// Challenger rewards c_i = -V_i + VQ_i (VQ absent when `quality_values` is null: LSP-Zero) and advantages
/// A_i = c_i - mean_k c_k, which is Vbar - V_i for LSP-Zero.
#[no_mangle]
pub unsafe extern "C" fn challenger_advantages(
    values: *const f64, quality_values: *const f64, count: u32, rewards: *mut f64, advantages: *mut f64,
) {
    let count = count as usize;
    if count == 0 {
        return;
    }
    let values = slice::from_raw_parts(values, count);
    let rewards = slice::from_raw_parts_mut(rewards, count);
    let advantages = slice::from_raw_parts_mut(advantages, count);
    for index in 0..count {
        let quality = if quality_values.is_null() { 0.0 } else { *quality_values.add(index) };
        rewards[index] = -values[index] + quality;
    }
    let mut sum = 0.0;
    for reward in rewards.iter() {
        sum += reward;
    }
    let mean = sum / count as f64;
    for index in 0..count {
        advantages[index] = rewards[index] - mean;
    }
}

/// One token's KL estimate from r = log pi - log pi_ref (Schulman's estimators of KL(pi || pi_ref) under
/// samples from pi) and its derivative with respect to log pi: k1 = r (d 1), k2 = r^2 / 2 (d r),
/// k3 = exp(-r) - 1 + r (d 1 - exp(-r)).
fn kl_token(estimator: u32, log_ratio: f64) -> Option<(f64, f64)> {
    match estimator {
        1 => Some((log_ratio, 1.0)),
        2 => Some((0.5 * log_ratio * log_ratio, log_ratio)),
        3 => {
            let inverse_ratio = (-log_ratio).exp();
            Some((inverse_ratio - 1.0 + log_ratio, 1.0 - inverse_ratio))
        }
        _ => None,
    }
}

/// Per-token KL values and derivatives for `count` tokens. Returns a status.
#[no_mangle]
pub unsafe extern "C" fn kl_per_token(
    log_probs: *const f64, reference_log_probs: *const f64, count: u32, estimator: u32, values: *mut f64,
    derivatives: *mut f64,
) -> u32 {
    let count = count as usize;
    if count == 0 {
        return if kl_token(estimator, 0.0).is_some() { OK } else { BAD_ESTIMATOR };
    }
    let log_probs = slice::from_raw_parts(log_probs, count);
    let reference_log_probs = slice::from_raw_parts(reference_log_probs, count);
    let values = slice::from_raw_parts_mut(values, count);
    let derivatives = slice::from_raw_parts_mut(derivatives, count);
    for index in 0..count {
        let (value, derivative) = match kl_token(estimator, log_probs[index] - reference_log_probs[index]) {
            Some(found) => found,
            None => return BAD_ESTIMATOR,
        };
        values[index] = value;
        derivatives[index] = derivative;
    }
    OK
}

/// Per-sequence sums of the token KL estimates (the penalty when the KL goes into the reward). Sequence `s`
/// is tokens offsets[s] .. offsets[s + 1]. Returns a status.
#[no_mangle]
pub unsafe extern "C" fn sequence_kl(
    log_probs: *const f64, reference_log_probs: *const f64, offsets: *const u32, sequences: u32, estimator: u32,
    sums: *mut f64,
) -> u32 {
    let (log_probs, offsets) = match groups_of(log_probs, offsets, sequences) { Some(found) => found, None => return BAD_OFFSETS };
    let reference_log_probs = if log_probs.is_empty() { &[][..] } else { slice::from_raw_parts(reference_log_probs, log_probs.len()) };
    let sums = slice::from_raw_parts_mut(sums, sequences as usize);
    if kl_token(estimator, 0.0).is_none() {
        return BAD_ESTIMATOR;
    }
    for sequence in 0..sequences as usize {
        let mut sum = 0.0;
        for index in offsets[sequence] as usize..offsets[sequence + 1] as usize {
            sum += kl_token(estimator, log_probs[index] - reference_log_probs[index]).unwrap_or((0.0, 0.0)).0;
        }
        sums[sequence] = sum;
    }
    OK
}

/// The policy-gradient loss of one role and its gradient with respect to every token log-probability:
///   L = -scale / D * sum_s sum_t [ A_s * logp_st - beta * k(r_st) ]
/// (the beta term only when `kl_in_loss` is 1; with the KL in the reward it is already inside A_s). On-policy,
/// so the importance ratio is 1 and its gradient is the log-probability's. D is `denominator` when positive,
/// else the number of sequences (`aggregation` 0, sequence-mean of summed log-probabilities, the paper's) or of
/// tokens (`aggregation` 1, token-mean). `results` receives [loss, sum of token KL estimates, tokens].
#[no_mangle]
pub unsafe extern "C" fn policy_loss(
    log_probs: *const f64, reference_log_probs: *const f64, offsets: *const u32, sequences: u32,
    advantages: *const f64, estimator: u32, kl_coefficient: f64, kl_in_loss: u32, aggregation: u32,
    denominator: f64, scale: f64, gradients: *mut f64, results: *mut f64,
) -> u32 {
    let (log_probs, offsets) = match groups_of(log_probs, offsets, sequences) { Some(found) => found, None => return BAD_OFFSETS };
    let tokens = log_probs.len();
    let reference_log_probs = if tokens == 0 { &[][..] } else { slice::from_raw_parts(reference_log_probs, tokens) };
    let gradients = if tokens == 0 { &mut [][..] } else { slice::from_raw_parts_mut(gradients, tokens) };
    let advantages = if sequences == 0 { &[][..] } else { slice::from_raw_parts(advantages, sequences as usize) };
    let results = slice::from_raw_parts_mut(results, 3);
    if kl_token(estimator, 0.0).is_none() {
        return BAD_ESTIMATOR;
    }
    let divisor = if denominator > 0.0 {
        denominator
    } else {
        match aggregation {
            0 => sequences as f64,
            1 => tokens as f64,
            _ => return BAD_AGGREGATION,
        }
    };
    // An empty batch has no loss; dividing by zero would poison the accumulated gradient.
    let factor = if divisor > 0.0 { -scale / divisor } else { 0.0 };
    let beta = if kl_in_loss == 1 { kl_coefficient } else { 0.0 };
    let mut loss = 0.0;
    let mut kl_sum = 0.0;
    for sequence in 0..sequences as usize {
        let advantage = advantages[sequence];
        for index in offsets[sequence] as usize..offsets[sequence + 1] as usize {
            let (kl, kl_derivative) = kl_token(estimator, log_probs[index] - reference_log_probs[index]).unwrap_or((0.0, 0.0));
            kl_sum += kl;
            loss += factor * (advantage * log_probs[index] - beta * kl);
            gradients[index] = factor * (advantage - beta * kl_derivative);
        }
    }
    results[0] = loss;
    results[1] = kl_sum;
    results[2] = tokens as f64;
    OK
}

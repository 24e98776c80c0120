// The length-controlled win rate of AlpacaEval 2.0 (Dubois et al. 2024, "Length-Controlled AlpacaEval"), for one
// model against one reference, from that model's annotations alone.
//
// AlpacaEval's GLM (alpaca_eval/metrics/glm_winrate.py, "length_controlled_v1") models the probability that the
// model's output beats the baseline's on instruction x as
//     logistic( theta  +  phi * tanh(delta / std(delta))  +  psi * gamma_x )
// with delta = len(model output) - len(baseline output) in characters, std the sample standard deviation of delta
// over the annotations (delta is scaled, not centred), theta the model term, phi the length term and gamma_x an
// instruction difficulty estimated beforehand from every leaderboard model's annotations (a file it downloads).
// The LC win rate is the mean over instructions of the prediction with the length term set to zero.
//
// One model's annotations cannot estimate gamma_x (one free parameter per observation), and the leaderboard's
// gamma_x belong to its judge and its baseline, so this fits the repository's "length_controlled_minimal" GLM
// instead: logistic(theta + phi * tanh(delta / std(delta))), soft preferences as targets (as AlpacaEval does), and
// the LC win rate is logistic(theta). The fit is the maximum of the penalised log-likelihood
//     sum_i w_i [p_i log s(eta_i) + (1 - p_i) log(1 - s(eta_i))]  -  (theta^2 + phi^2) / (2 C),   C = 100,
// by Newton's method. The small ridge penalty (sklearn's C = 100, AlpacaEval's fallback C, with L2 in place of its
// cross-validated L1) keeps the coefficients finite when the preferences are separated by length (a deterministic
// longer-is-better judge); with hundreds of items it moves the result by about |theta| / (C n).

export interface LengthObservation {
  /** The model's preference over the reference, in [0, 1]. */
  preference: number;
  /** len(model output) - len(reference output), in characters. */
  lengthDifference: number;
  /** The observation's weight (1 by default; 1/K for each of K answers to one item). */
  weight?: number;
}

export interface LengthControlledFit {
  /** logistic(theta): the predicted win rate with no length difference. */
  winRate: number;
  /** theta, the model term. */
  modelTerm: number;
  /** phi, the coefficient of tanh(delta / std(delta)). */
  lengthTerm: number;
  /** std(delta) (sample standard deviation); 0 when every difference is equal (the length feature is then 0). */
  lengthScale: number;
  iterations: number;
}

/** The inverse of the ridge strength, as sklearn's C. */
export const lengthControlPenaltyC = 100;

const logistic = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** log(1 + e^x) without overflow. */
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** Sample standard deviation (n - 1 in the denominator, as pandas' std); NaN below two values. */
export function sampleStandardDeviation(values: readonly number[]): number {
  if (values.length < 2) return Number.NaN;
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const squares = values.reduce((sum, value) => sum + (value - mean) ** 2, 0);
  return Math.sqrt(squares / (values.length - 1));
}

/** Fits the GLM to the observations and returns the length-controlled win rate with its coefficients. */
export function fitLengthControlled(
  observations: readonly LengthObservation[], c: number = lengthControlPenaltyC,
): LengthControlledFit {
  if (observations.length === 0) return { winRate: Number.NaN, modelTerm: 0, lengthTerm: 0, lengthScale: 0, iterations: 0 };
  for (const { preference, lengthDifference, weight } of observations) {
    if (!(preference >= 0 && preference <= 1) || !Number.isFinite(lengthDifference) || (weight !== undefined && !(weight > 0))) {
      throw new RangeError(`length control: bad observation (preference ${preference}, length difference ${lengthDifference}, weight ${weight})`);
    }
  }
  const scale = sampleStandardDeviation(observations.map((observation) => observation.lengthDifference));
  const usable = Number.isFinite(scale) && scale > 0;
  const rows = observations.map(({ preference, lengthDifference, weight }) => ({
    p: preference, t: usable ? Math.tanh(lengthDifference / scale) : 0, w: weight ?? 1,
  }));
  const penalty = 1 / c;
  const objective = (theta: number, phi: number) => {
    let total = (theta * theta + phi * phi) * penalty / 2;
    for (const { p, t, w } of rows) {
      const eta = theta + phi * t;
      total += w * (p * softplus(-eta) + (1 - p) * softplus(eta));
    }
    return total;
  };
  let theta = 0;
  let phi = 0;
  let value = objective(theta, phi);
  let iterations = 0;
  for (; iterations < 100; iterations++) {
    // Gradient and Hessian of the penalised negative log-likelihood.
    let g0 = theta * penalty;
    let g1 = phi * penalty;
    let h00 = penalty;
    let h01 = 0;
    let h11 = penalty;
    for (const { p, t, w } of rows) {
      const s = logistic(theta + phi * t);
      const residual = w * (s - p);
      const curvature = w * s * (1 - s);
      g0 += residual;
      g1 += residual * t;
      h00 += curvature;
      h01 += curvature * t;
      h11 += curvature * t * t;
    }
    // With no usable length feature (every difference equal) only theta is fitted; phi stays 0.
    const determinant = h00 * h11 - h01 * h01;
    const step0 = usable ? (h11 * g0 - h01 * g1) / determinant : g0 / h00;
    const step1 = usable ? (h00 * g1 - h01 * g0) / determinant : 0;
    // Backtracking keeps every step a descent step (the objective is strictly convex).
    let size = 1;
    let next = objective(theta - step0, phi - step1);
    while (next > value + 1e-14 * Math.abs(value) && size > 1e-10) {
      size /= 2;
      next = objective(theta - size * step0, phi - size * step1);
    }
    theta -= size * step0;
    phi -= size * step1;
    const moved = Math.abs(size * step0) + Math.abs(size * step1);
    value = next;
    if (moved < 1e-13 || Math.abs(g0) + Math.abs(g1) < 1e-13) {
      iterations++;
      break;
    }
  }
  return { winRate: logistic(theta), modelTerm: theta, lengthTerm: phi, lengthScale: usable ? scale : 0, iterations };
}

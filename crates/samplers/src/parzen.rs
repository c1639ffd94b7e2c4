//! Parzen estimators as TPE builds them: a weighted mixture of one kernel per observation plus a
//! prior kernel, over one parameter (univariate TPE) or a group of parameters sharing the
//! kernel index (multivariate TPE).
//!
//! Follows Optuna's `optuna/samplers/_tpe/parzen_estimator.py` (v3.x–4.x), which Watanabe's
//! tutorial ("Tree-Structured Parzen Estimator: Understanding Its Algorithm Components and Their
//! Roles for Better Empirical Performance", 2023) documents:
//! - numeric parameters live on their internal scale (`ln x` for log scales); an integer on a
//!   linear scale is a *discrete* truncated normal with step 1 whose bins are
//!   `[v − ½, v + ½]` inside `[low − ½, high + ½]`; a log-scale integer is continuous on
//!   `[ln(low − ½), ln(high + ½)]` and rounded (Optuna drops the step on log scales);
//! - ordinal parameters are treated as integers over their index (Optuna has no ordinal type;
//!   this keeps neighbours neighbours);
//! - univariate bandwidths: the larger gap to the neighbouring observation, with the prior mean
//!   among the sorted points and the domain edges as outer neighbours, except that the outermost
//!   points take their inner gap (`consider_endpoints = False`); multivariate bandwidths:
//!   `0.2 · n^(−1/(d+4)) · range` (Scott's rule, as in Falkner et al.'s BOHB);
//! - "magic clip": bandwidths clipped to `[range / min(100, 1 + n_kernels), range]`;
//! - the prior kernel: mean at the centre, bandwidth the whole range, weight `prior_weight`;
//! - categorical kernels: `prior_weight / n_kernels` on every choice plus 1 on the observed one,
//!   normalised per kernel (the prior kernel is uniform);
//! - mixture weights: 1 for the newest 25 observations and a ramp `linspace(1/n, 1, n − 25)`
//!   for older ones (Optuna's `default_weights`, hyperopt's linear forgetting), then the prior's,
//!   normalised.

use crate::normal::{LN_SQRT_2PI, log_mass, sample_truncated};
use hposim_core::{Domain, Rng, Value};
use rand::RngExt;

/// Observations kept at full weight before older ones are ramped down (Optuna's and hyperopt's
/// `LF = 25`).
pub const FLAT_WEIGHTS: usize = 25;

/// One dimension on the estimator's internal scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    /// Continuous on `[low, high]` (`step == 0`), or discrete on the grid `low, low + step, …,
    /// high`.
    Numeric {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
        /// Grid step, or 0 for continuous.
        step: f64,
    },
    /// One of `choices` labels.
    Categorical {
        /// Number of choices.
        choices: usize,
    },
}

impl Scale {
    /// The internal scale of `domain`.
    pub fn of(domain: &Domain) -> Self {
        match *domain {
            Domain::Float { low, high, log: false } => Self::Numeric { low, high, step: 0.0 },
            Domain::Float { low, high, log: true } => Self::Numeric { low: low.ln(), high: high.ln(), step: 0.0 },
            Domain::Int { low, high, log: false } => Self::Numeric { low: low as f64, high: high as f64, step: 1.0 },
            Domain::Int { low, high, log: true } => {
                Self::Numeric { low: (low as f64 - 0.5).ln(), high: (high as f64 + 0.5).ln(), step: 0.0 }
            }
            Domain::Ordinal { ref values } => Self::Numeric { low: 0.0, high: values.len().saturating_sub(1) as f64, step: 1.0 },
            Domain::Categorical { ref choices } => Self::Categorical { choices: choices.len() },
        }
    }
}

/// An active value of `domain` on its internal scale.
pub fn to_internal(domain: &Domain, value: Value) -> f64 {
    match (domain, value) {
        (Domain::Float { log: true, .. }, Value::Float(x)) => x.ln(),
        (Domain::Float { .. }, Value::Float(x)) => x,
        (Domain::Int { log: true, .. }, Value::Int(v)) => (v as f64).ln(),
        (Domain::Int { .. }, Value::Int(v)) => v as f64,
        (_, Value::Choice(i)) => f64::from(i),
        _ => f64::NAN,
    }
}

/// The value of `domain` at internal coordinate `x` (rounded and clamped into the domain).
pub fn from_internal(domain: &Domain, x: f64) -> Value {
    if x.is_nan() {
        // Never propose NaN: fall back to the middle of the unit cube.
        return hposim_core::encoding::from_unit(domain, 0.5);
    }
    match *domain {
        Domain::Float { low, high, log } => Value::Float(if log { x.exp() } else { x }.clamp(low, high)),
        Domain::Int { low, high, log } => Value::Int((if log { x.exp() } else { x }.round() as i64).clamp(low, high)),
        Domain::Ordinal { values: ref c } | Domain::Categorical { choices: ref c } => {
            Value::Choice((x.round().max(0.0) as usize).min(c.len().saturating_sub(1)) as u32)
        }
    }
}

/// Settings shared by every estimator of a TPE sampler.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParzenSettings {
    /// Weight of the prior kernel (Optuna's `prior_weight`, default 1).
    pub prior_weight: f64,
    /// Clip bandwidths from below by `range / min(100, 1 + n_kernels)` (default true).
    pub magic_clip: bool,
    /// Joint kernels over a group (Scott's-rule bandwidths) instead of per-parameter gaps.
    pub multivariate: bool,
}

/// Per-dimension kernel parameters, one entry per kernel (observations, then the prior).
#[derive(Clone, Debug, Default)]
struct DimKernels {
    scale: Option<Scale>,
    mus: Vec<f64>,
    sigmas: Vec<f64>,
    inv_sigmas: Vec<f64>,
    /// `−ln σ − ln Z − ln √(2π)` for continuous kernels, `−ln Z` for discrete ones (Z the
    /// truncation mass).
    log_norm: Vec<f64>,
    /// Discrete: the constant of [`discrete_log_mass_bound`], `min(ln(step/σ) − ln √(2π), −ln 2)`.
    bound_const: Vec<f64>,
    /// Categorical: `ln p` per choice and kernel, choice-major (`c * kernels + k`).
    log_probs: Vec<f64>,
}

/// A Parzen estimator over a group of dimensions; reusable across fits without reallocating.
#[derive(Clone, Debug, Default)]
pub struct Parzen {
    dims: Vec<DimKernels>,
    log_weights: Vec<f64>,
    cumulative: Vec<f64>,
    order: Vec<usize>,
    sorted: Vec<f64>,
    // Per-kernel scratch of `log_pdf`.
    terms: Vec<f64>,
    bounds: Vec<f64>,
    /// Log-densities already computed since the last fit, for a one-dimensional categorical or
    /// discrete estimator, whose candidates repeat a few values.
    memo: Vec<(f64, f64)>,
}

/// Kernel terms more than this below the largest are left out of a log-density: each is below
/// `e⁻⁵⁰ ≈ 2·10⁻²²` of it, so even 10⁶ of them change the result by less than 10⁻¹⁵ relative,
/// while computing them (an `exp`, for discrete kernels two `erfc`) dominated the cost.
const NEGLIGIBLE: f64 = 50.0;

/// Optuna's `default_weights(n)`: flat for the newest 25, a ramp from `1/n` for older ones.
pub fn ramp_weight(i: usize, n: usize) -> f64 {
    if n <= FLAT_WEIGHTS || i >= n - FLAT_WEIGHTS {
        return 1.0;
    }
    let ramp = n - FLAT_WEIGHTS;
    // numpy.linspace(1/n, 1, ramp)[i]
    let first = 1.0 / n as f64;
    if ramp == 1 { first } else { first + (1.0 - first) * i as f64 / (ramp - 1) as f64 }
}

/// `ln Z` of a normal truncated to `[a, b]` in standard units; exactly 0 in double precision
/// when both bounds are more than 9 standard deviations away (Φ(−9) ≈ 10⁻¹⁹ < ε/2), which
/// spares two `erfc` for most kernels.
fn log_truncation_mass(alpha: f64, beta: f64) -> f64 {
    if alpha < -9.0 && beta > 9.0 { 0.0 } else { log_mass(alpha, beta) }
}

/// An upper bound on the log-mass of the bin `[x − step/2, x + step/2]` under N(μ, σ²):
/// 0 when the bin holds μ, else `−z²/2 + min(ln ½, ln(step/σ) − ln √(2π))` (`constant`) with
/// `z` the distance to the nearer edge in standard units (the mass is below both
/// `Φ(−z) ≤ ½e^{−z²/2}` and `step/σ · φ(z)`).
fn discrete_log_mass_bound(x: f64, step: f64, mu: f64, inv_sigma: f64, constant: f64) -> f64 {
    let (low, high) = (x - 0.5 * step, x + 0.5 * step);
    let near = if mu < low {
        low - mu
    } else if mu > high {
        mu - high
    } else {
        return 0.0;
    };
    let z = near * inv_sigma;
    -0.5 * z * z + constant
}

/// The unnormalised mixture weights of the observations and their logarithms: Optuna's ramp
/// ([`ramp_weight`]) for `n` observations by default, kept for the last `n` asked (the
/// estimators of one proposal mostly share their `n`, and the logarithms of the ramp were a
/// tenth of a proposal's cost), or weights given per observation ([`LogWeights::use_given`],
/// the hypervolume contributions of multi-objective TPE).
#[derive(Clone, Debug, Default)]
pub struct LogWeights {
    n: usize,
    given: bool,
    weights: Vec<f64>,
    log_weights: Vec<f64>,
    total: f64,
}

impl LogWeights {
    /// Use Optuna's ramp from the next fit on (the default).
    pub fn use_ramp(&mut self) {
        if self.given {
            self.given = false;
            self.weights.clear();
            self.log_weights.clear();
        }
    }

    /// Use `weights` (positive, one per observation, oldest first) for the next fits, until
    /// [`LogWeights::use_ramp`].
    pub fn use_given(&mut self, weights: &[f64]) {
        self.given = true;
        self.n = weights.len();
        self.weights.clear();
        self.weights.extend_from_slice(weights);
        self.log_weights.clear();
        self.log_weights.extend(weights.iter().map(|w| w.ln()));
        self.total = weights.iter().sum();
    }

    /// `(wᵢ, ln wᵢ for i < n, Σ wᵢ)`; given weights must number `n`.
    fn get(&mut self, n: usize) -> (&[f64], &[f64], f64) {
        assert!(!self.given || self.weights.len() == n, "{} weights given for {n} observations", self.weights.len());
        if !self.given && (self.n != n || self.log_weights.len() != n) {
            self.n = n;
            self.weights.clear();
            self.weights.extend((0..n).map(|i| ramp_weight(i, n)));
            self.log_weights.clear();
            self.log_weights.extend(self.weights.iter().map(|w| w.ln()));
            self.total = self.weights.iter().sum();
        }
        (&self.weights, &self.log_weights, self.total)
    }
}

impl Parzen {
    /// Fits the estimator to `n` observations, oldest first, stored row-major in `rows`
    /// (`rows[i * scales.len() + d]`, on the internal scale). For a single numeric dimension,
    /// `sorted` may give the observation indices in increasing order of value (ties by index),
    /// which spares the univariate bandwidths a sort.
    pub fn fit(
        &mut self,
        scales: &[Scale],
        rows: &[f64],
        n: usize,
        settings: &ParzenSettings,
        sorted: Option<&[usize]>,
        weights: &mut LogWeights,
    ) {
        let d = scales.len();
        self.dims.resize_with(d, DimKernels::default);
        self.memo.clear();
        let kernels = n + 1;
        let (raw, log_raw, raw_total) = weights.get(n);
        let total = raw_total + settings.prior_weight;
        let log_total = total.ln();
        self.log_weights.clear();
        self.log_weights.extend(log_raw.iter().map(|lw| lw - log_total));
        self.log_weights.push(settings.prior_weight.ln() - log_total);
        self.cumulative.clear();
        let mut acc = 0.0;
        for w in raw {
            acc += w / total;
            self.cumulative.push(acc);
        }
        self.cumulative.push(acc + settings.prior_weight / total);
        for (j, &scale) in scales.iter().enumerate() {
            let column = |i: usize| rows[i * d + j];
            let kernels_of = &mut self.dims[j];
            kernels_of.scale = Some(scale);
            kernels_of.mus.clear();
            kernels_of.sigmas.clear();
            kernels_of.inv_sigmas.clear();
            kernels_of.log_norm.clear();
            kernels_of.bound_const.clear();
            kernels_of.log_probs.clear();
            match scale {
                Scale::Categorical { choices } => {
                    let base = settings.prior_weight / kernels as f64;
                    kernels_of.log_probs.resize(choices * kernels, 0.0);
                    let observed_row = (base * choices as f64 + 1.0).ln();
                    let (hit, miss) = ((base + 1.0).ln() - observed_row, base.ln() - observed_row);
                    for k in 0..n {
                        let observed = column(k) as usize;
                        for c in 0..choices {
                            kernels_of.log_probs[c * kernels + k] = if c == observed { hit } else { miss };
                        }
                    }
                    for c in 0..choices {
                        kernels_of.log_probs[c * kernels + n] = -(choices as f64).ln();
                    }
                }
                Scale::Numeric { low, high, step } => {
                    let range = high - low + step;
                    // Not (low + high)/2, which overflows for bounds near f64::MAX.
                    let prior_mu = low + 0.5 * (high - low);
                    kernels_of.mus.extend((0..n).map(column));
                    if settings.multivariate {
                        let sigma = 0.2 * (n.max(1) as f64).powf(-1.0 / (d as f64 + 4.0)) * range;
                        kernels_of.sigmas.extend(std::iter::repeat_n(sigma, n));
                    } else {
                        let hint = sorted.filter(|s| d == 1 && s.len() == n);
                        univariate_sigmas(
                            &kernels_of.mus,
                            prior_mu,
                            (low, high, step),
                            hint,
                            (&mut self.order, &mut self.sorted),
                            &mut kernels_of.sigmas,
                        );
                    }
                    let max_sigma = range;
                    let min_sigma = if settings.magic_clip { range / (1.0 + kernels as f64).min(100.0) } else { f64::EPSILON };
                    for s in &mut kernels_of.sigmas {
                        *s = s.clamp(min_sigma, max_sigma);
                    }
                    kernels_of.mus.push(prior_mu);
                    kernels_of.sigmas.push(range);
                    let (a, b) = (low - 0.5 * step, high + 0.5 * step);
                    // Many clipped bandwidths are equal: reuse the last logarithm.
                    let (mut last_sigma, mut last_ln) = (f64::NAN, 0.0);
                    for k in 0..kernels {
                        let (mu, sigma) = (kernels_of.mus[k], kernels_of.sigmas[k]);
                        if sigma != last_sigma {
                            (last_sigma, last_ln) = (sigma, sigma.ln());
                        }
                        let log_z = log_truncation_mass((a - mu) / sigma, (b - mu) / sigma);
                        kernels_of.inv_sigmas.push(1.0 / sigma);
                        if step > 0.0 {
                            kernels_of.bound_const.push((step.ln() - last_ln - LN_SQRT_2PI).min(-std::f64::consts::LN_2));
                        }
                        kernels_of.log_norm.push(if step > 0.0 { -log_z } else { -last_ln - log_z - LN_SQRT_2PI });
                    }
                }
            }
        }
    }

    /// Number of kernels (observations plus the prior).
    pub fn kernels(&self) -> usize {
        self.log_weights.len()
    }

    /// Draws a point from the mixture into `out` (internal scale).
    pub fn sample(&self, rng: &mut Rng, out: &mut [f64]) {
        let kernels = self.kernels();
        let u: f64 = rng.random();
        let k = self.cumulative.partition_point(|&c| c <= u).min(kernels - 1);
        for (x, dim) in out.iter_mut().zip(&self.dims) {
            *x = match dim.scale {
                Some(Scale::Categorical { choices }) => {
                    let mut u: f64 = rng.random();
                    let mut pick = choices - 1;
                    for c in 0..choices {
                        u -= dim.log_probs[c * kernels + k].exp();
                        if u < 0.0 {
                            pick = c;
                            break;
                        }
                    }
                    pick as f64
                }
                Some(Scale::Numeric { low, high, step }) => {
                    let x = sample_truncated(dim.mus[k], dim.sigmas[k], low - 0.5 * step, high + 0.5 * step, rng.random());
                    if step > 0.0 { (low + ((x - low) / step).round() * step).clamp(low, high) } else { x }
                }
                None => f64::NAN,
            };
        }
    }

    /// The mixture's log-density (log-mass for discrete dimensions) at `x` (internal scale).
    ///
    /// Per kernel, the continuous and categorical terms are exact and cheap; a discrete term
    /// first enters as an upper bound. The largest bounded kernel is then computed exactly, and
    /// only kernels whose bound comes within `NEGLIGIBLE` (50, in log units) of the running maximum are
    /// computed exactly and summed.
    pub fn log_pdf(&mut self, x: &[f64]) -> f64 {
        let memoised = self.dims.len() == 1
            && match self.dims[0].scale {
                Some(Scale::Categorical { .. }) => true,
                Some(Scale::Numeric { step, .. }) => step > 0.0,
                None => false,
            };
        if memoised && let Some(&(_, value)) = self.memo.iter().find(|(at, _)| *at == x[0]) {
            return value;
        }
        let value = self.log_pdf_uncached(x);
        if memoised {
            self.memo.push((x[0], value));
        }
        value
    }

    fn log_pdf_uncached(&mut self, x: &[f64]) -> f64 {
        let kernels = self.kernels();
        self.terms.clear();
        self.terms.extend_from_slice(&self.log_weights);
        self.bounds.clear();
        self.bounds.resize(kernels, 0.0);
        let mut discrete = false;
        for (&xj, dim) in x.iter().zip(&self.dims) {
            match dim.scale {
                Some(Scale::Categorical { .. }) => {
                    let row = &dim.log_probs[xj as usize * kernels..(xj as usize + 1) * kernels];
                    self.terms.iter_mut().zip(row).for_each(|(t, lp)| *t += lp);
                }
                Some(Scale::Numeric { step, .. }) if step > 0.0 => {
                    discrete = true;
                    for k in 0..kernels {
                        let bound = discrete_log_mass_bound(xj, step, dim.mus[k], dim.inv_sigmas[k], dim.bound_const[k]) + dim.log_norm[k];
                        self.terms[k] += bound;
                        self.bounds[k] += bound;
                    }
                }
                Some(Scale::Numeric { .. }) => {
                    for (k, t) in self.terms.iter_mut().enumerate() {
                        let z = (xj - dim.mus[k]) * dim.inv_sigmas[k];
                        *t += dim.log_norm[k] - 0.5 * z * z;
                    }
                }
                None => {}
            }
        }
        if !discrete {
            let max = self.terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if max == f64::NEG_INFINITY {
                return max;
            }
            let sum: f64 = self.terms.iter().filter(|&&t| t > max - NEGLIGIBLE).map(|t| (t - max).exp()).sum();
            return max + sum.ln();
        }
        // Exact term of kernel k: the bounds replaced by the true discrete log-masses.
        let dims = &self.dims;
        let exact = |k: usize, bounded: f64, bounds: f64| -> f64 {
            let mut term = bounded - bounds;
            for (&xj, dim) in x.iter().zip(dims) {
                if let Some(Scale::Numeric { step, .. }) = dim.scale
                    && step > 0.0
                {
                    let (mu, inv) = (dim.mus[k], dim.inv_sigmas[k]);
                    term += log_mass((xj - 0.5 * step - mu) * inv, (xj + 0.5 * step - mu) * inv) + dim.log_norm[k];
                }
            }
            term
        };
        let (first, _) =
            self.terms.iter().enumerate().fold((0, f64::NEG_INFINITY), |(bk, bv), (k, &t)| if t > bv { (k, t) } else { (bk, bv) });
        let mut max = exact(first, self.terms[first], self.bounds[first]);
        let mut sum = 1.0;
        if max == f64::NEG_INFINITY {
            sum = 0.0;
        }
        for k in 0..kernels {
            if k == first || self.terms[k] <= max - NEGLIGIBLE {
                continue;
            }
            let term = exact(k, self.terms[k], self.bounds[k]);
            if term > max {
                sum = sum * (max - term).exp() + 1.0;
                max = term;
            } else if term > max - NEGLIGIBLE {
                sum += (term - max).exp();
            }
        }
        if sum == 0.0 { f64::NEG_INFINITY } else { max + sum.ln() }
    }
}

/// Optuna's univariate bandwidths: sort the observations with the prior mean, take for each the
/// larger gap to its neighbours (the domain edges, widened by half a step, bound the outermost),
/// but give the outermost points their inner gap (`consider_endpoints = False`). `hint`, when
/// given, is the observations' order by value (ties by index).
fn univariate_sigmas(
    mus: &[f64],
    prior_mu: f64,
    (low, high, step): (f64, f64, f64),
    hint: Option<&[usize]>,
    (order, sorted): (&mut Vec<usize>, &mut Vec<f64>),
    out: &mut Vec<f64>,
) {
    let n = mus.len();
    let value = |i: usize| if i < n { mus[i] } else { prior_mu };
    order.clear();
    match hint {
        Some(hint) => {
            // The prior (index n) goes after every observation of equal value.
            let at = hint.partition_point(|&i| mus[i] <= prior_mu);
            order.extend_from_slice(&hint[..at]);
            order.push(n);
            order.extend_from_slice(&hint[at..]);
        }
        None => {
            order.extend(0..=n);
            order.sort_by(|&a, &b| value(a).total_cmp(&value(b)).then(a.cmp(&b)));
        }
    }
    // sorted = [low − step/2, sorted points…, high + step/2]
    sorted.clear();
    sorted.push(low - 0.5 * step);
    sorted.extend(order.iter().map(|&i| value(i)));
    sorted.push(high + 0.5 * step);
    let m = sorted.len();
    out.clear();
    out.resize(n, 0.0);
    for (rank, &i) in order.iter().enumerate() {
        if i == n {
            continue;
        }
        let p = rank + 1;
        let mut sigma = (sorted[p] - sorted[p - 1]).max(sorted[p + 1] - sorted[p]);
        if m >= 4 {
            if rank == 0 {
                sigma = sorted[2] - sorted[1];
            } else if rank == order.len() - 1 {
                sigma = sorted[m - 2] - sorted[m - 3];
            }
        }
        out[i] = sigma;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rand::SeedableRng;

    const SETTINGS: ParzenSettings = ParzenSettings { prior_weight: 1.0, magic_clip: true, multivariate: false };

    #[test]
    fn weights_are_flat_for_the_newest_25_and_a_ramp_before() {
        // numpy.linspace(1/30, 1, 5) = [0.0333, 0.275, 0.5167, 0.7583, 1.0]
        let w: Vec<f64> = (0..30).map(|i| ramp_weight(i, 30)).collect();
        let expected = [1.0 / 30.0, 0.275, 0.516_666_666_666_666_7, 0.758_333_333_333_333_4, 1.0];
        for (got, want) in w.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{w:?}");
        }
        assert!(w[5..].iter().all(|&v| v == 1.0));
        assert!((0..25).all(|i| ramp_weight(i, 25) == 1.0));
    }

    #[test]
    fn univariate_bandwidths_are_the_larger_gap_then_magic_clipped() {
        // Domain [0, 10], observations 1 and 1.5, prior mean 5: sorted with edges
        // [0, 1, 1.5, 5, 10]. The outermost observation (1) takes its inner gap 0.5; 1.5 takes
        // max(0.5, 3.5) = 3.5. Magic clip: 3 kernels, minimum 10 / min(100, 4) = 2.5.
        let mut parzen = Parzen::default();
        parzen.fit(&[Scale::Numeric { low: 0.0, high: 10.0, step: 0.0 }], &[1.0, 1.5], 2, &SETTINGS, None, &mut LogWeights::default());
        assert_eq!(parzen.dims[0].sigmas, vec![2.5, 3.5, 10.0]);
        assert_eq!(parzen.dims[0].mus, vec![1.0, 1.5, 5.0]);
        // Mixture weights: two observations and the prior, all 1, normalised.
        for lw in &parzen.log_weights {
            assert!((lw.exp() - 1.0 / 3.0).abs() < 1e-12);
        }
    }

    #[test]
    fn multivariate_bandwidths_follow_scotts_rule() {
        // 0.2 · n^(−1/(d+4)) · range with n = 4, d = 2: 0.2 · 4^(−1/6) · 10 = 1.5874; magic clip
        // minimum 10 / 6 = 1.667 wins.
        let mut parzen = Parzen::default();
        let scales = [Scale::Numeric { low: 0.0, high: 10.0, step: 0.0 }, Scale::Categorical { choices: 3 }];
        let rows = [1.0, 0.0, 2.0, 1.0, 3.0, 2.0, 4.0, 0.0];
        parzen.fit(&scales, &rows, 4, &ParzenSettings { multivariate: true, ..SETTINGS }, None, &mut LogWeights::default());
        assert!(parzen.dims[0].sigmas[..4].iter().all(|&s| (s - 10.0 / 6.0).abs() < 1e-12), "{:?}", parzen.dims[0].sigmas);
        // Categorical kernel of observation 0 (choice 0): (1/5 + 1) / (3/5 + 1) = 0.75 on it,
        // (1/5) / (8/5) = 0.125 elsewhere; the prior kernel is uniform.
        // choice-major: log_probs[c * 5 + k].
        let p = |c: usize, k: usize| parzen.dims[1].log_probs[c * 5 + k].exp();
        assert!((p(0, 0) - 0.75).abs() < 1e-12 && (p(1, 0) - 0.125).abs() < 1e-12 && (p(2, 0) - 0.125).abs() < 1e-12);
        assert!((0..3).all(|c| (p(c, 4) - 1.0 / 3.0).abs() < 1e-12));
    }

    #[test]
    fn the_prior_alone_is_a_truncated_normal() {
        // N(5, 10²) truncated to [0, 10] at x = 5: −ln 10 − ln √(2π) − ln(Φ(0.5) − Φ(−0.5)),
        // with Φ(0.5) − Φ(−0.5) = 0.3829249225480262 (scipy.stats.norm.cdf(0.5) - norm.cdf(-0.5)).
        let mut parzen = Parzen::default();
        parzen.fit(&[Scale::Numeric { low: 0.0, high: 10.0, step: 0.0 }], &[], 0, &SETTINGS, None, &mut LogWeights::default());
        let expected = -(10.0f64).ln() - LN_SQRT_2PI - 0.382_924_922_548_026_2f64.ln();
        assert!((parzen.log_pdf(&[5.0]) - expected).abs() < 1e-12);
        // A discrete dimension's masses sum to one.
        parzen.fit(&[Scale::Numeric { low: 1.0, high: 6.0, step: 1.0 }], &[2.0, 2.0, 5.0], 3, &SETTINGS, None, &mut LogWeights::default());
        let total: f64 = (1..=6).map(|v| parzen.log_pdf(&[f64::from(v)]).exp()).sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
    }

    #[test]
    fn samples_stay_in_bounds_and_on_the_grid() {
        let mut parzen = Parzen::default();
        let scales = [Scale::Numeric { low: 1.0, high: 6.0, step: 1.0 }, Scale::Numeric { low: -2.0, high: 0.5, step: 0.0 }];
        parzen.fit(&scales, &[1.0, 0.4, 6.0, -2.0], 2, &SETTINGS, None, &mut LogWeights::default());
        let mut rng = Rng::seed_from_u64(3);
        let mut x = [0.0; 2];
        for _ in 0..2000 {
            parzen.sample(&mut rng, &mut x);
            assert!((1.0..=6.0).contains(&x[0]) && x[0].fract() == 0.0, "{x:?}");
            assert!((-2.0..=0.5).contains(&x[1]), "{x:?}");
        }
    }

    /// Every kernel's exact term, summed without shortcuts.
    fn brute_force_log_pdf(parzen: &Parzen, x: &[f64]) -> f64 {
        let kernels = parzen.kernels();
        let terms: Vec<f64> = (0..kernels)
            .map(|k| {
                let mut t = parzen.log_weights[k];
                for (&xj, dim) in x.iter().zip(&parzen.dims) {
                    t += match dim.scale.unwrap() {
                        Scale::Categorical { .. } => dim.log_probs[xj as usize * kernels + k],
                        Scale::Numeric { step, .. } if step > 0.0 => {
                            let (mu, s) = (dim.mus[k], dim.sigmas[k]);
                            log_mass((xj - 0.5 * step - mu) / s, (xj + 0.5 * step - mu) / s) + dim.log_norm[k]
                        }
                        Scale::Numeric { .. } => {
                            let z = (xj - dim.mus[k]) / dim.sigmas[k];
                            dim.log_norm[k] - 0.5 * z * z
                        }
                    };
                }
                t
            })
            .collect();
        let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln()
    }

    #[test]
    fn skipping_negligible_kernels_matches_the_brute_force_sum() {
        let scales = [
            Scale::Numeric { low: 0.0, high: 1.0, step: 0.0 },
            Scale::Numeric { low: 1.0, high: 30.0, step: 1.0 },
            Scale::Categorical { choices: 4 },
        ];
        let mut rng = Rng::seed_from_u64(9);
        for (n, multivariate) in [(5, false), (300, true), (300, false), (2000, true)] {
            let rows: Vec<f64> = (0..n)
                .flat_map(|_| [rng.random::<f64>().powi(3), f64::from(rng.random_range(1..=30u32)), f64::from(rng.random_range(0..4u32))])
                .collect();
            let mut parzen = Parzen::default();
            parzen.fit(&scales, &rows, n, &ParzenSettings { multivariate, ..SETTINGS }, None, &mut LogWeights::default());
            let mut x = [0.0; 3];
            for _ in 0..200 {
                parzen.sample(&mut rng, &mut x);
                let (fast, slow) = (parzen.log_pdf(&x), brute_force_log_pdf(&parzen, &x));
                assert!((fast - slow).abs() <= 1e-12 * slow.abs().max(1.0), "n = {n}: {fast} vs {slow} at {x:?}");
            }
        }
    }

    #[test]
    fn a_sort_hint_gives_the_same_bandwidths() {
        let rows = [0.3, 0.1, 0.7, 0.1, 0.5, 0.3];
        let scales = [Scale::Numeric { low: 0.0, high: 1.0, step: 0.0 }];
        let (mut hinted, mut sorted) = (Parzen::default(), Parzen::default());
        hinted.fit(&scales, &rows, 6, &SETTINGS, Some(&[1, 3, 0, 5, 4, 2]), &mut LogWeights::default());
        sorted.fit(&scales, &rows, 6, &SETTINGS, None, &mut LogWeights::default());
        assert_eq!(hinted.dims[0].sigmas, sorted.dims[0].sigmas);
    }
}

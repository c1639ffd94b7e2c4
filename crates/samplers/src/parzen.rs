//! Parzen estimators as TPE builds them: a weighted mixture of one kernel per observation plus a
//! prior kernel, over one parameter (univariate TPE) or a group of parameters sharing the
//! kernel index (multivariate TPE).
//!
//! Follows Optuna's `optuna/samplers/_tpe/parzen_estimator.py` (v5.0; the bandwidth rules of
//! v3.x–4.x and of hyperopt remain as [`Bandwidth`] variants), which Watanabe's tutorial
//! ("Tree-Structured Parzen Estimator: Understanding Its Algorithm Components and Their Roles for
//! Better Empirical Performance", 2023) documents:
//! - numeric parameters live on their internal scale (`ln x` for log scales); an integer on a
//!   linear scale is a *discrete* truncated normal with step 1 whose bins are
//!   `[v − ½, v + ½]` inside `[low − ½, high + ½]`; a log-scale integer is discrete too, with
//!   bins `[ln(v − ½), ln(v + ½)]` inside `[ln(low − ½), ln(high + ½)]` (Optuna 5.0), or, as
//!   Optuna 3.x–4.x have it, continuous on that interval and rounded ([`Scale::of`]);
//! - ordinal parameters are treated as integers over their index (Optuna has no ordinal type;
//!   this keeps neighbours neighbours);
//! - bandwidths ([`Bandwidth`]): Optuna 5.0 gives every kernel, in univariate and multivariate
//!   mode alike, per dimension the larger gap to its neighbouring observations, with the domain
//!   edges as outer neighbours, except that the outermost points take their inner gap
//!   (`consider_endpoints = False`); hyperopt and Optuna ≤ 4.x univariate put the prior's mean
//!   among the sorted points; Optuna ≤ 4.x multivariate uses `0.2 · n^(−1/(d+4)) · range`
//!   (Scott's rule, as in Falkner et al.'s BOHB);
//! - "magic clip": bandwidths clipped to `[range / min(100, 1 + n_kernels), range]`;
//! - the prior kernel: mean at the centre, bandwidth the whole range, weight `prior_weight`;
//! - categorical kernels: `prior_weight / n_kernels` on every choice plus 1 on the observed one,
//!   normalised per kernel (the prior kernel is uniform);
//! - mixture weights: 1 for the newest 25 observations and a ramp `linspace(1/n, 1, n − 25)`
//!   for older ones (Optuna's `default_weights`, hyperopt's linear forgetting), then the prior's,
//!   normalised.

use crate::normal::{LN_SQRT_2PI, TruncatedNormal, log_mass};
use hposim_core::{Domain, Rng, Value};
use rand::RngExt;
use serde::{Deserialize, Serialize};

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
    /// An integer on a log scale, internally `ln v`, scored by the mass of its bin
    /// `[ln(v − ½), ln(v + ½)]` under kernels truncated to `[ln(low − ½), ln(high + ½)]`
    /// (Optuna 5.0's `_BatchedDiscreteTruncLogNormDistributions`).
    LogInteger {
        /// Smallest value (at least 1).
        low: f64,
        /// Largest value.
        high: f64,
    },
    /// One of `choices` labels.
    Categorical {
        /// Number of choices.
        choices: usize,
    },
}

impl Scale {
    /// The internal scale of `domain`. A log-scale integer is binned ([`Scale::LogInteger`], Optuna
    /// 5.0) when `log_bins` holds, and otherwise continuous on `[ln(low − ½), ln(high + ½)]` and
    /// rounded (Optuna 3.x–4.x, which drop the step on log scales).
    pub fn of(domain: &Domain, log_bins: bool) -> Self {
        match *domain {
            Domain::Int { low, high, log: true } if log_bins => Self::LogInteger { low: low as f64, high: high as f64 },
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

    /// The interval the kernels are truncated to, on the internal scale (a grid's ends widened
    /// by half a step); empty for categorical scales.
    fn interval(self) -> (f64, f64) {
        match self {
            Self::Numeric { low, high, step } => (low - 0.5 * step, high + 0.5 * step),
            Self::LogInteger { low, high } => ((low - 0.5).ln(), (high + 0.5).ln()),
            Self::Categorical { .. } => (f64::NAN, f64::NAN),
        }
    }

    /// Whether values are scored by the mass of a bin rather than by a density.
    fn is_discrete(self) -> bool {
        match self {
            Self::Numeric { step, .. } => step > 0.0,
            Self::LogInteger { .. } => true,
            Self::Categorical { .. } => false,
        }
    }

    /// The bin of internal coordinate `x` on a discrete numeric scale.
    fn bin(self, x: f64) -> Option<(f64, f64)> {
        match self {
            Self::Numeric { step, .. } if step > 0.0 => Some((x - 0.5 * step, x + 0.5 * step)),
            Self::LogInteger { .. } => {
                let v = x.exp().round();
                Some(((v - 0.5).ln(), (v + 0.5).ln()))
            }
            _ => None,
        }
    }

    /// The widest bin on the internal scale (the smallest value's, on a log scale).
    fn widest_bin(self) -> f64 {
        match self {
            Self::Numeric { step, .. } => step,
            Self::LogInteger { low, .. } => ((low + 0.5) / (low - 0.5)).ln(),
            Self::Categorical { .. } => f64::NAN,
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

/// How the observation kernels' bandwidths are chosen (before the magic clip).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bandwidth {
    /// Optuna 5.0, univariate and multivariate alike (`parzen_estimator.py`,
    /// `_calculate_numerical_distributions`): per dimension, the larger gap to the neighbouring
    /// observations, the domain's edges bounding the outermost, which take their inner gap
    /// (`consider_endpoints = False`).
    #[default]
    Gaps,
    /// As [`Bandwidth::Gaps`] with the prior's mean sorted among the observations: hyperopt's
    /// `adaptive_parzen_normal` and Optuna 3.x–4.x in univariate mode.
    GapsWithPrior,
    /// Scott's rule `0.2 · n^(−1/(d+4)) · range` for every kernel of a `d`-dimensional group:
    /// Optuna 3.x–4.x in multivariate mode (Falkner et al.'s BOHB).
    Scott,
}

/// Settings shared by every estimator of a TPE sampler.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParzenSettings {
    /// Weight of the prior kernel (Optuna's `prior_weight`, default 1).
    pub prior_weight: f64,
    /// Clip bandwidths from below by `range / min(100, 1 + n_kernels)` (default true).
    pub magic_clip: bool,
    /// The bandwidth rule.
    pub bandwidth: Bandwidth,
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
    /// Numeric: `(μ, σ, ln σ, ln Z)` per kernel of the last fit, by position, for the scale
    /// `normalised_scale` (see [`DimKernels::normalisation`]).
    normalised: Vec<(f64, f64, f64, f64)>,
    /// The same for the fit in progress; swapped with `normalised` when it ends.
    normalising: Vec<(f64, f64, f64, f64)>,
    /// The scale `normalised` was computed for.
    normalised_scale: Option<Scale>,
}

/// Where a kernel's normalisation is looked for in the last fit ([`DimKernels::normalisation`]):
/// its own place, then up to two places either side, nearest first (where most are found).
const NORMALISED_MOVES: [isize; 5] = [0, -1, 1, -2, 2];

impl DimKernels {
    /// `(ln σ, ln Z)` of kernel `k`, N(μ, σ²) truncated to `[a, b]`, taken from the last fit's
    /// when a kernel there had the same centre and bandwidth at nearly the same position.
    /// Between two proposals most kernels keep both (one observation arrives; gap bandwidths
    /// change only beside it in each dimension, and clipped ones only while the kernels number
    /// under 100), and kernels are in trial order, so a kernel moves by at most a place or two
    /// (an observation joining the estimator, or the split moving one across). A fit then
    /// mostly finds them instead of taking a logarithm and two `erfc` per kernel and dimension.
    /// The values are those computed the first time, to the bit. Otherwise `ln σ` is taken
    /// from `last` (the last bandwidth whose logarithm was taken, and it) when σ equals it:
    /// many bandwidths are equal within a fit (Scott's rule gives all the same; the magic clip
    /// gives many the same minimum), and they change together from fit to fit.
    fn normalisation(&mut self, k: usize, mu: f64, sigma: f64, (a, b): (f64, f64), last: &mut (f64, f64)) -> (f64, f64) {
        // Any entry with the same centre and bandwidth holds the same values, whichever is found.
        let found = NORMALISED_MOVES
            .iter()
            .find_map(|&moved| self.normalised.get(k.wrapping_add_signed(moved)).filter(|e| e.0 == mu && e.1 == sigma));
        let (ln_sigma, log_z) = match found {
            Some(&(_, _, ln_sigma, log_z)) => (ln_sigma, log_z),
            None => {
                if sigma != last.0 {
                    *last = (sigma, sigma.ln());
                }
                (last.1, log_truncation_mass((a - mu) / sigma, (b - mu) / sigma))
            }
        };
        self.normalising.push((mu, sigma, ln_sigma, log_z));
        (ln_sigma, log_z)
    }

    /// Forgets the last fit's normalisations when the scale changed, and starts a fit's.
    fn start_normalisation(&mut self, scale: Scale) {
        if self.normalised_scale != Some(scale) {
            self.normalised.clear();
            self.normalised_scale = Some(scale);
        }
        self.normalising.clear();
    }

    /// The fit's normalisations become the last fit's.
    fn end_normalisation(&mut self) {
        std::mem::swap(&mut self.normalised, &mut self.normalising);
    }
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
    /// Scratch of `log_pdf`: the discrete dimensions' bins at the point (dimension, bin).
    bins: Vec<(usize, (f64, f64))>,
    /// Discrete log-masses computed since the last fit, `MEMO_SLOTS` slots per discrete
    /// dimension, direct-mapped (generation, the bin's lower edge, the kernel's centre and
    /// inverse bandwidth, the log-mass).
    masses: Vec<(u32, f64, f64, f64, f64)>,
    /// The truncated kernels drawn from since the last fit, `(generation, kernel)` per
    /// dimension and kernel (`j * kernels + k`): a proposal draws its candidates mostly from a
    /// few kernels, whose truncation (two `erfc`) is computed once.
    truncated: Vec<(u32, TruncatedNormal)>,
    /// The generation of `masses`' and `truncated`'s valid entries: one per fit.
    generation: u32,
}

/// log₂ of [`MEMO_SLOTS`].
const MEMO_BITS: u32 = 10;
/// Slots per discrete dimension of the log-masses an estimator remembers between fits: a lookup
/// costs a hash and a comparison, against two `erfc` and a logarithm for a mass.
const MEMO_SLOTS: usize = 1 << MEMO_BITS;

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

/// An upper bound on the log-mass of the bin `[low, high]` under N(μ, σ²): 0 when the bin
/// holds μ, else `−z²/2 + min(ln ½, ln(w/σ) − ln √(2π))` (`constant`, `w` the widest bin) with
/// `z` the distance to the nearer edge in standard units (the mass is below both
/// `Φ(−z) ≤ ½e^{−z²/2}` and `w/σ · φ(z)`).
fn discrete_log_mass_bound((low, high): (f64, f64), mu: f64, inv_sigma: f64, constant: f64) -> f64 {
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
    /// (`rows[i * scales.len() + d]`, on the internal scale). `sorted` may give, dimension after
    /// dimension, the observation indices in increasing order of value (ties by index), which
    /// spares the gap bandwidths a sort; it is ignored unless it holds `n` indices per dimension.
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
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.masses.fill((0, 0.0, 0.0, 0.0, 0.0));
            self.truncated.fill((0, TruncatedNormal::default()));
            self.generation = 1;
        }
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
                    let observed_row = (base * choices as f64 + 1.0).ln();
                    let (hit, miss) = ((base + 1.0).ln() - observed_row, base.ln() - observed_row);
                    let prior = -(choices as f64).ln();
                    // Choice-major: a row per choice, the prior's entry last. The rows are
                    // filled with `miss` first and each kernel's hit set after: in one pass
                    // choosing between the two, the compiler moved the logarithm of `miss` into
                    // the loop, a logarithm per kernel and choice (a twentieth of a proposal's
                    // cost).
                    for _ in 0..choices {
                        kernels_of.log_probs.extend(std::iter::repeat_n(miss, n));
                        kernels_of.log_probs.push(prior);
                    }
                    for k in 0..n {
                        if let Some(entry) = kernels_of.log_probs.get_mut(column(k) as usize * kernels + k) {
                            *entry = hit;
                        }
                    }
                }
                Scale::Numeric { .. } | Scale::LogInteger { .. } => {
                    let (a, b) = scale.interval();
                    let range = b - a;
                    // Not (a + b)/2, which overflows for bounds near f64::MAX.
                    let prior_mu = a + 0.5 * (b - a);
                    kernels_of.mus.extend((0..n).map(column));
                    if settings.bandwidth == Bandwidth::Scott {
                        let sigma = 0.2 * (n.max(1) as f64).powf(-1.0 / (d as f64 + 4.0)) * range;
                        kernels_of.sigmas.extend(std::iter::repeat_n(sigma, n));
                    } else {
                        let hint = sorted.filter(|s| s.len() == n * d).map(|s| &s[j * n..(j + 1) * n]);
                        let prior = (settings.bandwidth == Bandwidth::GapsWithPrior).then_some(prior_mu);
                        gap_sigmas(&kernels_of.mus, prior, (a, b), hint, (&mut self.order, &mut self.sorted), &mut kernels_of.sigmas);
                    }
                    let max_sigma = range;
                    let min_sigma = if settings.magic_clip { range / (1.0 + kernels as f64).min(100.0) } else { f64::EPSILON };
                    for s in &mut kernels_of.sigmas {
                        *s = s.clamp(min_sigma, max_sigma);
                    }
                    kernels_of.mus.push(prior_mu);
                    kernels_of.sigmas.push(range);
                    let discrete = scale.is_discrete();
                    let widest_ln = scale.widest_bin().ln();
                    kernels_of.start_normalisation(scale);
                    let mut last = (f64::NAN, f64::NAN);
                    for k in 0..kernels {
                        let (mu, sigma) = (kernels_of.mus[k], kernels_of.sigmas[k]);
                        let (ln_sigma, log_z) = kernels_of.normalisation(k, mu, sigma, (a, b), &mut last);
                        kernels_of.inv_sigmas.push(1.0 / sigma);
                        if discrete {
                            kernels_of.bound_const.push((widest_ln - ln_sigma - LN_SQRT_2PI).min(-std::f64::consts::LN_2));
                        }
                        kernels_of.log_norm.push(if discrete { -log_z } else { -ln_sigma - log_z - LN_SQRT_2PI });
                    }
                    kernels_of.end_normalisation();
                }
            }
        }
    }

    /// Number of kernels (observations plus the prior).
    pub fn kernels(&self) -> usize {
        self.log_weights.len()
    }

    /// Draws a point from the mixture into `out` (internal scale).
    pub fn sample(&mut self, rng: &mut Rng, out: &mut [f64]) {
        let kernels = self.kernels();
        let u: f64 = rng.random();
        let k = self.cumulative.partition_point(|&c| c <= u).min(kernels - 1);
        if self.truncated.len() < self.dims.len() * kernels {
            self.truncated.resize(self.dims.len() * kernels, (0, TruncatedNormal::default()));
        }
        let generation = self.generation;
        for (j, (x, dim)) in out.iter_mut().zip(&self.dims).enumerate() {
            let mut draw = |(a, b): (f64, f64), u: f64| {
                let slot = &mut self.truncated[j * kernels + k];
                if slot.0 != generation {
                    *slot = (generation, TruncatedNormal::new(dim.mus[k], dim.sigmas[k], a, b));
                }
                slot.1.draw(u)
            };
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
                Some(scale @ Scale::Numeric { low, high, step }) => {
                    let (a, b) = scale.interval();
                    let x = draw((a, b), rng.random());
                    if step > 0.0 { (low + ((x - low) / step).round() * step).clamp(low, high) } else { x }
                }
                Some(scale @ Scale::LogInteger { low, high }) => {
                    let (a, b) = scale.interval();
                    let x = draw((a, b), rng.random());
                    x.exp().round().clamp(low, high).ln()
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
                Some(scale) => scale.is_discrete(),
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
        self.bins.clear();
        for (j, (&xj, dim)) in x.iter().zip(&self.dims).enumerate() {
            match dim.scale {
                Some(Scale::Categorical { .. }) => {
                    let row = &dim.log_probs[xj as usize * kernels..(xj as usize + 1) * kernels];
                    self.terms.iter_mut().zip(row).for_each(|(t, lp)| *t += lp);
                }
                Some(scale) if scale.is_discrete() => {
                    let bin = scale.bin(xj).unwrap_or((f64::NAN, f64::NAN));
                    let per_kernel = dim.mus.iter().zip(&dim.inv_sigmas).zip(&dim.bound_const).zip(&dim.log_norm);
                    let bounded = self.terms.iter_mut().zip(per_kernel).map(|(t, (((&mu, &inv), &constant), &log_norm))| {
                        let bound = discrete_log_mass_bound(bin, mu, inv, constant) + log_norm;
                        *t += bound;
                        bound
                    });
                    if self.bins.is_empty() {
                        // The first discrete dimension writes the bounds (no zeroing beforehand).
                        self.bounds.clear();
                        self.bounds.extend(bounded);
                    } else {
                        self.bounds.iter_mut().zip(bounded).for_each(|(b, bound)| *b += bound);
                    }
                    self.bins.push((j, bin));
                }
                Some(Scale::Numeric { .. } | Scale::LogInteger { .. }) => {
                    let per_kernel = dim.mus.iter().zip(&dim.inv_sigmas).zip(&dim.log_norm);
                    for (t, ((&mu, &inv), &log_norm)) in self.terms.iter_mut().zip(per_kernel) {
                        let z = (xj - mu) * inv;
                        *t += log_norm - 0.5 * z * z;
                    }
                }
                None => {}
            }
        }
        if self.bins.is_empty() {
            let max = self.terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if max == f64::NEG_INFINITY {
                return max;
            }
            let sum: f64 = self.terms.iter().filter(|&&t| t > max - NEGLIGIBLE).map(|t| (t - max).exp()).sum();
            return max + sum.ln();
        }
        // Exact term of kernel k: the bounds replaced by the true discrete log-masses. Kernels
        // share their centre and bandwidth often (integer observations, clipped bandwidths), and
        // a proposal's candidates their integer values, so the masses computed since the fit are
        // remembered in a direct-mapped table per discrete dimension (`MEMO_SLOTS` slots, keyed
        // by the bin and the kernel, an entry valid for the fit's generation).
        if self.masses.len() < self.bins.len() * MEMO_SLOTS {
            self.masses.resize(self.bins.len() * MEMO_SLOTS, (0, 0.0, 0.0, 0.0, 0.0));
        }
        let (dims, bins, masses, generation) = (&self.dims, &self.bins, &mut self.masses, self.generation);
        let mut exact = |k: usize, bounded: f64, bounds: f64| -> f64 {
            let mut term = bounded - bounds;
            for (i, &(j, (low, high))) in bins.iter().enumerate() {
                let dim = &dims[j];
                let (mu, inv) = (dim.mus[k], dim.inv_sigmas[k]);
                let key = mu.to_bits() ^ inv.to_bits().rotate_left(29) ^ low.to_bits().rotate_left(13);
                let hash = key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - MEMO_BITS);
                let slot = &mut masses[i * MEMO_SLOTS + hash as usize];
                let mass = if slot.0 == generation && slot.1 == low && slot.2 == mu && slot.3 == inv {
                    slot.4
                } else {
                    let mass = log_mass((low - mu) * inv, (high - mu) * inv);
                    *slot = (generation, low, mu, inv, mass);
                    mass
                };
                term += mass + dim.log_norm[k];
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

/// Gap bandwidths of one dimension: sort the observations (with the prior mean when `prior` is
/// given), take for each the larger gap to its neighbours (the domain edges, widened by half a
/// step, bound the outermost: `low` and `high`), but give the outermost points their inner gap
/// (`consider_endpoints = False`). `hint`, when given, is the observations' order by value (ties
/// by index).
fn gap_sigmas(
    mus: &[f64],
    prior: Option<f64>,
    (low, high): (f64, f64),
    hint: Option<&[usize]>,
    (order, sorted): (&mut Vec<usize>, &mut Vec<f64>),
    out: &mut Vec<f64>,
) {
    let n = mus.len();
    let prior_mu = prior.unwrap_or(f64::NAN);
    let value = |i: usize| if i < n { mus[i] } else { prior_mu };
    order.clear();
    match (hint, prior) {
        (Some(hint), Some(prior_mu)) => {
            // The prior (index n) goes after every observation of equal value.
            let at = hint.partition_point(|&i| mus[i] <= prior_mu);
            order.extend_from_slice(&hint[..at]);
            order.push(n);
            order.extend_from_slice(&hint[at..]);
        }
        (Some(hint), None) => order.extend_from_slice(hint),
        (None, _) => {
            order.extend(0..n + usize::from(prior.is_some()));
            order.sort_by(|&a, &b| value(a).total_cmp(&value(b)).then(a.cmp(&b)));
        }
    }
    // sorted = [low, sorted points…, high] (the interval's ends: a grid's widened by half a step)
    sorted.clear();
    sorted.push(low);
    sorted.extend(order.iter().map(|&i| value(i)));
    sorted.push(high);
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

    const SETTINGS: ParzenSettings = ParzenSettings { prior_weight: 1.0, magic_clip: true, bandwidth: Bandwidth::Gaps };
    const WITH_PRIOR: ParzenSettings = ParzenSettings { bandwidth: Bandwidth::GapsWithPrior, ..SETTINGS };

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
    fn bandwidths_with_the_prior_among_the_gaps_follow_hyperopt_and_optuna_4() {
        // Domain [0, 10], observations 1 and 1.5, prior mean 5: sorted with edges
        // [0, 1, 1.5, 5, 10]. The outermost observation (1) takes its inner gap 0.5; 1.5 takes
        // max(0.5, 3.5) = 3.5. Magic clip: 3 kernels, minimum 10 / min(100, 4) = 2.5.
        let mut parzen = Parzen::default();
        parzen.fit(&[Scale::Numeric { low: 0.0, high: 10.0, step: 0.0 }], &[1.0, 1.5], 2, &WITH_PRIOR, None, &mut LogWeights::default());
        assert_eq!(parzen.dims[0].sigmas, vec![2.5, 3.5, 10.0]);
        assert_eq!(parzen.dims[0].mus, vec![1.0, 1.5, 5.0]);
        // Mixture weights: two observations and the prior, all 1, normalised.
        for lw in &parzen.log_weights {
            assert!((lw.exp() - 1.0 / 3.0).abs() < 1e-12);
        }
    }

    #[test]
    fn gap_bandwidths_equal_optuna_5() {
        // Reference: Optuna 5.0.0, `_ParzenEstimator` with prior_weight 1, magic clip, no
        // endpoints, default_weights (the code is in the comment of the second case):
        //   _ParzenEstimator({"x": np.array([1.0, 1.5, 7.0])}, {"x": FloatDistribution(0, 10)}, p)
        //   → mu [1, 1.5, 7, 5], sigma [2, 5.5, 5.5, 10]
        // (sorted with edges [0, 1, 1.5, 7, 10], no prior among them: 1 takes its inner gap
        // 0.5, clipped to 10/5 = 2; 1.5 takes max(0.5, 5.5); 7 its inner gap 5.5).
        let mut parzen = Parzen::default();
        let scale = [Scale::Numeric { low: 0.0, high: 10.0, step: 0.0 }];
        parzen.fit(&scale, &[1.0, 1.5, 7.0], 3, &SETTINGS, None, &mut LogWeights::default());
        assert_eq!(parzen.dims[0].sigmas, vec![2.0, 5.5, 5.5, 10.0]);
        // Two dimensions, per-dimension gaps (Optuna 5.0 has no Scott's rule any more):
        //   _ParzenEstimator({"x": [1, 2, 3, 4], "y": [3, 1, 2, 3]},
        //                    {"x": FloatDistribution(0, 10), "y": IntDistribution(1, 6)}, p)
        //   → x sigma [1.6667 × 4, 10], y sigma [1, 1, 1, 1, 6];
        //   log_pdf({"x": [2.5], "y": [2]}) = −2.8218875
        let scales = [Scale::Numeric { low: 0.0, high: 10.0, step: 0.0 }, Scale::Numeric { low: 1.0, high: 6.0, step: 1.0 }];
        let rows = [1.0, 3.0, 2.0, 1.0, 3.0, 2.0, 4.0, 3.0];
        parzen.fit(&scales, &rows, 4, &SETTINGS, None, &mut LogWeights::default());
        assert!(parzen.dims[0].sigmas[..4].iter().all(|&s| (s - 10.0 / 6.0).abs() < 1e-12), "{:?}", parzen.dims[0].sigmas);
        assert_eq!(parzen.dims[1].sigmas, vec![1.0, 1.0, 1.0, 1.0, 6.0]);
        assert!((parzen.log_pdf(&[2.5, 2.0]) - -2.821_887_5).abs() < 1e-7, "{}", parzen.log_pdf(&[2.5, 2.0]));
    }

    #[test]
    fn log_scale_integers_are_scored_by_their_bins_as_optuna_5() {
        // Reference: Optuna 5.0.0, `_ParzenEstimator({"n": np.array([2, 10, 50])},
        //   {"n": IntDistribution(1, 100, log=True)}, p)` (p as above):
        //   mu [ln 2, ln 10, ln 50, 1.95850527], sigma [1.60943791 × 3, 5.30330491];
        //   log_pdf at n = 1, 3, 64, 100: [-1.87984068, -2.72012281, -5.87144247, -6.45539155]
        let scale = [Scale::of(&Domain::Int { low: 1, high: 100, log: true }, true)];
        let rows = [2f64.ln(), 10f64.ln(), 50f64.ln()];
        let mut parzen = Parzen::default();
        parzen.fit(&scale, &rows, 3, &SETTINGS, None, &mut LogWeights::default());
        assert!((parzen.dims[0].mus[3] - 1.958_505_27).abs() < 1e-8);
        assert!(parzen.dims[0].sigmas[..3].iter().all(|s| (s - 1.609_437_91).abs() < 1e-8), "{:?}", parzen.dims[0].sigmas);
        assert!((parzen.dims[0].sigmas[3] - 5.303_304_91).abs() < 1e-8);
        for (n, expected) in [(1.0f64, -1.879_840_68), (3.0, -2.720_122_81), (64.0, -5.871_442_47), (100.0, -6.455_391_55)] {
            let got = parzen.log_pdf(&[n.ln()]);
            assert!((got - expected).abs() < 1e-7, "n = {n}: {got} vs {expected}");
        }
        // Samples are integers' logarithms inside the domain; the masses of 1..=100 sum to one.
        let mut rng = Rng::seed_from_u64(8);
        let mut x = [0.0];
        for _ in 0..500 {
            parzen.sample(&mut rng, &mut x);
            let v = x[0].exp();
            assert!((v - v.round()).abs() < 1e-9 && (1.0..=100.0).contains(&v.round()), "{v}");
        }
        let total: f64 = (1..=100).map(|v| parzen.log_pdf(&[f64::from(v).ln()]).exp()).sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
        // Optuna 3.x–4.x: continuous on [ln ½, ln 100.5].
        assert_eq!(
            Scale::of(&Domain::Int { low: 1, high: 100, log: true }, false),
            Scale::Numeric { low: 0.5f64.ln(), high: 100.5f64.ln(), step: 0.0 }
        );
    }

    #[test]
    fn multivariate_bandwidths_follow_scotts_rule() {
        // 0.2 · n^(−1/(d+4)) · range with n = 4, d = 2: 0.2 · 4^(−1/6) · 10 = 1.5874; magic clip
        // minimum 10 / 6 = 1.667 wins.
        let mut parzen = Parzen::default();
        let scales = [Scale::Numeric { low: 0.0, high: 10.0, step: 0.0 }, Scale::Categorical { choices: 3 }];
        let rows = [1.0, 0.0, 2.0, 1.0, 3.0, 2.0, 4.0, 0.0];
        parzen.fit(&scales, &rows, 4, &ParzenSettings { bandwidth: Bandwidth::Scott, ..SETTINGS }, None, &mut LogWeights::default());
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
                        scale if scale.is_discrete() => {
                            let (mu, s) = (dim.mus[k], dim.sigmas[k]);
                            let (low, high) = scale.bin(xj).unwrap();
                            log_mass((low - mu) / s, (high - mu) / s) + dim.log_norm[k]
                        }
                        Scale::Numeric { .. } | Scale::LogInteger { .. } => {
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
    fn a_refitted_estimator_gives_what_a_fresh_one_gives_to_the_bit() {
        // What an estimator keeps from one fit to the next (kernels' normalisations found at
        // nearby positions, discrete masses and truncations remembered since the fit) must never
        // change a density or a draw: kernels move when an observation leaves the middle or
        // joins the end, and the scales themselves change once (a stale normalisation of the old
        // bounds would show there).
        let scales = |high: f64| {
            [
                Scale::Numeric { low: 0.0, high, step: 0.0 },
                Scale::Numeric { low: 1.0, high: 30.0, step: 1.0 },
                Scale::Categorical { choices: 4 },
                Scale::LogInteger { low: 1.0, high: 200.0 },
            ]
        };
        let mut rng = Rng::seed_from_u64(21);
        let observations: Vec<[f64; 4]> = (0..90)
            .map(|_| {
                let u: f64 = rng.random();
                [
                    u * u,
                    f64::from(rng.random_range(1..=30u32)),
                    f64::from(rng.random_range(0..4u32)),
                    f64::from(rng.random_range(1..=200u32)).ln(),
                ]
            })
            .collect();
        let mut reused = Parzen::default();
        for fit in 0..60 {
            let high = if fit == 30 { 2.0 } else { 1.0 };
            let left_out = (fit * 7) % (fit + 10);
            let rows: Vec<f64> =
                observations[..fit + 10].iter().enumerate().filter(|(i, _)| *i != left_out).flat_map(|(_, o)| *o).collect();
            let n = rows.len() / 4;
            reused.fit(&scales(high), &rows, n, &SETTINGS, None, &mut LogWeights::default());
            let mut fresh = Parzen::default();
            fresh.fit(&scales(high), &rows, n, &SETTINGS, None, &mut LogWeights::default());
            let (mut x, mut y) = ([0.0; 4], [0.0; 4]);
            for draw in 0..40u64 {
                reused.sample(&mut Rng::seed_from_u64(draw), &mut x);
                fresh.sample(&mut Rng::seed_from_u64(draw), &mut y);
                assert_eq!(x.map(f64::to_bits), y.map(f64::to_bits), "fit {fit}, draw {draw}");
                let (a, b) = (reused.log_pdf(&x), fresh.log_pdf(&x));
                assert_eq!(a.to_bits(), b.to_bits(), "fit {fit}, draw {draw}: {a} vs {b} at {x:?}");
            }
        }
    }

    #[test]
    fn skipping_negligible_kernels_matches_the_brute_force_sum() {
        let scales = [
            Scale::Numeric { low: 0.0, high: 1.0, step: 0.0 },
            Scale::Numeric { low: 1.0, high: 30.0, step: 1.0 },
            Scale::Categorical { choices: 4 },
            Scale::LogInteger { low: 1.0, high: 200.0 },
        ];
        let mut rng = Rng::seed_from_u64(9);
        for (n, bandwidth) in [(5, Bandwidth::Gaps), (300, Bandwidth::Scott), (300, Bandwidth::GapsWithPrior), (2000, Bandwidth::Gaps)] {
            let rows: Vec<f64> = (0..n)
                .flat_map(|_| {
                    let v = [rng.random::<f64>().powi(3), f64::from(rng.random_range(1..=30u32)), f64::from(rng.random_range(0..4u32))];
                    [v[0], v[1], v[2], f64::from(rng.random_range(1..=200u32)).ln()]
                })
                .collect();
            let mut parzen = Parzen::default();
            parzen.fit(&scales, &rows, n, &ParzenSettings { bandwidth, ..SETTINGS }, None, &mut LogWeights::default());
            let mut x = [0.0; 4];
            for _ in 0..200 {
                parzen.sample(&mut rng, &mut x);
                let (fast, slow) = (parzen.log_pdf(&x), brute_force_log_pdf(&parzen, &x));
                assert!((fast - slow).abs() <= 1e-12 * slow.abs().max(1.0), "n = {n}, {bandwidth:?}: {fast} vs {slow} at {x:?}");
            }
        }
    }

    #[test]
    fn a_sort_hint_gives_the_same_bandwidths() {
        let rows = [0.3, 0.1, 0.7, 0.1, 0.5, 0.3];
        let scales = [Scale::Numeric { low: 0.0, high: 1.0, step: 0.0 }];
        let (mut hinted, mut sorted) = (Parzen::default(), Parzen::default());
        for settings in [SETTINGS, WITH_PRIOR] {
            hinted.fit(&scales, &rows, 6, &settings, Some(&[1, 3, 0, 5, 4, 2]), &mut LogWeights::default());
            sorted.fit(&scales, &rows, 6, &settings, None, &mut LogWeights::default());
            assert_eq!(hinted.dims[0].sigmas, sorted.dims[0].sigmas);
        }
        // Two dimensions (rows of (x, y)): one order per dimension, one after the other.
        let rows = [0.3, 4.0, 0.1, 2.0, 0.7, 2.0, 0.1, 6.0];
        let scales = [Scale::Numeric { low: 0.0, high: 1.0, step: 0.0 }, Scale::Numeric { low: 1.0, high: 6.0, step: 1.0 }];
        hinted.fit(&scales, &rows, 4, &SETTINGS, Some(&[1, 3, 0, 2, 1, 2, 0, 3]), &mut LogWeights::default());
        sorted.fit(&scales, &rows, 4, &SETTINGS, None, &mut LogWeights::default());
        assert_eq!((&hinted.dims[0].sigmas, &hinted.dims[1].sigmas), (&sorted.dims[0].sigmas, &sorted.dims[1].sigmas));
    }
}

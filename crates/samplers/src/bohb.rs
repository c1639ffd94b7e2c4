//! BOHB's kernel-density model (Falkner, Klein & Hutter, "BOHB: Robust and Efficient
//! Hyperparameter Optimization at Scale", ICML 2018), following the reference implementation
//! HpBandSter, `hpbandster/optimizers/config_generators/bohb.py`, whose densities are
//! statsmodels' `KDEMultivariate`. Put it behind `hyperband` to get the strategy BOHB.
//!
//! Results are kept per budget (the observation's fidelity). Once a budget has enough of them,
//! they are split by loss into a "good" and a "bad" set and a product-kernel density is fitted
//! to each: Gaussian kernels on the unit-cube coordinate of float, int and ordinal parameters,
//! Aitchison–Aitken kernels on the choice index of categorical ones, with statsmodels'
//! normal-reference bandwidths `1.06 σ n^(-1/(4+d))` clipped below at `min_bandwidth`.
//! A proposal draws `num_samples` candidates around points of the good set (bandwidths widened
//! by `bandwidth_factor`) and keeps the one minimising `bad(x) / good(x)`; a fraction
//! `random_fraction` of proposals, and every proposal before the first model, are uniform draws
//! from the prior. The model of the largest budget that has one is used; results at smaller
//! budgets are ignored from then on.
//!
//! Defaults are HpBandSter's: `min_points_in_model` = number of parameters + 1 (a smaller value
//! is raised to that, as the reference does, since a density with no more points than
//! dimensions is never fitted), `top_n_percent` = 15, `num_samples` = 64, `random_fraction` =
//! 1/3, `bandwidth_factor` = 3, `min_bandwidth` = 1e-3. Failed trials count as loss `+inf`
//! at the budget where they failed, as HpBandSter's `loss = np.inf` does.
//!
//! When a budget gets its first model: the paper says "more than `min_points_in_model`
//! observations"; the reference code tries once a budget has `min_points_in_model` results and
//! keeps the model only if both the good set (`max(min_points_in_model, ⌊15 n/100⌋)` best) and
//! the bad set (the next `max(min_points_in_model, ⌊85 n/100⌋)`) have more rows than parameters.
//! With the default `d + 1` that is `n ≥ 2(d + 1)` while 15 % of `n` is below `d + 1`; this
//! follows the code (tested at the switch points).
//!
//! Where this deviates from the reference, and why:
//! - The good/bad split is the reference code's `idx[:n_good]` / `idx[n_good:n_good+n_bad]`
//!   (non-overlapping), not the paper's equations. Ties in loss keep the order of arrival
//!   (a stable sort); numpy's default `argsort` is not stable, so its tie order is arbitrary.
//! - Ordinal parameters, which HpBandSter refuses (it asks users to encode them as integers),
//!   are treated as continuous coordinates, exactly like such an integer. Int and ordinal
//!   coordinates use hposim's bin encoding ([`hposim_core::encoding`]) rather than
//!   ConfigSpace's.
//! - Imputation of inactive values follows `impute_conditional_data` (copy every missing
//!   coordinate of a row from one random row that has the first missing one), but loops while
//!   any value is missing: the reference's `while np.any(nan_indices)` would stop if only
//!   coordinate 0 were missing, which cannot happen here because the first parameter of a
//!   parents-first space is never conditional.
//! - Randomness comes from hposim's streams, not numpy's: the proposal stream for `suggest`,
//!   and for imputation (where `observe` has no stream) a counter-based one keyed by the number
//!   of results seen, so runs are reproducible and independent of threads.
//! - The truncated normal is drawn by inverse-CDF sampling (same distribution as scipy's
//!   `truncnorm`), and a row's Gaussian kernels are multiplied as one exponential of the summed
//!   exponents (equal up to rounding) so that a proposal stays cheap.
//!
//! Kept on purpose, because they shape the reference's behaviour: statsmodels counts an
//! Aitchison–Aitken column's levels as the number of *distinct* values in the training data,
//! so a column with one distinct value gives `h / 0 = +inf` to every other value; a categorical
//! bandwidth above 1 gives negative kernel values; and the score uses Python's `max`, which
//! lets a NaN density through on the right-hand side. A candidate with a non-finite score is
//! taken at once if its good density is finite, as HpBandSter does.

use crate::history::loss;
use crate::{Sampler, SamplerError};
use hposim_core::encoding::{from_unit, to_unit};
use hposim_core::rng::{CounterStream, mix};
use hposim_core::{Config, Domain, Objective, Observation, Rng, SearchSpace, Value};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use statrs::function::erf::{erfc, erfc_inv};
use std::collections::BTreeMap;

fn default_top_n_percent() -> u32 {
    15
}
fn default_num_samples() -> u32 {
    64
}
fn default_random_fraction() -> f64 {
    1.0 / 3.0
}
fn default_bandwidth_factor() -> f64 {
    3.0
}
fn default_min_bandwidth() -> f64 {
    1e-3
}

/// BOHB's settings (the `sampler` table with `type = "bohb"`); every key is optional.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BohbSettings {
    /// Results a budget needs before a model is tried there, and the least size of the good and
    /// bad sets. Default (and floor): the number of parameters + 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_points_in_model: Option<u32>,
    /// Percentage of a budget's results that form the good set (default 15, range 1–99).
    #[serde(default = "default_top_n_percent")]
    pub top_n_percent: u32,
    /// Candidates scored per model-based proposal (default 64).
    #[serde(default = "default_num_samples")]
    pub num_samples: u32,
    /// Fraction of proposals drawn uniformly from the prior (default 1/3).
    #[serde(default = "default_random_fraction")]
    pub random_fraction: f64,
    /// Factor widening the good density's bandwidths when drawing candidates (default 3).
    #[serde(default = "default_bandwidth_factor")]
    pub bandwidth_factor: f64,
    /// Smallest bandwidth of any kernel (default 1e-3).
    #[serde(default = "default_min_bandwidth")]
    pub min_bandwidth: f64,
}

impl Default for BohbSettings {
    fn default() -> Self {
        Self {
            min_points_in_model: None,
            top_n_percent: default_top_n_percent(),
            num_samples: default_num_samples(),
            random_fraction: default_random_fraction(),
            bandwidth_factor: default_bandwidth_factor(),
            min_bandwidth: default_min_bandwidth(),
        }
    }
}

/// Keys the imputation stream; any fixed value works, it only has to never change.
const IMPUTE_SEED: u64 = 0xB0B5_1A7E_D00D_2018;
/// HpBandSter's floor on both densities in the score.
const DENSITY_FLOOR: f64 = 1e-32;

/// A kernel column: continuous (Gaussian) or categorical with this many choices.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Continuous,
    Categorical(u32),
}

/// A product-kernel density (statsmodels `KDEMultivariate.pdf`), with per-column constants
/// precomputed so that evaluating it allocates nothing.
#[derive(Clone, Debug)]
struct Kde {
    /// Row-major training data, `n × d`, inactive values imputed.
    data: Vec<f64>,
    n: usize,
    bw: Vec<f64>,
    /// The same data column by column, continuous columns divided by their bandwidth: the
    /// evaluation then runs down a column over independent rows, which vectorises.
    columns: Vec<f64>,
    /// Continuous columns: `1 / h`.
    inv_bw: Vec<f64>,
    /// Categorical columns: the kernel for an equal value, `1 - h`, and for another one,
    /// `h / (distinct levels - 1)`.
    same: Vec<f64>,
    other: Vec<f64>,
    /// `1 / (n Π_continuous h √(2π))`.
    scale: f64,
}

impl Kde {
    fn with_bandwidth(data: Vec<f64>, kinds: &[Kind], bw: Vec<f64>) -> Self {
        let d = kinds.len();
        let n = data.len() / d;
        let (mut inv_bw, mut same, mut other) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        let mut columns = Vec::with_capacity(n * d);
        let mut scale = 1.0 / n as f64;
        for (j, kind) in kinds.iter().enumerate() {
            let h = bw[j];
            let column = data.iter().skip(j).step_by(d);
            match kind {
                Kind::Continuous => {
                    inv_bw[j] = 1.0 / h;
                    scale /= h * (2.0 * std::f64::consts::PI).sqrt();
                    columns.extend(column.map(|v| v * inv_bw[j]));
                }
                Kind::Categorical(_) => {
                    columns.extend(column);
                    // statsmodels counts the levels present in the data, not the choices.
                    let mut levels = columns[j * n..].to_vec();
                    levels.sort_by(f64::total_cmp);
                    levels.dedup();
                    same[j] = 1.0 - h;
                    other[j] = h / (levels.len() as f64 - 1.0);
                }
            }
        }
        Self { data, n, bw, columns, inv_bw, same, other, scale }
    }

    /// statsmodels' `normal_reference` bandwidth, `1.06 σ n^(-1/(4+d))` with the population
    /// standard deviation of every column (categorical ones too), then HpBandSter's clip.
    fn normal_reference(data: Vec<f64>, kinds: &[Kind], min_bandwidth: f64) -> Self {
        let d = kinds.len();
        let n = (data.len() / d) as f64;
        let bw = (0..d)
            .map(|j| {
                let mean = data.iter().skip(j).step_by(d).sum::<f64>() / n;
                let var = data.iter().skip(j).step_by(d).map(|x| (x - mean).powi(2)).sum::<f64>() / n;
                (1.06 * var.sqrt() * n.powf(-1.0 / (4.0 + d as f64))).max(min_bandwidth)
            })
            .collect();
        Self::with_bandwidth(data, kinds, bw)
    }

    /// The density at `x`; `exponents` and `factors` are scratch space (resized to `n`, so
    /// they allocate only until they have grown to the largest model).
    fn pdf(&self, kinds: &[Kind], x: &[f64], exponents: &mut Vec<f64>, factors: &mut Vec<f64>) -> f64 {
        let n = self.n;
        exponents.clear();
        exponents.resize(n, 0.0);
        factors.clear();
        factors.resize(n, 1.0);
        for (j, (kind, column)) in kinds.iter().zip(self.columns.chunks_exact(n)).enumerate() {
            match kind {
                Kind::Continuous => {
                    let at = x[j] * self.inv_bw[j];
                    for (e, &v) in exponents.iter_mut().zip(column) {
                        *e += (at - v) * (at - v);
                    }
                }
                Kind::Categorical(_) => {
                    for (f, &v) in factors.iter_mut().zip(column) {
                        *f *= if v == x[j] { self.same[j] } else { self.other[j] };
                    }
                }
            }
        }
        exponents.iter().zip(factors.iter()).map(|(&e, &f)| (-0.5 * e).exp() * f).sum::<f64>() * self.scale
    }
}

/// The results seen at one budget, in arrival order.
#[derive(Clone, Debug, Default)]
struct Budget {
    /// Row-major vectors (NaN for inactive parameters).
    rows: Vec<f64>,
    losses: Vec<f64>,
}

#[derive(Clone, Debug)]
struct Model {
    good: Kde,
    bad: Kde,
    /// For each good datum and column (read for continuous ones), the normal CDF at the bounds of
    /// its proposal kernel, `(Φ(-m/s), Φ((1-m)/s))`: fixed per model, so a proposal pays only
    /// for the inverse CDF.
    bounds: Vec<(f64, f64)>,
}

/// BOHB's model-based sampler; see the [module documentation](self).
#[derive(Clone, Debug)]
pub struct BohbSampler {
    space: SearchSpace,
    objective: Objective,
    settings: BohbSettings,
    min_points: usize,
    kinds: Vec<Kind>,
    budgets: BTreeMap<u32, Budget>,
    models: BTreeMap<u32, Model>,
    /// Results seen so far; keys the imputation stream.
    seen: u64,
    /// Reused by every proposal so that scoring candidates allocates nothing.
    candidate: Vec<f64>,
    best: Vec<f64>,
    exponents: Vec<f64>,
    factors: Vec<f64>,
}

impl BohbSampler {
    /// BOHB over `space`, ranking results by `objective`; refuses invalid `settings`.
    pub fn new(space: &SearchSpace, objective: Objective, settings: &BohbSettings) -> Result<Self, SamplerError> {
        let s = settings;
        if space.is_empty() {
            return Err(SamplerError::invalid("space", "BOHB needs at least one parameter"));
        }
        if !(1..=99).contains(&s.top_n_percent) {
            return Err(SamplerError::invalid("top_n_percent", format!("must be between 1 and 99, got {}", s.top_n_percent)));
        }
        if s.num_samples == 0 {
            return Err(SamplerError::invalid("num_samples", "must be at least 1"));
        }
        if !(0.0..=1.0).contains(&s.random_fraction) {
            return Err(SamplerError::invalid("random_fraction", format!("must lie in [0, 1], got {}", s.random_fraction)));
        }
        if !(s.bandwidth_factor.is_finite() && s.bandwidth_factor > 0.0) {
            return Err(SamplerError::invalid("bandwidth_factor", format!("must be a positive number, got {}", s.bandwidth_factor)));
        }
        if !(s.min_bandwidth.is_finite() && s.min_bandwidth > 0.0) {
            return Err(SamplerError::invalid("min_bandwidth", format!("must be a positive number, got {}", s.min_bandwidth)));
        }
        if s.min_points_in_model == Some(0) {
            return Err(SamplerError::invalid("min_points_in_model", "must be at least 1"));
        }
        let d = space.len();
        let kinds: Vec<Kind> = space
            .params()
            .iter()
            .map(|p| match &p.domain {
                Domain::Categorical { choices } => Kind::Categorical(choices.len() as u32),
                _ => Kind::Continuous,
            })
            .collect();
        Ok(Self {
            space: space.clone(),
            objective,
            settings: s.clone(),
            // HpBandSter raises a smaller value to d + 1 (with a warning).
            min_points: s.min_points_in_model.map_or(d + 1, |m| (m as usize).max(d + 1)),
            kinds,
            budgets: BTreeMap::new(),
            models: BTreeMap::new(),
            seen: 0,
            candidate: vec![0.0; d],
            best: vec![0.0; d],
            exponents: Vec::new(),
            factors: Vec::new(),
        })
    }

    /// The budget whose model proposals come from (the largest with a model), or `None` while
    /// proposals are still uniform draws.
    pub fn model_budget(&self) -> Option<u32> {
        self.models.keys().next_back().copied()
    }

    /// HpBandSter's `new_result`: records a loss at `budget` and refits that budget's model.
    fn record(&mut self, config: &Config, budget: u32, loss: f64) {
        self.seen += 1;
        // "skip model building if we already have a bigger model"
        if self.model_budget().is_some_and(|b| b > budget) {
            return;
        }
        let d = self.kinds.len();
        let entry = self.budgets.entry(budget).or_default();
        for (j, param) in self.space.params().iter().enumerate() {
            let value = config.get(j);
            entry.rows.push(match (self.kinds[j], value) {
                (Kind::Categorical(k), Value::Choice(i)) => f64::from(i.min(k.saturating_sub(1))),
                (Kind::Categorical(_), _) => f64::NAN,
                (Kind::Continuous, value) => to_unit(&param.domain, value),
            });
        }
        entry.losses.push(loss);
        let n = entry.losses.len();
        if n < self.min_points {
            return;
        }
        let top = self.settings.top_n_percent as usize;
        let n_good = self.min_points.max(top * n / 100).min(n);
        let n_bad = self.min_points.max((100 - top) * n / 100);
        let mut order: Vec<usize> = (0..n).collect();
        // Stable, so ties keep their order of arrival.
        order.sort_by(|&a, &b| entry.losses[a].total_cmp(&entry.losses[b]));
        let mut rng = CounterStream::new(mix(IMPUTE_SEED, self.seen));
        let good = impute(&entry.rows, &order[..n_good], &self.kinds, &mut rng);
        let bad = impute(&entry.rows, &order[n_good..(n_good + n_bad).min(n)], &self.kinds, &mut rng);
        if good.len() / d <= d || bad.len() / d <= d {
            return;
        }
        let min_bw = self.settings.min_bandwidth;
        let good = Kde::normal_reference(good, &self.kinds, min_bw);
        let bad = Kde::normal_reference(bad, &self.kinds, min_bw);
        let factor = self.settings.bandwidth_factor;
        let bounds = good
            .data
            .iter()
            .enumerate()
            .map(|(i, &m)| {
                let s = good.bw[i % d].max(min_bw) * factor;
                (phi(-m / s), phi((1.0 - m) / s))
            })
            .collect();
        self.models.insert(budget, Model { good, bad, bounds });
    }
}

/// HpBandSter's `impute_conditional_data` on the rows `picked` of `rows`: every missing value
/// of a row is copied, with the row's other missing values, from one uniformly random row that
/// has the first of them; where no row has it, a uniform value (or choice) is drawn.
fn impute(rows: &[f64], picked: &[usize], kinds: &[Kind], rng: &mut CounterStream) -> Vec<f64> {
    let d = kinds.len();
    let source = |r: usize| &rows[picked[r] * d..(picked[r] + 1) * d];
    let mut out = Vec::with_capacity(picked.len() * d);
    for r in 0..picked.len() {
        let mut datum = source(r).to_vec();
        while let Some(first) = datum.iter().position(|v| v.is_nan()) {
            let valid = (0..picked.len()).filter(|&s| source(s)[first].is_finite()).count();
            if valid > 0 {
                let pick = rng.random_range(0..valid);
                if let Some(s) = (0..picked.len()).filter(|&s| source(s)[first].is_finite()).nth(pick) {
                    for (v, &from) in datum.iter_mut().zip(source(s)) {
                        if v.is_nan() {
                            *v = from;
                        }
                    }
                }
            } else {
                datum[first] = match kinds[first] {
                    Kind::Continuous => rng.random::<f64>(),
                    Kind::Categorical(k) => f64::from(rng.random_range(0..k.max(1))),
                };
            }
        }
        out.extend_from_slice(&datum);
    }
    out
}

/// The standard normal CDF.
fn phi(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// A normal deviate with mean `m` and deviation `s` truncated to `[0, 1]` (scipy's
/// `truncnorm.rvs(-m/s, (1-m)/s, loc=m, scale=s)`), by inverting the CDF; `(lo, hi)` are the
/// CDF at the bounds. `m` lies in the interval, so the bounds are on either side of the mean
/// and neither tail is lost to rounding.
fn truncated_normal(m: f64, s: f64, (lo, hi): (f64, f64), rng: &mut Rng) -> f64 {
    let p = lo + rng.random::<f64>() * (hi - lo);
    let z = -std::f64::consts::SQRT_2 * erfc_inv(2.0 * p);
    (m + s * z).clamp(0.0, 1.0)
}

/// Python's `max(a, b)`: `b` only if `b > a`, so a NaN `b` is ignored but a NaN `a` wins.
fn py_max(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

impl Sampler for BohbSampler {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        let Some(model) = self.models.values().next_back() else {
            return Some(self.space.sample(rng));
        };
        if rng.random::<f64>() < self.settings.random_fraction {
            return Some(self.space.sample(rng));
        }
        let d = self.kinds.len();
        let (factor, min_bw) = (self.settings.bandwidth_factor, self.settings.min_bandwidth);
        let (mut best, mut found) = (f64::INFINITY, false);
        for _ in 0..self.settings.num_samples {
            let r = rng.random_range(0..model.good.n);
            let datum = &model.good.data[r * d..(r + 1) * d];
            let bounds = &model.bounds[r * d..(r + 1) * d];
            for (j, kind) in self.kinds.iter().enumerate() {
                let (m, bw) = (datum[j], model.good.bw[j].max(min_bw));
                self.candidate[j] = match *kind {
                    Kind::Continuous => truncated_normal(m, bw * factor, bounds[j], rng),
                    // The categorical bandwidth is a probability of change: not widened.
                    Kind::Categorical(k) => {
                        if rng.random::<f64>() < 1.0 - bw {
                            m.trunc()
                        } else {
                            f64::from(rng.random_range(0..k.max(1)))
                        }
                    }
                };
            }
            let l = model.good.pdf(&self.kinds, &self.candidate, &mut self.exponents, &mut self.factors);
            let g = model.bad.pdf(&self.kinds, &self.candidate, &mut self.exponents, &mut self.factors);
            let val = py_max(DENSITY_FLOOR, g) / py_max(l, DENSITY_FLOOR);
            if !val.is_finite() {
                // HpBandSter: a value the bad density has never seen; take it if the good
                // density is finite there.
                if l.is_finite() {
                    self.best.copy_from_slice(&self.candidate);
                    found = true;
                    break;
                }
                continue;
            }
            if val < best {
                best = val;
                self.best.copy_from_slice(&self.candidate);
                found = true;
            }
        }
        if !found {
            return Some(self.space.sample(rng));
        }
        let mut values = Vec::with_capacity(d);
        for (j, param) in self.space.params().iter().enumerate() {
            let value = if !self.space.is_active(j, &values) {
                Value::Inactive
            } else {
                match self.kinds[j] {
                    Kind::Categorical(k) => Value::Choice((self.best[j].max(0.0) as u32).min(k.saturating_sub(1))),
                    Kind::Continuous => from_unit(&param.domain, self.best[j]),
                }
            };
            values.push(value);
        }
        Some(Config::new(values))
    }

    fn observe(&mut self, o: &Observation<'_>) {
        let loss = loss(&self.objective, o.metrics);
        self.record(o.config, o.fidelity, loss);
    }

    fn on_failure(&mut self, f: &Observation<'_>) {
        self.record(f.config, f.fidelity, f64::INFINITY);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hposim_core::{Choice, ConditionSpec, ParamSpec};
    use rand::SeedableRng;

    fn float(name: &str) -> ParamSpec {
        ParamSpec::Float { name: name.into(), low: 0.0, high: 1.0, log: false, condition: None }
    }

    fn floats(d: usize) -> SearchSpace {
        SearchSpace::new(&(0..d).map(|i| float(&format!("x{i}"))).collect::<Vec<_>>()).unwrap()
    }

    fn sampler(space: &SearchSpace, settings: BohbSettings) -> BohbSampler {
        BohbSampler::new(space, Objective::minimize("loss"), &settings).unwrap()
    }

    fn feed(s: &mut BohbSampler, config: &Config, budget: u32, metric: f64) {
        s.observe(&Observation { trial: 0, config, fidelity: budget, metrics: &[metric], time: 0.0 });
    }

    fn pdf(kde: &Kde, kinds: &[Kind], x: &[f64]) -> f64 {
        kde.pdf(kinds, x, &mut Vec::new(), &mut Vec::new())
    }

    fn xs(config: &Config) -> Vec<f64> {
        config.values().iter().map(|v| if let Value::Float(x) = v { *x } else { f64::NAN }).collect()
    }

    #[test]
    fn settings_default_from_an_empty_table_and_are_validated() {
        let parsed: BohbSettings = toml::from_str("").unwrap();
        assert_eq!(parsed, BohbSettings::default());
        assert_eq!((parsed.top_n_percent, parsed.num_samples, parsed.min_points_in_model), (15, 64, None));
        assert!(toml::from_str::<BohbSettings>("typo = 1").is_err());
        let space = floats(2);
        let bad = [
            (BohbSettings { top_n_percent: 100, ..Default::default() }, "top_n_percent"),
            (BohbSettings { num_samples: 0, ..Default::default() }, "num_samples"),
            (BohbSettings { random_fraction: 1.5, ..Default::default() }, "random_fraction"),
            (BohbSettings { bandwidth_factor: f64::INFINITY, ..Default::default() }, "bandwidth_factor"),
            (BohbSettings { min_bandwidth: 0.0, ..Default::default() }, "min_bandwidth"),
            (BohbSettings { min_points_in_model: Some(0), ..Default::default() }, "min_points_in_model"),
        ];
        for (settings, key) in bad {
            let err = BohbSampler::new(&space, Objective::minimize("loss"), &settings).err().unwrap();
            assert!(err.to_string().starts_with(key), "{err}");
        }
    }

    #[test]
    fn models_appear_and_switch_budgets_at_the_reference_thresholds() {
        // d = 3, min_points = 4: at n results, good = max(4, 15n/100) and the bad set is what
        // is left, up to max(4, 85n/100). It first has more than d = 3 rows at n = 8.
        let space = floats(3);
        let mut s = sampler(&space, BohbSettings::default());
        let mut rng = Rng::seed_from_u64(1);
        for n in 1..=8 {
            let c = space.sample(&mut rng);
            feed(&mut s, &c, 3, n as f64);
            assert_eq!(s.model_budget(), if n < 8 { None } else { Some(3) }, "n = {n}");
        }
        for n in 1..=8 {
            let c = space.sample(&mut rng);
            feed(&mut s, &c, 9, n as f64);
            assert_eq!(s.model_budget(), if n < 8 { Some(3) } else { Some(9) }, "n = {n} at budget 9");
            if n == 4 {
                // Until budget 9 has a model, budget 3 keeps learning.
                feed(&mut s, &c, 3, 0.5);
                assert_eq!(s.budgets[&3].losses.len(), 9);
            }
        }
        feed(&mut s, &space.sample(&mut rng), 3, 0.0);
        assert_eq!(s.budgets[&3].losses.len(), 9, "results below the model's budget are no longer recorded");
        assert_eq!(s.model_budget(), Some(9));
    }

    #[test]
    fn normal_reference_bandwidth_matches_the_hand_computation() {
        // Column 0: σ² = (0.04 + 0.01 + 0 + 0.09) / 4 = 0.035; n = 4, d = 2, so
        // h = 1.06 · √0.035 · 4^(-1/6) = 1.06 · 0.187083 · 0.793701 = 0.157397. Column 1 is
        // constant: h = 0, clipped to min_bandwidth.
        let data = vec![0.1, 0.5, 0.2, 0.5, 0.3, 0.5, 0.6, 0.5];
        let kde = Kde::normal_reference(data, &[Kind::Continuous; 2], 1e-3);
        assert!((kde.bw[0] - 0.157_397_038_104_542_8).abs() < 1e-12, "{}", kde.bw[0]);
        assert_eq!(kde.bw[1], 1e-3);
    }

    #[test]
    fn kernels_match_hand_examples() {
        // Aitchison–Aitken, h = 0.3, levels {0, 1, 2} present: 1 - h = 0.7 on a match and
        // h / 2 = 0.15 otherwise, so pdf(0) = (0.7 + 0.7 + 0.15 + 0.15) / 4 = 0.425.
        let cat = [Kind::Categorical(4)];
        let kde = Kde::with_bandwidth(vec![0.0, 0.0, 1.0, 2.0], &cat, vec![0.3]);
        assert!((pdf(&kde, &cat, &[0.0]) - 0.425).abs() < 1e-12);
        // statsmodels' quirk: one distinct level gives h / 0 = +inf to any other value.
        let kde = Kde::with_bandwidth(vec![1.0, 1.0, 1.0], &cat, vec![0.3]);
        assert_eq!(pdf(&kde, &cat, &[0.0]), f64::INFINITY);
        assert!((pdf(&kde, &cat, &[1.0]) - 0.7).abs() < 1e-12);
        // Gaussian product, h = (0.1, 0.2), rows (0.2, 0.4) and (0.6, 0.4), x = (0.3, 0.5):
        // z = (1, 0.5) and (-3, 0.5), so pdf = (e^-0.625 + e^-4.625) / (2 · 2π · 0.02) = 2.168745.
        let cont = [Kind::Continuous; 2];
        let kde = Kde::with_bandwidth(vec![0.2, 0.4, 0.6, 0.4], &cont, vec![0.1, 0.2]);
        assert!((pdf(&kde, &cont, &[0.3, 0.5]) - 2.168_745_058_863_632).abs() < 1e-9);
    }

    #[test]
    fn proposals_concentrate_near_the_optimum_of_a_quadratic() {
        let space = floats(2);
        let settings = BohbSettings { random_fraction: 0.0, ..Default::default() };
        let mut s = sampler(&space, settings);
        let mut rng = Rng::seed_from_u64(7);
        let dist = |c: &Config| {
            let x = xs(c);
            ((x[0] - 0.2).powi(2) + (x[1] - 0.7).powi(2)).sqrt()
        };
        for _ in 0..60 {
            let c = space.sample(&mut rng);
            feed(&mut s, &c, 1, dist(&c).powi(2));
        }
        assert_eq!(s.model_budget(), Some(1));
        let trials = 200;
        let model: f64 = (0..trials).map(|_| dist(&s.suggest(&mut rng).unwrap())).sum::<f64>() / trials as f64;
        let random: f64 = (0..trials).map(|_| dist(&space.sample(&mut rng))).sum::<f64>() / trials as f64;
        assert!(model < 0.5 * random, "model {model} vs random {random}");
    }

    fn conditional_space() -> SearchSpace {
        let kind = ParamSpec::Categorical {
            name: "kind".into(),
            choices: vec![Choice::Text("a".into()), Choice::Text("b".into())],
            condition: None,
        };
        let child = ParamSpec::Float {
            name: "child".into(),
            low: 1e-4,
            high: 1.0,
            log: true,
            condition: Some(ConditionSpec { parent: "kind".into(), values: vec![Choice::Text("a".into())] }),
        };
        let width = ParamSpec::Int { name: "width".into(), low: 1, high: 8, log: false, condition: None };
        SearchSpace::new(&[kind, child, width]).unwrap()
    }

    fn conditional_proposals(seed: u64) -> Vec<Config> {
        let space = conditional_space();
        let mut s = sampler(&space, BohbSettings { random_fraction: 0.0, ..Default::default() });
        let mut rng = Rng::seed_from_u64(seed);
        for i in 0..40 {
            let c = space.sample(&mut rng);
            let loss = match c.get(1) {
                Value::Float(x) => x,
                _ => 2.0 + f64::from(i % 3),
            };
            feed(&mut s, &c, 1, loss);
        }
        assert!(s.model_budget().is_some());
        (0..100).map(|_| s.suggest(&mut rng).unwrap()).collect()
    }

    #[test]
    fn proposals_are_valid_in_a_conditional_space_and_reproducible() {
        let space = conditional_space();
        let proposals = conditional_proposals(11);
        for c in &proposals {
            assert!(space.contains(c), "{c:?}");
        }
        assert!(proposals.iter().any(|c| c.get(1).is_active()), "the child is proposed where active");
        assert_eq!(proposals, conditional_proposals(11));
        assert_ne!(proposals, conditional_proposals(12));
    }

    #[test]
    fn a_failure_counts_as_infinite_loss_and_lands_in_the_bad_set() {
        // d = 2, min_points = 3; 20 results: good = the best 3, bad = the other 17.
        let space = floats(2);
        let mut s = sampler(&space, BohbSettings::default());
        let mut rng = Rng::seed_from_u64(3);
        let optimum = Config::new(vec![Value::Float(0.2), Value::Float(0.7)]);
        s.on_failure(&Observation { trial: 0, config: &optimum, fidelity: 1, metrics: &[f64::NAN], time: 0.0 });
        for i in 0..19 {
            let c = space.sample(&mut rng);
            feed(&mut s, &c, 1, 1.0 + f64::from(i));
        }
        assert_eq!(s.budgets[&1].losses[0], f64::INFINITY);
        let model = &s.models[&1];
        let has = |kde: &Kde| kde.data.chunks_exact(2).any(|r| r == [0.2, 0.7]);
        assert!(has(&model.bad) && !has(&model.good));
    }
}

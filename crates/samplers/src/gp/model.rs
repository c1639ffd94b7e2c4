//! What the GP samplers learn from: the results per fidelity ([`Observations`], every
//! objective's loss) and one GP per modelled objective ([`Surrogate`]), refitted only when due.
//!
//! The rules ([`crate::gp`] documents them): the modelled fidelity is the highest with at least
//! `startup_trials` results and two finite losses per objective; failures take the worst finite
//! loss; targets are standardised; hyperparameters are refitted (warm-started) when the data
//! have grown by 10 % or the fidelity changed, from several starts when they have doubled since
//! the last multi-start fit; in between, new observations extend the Cholesky factor.

use super::features::Features;
use super::fit;
use super::posterior::{Posterior, Scratch};
use hposim_core::{Rng, SearchSpace, Value};
use std::collections::BTreeMap;

/// Results at one fidelity.
#[derive(Debug, Default)]
pub struct Level {
    /// The configurations' values, one row of `space.len()` each.
    pub values: Vec<Value>,
    /// Their features, one row of [`Features::width`] each.
    pub features: Vec<f64>,
    /// Their losses, one row per result with one loss per objective (`+inf` for a failure).
    pub losses: Vec<f64>,
}

/// Every result so far, by fidelity.
#[derive(Debug)]
pub struct Observations {
    /// The feature encoding.
    pub features: Features,
    objectives: usize,
    levels: BTreeMap<u32, Level>,
}

impl Observations {
    /// No results yet, over `space`, with `objectives` losses per result.
    pub fn new(space: &SearchSpace, objectives: usize) -> Self {
        Self { features: Features::new(space), objectives, levels: BTreeMap::new() }
    }

    /// Records a result: `values` at `fidelity` with one loss per objective.
    pub fn record(&mut self, space: &SearchSpace, values: &[Value], fidelity: u32, losses: &[f64]) {
        let width = self.features.width();
        let level = self.levels.entry(fidelity).or_default();
        level.values.extend_from_slice(values);
        let at = level.features.len();
        level.features.resize(at + width, 0.0);
        self.features.encode(space, values, &mut level.features[at..]);
        level.losses.extend_from_slice(losses);
    }

    /// The fidelity to model: the highest with at least `needed` results (and two finite losses
    /// of every objective, so that there is something to standardise).
    pub fn modelled_level(&self, needed: usize) -> Option<u32> {
        let m = self.objectives;
        self.levels
            .iter()
            .rev()
            .find(|(_, level)| {
                let n = level.losses.len() / m;
                n >= needed.max(2) && (0..m).all(|k| (0..n).filter(|&i| level.losses[i * m + k].is_finite()).count() >= 2)
            })
            .map(|(&f, _)| f)
    }

    /// The results at `fidelity` (empty if there are none).
    pub fn level(&self, fidelity: u32) -> Option<&Level> {
        self.levels.get(&fidelity)
    }

    /// Losses per result.
    pub fn objectives(&self) -> usize {
        self.objectives
    }
}

/// Writes `losses` into `out` standardised (zero mean, unit standard deviation), non-finite ones
/// (failures) at the worst finite loss first; returns the mean and standard deviation used. A
/// constant objective (up to rounding) standardises to 0, not to its rounding noise. Every GP
/// sampler's targets go through here.
pub fn standardise(losses: impl Iterator<Item = f64> + Clone, out: &mut Vec<f64>) -> (f64, f64) {
    let worst = losses.clone().filter(|l| l.is_finite()).fold(f64::NEG_INFINITY, f64::max);
    out.clear();
    out.extend(losses.map(|l| if l.is_finite() { l } else { worst }));
    let n = out.len() as f64;
    let mean = out.iter().sum::<f64>() / n;
    let sd = (out.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
    let sd = if sd > 1e-12 * mean.abs().max(f64::MIN_POSITIVE) { sd } else { 1.0 };
    out.iter_mut().for_each(|v| *v = (*v - mean) / sd);
    (mean, sd)
}

/// One objective's GP, kept up to date with the modelled fidelity.
#[derive(Debug)]
pub struct Surrogate {
    /// Which loss of each result it models.
    objective: usize,
    /// The modelled fidelity, the number of points at the last hyperparameter fit, the optimum.
    pub fitted: Option<(u32, usize, Vec<f64>)>,
    posterior: Option<(u32, Posterior)>,
    /// Points at the last fit from several starts.
    multi_start_n: usize,
    /// The standardised targets of the modelled fidelity.
    pub y: Vec<f64>,
    /// The mean and standard deviation the targets were standardised with.
    pub standardisation: (f64, f64),
    pool_scratch: Scratch,
    move_scratch: Scratch,
}

impl Surrogate {
    /// A GP of loss `objective` of each result.
    pub fn new(objective: usize) -> Self {
        Self {
            objective,
            fitted: None,
            posterior: None,
            multi_start_n: 0,
            y: Vec::new(),
            standardisation: (0.0, 1.0),
            pool_scratch: Scratch::default(),
            move_scratch: Scratch::default(),
        }
    }

    /// Standardised targets of `level`, failures at the worst finite loss.
    pub fn targets(&mut self, level: &Level, objectives: usize) {
        let losses = level.losses.iter().skip(self.objective).step_by(objectives).copied();
        self.standardisation = standardise(losses, &mut self.y);
    }

    /// Brings the posterior up to date for `fidelity` of `data` (targets first): refit when
    /// due, else extend. False when no factorisation succeeded.
    pub fn update(&mut self, data: &Observations, fidelity: u32, restarts: u32, rng: &mut Rng) -> bool {
        let Some(level) = data.level(fidelity) else { return false };
        self.targets(level, data.objectives());
        let width = data.features.width();
        let n = self.y.len();
        let refit = match &self.fitted {
            Some((f, fitted_n, _)) => *f != fidelity || n * 10 >= fitted_n * 11,
            None => true,
        };
        if refit {
            let warm = self.fitted.as_ref().filter(|(f, _, _)| *f == fidelity).map(|(_, _, eta)| eta.clone());
            // Random restarts when the data have doubled since the last multi-start fit (or the
            // fidelity changed); in between, the warm start alone, as Optuna refits.
            let multi_start = warm.is_none() || n >= 2 * self.multi_start_n;
            if multi_start {
                self.multi_start_n = n;
            }
            let starts = if multi_start { restarts } else { 1 };
            let eta = fit::fit(&level.features, &self.y, width, warm.as_deref(), starts, rng)
                .or(warm)
                .unwrap_or_else(|| fit::default_start(width));
            self.posterior = Posterior::new(fit::unpack(&eta), &level.features, width).map(|p| (fidelity, p));
            self.fitted = Some((fidelity, n, eta));
        } else if let Some((f, posterior)) = &mut self.posterior
            && *f == fidelity
        {
            let mut ok = true;
            while ok && posterior.len() < n {
                let i = posterior.len();
                ok = posterior.append(&level.features[i * width..(i + 1) * width]);
            }
            if !ok {
                let hyper = posterior.hyper.clone();
                self.posterior = Posterior::new(hyper, &level.features, width).map(|p| (fidelity, p));
            }
        } else {
            let eta = self.fitted.as_ref().map_or_else(|| fit::default_start(width), |(_, _, eta)| eta.clone());
            self.posterior = Posterior::new(fit::unpack(&eta), &level.features, width).map(|p| (fidelity, p));
        }
        match &mut self.posterior {
            Some((_, posterior)) => {
                posterior.set_targets(&self.y);
                true
            }
            None => false,
        }
    }

    /// The posterior mean and variance (of the standardised targets) at `points` (rows of
    /// features); `pool` says which of the two batch shapes (the candidate pool, or the local
    /// search's moves) this is, so that each keeps its buffers. Nothing is written without a
    /// posterior.
    pub fn predict(&mut self, points: &[f64], mean: &mut [f64], var: &mut [f64], pool: bool) {
        if let Some((_, posterior)) = &self.posterior {
            let scratch = if pool { &mut self.pool_scratch } else { &mut self.move_scratch };
            posterior.predict(points, mean, var, scratch);
        }
    }
}

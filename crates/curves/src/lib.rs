//! Benchmarks: where a simulated trial's metrics and costs come from.
//!
//! A [`Benchmark`] resolves a configuration once per trial into a small [`TrialCurve`]
//! ([`Benchmark::open`]); after that, the metrics and cost of any step are computed from the
//! curve alone ([`Benchmark::step`]), in constant time and without allocating, so the
//! simulator's event loop stays allocation-free.
//!
//! Benchmarks shipped here:
//! - [`synthetic::Synthetic`]: learning curves over a seeded random landscape with a known
//!   optimum, in three families (exponential saturation, power law, and *crossing* curves where
//!   slow starters end best), with per-epoch noise, optional divergence and a configuration-
//!   dependent cost per epoch;
//! - [`branin::Branin`] and [`hartmann6::Hartmann6`]: the multi-fidelity test functions of
//!   Kandasamy et al. (BOCA, ICML 2017);
//! - [`counting_ones::CountingOnes`]: the counting-ones problem of Falkner et al. (BOHB, ICML 2018);
//! - [`tabular::Tabular`]: recorded learning curves ([`recorded`], the format of
//!   `data/FORMAT.md`) replayed step by step;
//! - [`pbt_toy::PbtToy`]: the toy problem of population-based training (Jaderberg et al. 2017);
//! - [`training_dynamics::TrainingDynamics`]: a loss that decays at a rate set by the current
//!   learning rate and rises when it is too high, where a schedule beats every fixed rate;
//! - [`zdt::Zdt`] and [`dtlz2::Dtlz2`]: the multi-objective test problems ZDT1–3 and DTLZ2
//!   with a fidelity axis.
//!
//! The last three support changing a trial's configuration mid-training
//! ([`Benchmark::supports_splice`]), which population-based training needs.

pub mod branin;
pub mod counting_ones;
pub mod default_space;
pub mod dtlz2;
pub mod field;
pub mod hartmann6;
pub mod landscape;
pub mod median_random;
pub mod pbt_toy;
pub mod recorded;
pub mod registry;
mod segments;
pub mod spec;
pub mod synthetic;
pub mod tabular;
pub mod trade_off;
pub mod training_dynamics;
pub mod zdt;

use hposim_core::nearest::NearestIndex;
use hposim_core::{Config, Fidelity, Objective, SearchSpace, SpaceError};
use std::sync::Arc;

pub use spec::{BenchmarkSpec, Builder, build, build_relative};

/// Number of coefficients a [`TrialCurve`] holds inline.
pub const INLINE_COEFFICIENTS: usize = 8;

/// A trial's curve, resolved once from its configuration by [`Benchmark::open`]. Its meaning
/// is private to the benchmark that made it; the simulator only stores it and hands it back.
#[derive(Clone, Debug, PartialEq)]
pub struct TrialCurve {
    /// Coefficients that fit inline (curve parameters, decoded inputs, costs).
    pub coefficients: [f64; INLINE_COEFFICIENTS],
    /// Further coefficients for benchmarks that need more (empty, hence unallocated, otherwise).
    pub extra: Vec<f64>,
    /// Seed of the trial's noise stream.
    pub seed: u64,
}

impl TrialCurve {
    /// A curve with the given inline coefficients and noise seed.
    pub fn new(coefficients: [f64; INLINE_COEFFICIENTS], seed: u64) -> Self {
        Self { coefficients, extra: Vec::new(), seed }
    }
}

/// A benchmark: a search space, objectives, a fidelity axis, and for every configuration a
/// learning curve with a cost per step.
///
/// [`Benchmark::open`] resolves a configuration once per trial into a [`TrialCurve`], so that
/// [`Benchmark::step`] computes any step from the curve alone, in constant time and without
/// allocating. Noise must depend on the curve's seed and the step only (a restarted trial
/// sees the same curve). To add one to hposim, see "Adding a benchmark" in
/// `docs/architecture.md`.
///
/// ```
/// use hposim_core::{Config, Fidelity, Objective, ParamSpec, SearchSpace, Value};
/// use hposim_curves::{Benchmark, INLINE_COEFFICIENTS, TrialCurve};
///
/// /// The loss after `t` steps is `x² + 1/t`; every step costs `seconds`.
/// struct Parabola {
///     space: SearchSpace,
///     objectives: Vec<Objective>,
///     fidelity: Fidelity,
///     seconds: f64,
/// }
///
/// impl Benchmark for Parabola {
///     fn name(&self) -> &str {
///         "parabola"
///     }
///     fn space(&self) -> &SearchSpace {
///         &self.space
///     }
///     fn objectives(&self) -> &[Objective] {
///         &self.objectives
///     }
///     fn fidelity(&self) -> &Fidelity {
///         &self.fidelity
///     }
///     fn open(&self, config: &Config, seed: u64) -> TrialCurve {
///         let mut coefficients = [0.0; INLINE_COEFFICIENTS];
///         if let Value::Float(x) = config.get(0) {
///             coefficients[0] = x;
///         }
///         TrialCurve::new(coefficients, seed)
///     }
///     fn step(&self, curve: &TrialCurve, step: u32, metrics: &mut [f64]) -> f64 {
///         metrics[0] = curve.coefficients[0].powi(2) + 1.0 / f64::from(step);
///         self.seconds
///     }
///     fn best_known(&self) -> Option<&[f64]> {
///         None
///     }
///     fn supports_splice(&self) -> bool {
///         false
///     }
/// }
///
/// let space = SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: -1.0, high: 1.0, log: false, condition: None }])
///     .expect("a valid space");
/// let bench = Parabola { space, objectives: vec![Objective::minimize("loss")], fidelity: Fidelity::epochs(4), seconds: 2.0 };
/// let curve = bench.open(&Config::new(vec![Value::Float(0.5)]), 7);
/// let mut loss = [0.0];
/// assert_eq!(bench.step(&curve, 4, &mut loss), 2.0);
/// assert_eq!(loss, [0.5]);
/// // Training to step 4 from scratch costs the sum of the steps' costs.
/// assert_eq!(bench.cost_until(&curve, 4), 8.0);
/// ```
pub trait Benchmark: Send + Sync {
    /// Display name (unique within an experiment).
    fn name(&self) -> &str;
    /// The search space.
    fn space(&self) -> &SearchSpace;
    /// The objectives, in the order [`Benchmark::step`] writes them.
    fn objectives(&self) -> &[Objective];
    /// The fidelity axis.
    fn fidelity(&self) -> &Fidelity;
    /// Resolves `config` into a curve, once per trial; `seed` seeds the trial's noise.
    fn open(&self, config: &Config, seed: u64) -> TrialCurve;
    /// Writes the metrics after `step` (1-based) into `metrics` (one per objective) and returns
    /// the cost of that step in seconds. Constant time; never allocates. A diverged run writes
    /// NaN or infinity.
    fn step(&self, curve: &TrialCurve, step: u32, metrics: &mut [f64]) -> f64;
    /// The best known value of each objective, for regret: the optimum at full fidelity for
    /// closed-form benchmarks, the best value a recorded table holds at any step for recorded
    /// ones.
    fn best_known(&self) -> Option<&[f64]>;

    /// What training the trial of `curve` from scratch up to `step` costs, in seconds: the sum
    /// of the costs of steps `1..=step`. At full fidelity it is the yardstick of early
    /// termination (every started configuration trained to the end); at a paused trial's step
    /// it is what a restart without checkpoint repeats. The default sums [`Benchmark::step`];
    /// benchmarks with a closed form override it. Benchmarks charge the steps they define: a
    /// synthetic run that diverges still has a cost at every step, while a recorded curve ends
    /// at its diverged step, so it is charged up to there.
    fn cost_until(&self, curve: &TrialCurve, step: u32) -> f64 {
        let mut metrics = vec![0.0; self.objectives().len()];
        (1..=step).map(|s| self.step(curve, s, &mut metrics)).sum()
    }

    /// The configurations a sampler must choose among, indexed for nearest-configuration
    /// queries, for benchmarks that only know a fixed set (a recorded table replayed with
    /// `lookup = "recorded"`); `None` lets samplers propose anywhere in the space. The index is
    /// built once with the benchmark and shared by every cell.
    fn recorded_configs(&self) -> Option<Arc<NearestIndex>> {
        None
    }

    /// A hash of the data behind the benchmark where it lives outside the experiment file (a
    /// recorded table), so that results computed from other data are not reused.
    fn content_hash(&self) -> Option<u64> {
        None
    }

    /// The reference point for the hypervolume of results at full fidelity, one coordinate per
    /// objective (in the objectives' own units and directions), for benchmarks with several
    /// objectives that define one; `None` otherwise.
    fn hypervolume_reference(&self) -> Option<&[f64]> {
        None
    }

    /// What a launch of a training process costs besides its steps (start-up, resume from a
    /// checkpoint, shutdown; [`hposim_core::overhead`]): measured by `hposim record` for a
    /// recorded table, set by the `overhead` key of a synthetic benchmark, none otherwise.
    fn overhead(&self) -> hposim_core::LaunchOverhead {
        hposim_core::LaunchOverhead::ZERO
    }

    /// Whether [`Benchmark::splice`] works: the benchmark can change a trial's configuration
    /// mid-training. Population-based training is refused on benchmarks that cannot. Every
    /// benchmark says so explicitly (its type's entry in [`registry`] says the same, tested).
    fn supports_splice(&self) -> bool;

    /// A curve that replays `curve` up to `step` and continues after it with `config` (the
    /// trial's hyperparameters changed mid-training, as population-based training does);
    /// `seed` seeds the new part. `None` where the benchmark cannot change a configuration
    /// mid-training.
    fn splice(&self, _curve: &TrialCurve, _config: &Config, _step: u32, _seed: u64) -> Option<TrialCurve> {
        None
    }
}

/// Why a benchmark specification was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BenchmarkError {
    /// A setting has an invalid value; `key` names it.
    #[error("{key}: {message}")]
    Invalid {
        /// The key, relative to the benchmark's table.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The search space is invalid.
    #[error("space: {0}")]
    Space(#[from] SpaceError),
}

impl BenchmarkError {
    pub(crate) fn invalid(key: &str, message: impl Into<String>) -> Self {
        Self::Invalid { key: key.to_owned(), message: message.into() }
    }
}

/// Refuses `value` unless it is finite and `> 0`.
pub(crate) fn require_positive(key: &str, value: f64) -> Result<(), BenchmarkError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(BenchmarkError::invalid(key, format!("must be a positive number, got {value}")))
    }
}

/// Refuses a number of fidelity steps outside `1..=`[`synthetic::MAX_EPOCHS`].
pub(crate) fn require_steps(key: &str, steps: u32) -> Result<(), BenchmarkError> {
    if steps == 0 || steps > synthetic::MAX_EPOCHS {
        return Err(BenchmarkError::invalid(key, format!("must lie in 1..={}, got {steps}", synthetic::MAX_EPOCHS)));
    }
    Ok(())
}

/// Refuses a `hypervolume_reference` unless it has one finite coordinate per objective
/// (`objectives` names them) and there are several objectives.
pub(crate) fn require_reference(reference: &[f64], objectives: &[&str]) -> Result<(), BenchmarkError> {
    let key = "hypervolume_reference";
    if objectives.len() < 2 {
        return Err(BenchmarkError::invalid(
            key,
            format!("applies to benchmarks with several objectives; this one has {} ({})", objectives.len(), objectives.join(", ")),
        ));
    }
    if reference.len() != objectives.len() {
        return Err(BenchmarkError::invalid(
            key,
            format!("needs one coordinate per objective ({}: {}), got {}", objectives.len(), objectives.join(", "), reference.len()),
        ));
    }
    if let Some(i) = reference.iter().position(|v| !v.is_finite()) {
        return Err(BenchmarkError::invalid(
            key,
            format!("coordinate {} ({}) must be a finite number, got {}", i + 1, objectives[i], reference[i]),
        ));
    }
    Ok(())
}

/// Refuses `value` unless it is finite and `>= 0`.
pub(crate) fn require_non_negative(key: &str, value: f64) -> Result<(), BenchmarkError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(BenchmarkError::invalid(key, format!("must be a non-negative number, got {value}")))
    }
}

/// The cost of fidelity step `step` of `steps` when reaching fidelity `z` costs `cost(z)` in
/// total (resumable training): `scale · (cost(z_step) − cost(z_{step−1}))`, the first step
/// paying `cost(z_1)` in full.
pub(crate) fn cumulative_step_cost(cost: impl Fn(f64) -> f64, step: u32, steps: u32, scale: f64) -> f64 {
    let steps = f64::from(steps);
    let previous = if step <= 1 { 0.0 } else { cost(f64::from(step - 1) / steps) };
    scale * (cost(f64::from(step) / steps) - previous)
}

/// The values of the numeric parameters of `config`, in order (a helper for test functions
/// whose spaces are all floats).
pub(crate) fn float_values<const N: usize>(config: &Config) -> [f64; N] {
    let mut out = [0.0; N];
    for (slot, value) in out.iter_mut().zip(config.values()) {
        *slot = match value {
            hposim_core::Value::Float(x) => *x,
            hposim_core::Value::Int(i) => *i as f64,
            hposim_core::Value::Choice(c) => f64::from(*c),
            hposim_core::Value::Inactive => f64::NAN,
        };
    }
    out
}

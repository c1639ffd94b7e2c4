//! Samplers: which configuration to try next.
//!
//! A [`Sampler`] proposes configurations and may learn from observations; a scheduler owns one
//! and decides how much budget each proposal gets. Any sampler can sit behind any scheduler.
//!
//! Shipped here: [`random::RandomSampler`] (independent draws from the prior),
//! [`grid::GridSampler`] (every point of a grid, conditions respected), the quasi-random
//! [`sobol::SobolSampler`] and [`latin_hypercube::LatinHypercubeSampler`], the Bayesian
//! [`tpe::TpeSampler`], [`gp::GpSampler`] and [`bohb::BohbSampler`] (BOHB's KDE model, to sit
//! behind HyperBand), the multi-fidelity [`fabolas::FabolasSampler`] and
//! [`multitask::MultiTaskSampler`] (which choose each trial's fidelity) and
//! [`mobster::MobsterSampler`] (MOBSTER's GP, behind ASHA), [`regularized_evolution::RegularizedEvolution`], the multi-objective
//! [`nsga2::Nsga2Sampler`], [`parego::ParegoSampler`], MO-TPE ([`motpe`], through
//! [`tpe::TpeSampler::multi_objective`]) and [`ehvi::EhviSampler`], and
//! [`trial_limit::TrialLimit`] (caps the number of proposals, which is how an experiment's
//! trial budget is enforced), and [`restricted::Restricted`] (confines any sampler to a
//! recorded set of configurations).

pub mod bohb;
pub mod ehvi;
pub mod fabolas;
pub mod gp;
pub mod grid;
pub mod history;
pub mod latin_hypercube;
pub mod mobster;
pub mod motpe;
pub mod multitask;
pub mod normal;
pub mod nsga2;
pub mod parego;
pub mod parzen;
pub mod random;
pub mod registry;
pub mod regularized_evolution;
pub mod restricted;
pub mod sobol;
pub mod tpe;
pub mod trial_limit;

/// Search spaces the unit tests of several samplers share.
#[cfg(test)]
mod test_spaces {
    use hposim_core::{ParamSpec, SearchSpace};

    /// Two floats `x` and `y` on [0, 1]: the square the Bayesian samplers' tests optimise over.
    pub(crate) fn unit_square() -> SearchSpace {
        let float = |name: &str| ParamSpec::Float { name: name.into(), low: 0.0, high: 1.0, log: false, condition: None };
        SearchSpace::new(&[float("x"), float("y")]).expect("a valid space")
    }
}

use hposim_core::{Config, Fidelity, Objective, Observation, Rng, SearchSpace, TrialId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Proposes configurations.
///
/// A sampler needs only [`Sampler::suggest`]; one that learns from results also implements
/// [`Sampler::observe`] (and [`Sampler::on_failure`], where failed trials must rank last). To add
/// one to hposim, see "Adding a sampler" in `docs/architecture.md`.
///
/// ```
/// use hposim_core::{Config, Observation, ParamSpec, Rng, SearchSpace, Value};
/// use hposim_samplers::Sampler;
/// use rand::SeedableRng;
///
/// /// Proposes the centre of the space first, then draws from the prior; remembers the best
/// /// result it was told of.
/// struct CentreFirst {
///     space: SearchSpace,
///     proposed: u32,
///     best: Option<f64>,
/// }
///
/// impl Sampler for CentreFirst {
///     fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
///         self.proposed += 1;
///         Some(if self.proposed == 1 { self.space.sample_with(|_| 0.5) } else { self.space.sample(rng) })
///     }
///
///     fn observe(&mut self, observation: &Observation<'_>) {
///         let loss = observation.metrics[0];
///         self.best = Some(self.best.map_or(loss, |b| b.min(loss)));
///     }
/// }
///
/// let space = SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: 0.0, high: 2.0, log: false, condition: None }])
///     .expect("a valid space");
/// let mut sampler = CentreFirst { space, proposed: 0, best: None };
/// let mut rng = Rng::seed_from_u64(0);
/// let first = sampler.suggest(&mut rng).expect("a proposal");
/// assert_eq!(first.get(0), Value::Float(1.0));
/// sampler.observe(&Observation { trial: 0, config: &first, fidelity: 1, metrics: &[0.25], time: 1.0 });
/// assert_eq!(sampler.best, Some(0.25));
/// ```
pub trait Sampler: Send {
    /// The next configuration to try, or `None` when the sampler has nothing more to propose
    /// (a finished grid, a reached trial limit).
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config>;

    /// Learns from a result. The scheduler decides which results to pass on (e.g. only those at
    /// full fidelity, or at every rung).
    fn observe(&mut self, _observation: &Observation<'_>) {}

    /// The next configuration and the fidelity to train it to, within `fidelity`'s range: how
    /// a sampler that chooses the fidelity too (Fabolas, multi-task BO) proposes, behind the
    /// `fidelity_choice` scheduler, whose `Action::Start` then carries that fidelity to either
    /// executor. The default proposes [`Sampler::suggest`] at full fidelity.
    fn suggest_with_fidelity(&mut self, fidelity: &Fidelity, rng: &mut Rng) -> Option<(Config, u32)> {
        self.suggest(rng).map(|config| (config, fidelity.max))
    }

    /// Learns from the result a trial was started for and what it cost: `seconds` from the
    /// trial's start to this result, launch overhead included (what a cost model such as
    /// Fabolas' learns from). The default ignores the cost.
    fn observe_with_cost(&mut self, observation: &Observation<'_>, _seconds: f64) {
        self.observe(observation);
    }

    /// Learns that a trial failed (diverged): its metrics are NaN or infinite. Schedulers pass
    /// the fidelity the trial was running to (its rung, or the full fidelity), the budget the
    /// failure counts at, as HpBandSter records a failed job. Model-based samplers rank such a
    /// configuration last; they never drop it.
    fn on_failure(&mut self, _failure: &Observation<'_>) {}

    /// Learns that the scheduler started trial `trial` with `config` (this sampler's proposal,
    /// or the candidate it was resolved to), so that a model can account for trials whose
    /// results are still to come, as Optuna's constant liar does. Every scheduler calls it for
    /// every trial it starts; the trial stays running until a result or a failure of it is
    /// passed on ([`Sampler::observe`], [`Sampler::on_failure`]) or it is
    /// [`Sampler::abandoned`].
    fn running(&mut self, _trial: TrialId, _config: &Config) {}

    /// Learns that `trial` ended without any result this sampler will see (a scheduler that
    /// stops trials without passing their partial results on, such as median stopping).
    fn abandoned(&mut self, _trial: TrialId) {}

    /// Chooses among a fixed set of configurations (a recorded table), for
    /// [`restricted::Restricted`]. The default proposes freely ([`Sampler::suggest`]) and lets
    /// the caller resolve the proposal to the nearest unused candidate; samplers that can
    /// choose a candidate directly (random and grid search) override it.
    fn pick(&mut self, _candidates: &restricted::Candidates<'_>, rng: &mut Rng) -> Option<restricted::Pick> {
        self.suggest(rng).map(restricted::Pick::Proposal)
    }

    /// Proposals that fell back to a random configuration because the model failed (e.g. a GP
    /// whose covariance could not be factorised even with jitter); reported in the summary.
    fn warnings(&self) -> u64 {
        0
    }
}

fn default_resolution() -> u32 {
    5
}

fn default_shuffle() -> bool {
    true
}

/// A strategy's `sampler` table; `type` selects the sampler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SamplerSpec {
    /// Independent draws from the prior.
    Random {},
    /// A grid over the space.
    Grid {
        /// Points per float or int parameter (default 5); categorical and ordinal parameters
        /// always contribute all their values.
        #[serde(default = "default_resolution")]
        resolution: u32,
        /// Per-parameter overrides of `resolution`, by parameter name.
        #[serde(default)]
        resolutions: BTreeMap<String, u32>,
        /// Visit the points in a random order (default true, as Optuna's `GridSampler` does);
        /// false visits them in lexicographic order of the parameters.
        #[serde(default = "default_shuffle")]
        shuffle: bool,
    },
    /// A scrambled Sobol sequence.
    Sobol(sobol::SobolSettings),
    /// Latin hypercube designs, one after another.
    LatinHypercube(latin_hypercube::LatinHypercubeSettings),
    /// The tree-structured Parzen estimator.
    Tpe(tpe::TpeSettings),
    /// Gaussian-process Bayesian optimisation.
    Gp(gp::GpSettings),
    /// BOHB's kernel-density model (use it behind `hyperband` for the strategy BOHB).
    Bohb(bohb::BohbSettings),
    /// Fabolas: a joint GP over configuration and data fraction, choosing both (behind
    /// `fidelity_choice` by default).
    Fabolas(fabolas::FabolasSettings),
    /// Cost-aware multi-task BO over discrete fidelities (behind `fidelity_choice` by default).
    Multitask(multitask::MultiTaskSettings),
    /// MOBSTER's GP over configuration and resource (behind ASHA by default).
    Mobster(mobster::MobsterSettings),
    /// Regularized (aging) evolution.
    RegularizedEvolution(regularized_evolution::EvolutionSettings),
    /// Expected hypervolume improvement with one GP per objective (two or three objectives);
    /// the keys of `gp`.
    Ehvi(gp::GpSettings),
    /// Multi-objective TPE (several objectives); the keys of `tpe`, and `below_weights`.
    Motpe(tpe::TpeSettings),
    /// NSGA-II (several objectives).
    Nsga2(nsga2::Nsga2Settings),
    /// ParEGO: random augmented Tchebycheff scalarisations over a single-objective model.
    Parego(parego::ParegoSettings),
}

/// Why a sampler specification was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SamplerError {
    /// A setting has an invalid value; `key` names it.
    #[error("{key}: {message}")]
    Invalid {
        /// The key, relative to the sampler's table.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl SamplerError {
    /// An invalid `key`.
    pub fn invalid(key: &str, message: impl Into<String>) -> Self {
        Self::Invalid { key: key.to_owned(), message: message.into() }
    }
}

/// Refuses `objectives` unless there are two or more, for the multi-objective sampler `name`.
pub(crate) fn require_several_objectives(name: &str, objectives: &[Objective]) -> Result<(), SamplerError> {
    if objectives.len() >= 2 {
        return Ok(());
    }
    let names: Vec<&str> = objectives.iter().map(|o| o.name.as_str()).collect();
    Err(SamplerError::invalid(
        "type",
        format!(
            "{name} is a multi-objective sampler, but the benchmark has {} objective(s) ({}); give it two or more objectives",
            objectives.len(),
            names.join(", ")
        ),
    ))
}

/// Builds the sampler `spec` describes over `space` for a benchmark's `objectives`:
/// single-objective samplers rank results by the first, multi-objective ones (NSGA-II) use
/// them all. `rng` is the cell's sampler stream (the grid shuffles with it once, here; the
/// quasi-random sequences draw their scrambling seed from it).
pub fn build(spec: &SamplerSpec, space: &SearchSpace, objectives: &[Objective], rng: &mut Rng) -> Result<Box<dyn Sampler>, SamplerError> {
    let objective = objectives.first().cloned().ok_or_else(|| SamplerError::invalid("type", "the benchmark has no objective"))?;
    Ok(match spec {
        SamplerSpec::Random {} => Box::new(random::RandomSampler::new(space.clone())),
        SamplerSpec::Grid { resolution, resolutions, shuffle } => {
            Box::new(grid::GridSampler::new(space, *resolution, resolutions, *shuffle, rng)?)
        }
        SamplerSpec::Sobol(settings) => Box::new(sobol::SobolSampler::new(space, settings, rng)?),
        SamplerSpec::LatinHypercube(settings) => Box::new(latin_hypercube::LatinHypercubeSampler::new(space, settings)?),
        SamplerSpec::Tpe(settings) => Box::new(tpe::TpeSampler::new(space, objective, settings)?),
        SamplerSpec::Gp(settings) => Box::new(gp::GpSampler::new(space, objective, settings)?),
        SamplerSpec::Bohb(settings) => Box::new(bohb::BohbSampler::new(space, objective, settings)?),
        SamplerSpec::Fabolas(settings) => Box::new(fabolas::FabolasSampler::new(space, objective, settings)?),
        SamplerSpec::Multitask(settings) => Box::new(multitask::MultiTaskSampler::new(space, objective, settings)?),
        SamplerSpec::Mobster(settings) => Box::new(mobster::MobsterSampler::new(space, objective, settings)?),
        SamplerSpec::RegularizedEvolution(settings) => {
            Box::new(regularized_evolution::RegularizedEvolution::new(space, objective, settings)?)
        }
        SamplerSpec::Ehvi(settings) => Box::new(ehvi::EhviSampler::new(space, objectives, settings)?),
        SamplerSpec::Motpe(settings) => Box::new(tpe::TpeSampler::multi_objective(space, objectives, settings)?),
        SamplerSpec::Nsga2(settings) => Box::new(nsga2::Nsga2Sampler::new(space, objectives, settings)?),
        SamplerSpec::Parego(settings) => Box::new(parego::ParegoSampler::new(space, objectives, settings)?),
    })
}

/// Checks `spec` against `space` and `objectives` (for a grid, enumerates it once to check its
/// size), so an experiment is refused when it loads.
pub fn validate(spec: &SamplerSpec, space: &SearchSpace, objectives: &[Objective]) -> Result<(), SamplerError> {
    let mut rng = <Rng as rand::SeedableRng>::seed_from_u64(0);
    build(spec, space, objectives, &mut rng).map(|_| ())
}

//! Schedulers: how much budget each trial gets.
//!
//! An executor (the simulator, or the runner of real training) asks a [`Scheduler`] what to do
//! whenever a worker is free ([`Scheduler::on_free_worker`]) and reports every result
//! ([`Scheduler::on_result`]). The scheduler owns a [`Sampler`] for new configurations. Because
//! both executors speak only this trait, a strategy behaves the same in simulation and in
//! reality.
//!
//! Shipped here: [`fifo::Fifo`] (every trial to full fidelity),
//! [`fidelity_choice::FidelityChoice`] (every trial to the fidelity its sampler chose), synchronous
//! [`successive_halving`] and [`hyperband`] (both sizings, see [`brackets`]), [`asha::Asha`]
//! (promotion and stopping variants, several brackets) and the
//! [`median_stopping::MedianStopping`] rule, each working with any sampler, with or without
//! checkpointing; and population-based training ([`pbt::Pbt`]), whose sampler proposes the
//! initial population and which copies checkpoints, so it needs checkpointing and a benchmark
//! that can change a configuration mid-training. Rungs and populations rank by the first
//! objective, and a NaN result ranks last.

pub mod asha;
pub mod brackets;
pub mod fidelity_choice;
pub mod fifo;
pub mod hyperband;
pub mod median_stopping;
pub mod mo_asha;
pub mod pareto_rank;
pub mod pbt;
pub mod pbt_explore;
pub mod rank;
pub mod registry;
pub mod scalarised;
pub mod strategy;
pub mod successive_halving;
pub mod synchronous;

pub use strategy::{Setting, StrategySpec, build_strategy, check_strategy};

use hposim_core::{Action, Decision, Fidelity, Objective, Observation, Rng, SearchSpace, WorkerRequest};
use hposim_samplers::Sampler;
use serde::{Deserialize, Serialize};

/// Decides what free workers do and whether trials continue.
///
/// Both executors drive a scheduler through the same trial book (`hposim-book`): a free worker
/// asks [`Scheduler::on_free_worker`], every finite result goes to [`Scheduler::on_result`], and
/// every diverged or failed one to [`Scheduler::on_failure`]. A scheduler tells its sampler of
/// every trial it starts ([`Sampler::running`]) and of every trial it ends without passing a
/// result on ([`Sampler::abandoned`]). The book checks what the
/// scheduler answers (a resumed trial must be paused, a target within the fidelity range). To
/// add one to hposim, see "Adding a scheduler" in `docs/architecture.md`.
///
/// ```
/// use hposim_core::{Action, Decision, Observation, ParamSpec, Rng, SearchSpace, WorkerRequest};
/// use hposim_samplers::{Sampler, random::RandomSampler};
/// use hposim_schedulers::Scheduler;
/// use rand::SeedableRng;
///
/// /// Trains every configuration to full fidelity, but stops a run whose loss exceeds `limit`.
/// struct StopAbove {
///     sampler: Box<dyn Sampler>,
///     max: u32,
///     limit: f64,
/// }
///
/// impl Scheduler for StopAbove {
///     fn on_free_worker(&mut self, request: &WorkerRequest, rng: &mut Rng) -> Action {
///         match self.sampler.suggest(rng) {
///             Some(config) => {
///                 self.sampler.running(request.next_trial, &config);
///                 Action::Start { config, until: self.max }
///             }
///             None => Action::Finish,
///         }
///     }
///
///     fn on_result(&mut self, observation: &Observation<'_>) -> Decision {
///         self.sampler.observe(observation);
///         if observation.metrics[0] > self.limit { Decision::Stop } else { Decision::Continue }
///     }
///
///     fn on_failure(&mut self, failure: &Observation<'_>) {
///         self.sampler.on_failure(failure);
///     }
///
///     fn sampler_warnings(&self) -> u64 {
///         self.sampler.warnings()
///     }
/// }
///
/// let space = SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None }])
///     .expect("a valid space");
/// let mut scheduler = StopAbove { sampler: Box::new(RandomSampler::new(space)), max: 10, limit: 0.5 };
/// let request = WorkerRequest { now: 0.0, worker: 0, next_trial: 0 };
/// let Action::Start { config, until } = scheduler.on_free_worker(&request, &mut Rng::seed_from_u64(1)) else {
///     panic!("a start");
/// };
/// assert_eq!(until, 10);
/// let result = |loss: &'static [f64]| Observation { trial: 0, config: &config, fidelity: 1, metrics: loss, time: 1.0 };
/// assert_eq!(scheduler.on_result(&result(&[0.4])), Decision::Continue);
/// assert_eq!(scheduler.on_result(&result(&[0.7])), Decision::Stop);
/// ```
pub trait Scheduler: Send {
    /// A worker is free: start a trial, resume one, wait, or finish.
    fn on_free_worker(&mut self, request: &WorkerRequest, rng: &mut Rng) -> Action;

    /// A trial reported a result with finite metrics: continue, pause or stop it.
    fn on_result(&mut self, observation: &Observation<'_>) -> Decision;

    /// A trial failed at `failure.fidelity`: its metrics were NaN or infinite. The executor
    /// stops it; samplers rank the configuration last.
    fn on_failure(&mut self, failure: &Observation<'_>);

    /// The [`Sampler::warnings`] of the sampler it owns.
    fn sampler_warnings(&self) -> u64;

    /// The first step after `done` whose result this scheduler needs from trial `trial`: it
    /// promises to answer [`Decision::Continue`], changing nothing, to the results of the
    /// steps before it (a rung below, a trial that runs to its end). The simulator then need
    /// not tell it those results when the trace keeps only decisions
    /// ([`hposim_core::TraceLevel::Decisions`]); `crates/sim/tests/trace_levels.rs` holds every
    /// scheduler to its promise. The default, `done + 1`, asks for every result.
    fn next_decision(&self, _trial: hposim_core::TrialId, done: u32) -> u32 {
        done.saturating_add(1)
    }

    /// Whether a worker it told to wait must be asked again after every result (the default,
    /// always safe), or only after the results it hears ([`Scheduler::next_decision`]): then it
    /// promises that, asked again before it hears another result, it answers
    /// [`Action::Wait`] again, drawing no randomness and changing nothing (a scheduler that
    /// never waits keeps the promise trivially). With the promise, the simulator at the
    /// decisions trace level advances a trial from one decision to the next in one event;
    /// `crates/sim/tests/trace_levels.rs` holds every scheduler to it.
    fn wakes_on_every_result(&self) -> bool {
        true
    }

    /// The bracket trial `trial` belongs to, for schedulers that have brackets (HyperBand,
    /// successive halving, ASHA); `None` otherwise. Trackers tag trials with it.
    fn bracket_of(&self, _trial: hposim_core::TrialId) -> Option<u64> {
        None
    }
}

fn default_eta() -> f64 {
    3.0
}
fn default_true() -> bool {
    true
}
fn default_one() -> u32 {
    1
}
fn default_min_trials() -> u32 {
    3
}

/// How a rung-based scheduler ranks a rung's results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ranking {
    /// By the first objective (or the weighted sum).
    #[default]
    First,
    /// By all objectives: non-dominated sorting with an ε-net within fronts (multi-objective
    /// successive halving and HyperBand).
    Pareto,
}

impl Ranking {
    fn is_first(&self) -> bool {
        *self == Ranking::First
    }
}

/// A strategy's `scheduler` table; `type` selects the scheduler. Fidelities default to the
/// benchmark's range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SchedulerSpec {
    /// First in, first out: every trial runs to full fidelity.
    Fifo {},
    /// Every trial runs to the fidelity its sampler chose (Fabolas, multi-task BO); FIFO for
    /// samplers that do not choose.
    FidelityChoice {},
    /// Synchronous successive halving, one bracket after another.
    SuccessiveHalving {
        /// Reduction factor η ≥ 2 (default 3).
        #[serde(default = "default_eta")]
        eta: f64,
        /// First rung's fidelity r.
        #[serde(default)]
        min_fidelity: Option<u32>,
        /// Last rung's fidelity R.
        #[serde(default)]
        max_fidelity: Option<u32>,
        /// Configurations started per bracket (default η^K, K rungs above the first, so that
        /// one configuration reaches R).
        #[serde(default)]
        configs: Option<u64>,
        /// Start the next bracket instead of waiting for a rung to fill (default false).
        #[serde(default)]
        overlap: bool,
        /// Run at most this many brackets, then finish (default: until the budget runs out).
        #[serde(default)]
        max_brackets: Option<u64>,
        /// `first` (default) or `pareto` (multi-objective successive halving).
        #[serde(default, skip_serializing_if = "Ranking::is_first")]
        ranking: Ranking,
    },
    /// Synchronous HyperBand: brackets s = s_max…0, repeated.
    Hyperband {
        /// Reduction factor η ≥ 2 (default 3).
        #[serde(default = "default_eta")]
        eta: f64,
        /// Minimum fidelity r.
        #[serde(default)]
        min_fidelity: Option<u32>,
        /// Maximum fidelity R.
        #[serde(default)]
        max_fidelity: Option<u32>,
        /// Bracket sizing, `li` (default) or `hpbandster`.
        #[serde(default)]
        sizing: brackets::Sizing,
        /// Start the next bracket instead of waiting for a rung to fill (default true, as
        /// HpBandSter and Syne Tune do).
        #[serde(default = "default_true")]
        overlap: bool,
        /// Run at most this many brackets, then finish (HpBandSter's `n_iterations`; default:
        /// until the budget runs out). `s_max + 1` brackets are one full HyperBand iteration.
        #[serde(default)]
        max_brackets: Option<u64>,
        /// `first` (default) or `pareto` (multi-objective HyperBand).
        #[serde(default, skip_serializing_if = "Ranking::is_first")]
        ranking: Ranking,
    },
    /// Asynchronous successive halving.
    Asha {
        /// Reduction factor η ≥ 2 (default 3).
        #[serde(default = "default_eta")]
        eta: f64,
        /// Grace period: the lowest rung's fidelity.
        #[serde(default)]
        min_fidelity: Option<u32>,
        /// Maximum fidelity R.
        #[serde(default)]
        max_fidelity: Option<u32>,
        /// `stopping` (default) or `promotion`.
        #[serde(default)]
        variant: asha::AshaVariant,
        /// Number of brackets (grace periods r·η^s, s < brackets; default 1).
        #[serde(default = "default_one")]
        brackets: u32,
    },
    /// The median stopping rule.
    MedianStopping {
        /// First step at which a trial may be stopped (default: the benchmark's minimum fidelity).
        #[serde(default)]
        grace_period: Option<u32>,
        /// Completed trials needed before any trial is stopped (default 3).
        #[serde(default = "default_min_trials")]
        min_trials: u32,
    },
    /// Population-based training.
    Pbt(pbt::PbtSettings),
    /// Multi-objective ASHA (stopping variant): rungs ranked by non-dominated sorting and an
    /// ε-net within fronts.
    MoAsha {
        /// Reduction factor η ≥ 2 (default 3).
        #[serde(default = "default_eta")]
        eta: f64,
        /// Grace period: the lowest rung's fidelity.
        #[serde(default)]
        min_fidelity: Option<u32>,
        /// Maximum fidelity R.
        #[serde(default)]
        max_fidelity: Option<u32>,
    },
}

/// Why a scheduler specification was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchedulerError {
    /// A setting has an invalid value; `key` names it.
    #[error("{key}: {message}")]
    Invalid {
        /// The key, relative to the scheduler's table.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl SchedulerError {
    fn invalid(key: &str, message: impl Into<String>) -> Self {
        Self::Invalid { key: key.to_owned(), message: message.into() }
    }
}

impl From<brackets::RangeError> for SchedulerError {
    fn from(e: brackets::RangeError) -> Self {
        Self::invalid(e.key, e.message)
    }
}

/// Most rungs a scheduler may have (rung membership is kept in 32-bit masks).
pub const MAX_RUNGS: usize = 32;

/// The fidelity range `(r, R)` of a scheduler: its settings, defaulting to the benchmark's,
/// checked against the benchmark's range and against each other.
fn fidelity_range(min: Option<u32>, max: Option<u32>, eta: f64, fidelity: &Fidelity) -> Result<(u32, u32), SchedulerError> {
    let r = min.unwrap_or(fidelity.min);
    let big_r = max.unwrap_or(fidelity.max);
    for (key, value) in [("min_fidelity", r), ("max_fidelity", big_r)] {
        if !(fidelity.min..=fidelity.max).contains(&value) {
            return Err(SchedulerError::invalid(
                key,
                format!("the benchmark's fidelity runs from {} to {} ({}); got {value}", fidelity.min, fidelity.max, fidelity.unit),
            ));
        }
    }
    if r >= big_r {
        return Err(SchedulerError::invalid("min_fidelity", format!("must be less than max_fidelity ({big_r}), got {r}")));
    }
    brackets::check_range(f64::from(r), f64::from(big_r), eta)?;
    if eta.fract() != 0.0 {
        // Rung fidelities must be whole steps; a fractional η would round rungs onto each
        // other (or onto R) and make ⌊n/η⌋ disagree with the bracket sizes.
        return Err(SchedulerError::invalid("eta", format!("must be a whole number (2, 3, 4, ...), got {eta}")));
    }
    Ok((r, big_r))
}

/// The highest fidelity any trial of this scheduler is trained to (the benchmark's full
/// fidelity unless `max_fidelity` is lower, or a successive-halving bracket runs out of
/// configurations before its last rung). `None` if the specification is invalid.
pub fn top_fidelity(spec: &SchedulerSpec, fidelity: &Fidelity) -> Option<u32> {
    match *spec {
        SchedulerSpec::Fifo {} | SchedulerSpec::FidelityChoice {} | SchedulerSpec::MedianStopping { .. } | SchedulerSpec::Pbt(_) => {
            Some(fidelity.max)
        }
        SchedulerSpec::Hyperband { eta, min_fidelity, max_fidelity, .. }
        | SchedulerSpec::Asha { eta, min_fidelity, max_fidelity, .. }
        | SchedulerSpec::MoAsha { eta, min_fidelity, max_fidelity } => {
            fidelity_range(min_fidelity, max_fidelity, eta, fidelity).ok().map(|(_, big_r)| big_r)
        }
        SchedulerSpec::SuccessiveHalving { eta, min_fidelity, max_fidelity, configs, .. } => {
            let bracket = successive_halving_bracket(eta, min_fidelity, max_fidelity, configs, fidelity).ok()?;
            bracket.rungs.last().map(|rung| brackets::steps(rung.fidelity))
        }
    }
}

/// The bracket successive halving repeats, its settings checked.
fn successive_halving_bracket(
    eta: f64,
    min_fidelity: Option<u32>,
    max_fidelity: Option<u32>,
    configs: Option<u64>,
    fidelity: &Fidelity,
) -> Result<brackets::Bracket, SchedulerError> {
    let (r, big_r) = fidelity_range(min_fidelity, max_fidelity, eta, fidelity)?;
    let configs = configs.unwrap_or_else(|| brackets::successive_halving_default_configs(f64::from(r), f64::from(big_r), eta));
    if (configs as f64) < eta {
        return Err(SchedulerError::invalid(
            "configs",
            format!("{configs} configurations are fewer than eta ({eta}): none would ever be promoted"),
        ));
    }
    let bracket = brackets::successive_halving(f64::from(r), f64::from(big_r), eta, configs);
    check_rungs(bracket.rungs.len())?;
    Ok(bracket)
}

/// The first objective, which rung-based schedulers rank by.
fn ranking_objective(objectives: &[Objective]) -> Result<Objective, SchedulerError> {
    objectives.first().cloned().ok_or_else(|| SchedulerError::invalid("type", "the benchmark has no objective to rank trials by"))
}

/// Builds the scheduler `spec` describes, owning `sampler`, for a benchmark with `space`,
/// `fidelity` and `objectives`. Every setting is checked here, so an experiment is refused
/// before it runs.
pub fn build(
    spec: &SchedulerSpec,
    sampler: Box<dyn Sampler>,
    space: &SearchSpace,
    fidelity: &Fidelity,
    objectives: &[Objective],
) -> Result<Box<dyn Scheduler>, SchedulerError> {
    Ok(match *spec {
        SchedulerSpec::Fifo {} => Box::new(fifo::Fifo::new(sampler, fidelity.max)),
        SchedulerSpec::FidelityChoice {} => Box::new(fidelity_choice::FidelityChoice::new(sampler, fidelity)),
        SchedulerSpec::Pbt(ref settings) => {
            let config = settings.resolve(fidelity.max)?;
            Box::new(pbt::Pbt::new(sampler, space.clone(), ranking_objective(objectives)?, config, fidelity.max))
        }
        SchedulerSpec::SuccessiveHalving { eta, min_fidelity, max_fidelity, configs, overlap, max_brackets, ranking } => {
            check_max_brackets(max_brackets)?;
            let bracket = successive_halving_bracket(eta, min_fidelity, max_fidelity, configs, fidelity)?;
            let engine =
                successive_halving::new(sampler, ranking_objective(objectives)?, eta, &bracket, overlap).with_max_brackets(max_brackets);
            Box::new(with_ranking(engine, ranking, objectives, "successive_halving")?)
        }
        SchedulerSpec::Hyperband { eta, min_fidelity, max_fidelity, sizing, overlap, max_brackets, ranking } => {
            check_max_brackets(max_brackets)?;
            let (r, big_r) = fidelity_range(min_fidelity, max_fidelity, eta, fidelity)?;
            let table = brackets::hyperband(f64::from(r), f64::from(big_r), eta, sizing);
            check_rungs(table.first().map_or(0, |b| b.rungs.len()))?;
            let engine = hyperband::new(sampler, ranking_objective(objectives)?, eta, &table, overlap).with_max_brackets(max_brackets);
            Box::new(with_ranking(engine, ranking, objectives, "hyperband")?)
        }
        SchedulerSpec::Asha { eta, min_fidelity, max_fidelity, variant, brackets: count } => {
            let (r, big_r) = fidelity_range(min_fidelity, max_fidelity, eta, fidelity)?;
            if count == 0 {
                return Err(SchedulerError::invalid("brackets", "must be at least 1"));
            }
            check_rungs(brackets::rung_levels(r, big_r, eta, 0).len())?;
            if brackets::rung_levels(r, big_r, eta, count - 1).is_empty() {
                return Err(SchedulerError::invalid(
                    "brackets",
                    format!("{count} brackets need a rung at {r}·{eta}^{} below max_fidelity ({big_r}); use fewer", count - 1),
                ));
            }
            Box::new(asha::Asha::new(sampler, ranking_objective(objectives)?, variant, eta, r, big_r, count))
        }
        SchedulerSpec::MoAsha { eta, min_fidelity, max_fidelity } => {
            let (r, big_r) = fidelity_range(min_fidelity, max_fidelity, eta, fidelity)?;
            check_rungs(brackets::rung_levels(r, big_r, eta, 0).len())?;
            require_several_objectives("type", "mo_asha", objectives)?;
            Box::new(mo_asha::MoAsha::new(sampler, objectives.to_vec(), eta, r, big_r))
        }
        SchedulerSpec::MedianStopping { grace_period, min_trials } => {
            let grace = grace_period.unwrap_or(fidelity.min);
            if grace == 0 || grace > fidelity.max {
                return Err(SchedulerError::invalid(
                    "grace_period",
                    format!("must lie in 1..={} ({}), got {grace}", fidelity.max, fidelity.unit),
                ));
            }
            if min_trials == 0 {
                return Err(SchedulerError::invalid("min_trials", "must be at least 1"));
            }
            Box::new(median_stopping::MedianStopping::new(sampler, ranking_objective(objectives)?, fidelity.max, grace, min_trials))
        }
    })
}

/// Refuses `objectives` unless there are two or more, for `what`, a multi-objective ranking
/// (the error names `key`).
fn require_several_objectives(key: &str, what: &str, objectives: &[Objective]) -> Result<(), SchedulerError> {
    if objectives.len() >= 2 {
        return Ok(());
    }
    let names: Vec<&str> = objectives.iter().map(|o| o.name.as_str()).collect();
    Err(SchedulerError::invalid(
        key,
        format!(
            "{what} ranks several objectives, but the strategy ranks by {} objective(s) ({}); give the benchmark two or more objectives (and no `weights`)",
            objectives.len(),
            names.join(", ")
        ),
    ))
}

/// The synchronous engine with `ranking`; Pareto ranking needs several objectives.
fn with_ranking(
    engine: synchronous::Synchronous,
    ranking: Ranking,
    objectives: &[Objective],
    name: &str,
) -> Result<synchronous::Synchronous, SchedulerError> {
    match ranking {
        Ranking::First => Ok(engine),
        Ranking::Pareto => {
            require_several_objectives("ranking", &format!("{name} with ranking = \"pareto\""), objectives)?;
            Ok(engine.ranking_by_pareto(objectives.to_vec()))
        }
    }
}

fn check_max_brackets(max_brackets: Option<u64>) -> Result<(), SchedulerError> {
    if max_brackets == Some(0) {
        return Err(SchedulerError::invalid("max_brackets", "must be at least 1"));
    }
    Ok(())
}

fn check_rungs(rungs: usize) -> Result<(), SchedulerError> {
    if rungs > MAX_RUNGS {
        return Err(SchedulerError::invalid(
            "eta",
            format!("gives {rungs} rungs, more than {MAX_RUNGS}; use a larger eta or a smaller range"),
        ));
    }
    Ok(())
}

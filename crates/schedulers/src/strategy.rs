//! Strategies: a sampler behind a scheduler, as an experiment's `[[strategies]]` tables write
//! them, and the one function that builds them. The simulator and live studies both build
//! their strategies with [`build_strategy`], so the same seed gives the same strategy in both.

use crate::{Scheduler, SchedulerSpec};
use hposim_core::nearest::NearestIndex;
use hposim_core::{Fidelity, Objective, Rng, SearchSpace};
use hposim_samplers::SamplerSpec;
use hposim_samplers::restricted::Restricted;
use hposim_samplers::trial_limit::TrialLimit;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A strategy: a sampler behind a scheduler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "WrittenStrategy")]
pub struct StrategySpec {
    /// Display name, unique within the experiment.
    pub name: String,
    /// Which configuration to try next.
    pub sampler: SamplerSpec,
    /// How much budget each trial gets (default FIFO; for the `bohb` sampler, HyperBand with
    /// HpBandSter's sizing).
    pub scheduler: SchedulerSpec,
    /// Overrides the experiment's `checkpointing` for this strategy, so one table can show a
    /// strategy with and without checkpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpointing: Option<bool>,
    /// Fixed weights, one per objective: the sampler and scheduler rank by the weighted sum of
    /// the objectives' losses instead of by the first objective.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<f64>>,
}

/// A `[[strategies]]` table as written, before its scheduler is defaulted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WrittenStrategy {
    name: String,
    sampler: SamplerSpec,
    #[serde(default)]
    scheduler: Option<SchedulerSpec>,
    #[serde(default)]
    checkpointing: Option<bool>,
    #[serde(default)]
    weights: Option<Vec<f64>>,
}

impl From<WrittenStrategy> for StrategySpec {
    fn from(written: WrittenStrategy) -> Self {
        let scheduler = written.scheduler.unwrap_or_else(|| default_scheduler(&written.sampler));
        Self { name: written.name, sampler: written.sampler, scheduler, checkpointing: written.checkpointing, weights: written.weights }
    }
}

/// The scheduler of a strategy whose table names none: FIFO, except behind BOHB's sampler,
/// which gets HyperBand with HpBandSter's bracket sizing, so that together they are the
/// strategy BOHB as Falkner et al. (ICML 2018) ran it, and behind the samplers that choose the
/// fidelity (Fabolas, multi-task BO), which get `fidelity_choice`, and behind MOBSTER's, which
/// gets ASHA (stopping) as Syne Tune's `MOBSTER` runs it.
pub fn default_scheduler(sampler: &SamplerSpec) -> SchedulerSpec {
    match sampler {
        SamplerSpec::Bohb(_) => SchedulerSpec::Hyperband {
            eta: 3.0,
            min_fidelity: None,
            max_fidelity: None,
            sizing: crate::brackets::Sizing::Hpbandster,
            overlap: true,
            max_brackets: None,
            ranking: crate::Ranking::First,
        },
        SamplerSpec::Fabolas(_) | SamplerSpec::Multitask(_) => SchedulerSpec::FidelityChoice {},
        // Syne Tune's MOBSTER: HyperbandScheduler's defaults (stopping, η = 3, one bracket).
        SamplerSpec::Mobster(_) => SchedulerSpec::Asha {
            eta: 3.0,
            min_fidelity: None,
            max_fidelity: None,
            variant: crate::asha::AshaVariant::Stopping,
            brackets: 1,
        },
        _ => SchedulerSpec::Fifo {},
    }
}

impl StrategySpec {
    /// A simulated cell's expected CPU time relative to random search under FIFO: what
    /// `hposim run --shard` balances shards by. The sampler's cost
    /// ([`hposim_samplers::SamplerSpec::relative_cost`]) times four for a model behind a scheduler
    /// that stops trials early (at equal compute it proposes several times as many trials, and
    /// its cost grows with them: TPE with median stopping took 65 ms a cell on the regression
    /// suite against TPE's 10), plus the scheduler's own ([`crate::registry::SchedulerInfo::extra_cost`]).
    pub fn relative_cost(&self) -> u64 {
        let sampler = u64::from(self.sampler.relative_cost());
        let more_trials = if self.sampler.info().learns && self.scheduler.capabilities().terminates_early { 4 } else { 1 };
        sampler * more_trials + u64::from(self.scheduler.info().extra_cost)
    }

    /// The objectives its sampler and scheduler rank by: the benchmark's, or the weighted sum.
    pub fn ranked_objectives(&self, objectives: &[Objective]) -> Vec<Objective> {
        if self.weights.is_some() { vec![crate::scalarised::objective()] } else { objectives.to_vec() }
    }
}

/// Builds a strategy as a cell or live study runs it: `strategy`'s sampler (confined to
/// `recorded`, the configurations of a recorded table, and capped at `trials` proposals) behind
/// its scheduler, for a benchmark or training with `space`, `objectives` and `fidelity`. Errors
/// name the key (`sampler.…`, `scheduler.…`).
pub fn build_strategy(
    strategy: &StrategySpec,
    space: &SearchSpace,
    objectives: &[Objective],
    fidelity: &Fidelity,
    recorded: Option<Arc<NearestIndex>>,
    trials: Option<u64>,
    rng: &mut Rng,
) -> Result<Box<dyn Scheduler>, String> {
    let ranked = strategy.ranked_objectives(objectives);
    let mut sampler = hposim_samplers::build(&strategy.sampler, space, &ranked, rng).map_err(|e| format!("sampler.{e}"))?;
    if let Some(set) = recorded {
        sampler = Box::new(Restricted::new(sampler, space, set));
    }
    if let Some(limit) = trials {
        sampler = Box::new(TrialLimit::new(sampler, limit));
    }
    let scheduler = crate::build(&strategy.scheduler, sampler, space, fidelity, &ranked).map_err(|e| format!("scheduler.{e}"))?;
    Ok(match &strategy.weights {
        Some(weights) => Box::new(crate::scalarised::Scalarised::new(scheduler, objectives.to_vec(), weights.clone())),
        None => scheduler,
    })
}

/// Where a strategy is to run, as far as its checks need to know: the benchmark (or live
/// training) and what the executor can do.
#[derive(Clone, Copy, Debug)]
pub struct Setting<'a> {
    /// The search space.
    pub space: &'a SearchSpace,
    /// The fidelity axis.
    pub fidelity: &'a Fidelity,
    /// The objectives.
    pub objectives: &'a [Objective],
    /// Whether paused trials keep their checkpoints.
    pub checkpointing: bool,
    /// Whether the budget counts trials.
    pub trial_budget: bool,
    /// Why a trial's configuration cannot be changed mid-training there (the benchmark cannot
    /// splice curves, or the executor cannot copy checkpoints); `None` if it can.
    pub cannot_change_configurations: Option<&'a str>,
}

/// Checks `strategy` against where it is to run, before anything runs: its scheduler's
/// capabilities ([`crate::registry`]) against the checkpointing, budget and benchmark or
/// executor, then that its sampler and scheduler can be built for the objectives (which refuses
/// a multi-objective sampler or scheduler with one objective). The error starts with the key
/// (`weights`, `sampler.…`, `scheduler.…`, `budget.…`).
pub fn check_strategy(strategy: &StrategySpec, setting: &Setting<'_>) -> Result<(), String> {
    if let Some(weights) = &strategy.weights {
        crate::scalarised::check_weights(weights, setting.objectives).map_err(|e| e.to_string())?;
    }
    let ranked = strategy.ranked_objectives(setting.objectives);
    let scheduler = strategy.scheduler.info();
    let capabilities = strategy.scheduler.capabilities();
    if capabilities.changes_configurations {
        if setting.trial_budget {
            return Err(format!(
                "budget.trials: {} starts a new trial at every exploit, so a trial budget does not bound it; limit it with compute_seconds or wallclock_seconds",
                scheduler.name
            ));
        }
        if !setting.checkpointing {
            return Err(format!(
                "scheduler: {} copies checkpoints, so it needs checkpointing; remove `checkpointing = false`",
                scheduler.name
            ));
        }
        if let Some(why) = setting.cannot_change_configurations {
            return Err(format!("scheduler: {} changes configurations mid-training, which {why}", scheduler.name));
        }
    }
    hposim_samplers::validate(&strategy.sampler, setting.space, &ranked).map_err(|e| format!("sampler.{e}"))?;
    if let SamplerSpec::Multitask(settings) = &strategy.sampler {
        hposim_samplers::multitask::check_tasks(settings, setting.fidelity).map_err(|e| format!("sampler.{e}"))?;
    }
    let probe = Box::new(hposim_samplers::random::RandomSampler::new(setting.space.clone()));
    crate::build(&strategy.scheduler, probe, setting.space, setting.fidelity, &ranked).map_err(|e| format!("scheduler.{e}"))?;
    Ok(())
}

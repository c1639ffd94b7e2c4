//! Schedulers: how much budget each trial gets.
//!
//! An executor (the simulator, or the runner of real training) asks a [`Scheduler`] what to do
//! whenever a worker is free ([`Scheduler::on_free_worker`]) and reports every result
//! ([`Scheduler::on_result`]). The scheduler owns a [`Sampler`] for new configurations. Because
//! both executors speak only this trait, a strategy behaves the same in simulation and in
//! reality.
//!
//! Shipped here: [`fifo::Fifo`], every trial to full fidelity.

pub mod fifo;

use hposim_core::{Action, Decision, Fidelity, Objective, Observation, Rng, TrialId, WorkerRequest};
use hposim_samplers::Sampler;
use serde::{Deserialize, Serialize};

/// Decides what free workers do and whether trials continue.
pub trait Scheduler: Send {
    /// A worker is free: start a trial, resume one, wait, or finish.
    fn on_free_worker(&mut self, request: &WorkerRequest, rng: &mut Rng) -> Action;

    /// A trial reported a result with finite metrics: continue, pause or stop it.
    fn on_result(&mut self, observation: &Observation<'_>) -> Decision;

    /// A trial failed at `fidelity` (its metrics were NaN or infinite); the executor stops it.
    fn on_failure(&mut self, trial: TrialId, fidelity: u32);
}

/// A strategy's `scheduler` table; `type` selects the scheduler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SchedulerSpec {
    /// First in, first out: every trial runs to full fidelity.
    Fifo {},
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

/// Builds the scheduler `spec` describes, owning `sampler`, for a benchmark with `fidelity`
/// and `objectives`.
pub fn build(
    spec: &SchedulerSpec,
    sampler: Box<dyn Sampler>,
    fidelity: &Fidelity,
    _objectives: &[Objective],
) -> Result<Box<dyn Scheduler>, SchedulerError> {
    Ok(match spec {
        SchedulerSpec::Fifo {} => Box::new(fifo::Fifo::new(sampler, fidelity.max)),
    })
}

//! What executors and strategies say to each other: observations, worker requests, actions and
//! decisions. The same types serve the simulator and the real-training runner.

use crate::config::Config;

/// Identifies a trial within one cell (a run of one strategy on one benchmark with one seed).
/// The executor numbers trials 0, 1, 2, ... in the order they start.
pub type TrialId = u32;

/// One result of one trial: the metrics after `fidelity` steps.
#[derive(Clone, Copy, Debug)]
pub struct Observation<'a> {
    /// The trial.
    pub trial: TrialId,
    /// Its configuration.
    pub config: &'a Config,
    /// Steps completed (1-based): the fidelity the metrics were measured at.
    pub fidelity: u32,
    /// One value per objective, in the benchmark's objective order.
    pub metrics: &'a [f64],
    /// The (simulated or real) time at which the result arrived, in seconds.
    pub time: f64,
}

/// What the executor tells a scheduler when a worker is free.
#[derive(Clone, Copy, Debug)]
pub struct WorkerRequest {
    /// Current time in seconds.
    pub now: f64,
    /// The free worker.
    pub worker: u32,
    /// The id a new trial will get if the scheduler starts one.
    pub next_trial: TrialId,
}

/// What a scheduler does with a free worker.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Start a new trial (it gets [`WorkerRequest::next_trial`]) and run it until fidelity
    /// `until`, unless a [`Decision`] stops it earlier.
    Start {
        /// The configuration to train.
        config: Config,
        /// Run until this fidelity.
        until: u32,
    },
    /// Resume a paused trial and run it until fidelity `until`. With checkpointing it continues
    /// from its last completed step; without, it restarts from step 1 and pays again.
    Resume {
        /// The paused trial.
        trial: TrialId,
        /// Run until this fidelity.
        until: u32,
    },
    /// Start a new trial (it gets [`WorkerRequest::next_trial`]) from the checkpoint `donor`
    /// saved after step `step`, continuing with `config` until fidelity `until`: the exploit
    /// and explore of population-based training (Jaderberg et al. 2017), which Syne Tune also
    /// runs as a new trial started from the donor's checkpoint. `recipient` is the trial the new
    /// one replaces in the population (already stopped or paused for good); executors record
    /// the exploit so that a report can draw the lineage. The new trial's first step is
    /// `step + 1`.
    Exploit {
        /// The trial whose checkpoint is copied.
        donor: TrialId,
        /// The trial the new one replaces.
        recipient: TrialId,
        /// The donor's step whose checkpoint is copied (a step it has completed).
        step: u32,
        /// The new trial's (explored) configuration.
        config: Config,
        /// Run until this fidelity (above `step`).
        until: u32,
    },
    /// Nothing to do now, for this or any other free worker; ask again after the next result.
    /// The executor counts the worker as idle meanwhile (synchronous successive halving waits
    /// for a rung to fill), and may skip asking other waiting workers until a result arrives.
    Wait,
    /// Nothing to do now or later for this worker.
    Finish,
}

/// What a scheduler decides after a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Keep training (until the trial's current target fidelity).
    Continue,
    /// Pause; the trial may be resumed later.
    Pause,
    /// Stop for good.
    Stop,
}

//! What the book refuses: a scheduler or an executor that broke the protocol.

use hposim_core::TrialId;

/// A scheduler asked for something impossible, or an executor reported what cannot be.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BookError {
    /// A resume named a trial that cannot be resumed.
    #[error("the scheduler asked to resume trial {trial}, which {problem}")]
    BadResume {
        /// The trial.
        trial: TrialId,
        /// Why not.
        problem: &'static str,
    },
    /// A start or resume asked for a fidelity outside the benchmark's range.
    #[error("the scheduler asked to run a trial until fidelity {until}, outside 1..={max}")]
    BadTarget {
        /// The fidelity asked for.
        until: u32,
        /// The full fidelity.
        max: u32,
    },
    /// An exploit named trials or a step that cannot be copied.
    #[error("the scheduler asked to copy trial {donor}'s checkpoint at step {step} into a new trial, but {problem}")]
    BadExploit {
        /// The donor.
        donor: TrialId,
        /// The step.
        step: u32,
        /// Why not.
        problem: String,
    },
    /// A result arrived for a worker that runs no trial.
    #[error("a result arrived from worker {worker}, which runs no trial")]
    NotRunning {
        /// The worker.
        worker: u32,
    },
    /// A trial reported a step other than the one after its last.
    #[error("trial {trial} reported step {step} after step {done}")]
    OutOfOrder {
        /// The trial.
        trial: TrialId,
        /// The step reported.
        step: u32,
        /// Its last step.
        done: u32,
    },
}

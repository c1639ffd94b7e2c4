//! Real training under hposim's strategies.
//!
//! The runner drives the very same [`hposim_schedulers::Scheduler`] and
//! [`hposim_samplers::Sampler`] objects as the simulator, built by the same function
//! ([`hposim_schedulers::build_strategy`]) from the same experiment tables, but with real
//! processes and a real clock:
//!
//! - [`protocol`]: how a training command is started and how it reports (PROTOCOL.md);
//! - [`executor`], [`local`], [`slurm`]: where trial processes run; [`replay`]: a benchmark
//!   replayed on a virtual clock instead (the differential test against the simulator);
//! - [`journal`], [`study`]: the live study loop, journaled so that it resumes after a kill;
//! - [`spec`]: live experiment files (`[training]`);
//! - [`tune`]: `hposim tune`, writing the simulator's trace schema;
//! - [`record`]: `hposim record`, real curves into the data/ format;
//! - [`tracker`], [`mlflow`]: optional tracking of every trial.

pub mod ask_tell;
pub mod executor;
pub mod journal;
pub mod local;
pub mod mlflow;
pub mod orphans;
pub mod protocol;
pub mod record;
pub mod replay;
pub mod slurm;
pub mod spec;
pub mod study;
pub mod tracker;
pub mod tune;

pub use executor::{Executor, ExecutorError};
pub use spec::{LiveError, LiveExperiment, LiveSpec};
pub use study::{StudyError, StudyOutcome, StudySetup, run_study};

//! The hposim simulator.
//!
//! - [`simulator`]: the discrete-event loop for one cell (one strategy on one benchmark with
//!   one seed), with simulated workers and clock, driving the trial book that live studies
//!   drive too (`hposim-book`);
//! - [`experiment`]: experiment files, validated before anything runs;
//! - [`run`](mod@run): the grid of cells run in parallel with rayon, written atomically and
//!   resumed, each cell tied to the code that computed it;
//! - [`shard`]: the K-th of N disjoint, balanced subsets of the cells, for sweeps spread over a
//!   cluster.

pub mod event_queue;
pub mod experiment;
pub mod run;
pub mod shard;
pub mod simulator;

pub use experiment::{Experiment, ExperimentError, ExperimentSpec};
pub use run::{Cell, RunError, RunOptions, RunReport, cells, other_code, run, simulate_cell, simulate_strategy, summarise};
pub use shard::{Partition, SHARDS_FILE, Shard};
pub use simulator::{SimError, SimSettings, simulate};

/// `docs/architecture.md`, the reference of how hposim is put together, included here so that
/// its examples are compiled and run by `cargo test`.
#[doc = include_str!("../../../docs/architecture.md")]
pub mod architecture {}

//! The hposim simulator.
//!
//! - [`simulator`]: the discrete-event loop for one cell (one strategy on one benchmark with
//!   one seed), with simulated workers, clock, budgets, pause/resume with or without
//!   checkpointing, idle accounting and divergence handling;
//! - [`experiment`]: experiment files, validated before anything runs;
//! - [`run`](mod@run): the grid of cells run in parallel with rayon, written atomically and resumed;
//! - [`trace`]: the per-cell trace and its Parquet layout.

pub mod budget;
pub mod event_queue;
pub mod experiment;
pub mod run;
pub mod simulator;
pub mod trace;

pub use budget::{Budget, StopReason};
pub use experiment::{Experiment, ExperimentError, ExperimentSpec, StrategySpec};
pub use run::{Cell, CellNames, RunError, RunOptions, RunReport, build_strategy, cells, run, simulate_cell, simulate_strategy, summary_of};
pub use simulator::{CellOutcome, CellStats, SimError, SimSettings, simulate};
pub use trace::{Trace, read_parquet};

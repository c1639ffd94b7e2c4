//! The shared model of hposim, in memory:
//!
//! - search spaces (float and int parameters on linear or log scales, categorical and ordinal
//!   parameters, nested conditions), configurations, their encoding to the unit cube and
//!   nearest-configuration queries ([`space`], [`value`], [`config`], [`encoding`], [`sample`],
//!   [`nearest`]);
//! - objectives with directions, and Pareto fronts and hypervolumes ([`objective`], [`pareto`]);
//! - what executors and strategies say to each other: observations, worker requests, actions
//!   and decisions ([`trial`]);
//! - what a cell produces, whichever executor ran it: its budget and why it stopped
//!   ([`budget`]), its trace ([`trace`]: rows, exploits, the column names), its totals
//!   ([`outcome`]) and its summary record ([`summary`]), and the manifest of a results directory
//!   ([`manifest`]);
//! - what a training process costs besides its steps ([`overhead`]);
//! - reading a file a user named without trusting what is at the path ([`input`]);
//! - the seeded random streams that make every simulation reproducible ([`rng`]).
//!
//! Every other hposim crate depends on this one and on nothing above it. Reading and writing
//! these types as files (Parquet traces, JSON summaries) is `hposim-results`' job, so that core
//! stays free of polars.

pub mod budget;
pub mod capability;
pub mod config;
pub mod encoding;
pub mod fidelity;
pub mod input;
pub mod manifest;
pub mod nearest;
pub mod objective;
pub mod outcome;
pub mod overhead;
pub mod pareto;
pub mod rng;
pub mod sample;
pub mod space;
pub mod summary;
pub mod trace;
pub mod trial;
pub mod value;

pub use budget::{Budget, StopReason};
pub use config::{Config, Value};
pub use encoding::{CategoricalEncoding, INACTIVE};
pub use fidelity::Fidelity;
pub use manifest::{BenchmarkReference, ExpectedCell, MANIFEST_FILE, Manifest, TRACE_FORMAT_VERSION};
pub use objective::{Direction, Objective};
pub use outcome::{CellOutcome, CellStats};
pub use overhead::{LaunchOverhead, OverheadKind};
pub use rng::Rng;
pub use space::{Choice, Condition, ConditionSpec, Domain, Param, ParamSpec, SearchSpace, SpaceError, Violation};
pub use summary::{BestConfig, CellNames, CellSummary, best_config, better_result, summary_of};
pub use trace::{EpochStatus, Exploit, Row, RowSink, Trace, TraceLevel, TrialOutcome, WrittenRows};
pub use trial::{Action, Decision, Observation, TrialId, WorkerRequest};

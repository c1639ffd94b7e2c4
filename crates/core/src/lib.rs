//! The shared model of hposim: search spaces (float and int parameters on linear or log
//! scales, categorical and ordinal parameters, nested conditions), configurations and their
//! encoding to the unit cube (and nearest-configuration queries), objectives with directions, the types that executors and
//! strategies exchange (observations, actions, decisions), the trace schema, and the seeded
//! random streams that make every simulation reproducible.
//!
//! Every other hposim crate depends on this one and on nothing above it.

pub mod config;
pub mod encoding;
pub mod fidelity;
pub mod manifest;
pub mod nearest;
pub mod objective;
pub mod pareto;
pub mod rng;
pub mod space;
pub mod summary;
pub mod trial;

pub use config::{Config, Value};
pub use encoding::{CategoricalEncoding, INACTIVE};
pub use fidelity::Fidelity;
pub use manifest::{BenchmarkReference, ExpectedCell, MANIFEST_FILE, Manifest, TRACE_FORMAT_VERSION};
pub use objective::{Direction, Objective};
pub use rng::Rng;
pub use space::{Choice, Condition, ConditionSpec, Domain, Param, ParamSpec, SearchSpace, SpaceError, Violation};
pub use summary::{CellSummary, EpochStatus, TrialOutcome};
pub use trial::{Action, Decision, Observation, TrialId, WorkerRequest};

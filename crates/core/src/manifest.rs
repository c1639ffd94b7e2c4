//! The manifest of a results directory (`manifest.json`): what an experiment set out to run,
//! written before its first cell, so that a report can tell finished cells from missing ones,
//! refuse traces of another schema version, and normalise regret without rebuilding the
//! benchmarks.

use crate::objective::Direction;
use serde::{Deserialize, Serialize};

/// Version of the trace layout (the columns of `cells/<cell>.parquet`). It is part of every
/// cell key, so a layout change reruns old cells, and reports refuse traces of another version.
pub const TRACE_FORMAT_VERSION: u32 = 1;

/// The file name of the manifest in a results directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// What a results directory holds, or will hold once every cell has run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`TRACE_FORMAT_VERSION`] of the code that wrote the directory.
    pub trace_format: u32,
    /// hposim's version.
    pub hposim: String,
    /// The fingerprint of the code that wrote the directory (empty in directories written
    /// before fingerprints existed).
    #[serde(default)]
    pub fingerprint: String,
    /// `simulated` (`hposim run`) or `live` (`hposim tune`).
    pub kind: String,
    /// The experiment's name.
    pub experiment: String,
    /// Its description, if any.
    #[serde(default)]
    pub description: Option<String>,
    /// The command that reproduces the directory.
    pub command: String,
    /// Workers per cell.
    pub workers: u32,
    /// US dollars per worker-hour, if set.
    #[serde(default)]
    pub price_per_worker_hour: Option<f64>,
    /// The benchmarks, in file order.
    pub benchmarks: Vec<BenchmarkReference>,
    /// The strategy names, in file order (reports colour strategies by this order).
    pub strategies: Vec<String>,
    /// Every cell the experiment runs, in grid order.
    pub cells: Vec<ExpectedCell>,
    /// Which rows the cells' traces keep (left out for every step, the default).
    #[serde(default, skip_serializing_if = "crate::TraceLevel::is_steps")]
    pub trace: crate::TraceLevel,
}

/// What a report needs to know about a benchmark to judge results on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkReference {
    /// Benchmark name.
    pub name: String,
    /// The first objective's name (the one regret refers to).
    pub objective: String,
    /// Its direction.
    pub direction: Direction,
    /// Full fidelity.
    pub max_fidelity: u32,
    /// What one step of fidelity is ("epoch", "samples", ...; "epoch" in manifests written
    /// before it was recorded).
    #[serde(default = "epoch")]
    pub unit: String,
    /// Best known value of the objective, if any.
    #[serde(default)]
    pub best_known: Option<f64>,
    /// Median over random configurations of the objective at full fidelity (a diverged run
    /// counting as the worst): the value that normalised regret maps to 1.
    #[serde(default)]
    pub median_random: Option<f64>,
    /// Every objective, for benchmarks with several (empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objectives: Vec<crate::Objective>,
    /// The hypervolume reference point of a benchmark with several objectives, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hypervolume_reference: Option<Vec<f64>>,
}

fn epoch() -> String {
    "epoch".to_owned()
}

/// A cell the experiment runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedCell {
    /// The cell's file stem in `cells/`.
    pub cell: String,
    /// Benchmark name.
    pub benchmark: String,
    /// Strategy name.
    pub strategy: String,
    /// Repetition index.
    pub seed: u32,
}

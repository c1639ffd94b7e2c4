//! Recorded learning curves: the on-disk format of `data/FORMAT.md` (a Parquet table and a TOML
//! metadata file with the same stem), loaded and validated into dense per-task arrays that
//! [`crate::tabular::Tabular`] replays.
//!
//! Loading refuses anything the format does not allow with a [`RecordedError`] naming the file
//! and, where it applies, the row (0-based, in file order) and the column.

mod assemble;
mod columns;
pub mod example;
mod write;

use hposim_core::{Config, LaunchOverhead, Objective, ParamSpec, SearchSpace};
use polars::prelude::{ArrowDataType, ArrowSchema, ParallelStrategy, ParquetReader, PolarsResult, SerReader};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Once;

pub use write::write;

/// The version of `data/FORMAT.md` this code reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Which table column holds what (`[columns]` of the metadata).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    /// Configuration id (integer).
    pub config: String,
    /// Fidelity step, 1-based (integer).
    pub step: String,
    /// Seconds the step cost on its own (float, `> 0`).
    pub cost: String,
    /// Repeat (seed) of a configuration (integer), if the table has repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<String>,
    /// Task (dataset) name (string), if the file holds several tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// The real fidelity of each step (float), where it is not the step number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fidelity_value: Option<String>,
}

fn default_min_step() -> u32 {
    1
}

/// The fidelity axis (`[fidelity]` of the metadata).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FidelityInfo {
    /// What one step is ("epoch", "anchor", ...).
    pub unit: String,
    /// The smallest step worth observing (the first rung of early-stopping schedulers).
    #[serde(default = "default_min_step")]
    pub min: u32,
    /// If given, every task's full fidelity must equal it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
}

/// The metadata file of a recorded benchmark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// The format version ([`FORMAT_VERSION`]).
    pub format: u32,
    /// Display name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Where the numbers come from.
    pub source: String,
    /// The data's licence.
    pub licence: String,
    /// The command that recorded or converted the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// SHA-256 of the Parquet table (64 lowercase hex digits); when given, a table whose
    /// bytes differ is refused before it is decoded, so a corrupted file cannot reach the
    /// decoder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Whether curves may end at a diverged step (all metrics NaN).
    #[serde(default)]
    pub allow_divergence: bool,
    /// Which column is what.
    pub columns: Columns,
    /// The fidelity axis.
    pub fidelity: FidelityInfo,
    /// The metric columns with their directions; the first is the default objective.
    pub metrics: Vec<Objective>,
    /// The search space, as in experiment files.
    pub space: Vec<ParamSpec>,
    /// Per-launch overhead of the recorded training processes (start-up, resume from a
    /// checkpoint, shutdown, in seconds), measured by `hposim record`; the table's step costs
    /// then exclude it. Absent (older tables, converted benchmarks): launches are free, and a
    /// first step's cost holds whatever start-up it was recorded with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overhead: Option<LaunchOverhead>,
}

impl Metadata {
    /// Every column the metadata names: the role columns, the metrics and the parameters (a
    /// cost column that is also a metric appears twice).
    pub fn column_names(&self) -> Vec<&str> {
        let c = &self.columns;
        let mut named: Vec<&str> = vec![&c.config, &c.step, &c.cost];
        named.extend([&c.repeat, &c.task, &c.fidelity_value].into_iter().flatten().map(String::as_str));
        named.extend(self.metrics.iter().map(|m| m.name.as_str()));
        named.extend(self.space.iter().map(ParamSpec::name));
        named
    }
}

/// One recorded configuration of a task.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedConfig {
    /// Its id in the table.
    pub id: i64,
    /// Its hyperparameters.
    pub config: Config,
    /// Its curves (repeats), as indices into [`RecordedTask::curves`].
    pub curves: Range<usize>,
}

/// One recorded curve: a repeat of a configuration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurveInfo {
    /// The repeat id (0 where the table has no repeat column).
    pub repeat: i64,
    /// Steps recorded (`1..=steps`).
    pub steps: u32,
    /// Whether the last recorded step diverged.
    pub diverged: bool,
}

/// The curves of one task, in dense arrays: curve `c`, step `s` (1-based) and metric `m` is
/// `metrics[((c · max_step) + s − 1) · metric_count + m]`, its cost `costs[c · max_step + s − 1]`.
/// Past the end of a diverged curve, metrics are NaN and costs repeat the last recorded cost.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedTask {
    /// The task's name (`None` where the table has no task column).
    pub name: Option<String>,
    /// Configurations, by increasing id.
    pub configs: Vec<RecordedConfig>,
    /// Curves, grouped by configuration, repeats by increasing id.
    pub curves: Vec<CurveInfo>,
    /// The full fidelity: the largest step of the task.
    pub max_step: u32,
    /// Number of metrics per step.
    pub metric_count: usize,
    /// Metrics, dense (see the type's documentation).
    pub metrics: Vec<f64>,
    /// Step costs in seconds, dense.
    pub costs: Vec<f64>,
    /// The real fidelity of each step, `fidelity_values[s − 1]` (empty without that column).
    pub fidelity_values: Vec<f64>,
}

impl RecordedTask {
    /// The metrics of curve `curve` after step `step` (1-based, at most `max_step`).
    pub fn metrics_at(&self, curve: usize, step: u32) -> &[f64] {
        let start = (curve * self.max_step as usize + step as usize - 1) * self.metric_count;
        &self.metrics[start..start + self.metric_count]
    }

    /// The cost of step `step` of curve `curve`.
    pub fn cost_at(&self, curve: usize, step: u32) -> f64 {
        self.costs[curve * self.max_step as usize + step as usize - 1]
    }
}

/// The objective name that, unless a metric has it, means the seconds of training so far (the
/// cost column summed over the steps up to the current one), to minimise: the cost objective
/// of multi-objective tuning (error against training time).
pub const TRAINING_TIME: &str = "training_time";

/// Where an objective's values come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricSource {
    /// A metric column (its index among the metadata's metrics).
    Column(usize),
    /// The seconds of training so far ([`TRAINING_TIME`]).
    TrainingTime,
}

/// A loaded and validated recorded benchmark.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The Parquet file it was read from.
    pub path: PathBuf,
    /// The metadata.
    pub metadata: Metadata,
    /// The validated search space.
    pub space: SearchSpace,
    /// The tasks, by name (a single unnamed task where the table has no task column).
    pub tasks: Vec<RecordedTask>,
    /// XXH3-64 of the Parquet and metadata bytes: identifies the data a result came from.
    pub content_hash: u64,
}

impl Recorded {
    /// The index of the task named `name`, or of the only task when `name` is `None` and there
    /// is one.
    pub fn task_index(&self, name: Option<&str>) -> Result<usize, String> {
        let names = || self.tasks.iter().filter_map(|t| t.name.as_deref()).collect::<Vec<_>>().join(", ");
        match name {
            Some(name) => self.tasks.iter().position(|t| t.name.as_deref() == Some(name)).ok_or_else(|| {
                if self.tasks.iter().all(|t| t.name.is_none()) {
                    format!("the file has no task column, so there is no task {name:?}; remove `task`")
                } else {
                    format!("no task {name:?} in the file; its tasks are: {}", names())
                }
            }),
            None if self.tasks.len() == 1 => Ok(0),
            None => Err(format!("the file holds {} tasks; choose one with `task`: {}", self.tasks.len(), names())),
        }
    }

    /// Where each named objective comes from (the first metric when `names` is `None`): a
    /// metric column, or, for [`TRAINING_TIME`] where no metric has that name, the seconds of
    /// training so far.
    pub fn objective_columns(&self, names: Option<&[String]>) -> Result<Vec<MetricSource>, String> {
        let Some(names) = names else { return Ok(vec![MetricSource::Column(0)]) };
        if names.is_empty() {
            return Err("list at least one metric".into());
        }
        names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                if names[..i].contains(name) {
                    return Err(format!("metric {name:?} is listed twice"));
                }
                match self.metadata.metrics.iter().position(|m| &m.name == name) {
                    Some(column) => Ok(MetricSource::Column(column)),
                    None if name == TRAINING_TIME => Ok(MetricSource::TrainingTime),
                    None => {
                        let known: Vec<&str> = self.metadata.metrics.iter().map(|m| m.name.as_str()).collect();
                        Err(format!(
                            "no metric {name:?} in the file; its metrics are: {}, and \"{TRAINING_TIME}\" (the seconds of training so far)",
                            known.join(", ")
                        ))
                    }
                }
            })
            .collect()
    }
}

/// Why a recorded benchmark was refused: the file, and where known the row and column.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct RecordedError {
    /// The file concerned (the Parquet table or the metadata).
    pub file: PathBuf,
    /// The row (0-based, in file order), where one is to blame.
    pub row: Option<usize>,
    /// The column or metadata key, where one is to blame.
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RecordedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        match (&self.row, &self.column) {
            (Some(row), Some(column)) => write!(f, ": row {row}, column `{column}`")?,
            (Some(row), None) => write!(f, ": row {row}")?,
            (None, Some(column)) => write!(f, ": `{column}`")?,
            (None, None) => {}
        }
        write!(f, ": {}", self.message)
    }
}

/// The metadata path of a table: the same stem with `.toml`.
pub fn metadata_path(table: &Path) -> PathBuf {
    table.with_extension("toml")
}

/// Reads and validates the recorded benchmark whose table is `path` (its metadata is
/// [`metadata_path`]).
pub fn load(path: &Path) -> Result<Recorded, RecordedError> {
    let meta_path = metadata_path(path);
    let file_error = |file: &Path, message: String| RecordedError { file: file.to_owned(), row: None, column: None, message };
    let meta_text =
        hposim_core::input::read_text(&meta_path).map_err(|e| file_error(&meta_path, format!("cannot read the metadata file: {e}")))?;
    let metadata: Metadata = toml::from_str(&meta_text).map_err(|e| file_error(&meta_path, e.to_string().trim_end().to_owned()))?;
    let key_error = |key: &str, message: String| RecordedError { file: meta_path.clone(), row: None, column: Some(key.into()), message };
    if metadata.format != FORMAT_VERSION {
        return Err(key_error("format", format!("this hposim reads format {FORMAT_VERSION}, the file says {}", metadata.format)));
    }
    let space = SearchSpace::new(&metadata.space).map_err(|e| key_error("space", e.to_string()))?;
    check_names(&metadata).map_err(|(key, message)| key_error(key, message))?;
    if let Some(overhead) = &metadata.overhead {
        overhead.check().map_err(|(key, message)| key_error(&format!("overhead.{key}"), message))?;
    }
    let table_bytes = hposim_core::input::read_bytes(path, hposim_core::input::MAX_TABLE_BYTES)
        .map_err(|e| file_error(path, format!("cannot read the table: {e}")))?;
    if let Some(expected) = &metadata.sha256 {
        let actual = sha256_hex(&table_bytes);
        if !actual.eq_ignore_ascii_case(expected) {
            return Err(file_error(
                path,
                format!(
                    "its SHA-256 is {actual}, but the metadata's `sha256` says {expected}: the table is corrupted, or was changed without its metadata"
                ),
            ));
        }
    }
    let unreadable = |e: String| file_error(path, format!("not a readable Parquet file: {e}"));
    // Single-threaded decoding keeps any panic inside polars on this thread, where
    // `guarded` catches it silently.
    let mut reader = ParquetReader::new(std::io::Cursor::new(&table_bytes)).read_parallel(ParallelStrategy::None);
    let schema = guarded(|| reader.schema()).map_err(unreadable)?;
    check_schema(&schema, &metadata, path)?;
    // Every row fills one cell of the dense arrays, so the footer's row count refuses a table
    // too large to hold before it is decoded.
    let rows = guarded(|| reader.num_rows()).map_err(unreadable)?;
    if rows.saturating_mul(metadata.metrics.len() + 1) > assemble::MAX_VALUES {
        return Err(file_error(
            path,
            format!("{rows} rows × (metrics + 1) exceeds the {} numbers hposim holds in memory", assemble::MAX_VALUES),
        ));
    }
    let frame = guarded(|| reader.finish()).map_err(unreadable)?;
    if frame.height() == 0 {
        return Err(file_error(path, "the table has no rows".into()));
    }
    let rows = columns::read(&frame, &metadata, &space, path)?;
    let tasks = assemble::tasks(&rows, &metadata, &space, path, &meta_path)?;
    let content_hash = hposim_core::rng::stable_hash(FORMAT_VERSION.into(), &[&table_bytes, meta_text.as_bytes()]);
    Ok(Recorded { path: path.to_owned(), metadata, space, tasks, content_hash })
}

/// SHA-256 of `bytes` as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().fold(String::with_capacity(64), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

thread_local! {
    /// Set while this thread reads a Parquet file under [`guarded`].
    static READING: Cell<bool> = const { Cell::new(false) };
}

/// Runs a polars read, turning a panic inside polars (some corrupt files trip assertions
/// deep in its decoders) into an error. The process-wide panic hook is wrapped once so that
/// it stays silent for panics caught here and reports every other panic as before.
fn guarded<T>(read: impl FnOnce() -> PolarsResult<T>) -> Result<T, String> {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !READING.with(Cell::get) {
                previous(info);
            }
        }));
    });
    READING.with(|r| r.set(true));
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(read));
    READING.with(|r| r.set(false));
    match outcome {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(payload) => {
            let message = payload.downcast_ref::<String>().cloned().or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()));
            Err(format!("the Parquet reader failed on it ({})", message.unwrap_or_else(|| "no message".into())))
        }
    }
}

/// Before any data is read: every column is named by the metadata and of a type the format
/// allows (data/FORMAT.md), so that no unsupported type reaches polars' decoders.
fn check_schema(schema: &ArrowSchema, metadata: &Metadata, path: &Path) -> Result<(), RecordedError> {
    let named = metadata.column_names();
    for (name, field) in schema.iter() {
        let error = |message: String| RecordedError { file: path.to_owned(), row: None, column: Some(name.to_string()), message };
        if !named.contains(&name.as_str()) {
            return Err(error("the table has this column, but the metadata does not name it".into()));
        }
        let supported = matches!(
            field.dtype,
            ArrowDataType::Null
                | ArrowDataType::Boolean
                | ArrowDataType::Int32
                | ArrowDataType::Int64
                | ArrowDataType::UInt32
                | ArrowDataType::UInt64
                | ArrowDataType::Float64
                | ArrowDataType::Utf8
                | ArrowDataType::LargeUtf8
                | ArrowDataType::Utf8View
        );
        if !supported {
            return Err(error(format!(
                "has type {:?}, which the format does not allow: use 32- or 64-bit integers, 64-bit floats, plain UTF-8 strings or booleans",
                field.dtype
            )));
        }
    }
    Ok(())
}

/// Column names must be distinct and non-empty; at least one metric; `fidelity.min >= 1`.
fn check_names(metadata: &Metadata) -> Result<(), (&'static str, String)> {
    if metadata.metrics.is_empty() {
        return Err(("metrics", "list at least one [[metrics]] table".into()));
    }
    if metadata.fidelity.min == 0 {
        return Err(("fidelity.min", "steps start at 1, so the smallest step must be at least 1".into()));
    }
    let c = &metadata.columns;
    let mut names: Vec<(&str, &str)> = vec![("columns.config", &c.config), ("columns.step", &c.step), ("columns.cost", &c.cost)];
    for (key, name) in [("columns.repeat", &c.repeat), ("columns.task", &c.task), ("columns.fidelity_value", &c.fidelity_value)] {
        if let Some(name) = name {
            names.push((key, name));
        }
    }
    names.extend(metadata.metrics.iter().map(|m| ("metrics", m.name.as_str())));
    names.extend(metadata.space.iter().map(|p| ("space", p.name())));
    for (i, (key, name)) in names.iter().enumerate() {
        if name.is_empty() {
            return Err((key, "column names must not be empty".into()));
        }
        // The cost column may also be a metric (a training time that is an objective too).
        let shared_cost = |other: &str| *key == "metrics" && other == "columns.cost";
        if let Some((other, _)) = names[..i].iter().find(|(other, n)| n == name && !shared_cost(other)) {
            return Err((key, format!("column {name:?} is also named by {other}; every column has one role")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

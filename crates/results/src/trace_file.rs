//! A cell's trace as Parquet: [`write_trace`] writes the columns of [`hposim_core::trace`]
//! (metrics, then status and decision, then one `config_<name>` column per hyperparameter);
//! [`read_trace`] reads them back into the same [`Trace`] type, checking every column's name
//! and type, so that one module owns the layout.

use crate::files::{FileError, unreadable};
use hposim_core::input::{MAX_TABLE_BYTES, open_regular};
use hposim_core::trace::columns;
use hposim_core::{Choice, Domain, EpochStatus, Objective, SearchSpace, TRACE_FORMAT_VERSION, Trace, TrialOutcome, Value};
use polars::prelude::{
    Column, DataFrame, DataType, KeyValueMetadata, ParallelStrategy, ParquetCompression, ParquetReader, ParquetWriter, PolarsResult,
    SerReader,
};
use std::io::Write;
use std::path::Path;

/// `trace` as a polars data frame, with the configurations of `space`.
pub fn trace_frame(trace: &Trace, space: &SearchSpace) -> PolarsResult<DataFrame> {
    let k = trace.objectives.len();
    let mut frame = vec![
        Column::new(columns::TRIAL.into(), &trace.trial),
        Column::new(columns::WORKER.into(), &trace.worker),
        Column::new(columns::EPOCH.into(), &trace.epoch),
        Column::new(columns::START.into(), &trace.start),
        Column::new(columns::END.into(), &trace.end),
        Column::new(columns::LAUNCH_SECONDS.into(), &trace.launch_seconds),
        Column::new(columns::EXIT_SECONDS.into(), &trace.exit_seconds),
    ];
    for (i, objective) in trace.objectives.iter().enumerate() {
        let values: Vec<f64> = trace.metrics.iter().skip(i).step_by(k).copied().collect();
        frame.push(Column::new(objective.name.as_str().into(), values));
    }
    let status: Vec<&str> = trace.status.iter().map(|s| s.as_str()).collect();
    let decision: Vec<&str> = trace.outcome.iter().map(|o| o.as_str()).collect();
    frame.push(Column::new(columns::STATUS.into(), status));
    frame.push(Column::new(columns::DECISION.into(), decision));
    for (index, param) in space.params().iter().enumerate() {
        let name = format!("{}{}", columns::CONFIG_PREFIX, param.name);
        let value_of = |row: usize| trace.configs.get(trace.trial[row] as usize).map_or(Value::Inactive, |c| c.get(index));
        frame.push(config_column(&name, &param.domain, trace.len(), value_of));
    }
    DataFrame::new(trace.len(), frame)
}

/// What a trace file says about itself, as Parquet key-value metadata (keys [`metadata`]), so
/// that a trace read on its own (in polars, pandas or DuckDB) names its cell, its units and the
/// code that made it.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceMetadata {
    /// Benchmark name.
    pub benchmark: String,
    /// Strategy name.
    pub strategy: String,
    /// Repetition index.
    pub seed: u32,
    /// What one step of the `epoch` column is (the benchmark's fidelity unit: "epoch",
    /// "samples", ...).
    pub step_unit: String,
    /// The fingerprint of the code that wrote the trace (`hposim --version`).
    pub code: String,
}

/// The key-value metadata keys of a trace file. Times (`start`, `end`, `launch_seconds`,
/// `exit_seconds`) are always in seconds.
pub mod metadata {
    /// Benchmark name.
    pub const BENCHMARK: &str = "hposim.benchmark";
    /// Strategy name.
    pub const STRATEGY: &str = "hposim.strategy";
    /// Repetition index.
    pub const SEED: &str = "hposim.seed";
    /// The unit of the step column (`epoch`).
    pub const STEP_UNIT: &str = "hposim.step_unit";
    /// The unit of the time columns: always "seconds".
    pub const TIME_UNIT: &str = "hposim.time_unit";
    /// The fingerprint of the code that wrote it.
    pub const CODE: &str = "hposim.code";
    /// The trace format version.
    pub const TRACE_FORMAT: &str = "hposim.trace_format";
}

impl TraceMetadata {
    /// The key-value pairs, in a fixed order (deterministic bytes).
    pub fn pairs(&self) -> Vec<(String, String)> {
        [
            (metadata::BENCHMARK, self.benchmark.clone()),
            (metadata::STRATEGY, self.strategy.clone()),
            (metadata::SEED, self.seed.to_string()),
            (metadata::STEP_UNIT, self.step_unit.clone()),
            (metadata::TIME_UNIT, "seconds".to_owned()),
            (metadata::CODE, self.code.clone()),
            (metadata::TRACE_FORMAT, TRACE_FORMAT_VERSION.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

/// Writes `trace` to `out` as Parquet, Snappy-compressed (single-threaded, deterministic bytes),
/// with `metadata` as the file's key-value metadata.
pub fn write_trace(trace: &Trace, space: &SearchSpace, metadata: Option<&TraceMetadata>, out: &mut impl Write) -> PolarsResult<()> {
    let mut frame = trace_frame(trace, space)?;
    ParquetWriter::new(out)
        .with_compression(ParquetCompression::Snappy)
        .set_parallel(false)
        .with_key_value_metadata(metadata.map(|m| KeyValueMetadata::from_static(m.pairs())))
        .finish(&mut frame)?;
    Ok(())
}

/// The key-value metadata of the Parquet file at `path` (empty for traces written before it
/// existed).
pub fn read_trace_metadata(path: &Path) -> Result<Vec<(String, String)>, FileError> {
    let refused = |message: String| FileError::Refused { path: path.to_owned(), message };
    let (file, _) = open_regular(path, MAX_TABLE_BYTES).map_err(unreadable(path))?;
    let metadata = ParquetReader::new(file).get_metadata().map_err(|e| refused(format!("not a readable Parquet file: {e}")))?.clone();
    Ok(metadata.key_value_metadata().iter().flatten().filter_map(|kv| kv.value.as_ref().map(|v| (kv.key.clone(), v.clone()))).collect())
}

fn config_column(name: &str, domain: &Domain, rows: usize, value_of: impl Fn(usize) -> Value) -> Column {
    match domain {
        Domain::Float { .. } => {
            let values: Vec<Option<f64>> = (0..rows).map(|r| if let Value::Float(x) = value_of(r) { Some(x) } else { None }).collect();
            Column::new(name.into(), values)
        }
        Domain::Int { .. } => {
            let values: Vec<Option<i64>> = (0..rows).map(|r| if let Value::Int(i) = value_of(r) { Some(i) } else { None }).collect();
            Column::new(name.into(), values)
        }
        Domain::Categorical { choices } | Domain::Ordinal { values: choices } => {
            let choice_of = |r: usize| if let Value::Choice(c) = value_of(r) { choices.get(c as usize) } else { None };
            if choices.iter().all(|c| c.as_f64().is_some()) {
                let values: Vec<Option<f64>> = (0..rows).map(|r| choice_of(r).and_then(Choice::as_f64)).collect();
                Column::new(name.into(), values)
            } else if choices.iter().all(|c| matches!(c, Choice::Bool(_))) {
                let values: Vec<Option<bool>> = (0..rows).map(|r| choice_of(r).map(|c| matches!(c, Choice::Bool(true)))).collect();
                Column::new(name.into(), values)
            } else {
                // Borrowed labels: no allocation per row.
                let labels: Vec<String> = choices.iter().map(|c| if let Choice::Text(s) = c { s.clone() } else { c.to_string() }).collect();
                let values: Vec<Option<&str>> = (0..rows)
                    .map(|r| if let Value::Choice(c) = value_of(r) { labels.get(c as usize).map(String::as_str) } else { None })
                    .collect();
                Column::new(name.into(), values)
            }
        }
    }
}

/// The Parquet file at `path` as a data frame with every column as written, single-threaded;
/// with `rows`, only the first that many (`Some(0)`: the columns and their types alone, read
/// from the footer). A file that is not Parquet is refused as not a readable trace.
pub fn read_trace_frame(path: &Path, rows: Option<usize>) -> Result<DataFrame, FileError> {
    let (file, _) = open_regular(path, MAX_TABLE_BYTES).map_err(unreadable(path))?;
    ParquetReader::new(file)
        .read_parallel(ParallelStrategy::None)
        .with_slice(rows.map(|n| (0, n)))
        .finish()
        .map_err(|e| FileError::Refused { path: path.to_owned(), message: format!("not a readable Parquet trace: {e}") })
}

/// Reads the trace at `path` with the metric columns of `objectives` (at least one), checking
/// that it has the columns of this trace format with their types and that its rows are in order
/// of completion. Configurations are not read back (their columns need the search space):
/// [`Trace::configs`] and [`Trace::exploits`] are empty.
pub fn read_trace(path: &Path, objectives: &[Objective]) -> Result<Trace, FileError> {
    let refused = |message: String| FileError::Refused { path: path.to_owned(), message };
    let frame = read_trace_frame(path, None)?;
    let column = |name: &str, kind: &str, ok: fn(&DataType) -> bool| {
        let c = frame.column(name).map_err(|_| {
            refused(format!(
                "has no `{name}` column: not a trace of trace format {TRACE_FORMAT_VERSION} (written by another hposim version?); rerun its experiment"
            ))
        })?;
        if !ok(c.dtype()) {
            return Err(refused(format!("column `{name}` is {}, but trace format {TRACE_FORMAT_VERSION} has {kind}", c.dtype())));
        }
        Ok(c)
    };
    let ints = |name: &str| -> Result<Vec<u32>, FileError> {
        let c = column(name, "unsigned integers", |t| *t == DataType::UInt32)?;
        let values = c.u32().map_err(|e| refused(e.to_string()))?;
        values.iter().enumerate().map(|(row, v)| v.ok_or_else(|| refused(format!("row {row}: `{name}` is null")))).collect()
    };
    let floats = |name: &str| -> Result<Vec<f64>, FileError> {
        let c = column(name, "64-bit floats", |t| *t == DataType::Float64)?;
        let values = c.f64().map_err(|e| refused(e.to_string()))?;
        Ok(values.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    };
    let status = parse_labels(
        column(columns::STATUS, "strings", is_string)?,
        EpochStatus::from_label,
        "status",
        " (expected ok, diverged or failed)",
    )
    .map_err(refused)?;
    let outcome =
        parse_labels(column(columns::DECISION, "strings", is_string)?, TrialOutcome::from_label, "decision", "").map_err(refused)?;
    // Overhead columns came later: traces without them had none (zeros).
    let optional = |name: &str| if frame.column(name).is_ok() { floats(name) } else { Ok(vec![0.0; status.len()]) };
    let launch_seconds = optional(columns::LAUNCH_SECONDS)?;
    let exit_seconds = optional(columns::EXIT_SECONDS)?;
    let metric_columns = objectives.iter().map(|o| floats(&o.name)).collect::<Result<Vec<_>, _>>()?;
    let metrics = (0..status.len()).flat_map(|r| metric_columns.iter().map(move |c| c[r])).collect();
    let trace = Trace {
        objectives: objectives.to_vec(),
        trial: ints(columns::TRIAL)?,
        worker: ints(columns::WORKER)?,
        epoch: ints(columns::EPOCH)?,
        start: floats(columns::START)?,
        end: floats(columns::END)?,
        launch_seconds,
        exit_seconds,
        metrics,
        status,
        outcome,
        configs: Vec::new(),
        exploits: Vec::new(),
    };
    if let Some(row) = trace.start.iter().zip(&trace.end).position(|(s, e)| !s.is_finite() || !e.is_finite() || s > e) {
        return Err(refused(format!("row {row}: `start` and `end` must be finite with start ≤ end")));
    }
    if let Some(row) = trace.end.windows(2).position(|w| w[1] < w[0]) {
        return Err(refused(format!("row {}: `end` decreases; trace rows must be in order of completion", row + 1)));
    }
    Ok(trace)
}

fn is_string(t: &DataType) -> bool {
    *t == DataType::String
}

/// The labels of a string column parsed by `parse`; the first unknown one is named with its row.
fn parse_labels<T>(column: &Column, parse: fn(&str) -> Option<T>, what: &str, expected: &str) -> Result<Vec<T>, String> {
    let values = column.str().map_err(|e| e.to_string())?;
    values
        .iter()
        .enumerate()
        .map(|(row, label)| {
            let label = label.unwrap_or_default();
            parse(label).ok_or_else(|| format!("row {row}: unknown {what} {label:?}{expected}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hposim_core::Objective;
    use polars::prelude::{Column, DataFrame, ParquetWriter};

    fn write(path: &Path, columns: Vec<Column>) {
        let height = columns[0].len();
        let mut frame = DataFrame::new(height, columns).unwrap();
        ParquetWriter::new(std::fs::File::create(path).unwrap()).finish(&mut frame).unwrap();
    }

    fn columns(decision: Option<Vec<&str>>) -> Vec<Column> {
        let mut c = vec![
            Column::new("trial".into(), [0u32, 0, 1]),
            Column::new("worker".into(), [0u32, 0, 1]),
            Column::new("epoch".into(), [1u32, 2, 1]),
            Column::new("start".into(), [0.0, 5.0, 0.0]),
            Column::new("end".into(), [5.0, 10.0, 12.0]),
            Column::new("loss".into(), [0.5, 0.4, f64::NAN]),
            Column::new("status".into(), ["ok", "ok", "failed"]),
        ];
        if let Some(d) = decision {
            c.push(Column::new("decision".into(), d));
        }
        c
    }

    #[test]
    fn reads_a_live_trace_with_a_failed_step() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        write(&path, columns(Some(vec!["continue", "done", "stop"])));
        let trace = read_trace(&path, &[Objective::minimize("loss")]).unwrap();
        assert_eq!(trace.status, [EpochStatus::Ok, EpochStatus::Ok, EpochStatus::Failed]);
        assert_eq!(trace.outcome[1], TrialOutcome::Done);
        assert_eq!(trace.metrics_of(1), [0.4]);
    }

    #[test]
    fn refuses_traces_of_another_layout_naming_file_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.parquet");
        write(&path, columns(None));
        let error = read_trace(&path, &[Objective::minimize("loss")]).unwrap_err().to_string();
        assert!(error.starts_with(&path.display().to_string()) && error.contains("no `decision` column"), "{error}");
        write(&path, columns(Some(vec!["continue", "later", "stop"])));
        assert!(read_trace(&path, &[Objective::minimize("loss")]).unwrap_err().to_string().contains("row 1: unknown decision \"later\""));
        let mut wrong = columns(Some(vec!["continue", "done", "stop"]));
        wrong[2] = Column::new("epoch".into(), [1.0, 2.0, 1.0]);
        write(&path, wrong);
        assert!(read_trace(&path, &[Objective::minimize("loss")]).unwrap_err().to_string().contains("column `epoch` is f64"));
        assert!(read_trace(&path, &[Objective::minimize("accuracy")]).is_err());
        std::fs::write(&path, b"not parquet").unwrap();
        assert!(read_trace(&path, &[Objective::minimize("loss")]).unwrap_err().to_string().contains("not a readable Parquet trace"));
    }
}

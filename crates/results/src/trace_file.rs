//! A cell's trace as Parquet: [`write_trace`] writes the columns of [`hposim_core::trace`]
//! (metrics, then status and decision, then one `config_<name>` column per hyperparameter);
//! [`read_trace`] reads them back into the same [`Trace`] type, checking every column's name
//! and type, so that one module owns the layout.

use crate::files::{FileError, PendingFile, create_tmp, unreadable};
use hposim_core::input::{MAX_TABLE_BYTES, open_regular};
use hposim_core::trace::columns;
use hposim_core::{Choice, Config, Domain, EpochStatus, Objective, RowSink, SearchSpace, TRACE_FORMAT_VERSION, Trace, TrialOutcome, Value};
use polars::prelude::{
    Column, DataFrame, DataType, KeyValueMetadata, ParallelStrategy, ParquetCompression, ParquetReader, ParquetWriter, PolarsError,
    PolarsResult, SerReader,
};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// `trace` as a polars data frame, with the configurations of `space`.
pub fn trace_frame(trace: &Trace, space: &SearchSpace) -> PolarsResult<DataFrame> {
    trace_frame_with(trace, space, &|t| trace.configs.get(t as usize))
}

/// `trace`'s rows in memory as a polars data frame, each trial's configuration (of `space`)
/// from `config_of`.
fn trace_frame_with<'c>(trace: &Trace, space: &SearchSpace, config_of: &dyn Fn(u32) -> Option<&'c Config>) -> PolarsResult<DataFrame> {
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
        let value_of = |row: usize| config_of(trace.trial[row]).map_or(Value::Inactive, |c| c.get(index));
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

/// Bytes a [`TraceWriter`] gathers before it writes them to its file.
const WRITE_BUFFER_BYTES: usize = 1 << 18;

/// A trace file written as its cell runs: rows arrive in chunks ([`RowSink`]), each written as a
/// Parquet row group and dropped, so a cell's memory does not grow with its length. The file is
/// a temporary file (`<path>.<pid>-<nonce>-<n>.tmp`) until [`TraceWriter::finish`] (or
/// [`PendingFile::commit`] after [`TraceWriter::close`]) flushes it and renames it to `path`; a
/// writer dropped before that (the cell failed) removes it, and a cell whose file is incomplete
/// (an interrupted run) has no summary, and is rerun.
pub struct TraceWriter {
    writer: polars::io::parquet::write::BatchedWriter<BufWriter<File>>,
    space: SearchSpace,
    /// The trace's columns without rows: what an empty trace's file holds.
    empty: DataFrame,
    /// The file under its temporary name, through a second descriptor that shares the lock
    /// and outlives the writer's: what [`TraceWriter::close`] hands over.
    file: PendingFile,
    rows: u64,
}

impl TraceWriter {
    /// Starts the trace file `path` of a cell whose steps report `objectives` and whose
    /// configurations are of `space`, with `metadata`.
    pub fn create(path: &Path, space: &SearchSpace, objectives: &[Objective], metadata: &TraceMetadata) -> Result<Self, FileError> {
        let empty = trace_frame(&Trace::with_capacity(objectives.to_vec(), 0), space).map_err(|e| FileError::Encode {
            path: path.to_owned(),
            what: "trace",
            message: e.to_string(),
        })?;
        // Locked while this writer holds it open, so a rerun elsewhere leaves it be.
        let (file, tmp) = create_tmp(path)?;
        let encode = |e: PolarsError| FileError::Encode { path: tmp.clone(), what: "trace", message: e.to_string() };
        // Buffered: the Parquet writer issues a `write` per page header and per column chunk
        // (about 1,900 system calls per cell, a quarter of a simple cell's CPU time unbuffered);
        // its footer flushes the buffer, with errors reported.
        let held = file.try_clone().map_err(|error| FileError::Io { path: tmp.clone(), error });
        let pending = PendingFile::new(held?, tmp.clone(), path.to_owned());
        let writer = ParquetWriter::new(BufWriter::with_capacity(WRITE_BUFFER_BYTES, file))
            .with_compression(ParquetCompression::Snappy)
            .set_parallel(false)
            .with_key_value_metadata(Some(KeyValueMetadata::from_static(metadata.pairs())))
            .batched(empty.schema())
            .map_err(encode)?;
        Ok(Self { writer, space: space.clone(), empty, file: pending, rows: 0 })
    }

    /// Writes the footer, flushes the file to disk and renames it into place.
    pub fn finish(self) -> Result<(), FileError> {
        self.close()?.commit()
    }

    /// Writes the footer and hands the complete file over, still temporary and not yet flushed
    /// to disk: [`PendingFile::commit`] does that, possibly on another thread, so that the
    /// thread that simulates does not wait for the disk.
    pub fn close(mut self) -> Result<PendingFile, FileError> {
        let encode = |e: PolarsError| FileError::Encode { path: self.file.tmp().to_owned(), what: "trace", message: e.to_string() };
        if self.rows == 0 {
            // An empty trace still has its columns, as `write_trace` writes it.
            self.writer.write_batch(&self.empty).map_err(encode)?;
        }
        self.writer.finish().map_err(encode)?;
        Ok(self.file)
    }
}

impl RowSink for TraceWriter {
    fn write_rows<'c>(&mut self, rows: &Trace, config_of: &dyn Fn(u32) -> Option<&'c Config>) -> Result<(), String> {
        if rows.is_empty() {
            return Ok(());
        }
        let frame = trace_frame_with(rows, &self.space, config_of).map_err(|e| format!("{}: {e}", self.file.tmp().display()))?;
        self.writer.write_batch(&frame).map_err(|e| format!("{}: {e}", self.file.tmp().display()))?;
        self.rows += rows.len() as u64;
        Ok(())
    }
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

/// The error of a file at `path` that polars cannot read as Parquet.
fn not_a_trace(path: &Path) -> impl Fn(PolarsError) -> FileError + '_ {
    move |e| FileError::Refused { path: path.to_owned(), message: format!("not a readable Parquet trace: {e}") }
}

/// The Parquet file at `path` as a data frame with every column as written, single-threaded;
/// with `slice` `(offset, rows)`, only those rows (`(0, 0)`: the columns and their types alone,
/// read from the footer). A file that is not Parquet is refused as not a readable trace.
pub fn read_trace_frame(path: &Path, slice: Option<(usize, usize)>) -> Result<DataFrame, FileError> {
    let (file, _) = open_regular(path, MAX_TABLE_BYTES).map_err(unreadable(path))?;
    ParquetReader::new(file).read_parallel(ParallelStrategy::None).with_slice(slice).finish().map_err(not_a_trace(path))
}

/// The number of rows of the Parquet file at `path`, from its footer.
pub fn trace_rows(path: &Path) -> Result<usize, FileError> {
    let (file, _) = open_regular(path, MAX_TABLE_BYTES).map_err(unreadable(path))?;
    ParquetReader::new(file).num_rows().map_err(not_a_trace(path))
}

/// Rows of a trace decoded at once by [`read_trace`] and `hposim export`: a row group as the simulator writes them
/// (2^18), so that reading holds the trace plus one chunk, not the trace twice.
pub const READ_CHUNK_ROWS: usize = 1 << 18;

/// Rows `offset..offset + rows` of the columns of the Parquet file at `path` among `wanted`
/// (those it lacks are left out; the caller names what is missing), single-threaded.
fn read_trace_columns(path: &Path, wanted: &[&str], offset: usize, rows: usize) -> Result<DataFrame, FileError> {
    let unreadable_trace = not_a_trace(path);
    let (file, _) = open_regular(path, MAX_TABLE_BYTES).map_err(unreadable(path))?;
    let mut reader = ParquetReader::new(file).read_parallel(ParallelStrategy::None);
    let schema = reader.schema().map_err(&unreadable_trace)?;
    let mut names: Vec<String> = Vec::new();
    for &name in wanted {
        if schema.contains(name) && !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    reader.with_columns(Some(names)).with_slice(Some((offset, rows))).finish().map_err(unreadable_trace)
}

/// Reads the trace at `path` with the metric columns of `objectives` (at least one), checking
/// that it has the columns of this trace format with their types and that its rows are in order
/// of completion. Configurations are not read back (their columns need the search space):
/// [`Trace::configs`] and [`Trace::exploits`] are empty. Only the step columns are decoded (not
/// the configuration columns, one value per row each), a row group at a time.
pub fn read_trace(path: &Path, objectives: &[Objective]) -> Result<Trace, FileError> {
    let refused = |message: String| FileError::Refused { path: path.to_owned(), message };
    let mut wanted = vec![
        columns::TRIAL,
        columns::WORKER,
        columns::EPOCH,
        columns::START,
        columns::END,
        columns::LAUNCH_SECONDS,
        columns::EXIT_SECONDS,
        columns::STATUS,
        columns::DECISION,
    ];
    wanted.extend(objectives.iter().map(|o| o.name.as_str()));
    let total = trace_rows(path)?;
    let mut trace = Trace::with_capacity(objectives.to_vec(), total);
    // At least one chunk, so that an empty trace's columns are checked too.
    for offset in (0..total.max(1)).step_by(READ_CHUNK_ROWS) {
        let frame = read_trace_columns(path, &wanted, offset, READ_CHUNK_ROWS)?;
        append_chunk(&mut trace, &frame, offset).map_err(refused)?;
    }
    if let Some(row) = trace.start.iter().zip(&trace.end).position(|(s, e)| !s.is_finite() || !e.is_finite() || s > e) {
        return Err(refused(format!("row {row}: `start` and `end` must be finite with start ≤ end")));
    }
    if let Some(row) = trace.end.windows(2).position(|w| w[1] < w[0]) {
        return Err(refused(format!("row {}: `end` decreases; trace rows must be in order of completion", row + 1)));
    }
    Ok(trace)
}

/// Appends the rows of `frame` (the file's rows from `offset` on) to `trace`, checking every
/// column's presence and type; errors name the file's row.
fn append_chunk(trace: &mut Trace, frame: &DataFrame, offset: usize) -> Result<(), String> {
    let column = |name: &str, kind: &str, ok: fn(&DataType) -> bool| {
        let c = frame.column(name).map_err(|_| {
            format!(
                "has no `{name}` column: not a trace of trace format {TRACE_FORMAT_VERSION} (written by another hposim version?); rerun its experiment"
            )
        })?;
        if !ok(c.dtype()) {
            return Err(format!("column `{name}` is {}, but trace format {TRACE_FORMAT_VERSION} has {kind}", c.dtype()));
        }
        Ok(c)
    };
    let ints = |name: &str, into: &mut Vec<u32>| -> Result<(), String> {
        let c = column(name, "unsigned integers", |t| *t == DataType::UInt32)?;
        for (row, v) in c.u32().map_err(|e| e.to_string())?.iter().enumerate() {
            into.push(v.ok_or_else(|| format!("row {}: `{name}` is null", offset + row))?);
        }
        Ok(())
    };
    let floats = |name: &str, into: &mut Vec<f64>| -> Result<(), String> {
        let c = column(name, "64-bit floats", |t| *t == DataType::Float64)?;
        into.extend(c.f64().map_err(|e| e.to_string())?.iter().map(|v| v.unwrap_or(f64::NAN)));
        Ok(())
    };
    let rows = frame.height();
    let status = column(columns::STATUS, "strings", is_string)?;
    parse_labels(status, EpochStatus::from_label, "status", " (expected ok, diverged or failed)", offset, &mut trace.status)?;
    let decision = column(columns::DECISION, "strings", is_string)?;
    parse_labels(decision, TrialOutcome::from_label, "decision", "", offset, &mut trace.outcome)?;
    // Overhead columns came later: traces without them had none (zeros).
    for (name, into) in [(columns::LAUNCH_SECONDS, &mut trace.launch_seconds), (columns::EXIT_SECONDS, &mut trace.exit_seconds)] {
        if frame.column(name).is_ok() {
            floats(name, into)?;
        } else {
            into.resize(into.len() + rows, 0.0);
        }
    }
    let mut metric_columns = Vec::with_capacity(trace.objectives.len());
    for objective in &trace.objectives {
        let mut values = Vec::with_capacity(rows);
        floats(&objective.name, &mut values)?;
        metric_columns.push(values);
    }
    trace.metrics.extend((0..rows).flat_map(|r| metric_columns.iter().map(move |c| c[r])));
    ints(columns::TRIAL, &mut trace.trial)?;
    ints(columns::WORKER, &mut trace.worker)?;
    ints(columns::EPOCH, &mut trace.epoch)?;
    floats(columns::START, &mut trace.start)?;
    floats(columns::END, &mut trace.end)
}

fn is_string(t: &DataType) -> bool {
    *t == DataType::String
}

/// The labels of a string column parsed by `parse`; the first unknown one is named with its row.
fn parse_labels<T>(
    column: &Column,
    parse: fn(&str) -> Option<T>,
    what: &str,
    expected: &str,
    offset: usize,
    into: &mut Vec<T>,
) -> Result<(), String> {
    for (row, label) in column.str().map_err(|e| e.to_string())?.iter().enumerate() {
        let label = label.unwrap_or_default();
        into.push(parse(label).ok_or_else(|| format!("row {}: unknown {what} {label:?}{expected}", offset + row))?);
    }
    Ok(())
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
        ParquetWriter::new(File::create(path).unwrap()).finish(&mut frame).unwrap();
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
    fn a_trace_writer_renames_its_file_when_finished_and_removes_it_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let spec = [hposim_core::ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None }];
        let space = SearchSpace::new(&spec).unwrap();
        let objectives = [Objective::minimize("loss")];
        let metadata = TraceMetadata { benchmark: "b".into(), strategy: "s".into(), seed: 0, step_unit: "epoch".into(), code: "c".into() };
        let path = dir.path().join("cell.parquet");
        let tmp = || {
            std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .find(|n| n.starts_with(&format!("cell.parquet.{}-", std::process::id())) && n.ends_with(".tmp"))
                .map(|n| dir.path().join(n))
        };
        // A cell that failed midway: nothing is left behind.
        let writer = TraceWriter::create(&path, &space, &objectives, &metadata).unwrap();
        assert!(tmp().is_some_and(|t| t.is_file()));
        drop(writer);
        assert!(tmp().is_none() && !path.exists());
        // A finished one, even empty, is a readable trace with its columns.
        let writer = TraceWriter::create(&path, &space, &objectives, &metadata).unwrap();
        writer.finish().unwrap();
        assert!(tmp().is_none());
        assert_eq!(read_trace(&path, &objectives).unwrap().len(), 0);
        assert!(read_trace_metadata(&path).unwrap().contains(&("hposim.strategy".to_owned(), "s".to_owned())));
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

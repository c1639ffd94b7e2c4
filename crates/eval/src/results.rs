//! Reading a results directory (what `hposim run` and `hposim tune` write): the manifest, each
//! cell's summary (`cells/<cell>.json`) and trace (`cells/<cell>.parquet`). Cells the manifest
//! expects but that are absent or unfinished are listed, not fatal, so a report covers what
//! there is; a trace or summary of another trace-format version is refused.

use hposim_core::{
    BenchmarkReference, CellSummary, EpochStatus, ExpectedCell, MANIFEST_FILE, Manifest, TRACE_FORMAT_VERSION, TrialOutcome,
};
use polars::prelude::{DataType, ParallelStrategy, ParquetReader, SerReader};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// A results directory that cannot be reported on.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// A file could not be read.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        error: std::io::Error,
    },
    /// A file was written by another version of hposim, or is not what its name says.
    #[error("{}: {message}", path.display())]
    Refused {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Nothing to report on.
    #[error("{}: no finished cells (run `hposim run EXPERIMENT --out {}` first)", dir.display(), dir.display())]
    Empty {
        /// The results directory.
        dir: PathBuf,
    },
}

/// One step row of a cell's trace, reduced to what evaluation needs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CellTrace {
    /// Trial of each row.
    pub trial: Vec<u32>,
    /// Worker of each row.
    pub worker: Vec<u32>,
    /// Fidelity reached by each row.
    pub epoch: Vec<u32>,
    /// Start time of each row (seconds).
    pub start: Vec<f64>,
    /// End time of each row (seconds); rows are in order of it.
    pub end: Vec<f64>,
    /// The first objective's value of each row.
    pub value: Vec<f64>,
    /// Status of each row.
    pub status: Vec<EpochStatus>,
    /// Decision after each row.
    pub decision: Vec<TrialOutcome>,
    /// Every objective's value of each row, row-major, for benchmarks with several objectives
    /// (empty otherwise).
    pub metrics: Vec<f64>,
}

impl CellTrace {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.trial.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.trial.is_empty()
    }
}

/// One exploit of a population-based training cell, from `cells/<cell>.exploits.json`: trial
/// `trial` started from `donor`'s checkpoint after `step` and replaced `recipient`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize)]
pub struct ExploitRecord {
    /// Simulated seconds.
    pub time: f64,
    /// The copied step.
    pub step: u32,
    /// The new trial.
    pub trial: u32,
    /// The trial copied.
    pub donor: u32,
    /// The trial replaced.
    pub recipient: u32,
}

/// A finished cell.
#[derive(Clone, Debug)]
pub struct CellResult {
    /// Its summary.
    pub summary: CellSummary,
    /// Its trace.
    pub trace: CellTrace,
    /// Its exploits (population-based training; empty otherwise).
    pub exploits: Vec<ExploitRecord>,
}

/// A cell the manifest expects that is not there.
#[derive(Clone, Debug, PartialEq)]
pub struct MissingCell {
    /// The cell.
    pub cell: ExpectedCell,
    /// Why it is missing.
    pub reason: String,
}

/// Everything a report needs from a results directory.
#[derive(Clone, Debug)]
pub struct Results {
    /// The directory.
    pub dir: PathBuf,
    /// Its manifest (absent in directories written before manifests existed).
    pub manifest: Option<Manifest>,
    /// The benchmarks, in experiment order.
    pub benchmarks: Vec<BenchmarkReference>,
    /// The strategies, in experiment order.
    pub strategies: Vec<String>,
    /// Finished cells, in manifest order.
    pub cells: Vec<CellResult>,
    /// Expected cells that are not finished.
    pub missing: Vec<MissingCell>,
    /// The experiment file copied into the directory, if any.
    pub experiment_source: Option<String>,
}

impl Results {
    /// The cells of `benchmark` and `strategy`, by seed.
    pub fn cells_of<'a>(&'a self, benchmark: &'a str, strategy: &'a str) -> impl Iterator<Item = &'a CellResult> + 'a {
        self.cells.iter().filter(move |c| c.summary.benchmark == benchmark && c.summary.strategy == strategy)
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ResultsError + '_ {
    move |error| ResultsError::Io { path: path.to_owned(), error }
}

fn refused(path: &Path, message: impl Into<String>) -> ResultsError {
    ResultsError::Refused { path: path.to_owned(), message: message.into() }
}

/// Reads the results directory `dir`.
pub fn load(dir: &Path) -> Result<Results, ResultsError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let manifest = if manifest_path.is_file() {
        let text = fs::read_to_string(&manifest_path).map_err(io(&manifest_path))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| refused(&manifest_path, format!("not a manifest: {e}")))?;
        check_format(&manifest_path, value.get("trace_format").and_then(serde_json::Value::as_u64))?;
        Some(serde_json::from_value::<Manifest>(value).map_err(|e| refused(&manifest_path, format!("not a manifest: {e}")))?)
    } else {
        None
    };
    let cells_dir = dir.join("cells");
    if manifest.is_none() && !cells_dir.is_dir() {
        return Err(ResultsError::Empty { dir: dir.to_owned() });
    }
    let expected = match &manifest {
        Some(m) => m.cells.clone(),
        None => discover(&cells_dir)?,
    };
    let mut cells = Vec::new();
    let mut missing = Vec::new();
    for cell in expected {
        let json = cells_dir.join(format!("{}.json", cell.cell));
        let parquet = cells_dir.join(format!("{}.parquet", cell.cell));
        let reason = match (json.is_file(), parquet.is_file()) {
            (true, true) => None,
            (false, true) => Some("unfinished: its trace is there but not its summary (the run was interrupted)"),
            (true, false) => Some("its summary is there but its trace is missing"),
            (false, false) => Some("not run yet"),
        };
        if let Some(reason) = reason {
            missing.push(MissingCell { cell, reason: reason.to_owned() });
            continue;
        }
        let summary = read_summary(&json)?;
        // Benchmarks with several objectives: every objective's column, from the same read.
        let objectives = manifest.as_ref().and_then(|m| m.benchmarks.iter().find(|b| b.name == summary.benchmark)).map(|b| &b.objectives);
        let names: Vec<&str> = objectives.filter(|o| o.len() > 1).map_or(Vec::new(), |o| o.iter().map(|o| o.name.as_str()).collect());
        let trace = read_trace_with(&parquet, &summary.objective, &names)?;
        let exploits = read_exploits(&cells_dir.join(format!("{}.exploits.json", cell.cell)))?;
        cells.push(CellResult { summary, trace, exploits });
    }
    if cells.is_empty() {
        return Err(ResultsError::Empty { dir: dir.to_owned() });
    }
    let (benchmarks, strategies) = match &manifest {
        Some(m) => (m.benchmarks.clone(), m.strategies.clone()),
        None => names_from(&cells),
    };
    let experiment_source = fs::read_to_string(dir.join("experiment.toml")).ok();
    Ok(Results { dir: dir.to_owned(), manifest, benchmarks, strategies, cells, missing, experiment_source })
}

fn check_format(path: &Path, found: Option<u64>) -> Result<(), ResultsError> {
    let found = found.unwrap_or(1);
    if found != u64::from(TRACE_FORMAT_VERSION) {
        return Err(refused(
            path,
            format!(
                "written with trace format {found}, but this hposim reads format {TRACE_FORMAT_VERSION}; rerun the experiment with this version (`hposim run` reruns exactly the cells that changed)"
            ),
        ));
    }
    Ok(())
}

/// Without a manifest: every cell whose summary is in `cells/`.
fn discover(cells_dir: &Path) -> Result<Vec<ExpectedCell>, ResultsError> {
    let mut found = Vec::new();
    let entries = fs::read_dir(cells_dir).map_err(io(cells_dir))?;
    for entry in entries {
        let path = entry.map_err(io(cells_dir))?.path();
        // `<cell>.exploits.json` lists a population-based training cell's exploits, not a summary.
        let exploits = path.file_name().is_some_and(|n| n.to_string_lossy().ends_with(".exploits.json"));
        if path.extension().is_some_and(|e| e == "json") && !exploits {
            let summary = read_summary(&path)?;
            found.push(ExpectedCell { cell: summary.cell, benchmark: summary.benchmark, strategy: summary.strategy, seed: summary.seed });
        }
    }
    found.sort_by(|a, b| (&a.benchmark, &a.strategy, a.seed).cmp(&(&b.benchmark, &b.strategy, b.seed)));
    Ok(found)
}

fn names_from(cells: &[CellResult]) -> (Vec<BenchmarkReference>, Vec<String>) {
    let mut benchmarks: Vec<BenchmarkReference> = Vec::new();
    let mut strategies: Vec<String> = Vec::new();
    for c in cells {
        let s = &c.summary;
        if !benchmarks.iter().any(|b| b.name == s.benchmark) {
            benchmarks.push(BenchmarkReference {
                name: s.benchmark.clone(),
                objective: s.objective.clone(),
                direction: s.direction,
                max_fidelity: s.max_fidelity,
                best_known: s.best_known,
                median_random: None,
                objectives: Vec::new(),
                hypervolume_reference: None,
            });
        }
        if !strategies.contains(&s.strategy) {
            strategies.push(s.strategy.clone());
        }
    }
    (benchmarks, strategies)
}

/// The exploits listed at `path`; none if the file does not exist.
fn read_exploits(path: &Path) -> Result<Vec<ExploitRecord>, ResultsError> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let text = fs::read_to_string(path).map_err(io(path))?;
    serde_json::from_str(&text).map_err(|e| refused(path, format!("not a list of exploits: {e}")))
}

fn read_summary(path: &Path) -> Result<CellSummary, ResultsError> {
    let text = fs::read_to_string(path).map_err(io(path))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| refused(path, format!("not a cell summary: {e}")))?;
    check_format(path, value.get("trace_format").and_then(serde_json::Value::as_u64))?;
    serde_json::from_value(value).map_err(|e| refused(path, format!("not a cell summary of this hposim version: {e}")))
}

/// Reads a trace, checking that it has the columns of this trace format with their types.
pub fn read_trace(path: &Path, objective: &str) -> Result<CellTrace, ResultsError> {
    read_trace_with(path, objective, &[])
}

/// [`read_trace`], also reading the columns of the objectives `objectives` (with several)
/// into [`CellTrace::metrics`], row-major.
pub fn read_trace_with(path: &Path, objective: &str, objectives: &[&str]) -> Result<CellTrace, ResultsError> {
    let file = File::open(path).map_err(io(path))?;
    let frame = ParquetReader::new(file)
        .read_parallel(ParallelStrategy::None)
        .finish()
        .map_err(|e| refused(path, format!("not a readable Parquet trace: {e}")))?;
    let column = |name: &str, kind: &str, ok: fn(&DataType) -> bool| {
        let c = frame.column(name).map_err(|_| {
            refused(
                path,
                format!(
                    "has no `{name}` column: not a trace of trace format {TRACE_FORMAT_VERSION} (written by another hposim version?); rerun its experiment"
                ),
            )
        })?;
        if !ok(c.dtype()) {
            return Err(refused(path, format!("column `{name}` is {}, but trace format {TRACE_FORMAT_VERSION} has {kind}", c.dtype())));
        }
        Ok(c)
    };
    let ints = |name: &str| -> Result<Vec<u32>, ResultsError> {
        let c = column(name, "unsigned integers", |t| *t == DataType::UInt32)?;
        let values = c.u32().map_err(|e| refused(path, e.to_string()))?;
        values.iter().enumerate().map(|(row, v)| v.ok_or_else(|| refused(path, format!("row {row}: `{name}` is null")))).collect()
    };
    let floats = |name: &str| -> Result<Vec<f64>, ResultsError> {
        let c = column(name, "64-bit floats", |t| *t == DataType::Float64)?;
        let values = c.f64().map_err(|e| refused(path, e.to_string()))?;
        Ok(values.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    };
    let strings = |name: &str| -> Result<Vec<String>, ResultsError> {
        let c = column(name, "strings", |t| *t == DataType::String)?;
        let values = c.str().map_err(|e| refused(path, e.to_string()))?;
        Ok(values.iter().map(|v| v.unwrap_or_default().to_owned()).collect())
    };
    let status = strings("status")?
        .iter()
        .enumerate()
        .map(|(row, s)| match s.as_str() {
            "ok" => Ok(EpochStatus::Ok),
            "diverged" => Ok(EpochStatus::Diverged),
            "failed" => Ok(EpochStatus::Failed),
            other => Err(refused(path, format!("row {row}: unknown status {other:?} (expected ok, diverged or failed)"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let decision = strings("decision")?
        .iter()
        .enumerate()
        .map(|(row, s)| match s.as_str() {
            "continue" => Ok(TrialOutcome::Continue),
            "pause" => Ok(TrialOutcome::Pause),
            "stop" => Ok(TrialOutcome::Stop),
            "done" => Ok(TrialOutcome::Done),
            "cut" => Ok(TrialOutcome::Cut),
            other => Err(refused(path, format!("row {row}: unknown decision {other:?}"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let columns = objectives.iter().map(|name| floats(name)).collect::<Result<Vec<_>, _>>()?;
    let metrics = (0..status.len()).flat_map(|r| columns.iter().map(move |c| c[r])).collect();
    let trace = CellTrace {
        trial: ints("trial")?,
        worker: ints("worker")?,
        epoch: ints("epoch")?,
        start: floats("start")?,
        end: floats("end")?,
        value: floats(objective)?,
        status,
        decision,
        metrics,
    };
    check_order(path, &trace)?;
    Ok(trace)
}

fn check_order(path: &Path, trace: &CellTrace) -> Result<(), ResultsError> {
    if let Some(row) = trace.start.iter().zip(&trace.end).position(|(s, e)| !s.is_finite() || !e.is_finite() || s > e) {
        return Err(refused(path, format!("row {row}: `start` and `end` must be finite with start ≤ end")));
    }
    if let Some(row) = trace.end.windows(2).position(|w| w[1] < w[0]) {
        return Err(refused(path, format!("row {}: `end` decreases; trace rows must be in order of completion", row + 1)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
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
    fn reads_a_live_trace_with_a_failed_step() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        write(&path, columns(Some(vec!["continue", "done", "stop"])));
        let trace = read_trace(&path, "loss").unwrap();
        assert_eq!(trace.status, [EpochStatus::Ok, EpochStatus::Ok, EpochStatus::Failed]);
        assert_eq!(trace.decision[1], TrialOutcome::Done);
        assert_eq!(trace.value[1], 0.4);
    }

    #[test]
    fn refuses_traces_of_another_layout_naming_file_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.parquet");
        write(&path, columns(None));
        let error = read_trace(&path, "loss").unwrap_err().to_string();
        assert!(error.starts_with(&path.display().to_string()) && error.contains("no `decision` column"), "{error}");
        write(&path, columns(Some(vec!["continue", "later", "stop"])));
        assert!(read_trace(&path, "loss").unwrap_err().to_string().contains("row 1: unknown decision \"later\""));
        let mut wrong = columns(Some(vec!["continue", "done", "stop"]));
        wrong[2] = Column::new("epoch".into(), [1.0, 2.0, 1.0]);
        write(&path, wrong);
        assert!(read_trace(&path, "loss").unwrap_err().to_string().contains("column `epoch` is f64"));
        assert!(read_trace(&path, "accuracy").is_err());
        std::fs::write(&path, b"not parquet").unwrap();
        assert!(read_trace(&path, "loss").unwrap_err().to_string().contains("not a readable Parquet trace"));
    }
}

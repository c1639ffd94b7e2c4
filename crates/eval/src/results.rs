//! Reading a results directory (what `hposim run` and `hposim tune` write): the manifest, each
//! cell's summary (`cells/<cell>.json`) and trace (`cells/<cell>.parquet`), through
//! `hposim-results`, which owns their layout. Cells the manifest expects but that are absent or
//! unfinished are listed, not fatal, so a report covers what there is; a trace or summary of
//! another trace-format version is refused.

use hposim_core::{BenchmarkReference, CellSummary, ExpectedCell, Exploit, Manifest, Objective, Trace};
use hposim_results::{FileError, read_exploits, read_manifest, read_summary, read_trace};
use std::fs;
use std::path::{Path, PathBuf};

/// A results directory that cannot be reported on.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// A file could not be read, or was written by another version of hposim, or is not what
    /// its name says.
    #[error(transparent)]
    File(#[from] FileError),
    /// Nothing to report on.
    #[error("{}: no finished cells (run `hposim run EXPERIMENT --out {}` first)", dir.display(), dir.display())]
    Empty {
        /// The results directory.
        dir: PathBuf,
    },
}

/// A finished cell.
#[derive(Clone, Debug)]
pub struct CellResult {
    /// Its summary.
    pub summary: CellSummary,
    /// Its trace: the first objective's column, or every objective's for benchmarks with
    /// several (configurations are not read).
    pub trace: Trace,
    /// Its exploits (population-based training; empty otherwise).
    pub exploits: Vec<Exploit>,
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
    move |error| ResultsError::File(FileError::Io { path: path.to_owned(), error })
}

/// The manifest of the results directory `dir`, if it has one, and the cells it expects (without
/// a manifest: every cell whose summary is in `cells/`).
pub fn expected_cells(dir: &Path) -> Result<(Option<Manifest>, Vec<ExpectedCell>), ResultsError> {
    let manifest = read_manifest(dir)?;
    let cells_dir = dir.join("cells");
    if manifest.is_none() && !cells_dir.is_dir() {
        return Err(ResultsError::Empty { dir: dir.to_owned() });
    }
    let expected = match &manifest {
        Some(m) => m.cells.clone(),
        None => discover(&cells_dir)?,
    };
    Ok((manifest, expected))
}

/// Reads the results directory `dir`.
pub fn load(dir: &Path) -> Result<Results, ResultsError> {
    let (manifest, expected) = expected_cells(dir)?;
    let cells_dir = dir.join("cells");
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
        let several = manifest.as_ref().and_then(|m| m.benchmarks.iter().find(|b| b.name == summary.benchmark)).map(|b| &b.objectives);
        let objectives = match several.filter(|o| o.len() > 1) {
            Some(objectives) => objectives.clone(),
            None => vec![Objective { name: summary.objective.clone(), direction: summary.direction }],
        };
        let trace = read_trace(&parquet, &objectives)?;
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
    let experiment_source = hposim_core::input::read_text(&dir.join("experiment.toml")).ok();
    Ok(Results { dir: dir.to_owned(), manifest, benchmarks, strategies, cells, missing, experiment_source })
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

/// What a cell summary alone tells about its benchmark: no median random configuration (so
/// normalised regret is out of reach), a single objective, steps in epochs.
pub fn reference_of(s: &CellSummary) -> BenchmarkReference {
    BenchmarkReference {
        name: s.benchmark.clone(),
        objective: s.objective.clone(),
        direction: s.direction,
        max_fidelity: s.max_fidelity,
        unit: "epoch".into(),
        best_known: s.best_known,
        median_random: None,
        objectives: Vec::new(),
        hypervolume_reference: None,
    }
}

fn names_from(cells: &[CellResult]) -> (Vec<BenchmarkReference>, Vec<String>) {
    let mut benchmarks: Vec<BenchmarkReference> = Vec::new();
    let mut strategies: Vec<String> = Vec::new();
    for c in cells {
        let s = &c.summary;
        if !benchmarks.iter().any(|b| b.name == s.benchmark) {
            benchmarks.push(reference_of(s));
        }
        if !strategies.contains(&s.strategy) {
            strategies.push(s.strategy.clone());
        }
    }
    (benchmarks, strategies)
}

//! Experiment files: TOML documents naming benchmarks, strategies, seeds, workers and a budget.
//! Every key is documented in `experiments/README.md`.
//!
//! Loading refuses a malformed or inconsistent experiment before anything runs, with an error
//! that names the file, the key (and for syntax errors, and for entries of `[[benchmarks]]` or
//! `[[strategies]]`, the line).

use hposim_core::{Budget, TraceLevel};
use hposim_curves::{Benchmark, BenchmarkSpec};
use hposim_schedulers::{Setting, StrategySpec, check_strategy};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Most simulated workers an experiment may ask for.
pub const MAX_WORKERS: u32 = 100_000;
/// Most seeds an experiment may ask for.
pub const MAX_SEEDS: u32 = 100_000;

fn default_seeds() -> u32 {
    10
}
fn default_workers() -> u32 {
    1
}
fn default_true() -> bool {
    true
}
/// An experiment file, as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSpec {
    /// Name (default: the file's stem); results go to `results/<name>` by default.
    #[serde(default)]
    pub name: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Experiment seed, from which every random stream derives (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Repetitions of every benchmark × strategy pair (default 10).
    #[serde(default = "default_seeds")]
    pub seeds: u32,
    /// Simulated workers (default 1).
    #[serde(default = "default_workers")]
    pub workers: u32,
    /// Whether paused trials keep their state (default true).
    #[serde(default = "default_true")]
    pub checkpointing: bool,
    /// Which rows each cell's trace keeps: `"steps"` (every step, the default) or
    /// `"decisions"` (a row per run segment, and schedulers hear only the results they ask
    /// for: several times faster for schedulers that decide at rungs; [`TraceLevel`]).
    #[serde(default, skip_serializing_if = "TraceLevel::is_steps")]
    pub trace: TraceLevel,
    /// US dollars per worker-hour, for costs in summaries (optional).
    #[serde(default)]
    pub price_per_worker_hour: Option<f64>,
    /// When each cell stops (at least one limit).
    #[serde(default)]
    pub budget: Budget,
    /// The benchmarks.
    #[serde(default)]
    pub benchmarks: Vec<BenchmarkSpec>,
    /// The strategies.
    #[serde(default)]
    pub strategies: Vec<StrategySpec>,
}

/// A refused experiment: the file and what is wrong with it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct ExperimentError {
    /// The experiment file.
    pub path: PathBuf,
    /// What is wrong, starting with the key (and line where known).
    pub message: String,
}

/// A validated experiment, with its benchmarks built.
pub struct Experiment {
    /// Where it was read from.
    pub path: PathBuf,
    /// The name.
    pub name: String,
    /// The file's text, copied into the results directory.
    pub source: String,
    /// The specification.
    pub spec: ExperimentSpec,
    /// The benchmarks, in file order.
    pub benchmarks: Vec<Box<dyn Benchmark>>,
}

impl std::fmt::Debug for Experiment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Experiment").field("path", &self.path).field("name", &self.name).finish_non_exhaustive()
    }
}

impl Experiment {
    /// Whether strategy `index` resumes paused trials from checkpoints.
    pub fn checkpointing(&self, index: usize) -> bool {
        self.spec.strategies.get(index).and_then(|s| s.checkpointing).unwrap_or(self.spec.checkpointing)
    }

    /// Reads and validates the experiment at `path`.
    pub fn load(path: &Path) -> Result<Self, ExperimentError> {
        let source = hposim_core::input::read_text(path)
            .map_err(|e| ExperimentError { path: path.to_owned(), message: format!("cannot read the file: {e}") })?;
        Self::parse(path, &source)
    }

    /// Validates the experiment text `source` (read from `path`).
    pub fn parse(path: &Path, source: &str) -> Result<Self, ExperimentError> {
        let fail = |message: String| ExperimentError { path: path.to_owned(), message };
        let spec: ExperimentSpec = toml::from_str(source).map_err(|e| fail(e.to_string().trim_end().to_owned()))?;
        let name = spec
            .name
            .clone()
            .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "experiment".to_owned());
        hposim_results::default_folder(&name).map_err(|e| fail(format!("name: {e}")))?;
        if spec.workers == 0 || spec.workers > MAX_WORKERS {
            return Err(fail(format!("workers: must lie in 1..={MAX_WORKERS}, got {}", spec.workers)));
        }
        if spec.seeds == 0 || spec.seeds > MAX_SEEDS {
            return Err(fail(format!("seeds: must lie in 1..={MAX_SEEDS}, got {}", spec.seeds)));
        }
        if let Some(price) = spec.price_per_worker_hour
            && !(price.is_finite() && price >= 0.0)
        {
            return Err(fail(format!("price_per_worker_hour: must be a non-negative number, got {price}")));
        }
        if let Err((key, message)) = spec.budget.validate() {
            let key = if key.is_empty() { "budget".to_owned() } else { format!("budget.{key}") };
            return Err(fail(format!("{key}: {message}")));
        }
        if spec.benchmarks.is_empty() {
            return Err(fail("benchmarks: add at least one [[benchmarks]] table".into()));
        }
        if spec.strategies.is_empty() {
            return Err(fail("strategies: add at least one [[strategies]] table".into()));
        }
        let mut benchmarks = Vec::with_capacity(spec.benchmarks.len());
        let mut builder = hposim_curves::Builder::new(path.parent().unwrap_or(Path::new("")));
        for (i, bench) in spec.benchmarks.iter().enumerate() {
            let at = entry("benchmarks", i, &bench.name(), source);
            hposim_results::check_name(&bench.name()).map_err(|e| fail(format!("{at}.name: {e}")))?;
            if spec.benchmarks[..i].iter().any(|b| b.name() == bench.name()) {
                return Err(fail(format!("{at}.name: benchmark name {:?} is used twice; give each a distinct `name`", bench.name())));
            }
            benchmarks.push(builder.build(bench).map_err(|e| fail(format!("{at}.{e}")))?);
        }
        // Only full evaluations end such a cell, so every strategy must reach full fidelity.
        let budget = &spec.budget;
        let only_full_evaluations = budget.wallclock_seconds.is_none() && budget.compute_seconds.is_none() && budget.trials.is_none();
        for (i, strategy) in spec.strategies.iter().enumerate() {
            let at = entry("strategies", i, &strategy.name, source);
            hposim_results::check_name(&strategy.name).map_err(|e| fail(format!("{at}.name: {e}")))?;
            if spec.strategies[..i].iter().any(|s| s.name == strategy.name) {
                return Err(fail(format!("{at}.name: strategy name {:?} is used twice", strategy.name)));
            }
            let checkpointing = strategy.checkpointing.unwrap_or(spec.checkpointing);
            for bench in &benchmarks {
                let cannot = format!(
                    "benchmark {:?} cannot; use a benchmark that can ({})",
                    bench.name(),
                    hposim_curves::registry::splicing_types()
                );
                let setting = Setting {
                    space: bench.space(),
                    fidelity: bench.fidelity(),
                    objectives: bench.objectives(),
                    checkpointing,
                    trial_budget: spec.budget.trials.is_some(),
                    cannot_change_configurations: (!bench.supports_splice()).then_some(cannot.as_str()),
                };
                check_strategy(strategy, &setting).map_err(|e| {
                    if e.starts_with("budget.") {
                        fail(format!("{e} (strategy {:?})", strategy.name))
                    } else {
                        fail(format!("{at}.{e} (on benchmark {:?})", bench.name()))
                    }
                })?;
                let top = hposim_schedulers::top_fidelity(&strategy.scheduler, bench.fidelity());
                if let Some(top) = top.filter(|&top| only_full_evaluations && top < bench.fidelity().max) {
                    return Err(fail(format!(
                        "budget.full_evaluations: strategy {:?} never trains a trial beyond {top} of benchmark {:?}'s {} {}, so this budget alone would never end; add wallclock_seconds, compute_seconds or trials",
                        strategy.name,
                        bench.name(),
                        bench.fidelity().max,
                        bench.fidelity().unit
                    )));
                }
            }
        }
        Ok(Self { path: path.to_owned(), name, source: source.to_owned(), spec, benchmarks })
    }
}

/// `benchmarks[1] ("crossing", line 14)`: an entry of an array of tables, with the line of its
/// `[[...]]` header when the file uses that form.
fn entry(array: &str, index: usize, name: &str, source: &str) -> String {
    let header = format!("[[{array}]]");
    let line = source.lines().enumerate().filter(|(_, l)| l.trim_start().starts_with(&header)).nth(index).map(|(n, _)| n + 1);
    match line {
        Some(line) => format!("{array}[{index}] ({name:?}, line {line})"),
        None => format!("{array}[{index}] ({name:?})"),
    }
}

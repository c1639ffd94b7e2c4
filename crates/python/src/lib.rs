//! `hposim._hposim`: the extension module under the Python package `hposim`
//! (`python/hposim/__init__.py` is the API users see; `python/hposim/_hposim.pyi` types this
//! module). Everything here calls the code the `hposim` binary runs (`hposim_cli`,
//! `hposim_runner::ask_tell`): the same commands, the same trial book, the same messages.
//!
//! Structured values cross the boundary as JSON text (configurations, suggestions, summaries),
//! parsed by the Python side; errors arrive as `hposim.HposimError` with the message the
//! command line prints after `error: `.

use hposim_runner::ask_tell::{AskTell, AskTellSpec, Suggestion};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use serde_json::json;
use std::path::{Path, PathBuf};

create_exception!(_hposim, HposimError, PyException, "An hposim command or call failed; the message says what and where.");

/// `HposimError` with the message of `error` and its causes, as the command line prints it.
fn fail(error: impl std::fmt::Display) -> PyErr {
    HposimError::new_err(error.to_string())
}

/// `HposimError` from an `anyhow` chain, causes included (`{:#}`, as the command line prints).
fn fail_chain(error: &anyhow::Error) -> PyErr {
    HposimError::new_err(format!("{error:#}"))
}

/// Runs the `hposim` command line `argv` (program name first) and returns its exit status:
/// what the `hposim` console script of the package calls.
#[pyfunction]
fn main(py: Python<'_>, argv: Vec<String>) -> u8 {
    py.detach(|| hposim_cli::run_cli(argv))
}

/// Runs the `hposim` command line `argv` (program name first); a failure raises
/// `HposimError` with the command line's message.
#[pyfunction]
fn command(py: Python<'_>, argv: Vec<String>) -> PyResult<()> {
    py.detach(|| hposim_cli::command(argv)).map_err(|e| fail_chain(&e))
}

/// Writes every step of every finished cell of the results directory `results` to `out`
/// (Parquet), as `hposim export` does but without printing.
#[pyfunction]
fn export(py: Python<'_>, results: PathBuf, out: PathBuf) -> PyResult<()> {
    py.detach(|| hposim_cli::report::export_quietly(&results, &out)).map(|_| ()).map_err(|e| fail_chain(&e))
}

/// The experiment of a Python dictionary (as JSON text) or of a file.
fn experiment(source: &str, is_path: bool) -> anyhow::Result<hposim_sim::Experiment> {
    if is_path {
        return Ok(hposim_sim::Experiment::load(Path::new(source))?);
    }
    let value: toml::Value =
        serde_json::from_str(source).map_err(|e| anyhow::anyhow!("the experiment dictionary cannot be written as TOML: {e}"))?;
    if value.get("name").is_none() {
        anyhow::bail!("name: give the experiment a name (a dictionary has no file name to take it from)");
    }
    let text = toml::to_string(&value).map_err(|e| anyhow::anyhow!("the experiment dictionary cannot be written as TOML: {e}"))?;
    // Relative paths in the dictionary (recorded tables) are relative to the working directory.
    Ok(hposim_sim::Experiment::parse(Path::new("<dict>"), &text)?)
}

/// Runs an experiment (a file's path, or a dictionary's JSON with `is_path = False`) into `out`
/// (default `results/NAME`) on `threads` threads; returns the results directory.
#[pyfunction]
#[pyo3(signature = (source, is_path, out=None, threads=None, quiet=true, print=false))]
fn run(
    py: Python<'_>,
    source: String,
    is_path: bool,
    out: Option<PathBuf>,
    threads: Option<usize>,
    quiet: bool,
    print: bool,
) -> PyResult<String> {
    py.detach(|| {
        let experiment = experiment(&source, is_path)?;
        hposim_cli::run_experiment(&experiment, &hposim_cli::RunSettings { out, threads, quiet, print, ..Default::default() })
    })
    .map(|dir| dir.display().to_string())
    .map_err(|e| fail_chain(&e))
}

/// The JSON of the ask/tell specification under which a study asks what the simulator asks in
/// cell (`benchmark`, `strategy`, `repetition`) of the experiment at `path`.
#[pyfunction]
fn spec_of_cell(path: PathBuf, benchmark: &str, strategy: &str, repetition: u32) -> PyResult<String> {
    let spec = hposim_cli::ask_tell::spec_of_experiment_cell(&path, benchmark, strategy, repetition).map_err(|e| fail_chain(&e))?;
    serde_json::to_string(&spec).map_err(fail)
}

/// A suggestion as JSON: `kind`, `worker`, and for launches `trial`, `config`, `from_step`,
/// `until` (and `donor`, `recipient` for an exploit).
fn suggestion_json(s: &Suggestion) -> String {
    let value = match s {
        Suggestion::Start { worker, trial, config, until } => {
            json!({"kind": "start", "worker": worker, "trial": trial, "config": config, "from_step": 0, "until": until})
        }
        Suggestion::Resume { worker, trial, config, from_step, until } => {
            json!({"kind": "resume", "worker": worker, "trial": trial, "config": config, "from_step": from_step, "until": until})
        }
        Suggestion::Exploit { worker, trial, config, donor, recipient, from_step, until } => json!({
            "kind": "exploit", "worker": worker, "trial": trial, "config": config, "from_step": from_step, "until": until,
            "donor": donor, "recipient": recipient
        }),
        Suggestion::Wait { worker } => json!({"kind": "wait", "worker": worker}),
        Suggestion::Finish { worker } => json!({"kind": "finish", "worker": worker}),
    };
    value.to_string()
}

/// An ask/tell study (`hposim_runner::ask_tell::AskTell`); `hposim.Study` wraps it.
#[pyclass(unsendable, module = "hposim._hposim")]
struct Study {
    inner: AskTell,
}

#[pymethods]
impl Study {
    /// A study of the specification `spec` (JSON), journaled to `journal` if given (an
    /// existing journal is replayed first).
    #[new]
    #[pyo3(signature = (spec, journal=None))]
    fn new(spec: &str, journal: Option<PathBuf>) -> PyResult<Self> {
        let json: serde_json::Value = serde_json::from_str(spec).map_err(|e| fail(format!("study: {e}")))?;
        let spec = AskTellSpec::from_json(json).map_err(fail)?;
        AskTell::new(spec, journal.as_deref()).map(|inner| Self { inner }).map_err(fail)
    }

    /// The specification, as JSON.
    fn spec(&self) -> PyResult<String> {
        serde_json::to_string(self.inner.spec()).map_err(fail)
    }

    /// What slot `worker` (default: the first free one) should do, as JSON.
    #[pyo3(signature = (worker=None, now=None))]
    fn ask(&mut self, worker: Option<u32>, now: Option<f64>) -> PyResult<String> {
        self.inner.ask(worker, now).map(|s| suggestion_json(&s)).map_err(fail)
    }

    /// Step `step` of trial `trial` completed with `metrics` (the objectives' order); returns
    /// continue, pause, stop, done or cut.
    #[pyo3(signature = (trial, step, metrics, cost=None, now=None))]
    fn tell(&mut self, trial: u32, step: u32, metrics: Vec<f64>, cost: Option<f64>, now: Option<f64>) -> PyResult<&'static str> {
        self.inner.tell(trial, step, &metrics, cost, now).map(|o| o.as_str()).map_err(fail)
    }

    /// Trial `trial` failed during step `step` (default: its next step).
    #[pyo3(signature = (trial, step=None, now=None))]
    fn fail(&mut self, trial: u32, step: Option<u32>, now: Option<f64>) -> PyResult<()> {
        self.inner.fail(trial, step, now).map_err(fail)
    }

    /// Asks the slots told to wait again (JSON list of suggestions).
    #[pyo3(signature = (now=None))]
    fn wake(&mut self, now: Option<f64>) -> PyResult<String> {
        let suggestions = self.inner.wake(now).map_err(fail)?;
        Ok(format!("[{}]", suggestions.iter().map(suggestion_json).collect::<Vec<_>>().join(",")))
    }

    /// Every trial as JSON: trial, config, status, steps, until.
    fn trials(&self) -> String {
        let trials: Vec<_> = self
            .inner
            .trials()
            .into_iter()
            .enumerate()
            .map(|(i, (config, status, steps, until))| json!({"trial": i, "config": config, "status": status, "steps": steps, "until": until}))
            .collect();
        serde_json::Value::Array(trials).to_string()
    }

    /// The trial each slot runs (`None` where none).
    fn running(&self) -> Vec<Option<u32>> {
        self.inner.running()
    }

    /// The slots told to wait that a result has arrived for since.
    fn waiting(&self) -> Vec<u32> {
        self.inner.waiting()
    }

    /// Whether every slot has finished.
    fn finished(&self) -> bool {
        self.inner.finished()
    }

    /// Why the study ended (or would end now).
    fn stop_reason(&self) -> &'static str {
        self.inner.stop_reason().as_str()
    }

    /// Writes the study as a results directory; returns the cell's summary as JSON.
    fn save(&self, out: PathBuf) -> PyResult<String> {
        let summary = self.inner.save(&out).map_err(fail)?;
        serde_json::to_string(&summary).map_err(fail)
    }
}

/// A benchmark of a simulated experiment, replayed step by step with the noise the simulator
/// gives repetition `repetition` (`hposim.Benchmark` wraps it).
#[pyclass(module = "hposim._hposim")]
struct Benchmark {
    replay: hposim_cli::ask_tell::Replay,
}

#[pymethods]
impl Benchmark {
    /// Benchmark `name` of the experiment at `path`.
    #[new]
    #[pyo3(signature = (path, name, repetition=0))]
    fn new(path: PathBuf, name: &str, repetition: u32) -> PyResult<Self> {
        hposim_cli::ask_tell::Replay::load(&path, name, repetition).map(|replay| Self { replay }).map_err(|e| fail_chain(&e))
    }

    /// The objectives' names, in the order `step` returns their values.
    fn objectives(&self) -> Vec<String> {
        self.replay.benchmark().objectives().iter().map(|o| o.name.clone()).collect()
    }

    /// The full fidelity.
    fn max_fidelity(&self) -> u32 {
        self.replay.benchmark().fidelity().max
    }

    /// Step `step` of a trial with the configuration `config` (JSON): the metrics and the
    /// step's cost in seconds.
    fn step(&self, config: &str, step: u32) -> PyResult<(Vec<f64>, f64)> {
        let config: serde_json::Map<String, serde_json::Value> = serde_json::from_str(config).map_err(|e| fail(format!("config: {e}")))?;
        let curve = self.replay.open_json(&config).map_err(|e| fail_chain(&e))?;
        self.replay.step(&curve, step).map_err(|e| fail_chain(&e))
    }
}

/// The extension module.
#[pymodule]
fn _hposim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("HposimError", m.py().get_type::<HposimError>())?;
    m.add("VERSION", hposim_fingerprint_version())?;
    m.add_function(wrap_pyfunction!(main, m)?)?;
    m.add_function(wrap_pyfunction!(command, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(export, m)?)?;
    m.add_function(wrap_pyfunction!(spec_of_cell, m)?)?;
    m.add_class::<Study>()?;
    m.add_class::<Benchmark>()?;
    Ok(())
}

/// `hposim --version`'s text: the version and the code fingerprint.
fn hposim_fingerprint_version() -> &'static str {
    hposim_cli::VERSION
}

//! Executors: where trial processes run. A study talks to an [`Executor`] only through launches,
//! signals and events, so local processes and Slurm jobs are interchangeable.

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// One process to start for a trial.
#[derive(Clone, Debug)]
pub struct Job {
    /// A number unique within the study; every event of this process carries it.
    pub launch: u64,
    /// The argument vector (`argv[0]` is the program). Never passed through a shell.
    pub argv: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub workdir: PathBuf,
    /// The trial's log file: standard error, and standard-output lines that are not step
    /// reports, are appended to it.
    pub log: PathBuf,
    /// A directory of the trial's own (inside the study directory) for the executor's files.
    pub trial_dir: PathBuf,
    /// GPUs the job asks for.
    pub gpus: u32,
}

/// What happened to a launched process.
#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    /// It began to run (executors that queue jobs say so; the launch's clock starts again).
    Started,
    /// It printed a line on standard output (the trailing newline removed).
    Line(String),
    /// It ended: `Some(code)` if it exited, `None` if a signal (or the cluster) ended it.
    Exited(Option<i32>),
}

/// An event of launch `launch`, observed at `at`.
#[derive(Clone, Debug)]
pub struct Event {
    /// The [`Job::launch`] it belongs to.
    pub launch: u64,
    /// What happened.
    pub kind: EventKind,
    /// When the executor saw it.
    pub at: Instant,
}

/// Why an executor could not do what it was asked.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {message}")]
pub struct ExecutorError {
    /// What was being done.
    pub what: String,
    /// The cause.
    pub message: String,
}

impl ExecutorError {
    /// An error while doing `what`.
    pub fn new(what: impl Into<String>, message: impl ToString) -> Self {
        Self { what: what.into(), message: message.to_string() }
    }
}

/// How to end a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// Ask it to stop (SIGTERM): it may write a checkpoint first.
    Terminate,
    /// End it now (SIGKILL).
    Kill,
}

/// Runs trial processes.
pub trait Executor {
    /// Worker slots: how many trials may run at once.
    fn slots(&self) -> usize;

    /// Environment variables for slot `slot` (e.g. `CUDA_VISIBLE_DEVICES` for its GPU).
    fn slot_env(&self, slot: usize) -> Vec<(String, String)>;

    /// Starts `job` in slot `slot`.
    fn launch(&mut self, slot: usize, job: &Job) -> Result<(), ExecutorError>;

    /// Sends `signal` to launch `launch` (and the processes it started). A launch that already
    /// ended is ignored.
    fn signal(&mut self, launch: u64, signal: Signal) -> Result<(), ExecutorError>;

    /// The next event, waiting at most `timeout`; `Ok(None)` if none came. Events of one launch
    /// arrive in order, its `Exited` last.
    fn next_event(&mut self, timeout: Duration) -> Result<Option<Event>, ExecutorError>;

    /// A handle that identifies launch `launch` outside this process (`pgid:N`, `slurm:ID`),
    /// journaled so that a resumed study can end a process its killed predecessor left running.
    fn handle(&self, launch: u64) -> Option<String>;

    /// A short name for messages and summaries (`local`, `slurm`).
    fn name(&self) -> &'static str;
}

/// The GPUs `nvidia-smi -L` lists (`GPU 0: NVIDIA H100 ... (UUID: ...)`), by index; empty where
/// the command is missing or fails.
pub fn detect_gpus() -> Vec<u32> {
    let Ok(output) = std::process::Command::new("nvidia-smi").arg("-L").output() else { return Vec::new() };
    if !output.status.success() {
        return Vec::new();
    }
    parse_gpu_list(&String::from_utf8_lossy(&output.stdout))
}

/// The GPU indices in the output of `nvidia-smi -L`.
pub fn parse_gpu_list(text: &str) -> Vec<u32> {
    text.lines().filter_map(|line| line.strip_prefix("GPU ")?.split(':').next()?.trim().parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpus_are_read_from_nvidia_smi_output() {
        let text = "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)\nGPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-2)\n";
        assert_eq!(parse_gpu_list(text), [0, 1]);
        assert!(parse_gpu_list("NVIDIA-SMI has failed").is_empty());
    }
}

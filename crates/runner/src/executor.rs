//! Executors: where trial processes run. A study talks to an [`Executor`] only through launches,
//! signals and events, so local processes and Slurm jobs are interchangeable.

use hposim_core::{Config, TrialId};
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
    /// The trial (also in the environment, as `HPOSIM_TRIAL`).
    pub trial: TrialId,
    /// Its configuration (also in the command line and in `HPOSIM_CONFIG`).
    pub config: Config,
    /// The step it starts after (`HPOSIM_START_STEP`).
    pub start_step: u32,
    /// The step it runs until (`HPOSIM_UNTIL`).
    pub until: u32,
    /// For a trial started from another trial's checkpoint (population-based training): that
    /// trial and the copied step. Only executors that [`Executor::copies_checkpoints`] get such
    /// jobs.
    pub copy_of: Option<(TrialId, u32)>,
}

/// What happened to a launched process.
#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    /// It began to run (executors that queue jobs say so; the launch's clock starts again).
    Started,
    /// It printed a line on standard output (the trailing newline removed).
    Line(String),
    /// It ended: `Some(code)` if it exited; `Some(-n)` if signal `n` ended it (as Python's
    /// `returncode` says); `None` if it ended in a way the executor cannot tell (a replay's
    /// planned end, a cluster job that was cancelled).
    Exited(Option<i32>),
}

/// An event of launch `launch`, observed at `at`.
#[derive(Clone, Debug)]
pub struct Event {
    /// The [`Job::launch`] it belongs to.
    pub launch: u64,
    /// What happened.
    pub kind: EventKind,
    /// When the executor saw it: seconds on its clock ([`Executor::now`]).
    pub at: f64,
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

/// Runs trial processes, and keeps the time: a study reads its clock only from its executor, so
/// that an executor on a virtual clock ([`crate::replay`]) runs a study exactly.
pub trait Executor {
    /// Seconds on the executor's clock (monotone; its origin is the executor's own).
    fn now(&self) -> f64;

    /// Worker slots: how many trials may run at once.
    fn slots(&self) -> usize;

    /// Environment variables for slot `slot` (e.g. `CUDA_VISIBLE_DEVICES` for its GPU).
    fn slot_env(&self, slot: usize) -> Vec<(String, String)>;

    /// Starts `job` in slot `slot`.
    fn launch(&mut self, slot: usize, job: &Job) -> Result<(), ExecutorError>;

    /// Sends `signal` to launch `launch` (and the processes it started). A launch that already
    /// ended is ignored.
    fn signal(&mut self, launch: u64, signal: Signal) -> Result<(), ExecutorError>;

    /// The next event, waiting at most until `deadline` on the executor's clock (which may be
    /// infinite); `Ok(None)` if none came. Executors of real processes return after at most
    /// [`POLL_SECONDS`] even without an event, so that the study notices an interrupt. Events
    /// of one launch arrive in order, its `Exited` last.
    fn next_event(&mut self, deadline: f64) -> Result<Option<Event>, ExecutorError>;

    /// The study has recorded launch `launch`'s report of step `step`: its trial trains on
    /// (`continues`), or the study ends it (it exits by itself after its target step, or is
    /// signalled). A process trains on regardless until signalled, so real executors ignore
    /// this; a replay starts the next step here, when the simulator does.
    fn reported(&mut self, _launch: u64, _step: u32, _continues: bool) -> Result<(), ExecutorError> {
        Ok(())
    }

    /// Whether launch `launch`, just signalled or past its last report, has already exited, and
    /// with what status: an executor whose processes end at once (a replay) says so here, and
    /// does not send that launch's `Exited` event; real processes take their time, so real
    /// executors answer `None` and send the event when it happens.
    fn ended(&mut self, _launch: u64) -> Option<Option<i32>> {
        None
    }

    /// Worker-seconds that launch `launch`, running since `launched`, has used or committed by
    /// `now` (all on the executor's clock), for the compute budget: for a real process the time
    /// it has run. An executor that knows a step's cost when the step starts (a replay) counts
    /// the step in progress in full, as the simulator does.
    fn committed(&self, _launch: u64, launched: f64, now: f64) -> f64 {
        (now - launched).max(0.0)
    }

    /// What training trial `trial` from scratch to full fidelity costs, if the executor knows
    /// (a replay of a benchmark does); `None` lets the study extrapolate from its step times.
    fn full_training(&self, _trial: TrialId) -> Option<f64> {
        None
    }

    /// Whether the executor can start a trial from a copy of another trial's checkpoint at a
    /// given step ([`Job::copy_of`]), which population-based training needs. Real processes
    /// cannot yet: their checkpoint directory holds only a trial's latest step.
    fn copies_checkpoints(&self) -> bool {
        false
    }

    /// A handle that identifies launch `launch` outside this process (`pgid:N`, `slurm:ID`),
    /// journaled so that a resumed study can end a process its killed predecessor left running.
    fn handle(&self, launch: u64) -> Option<String>;

    /// A short name for messages and summaries (`local`, `slurm`).
    fn name(&self) -> &'static str;
}

/// The longest an executor of real processes waits for an event before returning.
pub const POLL_SECONDS: f64 = 0.2;

/// The clock of an executor of real processes: seconds since it was made.
#[derive(Clone, Copy, Debug)]
pub struct WallClock {
    origin: Instant,
}

impl Default for WallClock {
    fn default() -> Self {
        Self::new()
    }
}

impl WallClock {
    /// A clock that reads 0 now.
    pub fn new() -> Self {
        Self { origin: Instant::now() }
    }

    /// Seconds since the clock was made.
    pub fn now(&self) -> f64 {
        self.origin.elapsed().as_secs_f64()
    }

    /// `instant` in seconds on this clock.
    pub fn at(&self, instant: Instant) -> f64 {
        instant.saturating_duration_since(self.origin).as_secs_f64()
    }

    /// How long to wait for an event due by `deadline` on this clock: until then (zero if it
    /// has passed), but at most [`POLL_SECONDS`].
    pub fn until(&self, deadline: f64) -> Duration {
        let left = (deadline - self.now()).min(POLL_SECONDS);
        if left > 0.0 { Duration::from_secs_f64(left) } else { Duration::ZERO }
    }
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

//! A live study: the simulator's loop with real processes and a real clock.
//!
//! Whenever a worker slot is free the [`Scheduler`] is asked what to do, exactly as in
//! the simulator; every step report goes to the scheduler, whose decision keeps the
//! process running, or ends it (SIGTERM, then SIGKILL after the grace period). A trial that
//! reaches its target step exits by itself. A trial whose process exits early, prints a
//! malformed report, reports NaN metrics or runs past its time limit is marked failed (its log
//! kept) and the scheduler is told, as the simulator tells it of a diverged run; the study goes
//! on.
//!
//! Every call to the scheduler and every result is journaled ([`crate::journal`]) before it is
//! acted on, so a study killed at any moment resumes by replaying the journal through a fresh
//! strategy built with the same seed; trials that were running are relaunched from their last
//! recorded step, with the same checkpoint directory.

use crate::executor::{EventKind, Executor, ExecutorError, Job, Signal};
use crate::journal::{Asked, Journal, JournalError, Record};
use crate::protocol::{self, LaunchValues, Line};
use crate::tracker::Tracker;
use hposim_core::rng::stable_hash;
use hposim_core::{
    Action, Budget, CellOutcome, CellStats, Config, Decision, EpochStatus, Fidelity, Objective, Observation, Rng, Row, SearchSpace,
    StopReason, Trace, TrialOutcome, WorkerRequest,
};
use hposim_schedulers::Scheduler;
use serde_json::{Map, Value as Json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Everything a live study needs besides its strategy and executor.
#[derive(Clone, Debug)]
pub struct StudySetup<'a> {
    /// The search space.
    pub space: &'a SearchSpace,
    /// The objectives; the step reports must carry each.
    pub objectives: &'a [Objective],
    /// The fidelity axis.
    pub fidelity: &'a Fidelity,
    /// The command (argument vector with placeholders).
    pub command: &'a [String],
    /// The trials' working directory.
    pub workdir: &'a Path,
    /// The study's directory: `journal.jsonl` and `trials/<id>/` go there.
    pub dir: &'a Path,
    /// When to stop.
    pub budget: &'a Budget,
    /// Whether paused trials resume from their checkpoints.
    pub checkpointing: bool,
    /// Time limit of one launch.
    pub time_limit: Option<Duration>,
    /// Time between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// GPUs per trial.
    pub gpus_per_trial: u32,
    /// Experiment seed, from which each configuration's [`protocol::ENV_SEED`] derives.
    pub seed: u64,
}

impl<'a> StudySetup<'a> {
    /// The setup of a study of `experiment`'s training in `dir`, under `budget`.
    pub fn of(experiment: &'a crate::spec::LiveExperiment, dir: &'a Path, budget: &'a Budget, checkpointing: bool) -> Self {
        let training = &experiment.spec.training;
        Self {
            space: &experiment.space,
            objectives: &training.objectives,
            fidelity: &training.fidelity,
            command: &training.command,
            workdir: &experiment.workdir,
            dir,
            budget,
            checkpointing,
            time_limit: training.time_limit_seconds.map(Duration::from_secs_f64),
            grace: Duration::from_secs_f64(training.grace_seconds),
            gpus_per_trial: training.gpus_per_trial,
            seed: experiment.spec.seed,
        }
    }
}

/// Consecutive failed trials after which a study gives up: the command is almost certainly
/// broken, and going on would only burn the budget.
pub const MAX_CONSECUTIVE_FAILURES: u32 = 20;

/// Why a live study could not go on.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// The journal could not be read or written.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The executor failed.
    #[error(transparent)]
    Executor(#[from] ExecutorError),
    /// The journal does not match what the strategy does.
    #[error("{}: {message}; the journal does not match the strategy of the experiment file (was it edited?); start afresh with another --out", path.display())]
    Mismatch {
        /// The journal.
        path: PathBuf,
        /// What differs.
        message: String,
    },
    /// A trial directory could not be prepared.
    #[error("{}: {error}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The cause.
        error: std::io::Error,
    },
    /// The scheduler broke the protocol.
    #[error("the scheduler {0}")]
    Scheduler(String),
    /// Too many trials failed in a row.
    #[error("{count} trials in a row failed; the last: trial {trial}: {reason} (log: {})", log.display())]
    TooManyFailures {
        /// How many.
        count: u32,
        /// The last failed trial.
        trial: u32,
        /// Why it failed.
        reason: String,
        /// Its log.
        log: PathBuf,
    },
    /// The study was interrupted (Ctrl-C); running trials were ended and nothing is lost.
    #[error("interrupted; every completed step is in {}; continue with --resume", journal.display())]
    Interrupted {
        /// The journal.
        journal: PathBuf,
    },
}

/// What became of a trial.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TrialReport {
    /// Trial id.
    pub trial: u32,
    /// Its configuration (active parameters).
    pub config: Map<String, Json>,
    /// `running`, `paused`, `stopped`, `done` or `failed`.
    pub status: &'static str,
    /// Steps recorded.
    pub steps: u32,
    /// Processes started for it.
    pub launches: u32,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its log file.
    pub log: PathBuf,
}

/// A finished live study: its trace and totals (as a simulated cell's) and its trials.
#[derive(Clone, Debug)]
pub struct StudyOutcome {
    /// The trace and totals.
    pub cell: CellOutcome,
    /// Every trial.
    pub trials: Vec<TrialReport>,
    /// Tracking calls that failed (the study went on without them).
    pub tracker_warnings: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Running,
    Paused,
    Stopped,
    Done,
    Failed,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
            Status::Done => "done",
            Status::Failed => "failed",
        }
    }
}

#[derive(Debug)]
struct Trial {
    config: Config,
    json: Map<String, Json>,
    done: u32,
    high_water: u32,
    until: u32,
    status: Status,
    launches: u32,
    reason: Option<String>,
    /// Seconds of each recorded step (for the counterfactual compute without checkpoints).
    step_seconds: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ending {
    /// It reached its target: wait for it to exit, then terminate it at `at`.
    Exiting { at: Instant },
    /// SIGTERM sent; SIGKILL at `at`.
    Terminated { at: Instant },
    /// SIGKILL sent.
    Killed,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Busy {
    trial: u32,
    /// `None` between a journaled start and its launch (only while replaying).
    launch: Option<u64>,
    launched: f64,
    launched_at: Instant,
    step_start: f64,
    ending: Option<Ending>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot {
    Free,
    Waiting { since: u64 },
    Busy(Busy),
    Finished,
}

struct Clock {
    origin: Instant,
    offset: f64,
}

impl Clock {
    fn at(&self, instant: Instant) -> f64 {
        self.offset + instant.saturating_duration_since(self.origin).as_secs_f64()
    }
}

struct Study<'s, 'e, 't> {
    setup: &'s StudySetup<'s>,
    executor: &'e mut dyn Executor,
    tracker: Option<&'t mut dyn Tracker>,
    journal: Journal,
    journal_path: PathBuf,
    clock: Clock,
    slots: Vec<Slot>,
    waiting: usize,
    events: u64,
    next_launch: u64,
    trials: Vec<Trial>,
    trace: Trace,
    compute: f64,
    restarts: f64,
    full_evaluations: u64,
    failures: u64,
    consecutive_failures: u32,
    refused: Option<StopReason>,
    /// Whether the wall-clock budget has ended the running trials.
    wallclock_cut: bool,
    /// Whether every process is being ended (interrupt, or too many failures): nothing new starts.
    ending_all: bool,
    replaying: bool,
    tracker_warnings: Vec<String>,
}

/// Runs (or, with a journal in `setup.dir`, resumes) a live study of `scheduler` on `executor`.
/// `rng` must be the strategy's stream, as for a simulated cell; `interrupt` ends the study
/// cleanly when set (Ctrl-C).
pub fn run_study(
    setup: &StudySetup<'_>,
    scheduler: &mut dyn Scheduler,
    rng: &mut Rng,
    executor: &mut dyn Executor,
    tracker: Option<&mut dyn Tracker>,
    interrupt: &AtomicBool,
) -> Result<StudyOutcome, StudyError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |error| StudyError::Io { path, error }
    };
    std::fs::create_dir_all(setup.dir.join("trials")).map_err(io(&setup.dir.join("trials")))?;
    let journal_path = setup.dir.join("journal.jsonl");
    let records = Journal::read(&journal_path)?;
    let journal = Journal::open(&journal_path)?;
    let slots = executor.slots();
    let mut study = Study {
        setup,
        executor,
        tracker,
        journal,
        journal_path,
        clock: Clock { origin: Instant::now(), offset: 0.0 },
        slots: vec![Slot::Free; slots],
        waiting: 0,
        events: 0,
        next_launch: 0,
        trials: Vec::new(),
        trace: Trace::with_capacity(setup.objectives.to_vec(), 1024),
        compute: 0.0,
        restarts: 0.0,
        full_evaluations: 0,
        failures: 0,
        consecutive_failures: 0,
        refused: None,
        wallclock_cut: false,
        ending_all: false,
        replaying: true,
        tracker_warnings: Vec::new(),
    };
    if let Some(stop) = study.replay(&records, scheduler, rng)? {
        return Ok(study.finish(stop, scheduler));
    }
    study.replaying = false;
    study.continue_after_replay(&records, scheduler, rng)?;
    let stop = study.event_loop(scheduler, rng, interrupt)?;
    // Trials left paused at a rung when the study ends were stopped early, for good.
    if let Some(tracker) = study.tracker.as_deref_mut() {
        for (id, trial) in study.trials.iter().enumerate() {
            if trial.status == Status::Paused
                && let Err(e) = tracker.trial_ended(id as u32, "KILLED")
            {
                study.tracker_warnings.push(e);
            }
        }
    }
    let now = study.now();
    study.journal.append(&Record::End { now, stop_reason: stop.as_str().to_owned() })?;
    // The study ends now, as a replay of its journal will say.
    study.clock.offset = now;
    Ok(study.finish(stop, scheduler))
}

impl Study<'_, '_, '_> {
    fn now(&self) -> f64 {
        // While replaying, time is the journal's.
        if self.replaying { self.clock.offset } else { self.clock.at(Instant::now()) }
    }

    fn trial_dir(&self, trial: u32) -> PathBuf {
        self.setup.dir.join("trials").join(trial.to_string())
    }

    fn log_path(&self, trial: u32) -> PathBuf {
        self.trial_dir(trial).join("log.txt")
    }

    fn mismatch(&self, message: String) -> StudyError {
        StudyError::Mismatch { path: self.journal_path.clone(), message }
    }

    fn record(&mut self, record: Record) -> Result<(), StudyError> {
        if !self.replaying {
            self.journal.append(&record)?;
        }
        Ok(())
    }

    fn may_dispatch(&mut self) -> bool {
        let budget = self.setup.budget;
        if budget.full_evaluations.is_some_and(|n| self.full_evaluations >= n) {
            self.refused = Some(StopReason::FullEvaluations);
        } else if budget.compute_seconds.is_some_and(|b| self.compute_committed() >= b) {
            self.refused = Some(StopReason::Compute);
        } else if budget.wallclock_seconds.is_some_and(|d| self.now() >= d) && !self.replaying {
            self.refused = Some(StopReason::Wallclock);
        }
        self.refused.is_none()
    }

    /// Compute spent so far, running processes included up to now.
    fn compute_committed(&self) -> f64 {
        let now = self.now();
        let running: f64 =
            self.slots.iter().filter_map(|s| if let Slot::Busy(b) = s { Some((now - b.launched).max(0.0)) } else { None }).sum();
        self.compute + if self.replaying { 0.0 } else { running }
    }

    /// Replays the journal; `Some(reason)` if the study had already ended.
    fn replay(&mut self, records: &[Record], scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<Option<StopReason>, StudyError> {
        let mut last_time = 0.0f64;
        for record in records {
            match record {
                Record::Ask { worker, now, next_trial, answer } => {
                    last_time = last_time.max(*now);
                    self.clock.offset = *now;
                    let w = *worker as usize;
                    if w >= self.slots.len() {
                        return Err(self.mismatch(format!("worker {w} does not exist with {} workers", self.slots.len())));
                    }
                    if *next_trial as usize != self.trials.len() {
                        return Err(self.mismatch(format!("trial {next_trial} is next in the journal, {} here", self.trials.len())));
                    }
                    let asked = self.ask(w, scheduler, rng)?;
                    if asked != *answer {
                        return Err(self
                            .mismatch(format!("worker {w} at {now:.3} s: the journal says {answer:?}, the strategy now says {asked:?}")));
                    }
                }
                Record::Launch { trial, worker, launch, now, start_step, .. } => {
                    last_time = last_time.max(*now);
                    self.next_launch = self.next_launch.max(launch + 1);
                    let launched = Busy {
                        trial: *trial,
                        launch: Some(*launch),
                        launched: *now,
                        launched_at: Instant::now(),
                        step_start: *now,
                        ending: None,
                    };
                    match self.slots.get_mut(*worker as usize) {
                        // A relaunch after an earlier resume, on the slot its exit freed.
                        Some(slot @ Slot::Free) => *slot = Slot::Busy(launched),
                        Some(Slot::Busy(busy)) if busy.trial == *trial => *busy = launched,
                        _ => {
                            return Err(
                                self.mismatch(format!("launch {launch} of trial {trial} on worker {worker}, which is not running it"))
                            );
                        }
                    }
                    if let Some(t) = self.trials.get_mut(*trial as usize) {
                        t.launches += 1;
                        t.done = *start_step;
                    }
                }
                Record::Step { trial, worker, step, start, end, metrics, decision, .. } => {
                    last_time = last_time.max(*end);
                    self.clock.offset = *end;
                    let outcome = self.result(*trial, *worker, *step, *start, *end, metrics, &[], Some(decision), scheduler)?;
                    if outcome.as_str() != decision {
                        return Err(self.mismatch(format!(
                            "trial {trial} step {step}: the journal says {decision}, the strategy now says {}",
                            outcome.as_str()
                        )));
                    }
                }
                Record::Fail { trial, worker, step, start, end, status, metrics, reason } => {
                    last_time = last_time.max(*end);
                    self.clock.offset = *end;
                    let values: Vec<f64> = metrics.iter().map(|m| m.unwrap_or(f64::NAN)).collect();
                    let status = if status == "diverged" { EpochStatus::Diverged } else { EpochStatus::Failed };
                    self.fail(*trial, *worker, *step, *start, *end, status, &values, reason.clone(), scheduler)?;
                }
                Record::Exit { launch, now, .. } => {
                    last_time = last_time.max(*now);
                    if let Some(w) = self.slot_of_launch(*launch) {
                        self.exited(w, *now);
                    }
                }
                Record::End { now, stop_reason } => {
                    self.clock.offset = *now;
                    let reason = [
                        StopReason::Wallclock,
                        StopReason::Compute,
                        StopReason::FullEvaluations,
                        StopReason::StrategyFinished,
                        StopReason::Stalled,
                    ]
                    .into_iter()
                    .find(|r| r.as_str() == stop_reason)
                    .unwrap_or(StopReason::StrategyFinished);
                    return Ok(Some(reason));
                }
            }
        }
        self.clock = Clock { origin: Instant::now(), offset: last_time };
        Ok(None)
    }

    /// After a replay: processes that may still run from before are ended, trials that were
    /// running are relaunched from their last recorded step, and free slots are assigned.
    fn continue_after_replay(&mut self, records: &[Record], scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<(), StudyError> {
        let exited: std::collections::HashSet<u64> =
            records.iter().filter_map(|r| if let Record::Exit { launch, .. } = r { Some(*launch) } else { None }).collect();
        for record in records {
            if let Record::Launch { launch, trial, handle: Some(handle), .. } = record
                && !exited.contains(launch)
            {
                crate::orphans::end(handle, &self.trial_dir(*trial).join("checkpoint"));
            }
        }
        // Every process of the previous session is gone now: journal their ends and free their
        // slots. A trial may hold two slots, its old process still ending and its resume waiting
        // for that (see `assign`): the later one is relaunched.
        let now = self.now();
        let mut relaunch: Vec<(usize, u32)> = Vec::new();
        for w in 0..self.slots.len() {
            let Slot::Busy(busy) = self.slots[w] else { continue };
            let superseded = busy.launch.is_some()
                && self.slots.iter().enumerate().any(|(v, s)| {
                    v != w && matches!(s, Slot::Busy(o) if o.trial == busy.trial && (o.launch.is_none() || o.launch > busy.launch))
                });
            if let Some(launch) = busy.launch {
                self.record(Record::Exit { launch, now, code: None })?;
            }
            self.exited(w, now);
            if !superseded && self.trials[busy.trial as usize].status == Status::Running {
                relaunch.push((w, busy.trial));
            }
        }
        // Trials that were running when the study was interrupted (their processes ended and
        // their slots freed) go back on free slots: the strategy believes they run.
        let taken: Vec<u32> = relaunch.iter().map(|&(_, t)| t).collect();
        let mut orphaned: std::collections::VecDeque<u32> =
            (0..self.trials.len() as u32).filter(|t| self.trials[*t as usize].status == Status::Running && !taken.contains(t)).collect();
        for w in 0..self.slots.len() {
            if self.slots[w] == Slot::Free
                && !relaunch.iter().any(|&(v, _)| v == w)
                && let Some(trial) = orphaned.pop_front()
            {
                relaunch.push((w, trial));
            }
        }
        for (w, trial) in relaunch {
            let start_step = self.trials[trial as usize].done;
            self.launch(w, trial, start_step)?;
        }
        for w in 0..self.slots.len() {
            if self.slots[w] == Slot::Free {
                self.assign(w, scheduler, rng)?;
            }
        }
        if self.waiting > 0 {
            self.wake_waiting(scheduler, rng)?;
        }
        Ok(())
    }

    fn slot_of_launch(&self, launch: u64) -> Option<usize> {
        self.slots.iter().position(|s| matches!(s, Slot::Busy(b) if b.launch == Some(launch)))
    }

    /// Asks the scheduler about free worker `w`, journals and applies the answer (launching
    /// unless replaying).
    fn ask(&mut self, w: usize, scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<Asked, StudyError> {
        if matches!(self.slots[w], Slot::Waiting { .. }) {
            self.waiting -= 1;
        }
        let now = self.now();
        let request = WorkerRequest { now, worker: w as u32, next_trial: self.trials.len() as u32 };
        let answer = match scheduler.on_free_worker(&request, rng) {
            Action::Start { config, until } => {
                self.check_target(until)?;
                let json = config.to_json(self.setup.space);
                let id = self.trials.len() as u32;
                self.trials.push(Trial {
                    config,
                    json: json.clone(),
                    done: 0,
                    high_water: 0,
                    until,
                    status: Status::Running,
                    launches: 0,
                    reason: None,
                    step_seconds: Vec::new(),
                });
                self.slots[w] =
                    Slot::Busy(Busy { trial: id, launch: None, launched: now, launched_at: Instant::now(), step_start: now, ending: None });
                Asked::Start { config: json, until }
            }
            Action::Resume { trial, until } => {
                self.check_target(until)?;
                let checkpointing = self.setup.checkpointing;
                let state = self
                    .trials
                    .get_mut(trial as usize)
                    .ok_or_else(|| StudyError::Scheduler(format!("asked to resume trial {trial}, which does not exist")))?;
                if state.status != Status::Paused {
                    return Err(StudyError::Scheduler(format!("asked to resume trial {trial}, which is {}", state.status.label())));
                }
                if checkpointing {
                    if until <= state.done {
                        return Err(StudyError::Scheduler(format!("asked to resume trial {trial} until {until}, which it has reached")));
                    }
                    self.restarts += state.step_seconds.iter().take(state.done as usize).sum::<f64>();
                } else {
                    state.done = 0;
                }
                state.until = until;
                state.status = Status::Running;
                self.slots[w] =
                    Slot::Busy(Busy { trial, launch: None, launched: now, launched_at: Instant::now(), step_start: now, ending: None });
                Asked::Resume { trial, until }
            }
            Action::Exploit { .. } => {
                return Err(StudyError::Scheduler(
                    "asked to copy a trial's checkpoint into a new trial (population-based training), which live studies do not support yet; run PBT in the simulator".into(),
                ));
            }
            Action::Wait => {
                self.slots[w] = Slot::Waiting { since: self.events };
                self.waiting += 1;
                Asked::Wait
            }
            Action::Finish => {
                self.slots[w] = Slot::Finished;
                Asked::Finish
            }
        };
        self.record(Record::Ask { worker: w as u32, now, next_trial: request.next_trial, answer: answer.clone() })?;
        Ok(answer)
    }

    fn check_target(&self, until: u32) -> Result<(), StudyError> {
        if until == 0 || until > self.setup.fidelity.max {
            return Err(StudyError::Scheduler(format!("asked to train until {until}, outside 1..={}", self.setup.fidelity.max)));
        }
        Ok(())
    }

    /// Asks about free worker `w` and starts what the scheduler answers.
    fn assign(&mut self, w: usize, scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<(), StudyError> {
        if !self.may_dispatch() {
            if matches!(self.slots[w], Slot::Waiting { .. }) {
                self.waiting -= 1;
            }
            self.slots[w] = Slot::Finished;
            return Ok(());
        }
        match self.ask(w, scheduler, rng)? {
            Asked::Start { .. } => {
                let Slot::Busy(busy) = self.slots[w] else { return Ok(()) };
                self.launch(w, busy.trial, 0)
            }
            Asked::Resume { trial, .. } => {
                // Its previous process may still be ending (it was paused a moment ago): the
                // resume then waits for that exit, so two processes never share a checkpoint.
                if self.slots.iter().enumerate().any(|(v, s)| v != w && matches!(s, Slot::Busy(b) if b.trial == trial)) {
                    return Ok(());
                }
                let start_step = self.trials[trial as usize].done;
                self.launch(w, trial, start_step)
            }
            Asked::Wait | Asked::Finish => Ok(()),
        }
    }

    /// Starts a process for `trial` on slot `w`, from step `start_step`.
    fn launch(&mut self, w: usize, trial: u32, start_step: u32) -> Result<(), StudyError> {
        let trial_dir = self.trial_dir(trial);
        let checkpoint_dir = trial_dir.join("checkpoint");
        if start_step == 0 {
            // A start from step 0 (a first launch, or a resume without checkpointing) must not
            // find an old checkpoint.
            let _ = std::fs::remove_dir_all(&checkpoint_dir);
        }
        std::fs::create_dir_all(&checkpoint_dir).map_err(|error| StudyError::Io { path: checkpoint_dir.clone(), error })?;
        let state = &self.trials[trial as usize];
        let seed = config_seed(self.setup.seed, &state.json);
        let until = state.until;
        let values = LaunchValues { trial, checkpoint_dir: &checkpoint_dir, start_step, until, seed };
        let argv = protocol::substitute(self.setup.command, self.setup.space, &state.config, &values);
        let mut env = vec![
            (protocol::ENV_CONFIG.to_owned(), Json::Object(state.json.clone()).to_string()),
            (protocol::ENV_TRIAL.to_owned(), trial.to_string()),
            (protocol::ENV_CHECKPOINT_DIR.to_owned(), checkpoint_dir.display().to_string()),
            (protocol::ENV_START_STEP.to_owned(), start_step.to_string()),
            (protocol::ENV_UNTIL.to_owned(), until.to_string()),
            (protocol::ENV_SEED.to_owned(), seed.to_string()),
            (protocol::ENV_MAX_STEP.to_owned(), self.setup.fidelity.max.to_string()),
        ];
        env.extend(self.executor.slot_env(w));
        let launch = self.next_launch;
        self.next_launch += 1;
        let job = Job {
            launch,
            argv,
            env,
            workdir: self.setup.workdir.to_owned(),
            log: self.log_path(trial),
            trial_dir,
            gpus: self.setup.gpus_per_trial,
        };
        self.executor.launch(w, &job)?;
        let now = self.now();
        let handle = self.executor.handle(launch);
        self.record(Record::Launch { trial, worker: w as u32, launch, now, start_step, until, handle })?;
        let state = &mut self.trials[trial as usize];
        state.launches += 1;
        state.done = start_step;
        if state.launches == 1
            && let Some(tracker) = self.tracker.as_deref_mut()
            && let Err(e) = tracker.trial_started(trial, &state.json)
        {
            self.tracker_warnings.push(e);
        }
        self.slots[w] =
            Slot::Busy(Busy { trial, launch: Some(launch), launched: now, launched_at: Instant::now(), step_start: now, ending: None });
        Ok(())
    }

    fn event_loop(&mut self, scheduler: &mut dyn Scheduler, rng: &mut Rng, interrupt: &AtomicBool) -> Result<StopReason, StudyError> {
        let mut interrupted = false;
        loop {
            if interrupt.load(Ordering::Relaxed) && !interrupted {
                interrupted = true;
                self.end_all();
            }
            if !self.slots.iter().any(|s| matches!(s, Slot::Busy(_))) {
                break;
            }
            let timeout = self
                .next_deadline()
                .map_or(Duration::from_millis(200), |d| d.saturating_duration_since(Instant::now()))
                .min(Duration::from_millis(200));
            if let Some(event) = self.executor.next_event(timeout)? {
                let Some(w) = self.slot_of_launch(event.launch) else { continue };
                let at = self.clock.at(event.at);
                match event.kind {
                    EventKind::Started => {
                        // Queue time is not training time: the time limit, the first step's
                        // cost and the compute count from here.
                        if let Slot::Busy(busy) = &mut self.slots[w]
                            && busy.step_start == busy.launched
                        {
                            busy.launched = at;
                            busy.launched_at = event.at;
                            busy.step_start = at;
                        }
                    }
                    EventKind::Line(line) => self.on_line(w, &line, at, scheduler)?,
                    EventKind::Exited(code) => {
                        self.on_exit(w, code, at, scheduler)?;
                        if !interrupted {
                            self.assign(w, scheduler, rng)?;
                        }
                    }
                }
            }
            self.check_deadlines(scheduler)?;
            if self.waiting > 0 && !interrupted {
                self.wake_waiting(scheduler, rng)?;
            }
        }
        if interrupted {
            return Err(StudyError::Interrupted { journal: self.journal_path.clone() });
        }
        Ok(match self.refused {
            Some(reason) => reason,
            None if self.waiting > 0 => StopReason::Stalled,
            None => StopReason::StrategyFinished,
        })
    }

    fn next_deadline(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |at: Instant| next = Some(next.map_or(at, |n| n.min(at)));
        for slot in &self.slots {
            if let Slot::Busy(busy) = slot {
                match busy.ending {
                    Some(Ending::Exiting { at } | Ending::Terminated { at }) => consider(at),
                    Some(Ending::Killed) => {}
                    None => {
                        if let Some(limit) = self.setup.time_limit {
                            consider(busy.launched_at + limit);
                        }
                    }
                }
            }
        }
        next
    }

    /// Ends every running process (interrupt): SIGTERM now, SIGKILL after the grace period.
    fn end_all(&mut self) {
        self.ending_all = true;
        for w in 0..self.slots.len() {
            match self.slots[w] {
                // A resume still waiting for its trial's previous process: nothing to end.
                Slot::Busy(busy) if busy.launch.is_none() => self.slots[w] = Slot::Free,
                Slot::Busy(busy) if !matches!(busy.ending, Some(Ending::Terminated { .. } | Ending::Killed)) => self.terminate(w),
                _ => {}
            }
        }
    }

    fn terminate(&mut self, w: usize) {
        let Slot::Busy(busy) = &mut self.slots[w] else { return };
        if let Some(launch) = busy.launch {
            // A process that is already gone cannot be signalled; its exit event frees the slot.
            let _ = self.executor.signal(launch, Signal::Terminate);
        }
        busy.ending = Some(Ending::Terminated { at: Instant::now() + self.setup.grace });
    }

    fn check_deadlines(&mut self, scheduler: &mut dyn Scheduler) -> Result<(), StudyError> {
        let instant = Instant::now();
        let now = self.clock.at(instant);
        if let Some(limit) = self.setup.budget.wallclock_seconds
            && now >= limit
            && !self.wallclock_cut
        {
            self.wallclock_cut = true;
            self.refused = self.refused.or(Some(StopReason::Wallclock));
            for w in 0..self.slots.len() {
                if let Slot::Busy(busy) = self.slots[w]
                    && busy.ending.is_none()
                {
                    // The step in progress is cut off and never observed, as in the simulator.
                    self.trials[busy.trial as usize].status = Status::Paused;
                    self.terminate(w);
                }
            }
        }
        for w in 0..self.slots.len() {
            let Slot::Busy(busy) = self.slots[w] else { continue };
            match busy.ending {
                None => {
                    if let Some(limit) = self.setup.time_limit
                        && instant >= busy.launched_at + limit
                    {
                        let step = self.trials[busy.trial as usize].done + 1;
                        let reason = format!("exceeded its time limit of {} s", limit.as_secs_f64());
                        let nan = vec![f64::NAN; self.setup.objectives.len()];
                        self.fail(busy.trial, w as u32, step, busy.step_start, now, EpochStatus::Failed, &nan, reason, scheduler)?;
                        self.terminate(w);
                    }
                }
                Some(Ending::Exiting { at }) if instant >= at => self.terminate(w),
                Some(Ending::Terminated { at }) if instant >= at => {
                    if let Some(launch) = busy.launch {
                        let _ = self.executor.signal(launch, Signal::Kill);
                    }
                    if let Slot::Busy(b) = &mut self.slots[w] {
                        b.ending = Some(Ending::Killed);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn on_line(&mut self, w: usize, line: &str, at: f64, scheduler: &mut dyn Scheduler) -> Result<(), StudyError> {
        let Slot::Busy(busy) = self.slots[w] else { return Ok(()) };
        if busy.ending.is_some() {
            // The trial's end is decided; what it prints meanwhile is not observed.
            return Ok(());
        }
        let trial = busy.trial;
        let state = &self.trials[trial as usize];
        let expected = state.done + 1;
        let nan = vec![f64::NAN; self.setup.objectives.len()];
        match protocol::parse_line(line, self.setup.objectives) {
            Ok(Line::Log) => Ok(()),
            Err(message) => {
                let shown: String = line.chars().take(200).collect();
                let reason = format!("malformed step report: {message}: {shown}");
                self.fail(trial, w as u32, expected, busy.step_start, at, EpochStatus::Failed, &nan, reason, scheduler)?;
                self.terminate(w);
                Ok(())
            }
            Ok(Line::Step(report)) if report.step < expected => Ok(()),
            Ok(Line::Step(report)) if report.step > expected || report.step > state.until => {
                let reason = format!(
                    "reported step {} where step {expected} was due (steps must come in order, from HPOSIM_START_STEP + 1 to HPOSIM_UNTIL)",
                    report.step
                );
                self.fail(trial, w as u32, expected, busy.step_start, at, EpochStatus::Failed, &nan, reason, scheduler)?;
                self.terminate(w);
                Ok(())
            }
            Ok(Line::Step(report)) => {
                if !report.metrics.iter().all(|m| m.is_finite()) {
                    let reason = format!("step {} reported non-finite metrics {:?}", report.step, report.metrics);
                    self.fail(
                        trial,
                        w as u32,
                        report.step,
                        busy.step_start,
                        at,
                        EpochStatus::Diverged,
                        &report.metrics,
                        reason,
                        scheduler,
                    )?;
                    self.terminate(w);
                    return Ok(());
                }
                let outcome =
                    self.result(trial, w as u32, report.step, busy.step_start, at, &report.metrics, &report.extra, None, scheduler)?;
                if let Some(tracker) = self.tracker.as_deref_mut()
                    && let Err(e) =
                        tracker.step(trial, report.step, &report.metrics, &report.extra, outcome.as_str(), scheduler.bracket_of(trial))
                {
                    self.tracker_warnings.push(e);
                }
                match outcome {
                    TrialOutcome::Continue => {}
                    TrialOutcome::Done => self.set_ending(w, Ending::Exiting { at: Instant::now() + self.setup.grace }),
                    TrialOutcome::Pause if report.step >= self.trials[trial as usize].until => {
                        self.set_ending(w, Ending::Exiting { at: Instant::now() + self.setup.grace })
                    }
                    TrialOutcome::Pause | TrialOutcome::Stop | TrialOutcome::Cut => self.terminate(w),
                }
                Ok(())
            }
        }
    }

    fn set_ending(&mut self, w: usize, ending: Ending) {
        if let Slot::Busy(busy) = &mut self.slots[w] {
            busy.ending = Some(ending);
        }
    }

    /// Records a step with finite metrics, asks the scheduler and journals its decision.
    #[allow(clippy::too_many_arguments)]
    fn result(
        &mut self,
        trial: u32,
        worker: u32,
        step: u32,
        start: f64,
        end: f64,
        metrics: &[f64],
        extra: &[(String, f64)],
        journaled: Option<&str>,
        scheduler: &mut dyn Scheduler,
    ) -> Result<TrialOutcome, StudyError> {
        let max = self.setup.fidelity.max;
        let state = self.trials.get(trial as usize).ok_or_else(|| self.mismatch(format!("trial {trial} was never started")))?;
        if step != state.done + 1 {
            return Err(self.mismatch(format!("trial {trial} reports step {step} after step {}", state.done)));
        }
        self.events += 1;
        self.consecutive_failures = 0;
        if step >= max {
            self.full_evaluations += 1;
        }
        let observation = Observation { trial, config: &state.config, fidelity: step, metrics, time: end };
        let decision = scheduler.on_result(&observation);
        let until = state.until;
        let outcome = if step >= max {
            TrialOutcome::Done
        } else {
            match decision {
                Decision::Stop => TrialOutcome::Stop,
                Decision::Pause => TrialOutcome::Pause,
                Decision::Continue if step >= until => TrialOutcome::Pause,
                Decision::Continue => TrialOutcome::Continue,
            }
        };
        // The budget is read from the clock and the running processes, which a replay cannot
        // see again: there the journal says whether the step was cut.
        let cut = match journaled {
            Some(decision) => decision == TrialOutcome::Cut.as_str(),
            None => !self.may_dispatch(),
        };
        let outcome = if outcome == TrialOutcome::Continue && cut { TrialOutcome::Cut } else { outcome };
        self.record(Record::Step {
            trial,
            worker,
            step,
            start,
            end,
            metrics: metrics.to_vec(),
            extra: extra.to_vec(),
            decision: outcome.as_str().to_owned(),
        })?;
        self.trace.push(Row { trial, worker, epoch: step, start, end, status: EpochStatus::Ok, outcome }, metrics);
        let state = &mut self.trials[trial as usize];
        state.done = step;
        let seconds = (end - start).max(0.0);
        if step <= state.high_water {
            self.restarts += seconds;
        }
        state.high_water = state.high_water.max(step);
        if state.step_seconds.len() < step as usize {
            state.step_seconds.resize(step as usize, 0.0);
        }
        state.step_seconds[step as usize - 1] = seconds;
        state.status = match outcome {
            TrialOutcome::Continue => Status::Running,
            TrialOutcome::Pause | TrialOutcome::Cut => Status::Paused,
            TrialOutcome::Stop => Status::Stopped,
            TrialOutcome::Done => Status::Done,
        };
        if let Slot::Busy(busy) = &mut self.slots[worker as usize] {
            busy.step_start = end;
        }
        Ok(outcome)
    }

    /// Marks `trial` failed at `step`, tells the scheduler and journals it.
    #[allow(clippy::too_many_arguments)]
    fn fail(
        &mut self,
        trial: u32,
        worker: u32,
        step: u32,
        start: f64,
        end: f64,
        status: EpochStatus,
        metrics: &[f64],
        reason: String,
        scheduler: &mut dyn Scheduler,
    ) -> Result<(), StudyError> {
        let state = self.trials.get(trial as usize).ok_or_else(|| self.mismatch(format!("trial {trial} was never started")))?;
        self.events += 1;
        self.failures += 1;
        self.consecutive_failures += 1;
        scheduler.on_failure(&Observation { trial, config: &state.config, fidelity: step, metrics, time: end });
        self.record(Record::Fail {
            trial,
            worker,
            step,
            start,
            end,
            status: status.as_str().to_owned(),
            metrics: metrics.iter().map(|m| m.is_finite().then_some(*m)).collect(),
            reason: reason.clone(),
        })?;
        self.trace.push(Row { trial, worker, epoch: step, start, end, status, outcome: TrialOutcome::Stop }, metrics);
        let state = &mut self.trials[trial as usize];
        state.status = Status::Failed;
        state.reason = Some(reason.clone());
        if !self.replaying {
            if let Some(tracker) = self.tracker.as_deref_mut()
                && let Err(e) = tracker.trial_ended(trial, "FAILED")
            {
                self.tracker_warnings.push(e);
            }
            if self.consecutive_failures >= MAX_CONSECUTIVE_FAILURES {
                self.end_all();
                return Err(StudyError::TooManyFailures { count: self.consecutive_failures, trial, reason, log: self.log_path(trial) });
            }
        }
        Ok(())
    }

    fn on_exit(&mut self, w: usize, code: Option<i32>, at: f64, scheduler: &mut dyn Scheduler) -> Result<(), StudyError> {
        let Slot::Busy(busy) = self.slots[w] else { return Ok(()) };
        if let Some(launch) = busy.launch {
            self.record(Record::Exit { launch, now: at, code })?;
        }
        let trial = busy.trial;
        if busy.ending.is_none() {
            let state = &self.trials[trial as usize];
            let how = match code {
                Some(code) => format!("exited with status {code}"),
                None => "was killed by a signal".to_owned(),
            };
            let reason = format!("{how} after step {} of {}", state.done, state.until);
            let step = state.done + 1;
            let nan = vec![f64::NAN; self.setup.objectives.len()];
            self.fail(trial, w as u32, step, busy.step_start, at, EpochStatus::Failed, &nan, reason, scheduler)?;
        } else if let Some(tracker) = self.tracker.as_deref_mut() {
            let status = match self.trials[trial as usize].status {
                Status::Done => Some("FINISHED"),
                Status::Stopped => Some("KILLED"),
                _ => None,
            };
            if let Some(status) = status
                && let Err(e) = tracker.trial_ended(trial, status)
            {
                self.tracker_warnings.push(e);
            }
        }
        self.exited(w, at);
        if !self.ending_all
            && let Some(v) = self.slots.iter().position(|s| matches!(s, Slot::Busy(b) if b.trial == trial && b.launch.is_none()))
        {
            let start_step = self.trials[trial as usize].done;
            self.launch(v, trial, start_step)?;
        }
        Ok(())
    }

    fn exited(&mut self, w: usize, at: f64) {
        if let Slot::Busy(busy) = self.slots[w] {
            if busy.launch.is_some() {
                self.compute += (at - busy.launched).max(0.0);
            }
            self.slots[w] = Slot::Free;
        }
    }

    fn wake_waiting(&mut self, scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<(), StudyError> {
        for w in 0..self.slots.len() {
            if matches!(self.slots[w], Slot::Waiting { since } if since < self.events) {
                self.assign(w, scheduler, rng)?;
                if matches!(self.slots[w], Slot::Waiting { .. }) {
                    break;
                }
            }
        }
        Ok(())
    }

    fn finish(self, stop_reason: StopReason, scheduler: &dyn Scheduler) -> StudyOutcome {
        let wallclock = self.clock.offset;
        let max = f64::from(self.setup.fidelity.max);
        // Without early termination every trial would have trained to full fidelity: its mean
        // step time times the full fidelity (an extrapolation; live steps vary).
        let full_training: f64 = self
            .trials
            .iter()
            .filter(|t| !t.step_seconds.is_empty())
            .map(|t| t.step_seconds.iter().sum::<f64>() / t.step_seconds.len() as f64 * max)
            .sum();
        let (with, without) = if self.setup.checkpointing {
            (self.compute, self.compute + self.restarts)
        } else {
            ((self.compute - self.restarts).max(0.0), self.compute)
        };
        let stats = CellStats {
            trials: self.trials.len() as u64,
            epochs: self.trace.status.iter().filter(|s| **s == EpochStatus::Ok).count() as u64,
            full_evaluations: self.full_evaluations,
            diverged_trials: self.failures,
            compute_seconds: self.compute,
            wallclock_seconds: wallclock,
            idle_seconds: (self.slots.len() as f64 * wallclock - self.compute).max(0.0),
            full_training_seconds: full_training,
            compute_with_checkpointing_seconds: with,
            compute_without_checkpointing_seconds: without,
            stop_reason,
            sampler_warnings: scheduler.sampler_warnings(),
        };
        let trials = self
            .trials
            .iter()
            .enumerate()
            .map(|(i, t)| TrialReport {
                trial: i as u32,
                config: t.json.clone(),
                status: t.status.label(),
                steps: t.done,
                launches: t.launches,
                reason: t.reason.clone(),
                log: self.log_path(i as u32),
            })
            .collect();
        let mut trace = self.trace;
        trace.configs = self.trials.into_iter().map(|t| t.config).collect();
        StudyOutcome { cell: CellOutcome { trace, stats }, trials, tracker_warnings: self.tracker_warnings }
    }
}

/// The seed a configuration trains with: a stable hash of the experiment seed and the
/// configuration's JSON, so every run of a configuration gets the same one.
pub fn config_seed(experiment_seed: u64, config: &Map<String, Json>) -> u64 {
    // serde_json's Map keeps keys sorted, so equal configurations give equal text.
    let text = Json::Object(config.clone()).to_string();
    stable_hash(experiment_seed, &[b"config-seed", text.as_bytes()]) >> 1
}

//! A live study: the trial book ([`hposim_book`]) that the simulator drives, driven here by real
//! processes and a real clock.
//!
//! The book does what the simulator does: whenever a worker slot is free it asks the
//! [`Scheduler`] what to do, every step report goes to it, and its outcome keeps the process
//! running or frees the slot, which is assigned again at once. What this module adds is only
//! what real processes need: launching them ([`crate::executor`]), ending them (SIGTERM, then
//! SIGKILL after the grace period; a trial that reaches its target step exits by itself), a new
//! launch on a slot waiting for the slot's previous process to exit (and a resumed trial for
//! its own previous process, so that two processes never share a checkpoint), and the
//! protocol's failures: a trial whose process exits early, prints a malformed report or runs
//! past its time limit is marked failed (its log kept) and the scheduler is told, as of a
//! diverged run; the study goes on.
//!
//! Time and compute come from the executor: its clock ([`Executor::now`]), the time each
//! process ran from launch to exit, and what a running launch has committed
//! ([`Executor::committed`]). An executor on a virtual clock that replays a benchmark
//! ([`crate::replay`]) therefore runs a study step for step as the simulator does.
//!
//! Every call to the scheduler and every result is journaled ([`crate::journal`]) before it is
//! acted on, so a study killed at any moment resumes by replaying the journal through a fresh
//! strategy built with the same seed; trials that were running are relaunched from their last
//! recorded step, with the same checkpoint directory.

use crate::executor::{EventKind, Executor, ExecutorError, Job, Signal};
use crate::journal::{Asked, Journal, JournalError, Record};
use crate::protocol::{self, LaunchValues, Line};
use crate::tracker::Tracker;
use hposim_book::{Answer, BookError, BookSettings, Cut, Launch, Slot, TrialBook};
use hposim_core::rng::stable_hash;
use hposim_core::{
    Budget, CellOutcome, CellStats, EpochStatus, Fidelity, Objective, Rng, SearchSpace, StopReason, TrialId, TrialOutcome, WorkerRequest,
};
use hposim_schedulers::Scheduler;
use serde_json::{Map, Value as Json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

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
    #[error(transparent)]
    Book(#[from] BookError),
    /// The strategy asks for what the executor cannot do.
    #[error("{0}")]
    Unsupported(String),
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

/// How a process that is no longer wanted is being ended.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ending {
    /// It reached its target: wait for it to exit, then terminate it at `at`.
    Exiting { at: f64 },
    /// SIGTERM sent; SIGKILL at `at`.
    Terminated { at: f64 },
    /// SIGKILL sent.
    Killed,
}

/// A process on a worker slot (study seconds throughout).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Process {
    launch: u64,
    trial: TrialId,
    launched: f64,
    step_start: f64,
    ending: Option<Ending>,
    /// When it last reported a step (`None` before its first report).
    last_report: Option<f64>,
    /// Its last report ended its training (the book paused, stopped or finished the trial):
    /// what follows until it exits is its shutdown.
    trained: bool,
}

impl Process {
    /// It reported a step at `at`, after which its trial goes on as `outcome` says.
    fn reported(&mut self, at: f64, outcome: TrialOutcome) {
        self.step_start = at;
        self.last_report = Some(at);
        self.trained = outcome != TrialOutcome::Continue;
    }
}

/// What the study keeps per trial beside the book.
#[derive(Debug, Default)]
struct TrialInfo {
    json: Map<String, Json>,
    launches: u32,
    reason: Option<String>,
    /// Seconds of each recorded step, by step (for what a restart repeats, and the
    /// extrapolated full training).
    step_seconds: Vec<f64>,
}

/// The study's clock: study seconds are `offset + (executor seconds − origin)`, `offset` being
/// where a resumed study's journal ended.
#[derive(Clone, Copy, Debug)]
struct Clock {
    offset: f64,
    origin: f64,
}

/// The live side of a study: processes, journal and clock. It is the trial book's executor.
struct Live<'s, 'e, 't> {
    setup: &'s StudySetup<'s>,
    executor: &'e mut dyn Executor,
    tracker: Option<&'t mut dyn Tracker>,
    journal: Journal,
    journal_path: PathBuf,
    clock: Clock,
    /// While replaying the journal, time is the journal's.
    replaying: bool,
    replay_now: f64,
    processes: Vec<Option<Process>>,
    /// A launch assigned to a slot that waits for a process to exit.
    queued: Vec<Option<TrialId>>,
    next_launch: u64,
    trials: Vec<TrialInfo>,
    /// Worker-seconds of launches that have exited.
    compute: f64,
    consecutive_failures: u32,
    /// Every process is being ended (interrupt, too many failures): nothing new starts.
    ending_all: bool,
    tracker_warnings: Vec<String>,
}

impl hposim_book::Executor for Live<'_, '_, '_> {
    type Error = StudyError;

    fn now(&self) -> f64 {
        if self.replaying { self.replay_now } else { self.clock.offset + (self.executor.now() - self.clock.origin) }
    }

    fn committed(&self) -> f64 {
        if self.replaying {
            return self.compute;
        }
        let now = self.executor.now();
        let running: f64 = self
            .processes
            .iter()
            .flatten()
            .map(|p| self.executor.committed(p.launch, self.clock.origin + (p.launched - self.clock.offset), now))
            .sum();
        self.compute + running
    }

    fn repeat_cost(&self, book: &TrialBook, trial: TrialId) -> f64 {
        let state = book.trial(trial);
        let seconds = &self.trials[trial as usize].step_seconds;
        seconds.iter().take(state.done as usize).skip(state.first as usize).sum()
    }

    fn asked(&mut self, book: &TrialBook, request: &WorkerRequest, answer: Answer) -> Result<(), StudyError> {
        if let Answer::Launch(Launch::Start { trial } | Launch::Exploit { trial, .. }) = answer {
            let json = book.trial(trial).config.to_json(self.setup.space);
            self.trials.push(TrialInfo { json, ..TrialInfo::default() });
        }
        let answer = self.asked_of(book, answer);
        self.record(Record::Ask { worker: request.worker, now: request.now, next_trial: request.next_trial, answer })
    }

    fn launch(&mut self, book: &TrialBook, worker: usize, launch: Launch) -> Result<(), StudyError> {
        if matches!(launch, Launch::Exploit { .. }) && !self.executor.copies_checkpoints() {
            return Err(StudyError::Unsupported(format!(
                "the strategy copies one trial's checkpoint into another (population-based training), which the {} executor cannot do yet; run it with `hposim run`",
                self.executor.name()
            )));
        }
        self.queued[worker] = Some(launch.trial());
        if !self.replaying {
            self.try_start(book, worker)?;
        }
        Ok(())
    }
}

impl Live<'_, '_, '_> {
    fn record(&mut self, record: Record) -> Result<(), StudyError> {
        if !self.replaying {
            self.journal.append(&record)?;
        }
        Ok(())
    }

    fn mismatch(&self, message: String) -> StudyError {
        StudyError::Mismatch { path: self.journal_path.clone(), message }
    }

    fn trial_dir(&self, trial: TrialId) -> PathBuf {
        self.setup.dir.join("trials").join(trial.to_string())
    }

    fn log_path(&self, trial: TrialId) -> PathBuf {
        self.trial_dir(trial).join("log.txt")
    }

    /// The journal's form of an answer.
    fn asked_of(&self, book: &TrialBook, answer: Answer) -> Asked {
        match answer {
            Answer::Launch(Launch::Start { trial }) => {
                Asked::Start { config: self.trials[trial as usize].json.clone(), until: book.trial(trial).until }
            }
            Answer::Launch(Launch::Resume { trial }) => Asked::Resume { trial, until: book.trial(trial).until },
            Answer::Launch(Launch::Exploit { trial, donor, recipient, step }) => {
                Asked::Exploit { donor, recipient, step, config: self.trials[trial as usize].json.clone(), until: book.trial(trial).until }
            }
            Answer::Wait => Asked::Wait,
            Answer::Finish => Asked::Finish,
        }
    }

    /// Study seconds on the executor's clock.
    fn executor_time(&self, study: f64) -> f64 {
        self.clock.origin + (study - self.clock.offset)
    }

    fn slot_of_launch(&self, launch: u64) -> Option<usize> {
        self.processes.iter().position(|p| p.is_some_and(|p| p.launch == launch))
    }

    /// Starts the launch queued on `worker` if nothing holds it back: the slot's previous
    /// process, or the trial's own previous process elsewhere, still ending.
    fn try_start(&mut self, book: &TrialBook, worker: usize) -> Result<(), StudyError> {
        let Some(trial) = self.queued[worker] else { return Ok(()) };
        if self.ending_all || self.processes[worker].is_some() || self.processes.iter().flatten().any(|p| p.trial == trial) {
            return Ok(());
        }
        self.queued[worker] = None;
        self.start_process(book, worker, trial)
    }

    /// Starts every queued launch that can start, in worker order.
    fn start_queued(&mut self, book: &TrialBook) -> Result<(), StudyError> {
        for worker in 0..self.queued.len() {
            self.try_start(book, worker)?;
        }
        Ok(())
    }

    /// Starts a process for `trial` on slot `worker`, from the trial's checkpoint step.
    fn start_process(&mut self, book: &TrialBook, worker: usize, trial: TrialId) -> Result<(), StudyError> {
        let state = book.trial(trial);
        let start_step = state.done;
        let copy_of = book.trace().exploits.iter().rev().find(|e| e.trial == trial && start_step == e.step).map(|e| (e.donor, e.step));
        let trial_dir = self.trial_dir(trial);
        let checkpoint_dir = trial_dir.join("checkpoint");
        if start_step == 0 {
            // A start from step 0 (a first launch, or a resume without checkpointing) must not
            // find an old checkpoint.
            let _ = std::fs::remove_dir_all(&checkpoint_dir);
        }
        std::fs::create_dir_all(&checkpoint_dir).map_err(|error| StudyError::Io { path: checkpoint_dir.clone(), error })?;
        let info = &self.trials[trial as usize];
        let seed = config_seed(self.setup.seed, &info.json);
        let until = state.until;
        let values = LaunchValues { trial, checkpoint_dir: &checkpoint_dir, start_step, until, seed };
        let argv = protocol::substitute(self.setup.command, self.setup.space, &state.config, &values);
        let mut env = vec![
            (protocol::ENV_CONFIG.to_owned(), Json::Object(info.json.clone()).to_string()),
            (protocol::ENV_TRIAL.to_owned(), trial.to_string()),
            (protocol::ENV_CHECKPOINT_DIR.to_owned(), checkpoint_dir.display().to_string()),
            (protocol::ENV_START_STEP.to_owned(), start_step.to_string()),
            (protocol::ENV_UNTIL.to_owned(), until.to_string()),
            (protocol::ENV_SEED.to_owned(), seed.to_string()),
            (protocol::ENV_MAX_STEP.to_owned(), self.setup.fidelity.max.to_string()),
        ];
        env.extend(self.executor.slot_env(worker));
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
            trial,
            config: state.config.clone(),
            start_step,
            until,
            copy_of,
        };
        self.executor.launch(worker, &job)?;
        let now = hposim_book::Executor::now(self);
        let handle = self.executor.handle(launch);
        self.record(Record::Launch { trial, worker: worker as u32, launch, now, start_step, until, handle })?;
        let info = &mut self.trials[trial as usize];
        info.launches += 1;
        if info.launches == 1
            && let Some(tracker) = self.tracker.as_deref_mut()
            && let Err(e) = tracker.trial_started(trial, &info.json)
        {
            self.tracker_warnings.push(e);
        }
        self.processes[worker] =
            Some(Process { launch, trial, launched: now, step_start: now, ending: None, last_report: None, trained: false });
        Ok(())
    }

    fn set_ending(&mut self, worker: usize, ending: Ending) {
        if let Some(process) = &mut self.processes[worker] {
            process.ending = Some(ending);
        }
    }

    /// Asks the process on `worker` to stop (SIGTERM); SIGKILL follows after the grace period.
    fn terminate(&mut self, worker: usize) {
        let at = hposim_book::Executor::now(self) + self.setup.grace.as_secs_f64();
        let Some(process) = &mut self.processes[worker] else { return };
        // A process that is already gone cannot be signalled; its exit event frees the slot.
        let _ = self.executor.signal(process.launch, Signal::Terminate);
        process.ending = Some(Ending::Terminated { at });
    }

    /// The earliest deadline of a process (study seconds).
    fn next_deadline(&self) -> Option<f64> {
        let limit = self.setup.time_limit.map(|l| l.as_secs_f64());
        self.processes
            .iter()
            .flatten()
            .filter_map(|p| match p.ending {
                Some(Ending::Exiting { at } | Ending::Terminated { at }) => Some(at),
                Some(Ending::Killed) => None,
                None => limit.map(|l| p.launched + l),
            })
            .min_by(f64::total_cmp)
    }
}

/// A study: the book and its live executor.
struct Study<'s, 'e, 't> {
    book: TrialBook,
    live: Live<'s, 'e, 't>,
    /// Whether a budget has ended the running trials.
    cut: bool,
    /// The book's result count when waiting workers were last woken.
    woken_at: u64,
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
    let trials_dir = setup.dir.join("trials");
    std::fs::create_dir_all(&trials_dir).map_err(|error| StudyError::Io { path: trials_dir, error })?;
    let journal_path = setup.dir.join("journal.jsonl");
    let records = Journal::read(&journal_path)?;
    let journal = Journal::open(&journal_path)?;
    let slots = executor.slots();
    let settings = BookSettings {
        workers: slots as u32,
        budget: setup.budget.clone(),
        checkpointing: setup.checkpointing,
        max_fidelity: setup.fidelity.max,
    };
    let live = Live {
        setup,
        executor,
        tracker,
        journal,
        journal_path,
        clock: Clock { offset: 0.0, origin: 0.0 },
        replaying: true,
        replay_now: 0.0,
        processes: vec![None; slots],
        queued: vec![None; slots],
        next_launch: 0,
        trials: Vec::new(),
        compute: 0.0,
        consecutive_failures: 0,
        ending_all: false,
        tracker_warnings: Vec::new(),
    };
    let book = TrialBook::new(settings, setup.objectives.to_vec(), 1024);
    // `u64::MAX`: after a replay, waiting workers are asked again once.
    let mut study = Study { book, live, cut: false, woken_at: u64::MAX };
    if let Some(stop) = study.replay(&records, scheduler, rng)? {
        let now = study.live.replay_now;
        return Ok(study.finish(stop, now, scheduler));
    }
    let offset = study.live.replay_now;
    study.live.clock = Clock { offset, origin: study.live.executor.now() };
    study.live.replaying = false;
    study.continue_after_replay(&records, scheduler, rng)?;
    let stop = study.event_loop(scheduler, rng, interrupt)?;
    // Trials left paused at a rung when the study ends were stopped early, for good.
    if let Some(tracker) = study.live.tracker.as_deref_mut() {
        for (id, trial) in study.book.trials().iter().enumerate() {
            if trial.status == hposim_book::TrialStatus::Paused
                && let Err(e) = tracker.trial_ended(id as u32, "KILLED")
            {
                study.live.tracker_warnings.push(e);
            }
        }
    }
    let now = hposim_book::Executor::now(&study.live);
    study.live.journal.append(&Record::End { now, stop_reason: stop.as_str().to_owned() })?;
    Ok(study.finish(stop, now, scheduler))
}

impl Study<'_, '_, '_> {
    fn now(&self) -> f64 {
        hposim_book::Executor::now(&self.live)
    }

    /// Asks about free worker `worker` (unless the study is ending) and launches the answer.
    fn assign(&mut self, worker: usize, scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<(), StudyError> {
        if self.live.ending_all {
            return Ok(());
        }
        self.book.assign(worker, &mut self.live, scheduler, rng)
    }

    /// The trial on `worker` is no longer the book's there: the worker is assigned again.
    fn release(&mut self, worker: usize, scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<(), StudyError> {
        self.book.release(worker);
        self.assign(worker, scheduler, rng)
    }

    /// Replays the journal; `Some(reason)` if the study had already ended.
    fn replay(&mut self, records: &[Record], scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<Option<StopReason>, StudyError> {
        let mut last_time = 0.0f64;
        for record in records {
            match record {
                Record::Ask { worker, now, next_trial, answer } => {
                    last_time = last_time.max(*now);
                    self.live.replay_now = *now;
                    let w = *worker as usize;
                    if w >= self.live.processes.len() {
                        return Err(self.live.mismatch(format!("worker {w} does not exist with {} workers", self.live.processes.len())));
                    }
                    if *next_trial as usize != self.book.trials().len() {
                        return Err(self
                            .live
                            .mismatch(format!("trial {next_trial} is next in the journal, {} here", self.book.trials().len())));
                    }
                    let got = self.book.ask(w, &mut self.live, scheduler, rng)?;
                    let asked = self.live.asked_of(&self.book, got);
                    if asked != *answer {
                        return Err(self
                            .live
                            .mismatch(format!("worker {w} at {now:.3} s: the journal says {answer:?}, the strategy now says {asked:?}")));
                    }
                }
                Record::Launch { trial, worker, launch, now, start_step, .. } => {
                    last_time = last_time.max(*now);
                    self.live.next_launch = self.live.next_launch.max(launch + 1);
                    let w = *worker as usize;
                    let running = self.book.trials().get(*trial as usize).map(|t| t.done);
                    if w >= self.live.processes.len() || self.book.slot(w) != (Slot::Busy { trial: *trial }) || running != Some(*start_step)
                    {
                        return Err(self
                            .live
                            .mismatch(format!("launch {launch} of trial {trial} on worker {worker}, which is not running it")));
                    }
                    self.live.queued[w] = None;
                    self.live.processes[w] = Some(Process {
                        launch: *launch,
                        trial: *trial,
                        launched: *now,
                        step_start: *now,
                        ending: None,
                        last_report: None,
                        trained: false,
                    });
                    self.live.trials[*trial as usize].launches += 1;
                }
                Record::Step { trial, worker, step, start, end, metrics, extra, decision } => {
                    last_time = last_time.max(*end);
                    self.live.replay_now = *end;
                    let w = self.replayed_worker(*worker, *trial)?;
                    let cut = Cut::Recorded(decision == TrialOutcome::Cut.as_str());
                    let (launch_seconds, cost) = self.split_step(w, *start, *end, extra);
                    let outcome = self.book.report(w, *step, *start, *end, launch_seconds, metrics, cost, scheduler, cut);
                    let outcome = outcome.map_err(|e| self.live.mismatch(e.to_string()))?;
                    if outcome.as_str() != decision {
                        return Err(self.live.mismatch(format!(
                            "trial {trial} step {step}: the journal says {decision}, the strategy now says {}",
                            outcome.as_str()
                        )));
                    }
                    self.record_step_time(*trial, *step, cost);
                    self.after_result(w, outcome, *end);
                }
                Record::Fail { trial, worker, step, start, end, status, metrics, reason } => {
                    last_time = last_time.max(*end);
                    self.live.replay_now = *end;
                    let w = self.replayed_worker(*worker, *trial)?;
                    let values: Vec<f64> = metrics.iter().map(|m| m.unwrap_or(f64::NAN)).collect();
                    if status == EpochStatus::Diverged.as_str() {
                        let cost = (end - start).max(0.0);
                        self.book
                            .report(w, *step, *start, *end, 0.0, &values, cost, scheduler, Cut::Recorded(false))
                            .map_err(|e| self.live.mismatch(e.to_string()))?;
                    } else {
                        self.book.fail(w, *step, *start, *end, &values, scheduler)?;
                        self.live.consecutive_failures += 1;
                    }
                    self.live.trials[*trial as usize].reason = Some(reason.clone());
                    self.after_result(w, TrialOutcome::Stop, *end);
                }
                Record::Exit { launch, now, .. } => {
                    last_time = last_time.max(*now);
                    if let Some(w) = self.live.slot_of_launch(*launch) {
                        self.exited(w, *now);
                    }
                }
                Record::End { now, stop_reason } => {
                    self.live.replay_now = *now;
                    return Ok(Some(StopReason::from_label(stop_reason).unwrap_or(StopReason::StrategyFinished)));
                }
            }
        }
        self.live.replay_now = last_time;
        Ok(None)
    }

    /// The worker of a journaled result, checked against the book.
    fn replayed_worker(&self, worker: u32, trial: TrialId) -> Result<usize, StudyError> {
        let w = worker as usize;
        if w < self.live.processes.len() && self.book.slot(w) == (Slot::Busy { trial }) {
            Ok(w)
        } else {
            Err(self.live.mismatch(format!("a result of trial {trial} on worker {worker}, which is not running it")))
        }
    }

    /// During a replay: the book's worker is free again after a result that ended its trial's
    /// run there (its process, if the journal says nothing more, ended with the old session).
    fn after_result(&mut self, worker: usize, outcome: TrialOutcome, at: f64) {
        if let Some(process) = &mut self.live.processes[worker] {
            process.reported(at, outcome);
        }
        if outcome != TrialOutcome::Continue {
            self.book.release(worker);
            self.live.set_ending(worker, Ending::Killed);
        }
    }

    /// Step `step` of `trial` trained for `seconds` (launch overhead excluded where known).
    fn record_step_time(&mut self, trial: TrialId, step: u32, seconds: f64) {
        let all = &mut self.live.trials[trial as usize].step_seconds;
        if all.len() < step as usize {
            all.resize(step as usize, 0.0);
        }
        all[step as usize - 1] = seconds;
    }

    /// The launch overhead and the training time in the step report of the process on
    /// `worker` that ran from `start` to `end`. The overhead is 0 unless it is the launch's first
    /// report; then the time from the launch to the report minus the step's own time, if the
    /// report says it ([`protocol::STEP_SECONDS`]), else NaN (unknown, and counted as training).
    fn split_step(&self, worker: usize, start: f64, end: f64, extra: &[(String, f64)]) -> (f64, f64) {
        let launch = match self.live.processes[worker] {
            Some(process) if process.last_report.is_none() => extra
                .iter()
                .find(|(name, _)| name == protocol::STEP_SECONDS)
                .filter(|(_, seconds)| seconds.is_finite() && *seconds >= 0.0)
                .map_or(f64::NAN, |(_, seconds)| (end - start - seconds).max(0.0)),
            _ => 0.0,
        };
        // `f64::max` ignores NaN: an unknown overhead leaves the whole time to training.
        (launch, (end - start - launch.max(0.0)).max(0.0))
    }

    /// After a replay: processes that may still run from before are ended, trials the book
    /// runs are relaunched from their last recorded step on their slots, and free slots are
    /// assigned.
    fn continue_after_replay(&mut self, records: &[Record], scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<(), StudyError> {
        let exited: std::collections::HashSet<u64> =
            records.iter().filter_map(|r| if let Record::Exit { launch, .. } = r { Some(*launch) } else { None }).collect();
        for record in records {
            if let Record::Launch { launch, trial, handle: Some(handle), .. } = record
                && !exited.contains(launch)
            {
                crate::orphans::end(handle, &self.live.trial_dir(*trial).join("checkpoint"));
            }
        }
        // Every process of the previous session is gone now: journal their ends.
        let now = self.now();
        for worker in 0..self.live.processes.len() {
            if let Some(process) = self.live.processes[worker] {
                self.live.record(Record::Exit { launch: process.launch, now, code: None })?;
                self.exited(worker, now);
            }
        }
        for worker in 0..self.live.processes.len() {
            if let Slot::Busy { trial } = self.book.slot(worker) {
                self.live.queued[worker] = Some(trial);
            }
        }
        self.live.start_queued(&self.book)?;
        for worker in 0..self.live.processes.len() {
            if self.book.slot(worker) == Slot::Free {
                self.assign(worker, scheduler, rng)?;
            }
        }
        self.wake_waiting(scheduler, rng)
    }

    /// Asks waiting workers again if a result arrived since they were last asked.
    fn wake_waiting(&mut self, scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<(), StudyError> {
        // As in the simulator, once per result: `Wait` means nothing to do until the next one.
        let results = self.book.results();
        if results == self.woken_at {
            return Ok(());
        }
        self.woken_at = results;
        if self.book.waiting() > 0 && !self.live.ending_all {
            self.book.wake_waiting(&mut self.live, scheduler, rng)?;
        }
        Ok(())
    }

    /// The process on `worker` ended at `at`: its time is paid and the slot is empty (the
    /// caller then starts what waited for it: the slot's queued launch, or another launch of
    /// the same trial).
    fn exited(&mut self, worker: usize, at: f64) {
        if let Some(process) = self.live.processes[worker].take() {
            self.live.compute += (at - process.launched).max(0.0);
            // Its shutdown, on its last row, if its training ended with a report (not a process
            // cut off mid-step, nor a failed one).
            if let Some(last) = process.last_report
                && process.trained
            {
                self.book.exited(process.trial, (at - last).max(0.0));
            }
        }
    }

    fn event_loop(&mut self, scheduler: &mut dyn Scheduler, rng: &mut Rng, interrupt: &AtomicBool) -> Result<StopReason, StudyError> {
        let mut interrupted = false;
        loop {
            if interrupt.load(Ordering::Relaxed) && !interrupted {
                interrupted = true;
                self.end_all()?;
            }
            if self.live.processes.iter().all(Option::is_none) {
                break;
            }
            // Wake at the next deadline (a process's, or the wall-clock budget's); executors of
            // real processes also return every 200 ms or so, to let an interrupt be noticed.
            let budget = self.setup_wallclock().filter(|_| !self.cut);
            let deadline = [self.live.next_deadline(), budget].into_iter().flatten().fold(f64::INFINITY, f64::min);
            if let Some(event) = self.live.executor.next_event(self.live.executor_time(deadline))? {
                self.handle(event, scheduler, rng)?;
            }
            self.check_deadlines(scheduler, rng)?;
            if self.book.full_evaluations_reached() && !self.cut {
                // Results that arrive at this very instant are results too, as in the
                // simulator: record them, then end the running trials.
                let now = self.live.executor_time(self.now());
                while let Some(event) = self.live.executor.next_event(now)? {
                    let later = event.at > now;
                    self.handle(event, scheduler, rng)?;
                    if later {
                        break;
                    }
                }
                self.cut_running(StopReason::FullEvaluations)?;
            }
            if !interrupted {
                self.wake_waiting(scheduler, rng)?;
            }
        }
        if interrupted {
            return Err(StudyError::Interrupted { journal: self.live.journal_path.clone() });
        }
        Ok(self.book.stop_reason(None))
    }

    fn handle(&mut self, event: crate::executor::Event, scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<(), StudyError> {
        let Some(w) = self.live.slot_of_launch(event.launch) else { return Ok(()) };
        let at = self.live.clock.offset + (event.at - self.live.clock.origin);
        match event.kind {
            EventKind::Started => {
                // Queue time is not training time: the time limit, the first step's cost and the
                // compute count from here.
                if let Some(process) = &mut self.live.processes[w]
                    && process.step_start == process.launched
                {
                    process.launched = at;
                    process.step_start = at;
                }
                Ok(())
            }
            EventKind::Line(line) => self.on_line(w, &line, at, scheduler, rng),
            EventKind::Exited(code) => self.on_exit(w, code, at, scheduler, rng),
        }
    }

    fn setup_wallclock(&self) -> Option<f64> {
        self.live.setup.budget.wallclock_seconds
    }

    /// Ends every running process (interrupt, or too many failures): SIGTERM now, SIGKILL after
    /// the grace period; queued launches never start.
    fn end_all(&mut self) -> Result<(), StudyError> {
        self.live.ending_all = true;
        self.live.queued.fill(None);
        for worker in 0..self.live.processes.len() {
            if self.live.processes[worker].is_some_and(|p| !matches!(p.ending, Some(Ending::Terminated { .. } | Ending::Killed))) {
                self.live.terminate(worker);
                self.reap(worker)?;
            }
        }
        Ok(())
    }

    /// A budget ends the study: running trials are cut off (their step in progress is never
    /// observed, as in the simulator) and their processes ended; queued launches never start.
    fn cut_running(&mut self, reason: StopReason) -> Result<(), StudyError> {
        self.cut = true;
        self.book.cut_running(reason);
        self.live.queued.fill(None);
        let now = self.now();
        for worker in 0..self.live.processes.len() {
            if let Some(process) = self.live.processes[worker].filter(|p| p.ending.is_none()) {
                // Its step in progress is paid for up to now.
                let step = self.book.trial(process.trial).done + 1;
                self.book.paid_partial_step(process.trial, step, (now - process.step_start).max(0.0));
                self.live.terminate(worker);
                self.reap(worker)?;
            }
        }
        Ok(())
    }

    fn check_deadlines(&mut self, scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<(), StudyError> {
        let now = self.now();
        if let Some(limit) = self.setup_wallclock()
            && now >= limit
            && !self.cut
        {
            self.cut_running(StopReason::Wallclock)?;
        }
        for worker in 0..self.live.processes.len() {
            let Some(process) = self.live.processes[worker] else { continue };
            match process.ending {
                None => {
                    if let Some(limit) = self.live.setup.time_limit
                        && now >= process.launched + limit.as_secs_f64()
                    {
                        let step = self.book.trial(process.trial).done + 1;
                        let reason = format!("exceeded its time limit of {} s", limit.as_secs_f64());
                        let nan = vec![f64::NAN; self.live.setup.objectives.len()];
                        self.fail(worker, step, process.step_start, now, &nan, reason, scheduler, rng)?;
                        self.live.terminate(worker);
                    }
                }
                Some(Ending::Exiting { at }) if now >= at => self.live.terminate(worker),
                Some(Ending::Terminated { at }) if now >= at => {
                    let _ = self.live.executor.signal(process.launch, Signal::Kill);
                    self.live.set_ending(worker, Ending::Killed);
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn on_line(&mut self, w: usize, line: &str, at: f64, scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<(), StudyError> {
        let Some(process) = self.live.processes[w] else { return Ok(()) };
        if process.ending.is_some() {
            // The trial's end is decided; what it prints meanwhile is not observed.
            return Ok(());
        }
        let trial = process.trial;
        let state = self.book.trial(trial);
        let (expected, until) = (state.done + 1, state.until);
        let nan = vec![f64::NAN; self.live.setup.objectives.len()];
        match protocol::parse_line(line, self.live.setup.objectives) {
            Ok(Line::Log) => Ok(()),
            Err(message) => {
                let shown: String = line.chars().take(200).collect();
                let reason = format!("malformed step report: {message}: {shown}");
                self.fail(w, expected, process.step_start, at, &nan, reason, scheduler, rng)?;
                self.live.terminate(w);
                Ok(())
            }
            Ok(Line::Step(report)) if report.step < expected => Ok(()),
            Ok(Line::Step(report)) if report.step > expected || report.step > until => {
                let reason = format!(
                    "reported step {} where step {expected} was due (steps must come in order, from HPOSIM_START_STEP + 1 to HPOSIM_UNTIL)",
                    report.step
                );
                self.fail(w, expected, process.step_start, at, &nan, reason, scheduler, rng)?;
                self.live.terminate(w);
                Ok(())
            }
            Ok(Line::Step(report)) => {
                let start = process.step_start;
                let cut = Cut::Budget { now: self.now(), committed: hposim_book::Executor::committed(&self.live) };
                let (launch_seconds, cost) = self.split_step(w, start, at, &report.extra);
                let outcome = self.book.report(w, report.step, start, at, launch_seconds, &report.metrics, cost, scheduler, cut)?;
                self.record_step_time(trial, report.step, cost);
                if !report.metrics.iter().all(|m| m.is_finite()) {
                    // A diverged run: the book stopped the trial and told the scheduler.
                    let reason = format!("step {} reported non-finite metrics {:?}", report.step, report.metrics);
                    let metrics = report.metrics.iter().map(|m| m.is_finite().then_some(*m)).collect();
                    let status = EpochStatus::Diverged.as_str().to_owned();
                    self.live.record(Record::Fail {
                        trial,
                        worker: w as u32,
                        step: report.step,
                        start,
                        end: at,
                        status,
                        metrics,
                        reason: reason.clone(),
                    })?;
                    self.live.trials[trial as usize].reason = Some(reason);
                    self.ended_by_tracker(trial, "FAILED");
                    self.live.terminate(w);
                    self.reap(w)?;
                    return self.release(w, scheduler, rng);
                }
                self.live.record(Record::Step {
                    trial,
                    worker: w as u32,
                    step: report.step,
                    start,
                    end: at,
                    metrics: report.metrics.clone(),
                    extra: report.extra.clone(),
                    decision: outcome.as_str().to_owned(),
                })?;
                self.live.consecutive_failures = 0;
                if let Some(tracker) = self.live.tracker.as_deref_mut()
                    && let Err(e) =
                        tracker.step(trial, report.step, &report.metrics, &report.extra, outcome.as_str(), scheduler.bracket_of(trial))
                {
                    self.live.tracker_warnings.push(e);
                }
                if let Some(process) = &mut self.live.processes[w] {
                    process.reported(at, outcome);
                }
                self.live.executor.reported(process.launch, report.step, outcome == TrialOutcome::Continue)?;
                let grace = self.live.setup.grace.as_secs_f64();
                match outcome {
                    TrialOutcome::Continue => return Ok(()),
                    TrialOutcome::Done => self.live.set_ending(w, Ending::Exiting { at: self.now() + grace }),
                    TrialOutcome::Pause if report.step >= until => self.live.set_ending(w, Ending::Exiting { at: self.now() + grace }),
                    TrialOutcome::Pause | TrialOutcome::Stop | TrialOutcome::Cut => self.live.terminate(w),
                }
                self.reap(w)?;
                self.release(w, scheduler, rng)
            }
        }
    }

    fn ended_by_tracker(&mut self, trial: TrialId, status: &str) {
        if let Some(tracker) = self.live.tracker.as_deref_mut()
            && let Err(e) = tracker.trial_ended(trial, status)
        {
            self.live.tracker_warnings.push(e);
        }
    }

    /// Marks the trial on `worker` failed at `step` (its process crashed, broke the protocol or
    /// ran out of time), tells the scheduler, journals it, and assigns the worker again.
    #[allow(clippy::too_many_arguments)]
    fn fail(
        &mut self,
        worker: usize,
        step: u32,
        start: f64,
        end: f64,
        metrics: &[f64],
        reason: String,
        scheduler: &mut dyn Scheduler,
        rng: &mut Rng,
    ) -> Result<(), StudyError> {
        if !matches!(self.book.slot(worker), Slot::Busy { .. }) {
            // Cut off by the budget already: nothing to fail.
            return Ok(());
        }
        let trial = self.book.fail(worker, step, start, end, metrics, scheduler)?;
        self.live.record(Record::Fail {
            trial,
            worker: worker as u32,
            step,
            start,
            end,
            status: EpochStatus::Failed.as_str().to_owned(),
            metrics: metrics.iter().map(|m| m.is_finite().then_some(*m)).collect(),
            reason: reason.clone(),
        })?;
        self.live.trials[trial as usize].reason = Some(reason.clone());
        self.live.consecutive_failures += 1;
        self.ended_by_tracker(trial, "FAILED");
        if self.live.consecutive_failures >= MAX_CONSECUTIVE_FAILURES {
            self.end_all()?;
            return Err(StudyError::TooManyFailures {
                count: self.live.consecutive_failures,
                trial,
                reason,
                log: self.live.log_path(trial),
            });
        }
        self.release(worker, scheduler, rng)
    }

    /// The process on `worker`, being ended, may have exited at once (an executor whose
    /// processes end instantly): its exit is then handled now, so that the worker's next launch
    /// starts at once, in the order the scheduler chose.
    fn reap(&mut self, worker: usize) -> Result<(), StudyError> {
        let Some(process) = self.live.processes[worker] else { return Ok(()) };
        if let Some(code) = self.live.executor.ended(process.launch) {
            let now = self.now();
            self.live.record(Record::Exit { launch: process.launch, now, code })?;
            self.ended_as_planned(process.trial);
            self.exited(worker, now);
        }
        Ok(())
    }

    /// Tells the tracker how a trial whose process was ended on purpose ended.
    fn ended_as_planned(&mut self, trial: TrialId) {
        match self.book.trial(trial).status {
            hposim_book::TrialStatus::Done => self.ended_by_tracker(trial, "FINISHED"),
            hposim_book::TrialStatus::Stopped => self.ended_by_tracker(trial, "KILLED"),
            _ => {}
        }
    }

    fn on_exit(&mut self, w: usize, code: Option<i32>, at: f64, scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<(), StudyError> {
        let Some(process) = self.live.processes[w] else { return Ok(()) };
        self.live.record(Record::Exit { launch: process.launch, now: at, code })?;
        let trial = process.trial;
        if process.ending.is_none() {
            let state = self.book.trial(trial);
            let how = match code {
                Some(code) if code < 0 => format!("was killed by {}", signal_name(-code)),
                Some(code) => format!("exited with status {code}"),
                None => "was killed by a signal".to_owned(),
            };
            let reason = format!("{how} after step {} of {}", state.done, state.until);
            let step = state.done + 1;
            let nan = vec![f64::NAN; self.live.setup.objectives.len()];
            self.fail(w, step, process.step_start, at, &nan, reason, scheduler, rng)?;
        } else {
            self.ended_as_planned(trial);
        }
        self.exited(w, at);
        self.live.start_queued(&self.book)
    }

    fn finish(self, stop_reason: StopReason, wallclock: f64, scheduler: &dyn Scheduler) -> StudyOutcome {
        let totals = self.book.totals();
        let max = f64::from(self.live.setup.fidelity.max);
        // Without early termination every trial would have trained to full fidelity: what the
        // executor knows that costs, or the trial's mean step time times the full fidelity (an
        // extrapolation; live steps vary).
        let full_training: f64 = self
            .live
            .trials
            .iter()
            .enumerate()
            .filter_map(|(id, t)| {
                self.live.executor.full_training(id as TrialId).or_else(|| {
                    let recorded: Vec<f64> = t.step_seconds.iter().copied().filter(|s| *s > 0.0).collect();
                    (!recorded.is_empty()).then(|| recorded.iter().sum::<f64>() / recorded.len() as f64 * max)
                })
            })
            .sum();
        let compute = self.live.compute;
        let (with, without) = totals.compute_with_and_without_checkpointing(compute, self.live.setup.checkpointing);
        let slots = self.live.processes.len() as f64;
        let stats = CellStats {
            trials: totals.trials,
            epochs: totals.epochs,
            full_evaluations: totals.full_evaluations,
            diverged_trials: totals.failed_trials,
            compute_seconds: compute,
            overhead_seconds: self.book.trace().overhead_seconds(),
            wallclock_seconds: wallclock,
            idle_seconds: (slots * wallclock - compute).max(0.0),
            full_training_seconds: full_training,
            compute_with_checkpointing_seconds: with,
            compute_without_checkpointing_seconds: without,
            stop_reason,
            sampler_warnings: scheduler.sampler_warnings(),
        };
        let live = self.live;
        let steps: Vec<u32> = self.book.trials().iter().map(|t| t.done).collect();
        let (trace, statuses) = self.book.into_trace();
        let trials = live
            .trials
            .iter()
            .zip(statuses.iter().zip(&steps))
            .enumerate()
            .map(|(i, (t, (status, steps)))| TrialReport {
                trial: i as u32,
                config: t.json.clone(),
                status: status.label(),
                steps: *steps,
                launches: t.launches,
                reason: t.reason.clone(),
                log: live.log_path(i as u32),
            })
            .collect();
        StudyOutcome { cell: CellOutcome { trace, stats }, trials, tracker_warnings: live.tracker_warnings }
    }
}

/// The seed a configuration trains with: a stable hash of the experiment seed and the
/// configuration's JSON, so every run of a configuration gets the same one.
pub fn config_seed(experiment_seed: u64, config: &Map<String, Json>) -> u64 {
    // serde_json's Map keeps keys sorted, so equal configurations give equal text.
    let text = Json::Object(config.clone()).to_string();
    stable_hash(experiment_seed, &[b"config-seed", text.as_bytes()]) >> 1
}

/// `SIGKILL (signal 9)`: a signal's name where it has one, always with its number.
fn signal_name(number: i32) -> String {
    match nix::sys::signal::Signal::try_from(number) {
        Ok(signal) => format!("{} (signal {number})", signal.as_str()),
        Err(_) => format!("signal {number}"),
    }
}

//! Ask/tell: hposim's strategies driving a training loop that someone else runs (a notebook, a
//! script, a cluster launcher), as Optuna's `study.ask()`/`study.tell()` and Syne Tune's
//! `scheduler.suggest()`/`on_trial_result()` do, but with ASHA's, HyperBand's, BOHB's and PBT's
//! decisions to pause, resume and stop included.
//!
//! A study has `workers` slots. [`AskTell::ask`] asks the strategy what a free slot should do:
//! start a trial with a configuration, resume a paused trial from its checkpoint, start a trial
//! from another trial's checkpoint (population-based training), wait for a result, or finish.
//! Every completed step goes to [`AskTell::tell`], which answers whether the trial continues,
//! pauses (keep its checkpoint: it may be resumed), stops, is done (full fidelity) or is cut by
//! the budget; a trial that breaks goes to [`AskTell::fail`]. A slot whose trial no longer
//! continues is free: ask again for it. A slot told to wait is asked again after later results,
//! all at once by [`AskTell::wake`], as the simulator does after every result.
//!
//! It is the third executor of the trial book ([`hposim_book`]): the same
//! [`hposim_schedulers::Scheduler`] objects, through the same book, as the simulator and
//! `hposim tune`, with the strategy's randomness on the stream the simulator gives the cell of
//! the same name, seed and repetition. Replaying a simulated cell's benchmark through ask/tell
//! therefore reproduces the simulator's trace (tested for ASHA and HyperBand). Time is the
//! caller's: each call may give the study's clock (`now`, seconds since the study began) and a
//! step's compute (`cost`); by default the wall clock since the study began and the time since
//! the step started.
//!
//! With a journal file every call is appended (and flushed) before it is answered; opening the
//! study again with the same journal replays the calls through a fresh strategy and carries on
//! where the journal ends, so that a crashed notebook loses nothing. [`AskTell::finish`] and
//! [`AskTell::save`] turn the study into a cell of a results directory that `hposim report`
//! reads like a simulated or a live one.

use crate::journal::{Journal, JournalError};
use hposim_book::{BookError, BookSettings, Cut, Executor, Launch, Slot, TrialBook, TrialStatus};
use hposim_core::rng::stream;
use hposim_core::{
    BenchmarkReference, Budget, CellNames, CellOutcome, CellStats, CellSummary, Config, Direction, ExpectedCell, Fidelity, MANIFEST_FILE,
    Manifest, Objective, ParamSpec, Rng, SearchSpace, StopReason, TRACE_FORMAT_VERSION, TrialId, TrialOutcome, summary_of,
};
use hposim_fingerprint::FINGERPRINT;
use hposim_results::{FileError, identity, safe_name, write_cell, write_json_atomically};
use hposim_schedulers::{Scheduler, Setting, StrategySpec, build_strategy, check_strategy};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn default_one() -> u32 {
    1
}
fn default_true() -> bool {
    true
}
fn default_name() -> String {
    "study".to_owned()
}

/// What an ask/tell study optimises, and how: the keys of a live experiment's `[training]`
/// table that concern the strategy, one strategy, and the study's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskTellSpec {
    /// The task's name (the benchmark column of results; default "study").
    #[serde(default = "default_name")]
    pub name: String,
    /// The search space, as `[[training.space]]` writes it.
    pub space: Vec<ParamSpec>,
    /// The metrics each step reports; the first ranks trials.
    pub objectives: Vec<Objective>,
    /// The fidelity axis (`min`, `max`, `unit`).
    pub fidelity: Fidelity,
    /// The strategy, as a `[[strategies]]` table writes it.
    pub strategy: StrategySpec,
    /// Worker slots (default 1).
    #[serde(default = "default_one")]
    pub workers: u32,
    /// When the study stops (default: when the strategy finishes).
    #[serde(default)]
    pub budget: Budget,
    /// Whether paused trials resume from their checkpoints (default true; the strategy's
    /// `checkpointing` key overrides it).
    #[serde(default = "default_true")]
    pub checkpointing: bool,
    /// The experiment seed (default 0).
    #[serde(default)]
    pub seed: u64,
    /// The repetition (the `seed` column of results; default 0).
    #[serde(default)]
    pub repetition: u32,
}

impl AskTellSpec {
    /// The specification written as JSON (a Python dict), with an error that starts with the
    /// key at fault: an unknown key, or a key whose value does not fit.
    pub fn from_json(value: Json) -> Result<Self, String> {
        const KEYS: [&str; 10] =
            ["name", "space", "objectives", "fidelity", "strategy", "workers", "budget", "checkpointing", "seed", "repetition"];
        let Json::Object(map) = &value else {
            return Err(format!("the study's settings must be a table of keys ({}), got {value}", KEYS.join(", ")));
        };
        if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!("{key}: not a key of a study (the keys are {})", KEYS.join(", ")));
        }
        fn check<T: serde::de::DeserializeOwned>(map: &Map<String, Json>, key: &str) -> Result<(), String> {
            match map.get(key) {
                Some(v) => serde_json::from_value::<T>(v.clone()).map(|_| ()).map_err(|e| format!("{key}: {e}")),
                None => Ok(()),
            }
        }
        check::<String>(map, "name")?;
        check::<Vec<ParamSpec>>(map, "space")?;
        check::<Vec<Objective>>(map, "objectives")?;
        check::<Fidelity>(map, "fidelity")?;
        check::<StrategySpec>(map, "strategy")?;
        check::<u32>(map, "workers")?;
        check::<Budget>(map, "budget")?;
        check::<bool>(map, "checkpointing")?;
        check::<u64>(map, "seed")?;
        check::<u32>(map, "repetition")?;
        serde_json::from_value(value).map_err(|e| e.to_string())
    }
}

/// Most worker slots an ask/tell study may have.
pub const MAX_WORKERS: u32 = 4096;

/// A study that cannot be built, asked or told.
#[derive(Debug, thiserror::Error)]
pub enum AskTellError {
    /// The specification is invalid; the message starts with the key.
    #[error("{0}")]
    Spec(String),
    /// The call does not fit the study's state (a busy worker, a trial that is not running).
    #[error("{0}")]
    Call(String),
    /// The strategy broke the trial book's protocol.
    #[error(transparent)]
    Book(#[from] BookError),
    /// The journal cannot be read or written, or does not belong to this study.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A results file could not be written.
    #[error(transparent)]
    File(#[from] FileError),
}

/// What a free worker slot should do ([`AskTell::ask`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Suggestion {
    /// Start a new trial with `config` and train it from its first step until step `until`.
    Start {
        /// The slot.
        worker: u32,
        /// The new trial.
        trial: TrialId,
        /// Its configuration (active parameters, choices as written in the space).
        config: Map<String, Json>,
        /// The last step to train in this launch.
        until: u32,
    },
    /// Resume paused trial `trial`: from its checkpoint after step `from_step` (from its first
    /// step without checkpointing) until step `until`.
    Resume {
        /// The slot.
        worker: u32,
        /// The trial.
        trial: TrialId,
        /// Its configuration.
        config: Map<String, Json>,
        /// Steps already done: train from `from_step + 1`.
        from_step: u32,
        /// The last step to train in this launch.
        until: u32,
    },
    /// Start new trial `trial` with `config` from `donor`'s checkpoint after step `from_step`
    /// (population-based training), replacing trial `recipient` in the population.
    Exploit {
        /// The slot.
        worker: u32,
        /// The new trial.
        trial: TrialId,
        /// Its configuration.
        config: Map<String, Json>,
        /// The trial whose checkpoint it starts from.
        donor: TrialId,
        /// The trial it replaces.
        recipient: TrialId,
        /// The copied step: train from `from_step + 1`.
        from_step: u32,
        /// The last step to train in this launch.
        until: u32,
    },
    /// Nothing to do until another result arrives: ask again later (or call [`AskTell::wake`]).
    Wait {
        /// The slot.
        worker: u32,
    },
    /// Nothing more to do for this slot: the strategy finished or the budget is spent.
    Finish {
        /// The slot.
        worker: u32,
    },
}

impl Suggestion {
    /// The slot it is for.
    pub fn worker(&self) -> u32 {
        match self {
            Suggestion::Start { worker, .. }
            | Suggestion::Resume { worker, .. }
            | Suggestion::Exploit { worker, .. }
            | Suggestion::Wait { worker }
            | Suggestion::Finish { worker } => *worker,
        }
    }

    /// Its kind: "start", "resume", "exploit", "wait" or "finish".
    pub fn kind(&self) -> &'static str {
        match self {
            Suggestion::Start { .. } => "start",
            Suggestion::Resume { .. } => "resume",
            Suggestion::Exploit { .. } => "exploit",
            Suggestion::Wait { .. } => "wait",
            Suggestion::Finish { .. } => "finish",
        }
    }
}

/// One journal record of an ask/tell study.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
enum Entry {
    /// The study: its specification, so that a journal is never replayed into another.
    Study { spec: Box<AskTellSpec> },
    /// A slot was asked about at `now`; the answer's kind and trial, to check a replay.
    Ask { worker: u32, now: f64, answer: String, trial: Option<TrialId> },
    /// A step's result (non-finite metrics written as `null`).
    Tell { trial: TrialId, step: u32, metrics: Vec<Option<f64>>, cost: f64, now: f64 },
    /// A trial failed at a step.
    Fail { trial: TrialId, step: u32, now: f64 },
}

/// The study's side of the book: its clock, compute and the launches the book asked for.
struct Clock {
    now: f64,
    committed: f64,
    /// Per trial, the compute of its steps `first + 1..=done` in its current run.
    run_cost: Vec<f64>,
    /// The launch of the latest question, if it launched one.
    launched: Option<Launch>,
}

impl Executor for Clock {
    type Error = BookError;

    fn now(&self) -> f64 {
        self.now
    }

    fn committed(&self) -> f64 {
        self.committed
    }

    fn repeat_cost(&self, _book: &TrialBook, trial: TrialId) -> f64 {
        self.run_cost.get(trial as usize).copied().unwrap_or(0.0)
    }

    fn launch(&mut self, book: &TrialBook, _worker: usize, launch: Launch) -> Result<(), BookError> {
        let trial = launch.trial() as usize;
        if self.run_cost.len() <= trial {
            self.run_cost.resize(trial + 1, 0.0);
        }
        if book.trial(launch.trial()).done == book.trial(launch.trial()).first {
            // From its first step again (a new trial, or a resume without checkpoint).
            self.run_cost[trial] = 0.0;
        }
        self.launched = Some(launch);
        Ok(())
    }
}

/// An ask/tell study.
pub struct AskTell {
    spec: AskTellSpec,
    space: SearchSpace,
    checkpointing: bool,
    book: TrialBook,
    clock: Clock,
    scheduler: Box<dyn Scheduler>,
    rng: Rng,
    /// When each slot's current step started.
    step_start: Vec<f64>,
    started: Instant,
    /// Study seconds at `started` (the journal's last time, when resumed).
    offset: f64,
    journal: Option<Journal>,
    journal_path: Option<PathBuf>,
}

impl std::fmt::Debug for AskTell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AskTell").field("spec", &self.spec).field("trials", &self.book.trials().len()).finish_non_exhaustive()
    }
}

impl AskTell {
    /// A new study of `spec`; with `journal`, every call is journaled there, and a journal that
    /// exists already is replayed first (the study continues where it ended).
    pub fn new(spec: AskTellSpec, journal: Option<&Path>) -> Result<Self, AskTellError> {
        let space = Self::check(&spec)?;
        let checkpointing = spec.strategy.checkpointing.unwrap_or(spec.checkpointing);
        // The stream the simulator gives the cell of benchmark `name`, this strategy and
        // repetition (and `hposim tune` the study of a training of that name).
        let cell_stream = format!("{:?}/{:?}/{}", spec.name, spec.strategy.name, spec.repetition);
        let mut rng = stream(spec.seed, &cell_stream, "strategy");
        let scheduler = build_strategy(&spec.strategy, &space, &spec.objectives, &spec.fidelity, None, spec.budget.trials, &mut rng)
            .map_err(|e| AskTellError::Spec(format!("strategy.{e}")))?;
        let settings = BookSettings { workers: spec.workers, budget: spec.budget.clone(), checkpointing, max_fidelity: spec.fidelity.max };
        let book = TrialBook::new(settings, spec.objectives.clone(), 1024);
        let workers = spec.workers as usize;
        let mut study = Self {
            spec,
            space,
            checkpointing,
            book,
            clock: Clock { now: 0.0, committed: 0.0, run_cost: Vec::new(), launched: None },
            scheduler,
            rng,
            step_start: vec![0.0; workers],
            started: Instant::now(),
            offset: 0.0,
            journal: None,
            journal_path: journal.map(Path::to_owned),
        };
        if let Some(path) = journal {
            let replayed = study.replay(path)?;
            let mut open = Journal::open(path)?;
            if replayed == 0 {
                open.append_as(&Entry::Study { spec: Box::new(study.spec.clone()) })?;
            }
            study.journal = Some(open);
        }
        Ok(study)
    }

    /// Validates `spec` and builds its search space; errors start with the key at fault.
    fn check(spec: &AskTellSpec) -> Result<SearchSpace, AskTellError> {
        let fail = |m: String| Err(AskTellError::Spec(m));
        hposim_results::check_name(&spec.name).map_err(|e| AskTellError::Spec(format!("name: {e}")))?;
        hposim_results::check_name(&spec.strategy.name).map_err(|e| AskTellError::Spec(format!("strategy.name: {e}")))?;
        if spec.workers == 0 || spec.workers > MAX_WORKERS {
            return fail(format!("workers: must lie in 1..={MAX_WORKERS}, got {}", spec.workers));
        }
        if spec.objectives.is_empty() {
            return fail("objectives: give at least one { name, direction }".into());
        }
        if spec.fidelity.min == 0 || spec.fidelity.min > spec.fidelity.max {
            return fail(format!("fidelity: need 1 <= min <= max, got min {} and max {}", spec.fidelity.min, spec.fidelity.max));
        }
        if let Err((key, message)) = spec.budget.validate()
            && !key.is_empty()
        {
            return fail(format!("budget.{key}: {message}"));
        }
        let space = SearchSpace::new(&spec.space).map_err(|e| AskTellError::Spec(format!("space: {e}")))?;
        let setting = Setting {
            space: &space,
            fidelity: &spec.fidelity,
            objectives: &spec.objectives,
            checkpointing: spec.strategy.checkpointing.unwrap_or(spec.checkpointing),
            trial_budget: spec.budget.trials.is_some(),
            cannot_change_configurations: None,
        };
        check_strategy(&spec.strategy, &setting)
            .map_err(|e| AskTellError::Spec(if e.starts_with("budget.") { e } else { format!("strategy.{e}") }))?;
        Ok(space)
    }

    /// Replays the journal at `path` (if it exists) through the fresh strategy; returns how many
    /// records it held.
    fn replay(&mut self, path: &Path) -> Result<usize, AskTellError> {
        let entries: Vec<Entry> = Journal::read_as(path)?;
        let count = entries.len();
        let mismatch = |line: usize, message: String| JournalError { path: path.to_owned(), line: Some(line), message };
        for (i, entry) in entries.into_iter().enumerate() {
            let line = i + 1;
            match entry {
                Entry::Study { spec } => {
                    if *spec != self.spec {
                        return Err(mismatch(
                            line,
                            "was written by a study with other settings: give another journal, or the same settings".into(),
                        )
                        .into());
                    }
                }
                Entry::Ask { worker, now, answer, trial } => {
                    let got = self.ask_inner(Some(worker), Some(now)).map_err(|e| mismatch(line, format!("replaying an ask: {e}")))?;
                    if got.kind() != answer || trial_of(&got) != trial {
                        return Err(mismatch(
                            line,
                            format!(
                                "the strategy now answers {} where the journal says {answer}: it was written by other code",
                                got.kind()
                            ),
                        )
                        .into());
                    }
                }
                Entry::Tell { trial, step, metrics, cost, now } => {
                    let metrics: Vec<f64> = metrics.into_iter().map(|m| m.unwrap_or(f64::NAN)).collect();
                    self.tell_inner(trial, step, &metrics, Some(cost), Some(now))
                        .map_err(|e| mismatch(line, format!("replaying a result: {e}")))?;
                }
                Entry::Fail { trial, step, now } => {
                    self.fail_inner(trial, Some(step), Some(now)).map_err(|e| mismatch(line, format!("replaying a failure: {e}")))?;
                }
            }
            self.offset = self.clock.now;
        }
        self.started = Instant::now();
        Ok(count)
    }

    /// The study's specification.
    pub fn spec(&self) -> &AskTellSpec {
        &self.spec
    }

    /// The search space.
    pub fn space(&self) -> &SearchSpace {
        &self.space
    }

    /// The journal's path, if the study keeps one.
    pub fn journal_path(&self) -> Option<&Path> {
        self.journal_path.as_deref()
    }

    /// Trial `trial`'s configuration (as [`hposim_core::Config`]).
    pub fn config(&self, trial: TrialId) -> Option<&Config> {
        self.book.trials().get(trial as usize).map(|t| &t.config)
    }

    /// Every trial: its configuration (JSON), status label, steps done and target step.
    pub fn trials(&self) -> Vec<(Map<String, Json>, &'static str, u32, u32)> {
        self.book.trials().iter().map(|t| (t.config.to_json(&self.space), t.status.label(), t.done, t.until)).collect()
    }

    /// The slots told to wait that a result has arrived for since.
    pub fn waiting(&self) -> Vec<u32> {
        (0..self.spec.workers)
            .filter(|&w| matches!(self.book.slot(w as usize), Slot::Waiting { since } if since < self.book.results()))
            .collect()
    }

    /// The trial each slot runs (`None` where it runs none).
    pub fn running(&self) -> Vec<Option<TrialId>> {
        (0..self.spec.workers as usize).map(|w| if let Slot::Busy { trial } = self.book.slot(w) { Some(trial) } else { None }).collect()
    }

    /// Study seconds now: `now` if given (it must not go back), else the wall clock.
    fn time(&self, now: Option<f64>) -> Result<f64, AskTellError> {
        let t = now.unwrap_or_else(|| self.offset + self.started.elapsed().as_secs_f64());
        if !t.is_finite() || t < 0.0 {
            return Err(AskTellError::Call(format!("now: must be a finite number of seconds >= 0, got {t}")));
        }
        Ok(t.max(self.clock.now))
    }

    fn append(&mut self, entry: &Entry) -> Result<(), AskTellError> {
        if let Some(journal) = self.journal.as_mut() {
            journal.append_as(entry)?;
        }
        Ok(())
    }

    /// What slot `worker` should do (by default the first free slot, else the first waiting
    /// one, else a finished one, which answers [`Suggestion::Finish`]), at study time `now`
    /// (default: the wall clock). The budget is checked first: once it is spent, every slot
    /// finishes. Without `worker`, a study whose every slot runs a trial is an error.
    pub fn ask(&mut self, worker: Option<u32>, now: Option<f64>) -> Result<Suggestion, AskTellError> {
        let suggestion = self.ask_inner(worker, now)?;
        let entry = Entry::Ask {
            worker: suggestion.worker(),
            now: self.clock.now,
            answer: suggestion.kind().to_owned(),
            trial: trial_of(&suggestion),
        };
        self.append(&entry)?;
        Ok(suggestion)
    }

    fn ask_inner(&mut self, worker: Option<u32>, now: Option<f64>) -> Result<Suggestion, AskTellError> {
        let now = self.time(now)?;
        let slots = self.spec.workers;
        let worker = match worker {
            Some(w) if w >= slots => return Err(AskTellError::Call(format!("worker: the study has workers 0..{slots}, got {w}"))),
            Some(w) => w,
            None => {
                let free = |want: fn(Slot) -> bool| (0..slots).find(|&w| want(self.book.slot(w as usize)));
                match free(|s| s == Slot::Free).or_else(|| free(|s| matches!(s, Slot::Waiting { .. }))) {
                    Some(w) => w,
                    // No slot to ask about: a finished one says there is nothing more to start.
                    None => match free(|s| s == Slot::Finished) {
                        Some(w) => w,
                        None => {
                            return Err(AskTellError::Call(format!(
                                "every worker is busy (all {slots} run a trial): tell a result that ends a trial first, or give the study more workers"
                            )));
                        }
                    },
                }
            }
        };
        match self.book.slot(worker as usize) {
            Slot::Busy { trial } => {
                return Err(AskTellError::Call(format!("worker {worker} runs trial {trial}: tell its results until it ends first")));
            }
            Slot::Finished => return Ok(Suggestion::Finish { worker }),
            Slot::Free | Slot::Waiting { .. } => {}
        }
        self.clock.now = now;
        self.clock.launched = None;
        self.book.assign(worker as usize, &mut self.clock, self.scheduler.as_mut(), &mut self.rng)?;
        self.step_start[worker as usize] = now;
        Ok(match (self.book.slot(worker as usize), self.clock.launched) {
            (Slot::Busy { .. }, Some(launch)) => self.suggestion(worker, launch),
            (Slot::Waiting { .. }, _) => Suggestion::Wait { worker },
            _ => Suggestion::Finish { worker },
        })
    }

    fn suggestion(&self, worker: u32, launch: Launch) -> Suggestion {
        let trial = launch.trial();
        let state = self.book.trial(trial);
        let config = state.config.to_json(&self.space);
        match launch {
            Launch::Start { .. } => Suggestion::Start { worker, trial, config, until: state.until },
            Launch::Resume { .. } => Suggestion::Resume { worker, trial, config, from_step: state.done, until: state.until },
            Launch::Exploit { donor, recipient, step, .. } => {
                Suggestion::Exploit { worker, trial, config, donor, recipient, from_step: step, until: state.until }
            }
        }
    }

    /// Asks again, in slot order, the slots that were told to wait before the latest result,
    /// until one is told to wait again (what the simulator does after every result).
    pub fn wake(&mut self, now: Option<f64>) -> Result<Vec<Suggestion>, AskTellError> {
        let now = self.time(now)?;
        let mut suggestions = Vec::new();
        for worker in self.waiting() {
            let suggestion = self.ask(Some(worker), Some(now))?;
            let wait = matches!(suggestion, Suggestion::Wait { .. });
            suggestions.push(suggestion);
            if wait {
                break;
            }
        }
        Ok(suggestions)
    }

    /// The slot running `trial`.
    fn worker_of(&self, trial: TrialId) -> Result<usize, AskTellError> {
        (0..self.spec.workers as usize).find(|&w| self.book.slot(w) == Slot::Busy { trial }).ok_or_else(|| {
            let status = self.book.trials().get(trial as usize).map(|t| t.status);
            AskTellError::Call(match status {
                None => format!("trial {trial} does not exist (the study has {} trials)", self.book.trials().len()),
                Some(status) => format!("trial {trial} is not running (it is {}): ask for a slot to start or resume it", status.label()),
            })
        })
    }

    /// Trial `trial` completed step `step` with `metrics` (one per objective, in the
    /// objectives' order), at study time `now` (default: the wall clock), costing `cost`
    /// seconds of compute (default: the time since the step started). Returns what the trial
    /// does next: [`TrialOutcome::Continue`] keeps it on its slot; every other outcome frees
    /// the slot (pause: keep the checkpoint, the trial may be resumed).
    pub fn tell(
        &mut self,
        trial: TrialId,
        step: u32,
        metrics: &[f64],
        cost: Option<f64>,
        now: Option<f64>,
    ) -> Result<TrialOutcome, AskTellError> {
        let (outcome, cost) = self.tell_inner(trial, step, metrics, cost, now)?;
        let metrics = metrics.iter().map(|m| m.is_finite().then_some(*m)).collect();
        let entry = Entry::Tell { trial, step, metrics, cost, now: self.clock.now };
        self.append(&entry)?;
        Ok(outcome)
    }

    fn tell_inner(
        &mut self,
        trial: TrialId,
        step: u32,
        metrics: &[f64],
        cost: Option<f64>,
        now: Option<f64>,
    ) -> Result<(TrialOutcome, f64), AskTellError> {
        let worker = self.worker_of(trial)?;
        let k = self.spec.objectives.len();
        if metrics.len() != k {
            return Err(AskTellError::Call(format!("metrics: the study has {k} objective(s), got {} value(s)", metrics.len())));
        }
        let now = self.time(now)?;
        let start = self.step_start[worker];
        let cost = cost.unwrap_or(now - start);
        if !(cost.is_finite() && cost >= 0.0) {
            return Err(AskTellError::Call(format!("cost: must be a finite number of seconds >= 0, got {cost}")));
        }
        self.clock.now = now;
        self.clock.committed += cost;
        let cut = Cut::Budget { now, committed: self.clock.committed };
        let outcome = self.book.report(worker, step, start, now, 0.0, metrics, cost, self.scheduler.as_mut(), cut)?;
        if let Some(run) = self.clock.run_cost.get_mut(trial as usize) {
            *run += cost;
        }
        if outcome == TrialOutcome::Continue {
            self.step_start[worker] = now;
        } else {
            self.book.release(worker);
        }
        Ok((outcome, cost))
    }

    /// Trial `trial` failed (crashed, diverged, ran out of time) during step `step` (default:
    /// the step after its last result), at study time `now`. The strategy is told as of a
    /// diverged run, the trial stops and its slot is free.
    pub fn fail(&mut self, trial: TrialId, step: Option<u32>, now: Option<f64>) -> Result<(), AskTellError> {
        let step = self.fail_inner(trial, step, now)?;
        let entry = Entry::Fail { trial, step, now: self.clock.now };
        self.append(&entry)
    }

    fn fail_inner(&mut self, trial: TrialId, step: Option<u32>, now: Option<f64>) -> Result<u32, AskTellError> {
        let worker = self.worker_of(trial)?;
        let now = self.time(now)?;
        let step = step.unwrap_or(self.book.trial(trial).done + 1);
        let start = self.step_start[worker];
        self.clock.now = now;
        self.clock.committed += now - start;
        let metrics = vec![f64::NAN; self.spec.objectives.len()];
        self.book.fail(worker, step, start, now, &metrics, self.scheduler.as_mut())?;
        self.book.release(worker);
        Ok(step)
    }

    /// The study's results so far, as a cell: its trace and totals. Trials still running count
    /// as paused where they stand.
    pub fn outcome(&self) -> CellOutcome {
        let totals = self.book.totals();
        let compute = self.clock.committed;
        let (with, without) = totals.compute_with_and_without_checkpointing(compute, self.checkpointing);
        let wallclock = self.clock.now;
        let stop_reason = self.book.stop_reason(None);
        let stats = CellStats {
            trials: totals.trials,
            epochs: totals.epochs,
            full_evaluations: totals.full_evaluations,
            diverged_trials: totals.failed_trials,
            compute_seconds: compute,
            overhead_seconds: 0.0,
            wallclock_seconds: wallclock,
            idle_seconds: (f64::from(self.spec.workers) * wallclock - compute).max(0.0),
            // Not known: a step's cost is told only for steps that ran.
            full_training_seconds: 0.0,
            compute_with_checkpointing_seconds: with,
            compute_without_checkpointing_seconds: without,
            stop_reason,
            sampler_warnings: self.scheduler.sampler_warnings(),
        };
        let mut trace = self.book.trace().clone();
        trace.configs = self.book.trials().iter().map(|t| t.config.clone()).collect();
        CellOutcome { trace, stats }
    }

    /// The identity of the study's cell: file stem and settings hash.
    fn identity(&self) -> hposim_results::CellIdentity {
        let json = serde_json::to_vec(&self.spec).unwrap_or_default();
        let prefix = format!("{}__{}__s{:03}", safe_name(&self.spec.name), safe_name(&self.spec.strategy.name), self.spec.repetition);
        identity(&prefix, "ask", &json, FINGERPRINT)
    }

    /// Writes the study as a results directory that `hposim report`, `hposim export` and
    /// `hposim compare` read: `manifest.json`, `study.json` (the specification),
    /// `cells/<cell>.parquet` and `.json`, `summary.json`. Returns the cell's summary.
    pub fn save(&self, out_dir: &Path) -> Result<CellSummary, AskTellError> {
        let cells_dir = out_dir.join("cells");
        std::fs::create_dir_all(&cells_dir).map_err(|e| AskTellError::Call(format!("{}: {e}", cells_dir.display())))?;
        let _lock = hposim_results::lock_folder(out_dir)?;
        let id = self.identity();
        let spec = &self.spec;
        let objective = spec.objectives.first();
        let manifest = Manifest {
            trace_format: TRACE_FORMAT_VERSION,
            hposim: env!("CARGO_PKG_VERSION").to_owned(),
            fingerprint: FINGERPRINT.to_owned(),
            kind: "live".to_owned(),
            experiment: spec.name.clone(),
            description: Some("an ask/tell study".to_owned()),
            command: "hposim ask/tell (Python: hposim.Study)".to_owned(),
            workers: spec.workers,
            price_per_worker_hour: None,
            benchmarks: vec![BenchmarkReference {
                name: spec.name.clone(),
                objective: objective.map(|o| o.name.clone()).unwrap_or_default(),
                direction: objective.map_or(Direction::Minimize, |o| o.direction),
                max_fidelity: spec.fidelity.max,
                unit: spec.fidelity.unit.clone(),
                best_known: None,
                median_random: None,
                objectives: if spec.objectives.len() > 1 { spec.objectives.clone() } else { Vec::new() },
                hypervolume_reference: None,
            }],
            strategies: vec![spec.strategy.name.clone()],
            cells: vec![ExpectedCell {
                cell: id.id.clone(),
                benchmark: spec.name.clone(),
                strategy: spec.strategy.name.clone(),
                seed: spec.repetition,
            }],
            trace: hposim_core::TraceLevel::Steps,
        };
        write_json_atomically(&out_dir.join(MANIFEST_FILE), &manifest, "manifest")?;
        write_json_atomically(&out_dir.join("study.json"), spec, "study")?;
        let outcome = self.outcome();
        let names = CellNames {
            cell: &id.id,
            fingerprint: FINGERPRINT,
            settings: &id.settings,
            benchmark: &spec.name,
            strategy: &spec.strategy.name,
            seed: spec.repetition,
        };
        let mut summary = summary_of(&names, spec.fidelity.max, None, self.checkpointing, &outcome);
        summary.best_config = hposim_core::best_config(&outcome.trace, spec.fidelity.max, &self.space);
        write_cell(&cells_dir, &id.id, &outcome.trace, &self.space, &summary, &spec.fidelity.unit)?;
        write_json_atomically(&out_dir.join("summary.json"), &[&summary], "summary")?;
        Ok(summary)
    }

    /// Whether every slot has finished (the strategy has nothing more to run, or the budget is
    /// spent).
    pub fn finished(&self) -> bool {
        (0..self.spec.workers as usize).all(|w| self.book.slot(w) == Slot::Finished)
    }

    /// Why the study ended (or would end now).
    pub fn stop_reason(&self) -> StopReason {
        self.book.stop_reason(None)
    }

    /// The status of trial `trial`, if it exists.
    pub fn status(&self, trial: TrialId) -> Option<TrialStatus> {
        self.book.trials().get(trial as usize).map(|t| t.status)
    }
}

fn trial_of(suggestion: &Suggestion) -> Option<TrialId> {
    match suggestion {
        Suggestion::Start { trial, .. } | Suggestion::Resume { trial, .. } | Suggestion::Exploit { trial, .. } => Some(*trial),
        Suggestion::Wait { .. } | Suggestion::Finish { .. } => None,
    }
}

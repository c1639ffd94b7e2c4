//! The trial book: the one piece of code that keeps a study's trials, workers, budget and trace,
//! driven by the simulator's event loop (`hposim-sim`) and by live studies (`hposim-runner`)
//! alike. An executor supplies only time, compute and launches ([`Executor`]); everything a
//! strategy can observe goes through the book, so the simulator and a live study of the same
//! strategy behave the same way by construction.
//!
//! The protocol, as in Syne Tune's simulator back-end and Li et al.'s ASHA simulations:
//!
//! 1. Whenever a worker is free the executor calls [`TrialBook::assign`]: unless the budget is
//!    spent, the book asks the [`Scheduler`] ([`Scheduler::on_free_worker`]), checks its answer
//!    (a resume names a paused trial, a target lies in the fidelity range, an exploit copies a
//!    step the donor completed with finite metrics), records it, and tells the executor what to
//!    launch ([`Launch`]). A scheduler that answers [`Action::Wait`] leaves the worker idle; it
//!    is asked again after a later result ([`TrialBook::wake_waiting`]).
//! 2. Every completed step goes to [`TrialBook::report`]: the book records the trace row, passes
//!    the result to the scheduler ([`Scheduler::on_result`], or [`Scheduler::on_failure`] for
//!    non-finite metrics, a diverged run) and maps its [`Decision`] to the trial's
//!    [`TrialOutcome`]: a trial at full fidelity is done, one at the fidelity it was started or
//!    resumed for pauses, and one that would continue after the budget ran out is cut.
//! 3. A trial that stops running on a worker frees it ([`TrialBook::release`]), and the worker
//!    is assigned again at once.
//!
//! Budgets (see [`Budget`]): no step starts once full evaluations, committed compute (as the
//! executor counts it, [`Executor::committed`]) or the wall clock reach their limit; the trial
//! budget caps the sampler's proposals (`TrialLimit`). Why a study ended is
//! [`TrialBook::stop_reason`].
//!
//! Accounting kept here: steps completed, full evaluations, failed trials, and what restarts
//! repeat (with checkpointing, what they would have repeated; without, what they did), from
//! which both executors report the compute of the same decisions under the other setting.

pub mod error;

pub use error::BookError;

use hposim_core::{
    Action, Budget, Config, Decision, EpochStatus, Exploit, Objective, Observation, Rng, Row, RowSink, StopReason, Trace, TraceLevel,
    TrialId, TrialOutcome, WorkerRequest,
};
use hposim_schedulers::Scheduler;

/// How a study runs, whichever executor runs it.
#[derive(Clone, Debug, PartialEq)]
pub struct BookSettings {
    /// Workers (simulated workers, or live worker slots).
    pub workers: u32,
    /// When to stop.
    pub budget: Budget,
    /// Whether paused trials keep their training state (resume where they stopped) or restart
    /// from their first step and pay again.
    pub checkpointing: bool,
    /// The full fidelity: a step reaching it ends its trial.
    pub max_fidelity: u32,
}

/// Where a trial stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrialStatus {
    /// On a worker, training.
    Running,
    /// Paused; it may be resumed.
    Paused,
    /// Stopped for good (by the scheduler, or replaced by an exploit).
    Stopped,
    /// Stopped for good because its metrics became NaN or infinite.
    Diverged,
    /// It reached full fidelity.
    Done,
    /// Its live process failed (crashed, timed out, broke the trial protocol).
    Failed,
}

impl TrialStatus {
    /// The label used in live studies' trial lists.
    pub fn label(self) -> &'static str {
        match self {
            TrialStatus::Running => "running",
            TrialStatus::Paused => "paused",
            TrialStatus::Stopped => "stopped",
            TrialStatus::Diverged => "diverged",
            TrialStatus::Done => "done",
            TrialStatus::Failed => "failed",
        }
    }
}

/// A trial in the book.
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    /// Its configuration.
    pub config: Config,
    /// The step it started after: 0, or the copied step of an exploit.
    pub first: u32,
    /// The last step whose metrics were finite (a diverged step's checkpoint is never copied).
    pub last_ok: u32,
    /// Steps completed in its current run (its checkpoint's step).
    pub done: u32,
    /// The highest step ever completed (above `done` after a restart without checkpoint).
    pub high_water: u32,
    /// The fidelity it runs until.
    pub until: u32,
    /// Where it stands.
    pub status: TrialStatus,
}

/// What a worker is doing, as far as the strategy knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Free: the next thing to do is to ask the scheduler.
    Free,
    /// Told to wait while the book had received `since` results.
    Waiting {
        /// Results received when it was told to wait (those the scheduler heard, where it need
        /// not be asked again after the others: [`Scheduler::wakes_on_every_result`]).
        since: u64,
    },
    /// Running a trial.
    Busy {
        /// The trial.
        trial: TrialId,
    },
    /// Nothing more to do (the scheduler finished it, or the budget is spent).
    Finished,
}

/// What the executor must start on a worker: in every case `trial` runs from the step after
/// [`Trial::done`] until [`Trial::until`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Launch {
    /// A new trial, from its first step.
    Start {
        /// The trial.
        trial: TrialId,
    },
    /// A paused trial: from its checkpoint with checkpointing, from its first step without.
    Resume {
        /// The trial.
        trial: TrialId,
    },
    /// A new trial from `donor`'s checkpoint after `step` (population-based training).
    Exploit {
        /// The new trial.
        trial: TrialId,
        /// The trial whose checkpoint it starts from.
        donor: TrialId,
        /// The trial it replaces in the population.
        recipient: TrialId,
        /// The copied step.
        step: u32,
    },
}

impl Launch {
    /// The trial launched.
    pub fn trial(self) -> TrialId {
        match self {
            Launch::Start { trial } | Launch::Resume { trial } | Launch::Exploit { trial, .. } => trial,
        }
    }
}

/// What the scheduler answered about a free worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Run something (launched through [`Executor::launch`]).
    Launch(Launch),
    /// Wait for a later result.
    Wait,
    /// Nothing more for this worker.
    Finish,
}

/// How [`TrialBook::report`] decides whether a trial that would continue is cut by the budget.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cut {
    /// From the budget now: the executor's clock and committed compute.
    Budget {
        /// Seconds since the study began.
        now: f64,
        /// Compute committed so far, as the executor counts it.
        committed: f64,
    },
    /// As recorded before (a live study replaying its journal: the clock it ran on is gone).
    Recorded(bool),
}

/// What an executor supplies to the book: time, compute, and launches.
pub trait Executor {
    /// The executor's error; the book's own errors convert into it.
    type Error: From<BookError>;

    /// Seconds since the study began.
    fn now(&self) -> f64;

    /// Worker-seconds committed so far, for the compute budget. The simulator, which knows a
    /// step's cost when it starts it, counts started steps in full; a live study counts the
    /// time its processes have run.
    fn committed(&self) -> f64;

    /// What training `trial` again from its first step up to its checkpoint (steps
    /// `first + 1..=done`) costs: what a restart without checkpoint repeats.
    fn repeat_cost(&self, book: &TrialBook, trial: TrialId) -> f64;

    /// Starts `launch` on worker `worker`; the book has recorded it ([`TrialBook::trial`] has
    /// the trial's configuration, checkpoint step and target).
    fn launch(&mut self, book: &TrialBook, worker: usize, launch: Launch) -> Result<(), Self::Error>;

    /// The scheduler answered `answer` to `request` about worker `worker`, and the book has
    /// recorded it (before any launch). A live study journals it here, so that a replay of
    /// the journal asks the same questions in the same order.
    fn asked(&mut self, _book: &TrialBook, _request: &WorkerRequest, _answer: Answer) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Totals of a finished study that the book kept.
#[derive(Clone, Debug, PartialEq)]
pub struct BookTotals {
    /// Trials started.
    pub trials: u64,
    /// Steps completed (diverged ones included).
    pub epochs: u64,
    /// Steps completed at full fidelity.
    pub full_evaluations: u64,
    /// Trials that diverged or failed.
    pub failed_trials: u64,
    /// With checkpointing: what restarts would have repeated; without: what they repeated.
    pub repeats: f64,
}

impl BookTotals {
    /// The compute of the same decisions with and without checkpointing, from `compute` spent
    /// under the study's own setting (`checkpointing`): with it, restarts would have repeated
    /// [`BookTotals::repeats`] more; without it, they repeated that much.
    pub fn compute_with_and_without_checkpointing(&self, compute: f64, checkpointing: bool) -> (f64, f64) {
        if checkpointing { (compute, compute + self.repeats) } else { ((compute - self.repeats).max(0.0), compute) }
    }
}

/// The trial book of one study.
#[derive(Debug)]
pub struct TrialBook {
    settings: BookSettings,
    trials: Vec<Trial>,
    slots: Vec<Slot>,
    waiting: usize,
    results: u64,
    /// Results the scheduler heard (all but those of quiet steps, [`TraceLevel::Decisions`]).
    heard: u64,
    epochs: u64,
    full_evaluations: u64,
    failed_trials: u64,
    repeats: f64,
    refused: Option<StopReason>,
    trace: Trace,
    /// Which rows the trace keeps.
    level: TraceLevel,
    /// Per worker, the run segment whose steps are not kept yet ([`TraceLevel::Decisions`]).
    segments: Vec<Option<Segment>>,
}

/// The steps of a trial on a worker since its launch or its latest decision, which the trace
/// keeps as one row at the decisions level.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Segment {
    /// When its first step started.
    start: f64,
    /// Its first step's launch overhead.
    launch_seconds: f64,
    /// The step whose result the scheduler asked for ([`Scheduler::next_decision`]), or one at
    /// which the trial ends anyway.
    decide_at: u32,
}

impl TrialBook {
    /// An empty book for a study of `settings` reporting `objectives` (one metric each per
    /// step), with room for `rows` trace rows.
    pub fn new(settings: BookSettings, objectives: Vec<Objective>, rows: usize) -> Self {
        let workers = settings.workers as usize;
        Self {
            settings,
            trials: Vec::new(),
            slots: vec![Slot::Free; workers],
            waiting: 0,
            results: 0,
            heard: 0,
            epochs: 0,
            full_evaluations: 0,
            failed_trials: 0,
            repeats: 0.0,
            refused: None,
            trace: Trace::with_capacity(objectives, rows),
            level: TraceLevel::Steps,
            segments: vec![None; workers],
        }
    }

    /// Keeps the trace at `level` ([`TraceLevel::Steps`] unless set): at the decisions level,
    /// a row per run segment, and the scheduler hears only the results it asks for
    /// ([`Scheduler::next_decision`]). Only for an executor that reports every step of a
    /// trial in order and records each launch's exit with its last step (the simulator).
    pub fn set_trace_level(&mut self, level: TraceLevel) {
        self.level = level;
    }

    /// The settings.
    pub fn settings(&self) -> &BookSettings {
        &self.settings
    }

    /// Every trial, by id.
    pub fn trials(&self) -> &[Trial] {
        &self.trials
    }

    /// Trial `trial` (which must exist: ids come from the book).
    pub fn trial(&self, trial: TrialId) -> &Trial {
        &self.trials[trial as usize]
    }

    /// What worker `worker` is doing.
    pub fn slot(&self, worker: usize) -> Slot {
        self.slots[worker]
    }

    /// Workers told to wait.
    pub fn waiting(&self) -> usize {
        self.waiting
    }

    /// Results received so far (steps reported, failures included).
    pub fn results(&self) -> u64 {
        self.results
    }

    /// The trace so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Whether enough full-fidelity results arrived to end the study.
    pub fn full_evaluations_reached(&self) -> bool {
        self.settings.budget.full_evaluations.is_some_and(|n| self.full_evaluations >= n)
    }

    /// Whether a new step may start at `now` with `committed` worker-seconds committed; if not,
    /// the budget that refused it becomes the study's stop reason.
    pub fn may_dispatch(&mut self, now: f64, committed: f64) -> bool {
        let budget = &self.settings.budget;
        let refused = if self.full_evaluations_reached() {
            Some(StopReason::FullEvaluations)
        } else if budget.compute_seconds.is_some_and(|b| committed >= b) {
            Some(StopReason::Compute)
        } else if budget.wallclock_seconds.is_some_and(|d| now >= d) {
            Some(StopReason::Wallclock)
        } else {
            None
        };
        if refused.is_some() {
            self.refused = refused;
        }
        refused.is_none()
    }

    /// Asks the scheduler what free worker `worker` should do, unless the budget is spent (the
    /// worker then finishes), and has the executor launch it.
    pub fn assign<E: Executor>(
        &mut self,
        worker: usize,
        executor: &mut E,
        scheduler: &mut dyn Scheduler,
        rng: &mut Rng,
    ) -> Result<(), E::Error> {
        if !self.may_dispatch(executor.now(), executor.committed()) {
            if matches!(self.slots[worker], Slot::Waiting { .. }) {
                self.waiting -= 1;
            }
            self.slots[worker] = Slot::Finished;
            return Ok(());
        }
        self.ask(worker, executor, scheduler, rng).map(|_| ())
    }

    /// Asks the scheduler what free (or waiting) worker `worker` should do, without looking at
    /// the budget, records the answer and has the executor launch it. A live study replaying
    /// its journal asks this way, since its budget was checked when the question was first
    /// asked.
    pub fn ask<E: Executor>(
        &mut self,
        worker: usize,
        executor: &mut E,
        scheduler: &mut dyn Scheduler,
        rng: &mut Rng,
    ) -> Result<Answer, E::Error> {
        if matches!(self.slots[worker], Slot::Waiting { .. }) {
            self.waiting -= 1;
        }
        let request = WorkerRequest { now: executor.now(), worker: worker as u32, next_trial: self.trials.len() as u32 };
        let answer = match scheduler.on_free_worker(&request, rng) {
            Action::Start { config, until } => {
                self.check_target(until)?;
                let trial = self.trials.len() as TrialId;
                self.trials.push(Trial { config, first: 0, last_ok: 0, done: 0, high_water: 0, until, status: TrialStatus::Running });
                Answer::Launch(Launch::Start { trial })
            }
            Action::Resume { trial, until } => {
                self.check_target(until)?;
                let state = self.trials.get(trial as usize).ok_or(BookError::BadResume { trial, problem: "does not exist" })?;
                if state.status != TrialStatus::Paused {
                    return Err(BookError::BadResume { trial, problem: "is not paused" }.into());
                }
                if self.settings.checkpointing {
                    if until <= state.done {
                        return Err(BookError::BadResume { trial, problem: "has already reached the fidelity asked for" }.into());
                    }
                    self.repeats += executor.repeat_cost(self, trial);
                }
                let state = &mut self.trials[trial as usize];
                if !self.settings.checkpointing {
                    state.done = state.first;
                }
                state.until = until;
                state.status = TrialStatus::Running;
                Answer::Launch(Launch::Resume { trial })
            }
            Action::Exploit { donor, recipient, step, config, until } => {
                Answer::Launch(self.exploit(donor, recipient, step, config, until, request.now)?)
            }
            Action::Wait => {
                self.slots[worker] = Slot::Waiting { since: self.wake_count(scheduler) };
                self.waiting += 1;
                Answer::Wait
            }
            Action::Finish => {
                self.slots[worker] = Slot::Finished;
                Answer::Finish
            }
        };
        if let Answer::Launch(launch) = answer {
            self.slots[worker] = Slot::Busy { trial: launch.trial() };
        }
        executor.asked(self, &request, answer)?;
        if let Answer::Launch(launch) = answer {
            executor.launch(self, worker, launch)?;
        }
        Ok(answer)
    }

    /// Records a new trial that starts from `donor`'s checkpoint after `step` with `config`,
    /// replacing `recipient` in the population.
    fn exploit(
        &mut self,
        donor: TrialId,
        recipient: TrialId,
        step: u32,
        config: Config,
        until: u32,
        time: f64,
    ) -> Result<Launch, BookError> {
        self.check_target(until)?;
        let bad = |problem: String| BookError::BadExploit { donor, step, problem };
        let trial = self.trials.len() as TrialId;
        let source = self.trials.get(donor as usize).ok_or_else(|| bad(format!("trial {donor} does not exist")))?;
        if step < source.first.max(1) || step > source.high_water {
            return Err(bad(format!("it has completed steps {}..={} only", source.first.max(1), source.high_water)));
        }
        if step > source.last_ok {
            return Err(bad(format!("its metrics at step {step} were not finite (it diverged)")));
        }
        if until <= step {
            return Err(bad(format!("the new trial would run only until {until}")));
        }
        let replaced = self.trials.get_mut(recipient as usize).ok_or_else(|| bad(format!("recipient trial {recipient} does not exist")))?;
        if replaced.status == TrialStatus::Running {
            return Err(bad(format!("recipient trial {recipient} is still running")));
        }
        if replaced.status == TrialStatus::Paused {
            // Replaced for good: it must never be resumed.
            replaced.status = TrialStatus::Stopped;
        }
        self.trace.exploits.push(Exploit { time, trial, donor, recipient, step });
        self.trials.push(Trial { config, first: step, last_ok: step, done: step, high_water: step, until, status: TrialStatus::Running });
        Ok(Launch::Exploit { trial, donor, recipient, step })
    }

    fn check_target(&self, until: u32) -> Result<(), BookError> {
        if until == 0 || until > self.settings.max_fidelity {
            return Err(BookError::BadTarget { until, max: self.settings.max_fidelity });
        }
        Ok(())
    }

    /// Asks again, in worker order, the workers that were already waiting before the latest
    /// result (one told to wait since has nothing new to hear), until one is told to wait
    /// again: `Wait` means there is no job for any free worker until the next result, so asking
    /// the rest would only cost time (O(workers) per result with 64 idle workers behind a
    /// synchronous rung).
    pub fn wake_waiting<E: Executor>(&mut self, executor: &mut E, scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<(), E::Error> {
        for worker in 0..self.slots.len() {
            if matches!(self.slots[worker], Slot::Waiting { since } if since < self.wake_count(scheduler)) {
                self.assign(worker, executor, scheduler, rng)?;
                if matches!(self.slots[worker], Slot::Waiting { .. }) {
                    break;
                }
            }
        }
        Ok(())
    }

    /// The count of results after which waiting workers are asked again: every result, or those
    /// `scheduler` heard where it need not hear of the others ([`Scheduler::wakes_on_every_result`]).
    fn wake_count(&self, scheduler: &dyn Scheduler) -> u64 {
        if self.level == TraceLevel::Decisions && !scheduler.wakes_on_every_result() { self.heard } else { self.results }
    }

    /// The trial running on `worker`.
    fn running_on(&self, worker: usize) -> Result<TrialId, BookError> {
        match self.slots.get(worker) {
            Some(Slot::Busy { trial }) => Ok(*trial),
            _ => Err(BookError::NotRunning { worker: worker as u32 }),
        }
    }

    /// The step `step` of the trial on `worker` completed between `start` and `end` (of which
    /// the first `launch_seconds` started or resumed its process) with `metrics`, costing `cost`
    /// worker-seconds of training. Records it, tells the scheduler, and returns
    /// what happens to the trial next; the worker stays the trial's until
    /// [`TrialBook::release`]. Non-finite metrics are a diverged run: the trial stops.
    #[allow(clippy::too_many_arguments)]
    pub fn report(
        &mut self,
        worker: usize,
        step: u32,
        start: f64,
        end: f64,
        launch_seconds: f64,
        metrics: &[f64],
        cost: f64,
        scheduler: &mut dyn Scheduler,
        cut: Cut,
    ) -> Result<TrialOutcome, BookError> {
        let trial = self.running_on(worker)?;
        let max = self.settings.max_fidelity;
        let state = &self.trials[trial as usize];
        if step != state.done + 1 {
            return Err(BookError::OutOfOrder { trial, step, done: state.done });
        }
        let (start, launch_seconds) = if self.level == TraceLevel::Decisions {
            let segment = match self.segments[worker] {
                Some(segment) => segment,
                None => Segment { start, launch_seconds, decide_at: self.next_decision(trial, scheduler) },
            };
            if step < segment.decide_at && metrics.iter().all(|m| m.is_finite()) && self.continues(cut) {
                // A step the scheduler promised to continue: counted, not told, not kept.
                self.quiet_step(trial, step, cost, metrics[0]);
                self.segments[worker] = Some(segment);
                return Ok(TrialOutcome::Continue);
            }
            self.segments[worker] = None;
            (segment.start, segment.launch_seconds)
        } else {
            (start, launch_seconds)
        };
        self.count_step(trial, step, cost);
        self.heard += 1;
        let state = &mut self.trials[trial as usize];
        let observation = Observation { trial, config: &state.config, fidelity: step, metrics, time: end };
        let (status, outcome) = if metrics.iter().all(|m| m.is_finite()) {
            state.last_ok = step;
            if step >= max {
                self.full_evaluations += 1;
            }
            let decision = scheduler.on_result(&observation);
            let outcome = if step >= max {
                TrialOutcome::Done
            } else {
                match decision {
                    Decision::Stop => TrialOutcome::Stop,
                    Decision::Pause => TrialOutcome::Pause,
                    Decision::Continue if step >= state.until => TrialOutcome::Pause,
                    Decision::Continue => TrialOutcome::Continue,
                }
            };
            (EpochStatus::Ok, outcome)
        } else {
            self.failed_trials += 1;
            scheduler.on_failure(&observation);
            (EpochStatus::Diverged, TrialOutcome::Stop)
        };
        let outcome = if outcome == TrialOutcome::Continue && !self.continues(cut) { TrialOutcome::Cut } else { outcome };
        self.trace.push(Row { trial, worker: worker as u32, epoch: step, start, end, launch_seconds, status, outcome }, metrics);
        self.trials[trial as usize].status = match outcome {
            _ if status == EpochStatus::Diverged => TrialStatus::Diverged,
            TrialOutcome::Continue => TrialStatus::Running,
            TrialOutcome::Pause | TrialOutcome::Cut => TrialStatus::Paused,
            TrialOutcome::Stop => TrialStatus::Stopped,
            TrialOutcome::Done => TrialStatus::Done,
        };
        Ok(outcome)
    }

    /// The first step after `trial`'s latest whose result must go to `scheduler`: the one it
    /// asks for ([`Scheduler::next_decision`]), or one at which the trial pauses or ends anyway.
    pub fn next_decision(&self, trial: TrialId, scheduler: &dyn Scheduler) -> u32 {
        let state = &self.trials[trial as usize];
        scheduler.next_decision(trial, state.done).min(state.until).min(self.settings.max_fidelity)
    }

    /// The step that ends the run segment open on `worker` ([`TraceLevel::Decisions`]): the
    /// steps before it are reported quietly. `None` where no segment is open (a step at the
    /// decisions level before the first of its segment is reported, or the steps level).
    pub fn segment_end(&self, worker: usize) -> Option<u32> {
        self.segments.get(worker).copied().flatten().map(|s| s.decide_at)
    }

    /// Whether a trial that would continue may start its next step: the budget allows it
    /// (the simulator), or the study did not record a cut (a live study's journal).
    #[inline]
    fn continues(&mut self, cut: Cut) -> bool {
        match cut {
            Cut::Budget { now, committed } => self.may_dispatch(now, committed),
            Cut::Recorded(cut) => !cut,
        }
    }

    /// Steps `first..first + costs.len()` of the trial on `worker`, inside the run segment open
    /// on it ([`TrialBook::segment_end`]), completed with finite metrics whose first values are
    /// `values`, costing `costs`, with the budget letting each continue (the simulator checked
    /// both): counted as [`TrialBook::report`] counts steps that continue quietly, at a fraction
    /// of its cost per step. Counts nothing and returns `false` if they do not all lie inside
    /// the segment, or do not follow the trial's latest step.
    pub fn report_quiet_steps(&mut self, worker: usize, first: u32, costs: &[f64], values: impl Iterator<Item = f64>) -> bool {
        let (Some(segment), Ok(trial)) = (self.segments[worker], self.running_on(worker)) else { return false };
        let last = first.saturating_add(costs.len() as u32);
        if first != self.trials[trial as usize].done + 1 || last > segment.decide_at {
            return false;
        }
        for ((step, &cost), value) in (first..last).zip(costs).zip(values) {
            self.quiet_step(trial, step, cost, value);
        }
        true
    }

    /// Counts step `step` of `trial`, which cost `cost`: a result, a step, the trial's progress,
    /// and what it repeated (a step at or below the trial's highest was done before).
    #[inline]
    fn count_step(&mut self, trial: TrialId, step: u32, cost: f64) {
        let state = &mut self.trials[trial as usize];
        self.results += 1;
        self.epochs += 1;
        state.done = step;
        if step <= state.high_water {
            self.repeats += cost;
        }
        state.high_water = state.high_water.max(step);
    }

    /// Counts step `step` of `trial`, with finite metrics whose first is `value` and which
    /// cost `cost`, as [`TrialBook::report`] does for a step that continues, without a trace
    /// row or the scheduler ([`TraceLevel::Decisions`]).
    fn quiet_step(&mut self, trial: TrialId, step: u32, cost: f64, value: f64) {
        self.count_step(trial, step, cost);
        let state = &mut self.trials[trial as usize];
        state.last_ok = step;
        state.status = TrialStatus::Running;
        self.trace.note_unkept(value);
    }

    /// The trial on `worker` failed (a live process crashed, ran past its time limit or broke
    /// the trial protocol) at step `step`, which started at `start`, seen at `end`; its metrics
    /// are `metrics` (NaN where unknown). The scheduler is told as of a diverged run, the trial
    /// stops, and the row is recorded with status `failed`.
    pub fn fail(
        &mut self,
        worker: usize,
        step: u32,
        start: f64,
        end: f64,
        metrics: &[f64],
        scheduler: &mut dyn Scheduler,
    ) -> Result<TrialId, BookError> {
        let trial = self.running_on(worker)?;
        self.results += 1;
        self.heard += 1;
        self.failed_trials += 1;
        let state = &mut self.trials[trial as usize];
        scheduler.on_failure(&Observation { trial, config: &state.config, fidelity: step, metrics, time: end });
        state.status = TrialStatus::Failed;
        let row = Row {
            trial,
            worker: worker as u32,
            epoch: step,
            start,
            end,
            launch_seconds: 0.0,
            status: EpochStatus::Failed,
            outcome: TrialOutcome::Stop,
        };
        self.trace.push(row, metrics);
        Ok(trial)
    }

    /// The process of `trial` exited `seconds` after its latest step report: its shutdown,
    /// recorded on the trial's latest trace row.
    pub fn exited(&mut self, trial: TrialId, seconds: f64) {
        self.trace.set_exit_seconds(trial, seconds);
    }

    /// Worker `worker` no longer runs its trial (it paused, stopped, finished or failed): it is
    /// free to be assigned.
    pub fn release(&mut self, worker: usize) {
        if matches!(self.slots[worker], Slot::Busy { .. }) {
            self.slots[worker] = Slot::Free;
        }
    }

    /// A budget ended the study while trials were running (`reason`: the wall clock ran out, or
    /// enough full evaluations arrived): they are cut off mid-step (their step is not observed)
    /// and count as paused, and no worker is asked again.
    pub fn cut_running(&mut self, reason: StopReason) {
        self.close_segments();
        self.refused = Some(reason);
        for worker in 0..self.slots.len() {
            if let Slot::Busy { trial } = self.slots[worker] {
                self.trials[trial as usize].status = TrialStatus::Paused;
                self.slots[worker] = Slot::Finished;
            }
        }
    }

    /// The study ended while run segments were open ([`TraceLevel::Decisions`]): their
    /// launch overhead, which no row keeps, still counts in the trace's overhead.
    pub fn close_segments(&mut self) {
        for segment in self.segments.iter_mut().filter_map(Option::take) {
            self.trace.note_unkept_overhead(segment.launch_seconds);
        }
    }

    /// `seconds` of step `step` of `trial` were paid for, but the step never completed: the
    /// study ended while it ran. They count as repeated if the trial had completed that step
    /// before (a restart without checkpoint).
    pub fn paid_partial_step(&mut self, trial: TrialId, step: u32, seconds: f64) {
        if step <= self.trials[trial as usize].high_water {
            self.repeats += seconds;
        }
    }

    /// Why the study ended: `ended` if the executor ended it (a deadline), else the budget that
    /// refused the last step, else stalled if workers still waited for results that could never
    /// come, else the strategy had nothing more to run.
    pub fn stop_reason(&self, ended: Option<StopReason>) -> StopReason {
        match ended.or(self.refused) {
            Some(reason) => reason,
            None if self.waiting > 0 => StopReason::Stalled,
            None => StopReason::StrategyFinished,
        }
    }

    /// The totals so far.
    pub fn totals(&self) -> BookTotals {
        BookTotals {
            trials: self.trials.len() as u64,
            epochs: self.epochs,
            full_evaluations: self.full_evaluations,
            failed_trials: self.failed_trials,
            repeats: self.repeats,
        }
    }

    /// Writes the trace's rows to `sink` and drops them from memory ([`Trace::forget_rows`]), so
    /// that a long study's memory stays that of its live state. Only for an executor that
    /// records each launch's exit with its last step (the simulator): a row whose exit overhead
    /// is still to come must not be written yet.
    pub fn spill(&mut self, sink: &mut dyn RowSink) -> Result<(), String> {
        let trials = &self.trials;
        sink.write_rows(&self.trace, &|t| trials.get(t as usize).map(|t| &t.config))?;
        self.trace.forget_rows(self.settings.max_fidelity);
        Ok(())
    }

    /// The trace, with every trial's configuration, and the trials' final state.
    pub fn into_trace(self) -> (Trace, Vec<TrialStatus>) {
        let mut trace = self.trace;
        let statuses = self.trials.iter().map(|t| t.status).collect();
        trace.configs = self.trials.into_iter().map(|t| t.config).collect();
        (trace, statuses)
    }
}

//! The discrete-event simulator: `N` simulated workers, a simulated clock, and a benchmark that
//! supplies each step's metrics and cost, driving the trial book ([`hposim_book`]) that live
//! studies drive too.
//!
//! The loop is the one of Syne Tune's simulator back-end and of Li et al.'s ASHA simulations:
//! whenever a worker is free, the book asks the scheduler what it should do; every step of a
//! running trial is an event at `start + cost`; events are processed in time order (ties by the
//! order they were scheduled), each result goes to the book, whose outcome keeps the trial on
//! its worker, or frees the worker to be assigned again at once. A scheduler that answers
//! [`hposim_core::Action::Wait`] leaves its worker idle, and is asked again after each later
//! result; if nothing is left running while it still waits, the cell ends as stalled. Idle time
//! is accounted, because it is what asynchronous schedulers exist to remove.
//!
//! What the simulator adds to the book is only time and cost: the clock, the event queue, the
//! benchmark's curves, the compute spent and committed (a step's cost counts in full from the
//! moment it starts), and the deadlines that end a cell (the wall clock: steps ending later are
//! not observed; enough full evaluations: the steps completing at that instant are recorded,
//! then the cell ends).
//!
//! Launch overhead ([`hposim_core::overhead`], the benchmark's [`Benchmark::overhead`]): a
//! launch's process starts once its worker's previous process and its trial's previous process
//! have exited; its first step ends start-up (or resume) plus the step's cost later; after the
//! launch's last step the worker stays busy for the shutdown. The trial book decides at the
//! same moments as without overhead (the scheduler is asked when the last step's result
//! arrives, as a live study asks it while the process exits), so overhead changes when things
//! happen, never what the strategy is told. All of it is compute, reported apart
//! ([`CellStats::overhead_seconds`]); the yardstick of full training charges each started trial
//! one start-up and one shutdown. Benchmarks without an overhead model charge nothing, and
//! give the same trace as before, bit for bit.
//!
//! Common random numbers: a trial's curve is opened with the noise seed
//! `mix(noise_seed, config.noise_key())`, so its noise depends on the benchmark, the seed, the
//! configuration and the step, never on the strategy or the order in which it asks.
//!
//! Per step the loop does no allocation beyond the trace's amortised column growth: metrics are
//! computed into a per-worker buffer, observations borrow it, and the event queue never holds
//! more than one event per worker.

use crate::event_queue::EventQueue;
use hposim_book::{BookError, BookSettings, Cut, Executor, Launch, TrialBook};
use hposim_core::{
    Budget, CellOutcome, CellStats, LaunchOverhead, OverheadKind, Rng, RowSink, StopReason, TraceLevel, TrialId, TrialOutcome,
};
use hposim_curves::{Benchmark, TrialCurve};
use hposim_schedulers::Scheduler;

/// How a cell is simulated.
#[derive(Clone, Debug, PartialEq)]
pub struct SimSettings {
    /// Number of simulated workers.
    pub workers: u32,
    /// When to stop.
    pub budget: Budget,
    /// Whether paused trials keep their training state (resume where they stopped) or restart
    /// from step 1 and pay again.
    pub checkpointing: bool,
    /// Whether launches pay the benchmark's overhead ([`Benchmark::overhead`]); `false`
    /// simulates as if processes started and stopped instantly (what `hposim validate`
    /// compares the model against).
    pub launch_overhead: bool,
    /// Which rows the trace keeps ([`TraceLevel`]): every step, or the results a scheduler
    /// decides on (the scheduler then hears only those, [`Scheduler::next_decision`]).
    pub trace: TraceLevel,
}

/// A scheduler or benchmark broke the simulator's protocol.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// The scheduler asked the trial book for something impossible.
    #[error(transparent)]
    Book(#[from] BookError),
    /// The benchmark cannot change a configuration mid-training.
    #[error("benchmark {benchmark:?} cannot change a trial's configuration mid-training, which population-based training needs")]
    CannotSplice {
        /// The benchmark's name.
        benchmark: String,
    },
    /// The benchmark returned a cost that is not a positive number (a zero cost would let the
    /// clock stand still forever).
    #[error("the benchmark returned cost {cost} for trial {trial} at step {epoch}; costs must be finite and positive")]
    BadCost {
        /// The trial.
        trial: u32,
        /// The step.
        epoch: u32,
        /// The cost.
        cost: f64,
    },
    /// Writing the trace as the cell ran failed.
    #[error("writing the trace: {0}")]
    Write(String),
    /// The cell ran more than [`MAX_CELL_STEPS`] steps (or started more than [`MAX_CELL_TRIALS`] trials) without
    /// reaching its budget.
    #[error(
        "{what} without reaching its budget ({}); hposim simulates at most {MAX_CELL_STEPS} steps and {MAX_CELL_TRIALS} trials per cell: lower the budget, or check the benchmark's step cost",
        budget_keys(budget)
    )]
    Endless {
        /// What was reached ("simulated 100000000 steps").
        what: String,
        /// The budget.
        budget: Budget,
    },
}

/// The keys of `budget` that are set, as an experiment writes them.
fn budget_keys(budget: &Budget) -> String {
    let mut keys = Vec::new();
    if let Some(v) = budget.wallclock_seconds {
        keys.push(format!("budget.wallclock_seconds = {v}"));
    }
    if let Some(v) = budget.compute_seconds {
        keys.push(format!("budget.compute_seconds = {v}"));
    }
    if let Some(v) = budget.trials {
        keys.push(format!("budget.trials = {v}"));
    }
    if let Some(v) = budget.full_evaluations {
        keys.push(format!("budget.full_evaluations = {v}"));
    }
    keys.join(", ")
}

/// The step a simulated worker is running.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Step {
    trial: TrialId,
    epoch: u32,
    /// When the step (or, for a launch's first step, its process) started.
    start: f64,
    /// Training cost.
    cost: f64,
    /// Launch overhead before the training (0 unless the launch's first step).
    launch: f64,
    /// The last step of the run this event ends: `epoch`, unless the steps up to the
    /// scheduler's next decision run as one event ([`Clock::runs`]).
    last: u32,
}

/// What the simulator keeps per trial.
struct SimTrial {
    curve: TrialCurve,
    /// Its noise seed (its curve's, and its launches' overhead draws).
    seed: u64,
    /// What it adds to `full_training`.
    full: f64,
    /// When its latest process exits.
    free_at: f64,
}

/// Most steps one event runs ([`Clock::runs`]): a longer run is several events, each ending in
/// a step reported quietly, so that a run's steps are computed once and kept in a buffer of
/// fixed size per worker.
const RUN_STEPS: usize = 64;

/// The simulator's side of a cell: clock, events, curves and compute.
struct Clock<'a> {
    bench: &'a dyn Benchmark,
    metrics_per_step: usize,
    max_fidelity: u32,
    noise_seed: u64,
    now: f64,
    queue: EventQueue,
    steps: Vec<Option<Step>>,
    buffers: Vec<f64>,
    /// Per trial, by id (one vector, so a trial costs one amortised push).
    trials: Vec<SimTrial>,
    overhead: LaunchOverhead,
    /// When each worker's latest process exits.
    worker_free_at: Vec<f64>,
    /// Per worker, a launch waiting for its worker's (or trial's) previous process to exit:
    /// when its process starts, and what it commits then.
    pending: Vec<Option<(f64, f64)>>,
    /// How many `pending` entries are set.
    pending_count: usize,
    /// Cost of the steps completed (and, at the end, of the parts of running steps paid for).
    compute_done: f64,
    /// Cost of every step started: a step's cost is committed when it starts.
    compute_committed: f64,
    full_training: f64,
    /// Whether the steps of a trial up to its scheduler's next decision run as one event (the
    /// decisions trace level, a scheduler that never waits, and no compute or full-evaluation
    /// limit, which would have to be checked at every step's start).
    runs: bool,
    /// The wall-clock deadline (infinite without one): a run ends at the first step that ends
    /// at or after it, which the deadline may cut.
    deadline: f64,
    /// Per worker, the costs of the steps of its run ([`RUN_STEPS`] each)...
    run_costs: Vec<f64>,
    /// ...and their metrics.
    run_metrics: Vec<f64>,
}

impl Executor for Clock<'_> {
    type Error = SimError;

    fn now(&self) -> f64 {
        self.now
    }

    fn committed(&self) -> f64 {
        if self.pending_count == 0 {
            return self.compute_committed;
        }
        // A launch counts from the moment its process starts, as a live process does.
        self.compute_committed + self.pending.iter().flatten().filter(|(start, _)| *start <= self.now).map(|(_, c)| c).sum::<f64>()
    }

    fn repeat_cost(&self, book: &TrialBook, trial: TrialId) -> f64 {
        let state = book.trial(trial);
        let curve = &self.trials[trial as usize].curve;
        self.bench.cost_until(curve, state.done) - self.bench.cost_until(curve, state.first)
    }

    fn launch(&mut self, book: &TrialBook, worker: usize, launch: Launch) -> Result<(), SimError> {
        match launch {
            Launch::Start { trial } => {
                let seed = book.trial(trial).config.trial_seed(self.noise_seed, None);
                let curve = self.bench.open(&book.trial(trial).config, seed);
                let full = self.bench.cost_until(&curve, self.max_fidelity) + self.overhead.whole_run(seed, self.max_fidelity);
                self.full_training += full;
                self.trials.push(SimTrial { curve, seed, full, free_at: 0.0 });
            }
            Launch::Exploit { trial, donor, step, .. } => {
                let seed = book.trial(trial).config.trial_seed(self.noise_seed, Some(step));
                let curve = self
                    .bench
                    .splice(&self.trials[donor as usize].curve, &book.trial(trial).config, step, seed)
                    .ok_or_else(|| SimError::CannotSplice { benchmark: self.bench.name().to_owned() })?;
                // No addition to `full_training`: the new trial takes the recipient's place in
                // the population, whose training to the end is already counted.
                self.trials.push(SimTrial { curve, seed, full: 0.0, free_at: 0.0 });
            }
            Launch::Resume { .. } => {}
        }
        // From step 0 (a new trial, or a resume without checkpointing) a start-up; from a
        // checkpoint (a resume, an exploit's copied step) a resume.
        let kind = OverheadKind::of_launch_after(book.trial(launch.trial()).done);
        // A launch's first step runs alone: the segment it opens learns its end when reported.
        self.dispatch(book, worker, launch.trial(), Some(kind), 0)
    }
}

impl Clock<'_> {
    /// Starts the next step of `trial` on `worker`: in a new process paying `launch`'s
    /// overhead, or (`None`) in the process that ran its previous step. With `run_to` beyond
    /// that step, the steps up to `run_to` run as one event, ending early at a step whose
    /// metrics are not finite or that ends at or after the deadline.
    fn dispatch(
        &mut self,
        book: &TrialBook,
        worker: usize,
        trial: TrialId,
        launch: Option<OverheadKind>,
        run_to: u32,
    ) -> Result<(), SimError> {
        let k = self.metrics_per_step;
        let epoch = book.trial(trial).done + 1;
        let cost = self.bench.step(&self.trials[trial as usize].curve, epoch, &mut self.buffers[worker * k..(worker + 1) * k]);
        if !(cost.is_finite() && cost > 0.0) {
            return Err(SimError::BadCost { trial, epoch, cost });
        }
        let (start, overhead) = match launch {
            Some(kind) if !self.overhead.is_zero() => {
                let state = &self.trials[trial as usize];
                let start = self.now.max(self.worker_free_at[worker]).max(state.free_at);
                (start, self.overhead.draw(kind, state.seed, epoch))
            }
            _ => (self.now, 0.0),
        };
        // `start + (overhead + cost)`: the live study's replay executor adds the same way.
        let mut end = start + (overhead + cost);
        let mut last = epoch;
        let run_to = run_to.min(epoch.saturating_add(RUN_STEPS as u32 - 1));
        if run_to > epoch && end < self.deadline && self.buffers[worker * k..(worker + 1) * k].iter().all(|m| m.is_finite()) {
            // The run's steps, kept until they are reported: the first...
            let base = worker * RUN_STEPS;
            self.run_costs[base] = cost;
            self.run_metrics[base * k..(base + 1) * k].copy_from_slice(&self.buffers[worker * k..(worker + 1) * k]);
            // ...and each later one, which starts when the one before ends (`end + (0 + cost)`,
            // as a step dispatched at that moment would).
            for step in epoch + 1..=run_to {
                let i = base + (step - epoch) as usize;
                let cost = self.bench.step(&self.trials[trial as usize].curve, step, &mut self.run_metrics[i * k..(i + 1) * k]);
                if !(cost.is_finite() && cost > 0.0) {
                    return Err(SimError::BadCost { trial, epoch: step, cost });
                }
                self.run_costs[i] = cost;
                end += cost;
                last = step;
                self.compute_committed += cost;
                if end >= self.deadline || !self.run_metrics[i * k..(i + 1) * k].iter().all(|m| m.is_finite()) {
                    break;
                }
            }
        }
        self.queue.push(end, worker as u32);
        if start > self.now {
            self.pending[worker] = Some((start, overhead + cost));
            self.pending_count += 1;
        } else {
            self.compute_committed += overhead + cost;
        }
        self.steps[worker] = Some(Step { trial, epoch, start, cost, launch: overhead, last });
        Ok(())
    }

    /// Reports to `book` the steps of the run on `worker` before `until` (all but its last, or
    /// those that ended before the cell did), which continue quietly, and leaves the worker's
    /// step (and its metrics) at the first one not reported.
    fn report_run(&mut self, book: &mut TrialBook, worker: usize, scheduler: &mut dyn Scheduler, until: u32) -> Result<(), SimError> {
        let Some(Step { trial, epoch, mut start, mut launch, last, .. }) = self.steps[worker] else {
            return Ok(());
        };
        let (k, base) = (self.metrics_per_step, worker * RUN_STEPS);
        let steps = (until.min(last) - epoch) as usize;
        let (costs, metrics) = (&self.run_costs[base..base + steps], &self.run_metrics[base * k..(base + steps) * k]);
        // Counted at once where the book can (the run lies in its open segment), else step by step.
        let counted = book.report_quiet_steps(worker, epoch, costs, metrics.iter().step_by(k).copied());
        for i in base..base + steps {
            let cost = self.run_costs[i];
            let end = start + (launch + cost);
            self.compute_done += launch + cost;
            if !counted {
                // Inside a run a step ends before the deadline, and no other budget applies.
                let (step, cut) = (epoch + (i - base) as u32, Cut::Recorded(false));
                let outcome = book.report(worker, step, start, end, launch, &self.run_metrics[i * k..(i + 1) * k], cost, scheduler, cut)?;
                debug_assert_eq!(outcome, TrialOutcome::Continue, "a step inside a run continues quietly");
            }
            (start, launch) = (end, 0.0);
        }
        let i = base + steps;
        self.buffers[worker * k..(worker + 1) * k].copy_from_slice(&self.run_metrics[i * k..(i + 1) * k]);
        self.steps[worker] = Some(Step { trial, epoch: epoch + steps as u32, start, cost: self.run_costs[i], launch, last });
        Ok(())
    }

    /// The process of `trial` on `worker` ran its last step, which ended now: it shuts down,
    /// and the worker is busy until it has exited.
    fn shut_down(&mut self, book: &mut TrialBook, worker: usize, trial: TrialId, epoch: u32) {
        if self.overhead.is_zero() {
            return;
        }
        let seconds = self.overhead.draw(OverheadKind::Shutdown, self.trials[trial as usize].seed, epoch);
        self.worker_free_at[worker] = self.now + seconds;
        self.trials[trial as usize].free_at = self.now + seconds;
        self.compute_done += seconds;
        self.compute_committed += seconds;
        book.exited(trial, seconds);
    }
}

/// One cell being simulated: the book and the clock, with the strategy.
struct Cell<'a, 's> {
    book: TrialBook,
    clock: Clock<'a>,
    scheduler: &'s mut dyn Scheduler,
}

impl Cell<'_, '_> {
    /// Records the step that `worker` just completed, and continues its trial or frees and
    /// assigns the worker, as the book decides.
    fn complete(&mut self, worker: usize, rng: &mut Rng) -> Result<(), SimError> {
        if let Some((_, committed)) = self.clock.pending[worker].take() {
            self.clock.compute_committed += committed;
            self.clock.pending_count -= 1;
        }
        if self.clock.steps[worker].is_some_and(|s| s.last > s.epoch) {
            self.clock.report_run(&mut self.book, worker, self.scheduler, u32::MAX)?;
        }
        let Some(Step { trial, epoch, start, cost, launch, .. }) = self.clock.steps[worker] else {
            return Ok(());
        };
        self.clock.compute_done += launch + cost;
        let k = self.clock.metrics_per_step;
        let now = self.clock.now;
        let cut = Cut::Budget { now, committed: self.clock.committed() };
        let metrics = &self.clock.buffers[worker * k..(worker + 1) * k];
        let outcome = self.book.report(worker, epoch, start, now, launch, metrics, cost, self.scheduler, cut)?;
        if outcome == TrialOutcome::Continue {
            let run_to = if self.clock.runs { self.book.segment_end(worker).unwrap_or(0) } else { 0 };
            self.clock.dispatch(&self.book, worker, trial, None, run_to)
        } else {
            self.clock.steps[worker] = None;
            self.clock.shut_down(&mut self.book, worker, trial, epoch);
            self.book.release(worker);
            self.book.assign(worker, &mut self.clock, self.scheduler, rng)
        }
    }

    /// The totals, with steps still running when the cell ends paid for up to now.
    fn finish(mut self, stop_reason: StopReason) -> Result<CellOutcome, SimError> {
        // Runs under way: the steps that ended before the cell did were results.
        for worker in 0..self.clock.steps.len() {
            if let Some(step) = self.clock.steps[worker].filter(|s| s.last > s.epoch) {
                let base = worker * RUN_STEPS;
                let (mut until, mut end, mut launch) = (step.epoch, step.start, step.launch);
                while until < step.last {
                    end += launch + self.clock.run_costs[base + (until - step.epoch) as usize];
                    if end > self.clock.now {
                        break;
                    }
                    (until, launch) = (until + 1, 0.0);
                }
                self.clock.report_run(&mut self.book, worker, self.scheduler, until)?;
            }
        }
        self.book.close_segments();
        for step in self.clock.steps.iter().flatten() {
            if step.start > self.clock.now && self.book.trial(step.trial).high_water == 0 {
                // Its process was still waiting for the worker's previous one to exit: the
                // trial never started (a live study never launches it).
                self.clock.full_training -= self.clock.trials[step.trial as usize].full;
            }
            // Paid for, as compute; a launch cut off before its first report shows no overhead
            // in the trace, so none is counted apart (as a live study, which cannot tell).
            let paid = (self.clock.now - step.start).clamp(0.0, step.launch + step.cost);
            self.clock.compute_done += paid;
            self.book.paid_partial_step(step.trial, step.epoch, paid);
        }
        // The cell ends when its last process has exited: a shutdown under way when the wall
        // clock runs out still takes its time, as it does live.
        self.clock.now = self.clock.worker_free_at.iter().fold(self.clock.now, |a, &b| a.max(b));
        let totals = self.book.totals();
        let compute = self.clock.compute_done;
        let (with, without) = totals.compute_with_and_without_checkpointing(compute, self.book.settings().checkpointing);
        let wallclock = self.clock.now;
        let workers = f64::from(self.book.settings().workers);
        let stats = CellStats {
            trials: totals.trials,
            epochs: totals.epochs,
            full_evaluations: totals.full_evaluations,
            diverged_trials: totals.failed_trials,
            compute_seconds: compute,
            // What the trace shows, as a live study counts it.
            overhead_seconds: self.book.trace().overhead_seconds(),
            wallclock_seconds: wallclock,
            idle_seconds: (workers * wallclock - compute).max(0.0),
            full_training_seconds: self.clock.full_training,
            compute_with_checkpointing_seconds: with,
            compute_without_checkpointing_seconds: without,
            stop_reason,
            sampler_warnings: self.scheduler.sampler_warnings(),
        };
        let (trace, _) = self.book.into_trace();
        Ok(CellOutcome { trace, stats })
    }
}

/// Rows of trace a cell holds before [`simulate_into`] writes them to its sink: 2^18, Parquet's
/// default row group, about 15 MB of columns for one objective.
pub const SPILL_ROWS: usize = 1 << 18;

/// Most steps one cell may simulate: 10^8, about a minute of one core. A budget that needs more
/// (a compute budget of 10^300 seconds, a step that costs 10^-300 seconds) would never end; the
/// cell is refused with the budget's keys named instead of running until memory or patience runs
/// out.
pub const MAX_CELL_STEPS: u64 = 100_000_000;

/// Most trials one cell may start: 10^7 (a trial's configuration, curve and scheduler state stay
/// in memory while the cell runs, a few hundred bytes each).
pub const MAX_CELL_TRIALS: u64 = hposim_core::budget::MAX_TRIALS;

/// Simulates one cell: `scheduler` (with its sampler) on `benchmark` under `settings`, drawing
/// the strategy's randomness from `rng` and each trial's noise from `noise_seed` and its
/// configuration ([`hposim_core::Config::noise_key`]), and charging the launch overhead
/// `settings.overhead` resolves to. The whole trace is held in memory (see [`simulate_into`]).
pub fn simulate(
    benchmark: &dyn Benchmark,
    scheduler: &mut dyn Scheduler,
    settings: &SimSettings,
    rng: &mut Rng,
    noise_seed: u64,
) -> Result<CellOutcome, SimError> {
    simulate_into(benchmark, scheduler, settings, rng, noise_seed, None)
}

/// [`simulate`], writing the trace's rows to `sink` every [`SPILL_ROWS`] rows and dropping them
/// from memory, so that the cell's memory is that of its live state (trials, rungs, models)
/// however long it runs; the outcome's trace holds the rows not yet written (and
/// [`hposim_core::Trace::written`] sums up the others).
pub fn simulate_into(
    benchmark: &dyn Benchmark,
    scheduler: &mut dyn Scheduler,
    settings: &SimSettings,
    rng: &mut Rng,
    noise_seed: u64,
    mut sink: Option<&mut dyn RowSink>,
) -> Result<CellOutcome, SimError> {
    let workers = settings.workers as usize;
    let k = benchmark.objectives().len();
    let book_settings = BookSettings {
        workers: settings.workers,
        budget: settings.budget.clone(),
        checkpointing: settings.checkpointing,
        max_fidelity: benchmark.fidelity().max,
    };
    let clock = Clock {
        bench: benchmark,
        metrics_per_step: k,
        max_fidelity: benchmark.fidelity().max,
        noise_seed,
        now: 0.0,
        queue: EventQueue::with_capacity(workers),
        steps: vec![None; workers],
        buffers: vec![0.0; workers * k],
        trials: Vec::new(),
        overhead: if settings.launch_overhead { benchmark.overhead() } else { LaunchOverhead::ZERO },
        worker_free_at: vec![0.0; workers],
        pending: vec![None; workers],
        pending_count: 0,
        compute_done: 0.0,
        compute_committed: 0.0,
        full_training: 0.0,
        runs: settings.trace == TraceLevel::Decisions
            && settings.budget.compute_seconds.is_none()
            && settings.budget.full_evaluations.is_none()
            && !scheduler.wakes_on_every_result(),
        deadline: settings.budget.wallclock_seconds.unwrap_or(f64::INFINITY),
        run_costs: vec![0.0; workers * RUN_STEPS],
        run_metrics: vec![0.0; workers * RUN_STEPS * k],
    };
    let mut book = TrialBook::new(book_settings, benchmark.objectives().to_vec(), 4096);
    book.set_trace_level(settings.trace);
    let mut cell = Cell { book, clock, scheduler };
    for worker in 0..workers {
        cell.book.assign(worker, &mut cell.clock, cell.scheduler, rng)?;
    }
    let deadline = settings.budget.wallclock_seconds;
    let ended = loop {
        let Some(event) = cell.clock.queue.pop() else { break None };
        if let Some(d) = deadline
            && event.time > d
        {
            cell.clock.now = d;
            break Some(StopReason::Wallclock);
        }
        cell.clock.now = event.time;
        cell.complete(event.worker as usize, rng)?;
        if cell.book.full_evaluations_reached() {
            // Steps that complete at this very instant are results too; record them, then end.
            while cell.clock.queue.peek().is_some_and(|e| e.time <= cell.clock.now) {
                if let Some(event) = cell.clock.queue.pop() {
                    cell.complete(event.worker as usize, rng)?;
                }
            }
            break Some(StopReason::FullEvaluations);
        }
        if cell.book.waiting() > 0 {
            cell.book.wake_waiting(&mut cell.clock, cell.scheduler, rng)?;
        }
        if let Some(sink) = sink.as_deref_mut()
            && cell.book.trace().len() >= SPILL_ROWS
        {
            // Every row is settled here: a launch's exit is recorded with its last step.
            cell.book.spill(sink).map_err(SimError::Write)?;
        }
        if cell.book.results() > MAX_CELL_STEPS {
            return Err(SimError::Endless { what: format!("simulated more than {MAX_CELL_STEPS} steps"), budget: settings.budget.clone() });
        }
        if cell.book.trials().len() as u64 > MAX_CELL_TRIALS {
            return Err(SimError::Endless { what: format!("started more than {MAX_CELL_TRIALS} trials"), budget: settings.budget.clone() });
        }
    };
    let stop_reason = cell.book.stop_reason(ended);
    cell.finish(stop_reason)
}

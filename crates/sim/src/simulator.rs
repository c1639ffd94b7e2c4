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
//! Per step the loop does no allocation beyond the trace's amortised column growth: metrics are
//! computed into a per-worker buffer, observations borrow it, and the event queue never holds
//! more than one event per worker.

use crate::event_queue::EventQueue;
use hposim_book::{BookError, BookSettings, Cut, Executor, Launch, TrialBook};
use hposim_core::rng::mix;
use hposim_core::{Budget, CellOutcome, CellStats, Rng, StopReason, TrialId, TrialOutcome};
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
}

/// The step a simulated worker is running.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Step {
    trial: TrialId,
    epoch: u32,
    start: f64,
    cost: f64,
}

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
    curves: Vec<TrialCurve>,
    /// Cost of the steps completed (and, at the end, of the parts of running steps paid for).
    compute_done: f64,
    /// Cost of every step started: a step's cost is committed when it starts.
    compute_committed: f64,
    full_training: f64,
}

impl Executor for Clock<'_> {
    type Error = SimError;

    fn now(&self) -> f64 {
        self.now
    }

    fn committed(&self) -> f64 {
        self.compute_committed
    }

    fn repeat_cost(&self, book: &TrialBook, trial: TrialId) -> f64 {
        let state = book.trial(trial);
        let curve = &self.curves[trial as usize];
        self.bench.cost_until(curve, state.done) - self.bench.cost_until(curve, state.first)
    }

    fn launch(&mut self, book: &TrialBook, worker: usize, launch: Launch) -> Result<(), SimError> {
        match launch {
            Launch::Start { trial } => {
                let curve = self.bench.open(&book.trial(trial).config, mix(self.noise_seed, u64::from(trial)));
                self.full_training += self.bench.cost_until(&curve, self.max_fidelity);
                self.curves.push(curve);
            }
            Launch::Exploit { trial, donor, step, .. } => {
                let seed = mix(self.noise_seed, u64::from(trial));
                let curve = self
                    .bench
                    .splice(&self.curves[donor as usize], &book.trial(trial).config, step, seed)
                    .ok_or_else(|| SimError::CannotSplice { benchmark: self.bench.name().to_owned() })?;
                // No addition to `full_training`: the new trial takes the recipient's place in
                // the population, whose training to the end is already counted.
                self.curves.push(curve);
            }
            Launch::Resume { .. } => {}
        }
        self.dispatch(book, worker, launch.trial())
    }
}

impl Clock<'_> {
    /// Starts the next step of `trial` on `worker`.
    fn dispatch(&mut self, book: &TrialBook, worker: usize, trial: TrialId) -> Result<(), SimError> {
        let k = self.metrics_per_step;
        let epoch = book.trial(trial).done + 1;
        let cost = self.bench.step(&self.curves[trial as usize], epoch, &mut self.buffers[worker * k..(worker + 1) * k]);
        if !(cost.is_finite() && cost > 0.0) {
            return Err(SimError::BadCost { trial, epoch, cost });
        }
        self.queue.push(self.now + cost, worker as u32);
        self.compute_committed += cost;
        self.steps[worker] = Some(Step { trial, epoch, start: self.now, cost });
        Ok(())
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
        let Some(Step { trial, epoch, start, cost }) = self.clock.steps[worker] else {
            return Ok(());
        };
        self.clock.compute_done += cost;
        let k = self.clock.metrics_per_step;
        let now = self.clock.now;
        let cut = Cut::Budget { now, committed: self.clock.compute_committed };
        let metrics = &self.clock.buffers[worker * k..(worker + 1) * k];
        let outcome = self.book.report(worker, epoch, start, now, metrics, cost, self.scheduler, cut)?;
        if outcome == TrialOutcome::Continue {
            self.clock.dispatch(&self.book, worker, trial)
        } else {
            self.clock.steps[worker] = None;
            self.book.release(worker);
            self.book.assign(worker, &mut self.clock, self.scheduler, rng)
        }
    }

    /// The totals, with steps still running when the cell ends paid for up to now.
    fn finish(mut self, stop_reason: StopReason) -> CellOutcome {
        for step in self.clock.steps.iter().flatten() {
            let paid = (self.clock.now - step.start).clamp(0.0, step.cost);
            self.clock.compute_done += paid;
            self.book.paid_partial_step(step.trial, step.epoch, paid);
        }
        let totals = self.book.totals();
        let repeats = totals.repeats;
        let compute = self.clock.compute_done;
        let (with, without) =
            if self.book.settings().checkpointing { (compute, compute + repeats) } else { ((compute - repeats).max(0.0), compute) };
        let wallclock = self.clock.now;
        let workers = f64::from(self.book.settings().workers);
        let stats = CellStats {
            trials: totals.trials,
            epochs: totals.epochs,
            full_evaluations: totals.full_evaluations,
            diverged_trials: totals.failed_trials,
            compute_seconds: compute,
            wallclock_seconds: wallclock,
            idle_seconds: (workers * wallclock - compute).max(0.0),
            full_training_seconds: self.clock.full_training,
            compute_with_checkpointing_seconds: with,
            compute_without_checkpointing_seconds: without,
            stop_reason,
            sampler_warnings: self.scheduler.sampler_warnings(),
        };
        let (trace, _) = self.book.into_trace();
        CellOutcome { trace, stats }
    }
}

/// Simulates one cell: `scheduler` (with its sampler) on `benchmark` under `settings`, drawing
/// the strategy's randomness from `rng` and each trial's noise from `noise_seed` and its id.
pub fn simulate(
    benchmark: &dyn Benchmark,
    scheduler: &mut dyn Scheduler,
    settings: &SimSettings,
    rng: &mut Rng,
    noise_seed: u64,
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
        queue: EventQueue::with_capacity(workers + 1),
        steps: vec![None; workers],
        buffers: vec![0.0; workers * k],
        curves: Vec::new(),
        compute_done: 0.0,
        compute_committed: 0.0,
        full_training: 0.0,
    };
    let mut cell = Cell { book: TrialBook::new(book_settings, benchmark.objectives().to_vec(), 4096), clock, scheduler };
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
    };
    let stop_reason = cell.book.stop_reason(ended);
    Ok(cell.finish(stop_reason))
}

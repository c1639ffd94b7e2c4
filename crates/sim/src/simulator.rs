//! The discrete-event simulator: `N` simulated workers, a simulated clock, and a benchmark that
//! supplies each step's metrics and cost.
//!
//! The loop is the one of Syne Tune's simulator back-end and of Li et al.'s ASHA simulations:
//! whenever a worker is free, the scheduler is asked what it should do; every step of a running
//! trial is an event at `start + cost`; events are processed in time order (ties by the order
//! they were scheduled), each result goes to the scheduler, whose decision keeps the trial on
//! its worker, pauses it or stops it. A scheduler that answers [`Action::Wait`] leaves its
//! worker idle, and is asked again after each later result; if nothing is left running while
//! it still waits, the cell ends as stalled. Idle time is accounted, because it is
//! what asynchronous schedulers exist to remove.
//!
//! Budgets (see [`Budget`]) end the loop; a step whose metrics are NaN or infinite is recorded
//! as diverged and its trial stopped, and the strategy carries on.
//!
//! Per step the loop does no allocation beyond the trace's amortised column growth: metrics are
//! computed into a per-worker buffer, observations borrow it, and the event queue never holds
//! more than one event per worker.

use crate::budget::{Budget, StopReason};
use crate::event_queue::EventQueue;
use crate::trace::{Row, Trace};
use hposim_core::rng::mix;
use hposim_core::{Action, Config, Decision, EpochStatus, Observation, Rng, TrialOutcome, WorkerRequest};
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

/// Totals of a simulated cell.
#[derive(Clone, Debug, PartialEq)]
pub struct CellStats {
    /// Trials started.
    pub trials: u64,
    /// Steps completed.
    pub epochs: u64,
    /// Steps completed at full fidelity.
    pub full_evaluations: u64,
    /// Trials stopped because they diverged.
    pub diverged_trials: u64,
    /// Worker-seconds spent training (partial steps cut off by the end included).
    pub compute_seconds: f64,
    /// Simulated time at the end.
    pub wallclock_seconds: f64,
    /// Worker-seconds without work: `workers × wallclock − compute`.
    pub idle_seconds: f64,
    /// Worker-seconds that training every started trial from scratch to full fidelity would
    /// cost: the compute of the same trials without early termination.
    pub full_training_seconds: f64,
    /// The compute of the same decisions with checkpointing: `compute_seconds` if the cell
    /// checkpoints, else `compute_seconds` minus the steps repeated after restarts.
    pub compute_with_checkpointing_seconds: f64,
    /// The compute of the same decisions without checkpointing: `compute_seconds` if the cell
    /// restarts paused trials, else `compute_seconds` plus, for every resume, the steps a
    /// restart would have repeated.
    pub compute_without_checkpointing_seconds: f64,
    /// Why the cell ended.
    pub stop_reason: StopReason,
    /// Proposals where the sampler's model failed and it fell back to a random configuration.
    pub sampler_warnings: u64,
}

/// A simulated cell: its trace and totals.
#[derive(Clone, Debug)]
pub struct CellOutcome {
    /// Every completed step.
    pub trace: Trace,
    /// Totals.
    pub stats: CellStats,
}

/// A scheduler or benchmark broke the simulator's protocol.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// A resume named a trial that cannot be resumed.
    #[error("the scheduler asked to resume trial {trial}, which {problem}")]
    BadResume {
        /// The trial.
        trial: u32,
        /// Why not.
        problem: &'static str,
    },
    /// A start or resume asked for a fidelity outside the benchmark's range.
    #[error("the scheduler asked to run a trial until fidelity {until}, outside 1..={max}")]
    BadTarget {
        /// The fidelity asked for.
        until: u32,
        /// The benchmark's full fidelity.
        max: u32,
    },
    /// An exploit named trials or a step that cannot be copied.
    #[error("the scheduler asked to copy trial {donor}'s checkpoint at step {step} into a new trial, but {problem}")]
    BadExploit {
        /// The donor.
        donor: u32,
        /// The step.
        step: u32,
        /// Why not.
        problem: String,
    },
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

#[derive(Clone, Copy, Debug, PartialEq)]
enum WorkerState {
    Free,
    /// Told to wait while processing event number `since` (events are numbered from 1).
    Waiting {
        since: u64,
    },
    Busy {
        trial: u32,
        epoch: u32,
        start: f64,
        cost: f64,
    },
    Finished,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TrialStatus {
    Running,
    Paused,
    Stopped,
    Done,
}

#[derive(Debug)]
struct TrialState {
    config: Config,
    curve: TrialCurve,
    /// The step the trial started after: 0, or the copied step of an exploit.
    first: u32,
    /// The last step whose metrics were finite (a diverged step's checkpoint is never copied).
    last_ok: u32,
    done: u32,
    /// The highest step ever completed (above `done` after a restart without checkpoint).
    high_water: u32,
    until: u32,
    status: TrialStatus,
}

struct Sim<'a> {
    bench: &'a dyn Benchmark,
    settings: &'a SimSettings,
    metrics_per_step: usize,
    max_fidelity: u32,
    noise_seed: u64,
    now: f64,
    queue: EventQueue,
    workers: Vec<WorkerState>,
    waiting: usize,
    events: u64,
    buffers: Vec<f64>,
    trials: Vec<TrialState>,
    trace: Trace,
    compute_done: f64,
    compute_committed: f64,
    full_training: f64,
    /// Checkpointing: what restarts would have repeated. Without: what restarts did repeat.
    restarts: f64,
    epochs: u64,
    full_evaluations: u64,
    diverged: u64,
    refused: Option<StopReason>,
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
    let mut sim = Sim {
        bench: benchmark,
        settings,
        metrics_per_step: k,
        max_fidelity: benchmark.fidelity().max,
        noise_seed,
        now: 0.0,
        queue: EventQueue::with_capacity(workers + 1),
        workers: vec![WorkerState::Free; workers],
        waiting: 0,
        events: 0,
        buffers: vec![0.0; workers * k],
        trials: Vec::new(),
        trace: Trace::with_capacity(benchmark.objectives().to_vec(), 4096),
        compute_done: 0.0,
        compute_committed: 0.0,
        full_training: 0.0,
        restarts: 0.0,
        epochs: 0,
        full_evaluations: 0,
        diverged: 0,
        refused: None,
    };
    for w in 0..workers {
        sim.assign(w, scheduler, rng)?;
    }
    let deadline = settings.budget.wallclock_seconds;
    let stop = loop {
        let Some(event) = sim.queue.pop() else { break None };
        if let Some(d) = deadline
            && event.time > d
        {
            sim.now = d;
            break Some(StopReason::Wallclock);
        }
        sim.now = event.time;
        sim.events += 1;
        sim.complete(event.worker as usize, scheduler, rng)?;
        if sim.full_evaluations_reached() {
            // Steps that complete at this very instant are results too; record them, then end.
            while sim.queue.peek().is_some_and(|e| e.time <= sim.now) {
                if let Some(event) = sim.queue.pop() {
                    sim.complete(event.worker as usize, scheduler, rng)?;
                }
            }
            break Some(StopReason::FullEvaluations);
        }
        if sim.waiting > 0 {
            sim.wake_waiting(scheduler, rng)?;
        }
    };
    let stop_reason = match stop.or(sim.refused) {
        Some(reason) => reason,
        None if sim.waiting > 0 => StopReason::Stalled,
        None => StopReason::StrategyFinished,
    };
    let mut outcome = sim.finish(stop_reason);
    outcome.stats.sampler_warnings = scheduler.sampler_warnings();
    Ok(outcome)
}

impl Sim<'_> {
    fn full_evaluations_reached(&self) -> bool {
        self.settings.budget.full_evaluations.is_some_and(|n| self.full_evaluations >= n)
    }

    /// Whether a new step may start now.
    fn may_dispatch(&mut self) -> bool {
        if self.full_evaluations_reached() {
            self.refused = Some(StopReason::FullEvaluations);
            return false;
        }
        if self.settings.budget.compute_seconds.is_some_and(|b| self.compute_committed >= b) {
            self.refused = Some(StopReason::Compute);
            return false;
        }
        if self.settings.budget.wallclock_seconds.is_some_and(|d| self.now >= d) {
            self.refused = Some(StopReason::Wallclock);
            return false;
        }
        true
    }

    /// Asks the scheduler what free worker `w` should do, and does it.
    fn assign(&mut self, w: usize, scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<(), SimError> {
        if matches!(self.workers[w], WorkerState::Waiting { .. }) {
            self.waiting -= 1;
        }
        if !self.may_dispatch() {
            self.workers[w] = WorkerState::Finished;
            return Ok(());
        }
        let request = WorkerRequest { now: self.now, worker: w as u32, next_trial: self.trials.len() as u32 };
        match scheduler.on_free_worker(&request, rng) {
            Action::Start { config, until } => {
                self.check_target(until)?;
                let id = self.trials.len() as u32;
                let curve = self.bench.open(&config, mix(self.noise_seed, u64::from(id)));
                self.full_training += self.bench.cost_until(&curve, self.max_fidelity);
                self.trials.push(TrialState {
                    config,
                    curve,
                    first: 0,
                    last_ok: 0,
                    done: 0,
                    high_water: 0,
                    until,
                    status: TrialStatus::Running,
                });
                self.dispatch(w, id)
            }
            Action::Exploit { donor, recipient, step, config, until } => self.exploit(w, donor, recipient, step, config, until),
            Action::Resume { trial, until } => {
                self.check_target(until)?;
                let checkpointing = self.settings.checkpointing;
                let state = self.trials.get_mut(trial as usize).ok_or(SimError::BadResume { trial, problem: "does not exist" })?;
                if state.status != TrialStatus::Paused {
                    return Err(SimError::BadResume { trial, problem: "is not paused" });
                }
                if checkpointing {
                    if until <= state.done {
                        return Err(SimError::BadResume { trial, problem: "has already reached the fidelity asked for" });
                    }
                    self.restarts += self.bench.cost_until(&state.curve, state.done) - self.bench.cost_until(&state.curve, state.first);
                } else {
                    state.done = state.first;
                }
                state.until = until;
                self.dispatch(w, trial)
            }
            Action::Wait => {
                self.workers[w] = WorkerState::Waiting { since: self.events };
                self.waiting += 1;
                Ok(())
            }
            Action::Finish => {
                self.workers[w] = WorkerState::Finished;
                Ok(())
            }
        }
    }

    /// Starts a new trial on worker `w` from `donor`'s checkpoint after `step`, with `config`.
    fn exploit(&mut self, w: usize, donor: u32, recipient: u32, step: u32, config: Config, until: u32) -> Result<(), SimError> {
        self.check_target(until)?;
        let bad = |problem: String| SimError::BadExploit { donor, step, problem };
        let id = self.trials.len() as u32;
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
        let source = &self.trials[donor as usize];
        let curve = self
            .bench
            .splice(&source.curve, &config, step, mix(self.noise_seed, u64::from(id)))
            .ok_or_else(|| SimError::CannotSplice { benchmark: self.bench.name().to_owned() })?;
        // No addition to `full_training`: the new trial takes the recipient's place in the
        // population, whose training to the end is already counted.
        self.trace.exploits.push(crate::trace::Exploit { time: self.now, trial: id, donor, recipient, step });
        self.trials.push(TrialState {
            config,
            curve,
            first: step,
            last_ok: step,
            done: step,
            high_water: step,
            until,
            status: TrialStatus::Running,
        });
        self.dispatch(w, id)
    }

    fn check_target(&self, until: u32) -> Result<(), SimError> {
        if until == 0 || until > self.max_fidelity {
            return Err(SimError::BadTarget { until, max: self.max_fidelity });
        }
        Ok(())
    }

    /// Starts the next step of `trial` on worker `w`.
    fn dispatch(&mut self, w: usize, trial: u32) -> Result<(), SimError> {
        let k = self.metrics_per_step;
        let state = &mut self.trials[trial as usize];
        let epoch = state.done + 1;
        let cost = self.bench.step(&state.curve, epoch, &mut self.buffers[w * k..(w + 1) * k]);
        if !(cost.is_finite() && cost > 0.0) {
            return Err(SimError::BadCost { trial, epoch, cost });
        }
        state.status = TrialStatus::Running;
        self.queue.push(self.now + cost, w as u32);
        self.compute_committed += cost;
        self.workers[w] = WorkerState::Busy { trial, epoch, start: self.now, cost };
        Ok(())
    }

    /// Records the step that worker `w` just completed and acts on the scheduler's decision.
    fn complete(&mut self, w: usize, scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<(), SimError> {
        let WorkerState::Busy { trial, epoch, start, cost } = self.workers[w] else {
            return Ok(());
        };
        self.compute_done += cost;
        self.epochs += 1;
        let k = self.metrics_per_step;
        let metrics = &self.buffers[w * k..(w + 1) * k];
        let state = &mut self.trials[trial as usize];
        state.done = epoch;
        if epoch <= state.high_water {
            self.restarts += cost;
        }
        state.high_water = state.high_water.max(epoch);
        let (status, outcome) = if metrics.iter().all(|m| m.is_finite()) {
            state.last_ok = epoch;
            if epoch >= self.max_fidelity {
                self.full_evaluations += 1;
            }
            let observation = Observation { trial, config: &state.config, fidelity: epoch, metrics, time: self.now };
            let decision = scheduler.on_result(&observation);
            let outcome = if epoch >= self.max_fidelity {
                TrialOutcome::Done
            } else {
                match decision {
                    Decision::Stop => TrialOutcome::Stop,
                    Decision::Pause => TrialOutcome::Pause,
                    Decision::Continue if epoch >= state.until => TrialOutcome::Pause,
                    Decision::Continue => TrialOutcome::Continue,
                }
            };
            (EpochStatus::Ok, outcome)
        } else {
            self.diverged += 1;
            scheduler.on_failure(&Observation { trial, config: &state.config, fidelity: epoch, metrics, time: self.now });
            (EpochStatus::Diverged, TrialOutcome::Stop)
        };
        let outcome = if outcome == TrialOutcome::Continue && !self.may_dispatch() { TrialOutcome::Cut } else { outcome };
        self.trace.push(Row { trial, worker: w as u32, epoch, start, end: self.now, status, outcome }, &self.buffers[w * k..(w + 1) * k]);
        let state = &mut self.trials[trial as usize];
        state.status = match outcome {
            TrialOutcome::Continue => TrialStatus::Running,
            TrialOutcome::Pause | TrialOutcome::Cut => TrialStatus::Paused,
            TrialOutcome::Stop => TrialStatus::Stopped,
            TrialOutcome::Done => TrialStatus::Done,
        };
        if outcome == TrialOutcome::Continue {
            self.dispatch(w, trial)
        } else {
            self.workers[w] = WorkerState::Free;
            self.assign(w, scheduler, rng)
        }
    }

    /// Asks again, in worker order, the workers that were already waiting before the current
    /// event (one told to wait while this event was handled has nothing new to hear), until one
    /// is told to wait again: `Wait` means there is no job for any free worker until the next
    /// result, so asking the rest would only cost time (O(workers) per event with 64 idle
    /// workers behind a synchronous rung).
    fn wake_waiting(&mut self, scheduler: &mut dyn Scheduler, rng: &mut Rng) -> Result<(), SimError> {
        for w in 0..self.workers.len() {
            if matches!(self.workers[w], WorkerState::Waiting { since } if since < self.events) {
                self.assign(w, scheduler, rng)?;
                if matches!(self.workers[w], WorkerState::Waiting { .. }) {
                    break;
                }
            }
        }
        Ok(())
    }

    fn finish(mut self, stop_reason: StopReason) -> CellOutcome {
        // Steps still running when the cell ends were paid for up to now.
        for worker in &self.workers {
            if let WorkerState::Busy { trial, epoch, start, cost } = *worker {
                let paid = (self.now - start).clamp(0.0, cost);
                self.compute_done += paid;
                if epoch <= self.trials[trial as usize].high_water {
                    self.restarts += paid;
                }
            }
        }
        let (with, without) = if self.settings.checkpointing {
            (self.compute_done, self.compute_done + self.restarts)
        } else {
            ((self.compute_done - self.restarts).max(0.0), self.compute_done)
        };
        let wallclock = self.now;
        let stats = CellStats {
            trials: self.trials.len() as u64,
            epochs: self.epochs,
            full_evaluations: self.full_evaluations,
            diverged_trials: self.diverged,
            compute_seconds: self.compute_done,
            wallclock_seconds: wallclock,
            idle_seconds: (f64::from(self.settings.workers) * wallclock - self.compute_done).max(0.0),
            full_training_seconds: self.full_training,
            compute_with_checkpointing_seconds: with,
            compute_without_checkpointing_seconds: without,
            stop_reason,
            sampler_warnings: 0,
        };
        self.trace.configs = self.trials.into_iter().map(|t| t.config).collect();
        CellOutcome { trace: self.trace, stats }
    }
}

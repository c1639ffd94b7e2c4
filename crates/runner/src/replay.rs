//! An executor that replays a benchmark on a virtual clock instead of running processes: each
//! launch "trains" its trial by printing the benchmark's report line for every step at the
//! virtual time the step's cost says, and exits after its target step or when it is signalled.
//!
//! A live study run on it is a simulation done by the live study loop, with the journal, the
//! process bookkeeping and the protocol all in play, so it must agree with the simulator step
//! for step: this is the differential test of the two executors (`tests/differential.rs`), and
//! a dry run of a live experiment on a benchmark.
//!
//! It follows the simulator's conventions so that the two are comparable exactly: a trial's
//! curve is opened with the noise stream `mix(noise_seed, config.noise_key())` (an exploit's
//! with the copied step mixed in), an exploit splices the donor's curve, a step's metrics and
//! cost are computed when the step starts, and a step started counts in full towards committed
//! compute. Processes pay the benchmark's launch overhead ([`hposim_core::overhead`]) as the
//! simulator charges it: a launch's first report comes start-up (or resume) plus the step's cost
//! after the launch; every report carries `step_seconds`, so that the study can tell the two apart; a
//! process that has reported its last step exits after the shutdown time. Without overhead,
//! processes start and stop instantly: a signalled process, or one past its target step, has
//! exited by the time the study asks ([`Executor::ended`]).

use crate::executor::{Event, EventKind, Executor, ExecutorError, Job, Signal};
use hposim_core::{LaunchOverhead, OverheadKind, TrialId};
use hposim_curves::{Benchmark, TrialCurve};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, VecDeque};

/// A step report due at `time` (ties by scheduling order).
#[derive(Clone, Copy, Debug)]
struct Due {
    time: f64,
    seq: u64,
    launch: u64,
    /// The launch's exit after its shutdown, rather than a report.
    exit: bool,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    /// Reversed, so that the max-heap pops the earliest report.
    fn cmp(&self, other: &Self) -> Ordering {
        other.time.total_cmp(&self.time).then_with(|| other.seq.cmp(&self.seq))
    }
}

/// A launch that runs.
#[derive(Debug)]
struct Process {
    trial: TrialId,
    /// The step being trained and its report line.
    step: u32,
    line: String,
    until: u32,
    /// The sequence number of its pending report (stale heap entries are skipped).
    seq: u64,
    /// Costs of the steps it has started.
    committed: f64,
    /// Its exit is on its way: it reports nothing more.
    exiting: bool,
    /// The status it exits with once its shutdown is over.
    exit_code: Option<i32>,
    /// It has reported its last step and waits to be ended (no step pending).
    idle: bool,
}

/// Replays `bench` for a live study on `slots` worker slots.
pub struct ReplayExecutor<'b> {
    bench: &'b dyn Benchmark,
    noise_seed: u64,
    overhead: LaunchOverhead,
    /// Each trial's noise seed.
    seeds: HashMap<TrialId, u64>,
    slots: usize,
    now: f64,
    next_seq: u64,
    curves: HashMap<TrialId, TrialCurve>,
    /// Trials started from another trial's checkpoint: their training to the end is the
    /// replaced trial's, already counted (as in the simulator).
    copies: Vec<TrialId>,
    processes: HashMap<u64, Process>,
    due: BinaryHeap<Due>,
    /// Events that happen at once (exits), before any report due later.
    now_events: VecDeque<Event>,
    metrics: Vec<f64>,
}

impl<'b> ReplayExecutor<'b> {
    /// Replays `bench` on `slots` slots, each trial's noise drawn from
    /// `mix(noise_seed, config.noise_key())`, each launch paying the benchmark's overhead.
    pub fn new(bench: &'b dyn Benchmark, slots: usize, noise_seed: u64) -> Self {
        Self {
            bench,
            noise_seed,
            overhead: bench.overhead(),
            seeds: HashMap::new(),
            slots,
            now: 0.0,
            next_seq: 0,
            curves: HashMap::new(),
            copies: Vec::new(),
            processes: HashMap::new(),
            due: BinaryHeap::new(),
            now_events: VecDeque::new(),
            metrics: vec![0.0; bench.objectives().len()],
        }
    }

    /// Schedules the report of step `step` of `launch`'s trial, which starts now (after the
    /// launch's `overhead`, for its first step).
    fn start_step(&mut self, launch: u64, step: u32, overhead: f64) -> Result<(), ExecutorError> {
        let Some(process) = self.processes.get_mut(&launch) else { return Ok(()) };
        let Some(curve) = self.curves.get(&process.trial) else { return Ok(()) };
        let cost = self.bench.step(curve, step, &mut self.metrics);
        if !(cost.is_finite() && cost > 0.0) {
            return Err(ExecutorError::new(
                format!("replaying trial {} step {step}", process.trial),
                format!("the benchmark returned cost {cost}; costs must be finite and positive"),
            ));
        }
        process.step = step;
        process.line = crate::protocol::report_line(step, self.bench.objectives(), &self.metrics);
        // The step's own time, so that the study tells the launch's overhead apart.
        process.line.pop();
        process.line.push_str(&format!(", \"{}\": {cost:?}}}", crate::protocol::STEP_SECONDS));
        process.seq = self.next_seq;
        process.committed += overhead + cost;
        self.due.push(Due { time: self.now + (overhead + cost), seq: self.next_seq, launch, exit: false });
        self.next_seq += 1;
        Ok(())
    }
}

impl ReplayExecutor<'_> {
    /// `launch`, idle after its last report, exits with `code` once its shutdown is over: at
    /// once without overhead, else as an event due then (its time committed now, as the
    /// simulator commits it).
    fn exit_after_shutdown(&mut self, launch: u64, code: Option<i32>) {
        let Some(process) = self.processes.get_mut(&launch) else { return };
        process.exiting = true;
        let seed = self.seeds.get(&process.trial).copied().unwrap_or(0);
        let seconds = self.overhead.draw(OverheadKind::Shutdown, seed, process.step);
        if seconds > 0.0 {
            process.committed += seconds;
            process.seq = self.next_seq;
            process.exit_code = code;
            self.due.push(Due { time: self.now + seconds, seq: self.next_seq, launch, exit: true });
            self.next_seq += 1;
        } else {
            self.now_events.push_back(Event { launch, kind: EventKind::Exited(code), at: self.now });
        }
    }
}

impl Executor for ReplayExecutor<'_> {
    fn now(&self) -> f64 {
        self.now
    }

    fn slots(&self) -> usize {
        self.slots
    }

    fn slot_env(&self, _slot: usize) -> Vec<(String, String)> {
        Vec::new()
    }

    fn launch(&mut self, _slot: usize, job: &Job) -> Result<(), ExecutorError> {
        let seed = job.config.trial_seed(self.noise_seed, job.copy_of.map(|(_, step)| step));
        if let Some((donor, step)) = job.copy_of {
            self.seeds.insert(job.trial, seed);
            let what = || format!("starting trial {} from trial {donor}'s checkpoint", job.trial);
            let source = self.curves.get(&donor).ok_or_else(|| ExecutorError::new(what(), "the donor never ran"))?;
            let curve = self.bench.splice(source, &job.config, step, seed).ok_or_else(|| {
                ExecutorError::new(what(), format!("benchmark {:?} cannot change a configuration mid-training", self.bench.name()))
            })?;
            self.curves.insert(job.trial, curve);
            self.copies.push(job.trial);
        } else if !self.curves.contains_key(&job.trial) {
            self.curves.insert(job.trial, self.bench.open(&job.config, seed));
            self.seeds.insert(job.trial, seed);
        }
        // An exploit starts after its copied step, so this is a resume for it too.
        let kind = OverheadKind::of_launch_after(job.start_step);
        let overhead = self.overhead.draw(kind, self.seeds.get(&job.trial).copied().unwrap_or(seed), job.start_step + 1);
        let process = Process {
            trial: job.trial,
            step: 0,
            line: String::new(),
            until: job.until,
            seq: 0,
            committed: 0.0,
            exiting: false,
            exit_code: None,
            idle: false,
        };
        self.processes.insert(job.launch, process);
        self.start_step(job.launch, job.start_step + 1, overhead)
    }

    fn signal(&mut self, launch: u64, _signal: Signal) -> Result<(), ExecutorError> {
        if let Some(process) = self.processes.get_mut(&launch).filter(|p| !p.exiting) {
            if process.idle {
                // Between steps, it shuts down as it would after its target step.
                self.exit_after_shutdown(launch, None);
                return Ok(());
            }
            // Its pending report, if any, is never delivered.
            process.exiting = true;
            process.seq = u64::MAX;
            self.now_events.push_back(Event { launch, kind: EventKind::Exited(None), at: self.now });
        }
        Ok(())
    }

    fn reported(&mut self, launch: u64, step: u32, continues: bool) -> Result<(), ExecutorError> {
        let Some(process) = self.processes.get_mut(&launch).filter(|p| !p.exiting && p.step == step) else { return Ok(()) };
        if continues {
            // The next step starts now, as the simulator starts it once the scheduler decided.
            self.start_step(launch, step + 1, 0.0)
        } else {
            process.idle = true;
            if step >= process.until {
                // Its target reached, it exits after its shutdown; otherwise the study signals
                // it.
                self.exit_after_shutdown(launch, Some(0));
            }
            Ok(())
        }
    }

    fn ended(&mut self, launch: u64) -> Option<Option<i32>> {
        let at = self.now_events.iter().position(|e| e.launch == launch && matches!(e.kind, EventKind::Exited(_)))?;
        let event = self.now_events.remove(at)?;
        self.processes.remove(&launch);
        match event.kind {
            EventKind::Exited(code) => Some(code),
            _ => None,
        }
    }

    fn next_event(&mut self, deadline: f64) -> Result<Option<Event>, ExecutorError> {
        if let Some(event) = self.now_events.pop_front() {
            if matches!(event.kind, EventKind::Exited(_)) {
                self.processes.remove(&event.launch);
            }
            return Ok(Some(event));
        }
        while let Some(due) = self.due.peek().copied() {
            if due.time > deadline {
                break;
            }
            self.due.pop();
            let Some(process) = self.processes.get_mut(&due.launch).filter(|p| p.seq == due.seq) else { continue };
            self.now = due.time;
            if due.exit {
                let code = process.exit_code;
                self.processes.remove(&due.launch);
                return Ok(Some(Event { launch: due.launch, kind: EventKind::Exited(code), at: self.now }));
            }
            let line = std::mem::take(&mut process.line);
            return Ok(Some(Event { launch: due.launch, kind: EventKind::Line(line), at: self.now }));
        }
        if deadline.is_finite() {
            // Nothing due before the deadline: the clock moves on to it.
            self.now = self.now.max(deadline);
        }
        Ok(None)
    }

    fn committed(&self, launch: u64, launched: f64, now: f64) -> f64 {
        self.processes.get(&launch).map_or((now - launched).max(0.0), |p| p.committed)
    }

    fn full_training(&self, trial: TrialId) -> Option<f64> {
        if self.copies.contains(&trial) {
            return Some(0.0);
        }
        let max = self.bench.fidelity().max;
        // One launch from start to end, as the simulator's yardstick charges it.
        let seed = self.seeds.get(&trial).copied().unwrap_or(0);
        self.curves.get(&trial).map(|curve| self.bench.cost_until(curve, max) + self.overhead.whole_run(seed, max))
    }

    fn copies_checkpoints(&self) -> bool {
        true
    }

    fn handle(&self, _launch: u64) -> Option<String> {
        None
    }

    fn name(&self) -> &'static str {
        "replay"
    }
}

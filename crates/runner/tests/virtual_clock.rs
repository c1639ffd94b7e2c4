//! The live study's deadlines on a virtual clock: time limits, the grace period between SIGTERM
//! and SIGKILL, processes that do not exit after their last step, and the wall-clock budget, each
//! at the exact second the settings say. The processes are scripted (an executor that reports
//! steps at fixed virtual times, and can hang or ignore SIGTERM), so the timings are exact and
//! the tests take no real time. (`tests/study.rs` checks the same with real processes, within
//! generous real-time bounds.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hposim_core::{Budget, EpochStatus, Fidelity, Objective, ParamSpec, Rng, SearchSpace, StopReason, TrialOutcome};
use hposim_runner::executor::{Event, EventKind, Executor, ExecutorError, Job, Signal};
use hposim_runner::study::{StudyOutcome, StudySetup, run_study};
use hposim_schedulers::{SchedulerSpec, build};
use rand::SeedableRng;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// How the scripted processes behave.
#[derive(Clone, Copy, Debug)]
struct Script {
    /// Seconds per step.
    step: f64,
    /// Stop reporting (and never exit) after this step.
    hang_after: Option<u32>,
    /// Ignore SIGTERM (only SIGKILL ends them).
    ignore_term: bool,
    /// After the last step, stay alive instead of exiting.
    linger: bool,
}

struct Process {
    next_step: u32,
    until: u32,
    next_at: Option<f64>,
}

/// Processes that follow a script on a virtual clock.
struct Scripted {
    script: Script,
    slots: usize,
    now: f64,
    processes: HashMap<u64, Process>,
    now_events: VecDeque<Event>,
    objectives: Vec<Objective>,
}

impl Scripted {
    fn new(script: Script, slots: usize) -> Self {
        Self {
            script,
            slots,
            now: 0.0,
            processes: HashMap::new(),
            now_events: VecDeque::new(),
            objectives: vec![Objective::minimize("loss")],
        }
    }

    fn exit(&mut self, launch: u64, code: Option<i32>) {
        if self.processes.remove(&launch).is_some() {
            self.now_events.push_back(Event { launch, kind: EventKind::Exited(code), at: self.now });
        }
    }
}

impl Executor for Scripted {
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
        let process = Process { next_step: job.start_step + 1, until: job.until, next_at: Some(self.now + self.script.step) };
        self.processes.insert(job.launch, process);
        Ok(())
    }
    fn signal(&mut self, launch: u64, signal: Signal) -> Result<(), ExecutorError> {
        if signal == Signal::Kill || !self.script.ignore_term {
            self.exit(launch, None);
        } else if let Some(process) = self.processes.get_mut(&launch) {
            // It goes on with nothing to say: the study must kill it.
            process.next_at = None;
        }
        Ok(())
    }
    fn next_event(&mut self, deadline: f64) -> Result<Option<Event>, ExecutorError> {
        if let Some(event) = self.now_events.pop_front() {
            return Ok(Some(event));
        }
        let due =
            self.processes.iter().filter_map(|(&l, p)| p.next_at.map(|at| (at, l))).min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        match due {
            Some((at, launch)) if at <= deadline => {
                self.now = at;
                let script = self.script;
                let process = self.processes.get_mut(&launch).expect("due");
                let step = process.next_step;
                let line = hposim_runner::protocol::report_line(step, &self.objectives, &[1.0 / f64::from(step)]);
                process.next_step += 1;
                let hangs = script.hang_after.is_some_and(|h| step >= h);
                process.next_at = (step < process.until && !hangs).then_some(at + script.step);
                if step >= process.until && !script.linger {
                    self.now_events.push_back(Event { launch, kind: EventKind::Exited(Some(0)), at });
                    self.processes.remove(&launch);
                }
                Ok(Some(Event { launch, kind: EventKind::Line(line), at }))
            }
            _ => {
                if deadline.is_finite() {
                    self.now = self.now.max(deadline);
                }
                Ok(None)
            }
        }
    }
    fn handle(&self, _launch: u64) -> Option<String> {
        None
    }
    fn name(&self) -> &'static str {
        "scripted"
    }
}

/// A FIFO study of `trials` one-parameter trials of `max` steps on `workers` slots, under
/// `budget`, with the given time limit and grace period.
fn study(script: Script, workers: usize, max: u32, budget: Budget, time_limit: Option<f64>, grace: f64) -> StudyOutcome {
    let space = SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None }]).unwrap();
    let objectives = [Objective::minimize("loss")];
    let fidelity = Fidelity::epochs(max);
    let sampler =
        hposim_samplers::build(&toml::from_str("type = \"random\"").unwrap(), &space, &objectives, &mut Rng::seed_from_u64(0)).unwrap();
    let sampler = Box::new(hposim_samplers::trial_limit::TrialLimit::new(sampler, budget.trials.unwrap_or(u64::MAX)));
    let mut scheduler = build(&SchedulerSpec::Fifo {}, sampler, &space, &fidelity, &objectives).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let command = vec!["scripted".to_owned()];
    let setup = StudySetup {
        space: &space,
        objectives: &objectives,
        fidelity: &fidelity,
        command: &command,
        workdir: dir.path(),
        dir: dir.path(),
        budget: &budget,
        checkpointing: true,
        time_limit: time_limit.map(Duration::from_secs_f64),
        grace: Duration::from_secs_f64(grace),
        gpus_per_trial: 0,
        seed: 0,
    };
    let mut executor = Scripted::new(script, workers);
    run_study(&setup, scheduler.as_mut(), &mut Rng::seed_from_u64(1), &mut executor, None, &AtomicBool::new(false)).unwrap()
}

const PLAIN: Script = Script { step: 2.0, hang_after: None, ignore_term: false, linger: false };

#[test]
fn steps_end_when_the_processes_report_them() {
    let out = study(PLAIN, 1, 3, Budget { trials: Some(2), ..Budget::default() }, None, 5.0);
    let trace = &out.cell.trace;
    assert_eq!(trace.end, [2.0, 4.0, 6.0, 8.0, 10.0, 12.0]);
    assert_eq!(trace.start, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
    assert_eq!((out.cell.stats.wallclock_seconds, out.cell.stats.compute_seconds), (12.0, 12.0));
    assert_eq!(out.cell.stats.stop_reason, StopReason::StrategyFinished);
}

#[test]
fn a_launch_past_its_time_limit_fails_at_the_limit() {
    // Step 2 is reported at 4 s, then the process hangs; the limit of 7 s ends it at 7 s.
    let script = Script { hang_after: Some(2), ..PLAIN };
    let out = study(script, 1, 3, Budget { trials: Some(1), ..Budget::default() }, Some(7.0), 5.0);
    let trace = &out.cell.trace;
    assert_eq!(trace.len(), 3);
    assert_eq!((trace.epoch[2], trace.status[2], trace.outcome[2]), (3, EpochStatus::Failed, TrialOutcome::Stop));
    assert_eq!((trace.start[2], trace.end[2]), (4.0, 7.0));
    // It obeys SIGTERM at once: the study ends at the limit.
    assert_eq!(out.cell.stats.wallclock_seconds, 7.0);
    assert_eq!(out.trials[0].status, "failed");
    assert!(out.trials[0].reason.as_deref().unwrap_or_default().contains("exceeded its time limit of 7 s"));
}

#[test]
fn a_process_that_ignores_sigterm_is_killed_after_the_grace_period() {
    // The wall-clock budget ends the study at 5 s, mid-step; SIGTERM is ignored, so SIGKILL
    // follows 3 s later. Both workers' processes ran until then.
    let script = Script { ignore_term: true, ..PLAIN };
    let out = study(script, 2, 10, Budget { wallclock_seconds: Some(5.0), ..Budget::default() }, None, 3.0);
    assert_eq!(out.cell.stats.stop_reason, StopReason::Wallclock);
    assert_eq!(out.cell.trace.end, [2.0, 2.0, 4.0, 4.0]);
    assert_eq!(out.cell.stats.wallclock_seconds, 8.0);
    assert_eq!(out.cell.stats.compute_seconds, 16.0);
}

#[test]
fn a_process_that_stays_after_its_last_step_is_ended_after_the_grace_period() {
    // Two steps of 2 s; the process lingers and obeys SIGTERM, sent 1.5 s after its last report.
    let script = Script { linger: true, ..PLAIN };
    let out = study(script, 1, 2, Budget { trials: Some(1), ..Budget::default() }, None, 1.5);
    assert_eq!(out.cell.trace.end, [2.0, 4.0]);
    assert_eq!(out.cell.trace.outcome, [TrialOutcome::Continue, TrialOutcome::Done]);
    assert_eq!((out.cell.stats.wallclock_seconds, out.cell.stats.compute_seconds), (5.5, 5.5));
    assert_eq!(out.trials[0].status, "done");
}

//! Hand-derived behaviour of the event loop: timing, budgets, pause and resume with and without
//! checkpointing, idle accounting, divergence, and protocol errors.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests and benchmarks fail loudly on purpose.

mod common;

use common::{Scripted, Toy, config};
use hposim_core::{Action, Decision, EpochStatus, Rng, TrialOutcome};
use hposim_core::{Budget, StopReason};
use hposim_sim::{SimError, SimSettings, simulate};
use rand::SeedableRng;

fn settings(workers: u32, budget: Budget, checkpointing: bool) -> SimSettings {
    SimSettings { workers, budget, checkpointing, launch_overhead: true, trace: hposim_core::TraceLevel::Steps }
}

fn trials(n: u64) -> Budget {
    Budget { trials: Some(n), ..Budget::default() }
}

fn start(x: f64, until: u32) -> Action {
    Action::Start { config: config(x), until }
}

#[test]
fn two_workers_three_trials_fifo_timing() {
    // Trials 0 and 1 start at t=0 on workers 0 and 1; each of 3 epochs takes 10 s. Trial 2
    // starts on worker 0 at t=30 and ends at t=60; worker 1 finishes at t=30 and idles.
    let bench = Toy::new(3, 10.0);
    let mut sched = Scripted::new(vec![start(0.1, 3), start(0.2, 3), start(0.3, 3)]);
    let out = simulate(&bench, &mut sched, &settings(2, trials(3), true), &mut Rng::seed_from_u64(0), 1).unwrap();
    let t = &out.trace;
    assert_eq!(t.len(), 9);
    assert_eq!(t.trial, [0, 1, 0, 1, 0, 1, 2, 2, 2]);
    assert_eq!(t.worker, [0, 1, 0, 1, 0, 1, 0, 0, 0]);
    assert_eq!(t.end, [10.0, 10.0, 20.0, 20.0, 30.0, 30.0, 40.0, 50.0, 60.0]);
    assert_eq!(t.start[6], 30.0);
    assert_eq!(t.outcome[4], TrialOutcome::Done);
    assert_eq!(t.outcome[0], TrialOutcome::Continue);
    // metric = x + 1/epoch
    assert!((t.metrics_of(0)[0] - 1.1).abs() < 1e-12 && (t.metrics_of(4)[0] - (0.1 + 1.0 / 3.0)).abs() < 1e-12);
    let s = &out.stats;
    assert_eq!((s.trials, s.epochs, s.full_evaluations), (3, 9, 3));
    assert_eq!((s.compute_seconds, s.wallclock_seconds, s.idle_seconds), (90.0, 60.0, 30.0));
    assert_eq!(s.stop_reason, StopReason::StrategyFinished);
    // The scheduler was told the next trial id each time a worker was free.
    let next: Vec<u32> = sched.requests.iter().map(|r| r.next_trial).collect();
    assert_eq!(next, [0, 1, 2, 3, 3]);
}

#[test]
fn launch_overhead_delays_each_launch_and_is_paid_as_compute() {
    // One worker, 10 s steps, start-up 5 s, resume 7 s, shutdown 2 s. Trial 0 starts at 0: its
    // first step ends at 5 + 10 = 15, its second (its target) at 25; it exits at 27. Trial 1's
    // process starts then: 27 + 5 + 10 = 42, 52; exit 54. Trial 0 is resumed at 52, its process
    // starts at 54 (the worker's previous process is exiting): 54 + 7 + 10 = 71, 81; exit 83.
    let mut bench = Toy::new(4, 10.0);
    bench.overhead = hposim_core::LaunchOverhead { startup: 5.0, resume: 7.0, shutdown: 2.0, noise: 0.0 };
    let mut sched = Scripted::new(vec![start(0.5, 2), start(0.6, 2), Action::Resume { trial: 0, until: 4 }]);
    let out = simulate(&bench, &mut sched, &settings(1, trials(2), true), &mut Rng::seed_from_u64(0), 1).unwrap();
    let t = &out.trace;
    assert_eq!(t.trial, [0, 0, 1, 1, 0, 0]);
    assert_eq!(t.start, [0.0, 15.0, 27.0, 42.0, 54.0, 71.0]);
    assert_eq!(t.end, [15.0, 25.0, 42.0, 52.0, 71.0, 81.0]);
    assert_eq!(t.launch_seconds, [5.0, 0.0, 5.0, 0.0, 7.0, 0.0]);
    assert_eq!(t.exit_seconds, [0.0, 2.0, 0.0, 2.0, 0.0, 2.0]);
    let s = &out.stats;
    // 60 s of training, 5 + 5 + 7 + 3 × 2 = 23 s of overhead; the cell ends when the last
    // process has exited.
    assert_eq!((s.compute_seconds, s.overhead_seconds, s.wallclock_seconds, s.idle_seconds), (83.0, 23.0, 83.0, 0.0));
    // Full training: each trial once from start to end, 40 s plus one start-up and one shutdown.
    assert_eq!(s.full_training_seconds, 2.0 * (40.0 + 5.0 + 2.0));
    // Without the model the same decisions take 60 s.
    let mut sched = Scripted::new(vec![start(0.5, 2), start(0.6, 2), Action::Resume { trial: 0, until: 4 }]);
    let plain = SimSettings { launch_overhead: false, ..settings(1, trials(2), true) };
    let out = simulate(&bench, &mut sched, &plain, &mut Rng::seed_from_u64(0), 1).unwrap();
    assert_eq!((out.stats.compute_seconds, out.stats.overhead_seconds, out.stats.wallclock_seconds), (60.0, 0.0, 60.0));
}

fn pause_then_resume(checkpointing: bool) -> hposim_core::CellOutcome {
    // One worker: trial 0 runs to epoch 2 and pauses (its target), then is resumed to 4.
    let bench = Toy::new(4, 10.0);
    let mut sched = Scripted::new(vec![start(0.5, 2), Action::Resume { trial: 0, until: 4 }]);
    simulate(&bench, &mut sched, &settings(1, trials(10), checkpointing), &mut Rng::seed_from_u64(0), 1).unwrap()
}

#[test]
fn resume_with_checkpoint_continues_from_the_last_epoch() {
    let out = pause_then_resume(true);
    assert_eq!(out.trace.epoch, [1, 2, 3, 4]);
    assert_eq!(out.trace.outcome[1], TrialOutcome::Pause);
    assert_eq!(out.stats.compute_seconds, 40.0);
}

#[test]
fn resume_without_checkpoint_restarts_and_pays_again() {
    let out = pause_then_resume(false);
    assert_eq!(out.trace.epoch, [1, 2, 1, 2, 3, 4]);
    assert_eq!(out.stats.compute_seconds, 60.0);
    assert_eq!(out.stats.wallclock_seconds, 60.0);
}

#[test]
fn waiting_workers_are_idle_and_asked_again_after_each_result() {
    // Worker 0 runs trial 0 (2 epochs, 10 s each); worker 1 is told to wait and, asked again
    // after the result at t=10, to wait again. At t=20 the worker that just freed up is asked
    // first (it starts trial 1, until t=40), then the waiting one (which is told to finish).
    let bench = Toy::new(2, 10.0);
    let mut sched = Scripted::new(vec![start(0.1, 2), Action::Wait, Action::Wait, start(0.2, 2)]);
    let out = simulate(&bench, &mut sched, &settings(2, trials(10), true), &mut Rng::seed_from_u64(0), 1).unwrap();
    assert_eq!(out.trace.trial, [0, 0, 1, 1]);
    assert_eq!(out.trace.start[2], 20.0);
    assert_eq!((out.stats.compute_seconds, out.stats.wallclock_seconds, out.stats.idle_seconds), (40.0, 40.0, 40.0));
    let times: Vec<(u32, f64)> = sched.requests.iter().map(|r| (r.worker, r.now)).collect();
    assert_eq!(times, [(0, 0.0), (1, 0.0), (1, 10.0), (0, 20.0), (1, 20.0), (0, 40.0)]);
}

#[test]
fn scheduler_stop_and_pause_decisions_end_the_trial() {
    let bench = Toy::new(5, 1.0);
    let mut sched = Scripted::new(vec![start(0.1, 5), start(0.2, 5)]);
    sched.decide = Box::new(|o| match (o.trial, o.fidelity) {
        (0, 2) => Decision::Stop,
        (1, 3) => Decision::Pause,
        _ => Decision::Continue,
    });
    let out = simulate(&bench, &mut sched, &settings(1, trials(10), true), &mut Rng::seed_from_u64(0), 1).unwrap();
    assert_eq!(out.trace.epoch, [1, 2, 1, 2, 3]);
    assert_eq!(out.trace.outcome[1], TrialOutcome::Stop);
    assert_eq!(out.trace.outcome[4], TrialOutcome::Pause);
}

#[test]
fn divergence_is_recorded_and_the_strategy_goes_on() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut bench = Toy::new(4, 1.0);
        bench.nan_from = 2;
        bench.bad_value = bad;
        let mut sched = Scripted::new(vec![start(0.95, 4), start(0.5, 4)]);
        let out = simulate(&bench, &mut sched, &settings(1, trials(10), true), &mut Rng::seed_from_u64(0), 1).unwrap();
        assert_eq!(out.trace.trial, [0, 0, 1, 1, 1, 1], "{bad}");
        assert_eq!(out.trace.status[1], EpochStatus::Diverged);
        assert_eq!(out.trace.metrics_of(1)[0].to_bits(), bad.to_bits());
        assert_eq!(out.trace.outcome[1], TrialOutcome::Stop);
        assert_eq!(out.stats.diverged_trials, 1);
        assert_eq!(sched.failures, [(0, 2)]);
        // The diverged epoch never reached on_result; the next trial ran to the end.
        assert!(!sched.results.iter().any(|r| r.0 == 0 && r.1 == 2));
        assert_eq!(out.trace.outcome[5], TrialOutcome::Done);
    }
}

#[test]
fn compute_budget_stops_new_epochs_and_cuts_running_trials() {
    // 2 workers, 10 s epochs, budget 45 s: epochs start at 0 (2), 10 (2), 20 (1: committed 40,
    // then 50 on the fifth). Steps starting while committed < 45: 0,0,10,10,20 → 50 s.
    let bench = Toy::new(10, 10.0);
    let mut sched = Scripted::new(vec![start(0.1, 10), start(0.2, 10)]);
    let budget = Budget { compute_seconds: Some(45.0), ..Budget::default() };
    let out = simulate(&bench, &mut sched, &settings(2, budget, true), &mut Rng::seed_from_u64(0), 1).unwrap();
    assert_eq!(out.stats.epochs, 5);
    assert_eq!(out.stats.compute_seconds, 50.0);
    assert_eq!(out.stats.stop_reason, StopReason::Compute);
    assert!(out.trace.outcome.contains(&TrialOutcome::Cut));
}

#[test]
fn wallclock_budget_drops_epochs_ending_after_the_deadline() {
    // 1 worker, 10 s epochs, deadline 35 s: epochs end at 10, 20, 30; the fourth would end at
    // 40 and is not observed, but its 5 s up to the deadline were paid.
    let bench = Toy::new(10, 10.0);
    let mut sched = Scripted::new(vec![start(0.1, 10)]);
    let budget = Budget { wallclock_seconds: Some(35.0), ..Budget::default() };
    let out = simulate(&bench, &mut sched, &settings(1, budget, true), &mut Rng::seed_from_u64(0), 1).unwrap();
    assert_eq!(out.trace.end, [10.0, 20.0, 30.0]);
    assert_eq!((out.stats.wallclock_seconds, out.stats.compute_seconds), (35.0, 35.0));
    assert_eq!(out.stats.stop_reason, StopReason::Wallclock);
}

#[test]
fn full_evaluation_budget_stops_new_work_and_records_simultaneous_results() {
    let bench = Toy::new(2, 10.0);
    let mut sched = Scripted::new((0..10).map(|i| start(f64::from(i) / 10.0, 2)).collect());
    let budget = Budget { full_evaluations: Some(3), ..Budget::default() };
    let out = simulate(&bench, &mut sched, &settings(2, budget, true), &mut Rng::seed_from_u64(0), 1).unwrap();
    // Trials 0 and 1 complete at t=20, trials 2 and 3 start then and both complete at t=40.
    // The third full result ends the cell; the fourth, arriving at the same instant, is
    // recorded too, and no fifth trial is started.
    assert_eq!(out.stats.full_evaluations, 4);
    assert_eq!(out.stats.trials, 4);
    assert_eq!(out.trace.configs.len(), 4);
    assert_eq!(out.stats.epochs, 8);
    assert_eq!(out.trace.end[6..], [40.0, 40.0]);
    assert_eq!((out.stats.wallclock_seconds, out.stats.compute_seconds), (40.0, 80.0));
    assert_eq!(out.stats.stop_reason, StopReason::FullEvaluations);
}

#[test]
fn a_scheduler_waiting_with_nothing_running_is_reported_as_stalled() {
    let bench = Toy::new(2, 10.0);
    let mut sched = Scripted::new(vec![start(0.1, 2), Action::Wait, Action::Wait, Action::Wait, Action::Wait]);
    let out = simulate(&bench, &mut sched, &settings(2, trials(10), true), &mut Rng::seed_from_u64(0), 1).unwrap();
    assert_eq!(out.stats.stop_reason, StopReason::Stalled);
    assert_eq!(out.stats.trials, 1);
}

#[test]
fn protocol_violations_are_errors_not_panics() {
    let bench = Toy::new(3, 1.0);
    let cases = [
        (vec![start(0.1, 4)], "the scheduler asked to run a trial until fidelity 4, outside 1..=3"),
        (vec![Action::Resume { trial: 7, until: 2 }], "the scheduler asked to resume trial 7, which does not exist"),
        (vec![start(0.1, 3), Action::Resume { trial: 0, until: 3 }], "the scheduler asked to resume trial 0, which is not paused"),
    ];
    let zero_cost = Toy::new(3, 0.0);
    let mut sched = Scripted::new(vec![start(0.1, 3)]);
    let err = simulate(&zero_cost, &mut sched, &settings(1, trials(5), true), &mut Rng::seed_from_u64(0), 1).unwrap_err();
    assert_eq!(err.to_string(), "the benchmark returned cost 0 for trial 0 at step 1; costs must be finite and positive");
    for (actions, expected) in cases {
        let mut sched = Scripted::new(actions);
        let err: SimError = simulate(&bench, &mut sched, &settings(2, trials(5), true), &mut Rng::seed_from_u64(0), 1).unwrap_err();
        assert_eq!(err.to_string(), expected);
    }
}

//! An ask/tell loop that replays a benchmark step by step, with the simulator's event order,
//! reproduces the simulator's trace exactly: the same trials with the same configurations, on
//! the same workers, the same steps at the same times, the same metrics and decisions. That is
//! the promise of one trial book under three executors (simulator, `hposim tune`, ask/tell).

use hposim_cli::ask_tell::{Replay, spec_of_cell};
use hposim_core::{Trace, TrialOutcome};
use hposim_curves::TrialCurve;
use hposim_runner::ask_tell::{AskTell, Suggestion};
use hposim_sim::event_queue::EventQueue;
use hposim_sim::{Experiment, cells, simulate_cell};
use std::path::Path;

fn fixture() -> Experiment {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ask-tell.toml");
    Experiment::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

struct Running {
    trial: u32,
    step: u32,
    curve: TrialCurve,
    metrics: Vec<f64>,
    cost: f64,
}

/// The replay's workers and pending step completions (in the simulator's own event queue:
/// time order, ties to the step scheduled first).
struct Workers<'a> {
    bench: &'a Replay,
    running: Vec<Option<Running>>,
    queue: EventQueue,
}

impl Workers<'_> {
    /// Runs `step` of `trial` on `worker` from `now`: its completion becomes an event.
    fn run(&mut self, worker: u32, trial: u32, step: u32, curve: TrialCurve, now: f64) {
        let (metrics, cost) = self.bench.step(&curve, step).unwrap_or_else(|e| panic!("{e}"));
        self.queue.push(now + cost, worker);
        self.running[worker as usize] = Some(Running { trial, step, curve, metrics, cost });
    }

    /// Does what the study suggested.
    fn follow(&mut self, suggestion: Suggestion, now: f64, study: &AskTell) {
        let (worker, trial, step) = match suggestion {
            Suggestion::Start { worker, trial, .. } => (worker, trial, 1),
            Suggestion::Resume { worker, trial, from_step, .. } => (worker, trial, from_step + 1),
            Suggestion::Exploit { .. } => panic!("no population-based training here"),
            Suggestion::Wait { .. } | Suggestion::Finish { .. } => return,
        };
        let curve = self.bench.open(study.config(trial).unwrap_or_else(|| panic!("trial {trial} exists")));
        self.run(worker, trial, step, curve, now);
    }
}

/// Replays the cell's benchmark through an ask/tell study, with one event per running step,
/// and returns the study's trace.
fn replay(study: &mut AskTell, bench: &Replay) -> Trace {
    let workers = study.spec().workers;
    let mut w = Workers { bench, running: (0..workers).map(|_| None).collect(), queue: EventQueue::with_capacity(workers as usize) };
    for worker in 0..workers {
        let s = study.ask(Some(worker), Some(0.0)).unwrap_or_else(|e| panic!("{e}"));
        w.follow(s, 0.0, study);
    }
    while let Some(event) = w.queue.pop() {
        let now = event.time;
        let Some(step) = w.running[event.worker as usize].take() else { panic!("an event of a free worker") };
        let outcome = study.tell(step.trial, step.step, &step.metrics, Some(step.cost), Some(now)).unwrap_or_else(|e| panic!("{e}"));
        if outcome == TrialOutcome::Continue {
            w.run(event.worker, step.trial, step.step + 1, step.curve, now);
        } else {
            let s = study.ask(Some(event.worker), Some(now)).unwrap_or_else(|e| panic!("{e}"));
            w.follow(s, now, study);
        }
        for s in study.wake(Some(now)).unwrap_or_else(|e| panic!("{e}")) {
            w.follow(s, now, study);
        }
    }
    study.outcome().trace
}

/// NaN-aware equality of two metric columns.
fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

#[test]
fn ask_tell_reproduces_the_simulators_trace_for_asha_hyperband_and_bohb() {
    let experiment = fixture();
    let mut compared = 0;
    for cell in cells(&experiment) {
        let simulated = simulate_cell(&experiment, &cell).unwrap_or_else(|e| panic!("{e}"));
        let bench_name = experiment.benchmarks[cell.benchmark].name().to_owned();
        let strategy = experiment.spec.strategies[cell.strategy].name.clone();
        let spec = spec_of_cell(&experiment, &bench_name, &strategy, cell.seed).unwrap_or_else(|e| panic!("{e}"));
        let mut study = AskTell::new(spec, None).unwrap_or_else(|e| panic!("{e}"));
        let bench = Replay::of(fixture(), &bench_name, cell.seed).unwrap_or_else(|e| panic!("{e}"));
        let trace = replay(&mut study, &bench);
        let (a, b) = (&simulated.trace, &trace);
        let what = format!("{strategy} seed {}", cell.seed);
        assert!(a.len() > 100, "{what}: a trace of {} rows is too short to tell anything", a.len());
        assert_eq!(a.len(), b.len(), "{what}: rows");
        assert_eq!(a.trial, b.trial, "{what}: trials");
        assert_eq!(a.worker, b.worker, "{what}: workers");
        assert_eq!(a.epoch, b.epoch, "{what}: steps");
        assert_eq!(a.start, b.start, "{what}: start times");
        assert_eq!(a.end, b.end, "{what}: end times");
        assert_eq!(a.status, b.status, "{what}: statuses");
        assert_eq!(a.outcome, b.outcome, "{what}: decisions");
        assert!(same(&a.metrics, &b.metrics), "{what}: metrics");
        assert_eq!(a.configs, b.configs, "{what}: configurations");
        assert_eq!(simulated.stats.trials, study.outcome().stats.trials, "{what}: trials started");
        assert_eq!(simulated.stats.stop_reason, study.stop_reason(), "{what}: why it ended");
        compared += 1;
    }
    assert_eq!(compared, 8);
}

#[test]
fn a_journaled_study_resumes_where_it_stopped_and_refuses_another_studys_journal() {
    let experiment = fixture();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let journal = dir.path().join("study.jsonl");
    let spec = spec_of_cell(&experiment, "crossing", "asha", 0).unwrap_or_else(|e| panic!("{e}"));
    let bench = Replay::of(fixture(), "crossing", 0).unwrap_or_else(|e| panic!("{e}"));
    // The whole study without a journal, and then in two halves with one: the second half is
    // a fresh study object (a restarted notebook) on the same journal.
    let whole = replay(&mut AskTell::new(spec.clone(), None).unwrap_or_else(|e| panic!("{e}")), &bench);
    let mut first = AskTell::new(spec.clone(), Some(&journal)).unwrap_or_else(|e| panic!("{e}"));
    let s = first.ask(None, Some(0.0)).unwrap_or_else(|e| panic!("{e}"));
    let Suggestion::Start { trial, worker: 0, until, .. } = s else { panic!("{s:?}") };
    let curve = bench.open(first.config(trial).unwrap_or_else(|| panic!("trial")));
    let (metrics, cost) = bench.step(&curve, 1).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(until, 1, "ASHA's first rung is step 1");
    let outcome = first.tell(trial, 1, &metrics, Some(cost), Some(cost)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcome, TrialOutcome::Pause);
    drop(first);
    let second = AskTell::new(spec.clone(), Some(&journal)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(second.trials().len(), 1, "the journal's trial is back");
    assert_eq!(second.trials()[0].1, "paused");
    // A study whose first question went elsewhere cannot replay the full trace the same way,
    // so compare with a fresh journaled replay instead: identical to the unjournaled one.
    let again = dir.path().join("again.jsonl");
    let mut third = AskTell::new(spec.clone(), Some(&again)).unwrap_or_else(|e| panic!("{e}"));
    let _ = replay(&mut third, &bench);
    drop(third);
    let resumed = AskTell::new(spec.clone(), Some(&again)).unwrap_or_else(|e| panic!("{e}"));
    let trace = resumed.outcome().trace;
    assert_eq!(trace.trial, whole.trial);
    assert_eq!(trace.end, whole.end);
    assert!(same(&trace.metrics, &whole.metrics));
    // Another study's settings on the same journal are refused, naming the journal.
    let mut other = spec.clone();
    other.seed += 1;
    let error = AskTell::new(other, Some(&again)).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("again.jsonl, line 1") && error.contains("other settings"), "{error}");
}

/// The message of an error (empty if there was none).
fn message<T>(result: Result<T, hposim_runner::ask_tell::AskTellError>) -> String {
    result.err().map(|e| e.to_string()).unwrap_or_default()
}

#[test]
fn calls_that_do_not_fit_the_study_are_refused_with_a_reason() {
    let experiment = fixture();
    let spec = spec_of_cell(&experiment, "crossing", "hyperband", 0).unwrap_or_else(|e| panic!("{e}"));
    let mut study = AskTell::new(spec.clone(), None).unwrap_or_else(|e| panic!("{e}"));
    assert!(message(study.tell(0, 1, &[0.5], None, Some(1.0))).contains("trial 0 does not exist"));
    for _ in 0..4 {
        study.ask(None, Some(0.0)).unwrap_or_else(|e| panic!("{e}"));
    }
    let busy = message(study.ask(None, Some(0.0)));
    assert!(busy.contains("every worker is busy"), "{busy}");
    assert!(message(study.ask(Some(0), Some(0.0))).contains("worker 0 runs trial 0"));
    assert!(message(study.ask(Some(9), Some(0.0))).contains("workers 0..4, got 9"));
    assert!(message(study.tell(0, 2, &[0.5], None, Some(1.0))).contains("step"), "out of order");
    assert!(message(study.tell(0, 1, &[0.5, 0.1], None, Some(1.0))).contains("1 objective(s), got 2"));
    assert!(message(study.tell(0, 1, &[0.5], Some(-1.0), Some(1.0))).contains("cost"));
    study.fail(0, None, Some(2.0)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(study.trials()[0].1, "failed");
    assert!(message(study.tell(0, 1, &[0.5], None, Some(3.0))).contains("trial 0 is not running (it is failed)"));
    // Settings written as JSON (a Python dict): the error starts with the key at fault.
    let from = |json: serde_json::Value| hposim_runner::ask_tell::AskTellSpec::from_json(json).err().unwrap_or_default();
    let mut json = serde_json::to_value(&spec).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from(json.clone()), "", "the specification's own JSON reads back");
    json["strategy"]["scheduler"]["type"] = "no-such".into();
    assert!(from(json.clone()).starts_with("strategy: unknown variant `no-such`"), "{}", from(json));
    assert!(from(serde_json::json!({"spaces": []})).starts_with("spaces: not a key of a study (the keys are name, space,"));
    assert!(from(serde_json::json!({"workers": -1})).starts_with("workers: invalid value"));
    let mut bad = spec;
    bad.workers = 0;
    assert!(message(AskTell::new(bad.clone(), None)).starts_with("workers: must lie in 1..=4096"));
    bad.workers = 1;
    bad.fidelity.min = 0;
    assert!(message(AskTell::new(bad, None)).starts_with("fidelity:"));
}

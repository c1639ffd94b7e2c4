//! The trial protocol end to end with a small Python script (tests/fixtures/toy_trainer.py):
//! normal runs, early stopping, pause and resume, crashes, garbage output, NaN metrics, time
//! limits, processes that ignore SIGTERM, a value that looks like shell code, and a study that
//! is interrupted or killed and resumed.

mod common;

use common::run;
use hposim_core::{EpochStatus, Trace, TrialOutcome};
use hposim_runner::journal::{Journal, Record};
use hposim_runner::spec::LiveExperiment;
use hposim_runner::tune::LiveResult;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

fn trainer() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/toy_trainer.py").display().to_string()
}

/// A live experiment in `dir` whose space is `x` in [0.5, 2] plus `extra` parameters.
fn experiment(dir: &Path, body: &str) -> LiveExperiment {
    let text = format!(
        r#"
seed = 7
workers = 2
[training]
name = "toy"
command = ["python3", "{trainer}", "{{sleep}}"]
objectives = [{{ name = "loss", direction = "minimize" }}]
fidelity = {{ min = 1, max = 4, unit = "epoch" }}
grace_seconds = 1.0
{body}
"#,
        trainer = trainer()
    );
    let path = dir.join("live.toml");
    std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{e}"));
    LiveExperiment::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

const SPACE: &str = r#"
[[training.space]]
type = "float"
name = "x"
low = 0.5
high = 2.0
[[training.space]]
type = "categorical"
name = "sleep"
choices = [0.02]
"#;

fn outcome(results: &[LiveResult]) -> &hposim_runner::StudyOutcome {
    results[0].outcome.as_ref().unwrap_or_else(|| panic!("the study was reused"))
}

fn expected_loss(x: f64, step: u32) -> f64 {
    x * 0.9f64.powi(step as i32) + 0.01 * f64::from(step)
}

fn x_of(trace: &Trace, trial: u32) -> f64 {
    match trace.configs[trial as usize].get(0) {
        hposim_core::Value::Float(x) => x,
        other => panic!("x is {other:?}"),
    }
}

/// The invariants every trace satisfies, simulated or live ([`Trace::check_invariants`], which
/// the simulator's property tests check too); the toy studies all checkpoint.
fn check_trace_invariants(trace: &Trace) {
    assert_eq!(trace.check_invariants(true), Ok(()));
}

#[test]
fn a_fifo_study_records_every_step_of_every_trial_exactly() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let exp = experiment(
        dir.path(),
        &format!("[budget]\ntrials = 3\n[[strategies]]\nname = \"random\"\nsampler = {{ type = \"random\" }}\n{SPACE}"),
    );
    let never = AtomicBool::new(false);
    let results = run(&exp, &dir.path().join("out"), &never, false).unwrap_or_else(|e| panic!("{e}"));
    let study = outcome(&results);
    let trace = &study.cell.trace;
    assert_eq!(trace.len(), 12);
    check_trace_invariants(trace);
    for row in 0..trace.len() {
        let expected = expected_loss(x_of(trace, trace.trial[row]), trace.epoch[row]);
        assert!((trace.metrics_of(row)[0] - expected).abs() < 1e-12, "row {row}");
        assert_eq!(trace.outcome[row], if trace.epoch[row] == 4 { TrialOutcome::Done } else { TrialOutcome::Continue });
    }
    assert!(study.trials.iter().all(|t| t.status == "done" && t.launches == 1));
    assert_eq!(results[0].summary.trials, 3);
    assert_eq!(results[0].summary.full_evaluations, 3);
    // Both slots were used, and the files of a simulated cell are there.
    assert_eq!(trace.worker.iter().copied().collect::<std::collections::BTreeSet<_>>().len(), 2);
    let cells = dir.path().join("out/cells");
    assert!(cells.join(format!("{}.parquet", results[0].cell.id)).is_file());
    assert!(dir.path().join("out/summary.json").is_file());
    // Logs keep what is not a step report.
    let log = std::fs::read_to_string(&study.trials[0].log).unwrap_or_default();
    assert!(log.contains("starting") && log.contains("log line after step 4"), "{log}");
    // A second run reuses the finished study.
    let again = run(&exp, &dir.path().join("out"), &never, false).unwrap_or_else(|e| panic!("{e}"));
    assert!(again[0].reused);
    // Rebuilt from the journal, without running anything: the same trace.
    let rebuilt = &again[0].outcome.as_ref().unwrap_or_else(|| panic!("not rebuilt")).cell.trace;
    assert_eq!(steps_by_trial(rebuilt), steps_by_trial(trace));
}

fn failing_study(mode: &str, at: u32, extra: &str) -> (tempfile::TempDir, Vec<LiveResult>) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let body = format!(
        "{extra}\n[budget]\ntrials = 2\n[[strategies]]\nname = \"random\"\nsampler = {{ type = \"random\" }}\n{SPACE}\n[[training.space]]\ntype = \"categorical\"\nname = \"mode\"\nchoices = [\"{mode}\"]\n[[training.space]]\ntype = \"categorical\"\nname = \"at\"\nchoices = [{at}]\n"
    );
    let exp = experiment(dir.path(), &body);
    let never = AtomicBool::new(false);
    let results = run(&exp, &dir.path().join("out"), &never, false).unwrap_or_else(|e| panic!("{e}"));
    (dir, results)
}

fn assert_failed(results: &[LiveResult], status: EpochStatus, step: u32, reason: &str) {
    let study = outcome(results);
    assert_eq!(study.trials.len(), 2, "the study goes on after a failure");
    for trial in &study.trials {
        assert_eq!(trial.status, if status == EpochStatus::Diverged { "diverged" } else { "failed" });
        let got = trial.reason.clone().unwrap_or_default();
        assert!(got.contains(reason), "reason {got:?} lacks {reason:?}");
        assert!(trial.log.is_file());
    }
    let trace = &study.cell.trace;
    check_trace_invariants(trace);
    let failed: Vec<usize> = (0..trace.len()).filter(|&r| trace.status[r] != EpochStatus::Ok).collect();
    assert_eq!(failed.len(), 2);
    for row in failed {
        assert_eq!(trace.status[row], status);
        assert_eq!(trace.epoch[row], step);
        assert_eq!(trace.outcome[row], TrialOutcome::Stop);
    }
    assert_eq!(results[0].summary.diverged_trials, 2);
}

#[test]
fn a_crash_is_a_failed_trial_with_its_exit_status_and_log() {
    let (_dir, results) = failing_study("crash", 2, "");
    assert_failed(&results, EpochStatus::Failed, 2, "exited with status 3 after step 1 of 4");
    let log = std::fs::read_to_string(&outcome(&results).trials[0].log).unwrap_or_default();
    assert!(log.contains("Traceback: simulated crash"), "{log}");
}

/// How each launch of the study in `dir` ended, from its journal: `None` where a signal ended
/// it. (How long ending it took is checked exactly on a virtual clock: tests/virtual_clock.rs.)
fn exit_codes(dir: &Path, results: &[LiveResult]) -> Vec<Option<i32>> {
    let journal = dir.join(format!("out/live/{}/journal.jsonl", results[0].cell.id));
    let records = Journal::read(&journal).unwrap_or_else(|e| panic!("{e}"));
    records.iter().filter_map(|r| if let Record::Exit { code, .. } = r { Some(*code) } else { None }).collect()
}

#[test]
fn garbage_output_fails_the_trial_and_ends_its_process() {
    let (dir, results) = failing_study("garbage", 3, "");
    assert_failed(&results, EpochStatus::Failed, 3, "malformed step report: not a JSON object");
    // The script sleeps 30 s after the garbage, then exits normally: the study ended it first,
    // with SIGTERM (journaled as -15).
    assert_eq!(exit_codes(dir.path(), &results), [Some(-15), Some(-15)]);
}

#[test]
fn nan_metrics_are_a_diverged_trial() {
    let (_dir, results) = failing_study("nan", 2, "");
    assert_failed(&results, EpochStatus::Diverged, 2, "non-finite metrics");
}

#[test]
fn a_launch_past_its_time_limit_is_ended_and_failed() {
    let (dir, results) = failing_study("hang", 2, "time_limit_seconds = 1.5");
    assert_failed(&results, EpochStatus::Failed, 2, "exceeded its time limit of 1.5 s");
    assert_eq!(exit_codes(dir.path(), &results), [Some(-15), Some(-15)]);
}

#[test]
fn steps_out_of_order_break_the_protocol() {
    let (_dir, results) = failing_study("skip", 2, "");
    assert_failed(&results, EpochStatus::Failed, 2, "reported step 3 where step 2 was due");
}

#[test]
fn a_process_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let (dir, results) = failing_study("stubborn", 0, "");
    let study = outcome(&results);
    // It completes its steps, then stays instead of exiting: SIGTERM is ignored, SIGKILL ends it.
    assert!(study.trials.iter().all(|t| t.status == "done"), "{:?}", study.trials);
    assert_eq!(exit_codes(dir.path(), &results), [Some(-9), Some(-9)]);
}

#[test]
fn a_value_that_looks_like_shell_code_reaches_the_script_literally() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let marker = dir.path().join("pwned");
    let evil = format!("$(touch {})", marker.display());
    let body = format!(
        "[budget]\ntrials = 1\n[[strategies]]\nname = \"grid\"\nsampler = {{ type = \"grid\" }}\n{SPACE}\n[[training.space]]\ntype = \"categorical\"\nname = \"label\"\nchoices = [{evil:?}]\n"
    );
    let mut exp = experiment(dir.path(), &body);
    exp.spec.training.command.push("--label={label}".into());
    exp.spec.training.command.push("{label}".into());
    let never = AtomicBool::new(false);
    let results = run(&exp, &dir.path().join("out"), &never, false).unwrap_or_else(|e| panic!("{e}"));
    let launches = dir.path().join(format!("out/live/{}/trials/0/checkpoint/launches.jsonl", results[0].cell.id));
    let text = std::fs::read_to_string(&launches).unwrap_or_else(|e| panic!("{}: {e}", launches.display()));
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap_or_default()).unwrap_or_default();
    assert_eq!(first["argv"], serde_json::json!(["0.02", format!("--label={evil}"), evil]));
    assert!(!marker.exists(), "a value went through a shell");
}

/// A flag set once `journal` holds `steps` step records (polled from a thread).
fn interrupt_after(journal: &Path, steps: usize) -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let setter = Arc::clone(&flag);
    let watched = journal.to_owned();
    std::thread::spawn(move || {
        for _ in 0..6000 {
            let seen = std::fs::read_to_string(&watched).map_or(0, |t| t.matches("\"record\":\"step\"").count());
            if seen >= steps {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        setter.store(true, Ordering::Relaxed);
    });
    flag
}

fn steps_by_trial(trace: &Trace) -> Vec<(u32, u32, u64, &'static str)> {
    let mut rows: Vec<(u32, u32, u64, &'static str)> =
        (0..trace.len()).map(|r| (trace.trial[r], trace.epoch[r], trace.metrics_of(r)[0].to_bits(), trace.outcome[r].as_str())).collect();
    rows.sort();
    rows
}

const ASHA: &str = "[budget]\ntrials = 8\n[[strategies]]\nname = \"asha\"\nsampler = { type = \"random\" }\nscheduler = { type = \"asha\", eta = 2, variant = \"promotion\" }\n";

#[test]
fn a_live_asha_study_with_two_slots_completes_and_its_trace_passes_the_invariants() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let exp = experiment(dir.path(), &format!("{ASHA}{SPACE}"));
    let never = AtomicBool::new(false);
    let results = run(&exp, &dir.path().join("out"), &never, false).unwrap_or_else(|e| panic!("{e}"));
    let study = outcome(&results);
    let trace = &study.cell.trace;
    assert_eq!(results[0].summary.stop_reason, "strategy_finished");
    assert_eq!(study.trials.len(), 8);
    // Promotion ASHA pauses trials at rungs 1, 2 (and 4 is the top): with checkpoints, a
    // promoted trial resumes where it paused, in a new process.
    assert!(study.trials.iter().any(|t| t.launches > 1), "no trial was promoted");
    assert!(trace.outcome.contains(&TrialOutcome::Pause));
    for row in 0..trace.len() {
        // Python's ** and Rust's powi may differ in the last bit.
        assert!((trace.metrics_of(row)[0] - expected_loss(x_of(trace, trace.trial[row]), trace.epoch[row])).abs() < 1e-12);
    }
    let mut per_trial = [0u32; 8];
    for row in 0..trace.len() {
        let t = trace.trial[row] as usize;
        assert_eq!(trace.epoch[row], per_trial[t] + 1, "a resumed trial repeated or skipped a step");
        per_trial[t] = trace.epoch[row];
    }
}

#[test]
fn an_interrupted_or_killed_study_resumes_without_redoing_finished_steps() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut exp = experiment(dir.path(), &format!("{ASHA}{SPACE}"));
    // One slot: the order of results, hence every decision, is then independent of timing.
    exp.spec.workers = 1;
    let never = AtomicBool::new(false);
    let reference = run(&exp, &dir.path().join("reference"), &never, false).unwrap_or_else(|e| panic!("{e}"));
    let expected = steps_by_trial(&outcome(&reference).cell.trace);

    // Ctrl-C once five steps are journaled: the study ends its trials and says how to go on.
    let out = dir.path().join("out");
    let journal = out.join(format!("live/{}/journal.jsonl", reference[0].cell.id));
    let interrupt = interrupt_after(&journal, 5);
    let error = run(&exp, &out, &interrupt, false).err().unwrap_or_default();
    assert!(error.contains("interrupted") && error.contains("--resume"), "{error}");
    let refused = run(&exp, &out, &never, false).err().unwrap_or_default();
    assert!(refused.contains("--resume"), "{refused}");
    let before = Journal::read(&journal).unwrap_or_else(|e| panic!("{e}"));
    let steps_before = before.iter().filter(|r| matches!(r, Record::Step { .. })).count();
    assert!(steps_before > 0 && steps_before < expected.len(), "{steps_before} steps before the interrupt");

    // A kill mid-write leaves half a line; resuming drops it and carries on.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"{\"record\":\"step\",\"tri"))
        .unwrap_or_else(|e| panic!("{e}"));
    // Resumed, interrupted again, resumed again: a second replay must see the first resume's
    // launches and exits exactly.
    let again = interrupt_after(&journal, steps_before + 3);
    let error = run(&exp, &out, &again, true).err().unwrap_or_default();
    assert!(error.contains("interrupted"), "{error}");
    let resumed = run(&exp, &out, &never, true).unwrap_or_else(|e| panic!("{e}"));
    let study = outcome(&resumed);
    check_trace_invariants(&study.cell.trace);
    assert_eq!(steps_by_trial(&study.cell.trace), expected, "the resumed study differs from an uninterrupted one");
    // Every step was trained once: the relaunched trials started from their recorded step.
    let records = Journal::read(&journal).unwrap_or_else(|e| panic!("{e}"));
    let recorded_steps = records.iter().filter(|r| matches!(r, Record::Step { .. })).count();
    assert_eq!(recorded_steps, expected.len());
    let resumed_launches =
        records[before.len()..].iter().filter(|r| matches!(r, Record::Launch { start_step, .. } if *start_step > 0)).count();
    assert!(resumed_launches > 0 || steps_before % 4 == 0);
}

#[test]
fn a_bad_live_experiment_is_refused_with_file_and_key() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path: PathBuf = dir.path().join("bad.toml");
    let cases = [
        (
            "[training]\nname = \"t\"\ncommand = []\nobjectives = [{ name = \"l\", direction = \"minimize\" }]\nfidelity = { min = 1, max = 3, unit = \"epoch\" }\nspace = [{ type = \"float\", name = \"x\", low = 0.0, high = 1.0 }]\n[budget]\ntrials = 1\n",
            "training.command",
        ),
        (
            "[training]\nname = \"t\"\ncommand = [\"x\", \"{lr}\"]\nobjectives = [{ name = \"l\", direction = \"minimize\" }]\nfidelity = { min = 1, max = 3, unit = \"epoch\" }\nspace = [{ type = \"float\", name = \"x\", low = 0.0, high = 1.0 }]\n[budget]\ntrials = 1\n",
            "unknown placeholder(s) {lr}",
        ),
        (
            "[training]\nname = \"t\"\ncommand = [\"x\"]\nobjectives = [{ name = \"l\", direction = \"minimize\" }]\nfidelity = { min = 1, max = 3, unit = \"epoch\" }\nspace = [{ type = \"float\", name = \"x\", low = 0.0, high = 1.0 }]\n[[strategies]]\nname = \"r\"\nsampler = { type = \"random\" }\n",
            "budget",
        ),
        (
            "[training]\nname = \"t\"\ncommand = [\"x\"]\nobjectives = [{ name = \"l\", direction = \"minimize\" }]\nfidelity = { min = 0, max = 3, unit = \"epoch\" }\nspace = [{ type = \"float\", name = \"x\", low = 0.0, high = 1.0 }]\n[budget]\ntrials = 1\n",
            "training.fidelity",
        ),
    ];
    for (text, key) in cases {
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        let error = LiveExperiment::load(&path).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("bad.toml") && error.contains(key), "{error}");
    }
}

#[test]
fn every_shipped_live_experiment_file_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let mut loaded = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if path.extension().is_some_and(|e| e == "toml") && text.lines().any(|l| l.trim() == "[training]") {
            let experiment = LiveExperiment::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            // The training script a live experiment names exists.
            let script = experiment.workdir.join(&experiment.spec.training.command[1]);
            assert!(script.is_file(), "{}: {} does not exist", path.display(), script.display());
            loaded.push(experiment.name);
        }
    }
    loaded.sort();
    assert_eq!(loaded, ["validate-cpu", "validate-gpu"]);
}

#[test]
fn a_trial_resumed_while_its_paused_process_still_exits_never_runs_twice() {
    // Synchronous successive halving with 2 slots: when a rung fills, the waiting slot is asked
    // at once and may resume a trial whose process (paused a moment ago) has not exited yet.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let body = format!(
        "[budget]\ntrials = 8\n[[strategies]]\nname = \"sh\"\nsampler = {{ type = \"random\" }}\nscheduler = {{ type = \"successive_halving\", eta = 2, configs = 8, max_brackets = 1 }}\n{SPACE}"
    );
    let exp = experiment(dir.path(), &body);
    let never = AtomicBool::new(false);
    let results = run(&exp, &dir.path().join("out"), &never, false).unwrap_or_else(|e| panic!("{e}"));
    let study = outcome(&results);
    check_trace_invariants(&study.cell.trace);
    assert_eq!(results[0].summary.stop_reason, "strategy_finished");
    assert!(study.trials.iter().all(|t| t.status != "failed"), "{:?}", study.trials);
    // Per trial, launches and exits alternate: never two processes at once.
    let journal = dir.path().join(format!("out/live/{}/journal.jsonl", results[0].cell.id));
    let records = Journal::read(&journal).unwrap_or_else(|e| panic!("{e}"));
    let mut running: std::collections::HashMap<u64, u32> = std::collections::HashMap::new();
    for record in &records {
        match record {
            Record::Launch { trial, launch, .. } => {
                assert!(!running.values().any(|t| t == trial), "trial {trial} launched while its process runs");
                running.insert(*launch, *trial);
            }
            Record::Exit { launch, .. } => {
                running.remove(launch);
            }
            _ => {}
        }
    }
    assert!(study.trials.iter().any(|t| t.launches > 1), "no trial was resumed");
}

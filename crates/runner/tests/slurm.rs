//! The Slurm executor on a real cluster: CI starts a single-node cluster on localhost with
//! `.ci/slurm-cluster.sh` and sets `HPOSIM_REQUIRE_SLURM=1`; elsewhere these tests run where
//! `sinfo` answers and are skipped (with a message) where it does not.
//!
//! Studies of the toy trainer (tests/fixtures/toy_trainer.py) are submitted with sbatch (the
//! first trials together as a job array), their states read from squeue, their stopped trials
//! cancelled with scancel; the traces must be exactly those of the same studies run with local
//! processes.

use hposim_core::{EpochStatus, TrialOutcome};
use hposim_runner::spec::LiveExperiment;
use hposim_runner::tune::{LiveResult, TuneOptions, tune};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;

fn cluster_available() -> bool {
    let up = Command::new("sinfo").arg("-h").output().is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    if !up {
        assert!(
            std::env::var("HPOSIM_REQUIRE_SLURM").as_deref() != Ok("1"),
            "HPOSIM_REQUIRE_SLURM=1 but no Slurm cluster answers sinfo; start one with .ci/slurm-cluster.sh"
        );
        eprintln!("skipping: no Slurm cluster (start one with .ci/slurm-cluster.sh)");
    }
    up
}

fn experiment(dir: &Path, executor: &str, body: &str) -> LiveExperiment {
    let trainer = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/toy_trainer.py");
    let text = format!(
        r#"
seed = 3
workers = 2
[training]
name = "toy"
command = ["python3", "{}", "0.05"]
objectives = [{{ name = "loss", direction = "minimize" }}]
fidelity = {{ min = 1, max = 4, unit = "epoch" }}
grace_seconds = 2.0
executor = {executor}
[[training.space]]
type = "float"
name = "x"
low = 0.5
high = 2.0
{body}
"#,
        trainer.display()
    );
    let path = dir.join(format!("{}.toml", if executor.contains("slurm") { "slurm" } else { "local" }));
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    LiveExperiment::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn run(experiment: &LiveExperiment, out: &Path) -> Vec<LiveResult> {
    let never = AtomicBool::new(false);
    let mut options = TuneOptions {
        out_dir: out.to_owned(),
        resume: false,
        restrict: None,
        restrict_hash: None,
        tracker: None,
        interrupt: &never,
        reuse_other_code: false,
    };
    tune(experiment, &mut options, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"))
}

fn rows(result: &LiveResult) -> Vec<(u32, u32, u64, &'static str, &'static str)> {
    let trace = &result.outcome.as_ref().unwrap_or_else(|| panic!("reused")).cell.trace;
    let mut rows: Vec<_> = (0..trace.len())
        .map(|r| (trace.trial[r], trace.epoch[r], trace.metrics_of(r)[0].to_bits(), trace.status[r].as_str(), trace.outcome[r].as_str()))
        .collect();
    rows.sort();
    rows
}

#[test]
fn slurm_jobs_run_trials_to_completion_and_crashes_are_failed_with_their_exit_status() {
    if !cluster_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let body = "[budget]\ntrials = 3\n[[strategies]]\nname = \"random\"\nsampler = { type = \"random\" }\n[[training.space]]\ntype = \"categorical\"\nname = \"mode\"\nchoices = [\"ok\", \"crash\"]\n[[training.space]]\ntype = \"categorical\"\nname = \"at\"\nchoices = [3]\n";
    let slurm = run(&experiment(dir.path(), "{ type = \"slurm\", poll_seconds = 0.2 }", body), &dir.path().join("slurm"));
    let local = run(&experiment(dir.path(), "{ type = \"local\" }", body), &dir.path().join("local"));
    assert_eq!(rows(&slurm[0]), rows(&local[0]), "the Slurm study differs from the local one");
    let study = slurm[0].outcome.as_ref().unwrap_or_else(|| panic!("reused"));
    for trial in &study.trials {
        let log = std::fs::read_to_string(&trial.log).unwrap_or_default();
        assert!(log.contains("starting"), "the job's other output lines reach the trial log: {log}");
        if trial.status == "failed" {
            assert!(trial.reason.as_deref().unwrap_or_default().contains("exited with status 3 after step 2 of 4"), "{:?}", trial.reason);
            assert!(log.contains("Traceback: simulated crash"), "{log}");
        } else {
            assert_eq!(trial.status, "done");
        }
    }
    assert!(study.cell.trace.status.contains(&EpochStatus::Failed) || study.trials.iter().all(|t| t.status == "done"));
    // The first two trials started together, as one job array of two tasks (each with its own
    // argument files); the third alone, as a plain job.
    let live = dir.path().join("slurm/live").join(&slurm[0].cell.id);
    let array = live.join("arrays/0");
    assert!(array.join("task-0/argv").is_dir() && array.join("task-1/argv").is_dir(), "no job array in {}", live.display());
    assert!(!array.join("task-2").exists());
    let ids: Vec<String> =
        (0..3).map(|t| std::fs::read_to_string(live.join(format!("trials/{t}/slurm-{t}.id"))).unwrap_or_default()).collect();
    assert!(ids[0].ends_with("_0") && ids[1].ends_with("_1") && ids[0].split('_').next() == ids[1].split('_').next(), "{ids:?}");
    assert!(!ids[2].is_empty() && !ids[2].contains('_'), "{ids:?}");
}

#[test]
fn slurm_jobs_of_stopped_trials_are_cancelled() {
    if !cluster_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // The stopping variant of ASHA with eta 2 stops about half the trials at each rung; a
    // stopped trial's job must be cancelled at once, not left to run its remaining steps.
    let body = "[budget]\ntrials = 6\n[[strategies]]\nname = \"asha\"\nsampler = { type = \"random\" }\nscheduler = { type = \"asha\", eta = 2 }\n[[training.space]]\ntype = \"categorical\"\nname = \"mode\"\nchoices = [\"stubborn\"]\n";
    let slurm = run(&experiment(dir.path(), "{ type = \"slurm\", poll_seconds = 0.2 }", body), &dir.path().join("slurm"));
    let study = slurm[0].outcome.as_ref().unwrap_or_else(|| panic!("reused"));
    assert!(study.cell.trace.outcome.contains(&TrialOutcome::Stop), "no trial was stopped");
    // Stubborn trials ignore SIGTERM and never exit by themselves: every job ended because it
    // was cancelled, and the study still finished promptly.
    assert_eq!(slurm[0].summary.stop_reason, "strategy_finished");
    assert!(slurm[0].summary.wallclock_seconds < 90.0, "{}", slurm[0].summary.wallclock_seconds);
    let listing = Command::new("squeue")
        .args(["-h", "-o", "%j %T"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let cell = &slurm[0].cell.id;
    let journal = std::fs::read_to_string(dir.path().join(format!("slurm/live/{cell}/journal.jsonl"))).unwrap_or_default();
    let ours: Vec<String> =
        journal.lines().filter_map(|l| l.split("\"launch\":").nth(1)?.split(',').next().map(|n| format!("hposim-{n} "))).collect();
    for job in ours {
        assert!(
            !listing.lines().any(|l| l.starts_with(&job) && (l.contains("RUNNING") || l.contains("PENDING"))),
            "{job} still runs:\n{listing}"
        );
    }
}

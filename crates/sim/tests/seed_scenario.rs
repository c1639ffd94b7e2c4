//! The talk's scenario (experiments/seed-resnet50-hyperband.toml): 128 configurations of
//! ResNet-50 on ImageNet, 12 h each to full fidelity on one worker at $0.90 per hour. The
//! figures are derived in the experiment file's comments.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests and benchmarks fail loudly on purpose.

use hposim_sim::{Experiment, RunOptions, RunReport, run};
use std::path::Path;

/// Runs `experiments/<file>` into a temporary folder.
fn run_scenario(file: &str) -> RunReport {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments").join(file);
    let experiment = Experiment::load(&path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    run(&experiment, &RunOptions { out_dir: dir.path().to_owned(), threads: 2, reuse_other_code: false, ..Default::default() }, &|_, _| {})
        .unwrap()
}

#[test]
fn the_talks_figures_exactly() {
    let report = run_scenario("seed-resnet50-hyperband.toml");
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * b.max(1.0);
    for s in &report.summaries {
        let hours = s.compute_seconds / 3600.0;
        let cost = s.cost_usd.unwrap();
        let full_hours = s.full_training_seconds / 3600.0;
        let full_cost = s.full_training_cost_usd.unwrap();
        // (compute h, cost, full training h, its cost, trials, compute h with and without checkpoints)
        let (want_hours, want_cost, want_full, want_full_cost, want_trials, want_with, want_without) = match s.strategy.as_str() {
            // 576 steps of 0.09375 h; restarting would cost 1024 steps.
            "successive-halving" => (54.0, 48.6, 1536.0, 1382.4, 128, 54.0, 96.0),
            // 1024 steps: every rung restarts from scratch.
            "successive-halving-no-checkpoint" => (96.0, 86.4, 1536.0, 1382.4, 128, 54.0, 96.0),
            // 5318 steps over 314 configurations, 7836 when restarting (`hposim brackets
            // --max-fidelity 128 --eta 2`; crates/schedulers/src/brackets.rs derives the sizes).
            "hyperband" => (498.5625, 448.70625, 3768.0, 3391.2, 314, 498.5625, 734.625),
            other => panic!("unexpected strategy {other}"),
        };
        assert!(close(s.compute_with_checkpointing_seconds / 3600.0, want_with), "{}", s.strategy);
        assert!(close(s.compute_without_checkpointing_seconds / 3600.0, want_without), "{}", s.strategy);
        assert!(close(hours, want_hours), "{}: {hours} h", s.strategy);
        assert!(close(cost, want_cost), "{}: ${cost}", s.strategy);
        assert!(close(full_hours, want_full), "{}: {full_hours} h full", s.strategy);
        assert!(close(full_cost, want_full_cost), "{}: ${full_cost} full", s.strategy);
        assert_eq!(s.trials, want_trials, "{}", s.strategy);
        assert_eq!(s.idle_seconds, 0.0);
        assert_eq!(s.stop_reason, "strategy_finished");
    }
    let sh = report.summaries.iter().find(|s| s.strategy == "successive-halving").unwrap();
    // 1 − 54/1536 = 96.484375 %: the slide's "96.5 % reduction".
    assert!(close(sh.compute_saved, 0.96484375));
    assert_eq!(report.summaries.len(), 9);
}

/// The same scenario with 30 s of start-up or checkpoint restore per launch
/// (experiments/seed-resnet50-overhead.toml derives the figures): successive halving launches
/// 128 starts and 127 resumes, HyperBand 599 launches; full training one start-up per
/// configuration.
#[test]
fn the_talks_figures_with_launch_overhead() {
    let report = run_scenario("seed-resnet50-overhead.toml");
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * b.max(1.0);
    for s in &report.summaries {
        // (launches, training h, full training h)
        let (launches, training, full) = match s.strategy.as_str() {
            "successive-halving" => (255.0, 54.0, 1536.0 + 128.0 * 30.0 / 3600.0),
            "successive-halving-no-checkpoint" => (255.0, 96.0, 1536.0 + 128.0 * 30.0 / 3600.0),
            "hyperband" => (599.0, 498.5625, 3768.0 + 314.0 * 30.0 / 3600.0),
            other => panic!("unexpected strategy {other}"),
        };
        assert!(close(s.overhead_seconds, launches * 30.0), "{}: {} s of overhead", s.strategy, s.overhead_seconds);
        assert!(close(s.compute_seconds / 3600.0, training + launches * 30.0 / 3600.0), "{}: {} s", s.strategy, s.compute_seconds);
        assert!(close(s.full_training_seconds / 3600.0, full), "{}: {} s full", s.strategy, s.full_training_seconds);
        // One worker, never idle: launches run back to back.
        assert!(close(s.wallclock_seconds, s.compute_seconds), "{}", s.strategy);
    }
    let sh = report.summaries.iter().find(|s| s.strategy == "successive-halving").unwrap();
    // 1 − 56.125 / 1537.0667 = 96.349 %: of the 96.48 % without overhead, nearly all survives.
    assert!((sh.compute_saved - (1.0 - 56.125 / (1536.0 + 128.0 / 120.0))).abs() < 1e-12);
    assert!((sh.compute_saved - 0.96349).abs() < 1e-5, "{}", sh.compute_saved);
}

//! Recorded tables replayed through the simulator: FIFO gives exactly the table's values and
//! costs; `lookup = "recorded"` evaluates every recorded configuration once; the data's hash is
//! part of a cell's identity.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hposim_core::{EpochStatus, Value};
use hposim_curves::recorded::example::{EXAMPLE_ROWS, write_example};
use hposim_sim::{Experiment, cells, simulate_cell};
use std::path::Path;

fn text(lookup: &str, sampler: &str) -> String {
    format!(
        r#"
seeds = 2
workers = 1
[budget]
trials = 3
[[benchmarks]]
type = "recorded"
path = "tiny.parquet"
lookup = "{lookup}"
objectives = ["accuracy", "loss"]
[[strategies]]
name = "s"
sampler = {sampler}
"#
    )
}

fn experiment(dir: &Path, lookup: &str, sampler: &str) -> Experiment {
    write_example(dir).unwrap();
    // The table's path is relative to the experiment file's directory.
    Experiment::parse(&dir.join("exp.toml"), &text(lookup, sampler)).unwrap()
}

/// The example's (config id, seed) whose hyperparameters are `values`.
fn config_id(values: &[Value]) -> i64 {
    match values {
        [Value::Choice(1), ..] => 1,
        [Value::Choice(0), Value::Float(lr), _] if *lr == 0.01 => 0,
        _ => 2,
    }
}

#[test]
fn fifo_replays_the_table_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let experiment = experiment(dir.path(), "recorded", "{ type = 'random' }");
    assert_eq!(experiment.benchmarks[0].name(), "tiny");
    for cell in cells(&experiment) {
        let outcome = simulate_cell(&experiment, &cell).unwrap();
        let trace = &outcome.trace;
        let mut ids: Vec<i64> = trace.configs.iter().map(|c| config_id(c.values())).collect();
        ids.sort_unstable();
        assert_eq!(ids, [0, 1, 2], "each recorded configuration once");
        let mut seed_of_trial = std::collections::HashMap::new();
        for row in 0..trace.len() {
            let id = config_id(trace.configs[trace.trial[row] as usize].values());
            let metrics = trace.metrics_of(row);
            let recorded = EXAMPLE_ROWS
                .iter()
                .filter(|r| r.0 == id && r.2 == i64::from(trace.epoch[row]))
                .find(|r| r.3 == trace.end[row] - trace.start[row] && (r.7 == metrics[0] || r.7.is_nan() && metrics[0].is_nan()))
                .unwrap_or_else(|| panic!("row {row} (config {id}, epoch {}) is not in the table", trace.epoch[row]));
            assert!(recorded.8 == metrics[1] || recorded.8.is_nan() && metrics[1].is_nan());
            // A trial stays on one repeat.
            assert_eq!(*seed_of_trial.entry(trace.trial[row]).or_insert(recorded.1), recorded.1);
            let diverged = recorded.7.is_nan();
            assert_eq!(trace.status[row] == EpochStatus::Diverged, diverged);
        }
        // 3 epochs of config 0 and 1 each, 2 of config 2 (diverged at its second).
        assert_eq!(trace.len(), 8);
        assert_eq!(outcome.stats.diverged_trials, 1);
        let compute: f64 = (0..trace.len()).map(|r| trace.end[r] - trace.start[r]).sum();
        assert_eq!(outcome.stats.compute_seconds, compute);
    }
}

#[test]
fn nearest_lookup_resolves_any_proposal_to_a_recorded_curve() {
    let dir = tempfile::tempdir().unwrap();
    let experiment = experiment(dir.path(), "nearest", "{ type = 'tpe' }");
    for cell in cells(&experiment) {
        let trace = simulate_cell(&experiment, &cell).unwrap().trace;
        for row in 0..trace.len() {
            let cost = trace.end[row] - trace.start[row];
            let accuracy = trace.metrics_of(row)[0];
            let epoch = i64::from(trace.epoch[row]);
            assert!(
                EXAMPLE_ROWS.iter().any(|r| r.2 == epoch && r.3 == cost && (r.7 == accuracy || r.7.is_nan() && accuracy.is_nan())),
                "row {row}: epoch {epoch}, cost {cost}, accuracy {accuracy} come from no recorded row"
            );
        }
    }
}

#[test]
fn new_data_gives_new_cells() {
    let dir = tempfile::tempdir().unwrap();
    let before = cells(&experiment(dir.path(), "recorded", "{ type = 'random' }"));
    let metadata = dir.path().join("tiny.toml");
    let edited = std::fs::read_to_string(&metadata).unwrap().replace("Three hand-written", "3 hand-written");
    std::fs::write(&metadata, edited).unwrap();
    let after = cells(&Experiment::parse(&dir.path().join("exp.toml"), &text("recorded", "{ type = 'random' }")).unwrap());
    assert_ne!(before[0].id, after[0].id);
}

#[test]
fn a_missing_file_or_task_is_refused_with_the_experiment_named() {
    let dir = tempfile::tempdir().unwrap();
    write_example(dir.path()).unwrap();
    let text = "[budget]\ntrials = 3\n[[benchmarks]]\ntype = \"recorded\"\npath = \"absent.parquet\"\n[[strategies]]\nname = \"s\"\nsampler = { type = 'random' }\n";
    let error = Experiment::parse(&dir.path().join("exp.toml"), text).unwrap_err().to_string();
    assert!(error.contains("exp.toml: benchmarks[0] (\"absent\", line 3).path: "), "{error}");
    assert!(error.contains("absent.toml: cannot read the metadata file"), "{error}");
    let text = text.replace("absent.parquet\"", "tiny.parquet\"\ntask = \"cifar10\"");
    let error = Experiment::parse(&dir.path().join("exp.toml"), &text).unwrap_err().to_string();
    assert!(error.contains("(\"tiny/cifar10\", line 3).task: the file has no task column"), "{error}");
}

#[test]
fn recorded_runs_are_identical_on_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let experiment = experiment(dir.path(), "nearest", "{ type = 'tpe' }");
    let (a, b) = (dir.path().join("one"), dir.path().join("two"));
    let one = hposim_sim::run(
        &experiment,
        &hposim_sim::RunOptions { out_dir: a, threads: 1, reuse_other_code: false, ..Default::default() },
        &|_, _| {},
    )
    .unwrap();
    let two = hposim_sim::run(
        &experiment,
        &hposim_sim::RunOptions { out_dir: b, threads: 2, reuse_other_code: false, ..Default::default() },
        &|_, _| {},
    )
    .unwrap();
    assert_eq!(one.summaries, two.summaries);
}

//! A cell's trace is written as the cell runs, in row groups of `SPILL_ROWS` rows, so that its
//! memory does not grow with its length; the file, the summary and the statistics are those of
//! the same cell held whole in memory. Budgets that could never end are refused, naming the key.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use hposim_core::Objective;
use hposim_results::read_trace;
use hposim_sim::simulator::SPILL_ROWS;
use hposim_sim::{Experiment, RunOptions, cells, run, simulate_cell, summarise};
use std::path::Path;

/// One cell of random search on a synthetic benchmark of 200 epochs per trial, two workers:
/// `trials` × 200 rows.
fn long_cell(trials: u64) -> Experiment {
    let text = format!(
        r#"
name = "long"
seeds = 1
workers = 2
[budget]
trials = {trials}
[[benchmarks]]
name = "smooth"
type = "synthetic"
max_epochs = 200
epoch_seconds = 1
overhead = {{ startup = 2, shutdown = 1 }}
[[strategies]]
name = "random"
sampler = {{ type = "random" }}
"#
    );
    Experiment::parse(Path::new("long.toml"), &text).unwrap()
}

#[test]
fn a_streamed_trace_is_the_trace_held_whole_and_memory_holds_one_row_group() {
    // 3.5 row groups' worth of rows.
    let trials = (SPILL_ROWS as u64 * 7 / 2).div_ceil(200);
    let experiment = long_cell(trials);
    let dir = tempfile::tempdir().unwrap();
    let report = run(
        &experiment,
        &RunOptions { out_dir: dir.path().to_owned(), threads: 1, reuse_other_code: false, ..Default::default() },
        &|_, _| {},
    )
    .unwrap();
    let cell = &cells(&experiment)[0];
    let whole = simulate_cell(&experiment, cell).unwrap();
    assert_eq!(whole.trace.len() as u64, trials * 200);
    // The file has every row, in order, as the cell held whole has them.
    let objectives = vec![Objective::minimize("val_error")];
    let read = read_trace(&dir.path().join("cells").join(format!("{}.parquet", cell.id)), &objectives).unwrap();
    assert_eq!(read.len(), whole.trace.len());
    assert_eq!(read.trial, whole.trace.trial);
    assert_eq!(read.epoch, whole.trace.epoch);
    assert_eq!(read.end, whole.trace.end);
    assert_eq!(read.launch_seconds, whole.trace.launch_seconds);
    assert_eq!(read.exit_seconds, whole.trace.exit_seconds);
    assert_eq!(read.metrics, whole.trace.metrics);
    assert_eq!(read.outcome, whole.trace.outcome);
    // The summary written is the one of the whole trace (best values, overhead, totals).
    let summary = &report.summaries[0];
    let expected = summarise(&experiment, cell, &whole);
    assert_eq!(summary.best_objective, expected.best_objective);
    assert_eq!(summary.best_objective_max_fidelity, expected.best_objective_max_fidelity);
    assert_eq!(summary.overhead_seconds, expected.overhead_seconds);
    assert_eq!(summary.compute_seconds, expected.compute_seconds);
    assert!(summary.overhead_seconds > 0.0);
}

#[test]
fn streaming_keeps_a_cells_rows_in_memory_below_one_row_group() {
    use hposim_core::RowSink;
    /// Counts the rows it is given, and the most it held at once.
    #[derive(Default)]
    struct Counter {
        rows: u64,
        largest: usize,
    }
    impl RowSink for Counter {
        fn write_rows<'c>(&mut self, rows: &hposim_core::Trace, _: &dyn Fn(u32) -> Option<&'c hposim_core::Config>) -> Result<(), String> {
            self.rows += rows.len() as u64;
            self.largest = self.largest.max(rows.len());
            Ok(())
        }
    }
    let trials = (SPILL_ROWS as u64 * 5 / 2).div_ceil(200);
    let experiment = long_cell(trials);
    let bench = experiment.benchmarks[0].as_ref();
    let mut rng = hposim_core::rng::stream(1, "long", "strategy");
    let spec = &experiment.spec.strategies[0];
    let mut scheduler = hposim_schedulers::build_strategy(
        spec,
        bench.space(),
        bench.objectives(),
        bench.fidelity(),
        None,
        experiment.spec.budget.trials,
        &mut rng,
    )
    .unwrap();
    let settings = hposim_sim::SimSettings {
        workers: 2,
        budget: experiment.spec.budget.clone(),
        checkpointing: true,
        launch_overhead: true,
        trace: hposim_core::TraceLevel::Steps,
    };
    let mut sink = Counter::default();
    let outcome = hposim_sim::simulator::simulate_into(bench, scheduler.as_mut(), &settings, &mut rng, 7, Some(&mut sink)).unwrap();
    // Two row groups went out; what is left is less than one, and the trace's columns never
    // grew past one row group (before streaming they held every row: 500,000 here).
    assert_eq!(sink.rows, 2 * SPILL_ROWS as u64);
    assert_eq!(sink.largest, SPILL_ROWS);
    assert_eq!(outcome.trace.total_rows(), trials * 200);
    assert!(outcome.trace.len() < SPILL_ROWS);
    assert!(outcome.trace.trial.capacity() <= 2 * SPILL_ROWS, "capacity {}", outcome.trace.trial.capacity());
}

#[test]
fn budgets_that_cannot_end_are_refused_naming_the_key() {
    let base = long_cell(10);
    let text = base.source.replace("trials = 10", "KEY");
    for (key, message) in [
        ("trials = 1_000_000_000", "budget.trials: must be at most 10000000"),
        ("compute_seconds = 1e308", "budget.compute_seconds: must be a positive number of seconds, at most 1e12"),
        ("wallclock_seconds = 1e308", "budget.wallclock_seconds: must be a positive number of seconds, at most 1e12"),
        ("full_evaluations = 100_000_000", "budget.full_evaluations: must be at most 10000000"),
    ] {
        let error = Experiment::parse(Path::new("x.toml"), &text.replace("KEY", key)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains(message), "{key}: {error}");
    }
}

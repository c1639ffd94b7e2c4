//! The decisions trace level against the steps level: a cell simulated keeping one row per run
//! segment (and telling each scheduler only the results it asks for, `Scheduler::next_decision`)
//! must make the same decisions at the same times with the same results as the same cell keeping
//! every step, for every scheduler, over workers, budgets, checkpointing, divergence and launch
//! overhead. A scheduler whose `next_decision` promised too much (skipped a result it needed)
//! changes its decisions here, and fails. The benchmarks' step costs vary with the
//! configuration: where completions on different workers tie exactly in time (equal step costs),
//! a run of steps takes its place among simultaneous results by when it started, and the levels
//! may differ (`hposim_core::TraceLevel`).
//!
//! What is compared: every row of the steps trace that is not `continue` appears in the decisions
//! trace, in order; every row of the decisions trace is a row of the steps trace (trial, worker,
//! step, end, metrics bit for bit, status, decision, exit overhead), in order, whose `start` and
//! `launch_seconds` are those of its segment's first step; the configurations and exploits; the
//! cell's counts, wall clock and full-training yardstick bit for bit, and its sums of step costs
//! (compute, overhead, idle time) to 1e-12 of the compute (a run's steps, one event, add their
//! costs in another order); the best value at any and at full fidelity.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hposim_core::rng::noise_seed;
use hposim_core::{Budget, CellOutcome, Trace, TraceLevel, TrialOutcome};
use hposim_curves::{Benchmark, BenchmarkSpec};
use hposim_schedulers::StrategySpec;
use hposim_sim::{SimSettings, simulate_strategy};
use proptest::prelude::*;

fn benchmark(toml_text: &str) -> Box<dyn Benchmark> {
    let spec: BenchmarkSpec = toml::from_str(toml_text).unwrap_or_else(|e| panic!("{toml_text}: {e}"));
    hposim_curves::build(&spec).unwrap()
}

fn strategy(toml_text: &str) -> StrategySpec {
    toml::from_str(&format!("name = \"s\"\n{toml_text}")).unwrap_or_else(|e| panic!("{toml_text}: {e}"))
}

/// The cell at both trace levels.
fn both(bench: &dyn Benchmark, strategy: &StrategySpec, workers: u32, budget: &Budget, checkpointing: bool, seed: u64) -> [CellOutcome; 2] {
    let noise = noise_seed(seed, bench.name(), 0);
    [TraceLevel::Steps, TraceLevel::Decisions].map(|trace| {
        let settings = SimSettings { workers, budget: budget.clone(), checkpointing, launch_overhead: true, trace };
        simulate_strategy(bench, strategy, seed, "\"bench\"/\"s\"/0", noise, &settings, "cell").unwrap()
    })
}

/// What identifies a row in both traces (times and metrics as bits).
fn key(t: &Trace, row: usize) -> (u32, u32, u32, u64, Vec<u64>, &'static str, &'static str, u64) {
    (
        t.trial[row],
        t.worker[row],
        t.epoch[row],
        t.end[row].to_bits(),
        t.metrics_of(row).iter().map(|m| m.to_bits()).collect(),
        t.status[row].as_str(),
        t.outcome[row].as_str(),
        t.exit_seconds[row].to_bits(),
    )
}

/// The first way in which the decisions-level outcome `d` is not the steps-level outcome `s`
/// kept at the decisions level.
fn difference(s: &CellOutcome, d: &CellOutcome, max: u32) -> Option<String> {
    let (st, dt) = (&s.trace, &d.trace);
    // The decisions rows, matched in order against the steps rows.
    let mut matched = Vec::with_capacity(dt.len());
    let mut next = 0;
    for row in 0..dt.len() {
        let wanted = key(dt, row);
        while next < st.len() && key(st, next) != wanted {
            if st.outcome[next] != TrialOutcome::Continue {
                return Some(format!("steps row {next} ({:?}) is a decision the decisions trace lacks", key(st, next)));
            }
            next += 1;
        }
        if next == st.len() {
            return Some(format!("decisions row {row} ({wanted:?}) is no step row after those matched"));
        }
        matched.push(next);
        next += 1;
    }
    if let Some(row) = (next..st.len()).find(|&r| st.outcome[r] != TrialOutcome::Continue) {
        return Some(format!("steps row {row} ({:?}) is a decision the decisions trace lacks", key(st, row)));
    }
    // Each decisions row starts where its segment's first step started: the step after the
    // previous kept row of its trial, on the same worker, in the same launch.
    let mut kept = vec![false; st.len()];
    for &m in &matched {
        kept[m] = true;
    }
    for (row, &m) in matched.iter().enumerate() {
        let mut first = m;
        while let Some(earlier) = (0..first).rev().find(|&r| st.trial[r] == st.trial[m]) {
            if kept[earlier] || st.outcome[earlier] != TrialOutcome::Continue || st.epoch[earlier] + 1 != st.epoch[first] {
                break;
            }
            first = earlier;
        }
        if dt.start[row].to_bits() != st.start[first].to_bits() || dt.launch_seconds[row].to_bits() != st.launch_seconds[first].to_bits() {
            return Some(format!(
                "decisions row {row} starts at {} after {} s of launch; its segment's first step (row {first}) at {} after {}",
                dt.start[row], dt.launch_seconds[row], st.start[first], st.launch_seconds[first]
            ));
        }
    }
    if st.configs != dt.configs || st.exploits != dt.exploits {
        return Some("configurations or exploits differ".into());
    }
    if st.best(max) != dt.best(max) {
        return Some(format!("best values differ: {:?} vs {:?}", st.best(max), dt.best(max)));
    }
    let (a, b) = (&s.stats, &d.stats);
    let exact = |x: &hposim_core::CellStats| {
        (
            (x.trials, x.epochs, x.full_evaluations, x.diverged_trials, x.stop_reason, x.sampler_warnings),
            [x.wallclock_seconds, x.full_training_seconds].map(f64::to_bits),
        )
    };
    // Sums of step costs, added in another order when a run's steps are one event.
    let sums = |x: &hposim_core::CellStats| {
        [
            x.compute_seconds,
            x.overhead_seconds,
            x.idle_seconds,
            x.compute_with_checkpointing_seconds,
            x.compute_without_checkpointing_seconds,
        ]
    };
    let scale = a.compute_seconds.max(a.wallclock_seconds).max(1.0);
    if exact(a) != exact(b) || !sums(a).iter().zip(sums(b)).all(|(x, y)| (x - y).abs() <= 1e-12 * scale) {
        return Some(format!("statistics differ: steps {a:?}, decisions {b:?}"));
    }
    None
}

/// The budgets a property test draws: each kind alone, and compute with trials.
fn budget(kind: u8, size: f64) -> Budget {
    match kind % 5 {
        0 => Budget { trials: Some((size * 40.0) as u64 + 1), ..Budget::default() },
        1 => Budget { compute_seconds: Some(size * 20_000.0 + 100.0), ..Budget::default() },
        2 => Budget { wallclock_seconds: Some(size * 5_000.0 + 50.0), ..Budget::default() },
        3 => Budget { full_evaluations: Some((size * 12.0) as u64 + 1), trials: Some(200), ..Budget::default() },
        _ => Budget { compute_seconds: Some(size * 20_000.0 + 100.0), trials: Some((size * 30.0) as u64 + 2), ..Budget::default() },
    }
}

fn check(
    bench: &dyn Benchmark,
    strategy_toml: &str,
    workers: u32,
    budget: &Budget,
    checkpointing: bool,
    seed: u64,
) -> Result<(), TestCaseError> {
    let [steps, decisions] = both(bench, &strategy(strategy_toml), workers, budget, checkpointing, seed);
    prop_assert!(steps.stats.epochs > 0, "nothing ran: {budget:?}");
    if let Some(difference) = difference(&steps, &decisions, bench.fidelity().max) {
        return Err(TestCaseError::fail(format!(
            "{strategy_toml} with {workers} workers, {budget:?}, checkpointing {checkpointing}, seed {seed}: {difference}"
        )));
    }
    Ok(())
}

/// Every scheduler (those that decide at rungs, at the end, at a chosen fidelity, and those
/// that look at every step), with model-based samplers where they change what is observed.
const SCHEDULERS: &[&str] = &[
    "sampler = { type = \"random\" }\nscheduler = { type = \"fifo\" }",
    "sampler = { type = \"tpe\" }\nscheduler = { type = \"fifo\" }",
    "sampler = { type = \"random\" }\nscheduler = { type = \"successive_halving\", min_fidelity = 1, eta = 3 }",
    "sampler = { type = \"random\" }\nscheduler = { type = \"successive_halving\", min_fidelity = 1, eta = 3, overlap = true }",
    "sampler = { type = \"random\" }\nscheduler = { type = \"hyperband\", eta = 3, sizing = \"li\" }",
    "sampler = { type = \"random\" }\nscheduler = { type = \"hyperband\", eta = 3, sizing = \"hpbandster\" }",
    "sampler = { type = \"random\" }\nscheduler = { type = \"asha\", eta = 3, variant = \"stopping\" }",
    "sampler = { type = \"random\" }\nscheduler = { type = \"asha\", eta = 3, variant = \"stopping\", min_fidelity = 2, brackets = 3 }",
    "sampler = { type = \"random\" }\nscheduler = { type = \"asha\", eta = 3, variant = \"promotion\", brackets = 2 }",
    "sampler = { type = \"random\" }\nscheduler = { type = \"median_stopping\", grace_period = 3 }",
    "sampler = { type = \"tpe\" }\nscheduler = { type = \"asha\", eta = 3, variant = \"stopping\" }",
    "sampler = { type = \"bohb\" }",
    "sampler = { type = \"bohb\" }\nscheduler = { type = \"asha\", eta = 3, variant = \"stopping\" }",
    "sampler = { type = \"regularized_evolution\", population = 8, sample_size = 3 }\nscheduler = { type = \"asha\" }",
    "sampler = { type = \"multitask\", tasks = [3, 9, 27], initial_design = 3, candidates = 16, local_search = 1, restarts = 1, max_observations = 24 }",
    "sampler = { type = \"mobster\", candidates = 16, local_search = 1, restarts = 1, max_observations = 24 }",
];

/// Synthetic curves of `epochs` steps whose costs depend on the configuration, with divergence,
/// and with launch overhead (start-up, resume, shutdown) when `overhead`. 150 steps make runs
/// longer than the simulator's run buffer (64 steps), which it splits.
fn synthetic(divergence: f64, overhead: bool, epochs: u32) -> Box<dyn Benchmark> {
    let divergence = if divergence > 0.0 { format!("divergence = {{ fraction = {divergence} }}\n") } else { String::new() };
    let overhead = if overhead { "overhead = { startup = 7, resume = 12.5, shutdown = 2, noise = 0.2 }\n" } else { "" };
    benchmark(&format!("type = \"synthetic\"\nmax_epochs = {epochs}\nepoch_seconds = 10\nnoise = 0.01\n{divergence}{overhead}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_decisions_level_keeps_every_decision_of_every_scheduler(
        which in 0..SCHEDULERS.len(),
        workers in 1u32..6,
        kind in 0u8..5,
        size in 0.05f64..1.0,
        checkpointing: bool,
        divergence in prop_oneof![Just(0.0), 0.05f64..0.4],
        overhead: bool,
        long: bool,
        seed in 0u64..1000,
    ) {
        let bench = synthetic(divergence, overhead, if long { 150 } else { 27 });
        check(bench.as_ref(), SCHEDULERS[which], workers, &budget(kind, size), checkpointing, seed)?;
    }

    /// Population-based training (every step a decision at its intervals, exploits) and the
    /// multi-objective schedulers (Pareto-ranked rungs), with ties everywhere.
    #[test]
    fn population_based_and_multi_objective_schedulers_keep_their_decisions(
        which in 0usize..4,
        workers in 1u32..6,
        kind in 0u8..5,
        size in 0.05f64..1.0,
        seed in 0u64..1000,
    ) {
        let (bench, strategy) = match which {
            0 | 1 => (
                benchmark("type = \"training_dynamics\"\nepochs = 30\n"),
                format!("sampler = {{ type = \"random\" }}\nscheduler = {{ type = \"pbt\", population = 4, perturbation_interval = 3, synchronous = {} }}", which == 0),
            ),
            2 => (benchmark("type = \"zdt\"\nsteps = 27\nseconds_per_step = 10\n"), "sampler = { type = \"random\" }\nscheduler = { type = \"mo_asha\", eta = 3 }".to_owned()),
            _ => (
                benchmark("type = \"synthetic\"\nmax_epochs = 27\nepoch_seconds = 10\nobjectives = [\"val_error\", \"training_time\"]\n"),
                "sampler = { type = \"random\" }\nscheduler = { type = \"hyperband\", eta = 3, ranking = \"pareto\" }".to_owned(),
            ),
        };
        let budget = if which < 2 { Budget { compute_seconds: Some(size * 40_000.0 + 2_000.0), ..Budget::default() } } else { budget(kind, size) };
        check(bench.as_ref(), &strategy, workers, &budget, true, seed)?;
    }
}

/// Every scheduler in every budget kind, with and without divergence, overhead and long runs,
/// deterministically (the property test above draws among them).
#[test]
fn every_scheduler_keeps_its_decisions_in_every_budget_kind() {
    for (b, bench) in [synthetic(0.1, false, 27), synthetic(0.2, true, 27), synthetic(0.0, false, 150)].iter().enumerate() {
        for (i, scheduler) in SCHEDULERS.iter().enumerate() {
            for kind in 0..5u8 {
                let checkpointing = (i + b + kind as usize).is_multiple_of(2);
                for workers in [1 + (i as u32 + u32::from(kind)) % 4, 4] {
                    if let Err(e) = check(bench.as_ref(), scheduler, workers, &budget(kind, 0.3), checkpointing, (i + b) as u64) {
                        panic!("{e}");
                    }
                }
            }
        }
    }
}

/// The decisions level keeps fewer rows where schedulers decide rarely: FIFO keeps one row per
/// trial (its end, or its cut), ASHA one per rung reached. (Were it to keep every step, the
/// tests above would pass and the level would be useless.)
#[test]
fn the_decisions_level_keeps_a_row_per_segment() {
    let bench = synthetic(0.0, false, 27);
    let budget = Budget { trials: Some(30), ..Budget::default() };
    let [steps, decisions] =
        both(bench.as_ref(), &strategy("sampler = { type = \"random\" }\nscheduler = { type = \"fifo\" }"), 3, &budget, true, 1);
    assert_eq!(steps.trace.len(), 30 * 27);
    assert_eq!(decisions.trace.len(), 30);
    assert!(decisions.trace.outcome.iter().all(|&o| o == TrialOutcome::Done));
    // Each row covers its trial's 27 steps.
    for row in 0..30 {
        let first = (0..steps.trace.len()).find(|&r| steps.trace.trial[r] == decisions.trace.trial[row]).unwrap();
        assert_eq!(decisions.trace.start[row], steps.trace.start[first]);
        assert_eq!(decisions.trace.epoch[row], 27);
    }
    let asha = strategy("sampler = { type = \"random\" }\nscheduler = { type = \"asha\", eta = 3, variant = \"stopping\" }");
    let [steps, decisions] = both(bench.as_ref(), &asha, 3, &budget, true, 1);
    // Rungs at 1, 3 and 9, and the end at 27: a trial that reached step s has one row per rung
    // at or below s, and one for its end.
    let expected: usize = (0..30u32)
        .map(|t| {
            let reached = (0..steps.trace.len()).filter(|&r| steps.trace.trial[r] == t).map(|r| steps.trace.epoch[r]).max().unwrap();
            [1, 3, 9, 27].iter().filter(|&&l| l <= reached).count()
        })
        .sum();
    assert_eq!(decisions.trace.len(), expected);
    assert!(decisions.trace.len() < steps.trace.len());
}

//! The differential test of hposim's two executors, where they meet: a live study (the runner's
//! study loop, with its journal, process bookkeeping and step-report protocol) run on an
//! executor that replays a benchmark on a virtual clock must give the simulator's trace exactly
//! (every row: trial, worker, step, start and end times, metrics bit for bit, status, decision;
//! every configuration and exploit), for every scheduler, with and without checkpointing, over
//! workers, budgets and divergence. Both drive the same trial book, so any difference is a
//! defect of one executor.
//!
//! Totals are compared too: counts exactly, and seconds to 1e-9 relative to the clock's
//! magnitude (the row's end, the cell's wall-clock time), since a live study adds up a launch's
//! time from its start and end (a difference of clock readings, each rounded at the clock's
//! magnitude: launch overheads that sum to zero in the simulator came to 1.0e-9 s live in a cell
//! whose clock reached 14,473 s) where the simulator adds its steps' costs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hposim_core::rng::{noise_seed, stream};
use hposim_core::{Budget, CellOutcome};
use hposim_curves::{Benchmark, BenchmarkSpec};
use hposim_runner::replay::ReplayExecutor;
use hposim_runner::study::{StudySetup, run_study};
use hposim_schedulers::{StrategySpec, build_strategy};
use hposim_sim::{SimSettings, simulate_strategy};
use proptest::prelude::*;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

fn benchmark(toml_text: &str) -> Box<dyn Benchmark> {
    let spec: BenchmarkSpec = toml::from_str(toml_text).unwrap_or_else(|e| panic!("{toml_text}: {e}"));
    hposim_curves::build(&spec).unwrap()
}

fn strategy(toml_text: &str) -> StrategySpec {
    toml::from_str(&format!("name = \"s\"\n{toml_text}")).unwrap_or_else(|e| panic!("{toml_text}: {e}"))
}

/// A folder for a live study's journal and trial folders: in memory where the machine has
/// one, since the journal is flushed to disk at every record.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() { tempfile::tempdir_in(shm).unwrap() } else { tempfile::tempdir().unwrap() }
}

/// The cell simulated, and the same cell run as a live study on a replay of the benchmark.
fn both(
    bench: &dyn Benchmark,
    strategy: &StrategySpec,
    workers: u32,
    budget: &Budget,
    checkpointing: bool,
    seed: u64,
) -> (CellOutcome, CellOutcome) {
    let cell = "\"bench\"/\"s\"/0";
    let settings =
        SimSettings { workers, budget: budget.clone(), checkpointing, launch_overhead: true, trace: hposim_core::TraceLevel::Steps };
    let noise = noise_seed(seed, bench.name(), 0);
    let simulated = simulate_strategy(bench, strategy, seed, cell, noise, &settings, "cell").unwrap();
    let mut rng = stream(seed, cell, "strategy");
    let mut scheduler =
        build_strategy(strategy, bench.space(), bench.objectives(), bench.fidelity(), bench.recorded_configs(), budget.trials, &mut rng)
            .unwrap();
    let mut executor = ReplayExecutor::new(bench, workers as usize, noise);
    let dir = scratch();
    let command = vec!["replay".to_owned()];
    let setup = StudySetup {
        space: bench.space(),
        objectives: bench.objectives(),
        fidelity: bench.fidelity(),
        command: &command,
        workdir: dir.path(),
        dir: dir.path(),
        budget,
        checkpointing,
        time_limit: None,
        grace: Duration::from_secs(10),
        gpus_per_trial: 0,
        seed,
    };
    let live = run_study(&setup, scheduler.as_mut(), &mut rng, &mut executor, None, &AtomicBool::new(false)).unwrap();
    (simulated, live.cell)
}

/// Floats equal bit for bit (NaN included).
fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// `a` and `b` equal to 1e-9 relative to the larger of them and of `clock`, the magnitude of
/// the clock readings they were computed from.
fn close(a: f64, b: f64, clock: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(clock.abs()).max(1.0)
}

/// The first difference between the simulated and the live outcome, in words.
fn difference(simulated: &CellOutcome, live: &CellOutcome) -> Option<String> {
    let (s, l) = (&simulated.trace, &live.trace);
    if s.len() != l.len() {
        let first = (0..s.len().min(l.len())).find(|&r| (s.trial[r], s.epoch[r], s.worker[r]) != (l.trial[r], l.epoch[r], l.worker[r]));
        return Some(format!("{} rows simulated, {} live; first different row {first:?}", s.len(), l.len()));
    }
    for row in 0..s.len() {
        let simulated_row = (s.trial[row], s.worker[row], s.epoch[row], s.status[row], s.outcome[row]);
        let live_row = (l.trial[row], l.worker[row], l.epoch[row], l.status[row], l.outcome[row]);
        if simulated_row != live_row
            || !same_bits(&[s.start[row], s.end[row]], &[l.start[row], l.end[row]])
            || !same_bits(s.metrics_of(row), l.metrics_of(row))
        {
            return Some(format!(
                "row {row}: simulated {simulated_row:?} {}..{} {:?}, live {live_row:?} {}..{} {:?}",
                s.start[row],
                s.end[row],
                s.metrics_of(row),
                l.start[row],
                l.end[row],
                l.metrics_of(row)
            ));
        }
    }
    for row in 0..s.len() {
        let (sl, ll, se, le) = (s.launch_seconds[row], l.launch_seconds[row], s.exit_seconds[row], l.exit_seconds[row]);
        if !close(sl, ll, s.end[row]) || !close(se, le, s.end[row]) {
            return Some(format!("row {row}: launch/exit overhead simulated {sl}/{se}, live {ll}/{le}"));
        }
    }
    if s.configs != l.configs {
        return Some("the trials' configurations differ".into());
    }
    if s.exploits != l.exploits {
        return Some(format!("exploits differ: {:?} vs {:?}", s.exploits, l.exploits));
    }
    let (a, b) = (&simulated.stats, &live.stats);
    let counts =
        |x: &hposim_core::CellStats| (x.trials, x.epochs, x.full_evaluations, x.diverged_trials, x.stop_reason, x.sampler_warnings);
    if counts(a) != counts(b) {
        return Some(format!("totals differ: simulated {:?}, live {:?}", counts(a), counts(b)));
    }
    let seconds = |x: &hposim_core::CellStats| {
        [
            x.compute_seconds,
            x.overhead_seconds,
            x.wallclock_seconds,
            x.idle_seconds,
            x.full_training_seconds,
            x.compute_with_checkpointing_seconds,
            x.compute_without_checkpointing_seconds,
        ]
    };
    if !seconds(a).iter().zip(seconds(b)).all(|(x, y)| close(*x, y, a.wallclock_seconds)) {
        return Some(format!("seconds differ: simulated {:?}, live {:?}", seconds(a), seconds(b)));
    }
    None
}

/// Synthetic curves whose step costs depend on the configuration, with divergence.
fn synthetic(max_epochs: u32, divergence: f64) -> Box<dyn Benchmark> {
    let divergence = if divergence > 0.0 { format!("divergence = {{ fraction = {divergence} }}\n") } else { String::new() };
    benchmark(&format!("type = \"synthetic\"\nmax_epochs = {max_epochs}\nepoch_seconds = 10\nnoise = 0.01\n{divergence}"))
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

/// Runs `strategy` on `bench` both ways and fails with the first difference.
fn check(
    bench: &dyn Benchmark,
    strategy_toml: &str,
    workers: u32,
    budget: &Budget,
    checkpointing: bool,
    seed: u64,
) -> Result<(), TestCaseError> {
    let strategy = strategy(strategy_toml);
    let (simulated, live) = both(bench, &strategy, workers, budget, checkpointing, seed);
    prop_assert!(simulated.stats.epochs > 0, "nothing ran: {budget:?}");
    if let Some(difference) = difference(&simulated, &live) {
        return Err(TestCaseError::fail(format!(
            "{strategy_toml} with {workers} workers, {budget:?}, checkpointing {checkpointing}, seed {seed}: {difference}"
        )));
    }
    Ok(())
}

const SCHEDULERS: &[&str] = &[
    "sampler = { type = \"random\" }\nscheduler = { type = \"fifo\" }",
    "sampler = { type = \"random\" }\nscheduler = { type = \"successive_halving\", min_fidelity = 1, eta = 3 }",
    "sampler = { type = \"random\" }\nscheduler = { type = \"successive_halving\", min_fidelity = 1, eta = 3, overlap = true }",
    "sampler = { type = \"random\" }\nscheduler = { type = \"hyperband\", eta = 3, sizing = \"li\" }",
    "sampler = { type = \"random\" }\nscheduler = { type = \"hyperband\", eta = 3, sizing = \"hpbandster\" }",
    "sampler = { type = \"random\" }\nscheduler = { type = \"asha\", eta = 3, variant = \"stopping\" }",
    "sampler = { type = \"random\" }\nscheduler = { type = \"asha\", eta = 3, variant = \"promotion\", brackets = 2 }",
    "sampler = { type = \"random\" }\nscheduler = { type = \"median_stopping\", grace_period = 3 }",
    "sampler = { type = \"tpe\" }\nscheduler = { type = \"asha\", eta = 3, variant = \"promotion\" }",
    "sampler = { type = \"bohb\" }",
    "sampler = { type = \"regularized_evolution\", population = 8, sample_size = 3 }\nscheduler = { type = \"asha\" }",
    "sampler = { type = \"sobol\" }\nscheduler = { type = \"hyperband\", eta = 3, overlap = false }",
    // The samplers that choose each trial's fidelity (behind fidelity_choice), and MOBSTER's GP
    // behind ASHA; small settings, as the models' cost is not what is tested here.
    "sampler = { type = \"fabolas\", initial_design = 3, candidates = 16, local_search = 1, levels = 3, max_value_samples = 2, restarts = 1, max_observations = 24 }",
    "sampler = { type = \"multitask\", tasks = [3, 9, 27], initial_design = 3, candidates = 16, local_search = 1, restarts = 1, max_observations = 24 }",
    "sampler = { type = \"mobster\", candidates = 16, local_search = 1, restarts = 1, max_observations = 24 }",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_live_study_on_a_replay_gives_the_simulators_trace_for_every_scheduler(
        which in 0..SCHEDULERS.len(),
        workers in 1u32..6,
        kind in 0u8..5,
        size in 0.05f64..1.0,
        checkpointing: bool,
        divergence in prop_oneof![Just(0.0), 0.05f64..0.4],
        seed in 0u64..1000,
    ) {
        let bench = synthetic(27, divergence);
        check(bench.as_ref(), SCHEDULERS[which], workers, &budget(kind, size), checkpointing, seed)?;
    }
}

/// Synthetic curves whose launches cost start-up, resume and shutdown, with noise.
fn with_overhead(noise: f64) -> Box<dyn Benchmark> {
    benchmark(&format!(
        "type = \"synthetic\"\nmax_epochs = 27\nepoch_seconds = 10\nnoise = 0.01\noverhead = {{ startup = 7, resume = 12.5, shutdown = 2, noise = {noise} }}\n"
    ))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Launch overhead is accounted alike by both executors: a live study's processes on the
    /// replay start up, resume and shut down as the simulator charges them (the trace's
    /// `launch_seconds` and `exit_seconds`, the totals' overhead, every time).
    #[test]
    fn launch_overhead_agrees_for_every_scheduler(
        which in 0..SCHEDULERS.len(),
        workers in 1u32..6,
        kind in 0u8..5,
        size in 0.05f64..1.0,
        checkpointing: bool,
        noise in prop_oneof![Just(0.0), 0.05f64..0.5],
        seed in 0u64..1000,
    ) {
        let bench = with_overhead(noise);
        check(bench.as_ref(), SCHEDULERS[which], workers, &budget(kind, size), checkpointing, seed)?;
    }
}

/// Every scheduler once in every budget kind, deterministically (the property test above
/// draws among them).
#[test]
fn every_scheduler_agrees_in_every_budget_kind() {
    for bench in [synthetic(27, 0.1), with_overhead(0.2)] {
        every_scheduler_in_every_budget_kind(bench.as_ref());
    }
}

fn every_scheduler_in_every_budget_kind(bench: &dyn Benchmark) {
    for (i, scheduler) in SCHEDULERS.iter().enumerate() {
        for kind in 0..5u8 {
            let checkpointing = (i + kind as usize).is_multiple_of(2);
            let result = check(bench, scheduler, 1 + (i as u32 + u32::from(kind)) % 4, &budget(kind, 0.3), checkpointing, i as u64);
            if let Err(e) = result {
                panic!("{e}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    /// Population-based training copies checkpoints: exploits must agree too. Every step of the
    /// training-dynamics benchmark costs the same, so steps end at the same instants all the
    /// time, and the two executors must break those ties alike.
    #[test]
    fn population_based_training_agrees_synchronous_and_asynchronous(
        synchronous: bool,
        workers in 1u32..6,
        population in 2u32..8,
        compute in 2_000f64..40_000.0,
        seed in 0u64..1000,
    ) {
        let bench = benchmark("type = \"training_dynamics\"\nepochs = 30\n");
        let strategy = format!(
            "sampler = {{ type = \"random\" }}\nscheduler = {{ type = \"pbt\", population = {population}, perturbation_interval = 3, synchronous = {synchronous} }}"
        );
        check(bench.as_ref(), &strategy, workers, &Budget { compute_seconds: Some(compute), ..Budget::default() }, true, seed)?;
    }

    /// Multi-objective ASHA and multi-objective HyperBand (Pareto-ranked rungs), on ZDT1 with
    /// equal step costs (ties everywhere) and on synthetic error against training time.
    #[test]
    fn multi_objective_schedulers_agree(
        hyperband: bool,
        zdt: bool,
        workers in 1u32..6,
        kind in 0u8..5,
        size in 0.05f64..1.0,
        seed in 0u64..1000,
    ) {
        let bench = if zdt {
            benchmark("type = \"zdt\"\nsteps = 27\nseconds_per_step = 10\n")
        } else {
            benchmark("type = \"synthetic\"\nmax_epochs = 27\nepoch_seconds = 10\nobjectives = [\"val_error\", \"training_time\"]\n")
        };
        let scheduler = if hyperband {
            "scheduler = { type = \"hyperband\", eta = 3, ranking = \"pareto\" }"
        } else {
            "scheduler = { type = \"mo_asha\", eta = 3 }"
        };
        let strategy = format!("sampler = {{ type = \"random\" }}\n{scheduler}");
        check(bench.as_ref(), &strategy, workers, &budget(kind, size), true, seed)?;
    }
}

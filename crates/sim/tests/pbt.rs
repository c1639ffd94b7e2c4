//! Population-based training in the simulator: the toy example of Jaderberg et al. (2017),
//! Figure 2, its ablations, the lineage the trace records, and determinism.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use hposim_core::{Budget, Trace};
use hposim_core::{Config, Objective, Rng, Value};
use hposim_curves::Benchmark;
use hposim_curves::pbt_toy::{PbtToy, PbtToySpec};
use hposim_schedulers::pbt::{ExploreKind, Pbt, PbtSettings};
use hposim_sim::simulator::{SimSettings, simulate};
use rand::SeedableRng;
use std::collections::VecDeque;

/// Proposes the given configurations in order, then nothing.
struct Listed(VecDeque<Config>);

impl hposim_samplers::Sampler for Listed {
    fn suggest(&mut self, _rng: &mut Rng) -> Option<Config> {
        self.0.pop_front()
    }
}

fn h(h0: f64, h1: f64) -> Config {
    Config::new(vec![Value::Float(h0), Value::Float(h1)])
}

fn toy_settings(exploit: bool, explore: ExploreKind) -> PbtSettings {
    let text = format!(
        "synchronous = true\npopulation = 2\nperturbation_interval = 4\nquantile_fraction = 0.5\nexploit = {exploit}\nexplore = \"{}\"\nnoise_std = 0.1\n",
        match explore {
            ExploreKind::Perturb => "perturb",
            ExploreKind::Noise => "noise",
            ExploreKind::None => "none",
        }
    );
    toml::from_str(&text).unwrap()
}

/// The paper's setting: two workers from θ = (0.9, 0.9) with h = (1, 0) and (0, 1).
fn run_toy(settings: &PbtSettings, seed: u64) -> Trace {
    let bench = PbtToy::new(
        "toy".into(),
        &PbtToySpec { name: None, steps: 200, learning_rate: 0.01, initial_theta: [0.9, 0.9], seconds_per_step: 1.0 },
    )
    .unwrap();
    let sampler = Listed(vec![h(1.0, 0.0), h(0.0, 1.0)].into());
    let config = settings.resolve(200).unwrap();
    let mut scheduler = Pbt::new(Box::new(sampler), bench.space().clone(), Objective::maximize("q"), config, 200);
    let sim = SimSettings {
        workers: 2,
        budget: Budget::default(),
        checkpointing: true,
        launch_overhead: true,
        trace: hposim_core::TraceLevel::Steps,
    };
    let outcome = simulate(&bench, &mut scheduler, &sim, &mut Rng::seed_from_u64(seed), seed).unwrap();
    outcome.trace.check_invariants(true).unwrap();
    outcome.trace
}

/// The best Q observed by each step 1..=200 (all members' rows up to that step).
fn best_by_step(trace: &Trace) -> Vec<f64> {
    let mut best = vec![f64::NEG_INFINITY; 201];
    for r in 0..trace.len() {
        let e = trace.epoch[r] as usize;
        best[e] = best[e].max(trace.metrics_of(r)[0]);
    }
    for e in 1..=200 {
        best[e] = best[e].max(best[e - 1]);
    }
    best
}

fn mean_best_by_step(settings: &PbtSettings) -> Vec<f64> {
    let seeds = 30;
    let mut mean = vec![0.0; 201];
    for seed in 0..seeds {
        for (m, b) in mean.iter_mut().zip(best_by_step(&run_toy(settings, seed))) {
            *m += b / f64::from(seeds as u32);
        }
    }
    mean
}

/// Reference figures (30 seeds, mean of the best Q observed by each step), printed by
/// `cargo nextest run -p hposim-sim --test pbt --no-capture`:
///
/// | step | PBT | explore only | exploit only | grid |
/// |---|---|---|---|---|
/// | 25 | 0.178 | 0.163 | 0.095 | 0.095 |
/// | 50 | 0.563 | 0.491 | 0.283 | 0.283 |
/// | 100 | 1.025 | 0.875 | 0.376 | 0.376 |
/// | 200 | 1.196 | 1.144 | 0.390 | 0.390 |
///
/// As in the paper's Figure 2: grid search (fixed h) stalls at 1.2 − 0.81 = 0.39, exploit alone
/// cannot do better because both members end with the same h, explore alone wanders towards
/// the optimum, and PBT gets there first.
#[test]
fn the_toy_example_reproduces_figure_2() {
    let pbt = mean_best_by_step(&toy_settings(true, ExploreKind::Noise));
    let exploit_only = mean_best_by_step(&toy_settings(true, ExploreKind::None));
    let explore_only = mean_best_by_step(&toy_settings(false, ExploreKind::Noise));
    let grid = mean_best_by_step(&toy_settings(false, ExploreKind::None));
    for step in [25, 50, 100, 200] {
        eprintln!(
            "step {step}: pbt {:.4} explore {:.4} exploit {:.4} grid {:.4}",
            pbt[step], explore_only[step], exploit_only[step], grid[step]
        );
    }
    for step in [50, 100, 200] {
        assert!(pbt[step] > explore_only[step] && pbt[step] > exploit_only[step] + 0.2, "step {step}");
    }
    assert!(pbt[200] > 1.15, "{}", pbt[200]);
    assert!(grid[200] <= 0.39 + 1e-9 && exploit_only[200] <= 0.39 + 1e-9);
    // Fewer steps: the first step at which the mean reaches Q = 1.
    let reach = |curve: &[f64]| curve.iter().position(|&q| q >= 1.0).unwrap_or(usize::MAX);
    assert!(reach(&pbt) < reach(&explore_only), "{} vs {}", reach(&pbt), reach(&explore_only));
}

fn dynamics_run(synchronous: bool, seed: u64) -> Trace {
    use hposim_curves::training_dynamics::{TrainingDynamics, TrainingDynamicsSpec};
    let bench =
        TrainingDynamics::new("d".into(), &TrainingDynamicsSpec { name: None, epochs: 60, seconds_per_epoch: 60.0, noise: 0.01 }).unwrap();
    let settings: PbtSettings =
        toml::from_str(&format!("population = 7\nperturbation_interval = 5\nsynchronous = {synchronous}\n")).unwrap();
    let sampler = hposim_samplers::random::RandomSampler::new(bench.space().clone());
    let mut scheduler =
        Pbt::new(Box::new(sampler), bench.space().clone(), Objective::minimize("val_error"), settings.resolve(60).unwrap(), 60);
    // Fewer workers than members: members wait their turn.
    let sim = SimSettings {
        workers: 3,
        budget: Budget::default(),
        checkpointing: true,
        launch_overhead: true,
        trace: hposim_core::TraceLevel::Steps,
    };
    let outcome = simulate(&bench, &mut scheduler, &sim, &mut Rng::seed_from_u64(seed), seed ^ 7).unwrap();
    outcome.trace.check_invariants(true).unwrap();
    outcome.trace
}

#[test]
fn the_lineage_is_a_forest_of_the_initial_configurations() {
    for synchronous in [false, true] {
        for seed in 0..5 {
            let trace = dynamics_run(synchronous, seed);
            assert!(!trace.exploits.is_empty());
            let parent = |t: u32| trace.exploits.iter().find(|e| e.trial == t).map(|e| e.donor);
            let roots: Vec<u32> = (0..trace.configs.len() as u32).filter(|&t| parent(t).is_none()).collect();
            // Seven members, none diverges: only the seven initial trials are roots (with fewer
            // workers than members, exploits may start before the last member does).
            assert_eq!(roots.len(), 7, "synchronous {synchronous}, seed {seed}: {roots:?}");
            assert_eq!(roots[..3], [0, 1, 2]);
            for t in 0..trace.configs.len() as u32 {
                let (mut at, mut hops) = (t, 0);
                while let Some(p) = parent(at) {
                    assert!(p < at);
                    at = p;
                    hops += 1;
                }
                assert!(roots.contains(&at) && hops <= trace.exploits.len());
            }
            // Every member trains to the end: seven trials end with `done` at epoch 60.
            let done = (0..trace.len()).filter(|&r| trace.outcome[r] == hposim_core::TrialOutcome::Done).count();
            assert_eq!(done, 7);
            if synchronous {
                // Generations: every exploit copies a step that is a multiple of the interval.
                assert!(trace.exploits.iter().all(|e| e.step % 5 == 0));
            }
        }
    }
}

#[test]
fn a_seed_gives_the_same_trace() {
    assert_eq!(dynamics_run(false, 3), dynamics_run(false, 3));
    assert_ne!(dynamics_run(false, 3).exploits, dynamics_run(false, 4).exploits);
}

/// Training dynamics whose runs diverge (NaN from step 7 on) for one trial in five, chosen by
/// the trial's noise seed, so that members diverge in every generation, the last included.
struct Diverging(hposim_curves::training_dynamics::TrainingDynamics);

impl Benchmark for Diverging {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn space(&self) -> &hposim_core::SearchSpace {
        self.0.space()
    }
    fn objectives(&self) -> &[Objective] {
        self.0.objectives()
    }
    fn fidelity(&self) -> &hposim_core::Fidelity {
        self.0.fidelity()
    }
    fn open(&self, config: &Config, seed: u64) -> hposim_curves::TrialCurve {
        self.0.open(config, seed)
    }
    fn step(&self, curve: &hposim_curves::TrialCurve, step: u32, metrics: &mut [f64]) -> f64 {
        let cost = self.0.step(curve, step, metrics);
        if curve.seed.is_multiple_of(5) && step >= 7 {
            metrics[0] = f64::NAN;
        }
        cost
    }
    fn best_known(&self) -> Option<&[f64]> {
        self.0.best_known()
    }
    fn supports_splice(&self) -> bool {
        true
    }
    fn splice(&self, curve: &hposim_curves::TrialCurve, config: &Config, step: u32, seed: u64) -> Option<hposim_curves::TrialCurve> {
        self.0.splice(curve, config, step, seed)
    }
}

#[test]
fn diverging_members_are_replaced_and_never_stall_the_population() {
    use hposim_curves::training_dynamics::{TrainingDynamics, TrainingDynamicsSpec};
    let bench = Diverging(
        TrainingDynamics::new("d".into(), &TrainingDynamicsSpec { name: None, epochs: 20, seconds_per_epoch: 1.0, noise: 0.0 }).unwrap(),
    );
    for text in ["synchronous = true", "synchronous = false", "synchronous = true\nexploit = false", "exploit = false"] {
        let settings: PbtSettings = toml::from_str(&format!("population = 6\nperturbation_interval = 10\n{text}\n")).unwrap();
        let mut diverged = 0;
        for seed in 0..20 {
            let sampler = hposim_samplers::random::RandomSampler::new(bench.space().clone());
            let mut scheduler =
                Pbt::new(Box::new(sampler), bench.space().clone(), Objective::minimize("val_error"), settings.resolve(20).unwrap(), 20);
            let sim = SimSettings {
                workers: 2,
                budget: Budget::default(),
                checkpointing: true,
                launch_overhead: true,
                trace: hposim_core::TraceLevel::Steps,
            };
            let outcome = simulate(&bench, &mut scheduler, &sim, &mut Rng::seed_from_u64(seed), seed)
                .unwrap_or_else(|e| panic!("{text}, seed {seed}: {e}"));
            outcome.trace.check_invariants(true).unwrap();
            assert_eq!(outcome.stats.stop_reason, hposim_core::StopReason::StrategyFinished, "{text}, seed {seed}");
            diverged += outcome.stats.diverged_trials;
            // No copy starts from a diverged step.
            for e in &outcome.trace.exploits {
                let row = (0..outcome.trace.len()).find(|&r| outcome.trace.trial[r] == e.donor && outcome.trace.epoch[r] == e.step);
                assert!(row.is_none_or(|r| outcome.trace.status[r] == hposim_core::EpochStatus::Ok), "{text}, seed {seed}: {e:?}");
            }
        }
        assert!(diverged > 10, "{text}: only {diverged} diverged trials");
    }
}

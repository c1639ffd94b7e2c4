//! Ask/tell studies of a simulated experiment's cells: the specification under which an
//! ask/tell study ([`hposim_runner::ask_tell`]) asks the same questions as the simulator's
//! cell, and a benchmark's curves for replaying it step by step (what the Python package's
//! `hposim.Study.from_experiment` and `hposim.Benchmark` use, and the test that ask/tell
//! reproduces the simulator's trace).

use anyhow::{Context, Result, anyhow};
use hposim_core::Config;
use hposim_core::rng::noise_seed;
use hposim_curves::{Benchmark, TrialCurve};
use hposim_runner::ask_tell::AskTellSpec;
use hposim_sim::Experiment;
use std::path::Path;

/// The index of benchmark `name` in `experiment`, with an error naming the choices.
pub fn benchmark_index(experiment: &Experiment, name: &str) -> Result<usize> {
    experiment.benchmarks.iter().position(|b| b.name() == name).ok_or_else(|| {
        let names: Vec<&str> = experiment.benchmarks.iter().map(|b| b.name()).collect();
        anyhow!("{}: no benchmark named {name:?} (it has {})", experiment.path.display(), names.join(", "))
    })
}

/// The ask/tell study that asks what the simulator asks in the cell (`benchmark`, `strategy`,
/// `repetition`) of `experiment`: the benchmark's space, objectives and fidelity, the strategy,
/// and the experiment's workers, budget, checkpointing and seed.
pub fn spec_of_cell(experiment: &Experiment, benchmark: &str, strategy: &str, repetition: u32) -> Result<AskTellSpec> {
    let bench = &experiment.benchmarks[benchmark_index(experiment, benchmark)?];
    let spec = &experiment.spec;
    let index = spec.strategies.iter().position(|s| s.name == strategy).ok_or_else(|| {
        let names: Vec<&str> = spec.strategies.iter().map(|s| s.name.as_str()).collect();
        anyhow!("{}: no strategy named {strategy:?} (it has {})", experiment.path.display(), names.join(", "))
    })?;
    if bench.recorded_configs().is_some() {
        anyhow::bail!(
            "{}: benchmark {benchmark:?} replays a recorded table with lookup = \"recorded\", whose configurations the samplers are confined to; ask/tell studies propose anywhere in the space",
            experiment.path.display()
        );
    }
    Ok(AskTellSpec {
        name: bench.name().to_owned(),
        space: bench.space().specs().to_vec(),
        objectives: bench.objectives().to_vec(),
        fidelity: bench.fidelity().clone(),
        strategy: spec.strategies[index].clone(),
        workers: spec.workers,
        budget: spec.budget.clone(),
        checkpointing: experiment.checkpointing(index),
        seed: spec.seed,
        repetition,
    })
}

/// A benchmark of an experiment replayed step by step: each configuration's curve with the
/// noise the simulator gives it in repetition `repetition` (common random numbers).
pub struct Replay {
    experiment: Experiment,
    index: usize,
    noise: u64,
}

impl Replay {
    /// Benchmark `name` of the experiment at `path`, as repetition `repetition` sees it.
    pub fn load(path: &Path, name: &str, repetition: u32) -> Result<Self> {
        let experiment = Experiment::load(path)?;
        Self::of(experiment, name, repetition)
    }

    /// Benchmark `name` of `experiment`, as repetition `repetition` sees it.
    pub fn of(experiment: Experiment, name: &str, repetition: u32) -> Result<Self> {
        let index = benchmark_index(&experiment, name)?;
        let noise = noise_seed(experiment.spec.seed, experiment.benchmarks[index].name(), repetition);
        Ok(Self { experiment, index, noise })
    }

    /// The benchmark.
    pub fn benchmark(&self) -> &dyn Benchmark {
        self.experiment.benchmarks[self.index].as_ref()
    }

    /// The experiment.
    pub fn experiment(&self) -> &Experiment {
        &self.experiment
    }

    /// The curve of a trial with `config` started from scratch (as the simulator opens it).
    pub fn open(&self, config: &Config) -> TrialCurve {
        self.benchmark().open(config, config.trial_seed(self.noise, None))
    }

    /// The curve of the configuration written as JSON (as an ask/tell study suggests it).
    pub fn open_json(&self, config: &serde_json::Map<String, serde_json::Value>) -> Result<TrialCurve> {
        let config = Config::from_json(self.benchmark().space(), config).map_err(|e| anyhow!("config: {e}"))?;
        Ok(self.open(&config))
    }

    /// Step `step` of `curve`: the metrics (one per objective) and the step's cost in seconds.
    pub fn step(&self, curve: &TrialCurve, step: u32) -> Result<(Vec<f64>, f64)> {
        let fidelity = self.benchmark().fidelity();
        if step == 0 || step > fidelity.max {
            anyhow::bail!("step: must lie in 1..={}, got {step}", fidelity.max);
        }
        let mut metrics = vec![0.0; self.benchmark().objectives().len()];
        let cost = self.benchmark().step(curve, step, &mut metrics);
        Ok((metrics, cost))
    }
}

/// `spec_of_cell` for the experiment file at `path`.
pub fn spec_of_experiment_cell(path: &Path, benchmark: &str, strategy: &str, repetition: u32) -> Result<AskTellSpec> {
    let experiment = Experiment::load(path).with_context(|| format!("reading {}", path.display()))?;
    spec_of_cell(&experiment, benchmark, strategy, repetition)
}

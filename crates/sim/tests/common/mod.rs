//! Test fixtures shared by the simulator's integration tests.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests and benchmarks fail loudly on purpose.
#![allow(dead_code)]

use hposim_core::{Action, Config, Decision, Fidelity, Objective, Observation, ParamSpec, Rng, SearchSpace, TrialId, Value, WorkerRequest};
use hposim_curves::{Benchmark, INLINE_COEFFICIENTS, TrialCurve};
use hposim_schedulers::Scheduler;
use std::collections::VecDeque;

/// One float parameter `x` in [0, 1]; the metric after epoch `t` is `x + 1/t` (`bad_value`
/// from epoch `nan_from` on when `x > 0.9`), every epoch costs `cost` seconds.
pub struct Toy {
    /// `x` in [0, 1].
    pub space: SearchSpace,
    /// One minimised `loss`.
    pub objectives: Vec<Objective>,
    /// Epochs `1..=max`.
    pub fidelity: Fidelity,
    /// Seconds per epoch.
    pub cost: f64,
    /// First epoch that reports `bad_value` for `x > 0.9`.
    pub nan_from: u32,
    /// What a diverged epoch reports (NaN or an infinity).
    pub bad_value: f64,
    /// Per-launch overhead.
    pub overhead: hposim_core::LaunchOverhead,
}

impl Toy {
    /// `max` epochs of `cost` seconds, never diverging.
    pub fn new(max: u32, cost: f64) -> Self {
        Self {
            space: SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None }]).unwrap(),
            objectives: vec![Objective::minimize("loss")],
            fidelity: Fidelity::epochs(max),
            cost,
            nan_from: u32::MAX,
            bad_value: f64::NAN,
            overhead: hposim_core::LaunchOverhead::ZERO,
        }
    }
}

/// The configuration `x`.
pub fn config(x: f64) -> Config {
    Config::new(vec![Value::Float(x)])
}

impl Benchmark for Toy {
    fn name(&self) -> &str {
        "toy"
    }
    fn space(&self) -> &SearchSpace {
        &self.space
    }
    fn objectives(&self) -> &[Objective] {
        &self.objectives
    }
    fn fidelity(&self) -> &Fidelity {
        &self.fidelity
    }
    fn open(&self, config: &Config, seed: u64) -> TrialCurve {
        let mut c = [0.0; INLINE_COEFFICIENTS];
        if let Value::Float(x) = config.get(0) {
            c[0] = x;
        }
        TrialCurve::new(c, seed)
    }
    fn step(&self, curve: &TrialCurve, step: u32, metrics: &mut [f64]) -> f64 {
        let x = curve.coefficients[0];
        metrics[0] = if x > 0.9 && step >= self.nan_from { self.bad_value } else { x + 1.0 / f64::from(step) };
        self.cost
    }
    fn best_known(&self) -> Option<&[f64]> {
        None
    }
    fn supports_splice(&self) -> bool {
        false
    }
    fn overhead(&self) -> hposim_core::LaunchOverhead {
        self.overhead
    }
}

/// A scheduler that plays a script: free workers get the next scripted action (then `Finish`),
/// and results get the decision of `decide`. It records what it was told.
pub struct Scripted {
    /// Actions still to play.
    pub actions: VecDeque<Action>,
    /// Decision for each result.
    pub decide: Box<dyn FnMut(&Observation<'_>) -> Decision + Send>,
    /// Every request received.
    pub requests: Vec<WorkerRequest>,
    /// Every result received: trial, fidelity, time.
    pub results: Vec<(TrialId, u32, f64)>,
    /// Every failure received: trial, fidelity.
    pub failures: Vec<(TrialId, u32)>,
}

impl Scripted {
    /// Plays `actions`, continuing every trial.
    pub fn new(actions: Vec<Action>) -> Self {
        Self {
            actions: actions.into(),
            decide: Box::new(|_| Decision::Continue),
            requests: Vec::new(),
            results: Vec::new(),
            failures: Vec::new(),
        }
    }
}

impl Scheduler for Scripted {
    fn on_free_worker(&mut self, request: &WorkerRequest, _rng: &mut Rng) -> Action {
        self.requests.push(*request);
        self.actions.pop_front().unwrap_or(Action::Finish)
    }
    fn on_result(&mut self, observation: &Observation<'_>) -> Decision {
        self.results.push((observation.trial, observation.fidelity, observation.time));
        (self.decide)(observation)
    }
    fn sampler_warnings(&self) -> u64 {
        0
    }
    fn on_failure(&mut self, failure: &Observation<'_>) {
        self.failures.push((failure.trial, failure.fidelity));
    }
}

/// A sampler that proposes the Toy configurations `x` in the order given, then nothing.
pub struct Listed(pub VecDeque<f64>);

impl Listed {
    /// Proposes `xs` in order.
    pub fn new(xs: &[f64]) -> Self {
        Self(xs.iter().copied().collect())
    }
}

impl hposim_samplers::Sampler for Listed {
    fn suggest(&mut self, _rng: &mut Rng) -> Option<Config> {
        self.0.pop_front().map(config)
    }
}

/// The (trial, epoch) of every row of a trace, in completion order.
pub fn rows(trace: &hposim_core::Trace) -> Vec<(u32, u32)> {
    (0..trace.len()).map(|r| (trace.trial[r], trace.epoch[r])).collect()
}

/// `(trial, first..=last)` as rows.
pub fn run_of(trial: u32, epochs: std::ops::RangeInclusive<u32>) -> Vec<(u32, u32)> {
    epochs.map(|e| (trial, e)).collect()
}

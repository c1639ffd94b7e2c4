//! A failure reaches the sampler at the fidelity the trial was running to (its rung, or the
//! full fidelity), not at the step where the metric broke: BOHB and the GP keep results per
//! budget, and HpBandSter records a failed job at its budget.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hposim_core::{Action, Config, Fidelity, Objective, Observation, ParamSpec, Rng, SearchSpace, WorkerRequest};
use hposim_samplers::Sampler;
use hposim_samplers::random::RandomSampler;
use hposim_schedulers::SchedulerSpec;
use rand::SeedableRng;
use std::sync::{Arc, Mutex};

/// Random proposals; records the fidelity of every failure it is told about.
struct Recording {
    inner: RandomSampler,
    failures: Arc<Mutex<Vec<u32>>>,
}

impl Sampler for Recording {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        self.inner.suggest(rng)
    }
    fn on_failure(&mut self, failure: &Observation<'_>) {
        self.failures.lock().unwrap().push(failure.fidelity);
    }
    fn warnings(&self) -> u64 {
        self.failures.lock().unwrap().len() as u64 + 40
    }
}

fn failure_fidelity(spec: &str) -> u32 {
    let space = SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None }]).unwrap();
    let failures = Arc::new(Mutex::new(Vec::new()));
    let sampler = Recording { inner: RandomSampler::new(space.clone()), failures: failures.clone() };
    let spec: SchedulerSpec = toml::from_str(spec).unwrap();
    let fidelity = Fidelity { min: 1, max: 27, unit: "epoch".into() };
    let mut scheduler = hposim_schedulers::build(&spec, Box::new(sampler), &space, &fidelity, &[Objective::minimize("loss")]).unwrap();
    let mut rng = Rng::seed_from_u64(0);
    let Action::Start { config, .. } = scheduler.on_free_worker(&WorkerRequest { now: 0.0, worker: 0, next_trial: 0 }, &mut rng) else {
        panic!("the first request starts a trial")
    };
    // The metric breaks at step 2, which is no rung.
    scheduler.on_failure(&Observation { trial: 0, config: &config, fidelity: 2, metrics: &[f64::NAN], time: 2.0 });
    let recorded = failures.lock().unwrap().clone();
    assert_eq!(recorded.len(), 1, "{spec:?}");
    assert_eq!(scheduler.sampler_warnings(), 41, "{spec:?}: the sampler's warnings are passed on");
    recorded[0]
}

#[test]
fn failures_count_at_the_budget_the_trial_was_running_to() {
    assert_eq!(failure_fidelity("type = 'fifo'"), 27);
    assert_eq!(failure_fidelity("type = 'median_stopping'"), 27);
    // From min_fidelity 3 with η = 3 the rungs are 3, 9, 27: a failure at step 2 counts at 3.
    assert_eq!(failure_fidelity("type = 'asha'\nmin_fidelity = 3"), 3);
    assert_eq!(failure_fidelity("type = 'successive_halving'\nmin_fidelity = 3"), 3);
    // HyperBand's first bracket (s_max = 2 from 3 to 27) starts at 3.
    assert_eq!(failure_fidelity("type = 'hyperband'\nmin_fidelity = 3"), 3);
}

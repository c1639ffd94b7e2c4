//! Every scheduler tells its sampler of every trial it starts (`Sampler::running`), and no trial
//! that has ended stays "running" in the sampler's eyes: it was either heard of (a result or a
//! failure passed on) or abandoned. TPE's constant liar counts the running trials, so a trial
//! left running would haunt its model for the rest of the study.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hposim_core::{Action, Config, Decision, Fidelity, Objective, Observation, ParamSpec, Rng, SearchSpace, TrialId, Value, WorkerRequest};
use hposim_samplers::Sampler;
use hposim_samplers::random::RandomSampler;
use hposim_schedulers::SchedulerSpec;
use rand::SeedableRng;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// What the sampler was told: the trials running now, and every `running` call.
#[derive(Default)]
struct Told {
    running: BTreeMap<TrialId, Config>,
    started: Vec<(TrialId, Config)>,
}

/// Random proposals; keeps the running trials as the hooks describe them.
struct Recording {
    inner: RandomSampler,
    told: Arc<Mutex<Told>>,
}

impl Sampler for Recording {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        self.inner.suggest(rng)
    }
    fn observe(&mut self, observation: &Observation<'_>) {
        self.told.lock().unwrap().running.remove(&observation.trial);
    }
    fn on_failure(&mut self, failure: &Observation<'_>) {
        self.told.lock().unwrap().running.remove(&failure.trial);
    }
    fn running(&mut self, trial: TrialId, config: &Config) {
        let mut told = self.told.lock().unwrap();
        assert!(told.running.insert(trial, config.clone()).is_none(), "trial {trial} started twice");
        told.started.push((trial, config.clone()));
    }
    fn abandoned(&mut self, trial: TrialId) {
        self.told.lock().unwrap().running.remove(&trial);
    }
}

/// Runs `spec` on one worker over a 1-D quadratic with 27 steps (every fourth trial diverges at
/// step 2) until it finishes or 300 requests; returns what the sampler was told, the trials
/// started (with their configurations) and those that ended.
fn drive(spec: &str) -> (Told, Vec<(TrialId, Config)>, Vec<TrialId>) {
    let space = SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None }]).unwrap();
    let told = Arc::new(Mutex::new(Told::default()));
    let sampler = Recording { inner: RandomSampler::new(space.clone()), told: told.clone() };
    let spec: SchedulerSpec = toml::from_str(spec).unwrap();
    let fidelity = Fidelity { min: 1, max: 27, unit: "epoch".into() };
    let mut scheduler = hposim_schedulers::build(&spec, Box::new(sampler), &space, &fidelity, &[Objective::minimize("loss")]).unwrap();
    let mut rng = Rng::seed_from_u64(3);
    let (mut configs, mut reached, mut ended) = (Vec::new(), Vec::new(), Vec::new());
    for request in 0..300 {
        let next_trial = configs.len() as TrialId;
        let (trial, until) = match scheduler.on_free_worker(&WorkerRequest { now: f64::from(request), worker: 0, next_trial }, &mut rng) {
            Action::Start { config, until } => {
                configs.push((next_trial, config));
                reached.push(0);
                (next_trial, until)
            }
            Action::Resume { trial, until } => (trial, until),
            Action::Finish | Action::Wait => break,
            Action::Exploit { .. } => panic!("{spec:?}: no exploits here"),
        };
        let config = configs[trial as usize].1.clone();
        let Value::Float(x) = config.get(0) else { panic!() };
        for step in reached[trial as usize] + 1..=until {
            reached[trial as usize] = step;
            if trial % 4 == 3 && step == 2 {
                scheduler.on_failure(&Observation { trial, config: &config, fidelity: step, metrics: &[f64::NAN], time: 0.0 });
                ended.push(trial);
                break;
            }
            let loss = (x - 0.3).powi(2) + 1.0 / f64::from(step);
            match scheduler.on_result(&Observation { trial, config: &config, fidelity: step, metrics: &[loss], time: 0.0 }) {
                Decision::Continue if step == fidelity.max => ended.push(trial),
                Decision::Continue => {}
                Decision::Pause => break,
                Decision::Stop => {
                    ended.push(trial);
                    break;
                }
            }
        }
    }
    let told = std::mem::take(&mut *told.lock().unwrap());
    (told, configs, ended)
}

#[test]
fn schedulers_tell_their_sampler_which_trials_run() {
    for spec in [
        "type = 'fifo'",
        "type = 'median_stopping'\ngrace_period = 3\nmin_trials = 2",
        "type = 'asha'\nmin_fidelity = 3",
        "type = 'asha'\nmin_fidelity = 3\nvariant = 'promotion'",
        "type = 'successive_halving'\nmin_fidelity = 3",
        "type = 'hyperband'\nmin_fidelity = 3",
    ] {
        let (told, started, ended) = drive(spec);
        assert!(started.len() >= 10, "{spec:?}: {} trials", started.len());
        assert_eq!(told.started, started, "{spec:?}: every start is told, with its configuration");
        for trial in &ended {
            assert!(!told.running.contains_key(trial), "{spec:?}: trial {trial} ended but is still running for the sampler");
        }
        // Anything still running was started and has not ended (at most the one in progress,
        // or trials paused at a rung before their first result was passed on: none here).
        assert!(told.running.len() <= 1, "{spec:?}: {:?} still running", told.running.keys().collect::<Vec<_>>());
    }
}

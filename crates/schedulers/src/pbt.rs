//! Population-based training (PBT): Jaderberg et al., "Population Based Training of Neural
//! Networks", arXiv:1711.09846 (2017), with the semantics of Ray Tune's
//! `PopulationBasedTraining` (`python/ray/tune/schedulers/pbt.py`) and Syne Tune's
//! (`syne_tune/optimizer/schedulers/pbt.py`).
//!
//! A population of `population` members trains in parallel (members beyond the number of
//! workers wait their turn). A member is *ready* every `perturbation_interval` fidelity steps
//! since its last perturbation. At a ready point its last result is ranked against the latest
//! results of the other members still training; with `n` of them, `k = min(⌈n·q⌉, ⌊n/2⌋)`
//! (Ray Tune's and Syne Tune's `_quantiles`, `q = quantile_fraction`), and a member among the
//! `k` worst *exploits*: its trial stops and a new trial starts from the checkpoint of a member
//! drawn uniformly from the `k` best (at that member's last completed step), with that member's
//! configuration changed by *explore* ([`crate::pbt_explore`]). As in Syne Tune, the copy is a
//! new trial (`Action::Exploit`), so every trial has one configuration and the trace's exploit
//! records form the lineage: every trial descends from one of the initial configurations.
//! Like Ray Tune, the new trial inherits its donor's last perturbation step.
//!
//! - **Asynchronous** (default, Ray Tune's `synch=False`, Syne Tune): each member decides at its
//!   own ready points against whatever the others last reported.
//! - **Synchronous** (`synchronous = true`, Ray Tune's `synch=True`, the paper's synchronous
//!   variant): every member trains to the next multiple of the interval and waits; when the last
//!   one arrives, the bottom quantile of the generation exploits the top quantile at once.
//!
//! A member whose run diverges is replaced like a bottom member (immediately when asynchronous,
//! at the end of the generation when synchronous); with no member to copy it restarts from a
//! fresh configuration of the sampler. Members that reach full fidelity are finished and no
//! longer ranked (Ray Tune ranks only unfinished trials); the scheduler finishes when all are.
//!
//! Presets (`preset`; explicit keys override them):
//!
//! | preset | quantile | resample probability | factors | categoricals |
//! |---|---|---|---|---|
//! | `ray` (default) | 0.25 | 0.25 | 1.2, 0.8 | neighbour (index ± 1) |
//! | `syne_tune` | 0.25 | 0.25 | 1.2, 0.8 | always redrawn |
//! | `paper` | 0.2 (truncation selection: bottom 20 % copy a member of the top 20 %) | 0.25 | 1.2, 0.8 | neighbour |
//!
//! `population` defaults to Syne Tune's 4; `perturbation_interval` (in fidelity steps) to a
//! tenth of the full fidelity. `exploit = false` or `explore = "none"` give the ablations of the
//! paper's Figure 2 (explore only: every ready member perturbs its own configuration and keeps
//! its own training state; exploit only: copies without changes); `explore = "noise"` is the
//! toy example's explore (Gaussian noise of `noise_std` on the unit-cube coordinates).

use crate::pbt_explore::{Explore, explore};
use crate::{Scheduler, SchedulerError};
use hposim_core::{Action, Config, Decision, Objective, Observation, Rng, SearchSpace, TrialId, WorkerRequest};
use hposim_samplers::Sampler;
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// Most members a population may have.
pub const MAX_POPULATION: u32 = 100_000;

/// Named defaults of PBT's settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PbtPreset {
    /// Ray Tune's defaults.
    #[default]
    Ray,
    /// Syne Tune's defaults.
    SyneTune,
    /// The paper's truncation selection (20 %).
    Paper,
}

/// Which explore step follows an exploit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExploreKind {
    /// Multiply by a factor or resample (default).
    #[default]
    Perturb,
    /// Gaussian noise on the unit-cube coordinates (the paper's toy example).
    Noise,
    /// No explore (exploit only).
    None,
}

fn default_population() -> u32 {
    4
}
fn default_true() -> bool {
    true
}
fn default_noise_std() -> f64 {
    0.1
}

/// The `scheduler` table of `type = "pbt"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PbtSettings {
    /// Named defaults (`ray`, `syne_tune` or `paper`; default `ray`).
    #[serde(default)]
    pub preset: PbtPreset,
    /// Members trained in parallel (default 4, Syne Tune's; at least 2).
    #[serde(default = "default_population")]
    pub population: u32,
    /// Fidelity steps between ready points (default: a tenth of the full fidelity).
    #[serde(default)]
    pub perturbation_interval: Option<u32>,
    /// Fraction of the population in the bottom (and top) quantile, in `(0, 0.5]`.
    #[serde(default)]
    pub quantile_fraction: Option<f64>,
    /// Probability that explore redraws a parameter from its prior.
    #[serde(default)]
    pub resample_probability: Option<f64>,
    /// Factors explore multiplies numbers by.
    #[serde(default)]
    pub perturbation_factors: Option<Vec<f64>>,
    /// Synchronous generations instead of asynchronous ready points (default false).
    #[serde(default)]
    pub synchronous: bool,
    /// Whether bottom members copy top members (default true; false: explore only).
    #[serde(default = "default_true")]
    pub exploit: bool,
    /// `perturb` (default), `noise` or `none`.
    #[serde(default)]
    pub explore: ExploreKind,
    /// Standard deviation of `explore = "noise"` (default 0.1, the toy example's).
    #[serde(default = "default_noise_std")]
    pub noise_std: f64,
}

/// Settings with the preset applied and every value checked.
#[derive(Clone, Debug, PartialEq)]
pub struct PbtConfig {
    /// Members.
    pub population: u32,
    /// Steps between ready points.
    pub interval: u32,
    /// Quantile fraction.
    pub quantile: f64,
    /// Whether generations are synchronous.
    pub synchronous: bool,
    /// Whether bottom members copy top members.
    pub exploit: bool,
    /// The explore step.
    pub explore: Explore,
}

impl PbtSettings {
    /// Applies the preset and checks every value against the full fidelity `max_fidelity`.
    pub fn resolve(&self, max_fidelity: u32) -> Result<PbtConfig, SchedulerError> {
        let quantile = self.quantile_fraction.unwrap_or(if self.preset == PbtPreset::Paper { 0.2 } else { 0.25 });
        let resample_probability = self.resample_probability.unwrap_or(0.25);
        let factors = self.perturbation_factors.clone().unwrap_or_else(|| vec![1.2, 0.8]);
        let interval = self.perturbation_interval.unwrap_or((max_fidelity / 10).max(1));
        if self.population < 2 || self.population > MAX_POPULATION {
            return Err(SchedulerError::invalid(
                "population",
                format!("must lie in 2..={MAX_POPULATION} (a population of one has nobody to copy), got {}", self.population),
            ));
        }
        if !(quantile > 0.0 && quantile <= 0.5) {
            return Err(SchedulerError::invalid("quantile_fraction", format!("must lie in (0, 0.5], got {quantile}")));
        }
        if interval == 0 || interval > max_fidelity {
            return Err(SchedulerError::invalid(
                "perturbation_interval",
                format!("must lie in 1..={max_fidelity} (the benchmark's full fidelity), got {interval}"),
            ));
        }
        if !(0.0..=1.0).contains(&resample_probability) {
            return Err(SchedulerError::invalid("resample_probability", format!("must lie in [0, 1], got {resample_probability}")));
        }
        if factors.is_empty() || factors.iter().any(|f| !(f.is_finite() && *f > 0.0)) {
            return Err(SchedulerError::invalid(
                "perturbation_factors",
                format!("must be positive numbers, at least one; got {factors:?}"),
            ));
        }
        if !(self.noise_std.is_finite() && self.noise_std > 0.0) {
            return Err(SchedulerError::invalid("noise_std", format!("must be a positive number, got {}", self.noise_std)));
        }
        let explore = match self.explore {
            ExploreKind::Perturb => {
                Explore::Perturb { resample_probability, factors, resample_categoricals: self.preset == PbtPreset::SyneTune }
            }
            ExploreKind::Noise => Explore::Noise { std: self.noise_std },
            ExploreKind::None => Explore::None,
        };
        Ok(PbtConfig { population: self.population, interval, quantile, synchronous: self.synchronous, exploit: self.exploit, explore })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Not started yet.
    Unstarted,
    /// Its trial is running.
    Running,
    /// Paused at a ready point, waiting for a worker (or, synchronously, for the generation).
    Paused,
    /// Diverged; replaced when the synchronous generation ends.
    Failed,
    /// Its trial was stopped; a new trial takes its place at the next free worker.
    Replace,
    /// Reached full fidelity.
    Finished,
}

/// A checkpoint a member may copy: a trial's state after a step whose result was finite,
/// snapshotted when the member was marked for replacement (the donor may have moved on since;
/// its checkpoint at that step stays valid).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Donor {
    trial: TrialId,
    step: u32,
    last_perturbation: u32,
    loss: f64,
}

#[derive(Clone, Debug)]
struct Member {
    trial: Option<TrialId>,
    /// The step of its last result (0: none yet).
    last_step: u32,
    loss: f64,
    last_perturbation: u32,
    phase: Phase,
    /// Whether its current trial diverged (its own checkpoint is then never copied).
    diverged: bool,
    /// While `phase` is `Replace`: the members it may copy, the top quantile when it was
    /// marked (empty after a failure with nobody to copy, or when it explores on its own).
    donors: Vec<Donor>,
}

impl Member {
    fn new(trial: Option<TrialId>, last_step: u32, loss: f64, last_perturbation: u32, phase: Phase) -> Self {
        Self { trial, last_step, loss, last_perturbation, phase, diverged: false, donors: Vec::new() }
    }

    /// Whether it has a result to rank (every result, even a failure, is at step 1 or later).
    fn scored(&self) -> bool {
        self.last_step > 0
    }
}

/// The PBT scheduler.
pub struct Pbt {
    sampler: Box<dyn Sampler>,
    space: SearchSpace,
    objective: Objective,
    settings: PbtConfig,
    max_fidelity: u32,
    members: Vec<Member>,
    member_of: Vec<u32>,
    /// Synchronous: the fidelity the current generation trains to.
    boundary: u32,
    /// Members ranked at the last ready point (a reused buffer).
    ranked: Vec<usize>,
    /// The configuration of every trial this scheduler started, by trial id.
    configs: Vec<Option<Config>>,
}

impl Pbt {
    /// PBT over `sampler`'s initial configurations in `space`, ranking by `objective`.
    pub fn new(sampler: Box<dyn Sampler>, space: SearchSpace, objective: Objective, settings: PbtConfig, max_fidelity: u32) -> Self {
        let member = Member::new(None, 0, f64::INFINITY, 0, Phase::Unstarted);
        let boundary = settings.interval.min(max_fidelity);
        let settings_population = settings.population as usize;
        Self {
            sampler,
            space,
            objective,
            members: vec![member; settings.population as usize],
            settings,
            max_fidelity,
            member_of: Vec::new(),
            boundary,
            ranked: Vec::with_capacity(settings_population),
            configs: Vec::new(),
        }
    }

    fn member(&self, trial: TrialId) -> Option<usize> {
        self.member_of.get(trial as usize).map(|&m| m as usize).filter(|&m| m < self.members.len())
    }

    fn assign(&mut self, trial: TrialId, member: usize, config: Config) {
        let t = trial as usize;
        if self.member_of.len() <= t {
            self.member_of.resize(t + 1, u32::MAX);
            self.configs.resize(t + 1, None);
        }
        self.member_of[t] = member as u32;
        self.configs[t] = Some(config);
    }

    /// Member `m`'s current checkpoint, if it has a finite result to copy.
    fn donor_of(&self, m: usize) -> Option<Donor> {
        let member = &self.members[m];
        let trial = member.trial.filter(|_| member.scored() && !member.diverged)?;
        Some(Donor { trial, step: member.last_step, last_perturbation: member.last_perturbation, loss: member.loss })
    }

    /// Ranks the members still training with a result into `self.ranked`, best first (ties by
    /// member index), and returns the quantile size `k`: the top quantile is `ranked[..k]`, the
    /// bottom `ranked[n − k..]`. Reuses its buffer: no allocation at a ready point.
    fn rank(&mut self) -> usize {
        let members = &self.members;
        self.ranked.clear();
        self.ranked
            .extend((0..members.len()).filter(|&m| members[m].scored() && matches!(members[m].phase, Phase::Running | Phase::Paused)));
        let n = self.ranked.len();
        if n <= 1 {
            return 0;
        }
        self.ranked.sort_unstable_by(|&a, &b| members[a].loss.total_cmp(&members[b].loss).then(a.cmp(&b)));
        ((n as f64 * self.settings.quantile).ceil() as usize).min(n / 2)
    }

    /// The checkpoints of the top quantile, after [`Pbt::rank`] returned `k`.
    fn top(&self, k: usize) -> Vec<Donor> {
        self.ranked[..k].iter().filter_map(|&m| self.donor_of(m)).collect()
    }

    /// Whether member `m` is in the bottom quantile, after [`Pbt::rank`] returned `k`.
    fn in_bottom(&self, k: usize, m: usize) -> bool {
        self.ranked[self.ranked.len() - k..].contains(&m)
    }

    /// The fidelity a member that last perturbed at `last_perturbation` and stands at `step`
    /// trains to next.
    fn next_target(&self, last_perturbation: u32, step: u32) -> u32 {
        if self.settings.synchronous {
            return self.boundary.max(step + 1).min(self.max_fidelity);
        }
        let target = last_perturbation + self.settings.interval;
        (if target > step { target } else { step + self.settings.interval }).min(self.max_fidelity)
    }

    /// A new trial for member `m`: a copy of a donor's checkpoint, explored, or a fresh start.
    fn replace(&mut self, m: usize, request: &WorkerRequest, rng: &mut Rng) -> Option<Action> {
        let candidates = std::mem::take(&mut self.members[m].donors);
        // Explore only keeps a member's own training state, unless that diverged.
        let donor = if !self.settings.exploit && !self.members[m].diverged {
            self.donor_of(m)
        } else {
            (!candidates.is_empty()).then(|| candidates[rng.random_range(0..candidates.len())])
        };
        let recipient = self.members[m].trial;
        let donor = donor.filter(|d| d.step >= 1 && d.step < self.max_fidelity);
        let base = donor.and_then(|d| self.configs.get(d.trial as usize).cloned().flatten());
        let (Some(Donor { trial: donor_trial, step, last_perturbation, loss }), Some(base), Some(recipient)) = (donor, base, recipient)
        else {
            // Nobody to copy (a diverged member early on): start afresh.
            return self.start(m, request, rng);
        };
        let config = explore(&self.space, &base, &self.settings.explore, rng);
        // The inherited ready point must lie ahead, so that the trial pauses exactly there
        // (synchronously: at the generation's boundary).
        let last_perturbation = if last_perturbation + self.settings.interval > step { last_perturbation } else { step };
        let until = self.next_target(last_perturbation, step);
        let last_perturbation = if self.settings.synchronous { until.saturating_sub(self.settings.interval) } else { last_perturbation };
        self.assign(request.next_trial, m, config.clone());
        let member = &mut self.members[m];
        *member = Member::new(Some(request.next_trial), step, loss, last_perturbation, Phase::Running);
        Some(Action::Exploit { donor: donor_trial, recipient, step, config, until })
    }

    /// A fresh trial for member `m` from the sampler; `None` (and the member finished) when the
    /// sampler has nothing more to propose.
    fn start(&mut self, m: usize, request: &WorkerRequest, rng: &mut Rng) -> Option<Action> {
        let Some(config) = self.sampler.suggest(rng) else {
            self.members[m].phase = Phase::Finished;
            return None;
        };
        let until = if self.settings.synchronous { self.boundary } else { self.settings.interval.min(self.max_fidelity) };
        self.assign(request.next_trial, m, config.clone());
        // Its first ready point is where it pauses (a later generation's boundary when it
        // restarts a diverged member synchronously).
        let last_perturbation = until.saturating_sub(self.settings.interval);
        self.members[m] = Member::new(Some(request.next_trial), 0, f64::INFINITY, last_perturbation, Phase::Running);
        self.sampler.running(request.next_trial, &config);
        Some(Action::Start { config, until })
    }

    /// Synchronous: member `m` reached the generation's boundary. When every member has, the
    /// bottom quantile is marked for replacement and the next generation begins.
    fn arrive(&mut self, m: usize) -> Decision {
        self.members[m].phase = Phase::Paused;
        let arrived = self.members.iter().all(|member| match member.phase {
            Phase::Paused => member.last_step >= self.boundary,
            Phase::Failed | Phase::Finished => true,
            Phase::Unstarted | Phase::Running | Phase::Replace => false,
        });
        if !arrived {
            return Decision::Continue;
        }
        let k = self.rank();
        let upper = self.top(k);
        for member in &mut self.members {
            if member.phase == Phase::Failed {
                member.phase = Phase::Replace;
                member.donors.clone_from(&upper);
            }
        }
        if self.settings.exploit {
            for i in self.ranked.len() - k..self.ranked.len() {
                let l = self.ranked[i];
                self.members[l].phase = Phase::Replace;
                self.members[l].donors.clone_from(&upper);
            }
        } else if self.settings.explore != Explore::None {
            for member in &mut self.members {
                if member.phase == Phase::Paused {
                    member.phase = Phase::Replace;
                }
            }
        }
        self.boundary = (self.boundary + self.settings.interval).min(self.max_fidelity);
        if self.members[m].phase == Phase::Replace { Decision::Stop } else { Decision::Continue }
    }
}

impl Pbt {
    /// Synchronous: once no member is training or waiting to be replaced, the generation ends if
    /// a member waits at its boundary (failed members are then replaced from its top quantile);
    /// if none does (every other member has finished), failed members finish too, as there is
    /// nobody left to copy.
    fn settle_generation(&mut self) {
        if self.members.iter().any(|member| matches!(member.phase, Phase::Running | Phase::Unstarted | Phase::Replace)) {
            return;
        }
        if let Some(p) = self.members.iter().position(|member| member.phase == Phase::Paused) {
            self.arrive(p);
            return;
        }
        for member in &mut self.members {
            if member.phase == Phase::Failed {
                member.phase = Phase::Finished;
            }
        }
    }
}

impl Scheduler for Pbt {
    fn on_free_worker(&mut self, request: &WorkerRequest, rng: &mut Rng) -> Action {
        while let Some(m) = self.members.iter().position(|member| member.phase == Phase::Replace) {
            if let Some(action) = self.replace(m, request, rng) {
                return action;
            }
        }
        while let Some(m) = self.members.iter().position(|member| member.phase == Phase::Unstarted) {
            if let Some(action) = self.start(m, request, rng) {
                return action;
            }
        }
        // The paused member furthest behind goes next (synchronously: only those short of the
        // generation's boundary).
        let resumable = (0..self.members.len())
            .filter(|&m| {
                let member = &self.members[m];
                member.phase == Phase::Paused && (!self.settings.synchronous || member.last_step < self.boundary)
            })
            .min_by_key(|&m| (self.members[m].last_step, m));
        if let Some(m) = resumable
            && let Some(trial) = self.members[m].trial
        {
            let member = &self.members[m];
            let until = self.next_target(member.last_perturbation, member.last_step);
            self.members[m].phase = Phase::Running;
            return Action::Resume { trial, until };
        }
        if self.members.iter().all(|member| member.phase == Phase::Finished) { Action::Finish } else { Action::Wait }
    }

    fn on_result(&mut self, observation: &Observation<'_>) -> Decision {
        let Some(m) = self.member(observation.trial) else { return Decision::Continue };
        let member = &mut self.members[m];
        member.last_step = observation.fidelity;
        member.loss = self.objective.loss(observation.metrics.first().copied().unwrap_or(f64::NAN));
        if observation.fidelity >= self.max_fidelity {
            member.phase = Phase::Finished;
            self.sampler.observe(observation);
            if self.settings.synchronous {
                self.settle_generation();
            }
            return Decision::Continue;
        }
        if observation.fidelity < member.last_perturbation + self.settings.interval {
            return Decision::Continue;
        }
        member.last_perturbation = observation.fidelity;
        if self.settings.synchronous {
            return self.arrive(m);
        }
        let replace = if self.settings.exploit {
            let k = self.rank();
            let replace = k > 0 && self.in_bottom(k, m);
            if replace {
                self.members[m].donors = self.top(k);
            }
            replace
        } else {
            self.settings.explore != Explore::None
        };
        self.members[m].phase = if replace { Phase::Replace } else { Phase::Paused };
        if replace { Decision::Stop } else { Decision::Continue }
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        let Some(m) = self.member(failure.trial) else { return };
        let member = &mut self.members[m];
        member.loss = f64::INFINITY;
        member.last_step = failure.fidelity;
        member.diverged = true;
        if self.settings.synchronous {
            member.phase = Phase::Failed;
            self.settle_generation();
        } else {
            member.phase = Phase::Replace;
            let k = self.rank();
            self.members[m].donors = self.top(k);
        }
        self.sampler.on_failure(&Observation { fidelity: self.max_fidelity, ..*failure });
    }

    fn sampler_warnings(&self) -> u64 {
        self.sampler.warnings()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hposim_core::{ParamSpec, Value};
    use hposim_samplers::random::RandomSampler;
    use proptest::prelude::*;
    use rand::SeedableRng;

    fn space() -> SearchSpace {
        SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None }]).unwrap()
    }

    fn pbt(text: &str, max_fidelity: u32) -> Pbt {
        let settings: PbtSettings = toml::from_str(text).unwrap();
        let config = settings.resolve(max_fidelity).unwrap();
        Pbt::new(Box::new(RandomSampler::new(space())), space(), Objective::minimize("loss"), config, max_fidelity)
    }

    fn request(next_trial: TrialId) -> WorkerRequest {
        WorkerRequest { now: 0.0, worker: 0, next_trial }
    }

    #[test]
    fn presets_and_bad_settings() {
        let resolve = |text: &str| toml::from_str::<PbtSettings>(text).unwrap().resolve(100);
        let ray = resolve("").unwrap();
        assert_eq!((ray.population, ray.interval, ray.quantile, ray.synchronous), (4, 10, 0.25, false));
        assert_eq!(ray.explore, Explore::Perturb { resample_probability: 0.25, factors: vec![1.2, 0.8], resample_categoricals: false });
        assert_eq!(resolve("preset = \"paper\"").unwrap().quantile, 0.2);
        assert!(matches!(resolve("preset = \"syne_tune\"").unwrap().explore, Explore::Perturb { resample_categoricals: true, .. }));
        let refused = |text: &str| resolve(text).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refused("population = 1").starts_with("population: must lie in 2..="));
        assert!(refused("quantile_fraction = 0.0").starts_with("quantile_fraction: must lie in (0, 0.5]"));
        assert!(refused("quantile_fraction = 0.6").starts_with("quantile_fraction"));
        assert!(refused("perturbation_interval = 0").starts_with("perturbation_interval: must lie in 1..=100"));
        assert!(refused("perturbation_interval = 101").starts_with("perturbation_interval"));
        assert!(refused("perturbation_factors = []").starts_with("perturbation_factors"));
        assert!(refused("resample_probability = 1.5").starts_with("resample_probability"));
    }

    proptest! {
        /// Asynchronous PBT with a ready point at every step, results in random order: every
        /// exploit copies a member of the top quantile into one of the bottom quantile, at the
        /// donor's last step, with `k = min(⌈n·q⌉, ⌊n/2⌋)` over the `n` members with a result.
        #[test]
        fn exploit_copies_only_from_the_top_quantile(n in 2usize..12, q in 0.05f64..=0.5, seed in 0u64..1000) {
            let mut pbt = pbt(&format!("population = {n}\nquantile_fraction = {q}\nperturbation_interval = 1\n"), 1000);
            let mut rng = hposim_core::Rng::seed_from_u64(seed);
            let mut draw = hposim_core::Rng::seed_from_u64(seed + 1);
            // Per member: (trial, last step, last loss, has a result).
            let mut members: Vec<(u32, u32, f64, bool)> = Vec::new();
            for next in 0..n as u32 {
                let started = matches!(pbt.on_free_worker(&request(next), &mut rng), Action::Start { until: 1, .. });
                prop_assert!(started);
                members.push((next, 0, f64::INFINITY, false));
            }
            let mut next = n as u32;
            let config = Config::new(vec![Value::Float(0.5)]);
            for _ in 0..300 {
                let m = draw.random_range(0..n);
                let (trial, step, _, _) = members[m];
                let loss: f64 = draw.random();
                members[m] = (trial, step + 1, loss, true);
                let decision = pbt.on_result(&Observation { trial, config: &config, fidelity: step + 1, metrics: &[loss], time: 0.0 });
                let action = pbt.on_free_worker(&request(next), &mut rng);
                let scored: Vec<f64> = members.iter().filter(|x| x.3).map(|x| x.2).collect();
                let k = ((scored.len() as f64 * q).ceil() as usize).min(scored.len() / 2);
                match (decision, action) {
                    (Decision::Stop, Action::Exploit { donor, recipient, step: copied, until, config }) => {
                        prop_assert_eq!(recipient, trial);
                        let d = members.iter().position(|x| x.0 == donor).unwrap();
                        prop_assert!(scored.iter().filter(|&&l| l < members[d].2).count() < k, "donor not in the top {}", k);
                        prop_assert!(scored.iter().filter(|&&l| l > loss).count() < k, "recipient not in the bottom {}", k);
                        prop_assert_eq!(copied, members[d].1);
                        prop_assert_eq!(until, copied + 1);
                        prop_assert!(space().contains(&config));
                        members[m] = (next, copied, members[d].2, true);
                        next += 1;
                    }
                    (Decision::Continue, Action::Resume { trial: resumed, until }) => {
                        prop_assert_eq!(resumed, trial);
                        prop_assert_eq!(until, step + 2);
                        prop_assert!(k == 0 || scored.iter().filter(|&&l| l > loss).count() >= k, "a bottom member was not replaced");
                    }
                    (decision, action) => prop_assert!(false, "{decision:?} then {action:?}"),
                }
            }
        }
    }
}

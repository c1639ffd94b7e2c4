//! Every scheduler type, what it is and what it can do, as data: `hposim list` prints this
//! table, experiment loading checks strategies against it ([`crate::strategy::check_strategy`]),
//! and a test keeps it complete. A new scheduler that is not registered does not compile:
//! [`SchedulerSpec::info`] and [`SchedulerSpec::capabilities`] match every variant.

use crate::{Ranking, SchedulerSpec};
use hposim_core::capability::Objectives;

/// What a scheduler type is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchedulerInfo {
    /// The `type` key.
    pub name: &'static str,
    /// One line on what it does, and its source.
    pub summary: &'static str,
    /// CPU time it adds to a simulated cell, relative to a cell of random search under FIFO
    /// (measured as [`hposim_samplers::registry::SamplerInfo::relative_cost`]): MO-ASHA's
    /// non-dominated sorting 13; the others almost nothing.
    pub extra_cost: u32,
}

/// What a scheduler, with its settings, does to trials; the experiment is checked against it
/// before anything runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchedulerCapabilities {
    /// It stops or pauses trials before full fidelity.
    pub terminates_early: bool,
    /// It pauses trials and resumes them later (so checkpointing saves compute).
    pub pauses: bool,
    /// It may leave a worker idle, waiting for other trials' results (synchronous rungs or
    /// generations).
    pub waits: bool,
    /// It starts trials from another trial's checkpoint with a changed configuration: it needs
    /// checkpointing, a benchmark (or executor) that can change a configuration mid-training,
    /// and a budget other than a trial count (every copy is a new trial).
    pub changes_configurations: bool,
    /// Which objectives it ranks trials by.
    pub objectives: Objectives,
}

const FIFO: SchedulerInfo = SchedulerInfo { name: "fifo", summary: "every trial to full fidelity (the default)", extra_cost: 0 };
const FIDELITY_CHOICE: SchedulerInfo = SchedulerInfo {
    name: "fidelity_choice",
    summary: "every trial to the fidelity its sampler chose (the default of fabolas and multitask)",
    extra_cost: 0,
};
const SUCCESSIVE_HALVING: SchedulerInfo = SchedulerInfo {
    name: "successive_halving",
    summary: "synchronous successive halving (Jamieson & Talwalkar 2016), brackets repeated",
    extra_cost: 0,
};
const HYPERBAND: SchedulerInfo = SchedulerInfo {
    name: "hyperband",
    summary: "synchronous HyperBand (Li et al. 2018); sizing = li | hpbandster; ranking = pareto",
    extra_cost: 0,
};
const ASHA: SchedulerInfo = SchedulerInfo {
    name: "asha",
    summary: "asynchronous successive halving (Li et al. 2020); variant = stopping | promotion",
    extra_cost: 0,
};
const MEDIAN_STOPPING: SchedulerInfo =
    SchedulerInfo { name: "median_stopping", summary: "median stopping rule (Golovin et al., Vizier 2017)", extra_cost: 0 };
const PBT: SchedulerInfo = SchedulerInfo {
    name: "pbt",
    summary: "population-based training (Jaderberg et al. 2017; Ray Tune's and Syne Tune's semantics)",
    extra_cost: 0,
};
const MO_ASHA: SchedulerInfo =
    SchedulerInfo { name: "mo_asha", summary: "multi-objective ASHA (Schmucker et al. 2021; Syne Tune's MOASHA)", extra_cost: 13 };

/// Every scheduler type, in the order `hposim list` prints them.
pub const SCHEDULERS: &[&SchedulerInfo] =
    &[&FIFO, &FIDELITY_CHOICE, &SUCCESSIVE_HALVING, &HYPERBAND, &ASHA, &MEDIAN_STOPPING, &PBT, &MO_ASHA];

fn ranked(ranking: Ranking) -> Objectives {
    match ranking {
        Ranking::First => Objectives::First,
        Ranking::Pareto => Objectives::Several,
    }
}

impl SchedulerSpec {
    /// What this scheduler's type is.
    pub fn info(&self) -> &'static SchedulerInfo {
        match self {
            SchedulerSpec::Fifo {} => &FIFO,
            SchedulerSpec::FidelityChoice {} => &FIDELITY_CHOICE,
            SchedulerSpec::SuccessiveHalving { .. } => &SUCCESSIVE_HALVING,
            SchedulerSpec::Hyperband { .. } => &HYPERBAND,
            SchedulerSpec::Asha { .. } => &ASHA,
            SchedulerSpec::MedianStopping { .. } => &MEDIAN_STOPPING,
            SchedulerSpec::Pbt(_) => &PBT,
            SchedulerSpec::MoAsha { .. } => &MO_ASHA,
        }
    }

    /// What this scheduler does to trials, with these settings.
    pub fn capabilities(&self) -> SchedulerCapabilities {
        let rungs = |pauses: bool, waits: bool, objectives: Objectives| SchedulerCapabilities {
            terminates_early: true,
            pauses,
            waits,
            changes_configurations: false,
            objectives,
        };
        match self {
            SchedulerSpec::Fifo {} => SchedulerCapabilities {
                terminates_early: false,
                pauses: false,
                waits: false,
                changes_configurations: false,
                objectives: Objectives::None,
            },
            // Trials end below full fidelity where the sampler asks; nothing pauses or waits.
            SchedulerSpec::FidelityChoice {} => SchedulerCapabilities {
                terminates_early: true,
                pauses: false,
                waits: false,
                changes_configurations: false,
                objectives: Objectives::None,
            },
            SchedulerSpec::SuccessiveHalving { overlap, ranking, max_brackets, .. }
            | SchedulerSpec::Hyperband { overlap, ranking, max_brackets, .. } => {
                // Without overlap a worker waits for its rung to fill; with it, a new bracket
                // opens instead, unless the bracket limit is reached.
                rungs(true, !overlap || max_brackets.is_some(), ranked(*ranking))
            }
            SchedulerSpec::Asha { variant, .. } => rungs(*variant == crate::asha::AshaVariant::Promotion, false, Objectives::First),
            SchedulerSpec::MedianStopping { .. } => rungs(false, false, Objectives::First),
            SchedulerSpec::MoAsha { .. } => rungs(false, false, Objectives::Several),
            SchedulerSpec::Pbt(settings) => SchedulerCapabilities {
                terminates_early: true,
                pauses: true,
                waits: settings.synchronous,
                changes_configurations: true,
                objectives: Objectives::First,
            },
        }
    }
}

impl SchedulerCapabilities {
    /// The capabilities that hold, as short words for listings.
    pub fn labels(&self) -> Vec<&'static str> {
        let mut labels = Vec::new();
        for (on, label) in [
            (self.terminates_early, "terminates early"),
            (self.pauses, "pauses and resumes"),
            (self.waits, "may wait for results"),
            (self.changes_configurations, "changes configurations mid-training"),
        ] {
            if on {
                labels.push(label);
            }
        }
        labels
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// A scheduler table from its keys, written inline: `type = "asha", variant = "promotion"`.
    fn spec(keys: &str) -> SchedulerSpec {
        #[derive(serde::Deserialize)]
        struct Table {
            scheduler: SchedulerSpec,
        }
        toml::from_str::<Table>(&format!("scheduler = {{ {keys} }}")).unwrap().scheduler
    }

    #[test]
    fn every_scheduler_type_is_registered_once_under_its_own_name() {
        let accepted = hposim_core::capability::accepted_types::<SchedulerSpec>();
        let registered: Vec<&str> = SCHEDULERS.iter().map(|s| s.name).collect();
        assert_eq!(accepted.len(), registered.len(), "accepted {accepted:?}, registered {registered:?}");
        for name in &accepted {
            assert!(registered.contains(&name.as_str()), "{name} is accepted but not registered");
            assert_eq!(spec(&format!("type = \"{name}\"")).info().name, name);
        }
    }

    #[test]
    fn capabilities_follow_the_settings() {
        let fifo = spec("type = \"fifo\"").capabilities();
        assert!(!fifo.terminates_early && !fifo.pauses && !fifo.waits && !fifo.changes_configurations);
        assert!(spec("type = \"asha\", variant = \"promotion\"").capabilities().pauses);
        assert!(!spec("type = \"asha\"").capabilities().pauses);
        assert!(spec("type = \"hyperband\", overlap = false").capabilities().waits);
        assert!(!spec("type = \"hyperband\"").capabilities().waits);
        assert!(spec("type = \"successive_halving\"").capabilities().waits);
        assert_eq!(spec("type = \"hyperband\", ranking = \"pareto\"").capabilities().objectives, Objectives::Several);
        assert_eq!(spec("type = \"mo_asha\"").capabilities().objectives, Objectives::Several);
        let pbt = spec("type = \"pbt\", synchronous = true").capabilities();
        assert!(pbt.changes_configurations && pbt.waits);
        assert!(!spec("type = \"pbt\"").capabilities().waits);
    }

    #[test]
    fn the_objectives_a_scheduler_declares_are_the_ones_it_accepts() {
        use hposim_core::{Fidelity, Objective, ParamSpec, SearchSpace};
        let space = SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None }]).unwrap();
        let one = [Objective::minimize("a")];
        let two = [Objective::minimize("a"), Objective::minimize("b")];
        let build = |spec: &SchedulerSpec, objectives: &[Objective]| {
            let sampler = Box::new(hposim_samplers::random::RandomSampler::new(space.clone()));
            crate::build(spec, sampler, &space, &Fidelity::epochs(27), objectives).map(|_| ())
        };
        let specs: Vec<SchedulerSpec> = SCHEDULERS
            .iter()
            .map(|s| spec(&format!("type = \"{}\"", s.name)))
            .chain([spec("type = \"hyperband\", ranking = \"pareto\""), spec("type = \"successive_halving\", ranking = \"pareto\"")])
            .collect();
        for spec in &specs {
            let several = spec.capabilities().objectives == Objectives::Several;
            assert_eq!(build(spec, &one).is_ok(), !several, "{spec:?}");
            assert!(build(spec, &two).is_ok(), "{spec:?}");
        }
    }
}

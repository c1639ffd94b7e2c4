//! Every sampler type, what it is and what it can do, as data: `hposim list` prints this table,
//! experiment loading checks strategies against it, and a test keeps it complete (every `type`
//! an experiment file accepts is here, and in `experiments/README.md`). A new sampler that is
//! not registered does not compile: [`SamplerSpec::info`] matches every variant.

use crate::SamplerSpec;
use hposim_core::capability::Objectives;

/// What a sampler type is and can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SamplerInfo {
    /// The `type` key.
    pub name: &'static str,
    /// One line on what it does, and its source.
    pub summary: &'static str,
    /// Which objectives it ranks by.
    pub objectives: Objectives,
    /// Whether it learns from results (a model or a population), rather than following a
    /// design fixed in advance.
    pub learns: bool,
    /// CPU time of a simulated cell with this sampler (FIFO), relative to random search's: what
    /// `hposim run --shard` balances shards by. Measured on experiments/regression.toml (two
    /// synthetic benchmarks, 30 worker-seconds each, about 150 trials), four seeds, one thread,
    /// 2026-12-07: random 5 ms per cell, TPE 10, GP 61, MO-TPE 93, ParEGO (TPE) 32, EHVI 2700;
    /// the designs, BOHB, evolution and NSGA-II 3-6. A coarse guide: a model's cost grows with
    /// its trials, so it holds at about this size.
    pub relative_cost: u32,
}

const RANDOM: SamplerInfo = SamplerInfo {
    name: "random",
    summary: "independent draws from the prior",
    objectives: Objectives::None,
    learns: false,
    relative_cost: 1,
};
const GRID: SamplerInfo = SamplerInfo {
    name: "grid",
    summary: "every combination; resolution per float/int parameter, all choices",
    objectives: Objectives::None,
    learns: false,
    relative_cost: 1,
};
const SOBOL: SamplerInfo = SamplerInfo {
    name: "sobol",
    summary: "scrambled Sobol sequence (quasi-random)",
    objectives: Objectives::None,
    learns: false,
    relative_cost: 1,
};
const LATIN_HYPERCUBE: SamplerInfo = SamplerInfo {
    name: "latin_hypercube",
    summary: "Latin hypercube designs of `points` points (McKay et al. 1979)",
    objectives: Objectives::None,
    learns: false,
    relative_cost: 1,
};
const TPE: SamplerInfo = SamplerInfo {
    name: "tpe",
    summary: "tree-structured Parzen estimator (Bergstra et al. 2011); preset = optuna (5.0) | optuna4 | hyperopt, multivariate, bandwidth",
    objectives: Objectives::First,
    learns: true,
    relative_cost: 2,
};
const GP: SamplerInfo = SamplerInfo {
    name: "gp",
    summary: "GP-BO: Matern-5/2 ARD Gaussian process, log expected improvement (Optuna's GPSampler)",
    objectives: Objectives::First,
    learns: true,
    relative_cost: 12,
};
const BOHB: SamplerInfo = SamplerInfo {
    name: "bohb",
    summary: "BOHB's KDE model (Falkner et al. 2018); behind hyperband (hpbandster sizing) unless a scheduler is given",
    objectives: Objectives::First,
    learns: true,
    relative_cost: 1,
};
const FABOLAS: SamplerInfo = SamplerInfo {
    name: "fabolas",
    summary: "Fabolas (Klein et al. 2017): joint GP over configuration and data fraction, max-value entropy search per second; chooses the fidelity",
    objectives: Objectives::First,
    learns: true,
    relative_cost: 60,
};
const MULTITASK: SamplerInfo = SamplerInfo {
    name: "multitask",
    summary: "cost-aware multi-task BO (Swersky et al. 2013): shared GP over tasks, augmented EI per cost (Huang et al. 2006); chooses the fidelity",
    objectives: Objectives::First,
    learns: true,
    relative_cost: 30,
};
const MOBSTER: SamplerInfo = SamplerInfo {
    name: "mobster",
    summary: "MOBSTER (Klein et al. 2020, Syne Tune): GP over configuration and resource, EI at the acquisition rung; behind asha unless a scheduler is given",
    objectives: Objectives::First,
    learns: true,
    relative_cost: 30,
};
const REGULARIZED_EVOLUTION: SamplerInfo = SamplerInfo {
    name: "regularized_evolution",
    summary: "aging evolution (Real et al. 2019); population, sample_size",
    objectives: Objectives::First,
    learns: true,
    relative_cost: 1,
};
const EHVI: SamplerInfo = SamplerInfo {
    name: "ehvi",
    summary: "expected hypervolume improvement, one GP per objective (Emmerich et al. 2006/2011); 2 or 3 objectives",
    objectives: Objectives::Several,
    learns: true,
    relative_cost: 500,
};
const MOTPE: SamplerInfo = SamplerInfo {
    name: "motpe",
    summary: "multi-objective TPE (Ozaki et al. 2020/2022), Optuna's TPESampler with several directions",
    objectives: Objectives::Several,
    learns: true,
    relative_cost: 18,
};
const NSGA2: SamplerInfo = SamplerInfo {
    name: "nsga2",
    summary: "NSGA-II (Deb et al. 2002), Optuna's NSGAIISampler",
    objectives: Objectives::Several,
    learns: true,
    relative_cost: 1,
};
const PAREGO: SamplerInfo = SamplerInfo {
    name: "parego",
    summary: "ParEGO (Knowles 2006): random augmented Tchebycheff scalarisations over tpe, gp or random",
    objectives: Objectives::Several,
    learns: true,
    relative_cost: 6,
};

/// Every sampler type, in the order `hposim list` prints them.
pub const SAMPLERS: &[&SamplerInfo] = &[
    &RANDOM,
    &GRID,
    &SOBOL,
    &LATIN_HYPERCUBE,
    &TPE,
    &GP,
    &BOHB,
    &FABOLAS,
    &MULTITASK,
    &MOBSTER,
    &REGULARIZED_EVOLUTION,
    &EHVI,
    &MOTPE,
    &NSGA2,
    &PAREGO,
];

impl SamplerSpec {
    /// A simulated cell's CPU time with this sampler relative to random search's
    /// ([`SamplerInfo::relative_cost`]); ParEGO costs at least what its model does.
    pub fn relative_cost(&self) -> u32 {
        match self {
            SamplerSpec::Parego(settings) => PAREGO.relative_cost.max(settings.model.relative_cost()),
            _ => self.info().relative_cost,
        }
    }

    /// What this sampler's type is and can do.
    pub fn info(&self) -> &'static SamplerInfo {
        match self {
            SamplerSpec::Random {} => &RANDOM,
            SamplerSpec::Grid { .. } => &GRID,
            SamplerSpec::Sobol(_) => &SOBOL,
            SamplerSpec::LatinHypercube(_) => &LATIN_HYPERCUBE,
            SamplerSpec::Tpe(_) => &TPE,
            SamplerSpec::Gp(_) => &GP,
            SamplerSpec::Bohb(_) => &BOHB,
            SamplerSpec::Fabolas(_) => &FABOLAS,
            SamplerSpec::Multitask(_) => &MULTITASK,
            SamplerSpec::Mobster(_) => &MOBSTER,
            SamplerSpec::RegularizedEvolution(_) => &REGULARIZED_EVOLUTION,
            SamplerSpec::Ehvi(_) => &EHVI,
            SamplerSpec::Motpe(_) => &MOTPE,
            SamplerSpec::Nsga2(_) => &NSGA2,
            SamplerSpec::Parego(_) => &PAREGO,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn every_sampler_type_is_registered_once_under_its_own_name() {
        let accepted = hposim_core::capability::accepted_types::<SamplerSpec>();
        let registered: Vec<&str> = SAMPLERS.iter().map(|s| s.name).collect();
        assert_eq!(accepted.len(), registered.len(), "accepted {accepted:?}, registered {registered:?}");
        for name in &accepted {
            assert!(registered.contains(&name.as_str()), "{name} is accepted but not registered");
            // Every type builds with its defaults, and knows its own entry.
            let spec: SamplerSpec = toml::from_str(&format!("type = \"{name}\"")).unwrap();
            assert_eq!(spec.info().name, name);
        }
    }

    #[test]
    fn the_objectives_a_sampler_declares_are_the_ones_it_accepts() {
        use hposim_core::{Objective, ParamSpec, SearchSpace};
        let space = SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None }]).unwrap();
        let one = [Objective::minimize("a")];
        let two = [Objective::minimize("a"), Objective::minimize("b")];
        for info in SAMPLERS {
            let spec: SamplerSpec = toml::from_str(&format!("type = \"{}\"", info.name)).unwrap();
            let single = crate::validate(&spec, &space, &one);
            assert_eq!(single.is_ok(), info.objectives != Objectives::Several, "{}: {single:?}", info.name);
            assert!(crate::validate(&spec, &space, &two).is_ok(), "{}", info.name);
        }
    }
}

//! Every benchmark type, what it is and what it can do, as data: `hposim list` prints this
//! table, experiment loading checks strategies against it, and a test keeps it complete. A new
//! benchmark type that is not registered does not compile: [`BenchmarkSpec::info`] matches every
//! variant.

use crate::BenchmarkSpec;

/// What a benchmark type is and can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BenchmarkInfo {
    /// The `type` key.
    pub name: &'static str,
    /// One line on what it is, and its source.
    pub summary: &'static str,
    /// How many objectives it can have (`1`, `2`, `1-3`, ...).
    pub objectives: &'static str,
    /// Whether it can change a trial's configuration mid-training (population-based training
    /// needs it): [`crate::Benchmark::supports_splice`] of every benchmark of this type.
    pub splice: bool,
    /// Whether it replays a recorded table (data files beside the experiment).
    pub recorded: bool,
}

const SYNTHETIC: BenchmarkInfo = BenchmarkInfo {
    name: "synthetic",
    summary: "learning curves over a seeded random landscape with a known optimum; family = exponential | power_law | crossing",
    objectives: "1-3 (val_error, training_time, parameters)",
    splice: false,
    recorded: false,
};
const BRANIN: BenchmarkInfo = BenchmarkInfo {
    name: "branin",
    summary: "multi-fidelity Branin (Kandasamy et al., BOCA, ICML 2017)",
    objectives: "1",
    splice: false,
    recorded: false,
};
const HARTMANN6: BenchmarkInfo = BenchmarkInfo {
    name: "hartmann6",
    summary: "multi-fidelity Hartmann-6 (BOCA), maximised",
    objectives: "1",
    splice: false,
    recorded: false,
};
const COUNTING_ONES: BenchmarkInfo = BenchmarkInfo {
    name: "counting_ones",
    summary: "counting ones (Falkner et al., BOHB, ICML 2018)",
    objectives: "1",
    splice: false,
    recorded: false,
};
const RECORDED: BenchmarkInfo = BenchmarkInfo {
    name: "recorded",
    summary: "a recorded table replayed (data/FORMAT.md): path, task, objectives, lookup = nearest | recorded",
    objectives: "1 or more of the table's metrics",
    splice: true,
    recorded: true,
};
const PBT_TOY: BenchmarkInfo = BenchmarkInfo {
    name: "pbt_toy",
    summary: "the toy problem of population-based training (Jaderberg et al. 2017, Figure 2)",
    objectives: "1",
    splice: true,
    recorded: false,
};
const TRAINING_DYNAMICS: BenchmarkInfo = BenchmarkInfo {
    name: "training_dynamics",
    summary: "a loss whose decay and floor follow the current learning rate: a schedule beats every fixed rate",
    objectives: "1",
    splice: true,
    recorded: false,
};
const ZDT: BenchmarkInfo = BenchmarkInfo {
    name: "zdt",
    summary: "ZDT1-3 (Zitzler, Deb & Thiele 2000) with a fidelity axis",
    objectives: "2",
    splice: false,
    recorded: false,
};
const DTLZ2: BenchmarkInfo = BenchmarkInfo {
    name: "dtlz2",
    summary: "DTLZ2 (Deb et al. 2002) with a fidelity axis",
    objectives: "2-6",
    splice: false,
    recorded: false,
};

/// Every benchmark type, in the order `hposim list` prints them.
pub const BENCHMARKS: &[&BenchmarkInfo] =
    &[&SYNTHETIC, &BRANIN, &HARTMANN6, &COUNTING_ONES, &RECORDED, &PBT_TOY, &TRAINING_DYNAMICS, &ZDT, &DTLZ2];

impl BenchmarkSpec {
    /// What this benchmark's type is and can do.
    pub fn info(&self) -> &'static BenchmarkInfo {
        match self {
            BenchmarkSpec::Synthetic(_) => &SYNTHETIC,
            BenchmarkSpec::Branin(_) => &BRANIN,
            BenchmarkSpec::Hartmann6(_) => &HARTMANN6,
            BenchmarkSpec::CountingOnes(_) => &COUNTING_ONES,
            BenchmarkSpec::Recorded(_) => &RECORDED,
            BenchmarkSpec::PbtToy(_) => &PBT_TOY,
            BenchmarkSpec::TrainingDynamics(_) => &TRAINING_DYNAMICS,
            BenchmarkSpec::Zdt(_) => &ZDT,
            BenchmarkSpec::Dtlz2(_) => &DTLZ2,
        }
    }
}

/// The types that can change a configuration mid-training, for messages: `pbt_toy, ...`.
pub fn splicing_types() -> String {
    BENCHMARKS.iter().filter(|b| b.splice).map(|b| b.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn every_benchmark_type_is_registered_once_and_built_benchmarks_agree_with_it() {
        let accepted = hposim_core::capability::accepted_types::<BenchmarkSpec>();
        let registered: Vec<&str> = BENCHMARKS.iter().map(|b| b.name).collect();
        assert_eq!(accepted.len(), registered.len(), "accepted {accepted:?}, registered {registered:?}");
        for name in &accepted {
            assert!(registered.contains(&name.as_str()), "{name} is accepted but not registered");
            if name == "recorded" {
                continue; // Needs a file; tests/recorded checks it.
            }
            let spec: BenchmarkSpec = toml::from_str(&format!("type = \"{name}\"")).unwrap();
            assert_eq!(spec.info().name, name);
            assert_eq!(crate::build(&spec).unwrap().supports_splice(), spec.info().splice, "{name}");
        }
        assert_eq!(splicing_types(), "recorded, pbt_toy, training_dynamics");
    }
}

//! Benchmark specifications as written in an experiment file (`[[benchmarks]]` tables), and
//! their validation into [`Benchmark`] objects.

use crate::branin::{Branin, BraninSpec};
use crate::counting_ones::{CountingOnes, CountingOnesSpec};
use crate::dtlz2::{Dtlz2, Dtlz2Spec};
use crate::hartmann6::{Hartmann6, Hartmann6Spec};
use crate::pbt_toy::{PbtToy, PbtToySpec};
use crate::recorded::{self, Recorded};
use crate::synthetic::{Synthetic, SyntheticSpec};
use crate::tabular::{Tabular, TabularSpec};
use crate::training_dynamics::{TrainingDynamics, TrainingDynamicsSpec};
use crate::zdt::{Zdt, ZdtSpec};
use crate::{Benchmark, BenchmarkError};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};

/// One `[[benchmarks]]` table; `type` selects the benchmark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // Parsed once per experiment and kept by value: its size does not matter.
pub enum BenchmarkSpec {
    /// Synthetic learning curves over a seeded random landscape.
    Synthetic(SyntheticSpec),
    /// Multi-fidelity Branin (BOCA).
    Branin(BraninSpec),
    /// Multi-fidelity Hartmann-6 (BOCA).
    Hartmann6(Hartmann6Spec),
    /// Counting ones (BOHB).
    CountingOnes(CountingOnesSpec),
    /// A recorded table replayed (`data/FORMAT.md`).
    Recorded(TabularSpec),
    /// The toy problem of population-based training (Jaderberg et al. 2017, Figure 2).
    PbtToy(PbtToySpec),
    /// A loss whose decay and floor follow the current learning rate.
    TrainingDynamics(TrainingDynamicsSpec),
    /// ZDT1–3 (two objectives) with a fidelity axis.
    Zdt(ZdtSpec),
    /// DTLZ2 (2–6 objectives) with a fidelity axis.
    Dtlz2(Dtlz2Spec),
}

impl BenchmarkSpec {
    /// The benchmark's name: the `name` key, or the type's name when it is absent (for a
    /// recorded table, the file's stem and task).
    pub fn name(&self) -> Cow<'_, str> {
        let (given, default) = match self {
            BenchmarkSpec::Synthetic(s) => (&s.name, "synthetic"),
            BenchmarkSpec::Branin(s) => (&s.name, "branin"),
            BenchmarkSpec::Hartmann6(s) => (&s.name, "hartmann6"),
            BenchmarkSpec::CountingOnes(s) => (&s.name, "counting_ones"),
            BenchmarkSpec::PbtToy(s) => (&s.name, "pbt_toy"),
            BenchmarkSpec::TrainingDynamics(s) => (&s.name, "training_dynamics"),
            BenchmarkSpec::Zdt(s) => (&s.name, "zdt"),
            BenchmarkSpec::Dtlz2(s) => (&s.name, "dtlz2"),
            BenchmarkSpec::Recorded(s) => return s.name.as_deref().map_or_else(|| Cow::Owned(s.default_name()), Cow::Borrowed),
        };
        Cow::Borrowed(given.as_deref().unwrap_or(default))
    }
}

/// Validates `spec` and builds the benchmark; files it names are read relative to the
/// working directory.
pub fn build(spec: &BenchmarkSpec) -> Result<Box<dyn Benchmark>, BenchmarkError> {
    build_relative(spec, Path::new(""))
}

/// Validates `spec` and builds the benchmark; files it names are read relative to `base_dir`
/// (an experiment file's directory).
pub fn build_relative(spec: &BenchmarkSpec, base_dir: &Path) -> Result<Box<dyn Benchmark>, BenchmarkError> {
    Builder::new(base_dir).build(spec)
}

/// Builds the benchmarks of one experiment, reading each recorded file once however many of
/// its tasks (or objectives) the experiment replays.
#[derive(Debug)]
pub struct Builder {
    base_dir: PathBuf,
    loaded: HashMap<PathBuf, Recorded>,
}

impl Builder {
    /// A builder that reads files relative to `base_dir` (an experiment file's directory).
    pub fn new(base_dir: &Path) -> Self {
        Self { base_dir: base_dir.to_owned(), loaded: HashMap::new() }
    }

    /// Validates `spec` and builds the benchmark.
    pub fn build(&mut self, spec: &BenchmarkSpec) -> Result<Box<dyn Benchmark>, BenchmarkError> {
        let name = spec.name().into_owned();
        Ok(match spec {
            BenchmarkSpec::Synthetic(s) => Box::new(Synthetic::new(name, s)?),
            BenchmarkSpec::Branin(s) => Box::new(Branin::new(name, s)?),
            BenchmarkSpec::Hartmann6(s) => Box::new(Hartmann6::new(name, s)?),
            BenchmarkSpec::CountingOnes(s) => Box::new(CountingOnes::new(name, s)?),
            BenchmarkSpec::PbtToy(s) => Box::new(PbtToy::new(name, s)?),
            BenchmarkSpec::TrainingDynamics(s) => Box::new(TrainingDynamics::new(name, s)?),
            BenchmarkSpec::Zdt(s) => Box::new(Zdt::new(name, s)?),
            BenchmarkSpec::Dtlz2(s) => Box::new(Dtlz2::new(name, s)?),
            BenchmarkSpec::Recorded(s) => {
                let path = self.base_dir.join(&s.path);
                let data = match self.loaded.entry(path) {
                    Entry::Occupied(entry) => entry.into_mut(),
                    Entry::Vacant(entry) => {
                        let data = recorded::load(entry.key()).map_err(|e| BenchmarkError::invalid("path", e.to_string()))?;
                        entry.insert(data)
                    }
                };
                Box::new(Tabular::from_recorded(name, data, s)?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Wrapper {
        benchmarks: Vec<BenchmarkSpec>,
    }

    #[test]
    fn every_type_parses_with_defaults_and_builds() {
        let text = r#"
            [[benchmarks]]
            type = "synthetic"
            [[benchmarks]]
            type = "branin"
            [[benchmarks]]
            type = "hartmann6"
            [[benchmarks]]
            type = "counting_ones"
            [[benchmarks]]
            type = "pbt_toy"
            [[benchmarks]]
            type = "training_dynamics"
            [[benchmarks]]
            type = "zdt"
            [[benchmarks]]
            type = "dtlz2"
        "#;
        let wrapper: Wrapper = toml::from_str(text).unwrap();
        let names: Vec<String> = wrapper.benchmarks.iter().map(|b| b.name().into_owned()).collect();
        assert_eq!(names, ["synthetic", "branin", "hartmann6", "counting_ones", "pbt_toy", "training_dynamics", "zdt", "dtlz2"]);
        let mut rng = <hposim_core::Rng as rand::SeedableRng>::seed_from_u64(5);
        for spec in &wrapper.benchmarks {
            let bench = build(spec).unwrap();
            assert!(bench.best_known().is_some());
            // Each closed-form cumulative cost equals the sum of the step costs.
            for seed in 0..3 {
                let curve = bench.open(&bench.space().sample(&mut rng), seed);
                let mut metrics = vec![0.0; bench.objectives().len()];
                let max = bench.fidelity().max;
                for until in [0, 1, max / 2, max] {
                    let summed: f64 = (1..=until).map(|s| bench.step(&curve, s, &mut metrics)).sum();
                    let closed = bench.cost_until(&curve, until);
                    assert!((closed - summed).abs() <= 1e-9 * summed.max(1.0), "{} until {until}: {closed} vs {summed}", bench.name());
                }
            }
        }
    }

    #[test]
    fn bad_launch_overhead_is_refused_naming_its_key() {
        let spec: BenchmarkSpec = toml::from_str("type = \"synthetic\"\noverhead = { startup = -1.0 }\n").unwrap();
        let err = build(&spec).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("overhead.startup"), "{err}");
        let spec: BenchmarkSpec = toml::from_str("type = \"synthetic\"\noverhead = { startup = 2.0, noise = 0.2 }\n").unwrap();
        assert_eq!(build(&spec).unwrap().overhead(), hposim_core::LaunchOverhead { startup: 2.0, resume: 0.0, shutdown: 0.0, noise: 0.2 });
        // A recorded table's measured overhead is checked on load too.
        let dir = tempfile::tempdir().unwrap();
        let metadata = crate::recorded::example::EXAMPLE_METADATA.replacen(
            "allow_divergence = true",
            "allow_divergence = true\noverhead = { startup = 1.0, shutdown = nan }",
            1,
        );
        let mut frame = crate::recorded::example::example_frame();
        let table = crate::recorded::example::write_frame(dir.path(), "bad", &mut frame, &metadata).unwrap();
        let err = crate::recorded::load(&table).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("overhead.shutdown"), "{err}");
    }

    #[test]
    fn unknown_keys_and_types_are_named() {
        let err = toml::from_str::<Wrapper>("[[benchmarks]]\ntype = \"synthetic\"\nmax_epoch = 3\n").err().unwrap();
        assert!(err.to_string().contains("unknown field `max_epoch`"), "{err}");
        let err = toml::from_str::<Wrapper>("[[benchmarks]]\ntype = \"lcbench\"\n").err().unwrap();
        assert!(err.to_string().contains("unknown variant `lcbench`"), "{err}");
    }
}

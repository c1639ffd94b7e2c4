//! Samplers: which configuration to try next.
//!
//! A [`Sampler`] proposes configurations and may learn from observations; a scheduler owns one
//! and decides how much budget each proposal gets. Any sampler can sit behind any scheduler.
//!
//! Shipped here: [`random::RandomSampler`] (independent draws from the prior),
//! [`grid::GridSampler`] (every point of a grid, conditions respected) and
//! [`trial_limit::TrialLimit`] (caps the number of proposals, which is how an experiment's
//! trial budget is enforced).

pub mod grid;
pub mod random;
pub mod trial_limit;

use hposim_core::{Config, Observation, Rng, SearchSpace, TrialId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Proposes configurations.
pub trait Sampler: Send {
    /// The next configuration to try, or `None` when the sampler has nothing more to propose
    /// (a finished grid, a reached trial limit).
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config>;

    /// Learns from a result. The scheduler decides which results to pass on (e.g. only those at
    /// full fidelity, or at every rung).
    fn observe(&mut self, _observation: &Observation<'_>) {}

    /// Learns that a trial failed (diverged); its configuration produced no usable result.
    fn on_failure(&mut self, _trial: TrialId) {}
}

fn default_resolution() -> u32 {
    5
}

fn default_shuffle() -> bool {
    true
}

/// A strategy's `sampler` table; `type` selects the sampler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SamplerSpec {
    /// Independent draws from the prior.
    Random {},
    /// A grid over the space.
    Grid {
        /// Points per float or int parameter (default 5); categorical and ordinal parameters
        /// always contribute all their values.
        #[serde(default = "default_resolution")]
        resolution: u32,
        /// Per-parameter overrides of `resolution`, by parameter name.
        #[serde(default)]
        resolutions: BTreeMap<String, u32>,
        /// Visit the points in a random order (default true, as Optuna's `GridSampler` does);
        /// false visits them in lexicographic order of the parameters.
        #[serde(default = "default_shuffle")]
        shuffle: bool,
    },
}

/// Why a sampler specification was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SamplerError {
    /// A setting has an invalid value; `key` names it.
    #[error("{key}: {message}")]
    Invalid {
        /// The key, relative to the sampler's table.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// Builds the sampler `spec` describes over `space`. `rng` is the cell's sampler stream (the
/// grid shuffles with it once, here).
pub fn build(spec: &SamplerSpec, space: &SearchSpace, rng: &mut Rng) -> Result<Box<dyn Sampler>, SamplerError> {
    Ok(match spec {
        SamplerSpec::Random {} => Box::new(random::RandomSampler::new(space.clone())),
        SamplerSpec::Grid { resolution, resolutions, shuffle } => {
            Box::new(grid::GridSampler::new(space, *resolution, resolutions, *shuffle, rng)?)
        }
    })
}

/// Checks `spec` against `space` (for a grid, enumerates it once to check its size).
pub fn validate(spec: &SamplerSpec, space: &SearchSpace) -> Result<(), SamplerError> {
    match spec {
        SamplerSpec::Random {} => Ok(()),
        // Enumerating the grid also catches one too large to run.
        SamplerSpec::Grid { resolution, resolutions, .. } => {
            grid::GridSampler::new(space, *resolution, resolutions, false, &mut <Rng as rand::SeedableRng>::seed_from_u64(0)).map(|_| ())
        }
    }
}

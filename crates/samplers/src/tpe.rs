//! PLACEHOLDER (being written by a helper; must be replaced).

use crate::{Sampler, SamplerError};
use hposim_core::{Config, Objective, Rng, SearchSpace};
use serde::{Deserialize, Serialize};

/// Settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TpeSettings {}

/// Placeholder.
pub struct TpeSampler {
    space: SearchSpace,
}

impl TpeSampler {
    /// Placeholder.
    pub fn new(space: &SearchSpace, _objective: Objective, _settings: &TpeSettings) -> Result<Self, SamplerError> {
        Ok(Self { space: space.clone() })
    }
}

impl Sampler for TpeSampler {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        Some(self.space.sample(rng))
    }
}

//! PLACEHOLDER (being written by a helper; must be replaced).

use crate::{Sampler, SamplerError};
use hposim_core::{Config, Rng, SearchSpace};
use serde::{Deserialize, Serialize};

/// Settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatinHypercubeSettings {}

/// Placeholder.
pub struct LatinHypercubeSampler {
    space: SearchSpace,
}

impl LatinHypercubeSampler {
    /// Placeholder.
    pub fn new(space: &SearchSpace, _settings: &LatinHypercubeSettings) -> Result<Self, SamplerError> {
        Ok(Self { space: space.clone() })
    }
}

impl Sampler for LatinHypercubeSampler {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        Some(self.space.sample(rng))
    }
}

//! PLACEHOLDER (being written by a helper; must be replaced).

use crate::{Sampler, SamplerError};
use hposim_core::{Config, Rng, SearchSpace};
use serde::{Deserialize, Serialize};

/// Settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SobolSettings {}

/// Placeholder.
pub struct SobolSampler {
    space: SearchSpace,
}

impl SobolSampler {
    /// Placeholder.
    pub fn new(space: &SearchSpace, _settings: &SobolSettings, _rng: &mut Rng) -> Result<Self, SamplerError> {
        Ok(Self { space: space.clone() })
    }
}

impl Sampler for SobolSampler {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        Some(self.space.sample(rng))
    }
}

//! Random search (Bergstra & Bengio, JMLR 2012): independent draws from the prior, uniform on
//! each parameter's scale (log-uniform on log scales), conditional parameters drawn only where
//! active.

use crate::Sampler;
use hposim_core::{Config, Rng, SearchSpace};

/// Random search.
#[derive(Debug)]
pub struct RandomSampler {
    space: SearchSpace,
}

impl RandomSampler {
    /// Random search over `space`.
    pub fn new(space: SearchSpace) -> Self {
        Self { space }
    }
}

impl Sampler for RandomSampler {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        Some(self.space.sample(rng))
    }
}

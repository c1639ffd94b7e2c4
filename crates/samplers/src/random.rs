//! Random search (Bergstra & Bengio, JMLR 2012): independent draws from the prior, uniform on
//! each parameter's scale (log-uniform on log scales), conditional parameters drawn only where
//! active. Restricted to a recorded set of configurations ([`crate::restricted`]), it draws
//! uniformly among the configurations not yet proposed, as Syne Tune's `RandomSearcher` does
//! with `restrict_configurations` and `allow_duplicates = False`.

use crate::Sampler;
use crate::restricted::{Candidates, Pick};
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

    fn pick(&mut self, candidates: &Candidates<'_>, rng: &mut Rng) -> Option<Pick> {
        candidates.uniform_unused(rng).map(Pick::Index)
    }
}

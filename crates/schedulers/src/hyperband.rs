//! Synchronous HyperBand (Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar, "Hyperband: A novel
//! bandit-based approach to hyperparameter optimization", JMLR 18(185), 2018, Algorithm 1):
//! successive-halving brackets `s = s_max, …, 0`, sized as in the paper (`li`) or as in
//! HpBandSter (`hpbandster`, which BOHB's published results use; see [`crate::brackets`]),
//! repeated in that order until the budget runs out.
//!
//! By default a worker with nothing to do in the active brackets starts the next bracket, as
//! HpBandSter's `Master.run` and Syne Tune's `SynchronousHyperbandScheduler` do; with
//! `overlap = false` it waits for the rung to fill, as the sequential algorithm of the paper.

use crate::brackets::Bracket;
use crate::synchronous::{Plan, Synchronous};
use hposim_core::Objective;
use hposim_samplers::Sampler;

/// HyperBand over `brackets` (in the order they run), ranking by `objective`.
pub fn new(sampler: Box<dyn Sampler>, objective: Objective, eta: f64, brackets: &[Bracket], overlap: bool) -> Synchronous {
    Synchronous::new(sampler, objective, eta, brackets.iter().map(Plan::of).collect(), overlap)
}

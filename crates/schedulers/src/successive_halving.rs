//! Synchronous successive halving (Jamieson & Talwalkar, "Non-stochastic best arm
//! identification and hyperparameter optimization", AISTATS 2016; in the form of one bracket
//! of Li et al.'s HyperBand, JMLR 2018): `n` configurations start at the minimum fidelity `r`;
//! once all results of a rung are in, the best `⌊n/η⌋` are resumed at the next rung, `r·η^k`
//! and finally `R` (see [`crate::brackets::successive_halving`]). A worker with nothing to do
//! in the current rung waits, and the simulator records its idle time; the bracket repeats
//! with new configurations until the budget runs out. With `overlap`, a waiting worker starts
//! the next bracket instead (as HpBandSter and Syne Tune do between brackets).
//!
//! The mechanics are those of [`crate::synchronous::Synchronous`].

use crate::brackets::Bracket;
use crate::synchronous::{Plan, Synchronous};
use hposim_core::Objective;
use hposim_samplers::Sampler;

/// Successive halving repeating `bracket`, promoting `⌊n/η⌋` per rung by `objective`.
pub fn new(sampler: Box<dyn Sampler>, objective: Objective, eta: f64, bracket: &Bracket, overlap: bool) -> Synchronous {
    Synchronous::new(sampler, objective, eta, vec![Plan::of(bracket)], overlap)
}

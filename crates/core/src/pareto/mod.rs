//! Pareto machinery for several objectives: dominance and non-dominated sorting
//! ([`non_dominated`]), crowding distance ([`crowding`]) and the exact hypervolume indicator
//! ([`hypervolume`]). It lives in core because samplers and schedulers (NSGA-II, multi-objective
//! ASHA) rank by it as well as the evaluation does.

pub mod crowding;
pub mod hypervolume;
pub mod non_dominated;

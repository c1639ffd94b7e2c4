//! The fidelity (budget) axis along which a trial advances: epochs, samples, and the like.

use serde::{Deserialize, Serialize};

/// A benchmark's fidelity axis: integer steps `min..=max` of some unit. A trial reports its
/// metrics after every step; schedulers decide at which steps it may continue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fidelity {
    /// The smallest meaningful fidelity (the first rung of an early-stopping scheduler).
    pub min: u32,
    /// The full fidelity: a trial that reaches it is complete.
    pub max: u32,
    /// What one step is ("epoch", "samples", ...).
    pub unit: String,
}

impl Fidelity {
    /// Epochs `1..=max`.
    pub fn epochs(max: u32) -> Self {
        Self { min: 1, max, unit: "epoch".to_owned() }
    }
}

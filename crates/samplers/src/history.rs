//! What model-based samplers remember: one record per trial, its latest (highest-fidelity)
//! result as a loss to minimise (and, for multi-objective samplers, the loss of every
//! objective), failures included at the worst loss.

use hposim_core::{Config, Objective, Observation, TrialId};
use std::collections::HashMap;

/// The loss ([`Objective::loss`]) of a result's first metric, the one samplers optimise;
/// `+inf` (a failure) when there is none.
pub fn loss(objective: &Objective, metrics: &[f64]) -> f64 {
    metrics.first().map_or(f64::INFINITY, |&m| objective.loss(m))
}

/// One trial's latest result.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The trial.
    pub trial: TrialId,
    /// Its configuration.
    pub config: Config,
    /// The fidelity of its latest result.
    pub fidelity: u32,
}

/// Per-trial latest results, in the order trials first reported (oldest first).
#[derive(Clone, Debug)]
pub struct History {
    objectives: Vec<Objective>,
    records: Vec<Record>,
    /// The loss of every objective per record, row-major (`objectives.len()` per record).
    losses: Vec<f64>,
    index: HashMap<TrialId, usize>,
}

impl History {
    /// An empty history ranking by `objective`.
    pub fn new(objective: Objective) -> Self {
        Self::with_objectives(vec![objective])
    }

    /// An empty history keeping the loss of each of `objectives` ([`History::losses`]); the
    /// first one's is what single-objective samplers rank by ([`History::loss`]).
    pub fn with_objectives(objectives: Vec<Objective>) -> Self {
        Self { objectives, records: Vec::new(), losses: Vec::new(), index: HashMap::new() }
    }

    /// The loss of record `i`'s first objective (`+inf` for a failure).
    pub fn loss(&self, i: usize) -> f64 {
        self.losses[i * self.objectives.len()]
    }

    /// The losses of record `i`, one per objective (all `+inf` for a failure).
    pub fn losses(&self, i: usize) -> &[f64] {
        let m = self.objectives.len();
        &self.losses[i * m..(i + 1) * m]
    }

    /// Records a result; a trial's later result at a fidelity at least as high replaces its
    /// earlier one. Returns whether anything changed.
    pub fn observe(&mut self, observation: &Observation<'_>) -> bool {
        self.record(observation, false)
    }

    /// Records a failure: the trial's losses become `+inf` at the fidelity where it failed.
    pub fn fail(&mut self, failure: &Observation<'_>) -> bool {
        self.record(failure, true)
    }

    fn record(&mut self, observation: &Observation<'_>, failed: bool) -> bool {
        let m = self.objectives.len();
        let i = match self.index.get(&observation.trial) {
            Some(&i) => {
                let record = &mut self.records[i];
                if observation.fidelity < record.fidelity || self.losses[i * m] == f64::INFINITY {
                    return false;
                }
                record.fidelity = observation.fidelity;
                i
            }
            None => {
                let i = self.records.len();
                self.index.insert(observation.trial, i);
                self.records.push(Record { trial: observation.trial, config: observation.config.clone(), fidelity: observation.fidelity });
                self.losses.resize(self.losses.len() + m, f64::INFINITY);
                i
            }
        };
        for (k, objective) in self.objectives.iter().enumerate() {
            let metric = observation.metrics.get(k).copied().filter(|_| !failed);
            self.losses[i * m + k] = metric.map_or(f64::INFINITY, |v| objective.loss(v));
        }
        true
    }

    /// The records, oldest first.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Number of trials with a result.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no trial has reported.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hposim_core::Value;

    fn obs<'a>(trial: TrialId, config: &'a Config, fidelity: u32, metrics: &'a [f64]) -> Observation<'a> {
        Observation { trial, config, fidelity, metrics, time: 0.0 }
    }

    #[test]
    fn losses_follow_the_direction_and_failures_rank_last() {
        assert_eq!(loss(&Objective::maximize("acc"), &[0.9, 5.0]), -0.9);
        assert_eq!(loss(&Objective::minimize("err"), &[0.1]), 0.1);
        assert_eq!(loss(&Objective::minimize("err"), &[f64::NAN]), f64::INFINITY);
        assert_eq!(loss(&Objective::maximize("acc"), &[f64::INFINITY]), f64::INFINITY);
        assert_eq!(loss(&Objective::maximize("acc"), &[]), f64::INFINITY);
    }

    #[test]
    fn keeps_the_latest_highest_fidelity_result_per_trial() {
        let config = Config::new(vec![Value::Float(0.5)]);
        let mut history = History::new(Objective::minimize("loss"));
        assert!(history.observe(&obs(3, &config, 1, &[5.0])));
        assert!(history.observe(&obs(1, &config, 1, &[4.0])));
        assert!(history.observe(&obs(3, &config, 3, &[2.0])));
        assert!(!history.observe(&obs(3, &config, 2, &[9.0])), "a lower fidelity never replaces a higher one");
        assert!(history.fail(&obs(1, &config, 2, &[f64::NAN])));
        assert!(!history.observe(&obs(1, &config, 3, &[0.0])), "a failed trial stays failed");
        let seen: Vec<_> = history.records().iter().enumerate().map(|(i, r)| (r.trial, r.fidelity, history.loss(i))).collect();
        assert_eq!(seen, vec![(3, 3, 2.0), (1, 2, f64::INFINITY)]);
    }
}

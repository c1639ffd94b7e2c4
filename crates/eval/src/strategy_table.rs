//! The end-of-run table: per benchmark and strategy, the median and interquartile range over
//! seeds of the final score in the benchmark's measure (the report's: [`Scale`]), the plain
//! regret, compute, wall-clock and idle hours and cost, with the compute the same trials would
//! have needed without early termination and the share saved.

use crate::quantile::quantile;
use crate::results::reference_of;
use crate::scale::Scale;
use hposim_core::{BenchmarkReference, CellSummary};

/// Median and quartiles of a sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
}

impl Spread {
    /// The spread of `values` (NaN ignored); `None` if nothing is left.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut v: Vec<f64> = values.into_iter().filter(|x| !x.is_nan()).collect();
        v.sort_by(f64::total_cmp);
        Some(Self { q1: quantile(&v, 0.25)?, median: quantile(&v, 0.5)?, q3: quantile(&v, 0.75)? })
    }
}

/// One line of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyRow {
    /// Benchmark name.
    pub benchmark: String,
    /// Strategy name.
    pub strategy: String,
    /// Number of cells (seeds).
    pub cells: usize,
    /// The benchmark's measure, as the report names it ([`Scale::label`]).
    pub measure: String,
    /// Final score in that measure over the seeds with a result at full fidelity.
    pub score: Option<Spread>,
    /// How many of the `cells` have a score (a result at full fidelity).
    pub score_cells: usize,
    /// The stop reasons of the seeds without any result at full fidelity (each once, sorted).
    pub without_full_result: Vec<String>,
    /// Final regret over the seeds that have one (a seed has none if no trial reached full
    /// fidelity); see `regret_cells`.
    pub regret: Option<Spread>,
    /// How many of the `cells` have a final regret.
    pub regret_cells: usize,
    /// Compute hours over seeds.
    pub compute_hours: Option<Spread>,
    /// Cost in US dollars over seeds, where a price was set.
    pub cost_usd: Option<Spread>,
    /// Simulated wall-clock hours over seeds.
    pub wallclock_hours: Option<Spread>,
    /// Idle worker-hours over seeds.
    pub idle_hours: Option<Spread>,
    /// Worker-hours that training every started trial to full fidelity would cost, over seeds.
    pub full_training_hours: Option<Spread>,
    /// Its cost in US dollars, where a price was set.
    pub full_training_cost_usd: Option<Spread>,
    /// Share of compute saved relative to full training, over seeds.
    pub compute_saved: Option<Spread>,
    /// Whether the cells checkpointed (`None` if they differ).
    pub checkpointing: Option<bool>,
    /// The share saved with the other checkpointing setting (the same decisions), over seeds.
    pub compute_saved_other: Option<Spread>,
    /// Hypervolume of the results at full fidelity, over seeds (benchmarks with several
    /// objectives and a reference point).
    pub hypervolume: Option<Spread>,
}

/// Groups `summaries` by (benchmark, strategy), in order of first appearance; scores are in
/// the measure of the benchmark's entry in `references` (from the summary alone, plain regret or
/// the objective, where it has none).
pub fn strategy_table(summaries: &[CellSummary], references: &[BenchmarkReference]) -> Vec<StrategyRow> {
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for s in summaries {
        let key = (s.benchmark.as_str(), s.strategy.as_str());
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .map(|(benchmark, strategy)| {
            let group: Vec<&CellSummary> = summaries.iter().filter(|s| s.benchmark == benchmark && s.strategy == strategy).collect();
            let checkpointing = group.first().map(|s| s.checkpointing).filter(|c| group.iter().all(|s| s.checkpointing == *c));
            let scale = references.iter().find(|r| r.name == benchmark).map_or_else(|| Scale::of(&reference_of(group[0])), Scale::of);
            let mut without_full_result: Vec<String> =
                group.iter().filter(|s| s.best_objective_max_fidelity.is_none()).map(|s| s.stop_reason.clone()).collect();
            without_full_result.sort_unstable();
            without_full_result.dedup();
            StrategyRow {
                benchmark: benchmark.to_owned(),
                strategy: strategy.to_owned(),
                cells: group.len(),
                measure: scale.label(),
                score: Spread::of(group.iter().filter_map(|s| s.best_objective_max_fidelity).map(|v| scale.shown(scale.score(v)))),
                score_cells: group.iter().filter(|s| s.best_objective_max_fidelity.is_some()).count(),
                without_full_result,
                regret: Spread::of(group.iter().filter_map(|s| s.regret)),
                regret_cells: group.iter().filter(|s| s.regret.is_some_and(|r| !r.is_nan())).count(),
                compute_hours: Spread::of(group.iter().map(|s| s.compute_seconds / 3600.0)),
                cost_usd: Spread::of(group.iter().filter_map(|s| s.cost_usd)),
                wallclock_hours: Spread::of(group.iter().map(|s| s.wallclock_seconds / 3600.0)),
                idle_hours: Spread::of(group.iter().map(|s| s.idle_seconds / 3600.0)),
                full_training_hours: Spread::of(group.iter().map(|s| s.full_training_seconds / 3600.0)),
                full_training_cost_usd: Spread::of(group.iter().filter_map(|s| s.full_training_cost_usd)),
                compute_saved: Spread::of(group.iter().map(|s| s.compute_saved)),
                hypervolume: Spread::of(group.iter().filter_map(|s| s.hypervolume)),
                checkpointing,
                // Only where every cell has the same setting, so that "other" means one thing.
                compute_saved_other: checkpointing.and_then(|c| {
                    Spread::of(group.iter().map(|s| {
                        let other = if c { s.compute_without_checkpointing_seconds } else { s.compute_with_checkpointing_seconds };
                        if s.full_training_seconds > 0.0 { 1.0 - other / s.full_training_seconds } else { 0.0 }
                    }))
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hposim_core::Direction;

    fn cell(benchmark: &str, strategy: &str, regret: Option<f64>, compute: f64) -> CellSummary {
        let best = regret.map(|r| 0.1 + r);
        CellSummary {
            trace_format: 1,
            cell: String::new(),
            fingerprint: String::new(),
            settings: String::new(),
            benchmark: benchmark.into(),
            strategy: strategy.into(),
            seed: 0,
            objective: "val_error".into(),
            direction: Direction::Minimize,
            max_fidelity: 10,
            trials: 1,
            epochs: 1,
            full_evaluations: 1,
            diverged_trials: 0,
            compute_seconds: compute,
            overhead_seconds: 0.0,
            wallclock_seconds: compute,
            idle_seconds: 0.0,
            full_training_seconds: 2.0 * compute,
            compute_saved: 0.5,
            compute_with_checkpointing_seconds: compute,
            compute_without_checkpointing_seconds: 1.5 * compute,
            best_objective: None,
            best_objective_max_fidelity: best,
            best_known: Some(0.1),
            regret,
            regret_any_fidelity: None,
            cost_usd: Some(compute / 3600.0 * 2.0),
            full_training_cost_usd: Some(compute / 3600.0 * 4.0),
            checkpointing: true,
            sampler_warnings: 0,
            stop_reason: "budget".into(),
            hypervolume: None,
            hypervolume_reference: None,
            outside_reference: None,
            best_config: None,
        }
    }

    #[test]
    fn groups_in_order_and_computes_quartiles() {
        let cells = vec![
            cell("a", "random", Some(0.4), 3600.0),
            cell("a", "grid", Some(1.0), 7200.0),
            cell("a", "random", Some(0.1), 7200.0),
            cell("a", "random", Some(0.2), 10800.0),
            cell("a", "random", None, 14400.0),
        ];
        let table = strategy_table(&cells, &[]);
        assert_eq!(table.len(), 2);
        assert_eq!((table[0].strategy.as_str(), table[0].cells, table[0].regret_cells), ("random", 4, 3));
        // regrets 0.1, 0.2, 0.4: quartiles 0.15, 0.2, 0.3 (NumPy linear).
        let r = table[0].regret.unwrap();
        assert!((r.q1 - 0.15).abs() < 1e-12 && (r.median - 0.2).abs() < 1e-12 && (r.q3 - 0.3).abs() < 1e-12);
        // compute 1, 2, 3, 4 hours: median 2.5; cost at $2/h: median 5.
        assert_eq!(table[0].compute_hours.unwrap().median, 2.5);
        assert_eq!(table[0].cost_usd.unwrap().median, 5.0);
        assert_eq!(table[0].full_training_hours.unwrap().median, 5.0);
        assert_eq!(table[0].full_training_cost_usd.unwrap().median, 10.0);
        // Without checkpoints the same decisions would cost 1.5× compute of 2× compute: 25 % saved.
        assert_eq!(table[0].compute_saved_other.unwrap().median, 0.25);
        assert_eq!(table[0].checkpointing, Some(true));
        // Without a reference the measure is the summary's plain regret; the seed without a
        // full-fidelity result is flagged with its stop reason.
        assert_eq!(table[0].measure, "regret of val_error");
        assert!((table[0].score.unwrap().median - 0.2).abs() < 1e-12);
        assert_eq!((table[0].score_cells, table[0].without_full_result.clone()), (3, vec!["budget".to_owned()]));
    }

    #[test]
    fn scores_are_in_the_references_measure() {
        // Best known 0.1, median random configuration 0.5: a final value of 0.2 is normalised
        // regret (0.2 − 0.1) / (0.5 − 0.1) = 0.25.
        let reference = BenchmarkReference { median_random: Some(0.5), ..reference_of(&cell("a", "random", Some(0.1), 1.0)) };
        let table = strategy_table(&[cell("a", "random", Some(0.1), 3600.0)], &[reference]);
        assert_eq!(table[0].measure, "normalised regret of val_error");
        assert!((table[0].score.unwrap().median - 0.25).abs() < 1e-12);
        assert!(table[0].without_full_result.is_empty());
    }
}

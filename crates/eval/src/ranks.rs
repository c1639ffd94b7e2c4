//! Ranks of strategies: at each moment and for each seed, the strategies are ranked by their
//! incumbent's score (1 = best; ties share the average rank; a strategy without an incumbent
//! yet ranks below every one that has one), and the ranks are averaged over seeds. Averaging
//! these mean ranks over benchmarks gives the "average rank over time" plots of the BOHB and
//! Syne Tune papers, which unlike averaged regret do not let one benchmark's scale dominate.

use crate::rank_correlation::average_ranks;

/// Mean rank of each strategy (column) over the seeds (rows) of `scores`; `None` is worse than
/// any value. Empty when there are no rows.
pub fn mean_ranks(scores: &[Vec<Option<f64>>]) -> Vec<f64> {
    let Some(k) = scores.first().map(Vec::len) else {
        return Vec::new();
    };
    let mut sums = vec![0.0; k];
    for row in scores {
        let values: Vec<f64> = row.iter().map(|v| v.filter(|x| !x.is_nan()).unwrap_or(f64::INFINITY)).collect();
        for (sum, rank) in sums.iter_mut().zip(average_ranks(&values)) {
            *sum += rank;
        }
    }
    sums.iter().map(|s| s / scores.len() as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_by_hand() {
        // Seed 1: A 0.1 (1), B 0.3 (3), C 0.2 (2). Seed 2: A none (3), B 0.5 (1.5), C 0.5 (1.5).
        let scores = vec![vec![Some(0.1), Some(0.3), Some(0.2)], vec![None, Some(0.5), Some(0.5)]];
        assert_eq!(mean_ranks(&scores), [2.0, 2.25, 1.75]);
        assert!(mean_ranks(&[]).is_empty());
    }
}

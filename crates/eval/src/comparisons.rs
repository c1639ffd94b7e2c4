//! The statistical tests of a report, applied as Demšar (JMLR 2006) recommends: per benchmark,
//! pairwise Wilcoxon signed-rank tests on the final scores paired by seed, Holm-corrected over
//! all pairs; across blocks (benchmarks, or the seeds of one benchmark), the Friedman test
//! followed by the Nemenyi post-hoc test and its critical difference. Where the data cannot
//! support a test, the outcome says so in words instead of printing a meaningless p-value.

use crate::friedman::friedman;
use crate::holm::holm;
use crate::mann_whitney::{MannWhitneyMethod, mann_whitney};
use crate::nemenyi::{critical_difference, pairwise_p_values};
use crate::wilcoxon::wilcoxon;

/// Fewest non-zero paired differences for a Wilcoxon test: with 5, the smallest two-sided
/// p-value is 2/2⁵ = 0.0625, so no difference could ever be significant at 5 %.
pub const MIN_PAIRS: usize = 6;
/// Fewest blocks for a Friedman test; Demšar (2006, Section 3.2.2) warns that the χ²
/// approximation needs N > 10 and k > 5, and with fewer than 5 blocks it is useless.
pub const MIN_BLOCKS: usize = 5;
/// The level of every test.
pub const ALPHA: f64 = 0.05;

/// A pairwise comparison of two strategies on one benchmark.
#[derive(Clone, Debug, PartialEq)]
pub struct PairTest {
    /// First strategy.
    pub a: String,
    /// Second strategy.
    pub b: String,
    /// Seeds both have a final score for.
    pub pairs: usize,
    /// Median over seeds of (score of a − score of b): negative when a is better.
    pub median_difference: f64,
    /// The test, or why there is none.
    pub outcome: Result<PairOutcome, String>,
}

/// A Wilcoxon test's numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct PairOutcome {
    /// min(R⁺, R⁻).
    pub statistic: f64,
    /// Uncorrected two-sided p-value.
    pub p_value: f64,
    /// Holm-corrected p-value over the benchmark's pairs.
    pub p_holm: f64,
    /// How the p-value was computed (exact, permutation, normal).
    pub method: String,
    /// Whether the ranks favour a (R⁻ > R⁺ for the differences a − b: a's scores mostly smaller).
    pub favours_a: bool,
}

/// Pairwise Wilcoxon tests between every two of `names`, whose final scores by seed are
/// `finals[i][seed]` (`None` where the strategy did not run the seed, infinite where its run
/// had no result), Holm-corrected together. Seeds are matched by index: two strategies under
/// one seed of a simulated benchmark share its noise (common random numbers), while each
/// strategy's own random choices are its own; under the null hypothesis of equal distributions
/// each difference is symmetric about zero, which is what the test needs.
pub fn pairwise_wilcoxon(names: &[String], finals: &[Vec<Option<f64>>]) -> Vec<PairTest> {
    let mut tests = Vec::new();
    for i in 0..names.len() {
        for j in i + 1..names.len() {
            let (x, y): (Vec<f64>, Vec<f64>) =
                finals[i].iter().zip(&finals[j]).filter_map(|(a, b)| a.zip(*b)).filter(|(a, b)| a.is_finite() && b.is_finite()).unzip();
            let differences: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a - b).collect();
            let median_difference = crate::quantile::median_of(&differences).unwrap_or(f64::NAN);
            let nonzero = differences.iter().filter(|d| **d != 0.0).count();
            let outcome = if nonzero < MIN_PAIRS {
                Err(format!("too few seeds: {nonzero} with a difference (at least {MIN_PAIRS} are needed for p < {ALPHA} to be possible)"))
            } else {
                match wilcoxon(&x, &y) {
                    Some(w) => Ok(PairOutcome {
                        statistic: w.statistic,
                        p_value: w.p_value,
                        p_holm: f64::NAN,
                        method: format!("{:?}", w.method).to_lowercase(),
                        favours_a: w.r_minus > w.r_plus,
                    }),
                    None => Err("the two strategies ended equal on every seed".to_owned()),
                }
            };
            tests.push(PairTest { a: names[i].clone(), b: names[j].clone(), pairs: x.len(), median_difference, outcome });
        }
    }
    with_holm(tests)
}

/// `tests` with their p-values Holm-corrected together.
fn with_holm(mut tests: Vec<PairTest>) -> Vec<PairTest> {
    let p: Vec<f64> = tests.iter().filter_map(|t| t.outcome.as_ref().ok().map(|o| o.p_value)).collect();
    let mut adjusted = holm(&p).into_iter();
    for test in &mut tests {
        if let Ok(outcome) = &mut test.outcome {
            outcome.p_holm = adjusted.next().unwrap_or(f64::NAN);
        }
    }
    tests
}

/// Fewest runs per strategy for an unpaired Mann–Whitney test: with 3 against 3, the smallest
/// two-sided p-value is 2/20 = 0.1, with 4 against 4 it is 2/70 ≈ 0.029.
pub const MIN_UNPAIRED: usize = 4;

/// Pairwise two-sided Mann–Whitney U tests between every two of `names` (final scores as for
/// [`pairwise_wilcoxon`]), Holm-corrected together: for results whose seeds are not pairs (live
/// studies, where strategies share no noise). `pairs` is the smaller sample's size;
/// `median_difference` the difference of the two medians; `statistic` U₁ (of `a`).
pub fn pairwise_mann_whitney(names: &[String], finals: &[Vec<Option<f64>>]) -> Vec<PairTest> {
    let runs = |i: usize| -> Vec<f64> { finals[i].iter().flatten().copied().filter(|v| v.is_finite()).collect() };
    let mut tests = Vec::new();
    for i in 0..names.len() {
        for j in i + 1..names.len() {
            let (x, y) = (runs(i), runs(j));
            let median = |v: &[f64]| crate::quantile::median_of(v).unwrap_or(f64::NAN);
            let median_difference = median(&x) - median(&y);
            let outcome = if x.len().min(y.len()) < MIN_UNPAIRED {
                Err(format!(
                    "too few runs: {} and {} (at least {MIN_UNPAIRED} each are needed for p < {ALPHA} to be possible)",
                    x.len(),
                    y.len()
                ))
            } else {
                match mann_whitney(&x, &y) {
                    Some(u) => Ok(PairOutcome {
                        statistic: u.u1,
                        p_value: u.p_value,
                        p_holm: f64::NAN,
                        method: match u.method {
                            MannWhitneyMethod::Exact => "exact".to_owned(),
                            MannWhitneyMethod::Asymptotic => "normal".to_owned(),
                        },
                        favours_a: u.u1 < u.u2,
                    }),
                    None => Err("no finite final scores to compare".to_owned()),
                }
            };
            tests.push(PairTest { a: names[i].clone(), b: names[j].clone(), pairs: x.len().min(y.len()), median_difference, outcome });
        }
    }
    with_holm(tests)
}

/// A Friedman test with its Nemenyi post-hoc analysis.
#[derive(Clone, Debug, PartialEq)]
pub struct RankTest {
    /// The treatments (strategies), in input order.
    pub names: Vec<String>,
    /// Blocks used.
    pub blocks: usize,
    /// Mean rank of each (1 = best).
    pub mean_ranks: Vec<f64>,
    /// χ²_F.
    pub statistic: f64,
    /// Its p-value.
    pub p_value: f64,
    /// Nemenyi's critical difference at [`ALPHA`].
    pub critical_difference: f64,
    /// Pairwise Nemenyi p-values.
    pub pairwise: Vec<Vec<f64>>,
}

/// Friedman and Nemenyi on `rows` (one per block: every treatment's score, smaller is better,
/// infinite for a run without a result; `None` where a treatment did not run the block, which
/// drops the block), or why not.
pub fn friedman_nemenyi(names: &[String], rows: &[Vec<Option<f64>>], blocks_are: &str) -> Result<RankTest, String> {
    if names.len() < 3 {
        return Err(format!("{} strategies: the Friedman test compares at least 3 (use the pairwise tests)", names.len()));
    }
    let complete: Vec<Vec<f64>> =
        rows.iter().filter_map(|r| r.iter().copied().collect::<Option<Vec<f64>>>()).filter(|r| r.iter().all(|v| v.is_finite())).collect();
    if complete.len() < MIN_BLOCKS {
        return Err(format!(
            "too few {blocks_are}: {} with a result for every strategy, and the Friedman test needs at least {MIN_BLOCKS}",
            complete.len()
        ));
    }
    let f = friedman(&complete).ok_or_else(|| "every strategy tied in every block".to_owned())?;
    Ok(RankTest {
        names: names.to_vec(),
        blocks: f.blocks,
        critical_difference: critical_difference(ALPHA, names.len(), f.blocks),
        pairwise: pairwise_p_values(&f.mean_ranks, f.blocks),
        mean_ranks: f.mean_ranks,
        statistic: f.statistic,
        p_value: f.p_value,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("s{i}")).collect()
    }

    #[test]
    fn too_few_seeds_are_said_plainly() {
        let finals = vec![vec![Some(1.0); 5], vec![Some(2.0); 5]];
        let tests = pairwise_wilcoxon(&names(2), &finals);
        assert_eq!(tests.len(), 1);
        assert!(tests[0].outcome.as_ref().unwrap_err().contains("too few seeds: 5"));
        assert_eq!(tests[0].median_difference, -1.0);
        let err = friedman_nemenyi(&names(3), &vec![vec![Some(1.0), Some(2.0), Some(3.0)]; 4], "benchmarks").unwrap_err();
        assert!(err.contains("too few benchmarks: 4"), "{err}");
        assert!(friedman_nemenyi(&names(2), &[], "seeds").is_err());
    }

    #[test]
    fn tests_are_corrected_together() {
        // s0 beats s1 on all 10 seeds (exact p = 2/2¹⁰); s2 equals s0 plus alternating noise.
        let s0: Vec<Option<f64>> = (0..10).map(|i| Some(f64::from(i))).collect();
        let s1: Vec<Option<f64>> = (0..10).map(|i| Some(f64::from(i) + 1.0 + 0.01 * f64::from(i))).collect();
        let s2: Vec<Option<f64>> = (0..10).map(|i| Some(f64::from(i) + if i % 2 == 0 { 0.1 } else { -0.1 } * f64::from(i + 1))).collect();
        let tests = pairwise_wilcoxon(&names(3), &[s0, s1, s2]);
        let first = tests[0].outcome.as_ref().unwrap();
        assert!((first.p_value - 2.0 / 1024.0).abs() < 1e-15);
        assert!(first.favours_a);
        // Holm: the smallest of three p-values is multiplied by 3.
        assert!((first.p_holm - 3.0 * 2.0 / 1024.0).abs() < 1e-12, "{first:?}");
        let rows: Vec<Vec<Option<f64>>> = (0..6).map(|i| vec![Some(0.1 * f64::from(i)), Some(1.0), Some(2.0)]).collect();
        let rank = friedman_nemenyi(&names(3), &rows, "seeds").unwrap();
        assert_eq!(rank.mean_ranks, [1.0, 2.0, 3.0]);
        assert_eq!(rank.blocks, 6);
        // Perfect agreement of 6 blocks on 3 treatments: χ² = 12/(6·3·4)·(36+144+324) − 3·6·4 = 12.
        assert!((rank.statistic - 12.0).abs() < 1e-12);
    }
}

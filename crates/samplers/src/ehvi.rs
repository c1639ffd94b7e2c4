//! Expected hypervolume improvement (EHVI) with Gaussian processes: Emmerich, Giannakoglou &
//! Naujoks, "Single- and Multiobjective Evolutionary Optimization Assisted by Gaussian Random
//! Field Metamodels", IEEE TEC 10(4), 2006; computed exactly by box decomposition as in
//! Emmerich, Deutz & Klinkenberg, "Hypervolume-based Expected Improvement: Monotonicity
//! Properties and Exact Computation", CEC 2011, and in the log domain for a usable ranking
//! where it underflows (Daulton et al., "Unexpected Improvements to Expected Improvement for
//! Bayesian Optimization", NeurIPS 2023, qLogEHVI).
//!
//! Set-up as Optuna's `GPSampler` on a multi-objective study (`optuna/samplers/_gp/sampler.py`,
//! `optuna/_gp/acqf.py`: `LogEHVI`, `_get_reference_point`): one independent GP per objective
//! ([`crate::gp`]'s model: Matérn-5/2 ARD, maximum a posteriori hyperparameters, standardised
//! losses, failures at the worst loss); the reference point, in standardised loss units, is
//! `max(1.1·w, 0.9·w)` of the worst observed point `w`, nudged up by one ulp; the region not
//! dominated by the observed front (inside the reference box) is split into disjoint boxes
//! `[l, u)`, and for a candidate with independent predictions `N(μᵢ, σᵢ²)`
//!
//! ```text
//! EHVI = Σ_boxes Πᵢ E[max(0, uᵢ − max(yᵢ, lᵢ))] = Σ_boxes Πᵢ σᵢ·(h(αᵢᵘ) − h(αᵢˡ)),
//! α = (bound − μᵢ)/σᵢ,  h(z) = φ(z) + z·Φ(z)
//! ```
//!
//! (the product is exact because the objectives' predictions are independent; `h(−∞) = 0`).
//! Optuna estimates the same expectation from 128 quasi-Monte-Carlo samples; here it is exact.
//! The acquisition is maximised as GP-BO's ([`crate::gp::acquisition`]), the pool's
//! perturbations starting from the five observed points that add the most hypervolume.
//!
//! Boxes: the first `m − 1` objectives' coordinates of the front (and the reference) cut those
//! axes into a grid; in each cell, the points weakly below its lower corner bound the last
//! objective, so the cell's non-dominated part is one box — `n + 1` boxes for two objectives,
//! `(n + 1)²` for three. Exact EHVI is affordable for two and three objectives; more are refused.

use crate::gp::GpSettings;
use crate::gp::acquisition::{Batch, Search};
use crate::gp::model::{Observations, Surrogate};
use crate::normal::log_h;
use crate::{Sampler, SamplerError};
use hposim_core::objective::losses;
use hposim_core::pareto::non_dominated::non_dominated;
use hposim_core::{Config, Objective, Observation, Rng, SearchSpace};

/// Most objectives the exact EHVI is computed for.
pub const MAX_OBJECTIVES: usize = 3;

/// The non-dominated region of a front, as disjoint boxes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Boxes {
    objectives: usize,
    /// The grid's cuts on the first `objectives − 1` axes (`−∞` first, the reference last).
    cuts: Vec<Vec<f64>>,
    /// Per box, its interval on each of those axes (`objectives − 1` indices).
    cells: Vec<usize>,
    /// The distinct upper bounds of the last axis, and each box's.
    tops: Vec<f64>,
    top_of: Vec<usize>,
}

/// Per-candidate terms of [`Boxes::log_expected_improvement`], kept between calls.
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    /// `ln E` of each interval of each grid axis, axis after axis.
    intervals: Vec<f64>,
    /// `ln h` at each cut of the current axis.
    at_cuts: Vec<f64>,
    /// `ln E` below each distinct top of the last axis.
    tops: Vec<f64>,
}

impl Boxes {
    /// The boxes of the region inside `reference`'s box that no point of `front` weakly
    /// dominates (every objective minimised; points outside the box are ignored). None without
    /// two objectives or with a reference that is not finite.
    pub fn of(front: &[Vec<f64>], reference: &[f64]) -> Self {
        let m = reference.len();
        let mut boxes = Self { objectives: m, ..Self::default() };
        if m < 2 || reference.iter().any(|r| !r.is_finite()) {
            return boxes;
        }
        let inside: Vec<&Vec<f64>> = front.iter().filter(|p| p.iter().zip(reference).all(|(a, r)| a < r)).collect();
        // Grid coordinates of the first m − 1 axes: −∞, the points' values, the reference.
        boxes.cuts = (0..m - 1)
            .map(|i| {
                let mut cuts: Vec<f64> = inside.iter().map(|p| p[i]).collect();
                cuts.push(f64::NEG_INFINITY);
                cuts.push(reference[i]);
                cuts.sort_by(f64::total_cmp);
                cuts.dedup();
                cuts
            })
            .collect();
        let mut cell = vec![0usize; m - 1];
        let mut tops = Vec::new();
        loop {
            let lower: Vec<f64> = (0..m - 1).map(|i| boxes.cuts[i][cell[i]]).collect();
            let top = inside
                .iter()
                .filter(|p| p[..m - 1].iter().zip(&lower).all(|(a, l)| a <= l))
                .map(|p| p[m - 1])
                .fold(reference[m - 1], f64::min);
            boxes.cells.extend_from_slice(&cell);
            tops.push(top);
            // The next cell, odometer-wise.
            let mut i = 0;
            loop {
                if i == m - 1 {
                    boxes.tops = tops.clone();
                    boxes.tops.sort_by(f64::total_cmp);
                    boxes.tops.dedup();
                    boxes.top_of = tops.iter().map(|t| boxes.tops.partition_point(|u| u < t)).collect();
                    return boxes;
                }
                cell[i] += 1;
                if cell[i] + 1 < boxes.cuts[i].len() {
                    break;
                }
                cell[i] = 0;
                i += 1;
            }
        }
    }

    /// Number of boxes.
    pub fn len(&self) -> usize {
        self.top_of.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.top_of.is_empty()
    }

    /// Box `b`'s extent `[lower, upper)` along objective `i` (`−∞` for an unbounded side).
    pub fn bounds(&self, b: usize, i: usize) -> (f64, f64) {
        let last = self.objectives - 1;
        if i == last {
            return (f64::NEG_INFINITY, self.tops[self.top_of[b]]);
        }
        let j = self.cells[b * last + i];
        (self.cuts[i][j], self.cuts[i][j + 1])
    }

    /// The hypervolume a point `y` would add: `Σ_boxes Πᵢ max(0, uᵢ − max(yᵢ, lᵢ))`.
    pub fn improvement(&self, y: &[f64]) -> f64 {
        let product = |b: usize| -> f64 {
            (0..self.objectives)
                .map(|i| {
                    let (lower, upper) = self.bounds(b, i);
                    (upper - y[i].max(lower)).max(0.0)
                })
                .product()
        };
        (0..self.len()).map(product).sum()
    }

    /// `ln EHVI` of a point predicted `N(μᵢ, σᵢ²)` per objective (`−∞` when it cannot improve).
    /// Each box's term is a sum of one interval term per axis, and the intervals are shared by
    /// many boxes: each is computed once (`O(m·n)` evaluations of `ln h`, then `O(boxes·m)`
    /// additions).
    pub fn log_expected_improvement(&self, mean: &[f64], sd: &[f64], scratch: &mut Scratch) -> f64 {
        let m = self.objectives;
        if self.is_empty() {
            return f64::NEG_INFINITY;
        }
        scratch.intervals.clear();
        let mut offsets = [0usize; MAX_OBJECTIVES];
        for (i, cuts) in self.cuts.iter().enumerate() {
            offsets[i] = scratch.intervals.len();
            let ln_sd = sd[i].ln();
            scratch.at_cuts.clear();
            scratch
                .at_cuts
                .extend(cuts.iter().map(|&c| if c == f64::NEG_INFINITY { f64::NEG_INFINITY } else { log_h((c - mean[i]) / sd[i]) }));
            for j in 0..cuts.len() - 1 {
                scratch.intervals.push(ln_sd + log_interval(scratch.at_cuts[j], scratch.at_cuts[j + 1]));
            }
        }
        let (ln_sd, last) = (sd[m - 1].ln(), m - 1);
        scratch.tops.clear();
        scratch.tops.extend(self.tops.iter().map(|&t| ln_sd + log_h((t - mean[last]) / sd[last])));
        let term = |b: usize| -> f64 {
            let cell = &self.cells[b * last..(b + 1) * last];
            cell.iter().enumerate().map(|(i, &j)| scratch.intervals[offsets[i] + j]).sum::<f64>() + scratch.tops[self.top_of[b]]
        };
        let max_term = (0..self.len()).map(term).fold(f64::NEG_INFINITY, f64::max);
        if max_term == f64::NEG_INFINITY {
            return max_term;
        }
        max_term + (0..self.len()).map(|b| (term(b) - max_term).exp()).sum::<f64>().ln()
    }
}

/// `ln(h(αᵘ) − h(αˡ))` from `ln h(αˡ)` and `ln h(αᵘ)` (`ln h(−∞) = −∞`): with `σ`, the
/// expected excess `E[max(0, u − max(y, l))] = σ·(h(αᵘ) − h(αˡ))` for `y ~ N(μ, σ²)`,
/// `α = (bound − μ)/σ`.
fn log_interval(log_lower: f64, log_upper: f64) -> f64 {
    if log_lower == f64::NEG_INFINITY {
        return log_upper;
    }
    let ratio = log_lower - log_upper;
    if ratio >= 0.0 {
        return f64::NEG_INFINITY;
    }
    // ln(1 − eʳ), accurately on both sides of r = −ln 2.
    let log_one_minus = if ratio > -std::f64::consts::LN_2 { (-ratio.exp_m1()).ln() } else { (-ratio.exp()).ln_1p() };
    log_upper + log_one_minus
}

/// Optuna's reference point for EHVI: per objective `max(1.1·w, 0.9·w)` of the worst value `w`,
/// nudged up by one ulp.
pub fn reference_point(points: &[Vec<f64>]) -> Vec<f64> {
    crate::motpe::scaled_worst(points).into_iter().map(|r| r.next_up()).collect()
}

/// The EHVI sampler.
#[derive(Debug)]
pub struct EhviSampler {
    space: SearchSpace,
    objectives: Vec<Objective>,
    settings: GpSettings,
    data: Observations,
    models: Vec<Surrogate>,
    search: Search,
    warnings: u64,
    // Reused prediction buffers, one per objective, and the acquisition's terms.
    means: Vec<Vec<f64>>,
    vars: Vec<Vec<f64>>,
    terms: Scratch,
}

impl EhviSampler {
    /// EHVI over `space` for `objectives` (two or three); the keys of `gp`.
    pub fn new(space: &SearchSpace, objectives: &[Objective], settings: &GpSettings) -> Result<Self, SamplerError> {
        crate::require_several_objectives("ehvi", objectives)?;
        if objectives.len() > MAX_OBJECTIVES {
            let names: Vec<&str> = objectives.iter().map(|o| o.name.as_str()).collect();
            return Err(SamplerError::invalid(
                "type",
                format!(
                    "ehvi computes the expected hypervolume improvement exactly, affordable for 2 or 3 objectives; the benchmark has {} ({}): use motpe, parego or nsga2",
                    objectives.len(),
                    names.join(", ")
                ),
            ));
        }
        settings.check(space, "ehvi")?;
        let m = objectives.len();
        Ok(Self {
            space: space.clone(),
            objectives: objectives.to_vec(),
            settings: settings.clone(),
            data: Observations::new(space, m),
            models: (0..m).map(Surrogate::new).collect(),
            search: Search::new(space),
            warnings: 0,
            means: vec![Vec::new(); m],
            vars: vec![Vec::new(); m],
            terms: Scratch::default(),
        })
    }
}

impl Sampler for EhviSampler {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        let Some(fidelity) = self.data.modelled_level(self.settings.startup_trials as usize) else {
            return Some(self.space.sample(rng));
        };
        for model in &mut self.models {
            if !model.update(&self.data, fidelity, self.settings.restarts, rng) {
                self.warnings += 1;
                return Some(self.space.sample(rng));
            }
        }
        let Some(level) = self.data.level(fidelity) else { return Some(self.space.sample(rng)) };
        let m = self.models.len();
        let n = self.models[0].y.len();
        let points: Vec<Vec<f64>> = (0..n).map(|r| self.models.iter().map(|model| model.y[r]).collect()).collect();
        let reference = reference_point(&points);
        let front: Vec<Vec<f64>> = non_dominated(&points).into_iter().map(|i| points[i].clone()).collect();
        let boxes = Boxes::of(&front, &reference);
        // The pool's parents: the observed points that add the most hypervolume.
        let parents: Vec<usize> = {
            let chosen = crate::motpe::greedy_hypervolume_subset(&front, 5, &reference);
            chosen.iter().filter_map(|&f| points.iter().position(|p| *p == front[f])).collect()
        };
        let (models, means, vars, terms) = (&mut self.models, &mut self.means, &mut self.vars, &mut self.terms);
        let settings = &self.settings;
        let mut mean = vec![0.0; m];
        let mut sd = vec![0.0; m];
        let best = self.search.maximise(
            &self.space,
            &self.data.features,
            settings.candidates as usize,
            settings.local_search as usize,
            &level.values,
            &parents,
            rng,
            |features, batch, scores| {
                let count = scores.len();
                for k in 0..m {
                    means[k].resize(count, 0.0);
                    vars[k].resize(count, 0.0);
                    models[k].predict(features, &mut means[k][..count], &mut vars[k][..count], batch == Batch::Pool);
                }
                for (c, score) in scores.iter_mut().enumerate() {
                    for k in 0..m {
                        mean[k] = means[k][c];
                        sd[k] = vars[k][c].max(1e-300).sqrt();
                    }
                    *score = boxes.log_expected_improvement(&mean, &sd, terms);
                }
            },
        );
        best.map(Config::new).or_else(|| Some(self.space.sample(rng)))
    }

    fn observe(&mut self, observation: &Observation<'_>) {
        let values = losses(&self.objectives, observation.metrics);
        self.data.record(&self.space, observation.config.values(), observation.fidelity, &values);
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        let failed = vec![f64::INFINITY; self.objectives.len()];
        self.data.record(&self.space, failure.config.values(), failure.fidelity, &failed);
    }

    fn warnings(&self) -> u64 {
        self.warnings
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hposim_core::pareto::hypervolume::minimising;
    use hposim_core::{ParamSpec, Rng, Value};
    use proptest::prelude::*;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn boxes_of_a_small_front_by_hand() {
        // Front (1, 3), (2, 2), (3, 1), reference (4, 4): strips [−∞, 1)×[−∞, 4), [1, 2)×[−∞, 3),
        // [2, 3)×[−∞, 2), [3, 4)×[−∞, 1).
        let boxes = Boxes::of(&[vec![1.0, 3.0], vec![2.0, 2.0], vec![3.0, 1.0]], &[4.0, 4.0]);
        let inf = f64::NEG_INFINITY;
        let corners: Vec<(f64, f64)> =
            (0..boxes.len()).flat_map(|b| (0..2).map(move |i| (b, i))).map(|(b, i)| boxes.bounds(b, i)).collect();
        let lower: Vec<f64> = corners.iter().map(|c| c.0).collect();
        let upper: Vec<f64> = corners.iter().map(|c| c.1).collect();
        assert_eq!(lower, vec![inf, inf, 1.0, inf, 2.0, inf, 3.0, inf]);
        assert_eq!(upper, vec![1.0, 4.0, 2.0, 3.0, 3.0, 2.0, 4.0, 1.0]);
        // A point at the origin adds 4² − 6 (the front's hypervolume 3 + 2 + 1) = 10.
        assert_eq!(boxes.improvement(&[0.0, 0.0]), 10.0);
        assert_eq!(boxes.improvement(&[2.0, 2.0]), 0.0, "a point of the front adds nothing");
        assert_eq!(boxes.improvement(&[1.5, 2.5]), 0.5 * 0.5);
    }

    /// Points in [0, 11)ᵐ (some outside the reference box at 10), the first one repeated, and a
    /// point to add.
    fn front_and_point(m: usize) -> impl Strategy<Value = (Vec<Vec<f64>>, Vec<f64>)> {
        (proptest::collection::vec(proptest::collection::vec(0.0f64..11.0, m), 1..12), proptest::collection::vec(-1.0f64..11.0, m))
            .prop_map(|(mut points, y)| {
                points.push(points[0].clone());
                (points, y)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn the_boxes_give_exactly_the_hypervolume_a_point_adds((points, y) in prop_oneof![front_and_point(2), front_and_point(3)]) {
            let reference = vec![10.0; y.len()];
            let boxes = Boxes::of(&points, &reference);
            let inside = |p: &Vec<f64>| p.iter().zip(&reference).all(|(a, r)| a < r);
            let before: Vec<Vec<f64>> = points.iter().filter(|p| inside(p)).cloned().collect();
            let mut after = before.clone();
            if inside(&y) {
                after.push(y.clone());
            }
            let expected = minimising(&after, &reference) - minimising(&before, &reference);
            prop_assert!((boxes.improvement(&y) - expected).abs() < 1e-9 * (1.0 + expected), "{} vs {expected}", boxes.improvement(&y));
            // Without uncertainty, the expected improvement is the improvement.
            let sharp = boxes.log_expected_improvement(&y, &vec![1e-9; y.len()], &mut Scratch::default()).exp();
            prop_assert!((sharp - expected).abs() < 1e-6 * (1.0 + expected), "{sharp} vs {expected}");
        }
    }

    #[test]
    fn the_expected_improvement_matches_monte_carlo_and_tends_to_the_improvement() {
        let boxes = Boxes::of(&[vec![1.0, 3.0], vec![2.0, 2.0], vec![3.0, 1.0], vec![0.5, 2.9]], &[4.0, 4.0]);
        let (mean, sd) = ([1.8, 1.6], [0.7, 0.4]);
        // Monte Carlo: 400,000 draws of the prediction, the improvement averaged.
        let mut rng = Rng::seed_from_u64(1);
        let draws = 400_000;
        let mut total = 0.0;
        for _ in 0..draws {
            let y: Vec<f64> = (0..2).map(|i| mean[i] + sd[i] * crate::normal::quantile(rng.random_range(1e-12..1.0 - 1e-12))).collect();
            total += boxes.improvement(&y);
        }
        let monte_carlo = total / f64::from(draws);
        let exact = boxes.log_expected_improvement(&mean, &sd, &mut Scratch::default()).exp();
        assert!((exact / monte_carlo - 1.0).abs() < 0.01, "exact {exact}, Monte Carlo {monte_carlo}");
        // With vanishing uncertainty the expectation is the improvement of the mean.
        let sharp = boxes.log_expected_improvement(&mean, &[1e-9, 1e-9], &mut Scratch::default()).exp();
        assert!((sharp - boxes.improvement(&mean)).abs() < 1e-6, "{sharp}");
        // Far behind the front it underflows in the linear domain but stays ordered in logs.
        let far = boxes.log_expected_improvement(&[30.0, 30.0], &[1.0, 1.0], &mut Scratch::default());
        let farther = boxes.log_expected_improvement(&[40.0, 40.0], &[1.0, 1.0], &mut Scratch::default());
        assert!(far.is_finite() && farther.is_finite() && far > farther, "{far} {farther}");
        // Three objectives: 200,000 draws.
        let front = [vec![1.0, 3.0, 2.0], vec![2.0, 1.0, 3.0], vec![3.0, 2.0, 1.0], vec![1.5, 1.5, 2.5]];
        let boxes = Boxes::of(&front, &[4.0, 4.0, 4.0]);
        let (mean, sd) = ([1.7, 1.9, 1.8], [0.6, 0.5, 0.8]);
        let mut total = 0.0;
        for _ in 0..200_000 {
            let y: Vec<f64> = (0..3).map(|i| mean[i] + sd[i] * crate::normal::quantile(rng.random_range(1e-12..1.0 - 1e-12))).collect();
            total += boxes.improvement(&y);
        }
        let (monte_carlo, exact) = (total / 200_000.0, boxes.log_expected_improvement(&mean, &sd, &mut Scratch::default()).exp());
        assert!((exact / monte_carlo - 1.0).abs() < 0.01, "three objectives: exact {exact}, Monte Carlo {monte_carlo}");
    }

    #[test]
    fn degenerate_inputs_give_no_boxes() {
        assert!(Boxes::of(&[vec![1.0]], &[2.0]).is_empty());
        assert!(Boxes::of(&[], &[]).is_empty());
        assert!(Boxes::of(&[vec![1.0, 1.0]], &[f64::INFINITY, 2.0]).is_empty());
        let none = Boxes::of(&[], &[f64::NAN, 1.0]);
        assert_eq!(none.log_expected_improvement(&[0.0, 0.0], &[1.0, 1.0], &mut Scratch::default()), f64::NEG_INFINITY);
    }

    /// ZDT1 with three variables.
    fn zdt1(config: &Config) -> [f64; 2] {
        let x: Vec<f64> = (0..3).map(|i| if let Value::Float(v) = config.get(i) { v } else { f64::NAN }).collect();
        let g = 1.0 + 9.0 * (x[1] + x[2]) / 2.0;
        [x[0], g * (1.0 - (x[0] / g).sqrt())]
    }

    #[test]
    fn finds_better_fronts_than_random_search_on_zdt1() {
        let objectives = [Objective::minimize("f1"), Objective::minimize("f2")];
        let space = SearchSpace::new(
            &(0..3)
                .map(|i| ParamSpec::Float { name: format!("x{i}"), low: 0.0, high: 1.0, log: false, condition: None })
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let mean_hypervolume = |ehvi: bool| {
            let mut total = 0.0;
            for seed in 0..5 {
                let mut sampler: Box<dyn Sampler> = if ehvi {
                    Box::new(EhviSampler::new(&space, &objectives, &GpSettings::default()).unwrap())
                } else {
                    Box::new(crate::random::RandomSampler::new(space.clone()))
                };
                let mut rng = Rng::seed_from_u64(seed);
                let mut points = Vec::new();
                for trial in 0..30 {
                    let config = sampler.suggest(&mut rng).unwrap();
                    let f = zdt1(&config);
                    sampler.observe(&Observation { trial, config: &config, fidelity: 1, metrics: &f, time: 0.0 });
                    points.push(f.to_vec());
                }
                let inside: Vec<Vec<f64>> = points.into_iter().filter(|p| p[0] < 1.0 && p[1] < 1.0).collect();
                total += minimising(&inside, &[1.0, 1.0]) / 5.0;
            }
            total
        };
        let (ehvi, random) = (mean_hypervolume(true), mean_hypervolume(false));
        eprintln!("EHVI {ehvi:.3}, random {random:.3}");
        assert!(ehvi > random + 0.15, "EHVI {ehvi}, random {random}");
    }

    #[test]
    fn works_with_three_objectives_and_failures() {
        // DTLZ2 with three objectives and four variables (Deb et al. 2002); training fails where
        // x₃ > 0.85: proposals stay valid, and after 80 trials the front beats random search's.
        let objectives: Vec<Objective> = (0..3).map(|i| Objective::minimize(&format!("f{i}"))).collect();
        let space = SearchSpace::new(
            &(0..4)
                .map(|i| ParamSpec::Float { name: format!("x{i}"), low: 0.0, high: 1.0, log: false, condition: None })
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let dtlz2 = |x: &[f64]| {
            let g: f64 = x[2..].iter().map(|v| (v - 0.5).powi(2)).sum();
            let (a, b) = (x[0] * std::f64::consts::FRAC_PI_2, x[1] * std::f64::consts::FRAC_PI_2);
            [(1.0 + g) * a.cos() * b.cos(), (1.0 + g) * a.cos() * b.sin(), (1.0 + g) * a.sin()]
        };
        let hypervolume = |ehvi: bool, seed: u64, trials: u32| {
            let mut sampler: Box<dyn Sampler> = if ehvi {
                Box::new(EhviSampler::new(&space, &objectives, &GpSettings { candidates: 128, ..GpSettings::default() }).unwrap())
            } else {
                Box::new(crate::random::RandomSampler::new(space.clone()))
            };
            let mut rng = Rng::seed_from_u64(seed);
            let mut points = Vec::new();
            for trial in 0..trials {
                let config = sampler.suggest(&mut rng).unwrap();
                assert!(space.contains(&config));
                let x: Vec<f64> = (0..4).map(|i| if let Value::Float(v) = config.get(i) { v } else { f64::NAN }).collect();
                let f = dtlz2(&x);
                let observation = Observation { trial, config: &config, fidelity: 1, metrics: &f, time: 0.0 };
                if x[3] > 0.85 {
                    sampler.on_failure(&Observation { metrics: &[f64::NAN; 3], ..observation });
                } else {
                    sampler.observe(&observation);
                    points.push(f.to_vec());
                }
            }
            assert_eq!(sampler.warnings(), 0);
            let inside: Vec<Vec<f64>> = points.into_iter().filter(|p| p.iter().all(|&v| v < 1.1)).collect();
            minimising(&inside, &[1.1; 3])
        };
        // Measured: seed 0 0.643 against 0.496, seed 1 0.687 against 0.555 (release build).
        for seed in 0..2 {
            let (ehvi, random) = (hypervolume(true, seed, 80), hypervolume(false, seed, 80));
            assert!(ehvi > random + 0.05, "seed {seed}: EHVI {ehvi}, random {random}");
        }
    }

    #[test]
    fn needs_two_or_three_objectives() {
        let space = SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None }]).unwrap();
        let four: Vec<Objective> = (0..4).map(|i| Objective::minimize(&format!("f{i}"))).collect();
        let error = EhviSampler::new(&space, &four, &GpSettings::default()).unwrap_err().to_string();
        assert!(
            error.starts_with(
                "type: ehvi computes the expected hypervolume improvement exactly, affordable for 2 or 3 objectives; the benchmark has 4"
            ),
            "{error}"
        );
        let error = EhviSampler::new(&space, &four[..1], &GpSettings::default()).unwrap_err().to_string();
        assert!(error.starts_with("type: ehvi is a multi-objective sampler"), "{error}");
    }
}

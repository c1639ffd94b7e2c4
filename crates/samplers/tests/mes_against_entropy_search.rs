//! Fabolas' acquisition is entropy search (information about the *location* of the minimum at
//! full fidelity, Hennig & Schuler 2012, with representer points); hposim's Fabolas uses
//! multi-fidelity max-value entropy search (information about the minimum's *value*, Takeno et
//! al. 2020) instead. This test justifies the substitution on a small case where entropy search
//! can be computed by brute force: a 1-D configuration on 15 representer points, two fidelities
//! (s̃ = 0 and 1) under Fabolas' loss kernel, a GP conditioned on a few results. Entropy search
//! is estimated by Monte Carlo (4000 common-random-number draws of the 15 values at s̃ = 1, the
//! entropy of the argmin's distribution, and its expectation after a fantasised observation by
//! 12-point Gauss–Hermite quadrature); max-value entropy search is `hposim_samplers::gp::mes`
//! with the minima of 400 of the same draws. Both must rank the 30 candidates (x, s̃) alike, and
//! per unit of cost (s̃ = 0 costs a tenth) both must choose the cheap fidelity.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hposim_samplers::gp::joint::{Basis, JointHyper};
use hposim_samplers::gp::kernel::{matern52, scaled_sq_dist};
use hposim_samplers::gp::mes;
use hposim_samplers::normal::quantile;
use nalgebra::{DMatrix, DVector};
use rand::{RngExt, SeedableRng};

const GRID: usize = 15;

fn phi(s: f64) -> Vec<f64> {
    let mut row = vec![0.0; 2];
    Basis::FabolasLoss.write(s, &mut row);
    row
}

fn kernel(hyper: &JointHyper, a: (f64, f64), b: (f64, f64)) -> f64 {
    matern52(scaled_sq_dist(&[a.0], &[b.0], &hyper.lambda)) * hyper.fidelity_covariance(&phi(a.1), &phi(b.1))
}

/// Spearman's rank correlation of two equally long samples (no ties expected).
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let ranks = |v: &[f64]| {
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let mut r = vec![0.0; v.len()];
        for (rank, &i) in order.iter().enumerate() {
            r[i] = rank as f64;
        }
        r
    };
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let d2: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - y) * (x - y)).sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

/// Entropy of the argmin over the columns of `draws` (GRID × samples), shifted by `mean`.
fn argmin_entropy(mean: &DVector<f64>, draws: &DMatrix<f64>) -> f64 {
    let mut counts = [0usize; GRID];
    for j in 0..draws.ncols() {
        let column = draws.column(j);
        let best = (0..GRID).min_by(|&a, &b| (mean[a] + column[a]).total_cmp(&(mean[b] + column[b]))).unwrap();
        counts[best] += 1;
    }
    let n = draws.ncols() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| -(c as f64 / n) * (c as f64 / n).ln()).sum()
}

#[test]
fn max_value_entropy_search_ranks_candidates_as_entropy_search_does() {
    let hyper = JointHyper { lambda: vec![1.0 / 0.15f64.powi(2)], sigma: vec![1.0, 0.0, 0.0, 0.6], noise: 1e-3 };
    // Results: four at s̃ = 0 (cheap, offset by the data term), two at s̃ = 1.
    let truth = |x: f64, s: f64| (6.0 * x).sin() + 0.6 * (1.0 - s).powi(2) * (1.0 + x);
    let data: Vec<(f64, f64)> = vec![(0.1, 0.0), (0.35, 0.0), (0.6, 0.0), (0.9, 0.0), (0.2, 1.0), (0.75, 1.0)];
    let y = DVector::from_iterator(data.len(), data.iter().map(|&(x, s)| truth(x, s)));
    let n = data.len();
    let k = DMatrix::from_fn(n, n, |i, j| kernel(&hyper, data[i], data[j]) + if i == j { hyper.noise } else { 0.0 });
    let k_inv = k.clone().try_inverse().unwrap();
    let alpha = &k_inv * &y;
    let grid: Vec<(f64, f64)> = (0..GRID).map(|i| (i as f64 / (GRID - 1) as f64, 1.0)).collect();
    let candidates: Vec<(f64, f64)> = grid.iter().flat_map(|&(x, _)| [(x, 0.0), (x, 1.0)]).collect();
    // The joint posterior over grid ∪ candidates.
    let points: Vec<(f64, f64)> = grid.iter().chain(&candidates).copied().collect();
    let m = points.len();
    let cross = DMatrix::from_fn(m, n, |i, j| kernel(&hyper, points[i], data[j]));
    let mean = &cross * &alpha;
    let prior = DMatrix::from_fn(m, m, |i, j| kernel(&hyper, points[i], points[j]));
    let cov = &prior - &cross * &k_inv * cross.transpose();
    let grid_cov = cov.view((0, 0), (GRID, GRID)).into_owned();
    let mut jittered = grid_cov.clone();
    for i in 0..GRID {
        jittered[(i, i)] += 1e-9;
    }
    let chol = jittered.cholesky().unwrap().l();
    let mut rng = hposim_core::Rng::seed_from_u64(7);
    let z = DMatrix::from_fn(GRID, 4000, |_, _| quantile(rng.random_range(1e-12..1.0 - 1e-12)));
    let draws = &chol * &z;
    let grid_mean = DVector::from_iterator(GRID, (0..GRID).map(|i| mean[i]));
    let prior_entropy = argmin_entropy(&grid_mean, &draws);
    // Entropy search: expected drop of the argmin's entropy after observing each candidate.
    let (nodes, weights) = gauss_hermite_12();
    let mut es = Vec::new();
    for c in 0..candidates.len() {
        let at = GRID + c;
        let v = cov[(at, at)] + hyper.noise;
        let k_c = DVector::from_iterator(GRID, (0..GRID).map(|i| cov[(i, at)]));
        // Conditioning shrinks the covariance the same way for every fantasy.
        let shrunk = &grid_cov - &k_c * k_c.transpose() / v;
        let mut s = shrunk.clone();
        for i in 0..GRID {
            s[(i, i)] = s[(i, i)].max(0.0) + 1e-9;
        }
        let l = s.cholesky().unwrap().l();
        let fantasy_draws = &l * &z;
        let mut expected = 0.0;
        for (node, w) in nodes.iter().zip(&weights) {
            let y_c = mean[at] + (2.0 * v).sqrt() * node;
            let m_post = &grid_mean + &k_c * ((y_c - mean[at]) / v);
            expected += w / std::f64::consts::PI.sqrt() * argmin_entropy(&m_post, &fantasy_draws);
        }
        es.push(prior_entropy - expected);
    }
    // Max-value entropy search with the minima of 400 of the same draws.
    let minima: Vec<f64> = (0..400).map(|j| (0..GRID).map(|i| grid_mean[i] + draws[(i, j)]).fold(f64::INFINITY, f64::min)).collect();
    let mes_gain: Vec<f64> = candidates
        .iter()
        .enumerate()
        .map(|(c, &(x, _))| {
            let at = GRID + c;
            let reference = grid.iter().position(|g| g.0 == x).unwrap();
            mes::mean_gain(&minima, cov[(at, at)] + hyper.noise, mean[reference], cov[(reference, reference)], cov[(at, reference)])
        })
        .collect();
    let rho = spearman(&es, &mes_gain);
    // Measured: ρ = 0.917 (this seed); 0.8 leaves room for Monte Carlo noise.
    assert!(rho > 0.8, "Spearman ρ between entropy search and MES over 30 candidates: {rho}\nES {es:?}\nMES {mes_gain:?}");
    // Per unit of cost (the cheap fidelity a tenth), both choose the cheap fidelity.
    let per_cost = |gains: &[f64]| {
        (0..candidates.len())
            .max_by(|&a, &b| {
                let cost = |c: usize| if candidates[c].1 == 0.0 { 0.1 } else { 1.0 };
                (gains[a] / cost(a)).total_cmp(&(gains[b] / cost(b)))
            })
            .unwrap()
    };
    let (best_es, best_mes) = (per_cost(&es), per_cost(&mes_gain));
    assert_eq!(candidates[best_es].1, 0.0, "entropy search per cost chooses {:?}", candidates[best_es]);
    assert_eq!(candidates[best_mes].1, 0.0, "MES per cost chooses {:?}", candidates[best_mes]);
    // And at nearby configurations (within two grid steps).
    assert!((candidates[best_es].0 - candidates[best_mes].0).abs() <= 2.0 / (GRID - 1) as f64 + 1e-12);
}

/// Nodes and weights of 12-point Gauss–Hermite quadrature (∫ e^{−t²} f(t) dt), the positive
/// half of `python3 -c "import numpy; print(numpy.polynomial.hermite.hermgauss(12))"` (numpy
/// 2.x), mirrored.
fn gauss_hermite_12() -> (Vec<f64>, Vec<f64>) {
    let half = [
        (0.314_240_376_254_359_13, 0.570_135_236_262_479_5),
        (0.947_788_391_240_163_8, 0.260_492_310_264_161_1),
        (1.597_682_635_152_604_8, 0.051_607_985_615_883_98),
        (2.279_507_080_501_06, 0.003_905_390_584_629_06),
        (3.020_637_025_120_889_6, 8.573_687_043_587_868e-5),
        (3.889_724_897_869_782, 2.658_551_684_356_304_4e-7),
    ];
    let mut nodes = Vec::new();
    let mut weights = Vec::new();
    for &(t, w) in &half {
        nodes.push(t);
        weights.push(w);
        nodes.push(-t);
        weights.push(w);
    }
    (nodes, weights)
}

//! The GP posterior for fixed kernel hyperparameters: a Cholesky factorisation of
//! `K + σ²I` (nalgebra), kept as the inverse of its lower factor so that predicting a batch of
//! candidates is one matrix product, and extended in O(n²) when an observation arrives and the
//! hyperparameters have not changed (the block-Cholesky update, Rasmussen & Williams Alg. 2.1
//! applied to a bordered matrix).
//!
//! A factorisation that fails (the matrix is not numerically positive definite) is retried
//! with jitter `10⁻⁶·s², 10⁻⁴·s², 10⁻²·s²` added to the diagonal before giving up.

use super::kernel::{matern52, scaled_sq_dist};
use nalgebra::{DMatrix, DVector};

/// Kernel hyperparameters on their natural scale.
#[derive(Clone, Debug, PartialEq)]
pub struct Hyper {
    /// Inverse squared lengthscales, one per feature.
    pub lambda: Vec<f64>,
    /// Signal variance `s²`.
    pub scale: f64,
    /// Noise variance `σ²` (of the standardised targets).
    pub noise: f64,
}

impl Hyper {
    /// The covariance of two feature vectors (without noise).
    pub fn k(&self, a: &[f64], b: &[f64]) -> f64 {
        self.scale * matern52(scaled_sq_dist(a, b, &self.lambda))
    }
}

/// A GP conditioned on `n` points.
#[derive(Clone, Debug)]
pub struct Posterior {
    /// The hyperparameters it was built with.
    pub hyper: Hyper,
    dim: usize,
    x: Vec<f64>,
    /// Diagonal jitter that made the factorisation succeed.
    jitter: f64,
    linv: DMatrix<f64>,
    alpha: DVector<f64>,
    /// The points scaled by `√λ` (one row each) and their squared norms, so that the scaled
    /// distances to a batch come from one matrix product: `r² = |a|² + |b|² − 2a·b`.
    scaled: DMatrix<f64>,
    norms: Vec<f64>,
}

/// Buffers of a batch prediction, kept between calls of the same batch size so that predicting
/// does not allocate.
#[derive(Clone, Debug)]
pub struct Scratch {
    probe: DMatrix<f64>,
    probe_norms: Vec<f64>,
    cross: DMatrix<f64>,
    solved: DMatrix<f64>,
}

impl Default for Scratch {
    fn default() -> Self {
        Self { probe: DMatrix::zeros(0, 0), probe_norms: Vec::new(), cross: DMatrix::zeros(0, 0), solved: DMatrix::zeros(0, 0) }
    }
}

/// Row `i` of `x` scaled by `root` into row `i` of `out`; returns its squared norm.
fn scale_row(x: &[f64], root: &[f64], out: &mut DMatrix<f64>, i: usize) -> f64 {
    let mut norm = 0.0;
    for (q, (v, r)) in x.iter().zip(root).enumerate() {
        let s = v * r;
        out[(i, q)] = s;
        norm += s * s;
    }
    norm
}

impl Posterior {
    /// Factorises the covariance of `x` (`n` rows of `dim` features); `None` when even the
    /// largest jitter fails.
    pub fn new(hyper: Hyper, x: &[f64], dim: usize) -> Option<Self> {
        let n = x.len() / dim;
        let row = |i: usize| &x[i * dim..(i + 1) * dim];
        let base = DMatrix::from_fn(n, n, |i, j| hyper.k(row(i), row(j)) + if i == j { hyper.noise } else { 0.0 });
        for jitter in [0.0, 1e-6, 1e-4, 1e-2] {
            let mut k = base.clone();
            for i in 0..n {
                k[(i, i)] += jitter * hyper.scale;
            }
            let Some(chol) = k.cholesky() else { continue };
            let Some(linv) = chol.l().solve_lower_triangular(&DMatrix::identity(n, n)) else { continue };
            let root: Vec<f64> = hyper.lambda.iter().map(|l| l.sqrt()).collect();
            let mut scaled = DMatrix::zeros(n, dim);
            let norms = (0..n).map(|i| scale_row(row(i), &root, &mut scaled, i)).collect();
            return Some(Self { hyper, dim, x: x.to_vec(), jitter, linv, alpha: DVector::zeros(n), scaled, norms });
        }
        None
    }

    /// Number of conditioning points.
    pub fn len(&self) -> usize {
        self.x.len() / self.dim
    }

    /// Whether it has no points.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Adds one point in O(n²); `false` (and unchanged) when the bordered matrix is not
    /// numerically positive definite, so the caller refactorises.
    pub fn append(&mut self, point: &[f64]) -> bool {
        let n = self.len();
        let k = DVector::from_fn(n, |i, _| self.hyper.k(&self.x[i * self.dim..(i + 1) * self.dim], point));
        let l = &self.linv * &k;
        let d2 = self.hyper.scale * (1.0 + self.jitter) + self.hyper.noise - l.norm_squared();
        // NaN fails too.
        if d2.is_nan() || d2 <= 1e-10 * self.hyper.scale {
            return false;
        }
        let d = d2.sqrt();
        // Last row of the new inverse factor: [−(lᵀ L⁻¹)/d, 1/d].
        let last = self.linv.tr_mul(&l);
        self.linv = std::mem::replace(&mut self.linv, DMatrix::zeros(0, 0)).resize(n + 1, n + 1, 0.0);
        for j in 0..n {
            self.linv[(n, j)] = -last[j] / d;
        }
        self.linv[(n, n)] = 1.0 / d;
        self.x.extend_from_slice(point);
        self.alpha = DVector::zeros(n + 1);
        self.scaled = std::mem::replace(&mut self.scaled, DMatrix::zeros(0, 0)).resize_vertically(n + 1, 0.0);
        let root: Vec<f64> = self.hyper.lambda.iter().map(|l| l.sqrt()).collect();
        let norm = scale_row(point, &root, &mut self.scaled, n);
        self.norms.push(norm);
        true
    }

    /// Sets the (standardised) targets: `α = K⁻¹ y`.
    pub fn set_targets(&mut self, y: &[f64]) {
        let y = DVector::from_column_slice(y);
        let half = &self.linv * y;
        self.alpha = self.linv.tr_mul(&half);
    }

    /// Predictive means and variances (of the latent function) at `m` points stored row-major
    /// in `points`, written into `mean` and `var`.
    pub fn predict(&self, points: &[f64], mean: &mut [f64], var: &mut [f64], scratch: &mut Scratch) {
        let n = self.len();
        let m = points.len() / self.dim;
        if scratch.cross.shape() != (n, m) {
            scratch.cross = DMatrix::zeros(n, m);
            scratch.solved = DMatrix::zeros(n, m);
        }
        if scratch.probe.shape() != (self.dim, m) {
            scratch.probe = DMatrix::zeros(self.dim, m);
        }
        scratch.probe_norms.clear();
        for j in 0..m {
            // One column per point, scaled by √λ.
            let mut norm = 0.0;
            for (q, (v, l)) in points[j * self.dim..(j + 1) * self.dim].iter().zip(&self.hyper.lambda).enumerate() {
                let s = v * l.sqrt();
                scratch.probe[(q, j)] = s;
                norm += s * s;
            }
            scratch.probe_norms.push(norm);
        }
        // Cross inner products in one product, then the kernel elementwise.
        scratch.cross.gemm(1.0, &self.scaled, &scratch.probe, 0.0);
        for j in 0..m {
            for i in 0..n {
                let r2 = (self.norms[i] + scratch.probe_norms[j] - 2.0 * scratch.cross[(i, j)]).max(0.0);
                scratch.cross[(i, j)] = self.hyper.scale * matern52(r2);
            }
        }
        scratch.solved.gemm(1.0, &self.linv, &scratch.cross, 0.0);
        for j in 0..m {
            mean[j] = scratch.cross.column(j).dot(&self.alpha);
            var[j] = (self.hyper.scale - scratch.solved.column(j).norm_squared()).max(1e-12 * self.hyper.scale);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn hyper() -> Hyper {
        Hyper { lambda: vec![4.0, 1.0], scale: 1.3, noise: 1e-6 }
    }

    #[test]
    fn the_mean_interpolates_training_points_within_noise() {
        let x = [0.1, 0.2, 0.5, 0.9, 0.8, 0.3, 0.4, 0.4, 0.95, 0.05];
        let y = [1.0, -0.5, 0.3, 2.0, -1.2];
        let mut gp = Posterior::new(hyper(), &x, 2).unwrap();
        gp.set_targets(&y);
        let (mut mean, mut var) = ([0.0; 5], [0.0; 5]);
        gp.predict(&x, &mut mean, &mut var, &mut Scratch::default());
        for i in 0..5 {
            assert!((mean[i] - y[i]).abs() < 1e-4, "point {i}: {} vs {}", mean[i], y[i]);
            assert!(var[i] < 1e-4, "variance at a training point: {}", var[i]);
        }
        // Far from the data the variance returns to the prior's.
        let (mut m, mut v) = ([0.0], [0.0]);
        gp.predict(&[40.0, 40.0], &mut m, &mut v, &mut Scratch::default());
        assert!((v[0] - 1.3).abs() < 1e-9 && m[0].abs() < 1e-9);
    }

    #[test]
    fn appending_equals_refactorising() {
        let x = [0.1, 0.2, 0.5, 0.9, 0.8, 0.3, 0.4, 0.4];
        let y = [1.0, -0.5, 0.3, 2.0];
        let mut grown = Posterior::new(hyper(), &x[..4], 2).unwrap();
        assert!(grown.append(&x[4..6]));
        assert!(grown.append(&x[6..8]));
        grown.set_targets(&y);
        let mut full = Posterior::new(hyper(), &x, 2).unwrap();
        full.set_targets(&y);
        let probe = [0.3, 0.6, 0.7, 0.1];
        let (mut m1, mut v1, mut m2, mut v2) = ([0.0; 2], [0.0; 2], [0.0; 2], [0.0; 2]);
        grown.predict(&probe, &mut m1, &mut v1, &mut Scratch::default());
        full.predict(&probe, &mut m2, &mut v2, &mut Scratch::default());
        for i in 0..2 {
            assert!((m1[i] - m2[i]).abs() < 1e-9 && (v1[i] - v2[i]).abs() < 1e-9);
        }
    }

    #[test]
    fn duplicate_points_without_noise_need_jitter_not_a_panic() {
        let h = Hyper { lambda: vec![1.0], scale: 1.0, noise: 0.0 };
        let gp = Posterior::new(h, &[0.5, 0.5, 0.5], 1).expect("jitter rescues a singular matrix");
        assert!(gp.jitter > 0.0);
    }
}

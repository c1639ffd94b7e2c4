//! Kernel hyperparameters by maximum a posteriori: the log marginal likelihood of the
//! standardised targets (Rasmussen & Williams Eq. 5.8, gradient Eq. 5.9) plus the log priors of
//! Optuna's GP sampler (`optuna/_gp/prior.py`): for each inverse squared lengthscale λ,
//! `−(0.1/λ + 0.1·λ)`; for the signal variance a Gamma(2, 1) and for the noise variance a
//! Gamma(1.1, 30) log-density (up to constants); noise variance at least 10⁻⁶. The parameters
//! are optimised on a log scale with L-BFGS from several starts, the previous optimum among them.

use super::kernel::matern52_with_derivative;
use super::lbfgs::Lbfgs;
use super::posterior::Hyper;
use hposim_core::Rng;
use nalgebra::{DMatrix, DVector};
use rand::RngExt;

/// Smallest noise variance (Optuna's `DEFAULT_MINIMUM_NOISE_VAR`).
pub const MIN_NOISE: f64 = 1e-6;

/// Log-parameters `[ln λ₁ … ln λ_d, ln s², ln(σ² − MIN_NOISE)]` to hyperparameters.
pub fn unpack(eta: &[f64]) -> Hyper {
    let d = eta.len() - 2;
    Hyper { lambda: eta[..d].iter().map(|v| v.exp()).collect(), scale: eta[d].exp(), noise: MIN_NOISE + eta[d + 1].exp() }
}

/// The starting point Optuna uses: unit lengthscales and signal variance, noise 10⁻².
pub fn default_start(dim: usize) -> Vec<f64> {
    let mut eta = vec![0.0; dim + 2];
    eta[dim + 1] = (1e-2f64).ln();
    eta
}

/// Negative log posterior of the hyperparameters (up to a constant) and its gradient in `grad`;
/// `+inf` when the covariance cannot be factorised.
pub fn negative_log_posterior(eta: &[f64], x: &[f64], y: &[f64], grad: &mut [f64]) -> f64 {
    let dim = eta.len() - 2;
    let n = y.len();
    let hyper = unpack(eta);
    let points = DMatrix::from_row_slice(n, dim, x);
    let r2 = scaled_squared_distances(&points, &hyper.lambda);
    // One exponential per pair serves both the covariance and its derivative.
    let mut slope = DMatrix::zeros(n, n);
    let mut k = DMatrix::zeros(n, n);
    for j in 0..n {
        for i in 0..n {
            let (m, dm) = matern52_with_derivative(r2[(i, j)]);
            slope[(i, j)] = hyper.scale * dm;
            k[(i, j)] = hyper.scale * m + if i == j { hyper.noise } else { 0.0 };
        }
    }
    let Some((lml, w)) = likelihood_and_weights(&k, y) else {
        grad.fill(0.0);
        return f64::INFINITY;
    };
    let trace_w: f64 = w.diagonal().sum();
    // ½ tr(W ∂K/∂ln s²) with ∂K/∂ln s² the noise-free covariance.
    let trace_wk: f64 = w.iter().zip(k.iter()).map(|(a, b)| a * b).sum::<f64>() - hyper.noise * trace_w;
    // ∂K_ij/∂ln λ_q = s²·m'(r²)·λ_q·(x_iq − x_jq)².
    lengthscale_gradient(&w, &slope, &points, &hyper.lambda, &mut grad[..dim]);
    grad[dim] = 0.5 * trace_wk;
    grad[dim + 1] = 0.5 * trace_w * (hyper.noise - MIN_NOISE);
    // Log priors and their gradients.
    let mut log_prior = 0.0;
    for (g, &l) in grad.iter_mut().zip(&hyper.lambda) {
        log_prior -= 0.1 / l + 0.1 * l;
        *g += 0.1 / l - 0.1 * l;
    }
    log_prior += hyper.scale.ln() - hyper.scale;
    grad[dim] += 1.0 - hyper.scale;
    log_prior += 0.1 * hyper.noise.ln() - 30.0 * hyper.noise;
    grad[dim + 1] += (0.1 / hyper.noise - 30.0) * (hyper.noise - MIN_NOISE);
    // Minimise the negative.
    grad.iter_mut().for_each(|g| *g = -*g);
    -(lml + log_prior)
}

/// The squared distances r²ᵢⱼ = Σ_q λ_q (x_iq − x_jq)² between the rows of `points`, 0 on the
/// diagonal, from one matrix product: |aᵢ|² + |aⱼ|² − 2aᵢ·aⱼ with a = x·diag(√λ) (clamped at 0
/// against rounding).
pub(crate) fn scaled_squared_distances(points: &DMatrix<f64>, lambda: &[f64]) -> DMatrix<f64> {
    let n = points.nrows();
    let mut scaled = points.clone();
    for (q, l) in lambda.iter().enumerate() {
        scaled.column_mut(q).scale_mut(l.sqrt());
    }
    let norms: Vec<f64> = (0..n).map(|i| scaled.row(i).norm_squared()).collect();
    let mut r2 = &scaled * scaled.transpose();
    for j in 0..n {
        for i in 0..n {
            r2[(i, j)] = if i == j { 0.0 } else { (norms[i] + norms[j] - 2.0 * r2[(i, j)]).max(0.0) };
        }
    }
    r2
}

/// The log marginal likelihood of targets `y` under the covariance `k` (Rasmussen & Williams
/// Eq. 5.8), and W = ααᵀ − K⁻¹ with α = K⁻¹y, from which ∂lml/∂θ = ½ tr(W ∂K/∂θ) (Eq. 5.9);
/// `None` when `k` cannot be factorised. K⁻¹ = L⁻ᵀL⁻¹: one triangular solve and a matrix
/// product (fast), where nalgebra's `inverse` would do two triangular solves.
pub(crate) fn likelihood_and_weights(k: &DMatrix<f64>, y: &[f64]) -> Option<(f64, DMatrix<f64>)> {
    let n = y.len();
    let chol = k.clone().cholesky()?;
    let yv = DVector::from_column_slice(y);
    let alpha = chol.solve(&yv);
    let log_det: f64 = 2.0 * chol.l_dirty().diagonal().iter().map(|v| v.ln()).sum::<f64>();
    let lml = -0.5 * yv.dot(&alpha) - 0.5 * log_det - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
    let linv = chol.l_dirty().lower_triangle().solve_lower_triangular(&DMatrix::identity(n, n))?;
    let mut w = linv.tr_mul(&linv);
    w.iter_mut().for_each(|v| *v = -*v);
    w.ger(1.0, &alpha, &alpha, 1.0);
    Some((lml, w))
}

/// The lengthscale part of the gradient, into `grad` (one entry per λ_q): ½ Σᵢⱼ Wᵢⱼ ∂Kᵢⱼ/∂ln λ_q
/// where ∂Kᵢⱼ/∂ln λ_q = Sᵢⱼ·λ_q·(x_iq − x_jq)² (`slope` S: the kernel's derivative in r², times
/// whatever multiplies it). With C = W ∘ S (zero diagonal, as the distance is 0 there),
/// ½ Σᵢⱼ Cᵢⱼ (x_iq − x_jq)² = Σᵢ x_iq² (C1)ᵢ − x_qᵀ C x_q: one more matrix product instead of a
/// loop over pairs and coordinates.
pub(crate) fn lengthscale_gradient(w: &DMatrix<f64>, slope: &DMatrix<f64>, points: &DMatrix<f64>, lambda: &[f64], grad: &mut [f64]) {
    let n = points.nrows();
    let mut c = w.component_mul(slope);
    c.fill_diagonal(0.0);
    let row_sums: Vec<f64> = (0..n).map(|i| c.row(i).sum()).collect();
    let cx = &c * points;
    for (q, g) in grad.iter_mut().enumerate() {
        let (column, c_column) = (points.column(q), cx.column(q));
        let quadratic: f64 = (0..n).map(|i| column[i] * column[i] * row_sums[i]).sum();
        *g = lambda[q] * (quadratic - column.dot(&c_column));
    }
}

/// Fits the hyperparameters to `n` rows of `x` and targets `y` from `restarts` starts: `warm`
/// (the previous optimum) or Optuna's default, then random log-uniform draws.
pub fn fit(x: &[f64], y: &[f64], dim: usize, warm: Option<&[f64]>, restarts: u32, rng: &mut Rng) -> Option<Vec<f64>> {
    let lbfgs = Lbfgs::default();
    let mut best: Option<(f64, Vec<f64>)> = None;
    for start in 0..restarts.max(1) {
        let mut eta = match (start, warm) {
            (0, Some(w)) => w.to_vec(),
            (0, None) => default_start(dim),
            _ => {
                let mut eta: Vec<f64> = (0..dim).map(|_| rng.random_range(-2.3..2.3)).collect();
                eta.push(rng.random_range(-0.7..0.7));
                eta.push(rng.random_range(-9.0..-2.3));
                eta
            }
        };
        let value = lbfgs.minimize(&mut eta, |e, g| negative_log_posterior(e, x, y, g));
        if value.is_finite() && best.as_ref().is_none_or(|(b, _)| value < *b) {
            best = Some((value, eta));
        }
    }
    best.map(|(_, eta)| eta)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rand::SeedableRng;

    fn data() -> (Vec<f64>, Vec<f64>) {
        let mut rng = Rng::seed_from_u64(7);
        let x: Vec<f64> = (0..24).map(|_| rng.random::<f64>()).collect();
        let y: Vec<f64> = x.chunks(2).map(|p| (6.0 * p[0]).sin() + 0.1 * p[1]).collect();
        (x, y)
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let (x, y) = data();
        let eta = [0.3, -0.8, 0.2, -3.0];
        let mut grad = [0.0; 4];
        negative_log_posterior(&eta, &x, &y, &mut grad);
        for q in 0..4 {
            let h = 1e-5;
            let (mut up, mut down) = (eta, eta);
            up[q] += h;
            down[q] -= h;
            let mut scratch = [0.0; 4];
            let numeric =
                (negative_log_posterior(&up, &x, &y, &mut scratch) - negative_log_posterior(&down, &x, &y, &mut scratch)) / (2.0 * h);
            assert!((numeric - grad[q]).abs() < 1e-4 * numeric.abs().max(1.0), "coordinate {q}: {numeric} vs {}", grad[q]);
        }
    }

    #[test]
    fn fitting_finds_the_relevant_dimension() {
        let (x, y) = data();
        let eta = fit(&x, &y, 2, None, 3, &mut Rng::seed_from_u64(1)).unwrap();
        let mut grad = [0.0; 4];
        let fitted = negative_log_posterior(&eta, &x, &y, &mut grad);
        let start = negative_log_posterior(&default_start(2), &x, &y, &mut grad);
        assert!(fitted < start, "{fitted} vs {start}");
        // y depends strongly on the first coordinate, barely on the second.
        assert!(eta[0] > eta[1], "{eta:?}");
    }
}

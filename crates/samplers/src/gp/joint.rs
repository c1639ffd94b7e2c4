//! A Gaussian process over (configuration, fidelity) jointly: the product of the Matérn-5/2 ARD
//! kernel over the configuration's features and a kernel over the fidelity that is linear in a
//! few basis functions,
//!
//! `k((x, s), (x', s')) = m(r²(x, x')) · φ(s)ᵀ Σ φ(s')`,
//!
//! plus noise. Two fidelity kernels, one code:
//! - Fabolas (Klein, Falkner, Bartels, Hennig & Hutter, "Fast Bayesian Optimization of Machine
//!   Learning Hyperparameters on Large Datasets", AISTATS 2017, Section 4.1, Eq. 5–6): the
//!   relative data size `s ∈ [0, 1]` (on RoBO's log scale) with `φ(s) = (1, (1 − s)²)` for the
//!   loss and `φ(s) = (1, s)` for the cost, and `Σ = diag(a, b)`: RoBO's
//!   `BayesianLinearRegressionKernel` `a + b·u·u'` (`robo/models/fabolas_gp.py`);
//! - multi-task (the intrinsic coregionalisation model of Bonilla, Chai & Williams, NeurIPS 2007,
//!   as Swersky, Snoek & Adams, "Multi-Task Bayesian Optimization", NeurIPS 2013, use it):
//!   `φ(t)` one-hot over `T` tasks and `Σ = LLᵀ` a free task covariance, `L` lower triangular
//!   (RoBO's `TaskKernel` for `robo/fmin/mtbo.py`).
//!
//! Hyperparameters by maximum a posteriori (where RoBO samples them by MCMC with emcee: a point
//! estimate is what Optuna and Syne Tune's MOBSTER use, and costs one fit instead of a dozen
//! chains per iteration), optimised with the GP samplers' L-BFGS on a log scale with the analytic
//! gradient (Rasmussen & Williams Eq. 5.9). Priors: Optuna's for the inverse squared
//! lengthscales and the noise (as [`super::fit`]); a standard normal on `ln a`, `ln b` (RoBO's
//! `NormalPrior(0, 1)` on them, `robo/priors/env_priors.py`) and on the log-diagonal and
//! off-diagonal entries of `L`.

use super::fit::{MIN_NOISE, lengthscale_gradient, likelihood_and_weights, scaled_squared_distances};
use super::kernel::matern52_with_derivative;
use super::lbfgs::Lbfgs;
use hposim_core::Rng;
use nalgebra::{DMatrix, DVector};
use rand::RngExt;

/// The fidelity kernel's basis and parametrisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// Fabolas' loss kernel: `φ(s) = (1, (1 − s)²)`, `Σ` diagonal.
    FabolasLoss,
    /// Fabolas' cost kernel: `φ(s) = (1, s)`, `Σ` diagonal.
    FabolasCost,
    /// One-hot over this many tasks, `Σ = LLᵀ` free.
    Tasks(usize),
}

impl Basis {
    /// Number of basis functions.
    pub fn width(self) -> usize {
        match self {
            Basis::FabolasLoss | Basis::FabolasCost => 2,
            Basis::Tasks(t) => t,
        }
    }

    /// Parameters of `Σ`.
    pub fn parameters(self) -> usize {
        match self {
            Basis::FabolasLoss | Basis::FabolasCost => 2,
            Basis::Tasks(t) => t * (t + 1) / 2,
        }
    }

    /// Writes `φ(s)` into `out`: `s` is the relative fidelity in `[0, 1]`, or the task's index.
    pub fn write(self, s: f64, out: &mut [f64]) {
        match self {
            Basis::FabolasLoss => {
                out[0] = 1.0;
                out[1] = (1.0 - s) * (1.0 - s);
            }
            Basis::FabolasCost => {
                out[0] = 1.0;
                out[1] = s;
            }
            Basis::Tasks(_) => {
                out.fill(0.0);
                out[s as usize] = 1.0;
            }
        }
    }

    /// `Σ` (row-major `b × b`) and, for the task kernel, `L` from the parameters.
    fn sigma(self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let b = self.width();
        let mut sigma = vec![0.0; b * b];
        let mut l = vec![0.0; b * b];
        match self {
            Basis::FabolasLoss | Basis::FabolasCost => {
                for a in 0..b {
                    sigma[a * b + a] = theta[a].exp();
                }
            }
            Basis::Tasks(_) => {
                let mut k = 0;
                for a in 0..b {
                    for c in 0..=a {
                        l[a * b + c] = if a == c { theta[k].exp() } else { theta[k] };
                        k += 1;
                    }
                }
                for a in 0..b {
                    for c in 0..b {
                        sigma[a * b + c] = (0..b).map(|k| l[a * b + k] * l[c * b + k]).sum();
                    }
                }
            }
        }
        (sigma, l)
    }

    /// A starting point for `Σ`'s parameters: unit variances, and for tasks a strong positive
    /// correlation with the first task (the tasks are cheaper versions of one problem).
    fn start(self) -> Vec<f64> {
        match self {
            Basis::FabolasLoss | Basis::FabolasCost => vec![0.0, -1.0],
            Basis::Tasks(t) => {
                let mut theta = Vec::with_capacity(t * (t + 1) / 2);
                for a in 0..t {
                    for c in 0..=a {
                        theta.push(match (a == c, c == 0) {
                            (true, true) => 0.0,
                            (true, false) => -1.0,
                            (false, _) => 0.9,
                        });
                    }
                }
                theta
            }
        }
    }
}

/// Hyperparameters on their natural scale.
#[derive(Clone, Debug, PartialEq)]
pub struct JointHyper {
    /// Inverse squared lengthscales over the configuration's features.
    pub lambda: Vec<f64>,
    /// `Σ`, row-major.
    pub sigma: Vec<f64>,
    /// Noise variance (of the standardised targets).
    pub noise: f64,
}

impl JointHyper {
    /// `φ(s)ᵀ Σ φ(s')`.
    pub fn fidelity_covariance(&self, a: &[f64], b: &[f64]) -> f64 {
        let w = a.len();
        let mut total = 0.0;
        for (i, ai) in a.iter().enumerate() {
            for (j, bj) in b.iter().enumerate() {
                total += ai * self.sigma[i * w + j] * bj;
            }
        }
        total
    }
}

/// The parameter vector's layout for `dim` features and `basis`.
fn split(dim: usize, basis: Basis) -> (usize, usize) {
    (dim, dim + basis.parameters())
}

/// Log-parameters `[ln λ…, Σ's parameters…, ln(σ² − MIN_NOISE)]` to hyperparameters.
pub fn unpack(eta: &[f64], dim: usize, basis: Basis) -> JointHyper {
    let (a, b) = split(dim, basis);
    JointHyper { lambda: eta[..a].iter().map(|v| v.exp()).collect(), sigma: basis.sigma(&eta[a..b]).0, noise: MIN_NOISE + eta[b].exp() }
}

/// Unit lengthscales, [`Basis::start`], noise 10⁻².
pub fn default_start(dim: usize, basis: Basis) -> Vec<f64> {
    let mut eta = vec![0.0; dim];
    eta.extend(basis.start());
    eta.push((1e-2f64).ln());
    eta
}

/// The data a joint GP is fitted to: `n` rows of `dim` features (`x`), of basis values
/// (`phi`, `basis.width()` each), and standardised targets `y`.
#[derive(Clone, Copy, Debug)]
pub struct JointData<'a> {
    /// Features, row-major.
    pub x: &'a [f64],
    /// Basis values `φ(s)`, row-major.
    pub phi: &'a [f64],
    /// Targets.
    pub y: &'a [f64],
    /// Features per row.
    pub dim: usize,
    /// The fidelity kernel.
    pub basis: Basis,
}

/// Negative log posterior of the hyperparameters (up to a constant) and its gradient in `grad`;
/// `+inf` when the covariance cannot be factorised.
pub fn negative_log_posterior(eta: &[f64], data: &JointData<'_>, grad: &mut [f64]) -> f64 {
    let (dim, basis) = (data.dim, data.basis);
    let (a_end, b_end) = split(dim, basis);
    let bw = basis.width();
    let n = data.y.len();
    let hyper = unpack(eta, dim, basis);
    let (_, l) = basis.sigma(&eta[a_end..b_end]);
    let points = DMatrix::from_row_slice(n, dim, data.x);
    let phi = DMatrix::from_row_slice(n, bw, data.phi);
    let sigma = DMatrix::from_row_slice(bw, bw, &hyper.sigma);
    let g = &phi * &sigma * phi.transpose();
    let r2 = scaled_squared_distances(&points, &hyper.lambda);
    let mut m = DMatrix::zeros(n, n);
    let mut slope = DMatrix::zeros(n, n);
    for j in 0..n {
        for i in 0..n {
            let (value, derivative) = matern52_with_derivative(r2[(i, j)]);
            m[(i, j)] = value;
            slope[(i, j)] = derivative * g[(i, j)];
        }
    }
    let mut k = m.component_mul(&g);
    for i in 0..n {
        k[(i, i)] += hyper.noise;
    }
    let Some((lml, w)) = likelihood_and_weights(&k, data.y) else {
        grad.fill(0.0);
        return f64::INFINITY;
    };
    // Lengthscales: ∂K_ij/∂ln λ_q = m'(r²)·G_ij·λ_q·(x_iq − x_jq)².
    lengthscale_gradient(&w, &slope, &points, &hyper.lambda, &mut grad[..dim]);
    // Σ: ½ tr(W (M ∘ Φ ∂Σ Φᵀ)) = ½ tr(A ∂Σ) with A = Φᵀ (W ∘ M) Φ.
    let a = phi.transpose() * w.component_mul(&m) * &phi;
    match basis {
        Basis::FabolasLoss | Basis::FabolasCost => {
            for i in 0..bw {
                grad[a_end + i] = 0.5 * a[(i, i)] * hyper.sigma[i * bw + i];
            }
        }
        Basis::Tasks(_) => {
            // ∂Σ/∂L_ic = E_ic Lᵀ + L E_ci, so ½ tr(A ∂Σ) = (A L)_ic; the diagonal is on a log scale.
            let lm = DMatrix::from_row_slice(bw, bw, &l);
            let al = &a * &lm;
            let mut p = a_end;
            for i in 0..bw {
                for col in 0..=i {
                    grad[p] = al[(i, col)] * if i == col { lm[(i, col)] } else { 1.0 };
                    p += 1;
                }
            }
        }
    }
    grad[b_end] = 0.5 * w.diagonal().sum() * (hyper.noise - MIN_NOISE);
    // Log priors and their gradients.
    let mut log_prior = 0.0;
    for (gq, &l) in grad.iter_mut().zip(&hyper.lambda) {
        log_prior -= 0.1 / l + 0.1 * l;
        *gq += 0.1 / l - 0.1 * l;
    }
    for p in a_end..b_end {
        log_prior -= 0.5 * eta[p] * eta[p];
        grad[p] -= eta[p];
    }
    log_prior += 0.1 * hyper.noise.ln() - 30.0 * hyper.noise;
    grad[b_end] += (0.1 / hyper.noise - 30.0) * (hyper.noise - MIN_NOISE);
    grad.iter_mut().for_each(|g| *g = -*g);
    -(lml + log_prior)
}

/// Fits the hyperparameters from `restarts` starts: `warm` (the previous optimum) or
/// [`default_start`], then random draws around it.
pub fn fit(data: &JointData<'_>, warm: Option<&[f64]>, restarts: u32, rng: &mut Rng) -> Option<Vec<f64>> {
    let lbfgs = Lbfgs::default();
    let start = default_start(data.dim, data.basis);
    let mut best: Option<(f64, Vec<f64>)> = None;
    for attempt in 0..restarts.max(1) {
        let mut eta = match (attempt, warm) {
            (0, Some(w)) => w.to_vec(),
            (0, None) => start.clone(),
            _ => start.iter().map(|v| v + rng.random_range(-1.5..1.5)).collect(),
        };
        let value = lbfgs.minimize(&mut eta, |e, g| negative_log_posterior(e, data, g));
        if value.is_finite() && best.as_ref().is_none_or(|(b, _)| value < *b) {
            best = Some((value, eta));
        }
    }
    best.map(|(_, eta)| eta)
}

/// The joint GP conditioned on its data, for fixed hyperparameters.
#[derive(Clone, Debug)]
pub struct JointPosterior {
    /// The hyperparameters.
    pub hyper: JointHyper,
    dim: usize,
    width: usize,
    x: Vec<f64>,
    phi: Vec<f64>,
    linv: DMatrix<f64>,
    alpha: DVector<f64>,
}

impl JointPosterior {
    /// Factorises the covariance of the data with targets `data.y`, retrying with jitter
    /// `10⁻⁶, 10⁻⁴, 10⁻²` on the diagonal; `None` when all fail.
    pub fn new(hyper: JointHyper, data: &JointData<'_>) -> Option<Self> {
        let (dim, width) = (data.dim, data.basis.width());
        let n = data.y.len();
        let row = |i: usize| &data.x[i * dim..(i + 1) * dim];
        let basis_row = |i: usize| &data.phi[i * width..(i + 1) * width];
        let base = DMatrix::from_fn(n, n, |i, j| {
            let r2 = super::kernel::scaled_sq_dist(row(i), row(j), &hyper.lambda);
            super::kernel::matern52(r2) * hyper.fidelity_covariance(basis_row(i), basis_row(j)) + if i == j { hyper.noise } else { 0.0 }
        });
        for jitter in [0.0, 1e-6, 1e-4, 1e-2] {
            let mut k = base.clone();
            for i in 0..n {
                k[(i, i)] += jitter;
            }
            let Some(chol) = k.cholesky() else { continue };
            let Some(linv) = chol.l().solve_lower_triangular(&DMatrix::identity(n, n)) else { continue };
            let y = DVector::from_column_slice(data.y);
            let alpha = linv.tr_mul(&(&linv * y));
            return Some(Self { hyper, dim, width, x: data.x.to_vec(), phi: data.phi.to_vec(), linv, alpha });
        }
        None
    }

    /// Number of conditioning points.
    pub fn len(&self) -> usize {
        self.linv.nrows()
    }

    /// Whether it has no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The Matérn correlations of `m` configurations (rows of `points`) with the data, as the
    /// columns of `out` (`n × m`).
    pub fn matern_block(&self, points: &[f64], out: &mut DMatrix<f64>) {
        let (n, m) = (self.len(), points.len() / self.dim);
        if out.shape() != (n, m) {
            *out = DMatrix::zeros(n, m);
        }
        for j in 0..m {
            let point = &points[j * self.dim..(j + 1) * self.dim];
            for i in 0..n {
                let r2 = super::kernel::scaled_sq_dist(point, &self.x[i * self.dim..(i + 1) * self.dim], &self.hyper.lambda);
                out[(i, j)] = super::kernel::matern52(r2);
            }
        }
    }

    /// `φ(s)ᵀ Σ φ(sᵢ)` for every data point `i`.
    fn fidelity_column(&self, phi: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.extend((0..self.len()).map(|i| self.hyper.fidelity_covariance(phi, &self.phi[i * self.width..(i + 1) * self.width])));
    }

    /// Latent means of the configurations of `matern` ([`JointPosterior::matern_block`]) at
    /// basis values `phi`, into `out`.
    pub fn predict_means(&self, matern: &DMatrix<f64>, phi: &[f64], out: &mut [f64], buffers: &mut LevelBuffers) {
        self.fidelity_column(phi, &mut buffers.column);
        let weights: Vec<f64> = buffers.column.iter().zip(self.alpha.iter()).map(|(g, a)| g * a).collect();
        for (j, o) in out.iter_mut().enumerate().take(matern.ncols()) {
            *o = matern.column(j).iter().zip(&weights).map(|(k, w)| k * w).sum();
        }
    }

    /// Latent means, variances and covariances with `reference` of the configurations of
    /// `matern` at each basis row of `levels`, and their means and variances at `reference`.
    pub fn predict_levels(
        &self,
        matern: &DMatrix<f64>,
        levels: &[Vec<f64>],
        reference: &[f64],
        out: &mut LevelPredictions,
        buffers: &mut LevelBuffers,
    ) {
        let (n, m) = matern.shape();
        out.resize(levels.len(), m);
        let scaled = |column: &[f64], into: &mut DMatrix<f64>| {
            if into.shape() != (n, m) {
                *into = DMatrix::zeros(n, m);
            }
            for j in 0..m {
                for i in 0..n {
                    into[(i, j)] = matern[(i, j)] * column[i];
                }
            }
        };
        self.fidelity_column(reference, &mut buffers.column);
        scaled(&buffers.column, &mut buffers.cross);
        if buffers.solved_ref.shape() != (n, m) {
            buffers.solved_ref = DMatrix::zeros(n, m);
            buffers.solved = DMatrix::zeros(n, m);
        }
        buffers.solved_ref.gemm(1.0, &self.linv, &buffers.cross, 0.0);
        let prior_ref = self.hyper.fidelity_covariance(reference, reference);
        for j in 0..m {
            out.reference_mean[j] = buffers.cross.column(j).dot(&self.alpha);
            out.reference_var[j] = (prior_ref - buffers.solved_ref.column(j).norm_squared()).max(1e-12);
        }
        for (l, phi) in levels.iter().enumerate() {
            self.fidelity_column(phi, &mut buffers.column);
            scaled(&buffers.column, &mut buffers.cross);
            buffers.solved.gemm(1.0, &self.linv, &buffers.cross, 0.0);
            let (prior, prior_cov) = (self.hyper.fidelity_covariance(phi, phi), self.hyper.fidelity_covariance(phi, reference));
            for j in 0..m {
                let v = buffers.solved.column(j);
                out.mean[l * m + j] = buffers.cross.column(j).dot(&self.alpha);
                out.var[l * m + j] = (prior - v.norm_squared()).max(1e-12);
                out.cov[l * m + j] = prior_cov - v.dot(&buffers.solved_ref.column(j));
            }
        }
    }
}

/// What [`JointPosterior::predict_levels`] writes: per level `l` and configuration `j`, at
/// `l * m + j`.
#[derive(Clone, Debug, Default)]
pub struct LevelPredictions {
    /// Latent means.
    pub mean: Vec<f64>,
    /// Latent variances.
    pub var: Vec<f64>,
    /// Covariances with the same configuration at the reference.
    pub cov: Vec<f64>,
    /// Means at the reference, per configuration.
    pub reference_mean: Vec<f64>,
    /// Variances at the reference, per configuration.
    pub reference_var: Vec<f64>,
}

impl LevelPredictions {
    fn resize(&mut self, levels: usize, m: usize) {
        for v in [&mut self.mean, &mut self.var, &mut self.cov] {
            v.resize(levels * m, 0.0);
        }
        self.reference_mean.resize(m, 0.0);
        self.reference_var.resize(m, 0.0);
    }
}

/// Buffers of the batch predictions, reused between calls of the same shape.
#[derive(Clone, Debug)]
pub struct LevelBuffers {
    column: Vec<f64>,
    cross: DMatrix<f64>,
    solved: DMatrix<f64>,
    solved_ref: DMatrix<f64>,
}

impl Default for LevelBuffers {
    fn default() -> Self {
        Self { column: Vec::new(), cross: DMatrix::zeros(0, 0), solved: DMatrix::zeros(0, 0), solved_ref: DMatrix::zeros(0, 0) }
    }
}

/// A joint GP kept up to date as data arrive: targets standardised; hyperparameters refitted
/// (warm-started) when the data have grown by 10 % since the last fit, from several starts when
/// they have doubled, as [`super::model::Surrogate`] refits; conditioned anew otherwise.
#[derive(Clone, Debug)]
pub struct JointModel {
    basis: Basis,
    fitted: Option<(usize, Vec<f64>)>,
    multi_start_n: usize,
    /// The posterior after the last [`JointModel::update`].
    pub posterior: Option<JointPosterior>,
    /// The mean and standard deviation the targets were standardised with.
    pub standardisation: (f64, f64),
    y: Vec<f64>,
}

impl JointModel {
    /// No data yet.
    pub fn new(basis: Basis) -> Self {
        Self { basis, fitted: None, multi_start_n: 0, posterior: None, standardisation: (0.0, 1.0), y: Vec::new() }
    }

    /// The fidelity kernel.
    pub fn basis(&self) -> Basis {
        self.basis
    }

    /// The standardised targets of the last update.
    pub fn targets(&self) -> &[f64] {
        &self.y
    }

    /// Conditions on `n` rows: features `x` (`dim` each), basis values `phi`, raw `targets`
    /// (non-finite ones take the worst finite value). False when no factorisation succeeded.
    pub fn update(&mut self, x: &[f64], phi: &[f64], dim: usize, targets: &[f64], restarts: u32, rng: &mut Rng) -> bool {
        if !targets.iter().any(|t| t.is_finite()) {
            self.posterior = None;
            return false;
        }
        self.standardisation = super::model::standardise(targets.iter().copied(), &mut self.y);
        let n = self.y.len();
        let data = JointData { x, phi, y: &self.y, dim, basis: self.basis };
        let refit = self.fitted.as_ref().is_none_or(|(fitted_n, _)| n * 10 >= fitted_n * 11);
        if refit {
            let warm = self.fitted.as_ref().map(|(_, eta)| eta.clone());
            let multi_start = warm.is_none() || n >= 2 * self.multi_start_n;
            if multi_start {
                self.multi_start_n = n;
            }
            let eta = fit(&data, warm.as_deref(), if multi_start { restarts } else { 1 }, rng)
                .or(warm)
                .unwrap_or_else(|| default_start(dim, self.basis));
            self.fitted = Some((n, eta));
        }
        let eta = self.fitted.as_ref().map_or_else(|| default_start(dim, self.basis), |(_, eta)| eta.clone());
        self.posterior = JointPosterior::new(unpack(&eta, dim, self.basis), &data);
        self.posterior.is_some()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rand::SeedableRng;

    /// 18 points in 2-D at three fidelities: a smooth function whose offset shrinks with s.
    fn data(basis: Basis) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut rng = Rng::seed_from_u64(11);
        let (mut x, mut phi, mut y) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..18 {
            let p = [rng.random::<f64>(), rng.random::<f64>()];
            let level = i % 3;
            let s = match basis {
                Basis::Tasks(_) => level as f64,
                _ => [0.0, 0.5, 1.0][level],
            };
            let mut row = vec![0.0; basis.width()];
            basis.write(s, &mut row);
            x.extend_from_slice(&p);
            phi.extend_from_slice(&row);
            y.push((5.0 * p[0]).sin() + 0.2 * p[1] + 0.5 * (2 - level) as f64);
        }
        (x, phi, y)
    }

    #[test]
    fn the_gradient_matches_finite_differences_for_both_fidelity_kernels() {
        for basis in [Basis::FabolasLoss, Basis::FabolasCost, Basis::Tasks(3)] {
            let (x, phi, y) = data(basis);
            let joint = JointData { x: &x, phi: &phi, y: &y, dim: 2, basis };
            let mut eta = default_start(2, basis);
            // Away from the start, so that no component is trivially zero.
            eta.iter_mut().enumerate().for_each(|(i, v)| *v += 0.1 * (i as f64 + 1.0).sin());
            let mut grad = vec![0.0; eta.len()];
            negative_log_posterior(&eta, &joint, &mut grad);
            for q in 0..eta.len() {
                let h = 1e-5;
                let (mut up, mut down) = (eta.clone(), eta.clone());
                up[q] += h;
                down[q] -= h;
                let mut scratch = vec![0.0; eta.len()];
                let numeric =
                    (negative_log_posterior(&up, &joint, &mut scratch) - negative_log_posterior(&down, &joint, &mut scratch)) / (2.0 * h);
                assert!((numeric - grad[q]).abs() < 1e-4 * numeric.abs().max(1.0), "{basis:?} parameter {q}: {numeric} vs {}", grad[q]);
            }
        }
    }

    #[test]
    fn the_task_covariance_is_l_l_transposed_and_the_fabolas_one_diagonal() {
        // L = [[e^0, 0], [0.5, e^{ln 2}]] = [[1, 0], [0.5, 2]]: Σ = [[1, 0.5], [0.5, 4.25]].
        let (sigma, _) = Basis::Tasks(2).sigma(&[0.0, 0.5, 2f64.ln()]);
        for (a, b) in sigma.iter().zip([1.0, 0.5, 0.5, 4.25]) {
            assert!((a - b).abs() < 1e-12, "{sigma:?}");
        }
        let (sigma, _) = Basis::FabolasLoss.sigma(&[0.0, 1f64.ln() - 1.0]);
        assert_eq!(sigma[1], 0.0);
        assert_eq!(sigma[2], 0.0);
        // φ(s) of the loss at s = 1 is (1, 0): the full-data covariance is a alone.
        let mut phi = [0.0; 2];
        Basis::FabolasLoss.write(1.0, &mut phi);
        assert_eq!(phi, [1.0, 0.0]);
        Basis::FabolasCost.write(0.25, &mut phi);
        assert_eq!(phi, [1.0, 0.25]);
    }

    #[test]
    fn a_fitted_model_predicts_the_full_fidelity_from_cheaper_ones() {
        // y(x, s) = sin(5 x₀) + 0.2 x₁ + 0.5·(2 − level): fitted to all levels, the model
        // predicts level 2 (s = 1) of held-out points far better than the mean of the data.
        let basis = Basis::FabolasLoss;
        let (x, phi, y) = data(basis);
        let joint = JointData { x: &x, phi: &phi, y: &y, dim: 2, basis };
        let eta = fit(&joint, None, 3, &mut Rng::seed_from_u64(2)).unwrap();
        let posterior = JointPosterior::new(unpack(&eta, 2, basis), &joint).unwrap();
        let mut reference = [0.0; 2];
        basis.write(1.0, &mut reference);
        let points: Vec<f64> = (0..20).flat_map(|i| [i as f64 / 19.0, 0.5]).collect();
        let mut matern = DMatrix::zeros(0, 0);
        posterior.matern_block(&points, &mut matern);
        let (mut out, mut buffers) = (LevelPredictions::default(), LevelBuffers::default());
        let mut low = [0.0; 2];
        basis.write(0.0, &mut low);
        posterior.predict_levels(&matern, &[reference.to_vec(), low.to_vec()], &reference, &mut out, &mut buffers);
        let mut means = vec![0.0; 20];
        posterior.predict_means(&matern, &reference, &mut means, &mut buffers);
        let (mut model_error, mut constant_error) = (0.0, 0.0);
        let mean_y = y.iter().sum::<f64>() / y.len() as f64;
        for j in 0..20 {
            let truth = (5.0 * points[2 * j]).sin() + 0.1;
            model_error += (out.reference_mean[j] - truth).powi(2);
            constant_error += (mean_y - truth).powi(2);
            // Level 0 is the reference itself: its covariance with the reference is its variance.
            assert!((out.cov[j] - out.var[j]).abs() < 1e-9);
            assert!((out.var[j] - out.reference_var[j]).abs() < 1e-12 && (out.mean[j] - means[j]).abs() < 1e-9);
            // The low fidelity sits above (its offset is 1 in the data): its mean is higher.
            assert!(out.mean[20 + j] > out.mean[j], "point {j}");
        }
        assert!(model_error < 0.1 * constant_error, "{model_error} vs {constant_error}");
    }
}

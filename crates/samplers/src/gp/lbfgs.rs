//! Limited-memory BFGS (Liu & Nocedal, "On the limited memory BFGS method for large scale
//! optimization", Math. Programming 45, 1989; two-loop recursion as in Nocedal & Wright,
//! *Numerical Optimization*, Algorithm 7.4) with a backtracking Armijo line search, on a box
//! (steps are projected into it). Small and dependency-free: the GP's marginal likelihood has
//! only `d + 2` parameters.

/// Settings of one minimisation.
#[derive(Clone, Copy, Debug)]
pub struct Lbfgs {
    /// Pairs kept for the curvature estimate.
    pub memory: usize,
    /// Iterations at most.
    pub max_iterations: usize,
    /// Stop when the largest gradient component falls below this.
    pub gradient_tolerance: f64,
    /// Coordinates are clamped into `[-bound, bound]`.
    pub bound: f64,
}

/// The defaults stop at a largest gradient component of 10⁻², the tolerance Optuna's GP
/// sampler gives scipy's L-BFGS-B when fitting kernel parameters (`gtol=1e-2`).
impl Default for Lbfgs {
    fn default() -> Self {
        Self { memory: 8, max_iterations: 60, gradient_tolerance: 1e-2, bound: 12.0 }
    }
}

impl Lbfgs {
    /// Minimises `f` (value and gradient) from `x`, in place; returns the value at the end.
    /// A non-finite value counts as "too far": the line search backs off.
    pub fn minimize(&self, x: &mut [f64], mut f: impl FnMut(&[f64], &mut [f64]) -> f64) -> f64 {
        let n = x.len();
        let mut g = vec![0.0; n];
        let mut fx = f(x, &mut g);
        if !fx.is_finite() {
            return fx;
        }
        let (mut s_hist, mut y_hist, mut rho): (Vec<Vec<f64>>, Vec<Vec<f64>>, Vec<f64>) = (Vec::new(), Vec::new(), Vec::new());
        let mut direction = vec![0.0; n];
        let mut alpha = vec![0.0; self.memory];
        let (mut trial, mut g_trial) = (vec![0.0; n], vec![0.0; n]);
        for _ in 0..self.max_iterations {
            if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) < self.gradient_tolerance {
                break;
            }
            // Two-loop recursion: direction = −H·g.
            direction.iter_mut().zip(&g).for_each(|(d, gi)| *d = -gi);
            let k = s_hist.len();
            for i in (0..k).rev() {
                alpha[i] = rho[i] * dot(&s_hist[i], &direction);
                axpy(-alpha[i], &y_hist[i], &mut direction);
            }
            if k > 0 {
                let gamma = dot(&s_hist[k - 1], &y_hist[k - 1]) / dot(&y_hist[k - 1], &y_hist[k - 1]);
                direction.iter_mut().for_each(|d| *d *= gamma);
            }
            for i in 0..k {
                let beta = rho[i] * dot(&y_hist[i], &direction);
                axpy(alpha[i] - beta, &s_hist[i], &mut direction);
            }
            let mut slope = dot(&g, &direction);
            if slope >= 0.0 {
                // Not a descent direction (curvature information went stale): steepest descent.
                direction.iter_mut().zip(&g).for_each(|(d, gi)| *d = -gi);
                slope = dot(&g, &direction);
                s_hist.clear();
                y_hist.clear();
                rho.clear();
            }
            let mut step = if k == 0 { 1.0 / g.iter().map(|v| v.abs()).fold(1.0, f64::max) } else { 1.0 };
            let mut accepted = false;
            for _ in 0..30 {
                for ((t, xi), d) in trial.iter_mut().zip(x.iter()).zip(&direction) {
                    *t = (xi + step * d).clamp(-self.bound, self.bound);
                }
                let f_trial = f(&trial, &mut g_trial);
                if f_trial.is_finite() && f_trial <= fx + 1e-4 * step * slope {
                    let s: Vec<f64> = trial.iter().zip(x.iter()).map(|(t, xi)| t - xi).collect();
                    let y: Vec<f64> = g_trial.iter().zip(&g).map(|(a, b)| a - b).collect();
                    let sy = dot(&s, &y);
                    if sy > 1e-12 {
                        if s_hist.len() == self.memory {
                            s_hist.remove(0);
                            y_hist.remove(0);
                            rho.remove(0);
                        }
                        s_hist.push(s);
                        y_hist.push(y);
                        rho.push(1.0 / sy);
                    }
                    let improvement = fx - f_trial;
                    x.copy_from_slice(&trial);
                    g.copy_from_slice(&g_trial);
                    fx = f_trial;
                    accepted = improvement > 1e-10 * fx.abs().max(1.0);
                    break;
                }
                step *= 0.5;
            }
            if !accepted {
                break;
            }
        }
        fx
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(yi, xi)| *yi += a * xi);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_rosenbrock() {
        let mut x = [-1.2, 1.0];
        let lbfgs = Lbfgs { max_iterations: 500, gradient_tolerance: 1e-9, ..Lbfgs::default() };
        let f = lbfgs.minimize(&mut x, |x, g| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        });
        assert!(f < 1e-8, "f = {f}");
        assert!((x[0] - 1.0).abs() < 1e-3 && (x[1] - 1.0).abs() < 1e-3, "{x:?}");
    }

    #[test]
    fn respects_the_box() {
        let mut x = [0.0];
        let lbfgs = Lbfgs { bound: 2.0, ..Lbfgs::default() };
        lbfgs.minimize(&mut x, |x, g| {
            g[0] = -1.0;
            -x[0]
        });
        assert_eq!(x[0], 2.0);
    }
}

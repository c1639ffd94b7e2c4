//! The Matérn-5/2 kernel with automatic relevance determination (one lengthscale per
//! coordinate), `k(x, x') = s²·(1 + √5 r + 5r²/3)·exp(−√5 r)` with
//! `r² = Σᵢ λᵢ (xᵢ − x'ᵢ)²` and `λᵢ = 1/ℓᵢ²` (Rasmussen & Williams, *Gaussian Processes for
//! Machine Learning*, 2006, Eq. 4.17; parametrised by inverse squared lengthscales as Optuna's
//! `optuna/_gp/gp.py` does).

const SQRT5: f64 = 2.236_067_977_499_79;

/// `r²` between two points under inverse squared lengthscales `lambda`.
pub fn scaled_sq_dist(a: &[f64], b: &[f64], lambda: &[f64]) -> f64 {
    a.iter().zip(b).zip(lambda).map(|((x, y), l)| l * (x - y) * (x - y)).sum()
}

/// The Matérn-5/2 correlation at squared scaled distance `r2` (1 at 0).
pub fn matern52(r2: f64) -> f64 {
    let r = r2.max(0.0).sqrt();
    (1.0 + SQRT5 * r + 5.0 / 3.0 * r2) * (-SQRT5 * r).exp()
}

/// `∂ matern52 / ∂(r²)`: `−(5/6)(1 + √5 r)·exp(−√5 r)`; finite at `r = 0`, so gradients with
/// respect to `ln λᵢ` need no division by `r`.
pub fn matern52_d_r2(r2: f64) -> f64 {
    let r = r2.max(0.0).sqrt();
    -5.0 / 6.0 * (1.0 + SQRT5 * r) * (-SQRT5 * r).exp()
}

/// [`matern52`] and [`matern52_d_r2`] together, from one exponential.
pub fn matern52_with_derivative(r2: f64) -> (f64, f64) {
    let r = r2.max(0.0).sqrt();
    let e = (-SQRT5 * r).exp();
    ((1.0 + SQRT5 * r + 5.0 / 3.0 * r2) * e, -5.0 / 6.0 * (1.0 + SQRT5 * r) * e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matern_values_and_derivative_match_hand_and_finite_differences() {
        assert_eq!(matern52(0.0), 1.0);
        // r = 1: (1 + √5 + 5/3)·e^{−√5} = 0.523994...
        // python3 -c "import math; r=1; print((1+math.sqrt(5)*r+5/3*r*r)*math.exp(-math.sqrt(5)*r))"
        assert!((matern52(1.0) - 0.523_994_108_831_820_3).abs() < 1e-12);
        for r2 in [0.01, 0.5, 2.0, 7.0] {
            let h = 1e-6;
            let numeric = (matern52(r2 + h) - matern52(r2 - h)) / (2.0 * h);
            assert!((numeric - matern52_d_r2(r2)).abs() < 1e-7, "r2 = {r2}");
        }
        for r2 in [0.0, 0.3, 4.0] {
            assert_eq!(matern52_with_derivative(r2), (matern52(r2), matern52_d_r2(r2)));
        }
        assert_eq!(scaled_sq_dist(&[0.0, 1.0], &[1.0, 3.0], &[2.0, 0.5]), 2.0 + 2.0);
    }
}

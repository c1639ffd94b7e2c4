//! Multi-fidelity max-value entropy search (Takeno, Fukuoka, Tsukada, Koyama, Shiga, Takeuchi &
//! Karasuyama, "Multi-fidelity Bayesian Optimization with Max-value Entropy Search and its
//! Parallelization", ICML 2020, Eq. 5–6), in the minimisation form hposim's losses take: the
//! information an observation `y_m(x)` at a cheaper fidelity gives about the smallest loss `y*`
//! at full fidelity,
//!
//! `I = (1/K) Σ_{y*} [ ρ² γφ(γ) / (2Φ(γ)) − ln Φ(γ) + E[ ln Φ((γ − ρz)/√(1 − ρ²)) | w ≤ γ ] ]`,
//!
//! with `γ = (μ_M(x) − y*)/σ_M(x)`, `ρ` the correlation of `y_m(x)` with `f_M(x)`, and `(z, w)`
//! their standardised pair (bivariate normal with correlation `ρ`; the expectation over `z`
//! given `w ≤ γ`). At `ρ = 1` (the full fidelity itself, noise-free) this is max-value entropy
//! search (Wang & Jegelka, ICML 2017, Eq. 6); at `ρ = 0` it is 0. The first term is
//! `½ − ½E[z² | w ≤ γ]`, from `E[z² | w ≤ γ] = 1 − ρ²γφ(γ)/Φ(γ)`. The expectation is a 1-D
//! integral, by composite Simpson's rule over the window where its integrand is not 0
//! (the authors' code uses 50-point Gauss–Legendre over ±6σ).
//!
//! The `y*` are drawn from the Gumbel approximation of the minimum over a candidate set (Wang &
//! Jegelka, Section 3.1): `P(y* > y) ≈ Π Φ((μᵢ − y)/σᵢ)`, a Gumbel fitted at its quartiles by
//! bisection, `K = 10` draws (BoTorch's `num_mv_samples`), each at most the best observed loss
//! minus 5 noise deviations (the floor of the authors' `sampling_gumbel`).

use crate::normal::{cdf, log_pdf};
use hposim_core::Rng;
use rand::RngExt;

/// `ln Φ(z)`, finite far into the left tail (the Mills-ratio asymptote).
pub fn log_cdf(z: f64) -> f64 {
    if z > -8.0 {
        return cdf(z).max(f64::MIN_POSITIVE).ln();
    }
    // Φ(z) ≈ φ(z)/|z|·(1 − 1/z²) for z → −∞.
    log_pdf(z) - (-z).ln() + (1.0 - 1.0 / (z * z)).ln()
}

/// Simpson intervals of the conditional expectation.
const INTERVALS: usize = 48;

/// The information gain about `y*` (one draw, `gamma` as in the module documentation) of an
/// observation whose standardised value has correlation `rho` with the full-fidelity value.
pub fn gain(gamma: f64, rho: f64) -> f64 {
    let rho = rho.clamp(-1.0, 1.0);
    let log_big_phi = log_cdf(gamma);
    let big_phi = log_big_phi.exp();
    let ratio = (log_pdf(gamma) - log_big_phi).exp();
    let first = 0.5 * rho * rho * gamma * ratio;
    let spread2 = 1.0 - rho * rho;
    if spread2 < 1e-10 {
        // Exactly informative: MES' closed form.
        return (first - log_big_phi).max(0.0);
    }
    if rho.abs() < 1e-12 || big_phi <= 0.0 {
        return 0.0;
    }
    let spread = spread2.sqrt();
    // The integrand φ(z)·Φ(a)·ln Φ(a), a = (γ − ρz)/spread, vanishes unless |a| < 9 and |z| < 9.
    let (p, q) = ((gamma - 9.0 * spread) / rho, (gamma + 9.0 * spread) / rho);
    let (low, high) = (p.min(q).max(-9.0), p.max(q).min(9.0));
    if high <= low {
        return (first - log_big_phi).max(0.0);
    }
    let h = (high - low) / INTERVALS as f64;
    let mut integral = 0.0;
    for i in 0..=INTERVALS {
        let z = low + h * i as f64;
        let a = (gamma - rho * z) / spread;
        let log_phi_a = log_cdf(a);
        let value = (log_pdf(z) + log_phi_a).exp() * log_phi_a;
        let weight = if i == 0 || i == INTERVALS {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        };
        integral += weight * value;
    }
    integral *= h / 3.0;
    (first - log_big_phi + integral / big_phi).max(0.0)
}

/// `K` draws of the minimum `y*` of a function with independent marginals `N(means[i],
/// sds[i]²)`, at most `ceiling` (the best observed value less five noise deviations).
pub fn minimum_samples(means: &[f64], sds: &[f64], ceiling: Option<f64>, count: usize, rng: &mut Rng) -> Vec<f64> {
    // F(y) = P(y* ≤ y) = 1 − Π Φ((μᵢ − y)/σᵢ), increasing in y.
    let log_survival = |y: f64| -> f64 { means.iter().zip(sds).map(|(m, s)| log_cdf((m - y) / s)).sum() };
    let low = means.iter().zip(sds).map(|(m, s)| m - 6.0 * s).fold(f64::INFINITY, f64::min);
    let high = means.iter().zip(sds).map(|(m, s)| m + 2.0 * s).fold(f64::INFINITY, f64::min).max(low + 1e-9);
    let quantile = |q: f64| {
        // P(y* > y) = 1 − q.
        let target = (1.0 - q).ln();
        let (mut a, mut b) = (low, high);
        for _ in 0..60 {
            let mid = 0.5 * (a + b);
            if log_survival(mid) > target { a = mid } else { b = mid }
        }
        0.5 * (a + b)
    };
    let (q1, q2, q3) = (quantile(0.25), quantile(0.5), quantile(0.75));
    // For the maximum t* = −y* of a Gumbel: P(t* ≤ t) = exp(−exp(−(t − a)/b)); its quartiles
    // are the negated ones of y*.
    let (t1, t2, t3) = (-q3, -q2, -q1);
    let b = ((t3 - t1) / ((-(0.25f64).ln()).ln() - (-(0.75f64).ln()).ln())).max(1e-12);
    let a = t2 + b * (-(0.5f64).ln()).ln();
    (0..count)
        .map(|_| {
            let u: f64 = rng.random_range(1e-12..1.0 - 1e-12);
            let draw = -(a - b * (-u.ln()).ln());
            ceiling.map_or(draw, |c| draw.min(c))
        })
        .collect()
}

/// The mean [`gain`] over the draws `minima` of an observation with predictive variance `var`
/// (noise included) and covariance `cov` with the full-fidelity value of mean `reference_mean`
/// and variance `reference_var`.
pub fn mean_gain(minima: &[f64], var: f64, reference_mean: f64, reference_var: f64, cov: f64) -> f64 {
    let sd = reference_var.sqrt();
    let rho = cov / (var.sqrt() * sd);
    minima.iter().map(|y| gain((reference_mean - y) / sd, rho)).sum::<f64>() / minima.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rand::SeedableRng;

    /// MES in closed form (Wang & Jegelka Eq. 6), minimisation: γφ/(2Φ) − ln Φ.
    fn mes(gamma: f64) -> f64 {
        gamma * (log_pdf(gamma) - log_cdf(gamma)).exp() / 2.0 - log_cdf(gamma)
    }

    #[test]
    fn full_correlation_is_max_value_entropy_search_and_none_gives_nothing() {
        for gamma in [-2.0, -0.3, 0.0, 1.0, 3.0] {
            assert!((gain(gamma, 1.0) - mes(gamma)).abs() < 1e-12);
            // Just below 1 the integral takes over and must agree with the limit.
            let near = gain(gamma, 1.0 - 1e-9);
            assert!((near - mes(gamma)).abs() < 1e-4 * mes(gamma), "γ = {gamma}: {near} vs {}", mes(gamma));
            assert_eq!(gain(gamma, 0.0), 0.0);
        }
    }

    #[test]
    fn the_gain_grows_with_the_correlation_and_matches_monte_carlo() {
        let gamma = 0.4;
        let gains: Vec<f64> = [0.2, 0.5, 0.8, 0.95].iter().map(|&r| gain(gamma, r)).collect();
        assert!(gains.windows(2).all(|w| w[0] < w[1]), "{gains:?}");
        // Monte Carlo of I(y*; z) = H(z) − H(z | w ≤ γ) for ρ = 0.8 with a histogram entropy:
        // the conditional density is φ(z)Φ((γ − ρz)/s)/Φ(γ); its entropy by quadrature on a
        // fine grid (independent of the Simpson window above).
        let rho: f64 = 0.8;
        let s = (1.0 - rho * rho).sqrt();
        let big_phi = cdf(gamma);
        let (mut entropy, dz) = (0.0, 1e-3);
        let mut z = -10.0;
        while z < 10.0 {
            let p = log_pdf(z).exp() * cdf((gamma - rho * z) / s) / big_phi;
            if p > 0.0 {
                entropy -= p * p.ln() * dz;
            }
            z += dz;
        }
        let prior_entropy = 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln();
        let expected = prior_entropy - entropy;
        assert!((gain(gamma, rho) - expected).abs() < 1e-4, "{} vs {expected}", gain(gamma, rho));
    }

    #[test]
    fn minimum_draws_follow_the_minimum_of_independent_normals() {
        // Ten N(0, 1) marginals: the median of their minimum solves (1 − Φ(y))^10 = 1/2,
        // y = Φ⁻¹(1 − 2^{−1/10}) = −1.49877 (python3 -c "from statistics import NormalDist as N;
        // print(N().inv_cdf(1 - 0.5 ** 0.1))"); the Gumbel fit matches it at its median.
        let means = [0.0; 10];
        let sds = [1.0; 10];
        let mut draws = minimum_samples(&means, &sds, None, 4001, &mut Rng::seed_from_u64(3));
        draws.sort_by(f64::total_cmp);
        let median = draws[2000];
        assert!((median + 1.49877).abs() < 0.05, "median {median}");
        let capped = minimum_samples(&means, &sds, Some(-1.5), 50, &mut Rng::seed_from_u64(3));
        assert!(capped.iter().all(|&y| y <= -1.5));
    }
}

//! The standard normal distribution in the forms the Bayesian samplers need: tail-accurate
//! log-probabilities of intervals, inverse-CDF sampling of a truncated normal, and the log of
//! the expected-improvement function.
//!
//! Everything is computed on the side of the distribution where the result is not a difference
//! of two numbers close to one, so a kernel far in a tail still has a finite log-density.

use statrs::function::erf::{erfc, erfc_inv};
use std::f64::consts::{FRAC_1_SQRT_2, PI, SQRT_2};

/// `ln √(2π)`.
pub const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Φ(z), the standard normal CDF.
pub fn cdf(z: f64) -> f64 {
    0.5 * erfc(-z * FRAC_1_SQRT_2)
}

/// Φ⁻¹(p) for p in (0, 1).
pub fn quantile(p: f64) -> f64 {
    -SQRT_2 * erfc_inv(2.0 * p)
}

/// `ln φ(z)`, the log-density.
pub fn log_pdf(z: f64) -> f64 {
    -0.5 * z * z - LN_SQRT_2PI
}

/// `ln(Φ(b) − Φ(a))` for `a ≤ b`; `-inf` when the interval has no mass in double precision.
pub fn log_mass(a: f64, b: f64) -> f64 {
    // Above zero, the upper tail Φ(−z) is tiny but exact where Φ(z) would round to 1.
    let mass = if a > 0.0 { cdf(-a) - cdf(-b) } else { cdf(b) - cdf(a) };
    if mass > 0.0 { mass.ln() } else { f64::NEG_INFINITY }
}

/// N(μ, σ²) truncated to `[low, high]`, drawn from by inverse CDF, with the CDF at its bounds
/// computed once for any number of draws.
#[derive(Clone, Copy, Debug, Default)]
pub struct TruncatedNormal {
    mu: f64,
    sigma: f64,
    low: f64,
    high: f64,
    /// The bounds in standard units.
    alpha: f64,
    beta: f64,
    /// The CDF at the bounds, or, when `mirrored`, the upper tail's at the mirrored bounds.
    pl: f64,
    ph: f64,
    /// Mostly in the upper tail: inverted there, mirrored.
    mirrored: bool,
}

impl TruncatedNormal {
    /// The distribution, with the two CDF values a draw needs.
    pub fn new(mu: f64, sigma: f64, low: f64, high: f64) -> Self {
        let (alpha, beta) = ((low - mu) / sigma, (high - mu) / sigma);
        let mirrored = alpha + beta > 0.0;
        let (pl, ph) = if mirrored { (cdf(-beta), cdf(-alpha)) } else { (cdf(alpha), cdf(beta)) };
        Self { mu, sigma, low, high, alpha, beta, pl, ph, mirrored }
    }

    /// The draw for the uniform `u ∈ [0, 1)`.
    pub fn draw(&self, u: f64) -> f64 {
        let Self { mu, sigma, low, high, alpha, beta, pl, ph, mirrored } = *self;
        let z = quantile(pl + u * (ph - pl));
        let z = if mirrored { -z } else { z };
        let z = if z.is_finite() { z.clamp(alpha, beta) } else { 0.5 * (alpha + beta) };
        (mu + sigma * z).clamp(low, high)
    }
}

/// `ln h(z)` with `h(z) = φ(z) + z·Φ(z)`, so that expected improvement is `σ·h((μ* − μ)/σ)`
/// for minimisation. Accurate far into the left tail where `h` underflows: "LogEI" of Ament,
/// Daulton, Eriksson, Balandat & Bakshy, "Unexpected Improvements to Expected Improvement for
/// Bayesian Optimization", NeurIPS 2023, Eq. (9), with the Mills ratio from a continued fraction
/// instead of `erfcx`.
pub fn log_h(z: f64) -> f64 {
    if z > -1.0 {
        return ((-0.5 * z * z).exp() / (2.0 * PI).sqrt() + z * cdf(z)).ln();
    }
    // h(z) = φ(z)·(1 − t·R(t)) with t = −z and R the Mills ratio Φ(−t)/φ(t).
    let t = -z;
    let one_minus = if t < 5.0 {
        // Φ(−t) is exact to full relative precision here, so the complement loses at most t².
        1.0 - t * cdf(-t) / (-0.5 * t * t - LN_SQRT_2PI).exp()
    } else {
        // 1 − t·R(t) ≈ 1/t²: with R to full relative precision the complement keeps a relative
        // error of about 1e-16·t², below 1e-8 up to t = 1e4; beyond that the asymptote is exact
        // to the same order.
        let r = mills_ratio(t);
        if t < 1e4 { 1.0 - t * r } else { 1.0 / (t * t) }
    };
    log_pdf(z) + one_minus.max(f64::MIN_POSITIVE).ln()
}

/// The Mills ratio `R(t) = Φ(−t)/φ(t)` for `t ≥ 5`, by its continued fraction
/// `1/(t + 1/(t + 2/(t + 3/(t + …))))` evaluated with the modified Lentz method.
fn mills_ratio(t: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut f = t;
    let mut c = t;
    let mut d = 0.0;
    for n in 1..200 {
        let a = n as f64;
        d = t + a * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = t + a / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    1.0 / f
}

//! Bracket tables: how many configurations each rung of a successive-halving bracket holds, and
//! at which fidelity, for HyperBand's two published sizings and for a single bracket of
//! successive halving.
//!
//! HyperBand (Li et al., "Hyperband: A novel bandit-based approach to hyperparameter
//! optimization", JMLR 18(185), 2018, Algorithm 1): with `R` the maximum and `r` the minimum
//! fidelity, `s_max = ⌊log_η(R/r)⌋`; bracket `s = s_max, …, 0` starts
//! `n = ⌈(s_max+1)/(s+1) · η^s⌉` configurations at `r_s = R·η^−s`, and its rung `i = 0..=s` holds
//! `⌊n·η^−i⌋` configurations at fidelity `r_s·η^i`.
//!
//! HpBandSter (Falkner et al.'s reference code for BOHB, `hpbandster/optimizers/hyperband.py`,
//! `get_next_iteration`) sizes the same brackets with `n₀ = ⌊(s_max+1)/(s+1)⌋ · η^s` and rung `i`
//! holding `max(⌊n₀·η^−i⌋, 1)` configurations, at the same fidelities
//! (`budgets = R·η^−linspace(s_max, 0, s_max+1)`); BOHB's published results use this sizing.
//!
//! Successive halving (Jamieson & Talwalkar, AISTATS 2016; the synchronous form of Li et al.
//! 2018 and of Syne Tune's `SynchronousHyperbandScheduler` with one bracket) starts `n`
//! configurations at the minimum fidelity `r`, with rungs at `r·η^k` below `R` and a last rung at
//! `R`; rung `k+1` holds the best `⌊n_k/η⌋` of rung `k`.

use serde::{Deserialize, Serialize};

/// Relative tolerance for floors and ceilings of quantities that are exact integers in exact
/// arithmetic (`81·3^−4` is 1, not 0.999…): far above f64 rounding (1e-16 per operation), far
/// below one unit at any fidelity a `u32` can hold. With whole `η`, HyperBand's bracket sizes
/// are computed in integers.
const TOLERANCE: f64 = 1e-12;

/// Most halvings a range may span (`hposim brackets` prints one line per rung).
pub const MAX_S: u32 = 63;

/// Most configurations a bracket may start (`(s_max+1)·η^s_max` bounds them): far beyond any
/// study, and small enough that every size fits a `u64` exactly.
pub const MAX_CONFIGS: f64 = 1e15;

fn floor(x: f64) -> f64 {
    (x * (1.0 + TOLERANCE)).floor()
}

fn ceil(x: f64) -> f64 {
    (x * (1.0 - TOLERANCE)).ceil()
}

/// How HyperBand sizes its brackets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sizing {
    /// Li et al. (JMLR 2018): `n = ⌈(s_max+1)/(s+1) · η^s⌉`.
    #[default]
    Li,
    /// HpBandSter: `n₀ = ⌊(s_max+1)/(s+1)⌋ · η^s`.
    Hpbandster,
}

impl Sizing {
    /// The name used in experiment files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Sizing::Li => "li",
            Sizing::Hpbandster => "hpbandster",
        }
    }
}

/// One rung of a bracket.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rung {
    /// Configurations evaluated in the rung.
    pub configs: u64,
    /// The fidelity they are evaluated at (exact; the simulator rounds it to whole steps, see
    /// [`steps`]). Serialised as an integer when it is whole.
    #[serde(serialize_with = "whole_as_integer")]
    pub fidelity: f64,
}

fn whole_as_integer<S: serde::Serializer>(x: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if x.fract() == 0.0 && *x >= 0.0 && *x < 9.0e15 { serializer.serialize_u64(*x as u64) } else { serializer.serialize_f64(*x) }
}

/// One bracket: its index `s` and its rungs, lowest fidelity first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bracket {
    /// The bracket index `s` (HyperBand's early-stopping rate: `s` rungs of halving).
    pub bracket: u32,
    /// Rungs, lowest fidelity first.
    pub rungs: Vec<Rung>,
}

/// Why a fidelity range or `η` was refused; the message names the offending setting.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct RangeError {
    /// The setting.
    pub key: &'static str,
    /// What is wrong.
    pub message: String,
}

/// Checks `η ≥ 2` and `0 < min < max` (all finite).
pub fn check_range(min: f64, max: f64, eta: f64) -> Result<(), RangeError> {
    if !(eta.is_finite() && eta >= 2.0) {
        return Err(RangeError { key: "eta", message: format!("must be at least 2, got {eta}") });
    }
    if !(min.is_finite() && min > 0.0) {
        return Err(RangeError { key: "min_fidelity", message: format!("must be a positive number, got {min}") });
    }
    if !(max.is_finite() && max > min) {
        return Err(RangeError { key: "max_fidelity", message: format!("must be greater than min_fidelity ({min}), got {max}") });
    }
    let s = s_max(min, max, eta);
    if s > MAX_S {
        return Err(RangeError {
            key: "max_fidelity",
            message: format!("max_fidelity / min_fidelity = {} spans more than {MAX_S} reductions by eta", max / min),
        });
    }
    if f64::from(s + 1) * eta.powi(s as i32) > MAX_CONFIGS {
        return Err(RangeError {
            key: "max_fidelity",
            message: format!(
                "max_fidelity / min_fidelity = {} with eta = {eta} would start brackets of more than 1e15 configurations",
                max / min
            ),
        });
    }
    Ok(())
}

/// `η` as an integer, when it is a (small enough) whole number: bracket sizes are then computed
/// in exact integer arithmetic.
fn whole(eta: f64) -> Option<u128> {
    (eta.fract() == 0.0 && (2.0..=1e6).contains(&eta)).then_some(eta as u128)
}

/// `s_max = ⌊log_η(R/r)⌋`: the number of reductions by `η` that fit between the minimum and
/// the maximum fidelity, counted by multiplication (no logarithm rounding), at most
/// [`MAX_S`]` + 1`. HpBandSter evaluates `−int(log(r/R)/log(η))` in floating point, which at
/// some exact powers comes out one lower (R/r = 243, η = 3 gives 4 there, 5 here); we keep the
/// exact value of the formula both papers state.
pub fn s_max(min: f64, max: f64, eta: f64) -> u32 {
    let mut s = 0;
    let mut fidelity = min * eta;
    while fidelity <= max * (1.0 + TOLERANCE) && s <= MAX_S {
        s += 1;
        fidelity *= eta;
    }
    s
}

/// Configurations of bracket `s` (of `s_max`) at its first rung, and at rung `i` of it.
fn sizes(s: u32, s_max: u32, eta: f64, sizing: Sizing) -> Vec<u64> {
    let to_u64 = |x: u128| u64::try_from(x).unwrap_or(u64::MAX);
    let (a, b) = (u128::from(s_max + 1), u128::from(s + 1));
    let exact = whole(eta).and_then(|e| {
        let power = e.checked_pow(s)?;
        let n = match sizing {
            // ⌈(s_max+1)·η^s / (s+1)⌉
            Sizing::Li => a.checked_mul(power)?.div_ceil(b),
            // ⌊(s_max+1)/(s+1)⌋·η^s
            Sizing::Hpbandster => (a / b).checked_mul(power)?,
        };
        Some((e, n))
    });
    if let Some((e, n)) = exact {
        return (0..=s)
            .map(|i| {
                let configs = n / e.pow(i);
                to_u64(if sizing == Sizing::Hpbandster { configs.max(1) } else { configs })
            })
            .collect();
    }
    let ratio = f64::from(s_max + 1) / f64::from(s + 1);
    let n = match sizing {
        Sizing::Li => ceil(ratio * eta.powi(s as i32)),
        // HpBandSter truncates n₀ to an integer before dividing it.
        Sizing::Hpbandster => floor(floor(ratio) * eta.powi(s as i32)),
    };
    (0..=s)
        .map(|i| {
            let configs = floor(n / eta.powi(i as i32));
            let configs = if sizing == Sizing::Hpbandster { configs.max(1.0) } else { configs };
            configs.min(u64::MAX as f64) as u64
        })
        .collect()
}

/// HyperBand's brackets, in the order they run (`s = s_max` first). The range must pass
/// [`check_range`].
pub fn hyperband(min: f64, max: f64, eta: f64, sizing: Sizing) -> Vec<Bracket> {
    let s_max = s_max(min, max, eta);
    (0..=s_max)
        .rev()
        .map(|s| {
            let rungs = sizes(s, s_max, eta, sizing)
                .into_iter()
                .enumerate()
                // Dividing by an exact power keeps whole fidelities whole (81·3⁻³ would not be).
                .map(|(i, configs)| Rung { configs, fidelity: max / eta.powi((s - i as u32) as i32) })
                .collect();
            Bracket { bracket: s, rungs }
        })
        .collect()
}

/// A successive-halving bracket of `configs` configurations: rungs at `r·η^k` below `R` and
/// one at `R`, each holding `⌊n/η⌋` of the one before, ending early if a rung would be empty.
pub fn successive_halving(min: f64, max: f64, eta: f64, configs: u64) -> Bracket {
    let mut rungs = Vec::new();
    let mut n = configs as f64;
    let mut fidelity = min;
    loop {
        let last = fidelity >= max * (1.0 - TOLERANCE);
        rungs.push(Rung { configs: n as u64, fidelity: if last { max } else { fidelity } });
        n = floor(n / eta);
        if last || n < 1.0 {
            break;
        }
        fidelity *= eta;
    }
    Bracket { bracket: (rungs.len() - 1) as u32, rungs }
}

/// The smallest number of configurations with which successive halving from `min` to `max`
/// keeps one configuration up to the last rung: `η^K`, `K` being the number of rungs above the
/// first.
pub fn successive_halving_default_configs(min: f64, max: f64, eta: f64) -> u64 {
    let mut fidelity = min;
    let mut configs = 1.0;
    while fidelity < max * (1.0 - TOLERANCE) {
        fidelity *= eta;
        configs *= eta;
    }
    ceil(configs) as u64
}

/// The whole number of steps a fidelity is run for: the nearest integer, at least 1.
pub fn steps(fidelity: f64) -> u32 {
    fidelity.round().clamp(1.0, f64::from(u32::MAX)) as u32
}

/// `⌊n/η⌋`, exact for whole quotients despite rounding.
pub fn promotions(n: u64, eta: f64) -> u64 {
    ((n as f64 / eta) * (1.0 + 1e-12)).floor() as u64
}

/// Rung levels `round(r·η^k)` below `max`, from `r·η^skip` up.
pub fn rung_levels(min: u32, max: u32, eta: f64, skip: u32) -> Vec<u32> {
    let mut levels = Vec::new();
    let mut level = f64::from(min) * eta.powi(skip as i32);
    while level < f64::from(max) * (1.0 - 1e-12) {
        let rounded = level.round() as u32;
        if levels.last().is_none_or(|&l| rounded > l) {
            levels.push(rounded);
        }
        level *= eta;
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(brackets: &[Bracket]) -> Vec<(u32, Vec<(u64, f64)>)> {
        brackets.iter().map(|b| (b.bracket, b.rungs.iter().map(|r| (r.configs, r.fidelity)).collect())).collect()
    }

    /// R = 81, r = 1, η = 3 (the example of Li et al. 2018, Table 1). s_max = ⌊log₃ 81⌋ = 4.
    /// Li: n = ⌈5/(s+1)·3^s⌉ and r_s = 81·3^−s:
    ///   s=4: n = ⌈1·81⌉ = 81 at 1; rungs ⌊81/3^i⌋ = 81, 27, 9, 3, 1 at 1, 3, 9, 27, 81
    ///   s=3: n = ⌈5/4·27⌉ = ⌈33.75⌉ = 34 at 3; rungs 34, ⌊11.33⌋ = 11, ⌊3.78⌋ = 3, ⌊1.26⌋ = 1
    ///   s=2: n = ⌈5/3·9⌉ = 15 at 9; rungs 15, 5, 1
    ///   s=1: n = ⌈5/2·3⌉ = ⌈7.5⌉ = 8 at 27; rungs 8, ⌊2.67⌋ = 2
    ///   s=0: n = 5 at 81.
    /// These are the published numbers of Table 1.
    #[test]
    fn li_sizing_matches_the_papers_table() {
        let got = table(&hyperband(1.0, 81.0, 3.0, Sizing::Li));
        let want = vec![
            (4, vec![(81, 1.0), (27, 3.0), (9, 9.0), (3, 27.0), (1, 81.0)]),
            (3, vec![(34, 3.0), (11, 9.0), (3, 27.0), (1, 81.0)]),
            (2, vec![(15, 9.0), (5, 27.0), (1, 81.0)]),
            (1, vec![(8, 27.0), (2, 81.0)]),
            (0, vec![(5, 81.0)]),
        ];
        assert_eq!(got.len(), want.len());
        for ((s, rungs), (ws, wrungs)) in got.iter().zip(&want) {
            assert_eq!(s, ws);
            assert_eq!(rungs.len(), wrungs.len());
            for ((n, f), (wn, wf)) in rungs.iter().zip(wrungs) {
                assert_eq!(n, wn, "bracket {s}");
                assert!((f - wf).abs() < 1e-9, "bracket {s}: fidelity {f} vs {wf}");
            }
        }
    }

    /// Same range, HpBandSter: n₀ = ⌊5/(s+1)⌋·3^s:
    ///   s=4: ⌊1⌋·81 = 81 → 81, 27, 9, 3, 1
    ///   s=3: ⌊1.25⌋·27 = 27 → 27, 9, 3, 1
    ///   s=2: ⌊1.67⌋·9 = 9 → 9, 3, 1
    ///   s=1: ⌊2.5⌋·3 = 6 → 6, 2
    ///   s=0: ⌊5⌋·1 = 5 → 5.
    #[test]
    fn hpbandster_sizing_by_hand() {
        let got: Vec<(u32, Vec<u64>)> = hyperband(1.0, 81.0, 3.0, Sizing::Hpbandster)
            .iter()
            .map(|b| (b.bracket, b.rungs.iter().map(|r| r.configs).collect()))
            .collect();
        assert_eq!(got, vec![(4, vec![81, 27, 9, 3, 1]), (3, vec![27, 9, 3, 1]), (2, vec![9, 3, 1]), (1, vec![6, 2]), (0, vec![5])]);
    }

    /// R = 128, r = 1, η = 2 (the talk's scenario): s_max = 7.
    /// Li: s=7: ⌈8/8·128⌉ = 128; s=6: ⌈8/7·64⌉ = ⌈73.14⌉ = 74; s=5: ⌈8/6·32⌉ = ⌈42.67⌉ = 43;
    /// s=4: ⌈8/5·16⌉ = ⌈25.6⌉ = 26; s=3: ⌈8/4·8⌉ = 16; s=2: ⌈8/3·4⌉ = ⌈10.67⌉ = 11;
    /// s=1: ⌈8/2·2⌉ = 8; s=0: 8. Bracket s=6's rungs: 74, 37, 18, 9, 4, 2, 1 at 2, 4, …, 128.
    /// HpBandSter: ⌊8/(s+1)⌋·2^s = 128, 64, 32, 16, 16, 8, 8, 8.
    #[test]
    fn the_talks_range_in_both_sizings() {
        let li: Vec<u64> = hyperband(1.0, 128.0, 2.0, Sizing::Li).iter().map(|b| b.rungs[0].configs).collect();
        assert_eq!(li, vec![128, 74, 43, 26, 16, 11, 8, 8]);
        let b6 = &hyperband(1.0, 128.0, 2.0, Sizing::Li)[1];
        assert_eq!(b6.rungs.iter().map(|r| r.configs).collect::<Vec<_>>(), vec![74, 37, 18, 9, 4, 2, 1]);
        assert_eq!(b6.rungs.iter().map(|r| r.fidelity).collect::<Vec<_>>(), vec![2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]);
        let hp: Vec<u64> = hyperband(1.0, 128.0, 2.0, Sizing::Hpbandster).iter().map(|b| b.rungs[0].configs).collect();
        assert_eq!(hp, vec![128, 64, 32, 16, 16, 8, 8, 8]);
    }

    /// R = 100, r = 1, η = 3: s_max = ⌊log₃ 100⌋ = 4 (3⁴ = 81 ≤ 100 < 243); the lowest rung is
    /// at 100/81 ≈ 1.23, run as 1 step.
    #[test]
    fn fidelities_need_not_be_whole() {
        let brackets = hyperband(1.0, 100.0, 3.0, Sizing::Li);
        assert_eq!(brackets[0].bracket, 4);
        assert!((brackets[0].rungs[0].fidelity - 100.0 / 81.0).abs() < 1e-12);
        assert_eq!(steps(brackets[0].rungs[0].fidelity), 1);
        assert_eq!(steps(brackets[0].rungs[2].fidelity), 11);
    }

    /// 128 configurations from 1 to 128 with η = 2: 128, 64, …, 1 at 1, 2, …, 128.
    /// 10 configurations from 1 to 50 with η = 3: rungs at 1, 3, 9, 27 and 50 would hold
    /// 10, 3, 1, 0: the bracket ends at 9 with one configuration.
    #[test]
    fn successive_halving_rungs() {
        let b = successive_halving(1.0, 128.0, 2.0, 128);
        assert_eq!(
            b.rungs.iter().map(|r| (r.configs, r.fidelity as u32)).collect::<Vec<_>>(),
            (0..8).map(|k| (128 >> k, 1 << k)).collect::<Vec<_>>()
        );
        let b = successive_halving(1.0, 50.0, 3.0, 10);
        assert_eq!(b.rungs.iter().map(|r| (r.configs, r.fidelity)).collect::<Vec<_>>(), vec![(10, 1.0), (3, 3.0), (1, 9.0)]);
        let b = successive_halving(1.0, 50.0, 3.0, 81);
        assert_eq!(
            b.rungs.iter().map(|r| (r.configs, r.fidelity)).collect::<Vec<_>>(),
            vec![(81, 1.0), (27, 3.0), (9, 9.0), (3, 27.0), (1, 50.0)]
        );
        assert_eq!(successive_halving_default_configs(1.0, 128.0, 2.0), 128);
        assert_eq!(successive_halving_default_configs(1.0, 50.0, 3.0), 81);
    }

    /// Whole η is sized in exact integers: R = 2³¹, r = 1, η = 2 gives s_max = 31, and bracket
    /// s = 30 starts ⌈32·2³⁰/31⌉ = ⌈1108378657.03⌉ = 1108378658 configurations (a relative
    /// float tolerance of 1e-9 would have rounded it down).
    #[test]
    fn large_ranges_are_exact() {
        let table = hyperband(1.0, 2f64.powi(31), 2.0, Sizing::Li);
        assert_eq!(table[0].bracket, 31);
        assert_eq!(table[1].rungs[0].configs, 1_108_378_658);
        assert_eq!(table[1].rungs[30].configs, 1);
    }

    /// A fractional η (the `hposim brackets` command accepts one, as HpBandSter does):
    /// R = 100, η = 2.5: 2.5⁵ = 97.66 ≤ 100 < 2.5⁶, so s_max = 5; HpBandSter's bracket 5 has
    /// n₀ = int(⌊6/6⌋·2.5⁵) = int(97.66) = 97, then int(97/2.5) = 38, int(97/6.25) = 15.
    #[test]
    fn hpbandster_truncates_n0_first() {
        let table = hyperband(1.0, 100.0, 2.5, Sizing::Hpbandster);
        assert_eq!(table[0].bracket, 5);
        assert_eq!(table[0].rungs.iter().take(3).map(|r| r.configs).collect::<Vec<_>>(), vec![97, 38, 15]);
    }

    #[test]
    fn ranges_are_checked_with_the_key_named() {
        assert_eq!(check_range(1.0, 1e30, 2.0).unwrap_err().key, "max_fidelity");
        // Brackets too large to count: 46·3⁴⁵ and 8·2¹²⁶ configurations.
        assert!(check_range(1.0, 3f64.powi(45), 3.0).unwrap_err().message.contains("more than 1e15"));
        assert!(check_range(1.0, 1e39, 262_144.0).is_err());
        // Exact powers count exactly (HpBandSter's floating-point log gives 4 for 243/3).
        assert_eq!(s_max(1.0, 243.0, 3.0), 5);
        assert_eq!(s_max(1.0, 1000.0, 10.0), 3);
        assert_eq!(s_max(1.0, 242.0, 3.0), 4);
        assert_eq!(check_range(1.0, 81.0, 1.5).unwrap_err().key, "eta");
        assert_eq!(check_range(0.0, 81.0, 3.0).unwrap_err().key, "min_fidelity");
        assert_eq!(check_range(81.0, 81.0, 3.0).unwrap_err().key, "max_fidelity");
        assert_eq!(s_max(1.0, 2.0, 3.0), 0);
    }
}

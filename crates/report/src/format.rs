//! Numbers, intervals and findings as a report prints them.

use hposim_eval::analysis::Verdict;
use hposim_eval::bootstrap::Estimate;

/// A number with about four significant digits; `—` where it is not finite.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        if x == f64::INFINITY {
            return "∞".to_owned();
        }
        return "—".to_owned();
    }
    let a = x.abs();
    if a == 0.0 {
        "0".to_owned()
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else if a >= 0.001 {
        format!("{x:.4}")
    } else {
        format!("{x:.2e}")
    }
}

/// An estimate as `value [low, high]`, just the value where there is no interval (too few
/// seeds); `—` where absent.
pub fn estimate(e: Option<Estimate>) -> String {
    e.map_or_else(
        || "—".to_owned(),
        |e| {
            if e.low.is_nan() || e.high.is_nan() {
                format!("{} (no interval: too few seeds)", num(e.value))
            } else {
                format!("{} [{}, {}]", num(e.value), num(e.low), num(e.high))
            }
        },
    )
}

/// A p-value, with `< 0.0001` below that.
pub fn p_value(p: f64) -> String {
    if p < 1e-4 { "< 0.0001".to_owned() } else { format!("{p:.4}") }
}

/// `p = 0.0123`, or `p < 0.0001`.
pub fn p_equals(p: f64) -> String {
    if p < 1e-4 { "p < 0.0001".to_owned() } else { format!("p = {p:.4}") }
}

/// The verdict's finding in words: the best (or a tie), and those not significantly worse.
pub fn finding(v: &Verdict) -> String {
    let bold = |names: &[String]| names.iter().map(|n| format!("**{n}**")).collect::<Vec<_>>().join(", ");
    let others: Vec<String> = v.contenders.iter().filter(|c| !v.best.contains(c)).cloned().collect();
    let mut text = if v.no_difference {
        format!("no significant difference among the {} strategies with a result (lowest median: {})", v.contenders.len(), bold(&v.best))
    } else if v.best.len() > 1 {
        format!("tie between {} (equal median final scores)", bold(&v.best))
    } else {
        bold(&v.best)
    };
    if !v.no_difference {
        text.push_str(&if v.contenders.len() <= 1 {
            // Nothing to compare with: a study of one strategy (a live or ask/tell study).
            "; the only strategy with a result".to_owned()
        } else if others.is_empty() {
            "; every other strategy is significantly worse".to_owned()
        } else {
            format!("; not significantly worse: {}", others.join(", "))
        });
    }
    if !v.untested.is_empty() {
        text.push_str(&format!(" (untested, too few seeds: {})", v.untested.join(", ")));
    }
    text
}

/// A speed-up with its interval, "did not reach" where a value is 0.
pub fn speedup_text(e: Option<Estimate>) -> String {
    let one = |x: f64| {
        if x == 0.0 {
            "did not reach".to_owned()
        } else if x.is_finite() {
            format!("{x:.2}×")
        } else {
            format!("{}×", num(x))
        }
    };
    match e {
        None => "—".into(),
        Some(e) if e.low.is_nan() || e.high.is_nan() => format!("{} (no interval: too few seeds)", one(e.value)),
        Some(e) => format!("{} [{}, {}]", one(e.value), one(e.low), one(e.high)),
    }
}

/// A share (0–1) with its interval as whole percentages: `75 % [55, 95]`.
pub fn percent(e: Estimate) -> String {
    if e.low.is_nan() || e.high.is_nan() {
        format!("{:.0} % (no interval: too few seeds)", 100.0 * e.value)
    } else {
        format!("{:.0} % [{:.0}, {:.0}]", 100.0 * e.value, 100.0 * e.low, 100.0 * e.high)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(num(1234.4), "1234");
        assert_eq!(num(2.345), "2.35");
        assert_eq!(num(0.012345), "0.0123");
        assert_eq!(num(0.0000123), "1.23e-5");
        assert_eq!(num(f64::NAN), "—");
        assert_eq!(num(f64::INFINITY), "∞");
        assert_eq!(estimate(Some(Estimate { value: 2.0, low: 1.5, high: 3.0 })), "2.00 [1.50, 3.00]");
        assert_eq!(p_value(0.00001), "< 0.0001");
        assert_eq!((p_equals(0.00001).as_str(), p_equals(0.5).as_str()), ("p < 0.0001", "p = 0.5000"));
        // A speed-up of 0 is a target not reached, said in words; two decimals throughout.
        assert_eq!(speedup_text(Some(Estimate { value: 1.71, low: 0.8052, high: 4.42 })), "1.71× [0.81×, 4.42×]");
        assert_eq!(speedup_text(Some(Estimate { value: 2.5, low: 0.0, high: 5.28 })), "2.50× [did not reach, 5.28×]");
        assert_eq!(
            speedup_text(Some(Estimate { value: 0.0, low: f64::NAN, high: f64::NAN })),
            "did not reach (no interval: too few seeds)"
        );
    }
}

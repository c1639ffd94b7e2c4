//! Numbers as a report prints them.

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
    }
}

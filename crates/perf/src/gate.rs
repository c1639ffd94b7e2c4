//! The gate's decision: each benchmark's instructions per unit of work against its committed
//! baseline, a table of every change, and a failure when any grew by more than the threshold.

use crate::callgrind::Count;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The committed baselines (`crates/perf/baseline.json`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Per benchmark, by name.
    pub benchmarks: BTreeMap<String, Entry>,
}

/// One benchmark's baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// What one unit of its work is.
    pub unit: String,
    /// Instructions counted.
    pub instructions: u64,
    /// Units of work they did.
    pub units: u64,
}

impl Entry {
    /// Instructions per unit of work.
    pub fn per_unit(&self) -> f64 {
        self.instructions as f64 / self.units.max(1) as f64
    }
}

/// How a benchmark compares with its baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Within the threshold.
    Unchanged,
    /// Fewer instructions than the threshold allows for: worth blessing.
    Improved,
    /// More instructions than the threshold allows: the gate fails.
    Regressed,
    /// Measured but without a baseline: the gate fails until it is blessed.
    New,
}

/// One row of the gate's table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Benchmark name.
    pub name: String,
    /// Unit of work.
    pub unit: String,
    /// Instructions per unit in the baseline (none for a new benchmark).
    pub baseline: Option<f64>,
    /// Instructions per unit now.
    pub now: f64,
    /// Relative change, `now / baseline − 1`.
    pub change: Option<f64>,
    /// The verdict.
    pub status: Status,
}

/// Compares the `measured` counts (name, unit, count) with `baseline`: a change above
/// `threshold` (a fraction) is a regression, below −`threshold` an improvement.
pub fn compare(baseline: &Baseline, measured: &[(String, String, Count)], threshold: f64) -> Vec<Row> {
    measured
        .iter()
        .map(|(name, unit, count)| {
            let now = count.instructions as f64 / count.units.max(1) as f64;
            let before = baseline.benchmarks.get(name).map(Entry::per_unit);
            let change = before.map(|b| now / b - 1.0);
            let status = match change {
                None => Status::New,
                Some(c) if c > threshold => Status::Regressed,
                Some(c) if c < -threshold => Status::Improved,
                Some(_) => Status::Unchanged,
            };
            Row { name: name.clone(), unit: unit.clone(), baseline: before, now, change, status }
        })
        .collect()
}

/// Whether the gate fails: any regression or benchmark without a baseline.
pub fn fails(rows: &[Row]) -> bool {
    rows.iter().any(|r| matches!(r.status, Status::Regressed | Status::New))
}

/// The table of every benchmark (Markdown), with the threshold and a line on what to do.
pub fn table(rows: &[Row], threshold: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| benchmark | instructions per | baseline | now | change | verdict |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|---|");
    for r in rows {
        let baseline = r.baseline.map_or_else(|| "-".to_owned(), grouped);
        let change = r.change.map_or_else(|| "-".to_owned(), |c| format!("{:+.2} %", 100.0 * c));
        let verdict = match r.status {
            Status::Unchanged => "ok",
            Status::Improved => "improved",
            Status::Regressed => "REGRESSED",
            Status::New => "NEW (no baseline)",
        };
        let _ = writeln!(out, "| {} | {} | {baseline} | {} | {change} | {verdict} |", r.name, r.unit, grouped(r.now));
    }
    let count = |s: Status| rows.iter().filter(|r| r.status == s).count();
    let _ = writeln!(
        out,
        "\n{} benchmarks, threshold ±{:.1} %: {} regressed, {} improved, {} new, {} unchanged.",
        rows.len(),
        100.0 * threshold,
        count(Status::Regressed),
        count(Status::Improved),
        count(Status::New),
        count(Status::Unchanged)
    );
    if fails(rows) {
        let _ = writeln!(
            out,
            "The performance gate fails. If the change is deliberate, update the baselines with `just bench-bless` and say why in the commit."
        );
    } else if count(Status::Improved) > 0 {
        let _ = writeln!(out, "Improvements: `just bench-bless` records them, so that they are kept.");
    }
    out
}

/// `n` rounded to an integer, with a space between groups of three digits.
fn grouped(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The baseline of `measured` counts.
pub fn baseline_of(measured: &[(String, String, Count)]) -> Baseline {
    Baseline {
        benchmarks: measured
            .iter()
            .map(|(name, unit, c)| (name.clone(), Entry { unit: unit.clone(), instructions: c.instructions, units: c.units }))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(name: &str, instructions: u64, units: u64) -> (String, String, Count) {
        (name.to_owned(), "epoch".to_owned(), Count { instructions, units })
    }

    #[test]
    fn changes_beyond_the_threshold_are_regressions_or_improvements() {
        let base = baseline_of(&[measured("a", 1_000_000, 100), measured("b", 2_000, 1), measured("c", 3_000, 1)]);
        // a: 10 000 → 10 250 per epoch (+2.5 %); b: 2000 → 2030 (+1.5 %); c: 3000 → 2700 (−10 %);
        // d: no baseline.
        let now = [measured("a", 1_025_000, 100), measured("b", 2_030, 1), measured("c", 2_700, 1), measured("d", 5, 1)];
        let rows = compare(&base, &now, 0.02);
        let status: Vec<Status> = rows.iter().map(|r| r.status).collect();
        assert_eq!(status, [Status::Regressed, Status::Unchanged, Status::Improved, Status::New]);
        assert!((rows[0].change.unwrap_or(0.0) - 0.025).abs() < 1e-12);
        assert!(fails(&rows));
        assert!(fails(&rows[3..]), "a benchmark without a baseline fails until blessed");
        assert!(!fails(&rows[1..3]), "an improvement alone passes");
        let text = table(&rows, 0.02);
        assert!(text.contains("| a | epoch | 10 000 | 10 250 | +2.50 % | REGRESSED |"), "{text}");
        assert!(text.contains("| c | epoch | 3 000 | 2 700 | -10.00 % | improved |"), "{text}");
        assert!(text.contains("4 benchmarks, threshold ±2.0 %: 1 regressed, 1 improved, 1 new, 1 unchanged."), "{text}");
        assert!(text.contains("just bench-bless"), "{text}");
    }

    #[test]
    fn more_work_for_the_same_instructions_per_unit_is_no_change() {
        // A simulator that runs twice the epochs at the same cost per epoch has not regressed.
        let base = baseline_of(&[measured("sim", 1_000_000, 100)]);
        let rows = compare(&base, &[measured("sim", 2_000_000, 200)], 0.02);
        assert_eq!((rows[0].status, rows[0].change), (Status::Unchanged, Some(0.0)));
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(1234567.4), "1 234 567");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(grouped(1000.0), "1 000");
    }
}

//! `hposim brackets`: HyperBand's bracket table, as text or JSON.

use anyhow::{Result, bail};
use hposim_schedulers::brackets::{self, Sizing};
use std::fmt::Write;

/// `1` for whole numbers, `1.2346` otherwise.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{x:.0}") } else { format!("{x:.4}") }
}

/// Prints the brackets for the range `[min, max]`, `eta` and `sizing`.
pub fn print(min: f64, max: f64, eta: f64, sizing: &str, json: bool) -> Result<()> {
    if let Err(e) = brackets::check_range(min, max, eta) {
        bail!("--{}: {}", e.key.replace('_', "-"), e.message);
    }
    let sizing = if sizing == "hpbandster" { Sizing::Hpbandster } else { Sizing::Li };
    let table = brackets::hyperband(min, max, eta, sizing);
    if json {
        println!("{}", serde_json::to_string(&table)?);
    } else {
        print!("{}", render(&table, min, max, eta, sizing));
    }
    Ok(())
}

/// The text table: one line per rung, and per bracket the budget it uses (in fidelity units)
/// with checkpoints (a promoted configuration continues) and without (it restarts).
fn render(table: &[brackets::Bracket], min: f64, max: f64, eta: f64, sizing: Sizing) -> String {
    let mut out = String::new();
    let s_max = brackets::s_max(min, max, eta);
    let _ = writeln!(
        out,
        "HyperBand, {} sizing: R = {}, r = {}, eta = {}, s_max = {s_max}",
        sizing.as_str(),
        number(max),
        number(min),
        number(eta)
    );
    let _ = writeln!(out, "{:>7}  {:>4}  {:>8}  {:>10}", "bracket", "rung", "configs", "fidelity");
    let (mut all_with, mut all_without) = (0.0, 0.0);
    for bracket in table {
        let (mut with, mut without, mut previous) = (0.0, 0.0, 0.0);
        for (i, rung) in bracket.rungs.iter().enumerate() {
            let _ = writeln!(out, "{:>7}  {i:>4}  {:>8}  {:>10}", bracket.bracket, rung.configs, number(rung.fidelity));
            with += rung.configs as f64 * (rung.fidelity - previous);
            without += rung.configs as f64 * rung.fidelity;
            previous = rung.fidelity;
        }
        let _ = writeln!(out, "{:>7}  budget {} with checkpoints, {} without", "", number(with), number(without));
        all_with += with;
        all_without += without;
    }
    let _ =
        writeln!(out, "all brackets: budget {} with checkpoints, {} without (in fidelity units)", number(all_with), number(all_without));
    out
}

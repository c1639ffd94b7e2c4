//! The per-strategy table printed at the end of `hposim run`.

use hposim_eval::{Spread, StrategyRow};
use std::fmt::Write;

/// `median [Q1, Q3]`, or just the median when all seeds agree.
fn spread(s: Option<Spread>, digits: usize, scale: f64, suffix: &str) -> String {
    match s {
        Some(s) if s.q1 == s.q3 => format!("{:.d$}{suffix}", s.median * scale, d = digits),
        Some(s) => format!("{:.d$}{suffix} [{:.d$}, {:.d$}]", s.median * scale, s.q1 * scale, s.q3 * scale, d = digits),
        None => "-".to_owned(),
    }
}

/// Renders the table: one block per benchmark, one line per strategy, median [Q1, Q3] over
/// seeds. "full training" is the compute (and cost) of training every started configuration to
/// full fidelity, i.e. the same trials without early termination; "saved" is the share of it
/// the strategy did not spend. Times are in hours, or in seconds when every full-training
/// median is under an hour (recorded CPU curves cost seconds).
pub fn render(rows: &[StrategyRow], with_cost: bool) -> String {
    let in_seconds = rows.iter().all(|r| r.full_training_hours.is_none_or(|s| s.median < 1.0));
    let (unit, scale) = if in_seconds { ("s", 3600.0) } else { ("h", 1.0) };
    let (compute, idle, full) = (format!("compute {unit}"), format!("idle {unit}"), format!("full training {unit}"));
    let with_hypervolume = rows.iter().any(|r| r.hypervolume.is_some());
    let mut headers = vec!["benchmark", "strategy", "seeds", "final regret"];
    if with_hypervolume {
        headers.push("hypervolume");
    }
    headers.extend([compute.as_str(), idle.as_str()]);
    if with_cost {
        headers.push("cost $");
    }
    headers.extend([full.as_str(), "saved"]);
    if with_cost {
        headers.insert(headers.len() - 1, "full training $");
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut row = vec![
                r.benchmark.clone(),
                r.strategy.clone(),
                r.cells.to_string(),
                if r.regret_cells < r.cells && r.regret.is_some() {
                    format!("{} ({} of {} seeds reached full fidelity)", spread(r.regret, 4, 1.0, ""), r.regret_cells, r.cells)
                } else {
                    spread(r.regret, 4, 1.0, "")
                },
            ];
            if with_hypervolume {
                row.push(spread(r.hypervolume, 4, 1.0, ""));
            }
            row.extend([spread(r.compute_hours, 2, scale, ""), spread(r.idle_hours, 2, scale, "")]);
            if with_cost {
                row.push(spread(r.cost_usd, 2, 1.0, ""));
            }
            row.push(spread(r.full_training_hours, 2, scale, ""));
            if with_cost {
                row.push(spread(r.full_training_cost_usd, 2, 1.0, ""));
            }
            let saved = spread(r.compute_saved, 2, 100.0, "%");
            let other = spread(r.compute_saved_other, 2, 100.0, "%");
            row.push(match r.checkpointing {
                Some(true) if other != saved => format!("{saved} ({other} without checkpoints)"),
                Some(false) if other != saved => format!("{saved} ({other} with checkpoints)"),
                _ => saved,
            });
            row
        })
        .collect();
    let mut out = aligned(&headers, &cells, true);
    let _ = writeln!(
        out,
        "\nmedian [IQR] over seeds; full training = every started configuration trained to full fidelity (no early termination); saved = 1 − compute / full training (in parentheses: the same decisions with the other checkpointing setting)"
    );
    out
}

/// `rows` under `headers`, in columns padded to their widest entry; with `group`, a blank line
/// wherever the first column changes.
pub fn aligned(headers: &[&str], rows: &[Vec<String>], group: bool) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, values: &[&str]| {
        let parts: Vec<String> = values.iter().enumerate().map(|(i, v)| format!("{v:<w$}", w = widths[i])).collect();
        let _ = writeln!(out, "{}", parts.join("  ").trim_end());
    };
    line(&mut out, headers);
    let mut previous: Option<&str> = None;
    for row in rows {
        if group && previous.is_some_and(|p| p != row[0]) {
            out.push('\n');
        }
        previous = Some(&row[0]);
        let values: Vec<&str> = row.iter().map(String::as_str).collect();
        line(&mut out, &values);
    }
    out
}

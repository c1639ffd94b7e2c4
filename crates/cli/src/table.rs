//! The per-strategy table printed at the end of `hposim run`.

use hposim_eval::{Spread, StrategyRow};
use std::fmt::Write;

fn spread(s: Option<Spread>, digits: usize) -> String {
    match s {
        Some(s) => format!("{:.d$} [{:.d$}, {:.d$}]", s.median, s.q1, s.q3, d = digits),
        None => "-".to_owned(),
    }
}

/// Renders the table: one block per benchmark, one line per strategy, median [Q1, Q3] over seeds.
pub fn render(rows: &[StrategyRow], with_cost: bool) -> String {
    let headers = ["benchmark", "strategy", "seeds", "final regret, median [IQR]", "compute h, median [IQR]", "cost $, median [IQR]"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.benchmark.clone(),
                r.strategy.clone(),
                r.cells.to_string(),
                if r.regret_cells < r.cells && r.regret.is_some() {
                    format!("{} ({} of {} seeds reached full fidelity)", spread(r.regret, 4), r.regret_cells, r.cells)
                } else {
                    spread(r.regret, 4)
                },
                spread(r.compute_hours, 1),
                if with_cost { spread(r.cost_usd, 2) } else { "-".to_owned() },
            ]
        })
        .collect();
    let columns = if with_cost { 6 } else { 5 };
    let mut widths = [0; 6];
    for (i, h) in headers.iter().enumerate() {
        widths[i] = h.chars().count();
    }
    for row in &cells {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, values: &[&str]| {
        let parts: Vec<String> = values.iter().take(columns).enumerate().map(|(i, v)| format!("{v:<w$}", w = widths[i])).collect();
        let _ = writeln!(out, "{}", parts.join("  ").trim_end());
    };
    line(&mut out, &headers);
    let mut previous: Option<&str> = None;
    for row in &cells {
        if previous.is_some_and(|p| p != row[0]) {
            out.push('\n');
        }
        previous = Some(&row[0]);
        let values: Vec<&str> = row.iter().map(String::as_str).collect();
        line(&mut out, &values);
    }
    out
}

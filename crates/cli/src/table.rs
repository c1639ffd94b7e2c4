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

/// How the table is drawn.
pub struct TableOptions<'a> {
    /// Whether a price per worker-hour is set (cost columns).
    pub with_cost: bool,
    /// Every column, with interquartile ranges; otherwise the table fits 120 columns for names
    /// of usual length.
    pub wide: bool,
    /// Whether the strategy of this name terminates trials early (its scheduler can stop or
    /// pause a trial before full fidelity): only those have a "saved" entry.
    pub terminates_early: &'a dyn Fn(&str) -> bool,
}

/// Renders the table: one block per benchmark, one line per strategy, median [Q1, Q3] over
/// seeds. The final score is in the benchmark's measure (the report's); "full training" is the
/// compute (and cost) of training every started configuration to full fidelity, i.e. the same
/// trials without early termination; "saved" is the share of it the strategy did not spend,
/// shown only for strategies that terminate early (a FIFO strategy cut by the budget saves
/// nothing by design). Times are in hours, or in seconds when every full-training median is under
/// an hour (recorded CPU curves cost seconds).
pub fn render(rows: &[StrategyRow], options: &TableOptions<'_>) -> String {
    let wide = options.wide;
    let in_seconds = rows.iter().all(|r| r.full_training_hours.is_none_or(|s| s.median < 1.0));
    let (unit, scale) = if in_seconds { ("s", 3600.0) } else { ("h", 1.0) };
    // The narrow table shows medians alone: a spread whose quartiles are its median prints so.
    let shown = |s: Option<Spread>| if wide { s } else { s.map(|s| Spread { q1: s.median, q3: s.median, ..s }) };
    let time = |s: Option<Spread>| spread(shown(s), 2, scale, "");
    let with_hypervolume = rows.iter().any(|r| r.hypervolume.is_some());
    let with_regret = wide && rows.iter().any(|r| r.measure.starts_with("normalised"));
    let with_cost = wide && options.with_cost;
    let mut headers: Vec<String> = ["benchmark", "strategy", "seeds", "final score"].map(String::from).to_vec();
    if with_regret {
        headers.push("final regret".into());
    }
    if with_hypervolume {
        headers.push("hypervolume".into());
    }
    headers.extend([format!("compute {unit}"), format!("wall clock {unit}")]);
    if wide {
        headers.push(format!("idle {unit}"));
    }
    if with_cost {
        headers.push("cost $".into());
    }
    if wide {
        headers.push(format!("full training {unit}"));
    }
    if with_cost {
        headers.push("full training $".into());
    }
    headers.push("saved".into());
    let mut flagged = Vec::new();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut score = match r.score {
                None => format!("none ({})", r.without_full_result.join(", ")),
                Some(_) => spread(r.score, 4, 1.0, ""),
            };
            if !r.without_full_result.is_empty() {
                flagged.push(format!("{} / {}: stop reason {}", r.benchmark, r.strategy, r.without_full_result.join(", ")));
                if r.score.is_some() {
                    score.push_str(&format!(" ({} of {} seeds)", r.score_cells, r.cells));
                }
            }
            let mut row = vec![r.benchmark.clone(), r.strategy.clone(), r.cells.to_string(), score];
            if with_regret {
                row.push(spread(r.regret, 4, 1.0, ""));
            }
            if with_hypervolume {
                row.push(spread(r.hypervolume, 4, 1.0, ""));
            }
            row.extend([time(r.compute_hours), time(r.wallclock_hours)]);
            if wide {
                row.push(time(r.idle_hours));
            }
            if with_cost {
                row.push(spread(r.cost_usd, 2, 1.0, ""));
            }
            if wide {
                row.push(time(r.full_training_hours));
            }
            if with_cost {
                row.push(spread(r.full_training_cost_usd, 2, 1.0, ""));
            }
            row.push(if (options.terminates_early)(&r.strategy) {
                let saved = spread(shown(r.compute_saved), 2, 100.0, "%");
                let other = spread(r.compute_saved_other, 2, 100.0, "%");
                match r.checkpointing {
                    Some(true) if wide && other != saved => format!("{saved} ({other} without checkpoints)"),
                    Some(false) if wide && other != saved => format!("{saved} ({other} with checkpoints)"),
                    _ => saved,
                }
            } else {
                "-".to_owned()
            });
            row
        })
        .collect();
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut out = aligned(&header_refs, &cells, true);
    let mut measures: Vec<String> = Vec::new();
    for r in rows {
        let entry = format!("{}: {}", r.benchmark, r.measure);
        if !measures.contains(&entry) {
            measures.push(entry);
        }
    }
    let mut notes = vec![format!(
        "final score: median [IQR] over seeds with a full-fidelity result, in each benchmark's measure: {}.",
        measures.join("; ")
    )];
    if !flagged.is_empty() {
        notes.push(format!("Without a full-fidelity result in some seeds: {}.", flagged.join("; ")));
    }
    notes.push(format!(
        "{}saved = 1 − compute / full training, shown for strategies that terminate trials early; full training = every started configuration trained to full fidelity{}.",
        if wide { "" } else { "Times: medians over seeds; " },
        if wide { " (in parentheses: the same decisions with the other checkpointing setting)" } else { " (hposim run --wide shows every column)" }
    ));
    out.push('\n');
    for note in notes {
        out.push_str(&wrapped(&note, 120));
    }
    out
}

/// `text` broken into lines of at most `width` characters at spaces, each ending in a newline.
fn wrapped(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
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

//! `hposim data info` and `hposim data check`: describe and validate recorded benchmarks
//! (`data/FORMAT.md`).

use crate::table::aligned;
use anyhow::{Result, bail};
use hposim_core::{Domain, Objective, SearchSpace};
use hposim_curves::recorded::{self, Recorded, RecordedTask};
use hposim_eval::{quantile, spearman};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The table a user named: a `.parquet` path, its `.toml` metadata, or the stem of a file in
/// `data/` (e.g. `mlp-digits`).
pub fn resolve(name: &Path) -> Result<PathBuf> {
    let table = if name.extension().is_some_and(|e| e == "toml") { name.with_extension("parquet") } else { name.to_owned() };
    // Something other than a file there (a FIFO, a device, a folder) is named without being
    // opened; nothing there is looked for in data/.
    match hposim_core::input::check_regular(&table, hposim_core::input::MAX_TABLE_BYTES) {
        Ok(_) => return Ok(table),
        Err(hposim_core::input::InputError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => bail!("{}: cannot read the table: {e}", table.display()),
    }
    let mut stem = name.as_os_str().to_owned();
    stem.push(".parquet");
    let in_data = Path::new("data").join(stem);
    if name.components().count() == 1 && in_data.is_file() {
        return Ok(in_data);
    }
    let known: Vec<String> = std::fs::read_dir("data")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.path().extension().is_some_and(|x| x == "parquet").then(|| e.path().file_stem().map(|s| s.to_string_lossy().into_owned()))
        })
        .flatten()
        .collect();
    let mut known = known;
    known.sort();
    let listing = if known.is_empty() {
        "no recorded benchmarks in ./data".to_owned()
    } else {
        format!("recorded benchmarks in ./data: {}", known.join(", "))
    };
    bail!("{}: no such recorded benchmark (neither a file nor data/{}.parquet); {listing}", name.display(), name.display())
}

/// `hposim data check`: validates and prints one line.
pub fn check(name: &Path) -> Result<()> {
    let data = recorded::load(&resolve(name)?)?;
    let configs: usize = data.tasks.iter().map(|t| t.configs.len()).sum();
    let curves: usize = data.tasks.iter().map(|t| t.curves.len()).sum();
    let rows: u64 = data.tasks.iter().flat_map(|t| &t.curves).map(|c| u64::from(c.steps)).sum();
    let checksum = if data.metadata.sha256.is_some() { "SHA-256 verified" } else { "no SHA-256 in the metadata" };
    println!(
        "ok: {} ({}): {} task(s), {configs} configurations, {curves} curves, {rows} rows (summed over tasks); {checksum}",
        data.metadata.name,
        data.path.display(),
        data.tasks.len()
    );
    Ok(())
}

/// `hposim data info`: what the benchmark is and what its curves look like.
pub fn info(name: &Path) -> Result<()> {
    let data = recorded::load(&resolve(name)?)?;
    print!("{}", describe(&data));
    Ok(())
}

fn describe(data: &Recorded) -> String {
    let meta = &data.metadata;
    let mut out = String::new();
    let _ = writeln!(out, "{} ({})", meta.name, data.path.display());
    for (key, value) in [
        ("description", Some(&meta.description)),
        ("source", Some(&meta.source)),
        ("licence", Some(&meta.licence)),
        ("command", meta.command.as_ref()),
    ] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            let _ = writeln!(out, "  {key}: {value}");
        }
    }
    match &meta.overhead {
        Some(o) => {
            let _ = writeln!(
                out,
                "  launch overhead: start-up {:.2} s, resume {:.2} s, shutdown {:.2} s per launch (coefficient of variation {:.2}); step costs exclude it",
                o.startup, o.resume, o.shutdown, o.noise
            );
        }
        None => {
            let _ = writeln!(out, "  launch overhead: not recorded (launches replay as free; a first step's cost holds its start-up)");
        }
    }
    let steps: Vec<u32> = data.tasks.iter().map(|t| t.max_step).collect();
    let (lo, hi) = (steps.iter().min().copied().unwrap_or(0), steps.iter().max().copied().unwrap_or(0));
    let range = if lo == hi { format!("{hi}") } else { format!("{lo} to {hi} (by task)") };
    let _ =
        writeln!(out, "\nfidelity: {}, steps 1..=full fidelity = {range}; first rung at step {}", meta.fidelity.unit, meta.fidelity.min);
    let _ = writeln!(out, "\nspace ({} parameters):", data.space.len());
    out.push_str(&space_lines(&data.space));
    let metrics: Vec<String> = meta.metrics.iter().map(|m| format!("{} ({:?})", m.name, m.direction).to_lowercase()).collect();
    let _ = writeln!(out, "\nmetrics: {} (the first is the default objective)", metrics.join(", "));
    let objective = &meta.metrics[0];
    let _ = writeln!(
        out,
        "\nper task, for {} (final = at full fidelity; ρ = Spearman correlation of the value at the first rung with the final value, over curves):",
        objective.name
    );
    let headers = [
        "task",
        "configs",
        "curves",
        "steps",
        "diverged",
        "best",
        "best final",
        "median final",
        "ρ(first rung, final)",
        "median cost/curve s",
        "total cost h",
    ];
    let rows: Vec<Vec<String>> = data.tasks.iter().map(|task| task_row(task, objective, meta.fidelity.min)).collect();
    out.push_str(&aligned(&headers, &rows, false));
    out
}

fn space_lines(space: &SearchSpace) -> String {
    let mut out = String::new();
    for param in space.params() {
        let domain = match &param.domain {
            Domain::Float { low, high, log } => format!("float {low}..{high}{}", if *log { " log" } else { "" }),
            Domain::Int { low, high, log } => format!("int {low}..{high}{}", if *log { " log" } else { "" }),
            Domain::Categorical { choices } => {
                format!("categorical {}", choices.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
            }
            Domain::Ordinal { values } => format!("ordinal {}", values.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
        };
        let condition = param.condition.as_ref().map_or(String::new(), |c| {
            let parent = &space.params()[c.parent];
            let allowed: Vec<String> = c
                .allowed
                .iter()
                .map(|v| match (v, parent.domain.choices()) {
                    (hposim_core::Value::Choice(i), Some(choices)) => {
                        choices.get(*i as usize).map_or_else(|| i.to_string(), ToString::to_string)
                    }
                    (hposim_core::Value::Int(i), _) => i.to_string(),
                    (other, _) => format!("{other:?}"),
                })
                .collect();
            format!("   (only if {} is {})", parent.name, allowed.join(" or "))
        });
        let _ = writeln!(out, "  {:<20} {domain}{condition}", param.name);
    }
    out
}

fn task_row(task: &RecordedTask, objective: &Objective, first_rung: u32) -> Vec<String> {
    let all = (0..task.curves.len()).flat_map(|c| (1..=task.curves[c].steps).map(move |s| (c, s)));
    let best = objective.best(all.map(|(c, s)| task.metrics_at(c, s)[0]));
    let finals: Vec<f64> = (0..task.curves.len()).map(|c| task.metrics_at(c, task.max_step)[0]).collect();
    let firsts: Vec<f64> = (0..task.curves.len()).map(|c| task.metrics_at(c, first_rung.min(task.max_step))[0]).collect();
    let best_final = objective.best(finals.iter().copied());
    let mut sorted: Vec<f64> = finals.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let curve_costs: Vec<f64> = (0..task.curves.len()).map(|c| (1..=task.curves[c].steps).map(|s| task.cost_at(c, s)).sum()).collect();
    let mut sorted_costs = curve_costs.clone();
    sorted_costs.sort_by(f64::total_cmp);
    let number = |x: Option<f64>| x.filter(|v| v.is_finite()).map_or_else(|| "-".to_owned(), |v| format!("{v:.4}"));
    vec![
        task.name.clone().unwrap_or_else(|| "-".into()),
        task.configs.len().to_string(),
        task.curves.len().to_string(),
        task.max_step.to_string(),
        task.curves.iter().filter(|c| c.diverged).count().to_string(),
        number(best),
        number(best_final),
        number(quantile(&sorted, 0.5)),
        // With one step (or the first rung at full fidelity) the two are the same values.
        number(spearman(&firsts, &finals).filter(|_| first_rung < task.max_step)),
        number(quantile(&sorted_costs, 0.5)),
        format!("{:.2}", curve_costs.iter().sum::<f64>() / 3600.0),
    ]
}

//! `hposim report`: read a results directory, analyse it, write the report.

use anyhow::{Context, Result};
use hposim_eval::{Convention, Options, Results, analyse, load};
use hposim_report::{ReportOptions, write_report};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What a report covers: only these strategies and benchmarks (all where empty).
pub struct Selection {
    /// Strategy names.
    pub strategies: Vec<String>,
    /// Benchmark names.
    pub benchmarks: Vec<String>,
    /// The figure size preset (`screen` or `column`).
    pub figure_size: String,
}

/// `loaded` cut to `selection`; a name it does not have is an error that lists the names it has.
fn select(mut loaded: Results, selection: &Selection) -> Result<Results> {
    let known_strategies = loaded.strategies.clone();
    let known_benchmarks: Vec<String> = loaded.benchmarks.iter().map(|b| b.name.clone()).collect();
    for (flag, wanted, known) in
        [("--strategies", &selection.strategies, &known_strategies), ("--benchmarks", &selection.benchmarks, &known_benchmarks)]
    {
        if let Some(unknown) = wanted.iter().find(|w| !known.contains(w)) {
            anyhow::bail!("{flag}: {} has no {unknown:?}; it has {}", loaded.dir.display(), known.join(", "));
        }
    }
    let keep_strategy = |name: &str| selection.strategies.is_empty() || selection.strategies.iter().any(|s| s == name);
    let keep_benchmark = |name: &str| selection.benchmarks.is_empty() || selection.benchmarks.iter().any(|b| b == name);
    loaded.strategies.retain(|s| keep_strategy(s));
    loaded.benchmarks.retain(|b| keep_benchmark(&b.name));
    loaded.cells.retain(|c| keep_strategy(&c.summary.strategy) && keep_benchmark(&c.summary.benchmark));
    loaded.missing.retain(|m| keep_strategy(&m.cell.strategy) && keep_benchmark(&m.cell.benchmark));
    if loaded.cells.is_empty() {
        anyhow::bail!("{}: no finished cells of the selected strategies and benchmarks", loaded.dir.display());
    }
    Ok(loaded)
}

/// Writes every step of every finished cell of `results` to `out` as one table (what `hposim
/// export` does, without printing; the Python API's `Results.steps`).
pub fn export_quietly(results: &Path, out: &Path) -> Result<hposim_eval::export::Exported> {
    if !results.is_dir() {
        anyhow::bail!("{}: no such results directory (run `hposim run EXPERIMENT` first)", results.display());
    }
    hposim_eval::export::export(results, out).with_context(|| format!("exporting {}", results.display()))
}

/// Writes every step of every finished cell of `results` to `out` as one table.
pub fn export(results: &Path, out: &Path) -> Result<()> {
    let exported = export_quietly(results, out)?;
    println!(
        "{}: {} rows from {} cells, {} columns{}",
        out.display(),
        exported.rows,
        exported.cells,
        exported.columns.len(),
        if exported.missing > 0 { format!(" ({} unfinished cells left out)", exported.missing) } else { String::new() }
    );
    Ok(())
}

/// Writes the report of `results` to `out` (default `reports/<name of results>`).
pub fn report(results: &Path, out: Option<PathBuf>, baseline: &str, convention: &str, selection: &Selection) -> Result<()> {
    let started = Instant::now();
    if !results.is_dir() {
        anyhow::bail!("{}: no such results directory (run `hposim run EXPERIMENT` first)", results.display());
    }
    let loaded = load(results).with_context(|| format!("reading {}", results.display()))?;
    let loaded = select(loaded, selection)?;
    let name = results.file_name().map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    let out_dir = out.unwrap_or_else(|| PathBuf::from("reports").join(name));
    let convention = Convention::from_name(convention);
    if !loaded.strategies.iter().any(|s| s == baseline) {
        eprintln!(
            "warning: no strategy named {baseline:?} in {}; the report has no speed-ups (choose one with --baseline)",
            results.display()
        );
    }
    let options = Options { convention, baseline: baseline.to_owned(), ..Options::default() };
    let analysis = analyse(&loaded, &options);
    let mut reproduce = Vec::new();
    if let Some(m) = &loaded.manifest {
        reproduce.push(format!("{} --out {}", m.command, results.display()));
    }
    let mut command = format!("hposim report {} --out {}", results.display(), out_dir.display());
    if baseline != "random" {
        command.push_str(&format!(" --baseline {baseline}"));
    }
    if convention != Convention::HighestFidelity {
        command.push_str(&format!(" --convention {}", convention.as_str()));
    }
    if !selection.strategies.is_empty() {
        command.push_str(&format!(" --strategies {}", selection.strategies.join(",")));
    }
    if !selection.benchmarks.is_empty() {
        command.push_str(&format!(" --benchmarks {}", selection.benchmarks.join(",")));
    }
    let look = hposim_report::style::Look::named(&selection.figure_size)
        .with_context(|| format!("--figure-size: {:?} is not a preset (screen or column)", selection.figure_size))?;
    if selection.figure_size != "screen" {
        command.push_str(&format!(" --figure-size {}", selection.figure_size));
    }
    reproduce.push(command);
    let written = write_report(&loaded, &analysis, &ReportOptions { out_dir: out_dir.clone(), reproduce, look })
        .with_context(|| format!("writing the report to {}", out_dir.display()))?;
    for verdict in &analysis.verdict {
        let measure = analysis.benchmarks.iter().find(|b| b.reference.name == verdict.benchmark).map_or(String::new(), |b| b.scale.label());
        println!(
            "{}: {}; lowest median final {measure} {}, speed-up over {baseline} {}",
            verdict.benchmark,
            hposim_report::format::finding(verdict).replace("**", ""),
            hposim_report::format::estimate(verdict.final_score),
            hposim_report::format::speedup_text(verdict.speedup),
        );
    }
    if !loaded.missing.is_empty() {
        println!("{} expected cells are missing; the report lists them", loaded.missing.len());
    }
    println!(
        "report: {} and {} ({} figures, {} tables) in {:.1} s",
        written.markdown.display(),
        written.html.display(),
        written.figures.len(),
        written.tables.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

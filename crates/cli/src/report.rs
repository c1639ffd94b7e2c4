//! `hposim report`: read a results directory, analyse it, write the report.

use anyhow::{Context, Result};
use hposim_eval::{Convention, Options, analyse, load};
use hposim_report::{ReportOptions, write_report};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Writes the report of `results` to `out` (default `reports/<name of results>`).
pub fn report(results: &Path, out: Option<PathBuf>, baseline: &str, convention: &str) -> Result<()> {
    let started = Instant::now();
    if !results.is_dir() {
        anyhow::bail!("{}: no such results directory (run `hposim run EXPERIMENT` first)", results.display());
    }
    let loaded = load(results).with_context(|| format!("reading {}", results.display()))?;
    let name = results.file_name().map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    let out_dir = out.unwrap_or_else(|| PathBuf::from("reports").join(name));
    let convention = match convention {
        "any-fidelity" => Convention::AnyFidelity,
        _ => Convention::HighestFidelity,
    };
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
    reproduce.push(command);
    let written = write_report(&loaded, &analysis, &ReportOptions { out_dir: out_dir.clone(), reproduce })
        .with_context(|| format!("writing the report to {}", out_dir.display()))?;
    for verdict in &analysis.verdict {
        println!(
            "{}: best {} (final {} {}), speed-up over {baseline} {}",
            verdict.benchmark,
            verdict.best,
            analysis.benchmarks.iter().find(|b| b.reference.name == verdict.benchmark).map_or(String::new(), |b| b.scale.regret_label()),
            hposim_report::format::estimate(verdict.final_regret),
            hposim_report::format::estimate(verdict.speedup),
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

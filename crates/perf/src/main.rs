//! `hposim-instructions`: hposim's performance gate. It counts the instructions each hot path
//! executes (the simulator per epoch under FIFO, ASHA, HyperBand and PBT; one suggestion of
//! TPE, GP-BO, BOHB's KDE and MO-TPE; exact hypervolume in 2 to 5 dimensions; writing and
//! reading a trace; the report's statistics) under valgrind's callgrind ([`callgrind`]) and
//! compares them with the committed baselines ([`gate`]):
//!
//! ```text
//! hposim-instructions check            # CI: fails when a benchmark got slower than the threshold
//! hposim-instructions bless            # `just bench-bless`: records the current counts
//! hposim-instructions list
//! ```
//!
//! Wall-clock exploration stays with the criterion benchmarks (`just bench`).

mod benches;
mod callgrind;
mod gate;
mod scratch;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The default threshold, in per cent: a benchmark fails when its instructions per unit grow
/// by more than this. Two runs of the same binary gave identical counts for 19 of the 21
/// benchmarks and differed by at most 134 instructions in 6.5 million (0.002 %) for the
/// other two (writing and reading a trace through a temporary file), so any threshold above
/// that is safe from false alarms; 2 % lets toolchain-level noise pass and still catches small
/// slowdowns of a hot path (one extra pass of `exp` over TPE's kernel terms showed as +11.6 %
/// on `suggest/tpe_200` and +40.4 % on `suggest/motpe_200`).
const DEFAULT_THRESHOLD_PERCENT: f64 = 2.0;

/// Where the baselines are committed, relative to the workspace root.
const DEFAULT_BASELINE: &str = "crates/perf/baseline.json";

#[derive(Parser)]
#[command(name = "hposim-instructions", about = "hposim's performance gate: instruction counts of the hot paths under callgrind")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lists the benchmarks.
    List,
    /// Counts every benchmark (or those named) and compares with the baselines; exits with 1
    /// when any regressed beyond the threshold or has no baseline.
    Check {
        /// The baselines file.
        #[arg(long, default_value = DEFAULT_BASELINE)]
        baseline: PathBuf,
        /// Allowed growth of instructions per unit, in per cent.
        #[arg(long, default_value_t = DEFAULT_THRESHOLD_PERCENT)]
        threshold: f64,
        /// Only these benchmarks.
        #[arg(long)]
        only: Vec<String>,
        /// Keep callgrind's profiles here (for callgrind_annotate) instead of a temporary folder.
        #[arg(long)]
        profiles: Option<PathBuf>,
    },
    /// Counts every benchmark (or those named) and writes the counts as the new baselines.
    Bless {
        /// The baselines file.
        #[arg(long, default_value = DEFAULT_BASELINE)]
        baseline: PathBuf,
        /// Only these benchmarks (the others keep their baselines).
        #[arg(long)]
        only: Vec<String>,
    },
    /// Runs one benchmark's counted region once (what `check` runs under callgrind).
    Measure {
        /// The benchmark.
        name: String,
    },
}

fn main() {
    if let Err(error) = run(Cli::parse()) {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::List => {
            for b in benches::BENCHES {
                println!("{} (instructions per {})", b.name, b.unit);
            }
            Ok(())
        }
        Command::Measure { name } => {
            let bench = benches::find(&name).with_context(|| format!("no benchmark named {name} (see: hposim-instructions list)"))?;
            let mut work = (bench.prepare)().map_err(|e| anyhow::anyhow!("{name}: preparing: {e}"))?;
            let units = callgrind::region(&mut *work);
            println!("units: {units}");
            Ok(())
        }
        Command::Check { baseline, threshold, only, profiles } => {
            if !(threshold.is_finite() && threshold >= 0.0) {
                bail!("--threshold {threshold}: give a non-negative percentage");
            }
            let base = read_baseline(&baseline)?;
            let measured = count_all(&only, profiles.as_deref())?;
            let rows = gate::compare(&base, &measured, threshold / 100.0);
            println!("Instructions per unit of work against {} (callgrind, Ir):\n", baseline.display());
            print!("{}", gate::table(&rows, threshold / 100.0));
            if gate::fails(&rows) {
                bail!("the performance gate failed");
            }
            Ok(())
        }
        Command::Bless { baseline, only } => {
            let measured = count_all(&only, None)?;
            let mut base = if only.is_empty() { gate::Baseline::default() } else { read_baseline(&baseline)? };
            base.benchmarks.extend(gate::baseline_of(&measured).benchmarks);
            let text = serde_json::to_string_pretty(&base)? + "\n";
            std::fs::write(&baseline, text).with_context(|| format!("writing {}", baseline.display()))?;
            println!("wrote {} baselines to {}", measured.len(), baseline.display());
            Ok(())
        }
    }
}

fn read_baseline(path: &Path) -> Result<gate::Baseline> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the baselines {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a baselines file", path.display()))
}

/// Counts the benchmarks named in `only` (all when empty) under callgrind, one process each.
fn count_all(only: &[String], profiles: Option<&Path>) -> Result<Vec<(String, String, callgrind::Count)>> {
    for name in only {
        if benches::find(name).is_none() {
            bail!("--only {name}: no such benchmark (see: hposim-instructions list)");
        }
    }
    let exe = std::env::current_exe().context("finding this executable")?;
    let temporary = scratch::Scratch::new().context("a temporary folder for callgrind's profiles")?;
    let folder = profiles.unwrap_or(temporary.path());
    std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    let mut measured = Vec::new();
    for bench in benches::BENCHES.iter().filter(|b| only.is_empty() || only.iter().any(|n| n == b.name)) {
        let started = Instant::now();
        let profile = folder.join(format!("callgrind.{}.out", bench.name.replace('/', ".")));
        let count = callgrind::count(&exe, bench.name, &profile).map_err(anyhow::Error::msg)?;
        eprintln!(
            "{:<45} {:>16} instructions, {:>6} {}(s), {:.1} s",
            bench.name,
            count.instructions,
            count.units,
            bench.unit,
            started.elapsed().as_secs_f64()
        );
        measured.push((bench.name.to_owned(), bench.unit.to_owned(), count));
    }
    Ok(measured)
}

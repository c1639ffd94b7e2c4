//! `hposim`: compare hyperparameter-optimization strategies on simulated learning curves.
//!
//! The command line as a library: the `hposim` binary ([`main_with_args`]) and the Python
//! package's `hposim` command and API (`crates/python`) run the same code, so a command behaves
//! the same (and writes results tied to the same code fingerprint) whichever way it is started.

pub mod ask_tell;
mod brackets;
mod compare;
mod data;
mod hypervolume;
mod live;
mod output;
mod progress;
pub mod report;
mod table;
mod validate;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use hposim_sim::{Experiment, RunOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// hposim replays synthetic or recorded learning curves with simulated workers on a simulated
/// clock, to compare tuning strategies (a sampler that picks configurations plus a scheduler
/// that decides how long each trains) quantitatively: final regret, compute hours and cost.
///
/// Without a command, runs experiments/default.toml.
#[derive(Parser, Debug)]
#[command(
    name = "hposim",
    version = hposim_fingerprint::VERSION,
    about,
    long_about,
    after_help = "Examples:\n  hposim                                  run experiments/default.toml\n  hposim run experiments/default.toml     the same, explicitly\n  hposim run my.toml --out results/my --threads 2\n  hposim list                             what can go in an experiment file\n  hposim brackets --max-fidelity 81 --eta 3   HyperBand's bracket table\n  hposim report results/default           report.md, report.html, figures, tables
  hposim data info mlp-digits             a recorded benchmark in data/\n\nExperiment files are documented key by key in experiments/README.md."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run an experiment: every benchmark × strategy × seed cell, in parallel.
    ///
    /// Each finished cell is written to DIR/cells/ (a Parquet trace and a JSON summary) and
    /// DIR/summary.json lists them all. Rerunning skips finished cells, so an interrupted run
    /// resumes where it stopped; editing the experiment reruns exactly the cells it changes.
    Run {
        /// The experiment file (TOML).
        experiment: PathBuf,
        /// Results directory [default: results/NAME, NAME being the experiment's name].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Threads to run cells on [default: all cores]. Results do not depend on it.
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        /// Reuse cells that other code (another hposim build: see `hposim --version`) computed
        /// with the same settings, instead of rerunning them.
        #[arg(long)]
        reuse_other_code: bool,
        /// Print every column of the end-of-run table (interquartile ranges, idle time, cost,
        /// full-training compute, plain regret); by default it fits 120 columns.
        #[arg(long)]
        wide: bool,
    },
    /// List the benchmarks, samplers and schedulers an experiment can use.
    List,
    /// Print HyperBand's bracket table: per bracket, per rung, the number of configurations and
    /// the fidelity, brackets in the order they run (largest s first).
    Brackets {
        /// Maximum fidelity R.
        #[arg(long, value_name = "R")]
        max_fidelity: f64,
        /// Reduction factor η (at least 2).
        #[arg(long, value_name = "E")]
        eta: f64,
        /// Minimum fidelity r.
        #[arg(long, value_name = "r", default_value_t = 1.0)]
        min_fidelity: f64,
        /// Bracket sizing: li (Li et al., JMLR 2018) or hpbandster (HpBandSter, used by BOHB).
        #[arg(long, value_parser = ["li", "hpbandster"], default_value = "li")]
        sizing: String,
        /// Print JSON: [{"bracket": s, "rungs": [{"configs": n, "fidelity": f}, ...]}, ...].
        #[arg(long)]
        json: bool,
    },
    /// Run a live study: real training processes under the experiment's strategies.
    ///
    /// The experiment file has a `[training]` table (command, space, objectives, fidelity,
    /// executor); see experiments/README.md and crates/runner/PROTOCOL.md. Writes the same
    /// cells/ and summary.json as `hposim run`, plus DIR/live/ (journal, logs, checkpoints).
    Tune {
        /// The live experiment file (TOML).
        experiment: PathBuf,
        /// Results directory [default: results/NAME].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Continue a study that was interrupted or killed, from its journal.
        #[arg(long)]
        resume: bool,
        /// Reuse studies that other code (another hposim build: see `hposim --version`)
        /// finished with the same settings, instead of running them again.
        #[arg(long)]
        reuse_other_code: bool,
    },
    /// Record real learning curves: train configurations to full fidelity and write a recorded
    /// benchmark (data/FORMAT.md) that `hposim run` can replay.
    Record {
        /// The live experiment file (TOML) with a `[training]` table.
        experiment: PathBuf,
        /// The table to write (FILE.parquet; its metadata goes to FILE.toml).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Configurations to record [default: record.configs of the file, else 16].
        #[arg(long, value_name = "N")]
        configs: Option<u32>,
        /// How to choose them: sobol, random or grid [default: record.design, else sobol].
        #[arg(long, value_name = "DESIGN")]
        design: Option<String>,
        /// Continue an interrupted recording.
        #[arg(long)]
        resume: bool,
    },
    /// Check the simulator against real training: record, replay each strategy in the
    /// simulator, run it live with the same seed, and report side by side.
    Validate {
        /// The live experiment file (TOML).
        experiment: PathBuf,
        /// Results directory [default: results/NAME].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Continue an interrupted validation.
        #[arg(long)]
        resume: bool,
    },
    /// Write the comparison report of a results directory (of `hposim run` or `hposim tune`):
    /// report.md, a self-contained report.html, figures (PNG and SVG) and tables (CSV).
    ///
    /// The first page is the verdict: per benchmark the best strategy, its final regret with a
    /// confidence interval, its speed-up over the baseline, compute and cost. Missing cells
    /// are listed, not fatal.
    Report {
        /// The results directory.
        results: PathBuf,
        /// Where to write [default: reports/NAME, NAME being the results directory's name].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The strategy speed-ups are measured against.
        #[arg(long, value_name = "STRATEGY", default_value = "random")]
        baseline: String,
        /// Which evaluations can be the incumbent: highest-fidelity (HpBandSter: the best at
        /// the highest fidelity reached so far) or any-fidelity (Syne Tune).
        #[arg(long, value_parser = ["highest-fidelity", "any-fidelity"], default_value = "highest-fidelity")]
        convention: String,
        /// Report only these strategies (by name; all by default).
        #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
        strategies: Vec<String>,
        /// Report only these benchmarks (by name; all by default).
        #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
        benchmarks: Vec<String>,
        /// Figure and font sizes: screen (10 inches wide) or column (3.5 inches, one column of
        /// a two-column paper, 7–8 pt text, legends below).
        #[arg(long, value_parser = ["screen", "column"], default_value = "screen")]
        figure_size: String,
    },
    /// Compare two results directories of the same experiment (a baseline and a candidate;
    /// either may be a digest written by `hposim digest`):
    /// per benchmark × strategy pair in both, the final score and the area under the anytime
    /// curve in the benchmark's measure, paired by seed for simulated results (common random
    /// numbers: Wilcoxon signed-rank) and unpaired for live studies (Mann–Whitney U), Holm over
    /// the pairs, the probability that NEW is better with its 95 % interval, compute and
    /// trials. Exits with 1 when any pair got significantly worse by more than --tolerance.
    Compare {
        /// The baseline results directory.
        base: PathBuf,
        /// The results directory to judge against it.
        new: PathBuf,
        /// Differences of median scores up to this (in the benchmark's measure, e.g. normalised
        /// regret) are no change, however significant.
        #[arg(long, default_value_t = 0.0)]
        tolerance: f64,
        /// Which evaluations can be the incumbent (as in `hposim report`).
        #[arg(long, value_parser = ["highest-fidelity", "any-fidelity"], default_value = "highest-fidelity")]
        convention: String,
        /// Also write the comparison as JSON to FILE.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
    },
    /// Write what `hposim compare` needs of a results directory (per cell its incumbent
    /// trajectory, compute and trials) as one JSON file, small enough to commit as a baseline.
    Digest {
        /// The results directory.
        results: PathBuf,
        /// The digest to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Which evaluations can be the incumbent (as in `hposim report`).
        #[arg(long, value_parser = ["highest-fidelity", "any-fidelity"], default_value = "highest-fidelity")]
        convention: String,
    },
    /// Export every step of every finished cell as one long table (Parquet or CSV, by the
    /// output's extension): benchmark, strategy, seed, trial, step and its unit, then the
    /// trace's columns (times in seconds, metrics, status, decision, configuration).
    Export {
        /// The results directory.
        results: PathBuf,
        /// The table to write: FILE.parquet or FILE.csv.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// The hypervolume of a CSV of points (header row = objective names; every objective
    /// minimised unless named in --maximize): prints the hypervolume of the non-dominated set with
    /// full precision on the first line, then the 0-based rows of the non-dominated points.
    Hypervolume {
        /// The CSV file.
        points: PathBuf,
        /// The reference point, one coordinate per objective: R1,R2,...
        #[arg(long, value_name = "R1,R2,...", allow_hyphen_values = true)]
        reference: String,
        /// Objectives to maximise, by name: NAME,...
        #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
        maximize: Vec<String>,
    },
    /// Recorded benchmarks (data/FORMAT.md): describe or validate one.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
}

#[derive(Subcommand, Debug)]
enum DataCommand {
    /// Print a recorded benchmark's space, objectives, fidelity range, configurations, best
    /// values and curve statistics, per task.
    Info {
        /// The table (FILE.parquet), its metadata (FILE.toml), or a name in ./data (mlp-digits).
        file: PathBuf,
    },
    /// Validate a recorded benchmark against data/FORMAT.md; exit status 1 with the file, row and
    /// column of the first problem.
    Check {
        /// The table (FILE.parquet), its metadata (FILE.toml), or a name in ./data (mlp-digits).
        file: PathBuf,
    },
}

/// Runs the command line `args` (the program's name first, as `std::env::args_os` gives it)
/// and returns the exit status: 0 on success, 1 with `error: ...` on stderr on failure, 2 for
/// a command line clap refuses (with its message), 0 for `--help` and `--version`.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    ExitCode::from(run_cli(args))
}

/// [`main_with_args`], with the exit status as a number (the Python package's `hposim`
/// command returns it to the shell).
pub fn run_cli<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with status 0; usage errors to stderr with 2.
            let _ = error.print();
            return u8::try_from(error.exit_code()).unwrap_or(2);
        }
    };
    let live = matches!(cli.command, Some(Command::Tune { .. } | Command::Record { .. } | Command::Validate { .. }));
    if !live {
        output::end_quietly_on_closed_pipe();
    }
    match execute(cli.command) {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("error: {error:#}");
            1
        }
    }
}

/// Runs the command line `args` as [`run_cli`] does, but returns a failure (a command line
/// clap refuses included, with clap's message) instead of printing it, and leaves the
/// process's signal handling alone: what the Python API calls, whose exceptions carry the
/// message the command line prints after `error: `.
pub fn command<I, T>(args: I) -> Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args).map_err(|e| anyhow::anyhow!("{}", e.render().to_string().trim_end()))?;
    execute(cli.command)
}

/// Runs one command.
fn execute(command: Option<Command>) -> Result<()> {
    match command {
        None => run(&default_experiment(), None, None, false, false, false),
        Some(Command::Run { experiment, out, threads, quiet, reuse_other_code, wide }) => {
            run(&experiment, out, threads, quiet, reuse_other_code, wide)
        }
        Some(Command::List) => {
            print!("{}", list());
            Ok(())
        }
        Some(Command::Brackets { max_fidelity, eta, min_fidelity, sizing, json }) => {
            brackets::print(min_fidelity, max_fidelity, eta, &sizing, json)
        }
        Some(Command::Tune { experiment, out, resume, reuse_other_code }) => live::tune(&experiment, out, resume, reuse_other_code),
        Some(Command::Record { experiment, out, configs, design, resume }) => {
            live::record(&experiment, &out, configs, design.as_deref(), resume)
        }
        Some(Command::Validate { experiment, out, resume }) => live::validate(&experiment, out, resume),
        Some(Command::Report { results, out, baseline, convention, strategies, benchmarks, figure_size }) => {
            report::report(&results, out, &baseline, &convention, &report::Selection { strategies, benchmarks, figure_size })
        }
        Some(Command::Compare { base, new, tolerance, convention, json }) => {
            compare::compare(&base, &new, tolerance, &convention, json.as_deref())
        }
        Some(Command::Digest { results, out, convention }) => compare::write_digest(&results, &out, &convention),
        Some(Command::Export { results, out }) => report::export(&results, &out),
        Some(Command::Hypervolume { points, reference, maximize }) => hypervolume::print(&points, &reference, &maximize),
        Some(Command::Data { command: DataCommand::Info { file } }) => data::info(&file),
        Some(Command::Data { command: DataCommand::Check { file } }) => data::check(&file),
    }
}

/// Most threads `--threads` accepts: a cell runs on one thread, and no machine hposim runs on
/// has more cores than this; beyond it a value is a typo.
const MAX_THREADS: usize = 1024;

/// `--out`, or else `results/<name>` with the experiment's name made safe
/// ([`hposim_results::default_folder`]), so a default folder never leaves `results/`.
pub(crate) fn results_folder(out: Option<PathBuf>, name: &str) -> Result<PathBuf> {
    match out {
        Some(out) => Ok(out),
        None => Ok(PathBuf::from("results").join(hposim_results::default_folder(name).map_err(|e| anyhow::anyhow!("name: {e}"))?)),
    }
}

/// `experiments/default.toml`, from the current directory or else from the source tree.
fn default_experiment() -> PathBuf {
    let local = PathBuf::from("experiments/default.toml");
    if local.is_file() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/default.toml")
}

fn run(path: &Path, out: Option<PathBuf>, threads: Option<usize>, quiet: bool, reuse_other_code: bool, wide: bool) -> Result<()> {
    let experiment = Experiment::load(path)?;
    run_experiment(&experiment, out, threads, quiet, reuse_other_code, wide, true).map(|_| ())
}

/// `hposim run`: runs `experiment` into `out` (default `results/NAME`) on `threads`
/// threads, with a progress bar unless `quiet`, printing what `hposim run` prints if `print`,
/// and returns the results directory.
pub fn run_experiment(
    experiment: &Experiment,
    out: Option<PathBuf>,
    threads: Option<usize>,
    quiet: bool,
    reuse_other_code: bool,
    wide: bool,
    print: bool,
) -> Result<PathBuf> {
    let out_dir = results_folder(out, &experiment.name)?;
    let threads = match threads {
        Some(n) if n == 0 || n > MAX_THREADS => anyhow::bail!("--threads: must lie in 1..={MAX_THREADS}, got {n}"),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let other = hposim_sim::other_code(experiment, &out_dir).with_context(|| format!("reading {}", out_dir.display()))?;
    if let Some(line) = other.notice(&out_dir, hposim_fingerprint::FINGERPRINT, reuse_other_code)
        && print
    {
        println!("{line}");
    }
    let total = hposim_sim::cells(experiment).len() as u64;
    let progress = ProgressBar::new(total);
    if quiet {
        progress.set_draw_target(ProgressDrawTarget::hidden());
    }
    progress.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} cells, {elapsed} elapsed, ~{eta} left")
            .context("progress bar template")?
            .progress_chars("=> "),
    );
    progress.set_prefix(format!("{} ", experiment.name));
    let started = Instant::now();
    let report = hposim_sim::run(experiment, &RunOptions { out_dir: out_dir.clone(), threads, reuse_other_code }, &|_, _| progress.inc(1))
        .with_context(|| format!("running {}", experiment.path.display()))?;
    let elapsed = started.elapsed().as_secs_f64();
    progress.finish_and_clear();
    if !print {
        return Ok(out_dir);
    }

    println!(
        "{}: {} cells ({} simulated, {} reused from an earlier run) -> {}",
        experiment.name,
        report.summaries.len(),
        report.ran,
        report.reused,
        out_dir.join("summary.json").display()
    );
    println!();
    let terminates_early = |name: &str| {
        experiment.spec.strategies.iter().find(|s| s.name == name).is_some_and(|s| s.scheduler.capabilities().terminates_early)
    };
    let options =
        table::TableOptions { with_cost: experiment.spec.price_per_worker_hour.is_some(), wide, terminates_early: &terminates_early };
    print!("{}", table::render(&hposim_eval::strategy_table(&report.summaries, &report.benchmarks), &options));
    println!();
    let rate = report.epochs_simulated as f64 / elapsed.max(1e-9);
    println!(
        "simulated {} epochs in {:.2} s of real time on {} threads: {:.0} epochs/s ({:.3} µs per epoch per thread, traces written)",
        report.epochs_simulated,
        elapsed,
        report.threads,
        rate,
        1e6 * elapsed * report.threads as f64 / (report.epochs_simulated.max(1) as f64)
    );
    Ok(out_dir)
}

/// What `hposim list` prints: every benchmark, sampler and scheduler type from the registries
/// (`hposim_curves::registry`, `hposim_samplers::registry`, `hposim_schedulers::registry`),
/// with what each can do.
pub fn list() -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "Benchmarks ([[benchmarks]] type = ...):");
    for b in hposim_curves::registry::BENCHMARKS {
        let mut can = vec![format!("objectives: {}", b.objectives)];
        if b.splice {
            can.push("changes configurations mid-training (PBT)".into());
        }
        if b.recorded {
            can.push("replays a recorded table (see `hposim data info FILE`)".into());
        }
        let _ = writeln!(out, "  {:<22} {}\n  {:<22} [{}]", b.name, b.summary, "", can.join("; "));
    }
    let _ = writeln!(out, "\nSamplers (sampler = {{ type = ... }}):");
    for s in hposim_samplers::registry::SAMPLERS {
        let learns = if s.learns { "learns from results" } else { "a design fixed in advance" };
        let _ = writeln!(out, "  {:<22} {}\n  {:<22} [ranks by: {}; {learns}]", s.name, s.summary, "", s.objectives.label());
    }
    let _ = writeln!(out, "\nSchedulers (scheduler = {{ type = ... }}), with their default settings:");
    for s in hposim_schedulers::registry::SCHEDULERS {
        let spec: Option<hposim_schedulers::SchedulerSpec> = toml::from_str(&format!("type = \"{}\"", s.name)).ok();
        let can = spec.map_or_else(String::new, |spec| {
            let capabilities = spec.capabilities();
            let mut labels: Vec<String> = capabilities.labels().into_iter().map(str::to_owned).collect();
            labels.push(format!("ranks by: {}", capabilities.objectives.label()));
            labels.join("; ")
        });
        let _ = writeln!(out, "  {:<22} {}\n  {:<22} [{can}]", s.name, s.summary, "");
    }
    let _ = writeln!(out, "\nSee experiments/README.md for every key.");
    out
}

/// What `hposim --version` prints after the name: the version and the fingerprint of the code
/// (results are tied to it).
pub const VERSION: &str = hposim_fingerprint::VERSION;

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
mod sweep;
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
        /// Run only the K-th of N disjoint shards of the cells (balanced by expected cost; the
        /// same partition on every machine), beside the other shards, which may run at the same
        /// time on the same DIR. summary.json is written by `hposim run` without --shard (or
        /// with --merge) once every shard has finished. `hposim submit` runs the shards on Slurm.
        #[arg(long, value_name = "K/N", conflicts_with = "merge")]
        shard: Option<hposim_sim::Shard>,
        /// Simulate nothing: write summary.json from the finished cells, or fail (exit status 1)
        /// naming the cells that no shard has finished.
        #[arg(long)]
        merge: bool,
        /// With --shard: refuse to run unless the partition's digest is this (what
        /// `hposim submit` computed; catches an experiment edited since, or another build).
        #[arg(long, value_name = "DIGEST", requires = "shard", hide = true)]
        expect_partition: Option<String>,
    },
    /// Run an experiment's shards as a Slurm job array, and summary.json after them.
    ///
    /// Writes the results folder's manifest and the partition into N shards (DIR/shards.json),
    /// submits one job array whose task K runs `hposim run EXPERIMENT --out DIR --shard K/N`
    /// and a job that runs `hposim run --merge` once every task has ended, and prints their job
    /// ids. Only shards with unfinished cells are submitted, so submitting again after a failure
    /// runs only what is missing. Assumes a filesystem shared with the nodes (DIR, the
    /// experiment and its data) and this hposim at the same path there (or --hposim).
    Submit {
        /// The experiment file (TOML).
        experiment: PathBuf,
        /// Submit to Slurm (the only scheduler for now; required, so that another can be added).
        #[arg(long, required = true)]
        slurm: bool,
        /// Results directory [default: results/NAME].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Shards, one array task each [default: one per 32 cells, at most 1000].
        #[arg(long, value_name = "N")]
        shards: Option<u32>,
        /// sbatch --partition.
        #[arg(long, value_name = "P")]
        partition: Option<String>,
        /// sbatch --time of each task (e.g. 2:00:00).
        #[arg(long, value_name = "T")]
        time: Option<String>,
        /// sbatch --cpus-per-task of each task, and its threads (1 to 1024) [default: 1].
        #[arg(long, value_name = "C", default_value_t = 1)]
        cpus_per_task: u32,
        /// sbatch --mem of each task and of the summary job (e.g. 4G).
        #[arg(long, value_name = "M")]
        mem: Option<String>,
        /// sbatch --account.
        #[arg(long, value_name = "A")]
        account: Option<String>,
        /// At most this many tasks of the array at once (sbatch --array=...%L).
        #[arg(long, value_name = "L")]
        max_running: Option<u32>,
        /// The hposim the tasks run [default: this one, by its absolute path].
        #[arg(long, value_name = "PATH")]
        hposim: Option<PathBuf>,
        /// Print what would be submitted (the sbatch argument vectors), submit nothing.
        #[arg(long)]
        dry_run: bool,
        /// Further sbatch options, after `--` (e.g. -- --qos=long --constraint=skylake); not those
        /// hposim sets itself (--array, --dependency, --output, --error, --chdir, --cpus-per-task,
        /// --parsable, --wrap).
        #[arg(last = true, value_name = "SBATCH OPTIONS")]
        sbatch: Vec<String>,
    },
    /// Progress of a results folder, from its files alone: cells finished out of the
    /// experiment's, per shard, and the Slurm tasks of `hposim submit` that failed or still run.
    Status {
        /// The results directory.
        results: PathBuf,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
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
        None => run(&default_experiment(), &RunSettings { print: true, ..RunSettings::default() }),
        Some(Command::Run { experiment, out, threads, quiet, reuse_other_code, wide, shard, merge, expect_partition }) => {
            run(&experiment, &RunSettings { out, threads, quiet, reuse_other_code, wide, print: true, shard, merge, expect_partition })
        }
        Some(Command::Submit {
            experiment,
            slurm: _,
            out,
            shards,
            partition,
            time,
            cpus_per_task,
            mem,
            account,
            max_running,
            hposim,
            dry_run,
            sbatch,
        }) => sweep::submit(
            &experiment,
            out,
            &sweep::SlurmOptions { shards, partition, time, cpus_per_task, mem, account, max_running, hposim, dry_run, sbatch },
        ),
        Some(Command::Status { results, json }) => sweep::status(&results, json),
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
pub(crate) const MAX_THREADS: usize = 1024;

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

fn run(path: &Path, settings: &RunSettings) -> Result<()> {
    let experiment = Experiment::load(path)?;
    run_experiment(&experiment, settings).map(|_| ())
}

/// How `hposim run` runs an experiment (its command line's options).
#[derive(Clone, Debug, Default)]
pub struct RunSettings {
    /// Results directory [default: `results/NAME`].
    pub out: Option<PathBuf>,
    /// Threads [default: all cores].
    pub threads: Option<usize>,
    /// No progress bar.
    pub quiet: bool,
    /// Reuse cells of other code with the same settings.
    pub reuse_other_code: bool,
    /// Every column of the end-of-run table.
    pub wide: bool,
    /// Print what `hposim run` prints.
    pub print: bool,
    /// Only this shard's cells.
    pub shard: Option<hposim_sim::Shard>,
    /// Simulate nothing: only write summary.json, if every cell is finished.
    pub merge: bool,
    /// The partition digest a shard must belong to.
    pub expect_partition: Option<String>,
}

/// `hposim run`: runs `experiment` as `settings` say and returns the results directory.
pub fn run_experiment(experiment: &Experiment, settings: &RunSettings) -> Result<PathBuf> {
    let RunSettings { out, threads, quiet, reuse_other_code, wide, print, shard, merge, expect_partition } = settings.clone();
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
    let all = hposim_sim::cells(experiment);
    let total = match shard {
        Some(shard) => {
            hposim_sim::shard::assign_cells(experiment, &all, shard.count).iter().filter(|&&k| k + 1 == shard.index).count() as u64
        }
        None => all.len() as u64,
    };
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
    let options =
        RunOptions { out_dir: out_dir.clone(), threads, reuse_other_code, shard, merge_only: merge, expected_partition: expect_partition };
    let report =
        hposim_sim::run(experiment, &options, &|_, _| progress.inc(1)).with_context(|| format!("running {}", experiment.path.display()))?;
    let elapsed = started.elapsed().as_secs_f64();
    progress.finish_and_clear();
    if !print {
        return Ok(out_dir);
    }
    if let Some(shard) = report.shard {
        // A shard's table would show a partial grid; the merge prints the whole one.
        println!(
            "{}: shard {shard}: {} of the {} cells ({} simulated, {} reused from an earlier run) -> {}",
            experiment.name,
            report.summaries.len(),
            report.total_cells,
            report.ran,
            report.reused,
            out_dir.join("cells").display()
        );
        println!(
            "summary.json is written once every shard has finished: `hposim run {} --out {} --merge` (`hposim status {}` shows progress)",
            experiment.path.display(),
            out_dir.display(),
            out_dir.display()
        );
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

//! `hposim tune`, `hposim record` and `hposim validate`: real training under the strategies.

use anyhow::{Context, Result, bail};
use hposim_runner::LiveExperiment;
use hposim_runner::spec::Design;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A flag that Ctrl-C (SIGINT) and SIGTERM set, so a live study ends its trials cleanly and
/// can be resumed; a second Ctrl-C exits at once (the journal still loses nothing).
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = Arc::clone(&flag);
    let installed = ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
        eprintln!("interrupted: ending the running trials (Ctrl-C again to exit now)");
    });
    if let Err(e) = installed {
        eprintln!("warning: cannot handle Ctrl-C ({e}); a killed study still resumes with --resume");
    }
    flag
}

fn load(path: &Path) -> Result<LiveExperiment> {
    Ok(LiveExperiment::load(path)?)
}

/// `dir` made absolute: trials run in their own working directory (and Slurm jobs on other
/// nodes), so every path handed to them must be.
fn absolute(dir: PathBuf) -> Result<PathBuf> {
    std::path::absolute(&dir).with_context(|| format!("resolving {}", dir.display()))
}

/// `hposim tune`.
pub fn tune(path: &Path, out: Option<PathBuf>, resume: bool, reuse_other_code: bool) -> Result<()> {
    let experiment = load(path)?;
    if experiment.spec.strategies.is_empty() {
        bail!("{}: strategies: add at least one [[strategies]] table", path.display());
    }
    let out_dir = absolute(crate::results_folder(out, &experiment.name)?)?;
    let interrupt = interrupt_flag();
    let mlflow = match &experiment.spec.mlflow {
        Some(spec) => {
            let names = experiment.spec.training.objectives.iter().map(|o| o.name.clone()).collect();
            let client = hposim_runner::mlflow::Mlflow::new(spec, &experiment.name)
                .map_err(|e| anyhow::anyhow!("{}: mlflow: {e}", path.display()))?;
            Some(Box::new(client.with_objectives(names)) as Box<dyn hposim_runner::tracker::Tracker>)
        }
        None => None,
    };
    let tracker = Some(Box::new(progress(&experiment, mlflow)) as Box<dyn hposim_runner::tracker::Tracker>);
    let mut options = hposim_runner::tune::TuneOptions {
        out_dir: out_dir.clone(),
        resume,
        restrict: None,
        restrict_hash: None,
        tracker,
        interrupt: &interrupt,
        reuse_other_code,
    };
    let other = hposim_runner::tune::other_code(&experiment, &out_dir, None)?;
    if let Some(line) = other.notice(&out_dir, hposim_fingerprint::FINGERPRINT, reuse_other_code) {
        crate::say!("{line}");
    }
    let results = hposim_runner::tune::tune(&experiment, &mut options, &mut |result| {
        let s = &result.summary;
        let reused = if result.reused { " (finished earlier)" } else { "" };
        crate::say!(
            "{} seed {}: {} trials, {} steps, best {} = {}, wall-clock {:.1} s, compute {:.1} s, stop: {}{reused}",
            s.strategy,
            s.seed,
            s.trials,
            s.epochs,
            s.objective,
            s.best_objective_max_fidelity.or(s.best_objective).map_or("none".to_owned(), |v| format!("{v:.5}")),
            s.wallclock_seconds,
            s.compute_seconds,
            s.stop_reason
        );
        if let Some(outcome) = result.outcome.as_ref().filter(|_| !result.reused) {
            for trial in outcome.trials.iter().filter(|t| t.status == "failed" || t.status == "diverged") {
                let reason = trial.reason.as_deref().unwrap_or("?");
                crate::say!("  trial {} {}: {reason} (log: {})", trial.trial, trial.status, trial.log.display());
            }
            for warning in &outcome.tracker_warnings {
                eprintln!("  warning: tracking: {warning}");
            }
        }
        if crate::output::stdout_closed() {
            // Nobody reads the study's output any more: end it as Ctrl-C would.
            interrupt.store(true, Ordering::Relaxed);
        }
    })?;
    drop(options);
    crate::say!("{} studies; traces and summaries in {}", results.len(), out_dir.display());
    let objective = &experiment.spec.training.objectives[0];
    let best = results
        .iter()
        .filter_map(|r| r.summary.best_config.as_ref().map(|b| (r, b)))
        .reduce(|a, b| if b.1.better_than(a.1, objective) { b } else { a });
    if let Some((result, best)) = best {
        let unit = &experiment.spec.training.fidelity.unit;
        crate::say!(
            "best configuration: {} ({} {} at {unit} {}, trial {} of {} seed {}; in summary.json as best_config)",
            serde_json::Value::Object(best.config.clone()),
            result.summary.objective,
            best.value,
            best.step,
            best.trial,
            result.summary.strategy,
            result.summary.seed
        );
    }
    let trials: u64 = results.iter().map(|r| r.summary.trials).sum();
    let failed: u64 = results.iter().map(|r| r.summary.diverged_trials).sum();
    if trials > 0 && failed == trials {
        bail!(
            "every trial failed ({trials} of {trials}): see the reasons above and the trial logs under {}",
            out_dir.join("live").display()
        );
    }
    Ok(())
}

/// The progress display of `experiment`'s studies, passing tracking calls on to `inner`.
pub(crate) fn progress(experiment: &LiveExperiment, inner: Option<Box<dyn hposim_runner::tracker::Tracker>>) -> crate::progress::Progress {
    let training = &experiment.spec.training;
    crate::progress::Progress::new(training.objectives[0].clone(), training.fidelity.max, &training.fidelity.unit, inner)
}

/// `hposim record`.
pub fn record(path: &Path, out: &Path, configs: Option<u32>, design: Option<&str>, resume: bool) -> Result<()> {
    let experiment = load(path)?;
    let design = match design {
        None => experiment.spec.record.design,
        Some("sobol") => Design::Sobol,
        Some("random") => Design::Random,
        Some("grid") => Design::Grid,
        Some(other) => bail!("--design: expected sobol, random or grid, got {other:?}"),
    };
    let configs = configs.unwrap_or(experiment.spec.record.configs);
    if configs == 0 {
        bail!("--configs: must be at least 1");
    }
    if out.extension().and_then(|e| e.to_str()) != Some("parquet") {
        bail!("--out: give a .parquet file (its metadata goes beside it as .toml), got {}", out.display());
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let out = &absolute(out.to_owned())?;
    let interrupt = interrupt_flag();
    let mut progress = progress(&experiment, None);
    let done = hposim_runner::record::record(&experiment, out, configs, design, resume, &interrupt, Some(&mut progress))?;
    progress.finish();
    for (trial, reason) in &done.left_out {
        crate::say!("left out trial {trial}: {reason}");
    }
    crate::say!(
        "recorded {} configurations in {:.1} s into {} (check it with: hposim data check {})",
        done.recorded,
        done.wallclock_seconds,
        out.display(),
        out.display()
    );
    Ok(())
}

/// `hposim validate`.
pub fn validate(path: &Path, out: Option<PathBuf>, resume: bool) -> Result<()> {
    let experiment = load(path)?;
    if experiment.spec.strategies.is_empty() {
        bail!("{}: strategies: add at least one [[strategies]] table", path.display());
    }
    let out_dir = absolute(crate::results_folder(out, &experiment.name)?)?;
    let interrupt = interrupt_flag();
    crate::validate::validate(&experiment, &out_dir, resume, &interrupt)?;
    let report = out_dir.join("validation/report.md");
    let text = std::fs::read_to_string(&report).with_context(|| format!("reading {}", report.display()))?;
    crate::output::say(format_args!("{text}"));
    crate::say!("(report: {} and report.json beside it)", report.display());
    Ok(())
}

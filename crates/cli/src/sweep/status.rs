//! `hposim status RESULTS`: how far a results folder is, from its files alone: cells finished
//! out of the manifest's, per shard of the last partition (`shards.json`), and what the tasks
//! of the last `hposim submit` recorded (`slurm/shard-K.state`). Where `squeue` answers, it
//! also tells queued and running tasks from those killed without notice.

use super::{Recorded, SLURM_DIR, Submission, is_finished, read_partition, read_state, read_submissions};
use anyhow::{Context, Result, anyhow};
use hposim_runner::slurm::JobState;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// What `hposim status` reports (printed as a table, or as JSON with `--json`).
#[derive(Debug, Serialize)]
struct FolderStatus {
    folder: PathBuf,
    experiment: String,
    kind: String,
    cells: usize,
    finished: usize,
    /// Whether `summary.json` lists every cell.
    summary: bool,
    shards: Vec<ShardStatus>,
    /// The job arrays's id and the summary job of the last submission.
    array: Option<String>,
    summary_job: Option<TaskStatus>,
    /// Tasks of the last submission that ended without finishing their shard.
    failed_tasks: Vec<String>,
}

#[derive(Debug, Serialize)]
struct ShardStatus {
    shard: String,
    cells: usize,
    finished: usize,
    task: Option<TaskStatus>,
}

#[derive(Debug, Serialize)]
struct TaskStatus {
    job: String,
    state: String,
    failed: bool,
    /// The job's output (Slurm's `--output`), and its last line where it failed.
    log: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_line: Option<String>,
}

/// Prints the progress of the results folder `dir`.
pub(crate) fn status(dir: &Path, json: bool) -> Result<()> {
    let manifest = hposim_results::read_manifest(dir)?
        .ok_or_else(|| anyhow!("{}: no manifest.json here, so not a results folder of hposim run, tune or submit", dir.display()))?;
    let cells_dir = dir.join("cells");
    let done: HashSet<&str> = manifest.cells.iter().map(|c| c.cell.as_str()).filter(|id| is_finished(&cells_dir, id)).collect();
    let summary = read_summary_count(dir).is_some_and(|n| n == manifest.cells.len());
    let submissions = read_submissions(dir)?;
    let last = submissions.last();
    let queue = last.and_then(|_| hposim_runner::slurm::job_states().ok());
    let slurm_dir = dir.join(SLURM_DIR);

    let partition = read_partition(dir)?;
    let mut failed_tasks = Vec::new();
    let shards = partition.as_ref().map_or_else(Vec::new, |partition| {
        partition
            .cells
            .iter()
            .enumerate()
            .map(|(i, ids)| {
                let k = i as u32 + 1;
                let task = last.filter(|s| s.shards == partition.shards && s.tasks.contains(&k)).map(|s| {
                    let job = format!("{}_{k}", s.array);
                    let recorded = read_state(&slurm_dir.join(format!("shard-{k}.state"))).filter(|(j, _)| *j == job);
                    let pending_array = queue.as_ref().and_then(|q| q.get(&s.array)).is_some_and(|a| a.state == "PENDING");
                    task_status(&job, recorded.map(|(_, r)| r), queue.as_ref(), pending_array, &slurm_dir)
                });
                let finished = ids.iter().filter(|id| done.contains(id.as_str())).count();
                if let Some(task) = &task
                    && task.failed
                    && finished < ids.len()
                {
                    failed_tasks.push(task.job.clone());
                }
                ShardStatus { shard: format!("{k}/{}", partition.shards), cells: ids.len(), finished, task }
            })
            .collect()
    });
    let summary_job = last.and_then(|s| merge_status(s, queue.as_ref(), &slurm_dir));
    let status = FolderStatus {
        folder: dir.to_owned(),
        experiment: manifest.experiment.clone(),
        kind: manifest.kind.clone(),
        cells: manifest.cells.len(),
        finished: done.len(),
        summary,
        shards,
        array: last.map(|s| s.array.clone()),
        summary_job,
        failed_tasks,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&status).context("encoding the status")?);
    } else {
        print!("{}", render(&status, last));
    }
    Ok(())
}

/// The entries of `summary.json`, if it is there and a list.
fn read_summary_count(dir: &Path) -> Option<usize> {
    let bytes = std::fs::read(dir.join("summary.json")).ok()?;
    serde_json::from_slice::<Vec<serde_json::Value>>(&bytes).ok().map(|cells| cells.len())
}

/// The state of job `job` from what it recorded and, where `squeue` answered, what Slurm says
/// (`pending_array`: its array is listed as pending, which covers tasks not yet started).
fn task_status(
    job: &str,
    recorded: Option<Recorded>,
    queue: Option<&HashMap<String, JobState>>,
    pending_array: bool,
    slurm_dir: &Path,
) -> TaskStatus {
    let log = slurm_dir.join(format!("{job}.out"));
    let queued = queue.and_then(|q| q.get(job));
    let (state, failed) = match (queued, &recorded) {
        (Some(q), _) if !hposim_runner::slurm::has_ended(&q.state) => (q.state.to_lowercase(), false),
        (_, Some(Recorded::Exit(0))) => ("finished".to_owned(), false),
        (_, Some(Recorded::Exit(code))) => (format!("failed (exit {code})"), true),
        (_, Some(Recorded::Terminated)) => ("ended by Slurm (cancelled or out of time)".to_owned(), true),
        (_, Some(Recorded::Running)) if queue.is_some() => ("killed (started, no end recorded, no longer queued)".to_owned(), true),
        (_, Some(Recorded::Running)) => ("running (or killed without notice: squeue did not answer)".to_owned(), false),
        (Some(q), None) => (format!("{} before it started", q.state.to_lowercase()), true),
        (None, None) if pending_array => ("pending".to_owned(), false),
        (None, None) if queue.is_some() => ("gone without a record (cancelled before it started?)".to_owned(), true),
        (None, None) => ("no record yet (pending, or squeue did not answer)".to_owned(), false),
    };
    let last_line = if failed { last_line(&log) } else { None };
    TaskStatus { job: job.to_owned(), state, failed, log, last_line }
}

/// The summary job of submission `s`.
fn merge_status(s: &Submission, queue: Option<&HashMap<String, JobState>>, slurm_dir: &Path) -> Option<TaskStatus> {
    let job = s.merge.as_ref()?;
    let recorded = read_state(&slurm_dir.join("merge.state")).filter(|(j, _)| j == job).map(|(_, r)| r);
    Some(task_status(job, recorded, queue, false, slurm_dir))
}

/// The last non-empty line of the file at `path`.
fn last_line(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().rev().find(|l| !l.trim().is_empty()).map(|l| l.trim().to_owned())
}

fn render(status: &FolderStatus, last: Option<&Submission>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let percent = 100.0 * status.finished as f64 / status.cells.max(1) as f64;
    let _ = writeln!(
        out,
        "{} ({} experiment {:?}): {} of {} cells finished ({percent:.1} %); summary.json: {}",
        status.folder.display(),
        status.kind,
        status.experiment,
        status.finished,
        status.cells,
        if status.summary { "written, with every cell" } else { "not written yet" }
    );
    if let Some(last) = last {
        let _ = writeln!(
            out,
            "last submission: job array {} ({} of {} shards), summary job {}",
            last.array,
            last.tasks.len(),
            last.shards,
            last.merge.as_deref().unwrap_or("not submitted")
        );
    }
    if !status.shards.is_empty() {
        let _ = writeln!(out, "\n{:<11} {:>7} {:>9}  task", "shard", "cells", "finished");
        for shard in &status.shards {
            let task = shard.task.as_ref().map_or_else(
                || if shard.finished == shard.cells { "-".to_owned() } else { "not submitted".to_owned() },
                |t| format!("job {}: {}", t.job, t.state),
            );
            let _ = writeln!(out, "{:<11} {:>7} {:>9}  {task}", shard.shard, shard.cells, shard.finished);
            if let Some(t) = shard.task.as_ref().filter(|t| t.failed) {
                let _ = writeln!(out, "{:<31}{}: {}", "", t.log.display(), t.last_line.as_deref().unwrap_or("(no output)"));
            }
        }
    }
    if let Some(job) = &status.summary_job {
        let _ = writeln!(out, "\nsummary job {}: {}", job.job, job.state);
        if job.failed {
            let _ = writeln!(out, "  {}: {}", job.log.display(), job.last_line.as_deref().unwrap_or("(no output)"));
        }
    }
    let missing = status.cells - status.finished;
    if missing > 0 && !status.failed_tasks.is_empty() {
        let experiment = last.map_or_else(|| "EXPERIMENT".to_owned(), |s| s.experiment.display().to_string());
        let _ = writeln!(
            out,
            "\n{} task(s) failed with {missing} cells unfinished; `hposim submit {experiment} --slurm --out {}` runs only what is missing",
            status.failed_tasks.len(),
            status.folder.display()
        );
    }
    out
}

//! Sweeps on a cluster: what `hposim submit` leaves in a results folder and `hposim status`
//! reads back (the submissions, the job scripts and the states their tasks record), so that
//! progress can be seen from the files alone, on any machine that shares the folder.
//!
//! A results folder of a submitted sweep holds, besides the cells, manifest and
//! `shards.json` (the partition, [`hposim_sim::shard`]):
//!
//! | file | written by | content |
//! |---|---|---|
//! | `slurm/submissions.jsonl` | `hposim submit` | one line per submission: job ids, shards, tasks |
//! | `slurm/shard.sh`, `slurm/merge.sh` | `hposim submit` | the job scripts ([`SHARD_SCRIPT`], [`MERGE_SCRIPT`]) |
//! | `slurm/shard-K.state` | task K | `JOB running`, then `JOB exit CODE` or `JOB terminated` |
//! | `slurm/merge.state` | the summary job | the same |
//! | `slurm/JOB.out` | Slurm | each job's output and errors |

mod status;
mod submit;

pub(crate) use status::status;
pub(crate) use submit::{SlurmOptions, submit};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The folder of a sweep's Slurm files inside its results folder.
const SLURM_DIR: &str = "slurm";
/// One JSON line per submission.
const SUBMISSIONS_FILE: &str = "submissions.jsonl";

/// The script of task K of the array: it runs the command it is given (sbatch passes the
/// arguments through unchanged, so no shell ever parses a value) with `--shard K/N`, K being the
/// task's id, and records the task's state in `slurm/shard-K.state` (written to a temporary
/// file and renamed, so a reader never sees half a line). hposim runs in the background while
/// the script waits for it, so a SIGTERM from Slurm (`scancel`, the time limit; sent to the
/// whole job, or to the script alone with `scancel -b`) is trapped at once: the trap passes it
/// on to hposim, waits for it to exit and records `terminated`. Only a SIGKILL, KillWait seconds
/// later, leaves `running` behind.
const SHARD_SCRIPT: &str = r#"#!/bin/sh
# hposim submit: one shard of a sweep (task K of a Slurm job array runs shard K of N).
# Arguments: the folder for state files, N, then the command (hposim run ...), which gets
# --shard K/N appended. Values arrive as arguments, never through a shell string.
states=$1
shards=$2
shift 2
job="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
state="$states/shard-$SLURM_ARRAY_TASK_ID.state"
record() { printf '%s %s\n' "$job" "$1" > "$state.$$" && mv -f "$state.$$" "$state"; }
record running
"$@" --shard "$SLURM_ARRAY_TASK_ID/$shards" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; record terminated; exit 143' TERM
wait "$child"
code=$?
record "exit $code"
exit $code
"#;

/// The script of the job that writes `summary.json` once the array's tasks have ended
/// (`hposim run --merge`, which fails naming the missing cells if a task did not finish its
/// shard), recording its state in `slurm/merge.state` as [`SHARD_SCRIPT`] does.
const MERGE_SCRIPT: &str = r#"#!/bin/sh
# hposim submit: summary.json of a sweep once every shard has ended (hposim run --merge).
# Arguments: the folder for state files, then the command.
states=$1
shift
job=$SLURM_JOB_ID
state="$states/merge.state"
record() { printf '%s %s\n' "$job" "$1" > "$state.$$" && mv -f "$state.$$" "$state"; }
record running
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; record terminated; exit 143' TERM
wait "$child"
code=$?
record "exit $code"
exit $code
"#;

/// One submission of a sweep, a line of `slurm/submissions.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Submission {
    /// Seconds since the Unix epoch.
    submitted: u64,
    /// The experiment file, absolute.
    experiment: PathBuf,
    /// N.
    shards: u32,
    /// The shards submitted (those with unfinished cells), from 1.
    tasks: Vec<u32>,
    /// The job array's id.
    array: String,
    /// The summary job's id (None if its submission failed).
    merge: Option<String>,
}

/// The submissions recorded in the results folder `dir`, oldest first.
fn read_submissions(dir: &Path) -> Result<Vec<Submission>> {
    let path = dir.join(SLURM_DIR).join(SUBMISSIONS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| serde_json::from_str(line).with_context(|| format!("{}: line {}: not a submission record", path.display(), i + 1)))
        .collect()
}

/// The partition recorded in the results folder `dir` (`shards.json`), if there is one.
fn read_partition(dir: &Path) -> Result<Option<hposim_sim::Partition>> {
    let path = dir.join(hposim_sim::SHARDS_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| format!("{}: not a partition into shards", path.display()))?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// What a job recorded in its state file.
#[derive(Clone, Debug, PartialEq)]
enum Recorded {
    /// It started and has not recorded an end (it runs, or it was killed without notice).
    Running,
    /// It ended with this exit code.
    Exit(i32),
    /// Slurm ended it (SIGTERM: scancel or its time limit).
    Terminated,
}

/// The state file `path`: the job that wrote it and what it recorded (None if absent or not
/// a state line).
fn read_state(path: &Path) -> Option<(String, Recorded)> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut words = text.split_whitespace();
    let job = words.next()?.to_owned();
    let recorded = match (words.next()?, words.next()) {
        ("running", None) => Recorded::Running,
        ("terminated", None) => Recorded::Terminated,
        ("exit", Some(code)) => Recorded::Exit(code.parse().ok()?),
        _ => return None,
    };
    Some((job, recorded))
}

/// Whether cell `id` is finished in `cells_dir` (its trace and its summary are there), by the
/// files' presence alone: cheap enough for 50,000 cells on a network filesystem.
fn is_finished(cells_dir: &Path, id: &str) -> bool {
    hposim_results::summary_path(cells_dir, id).is_file() && hposim_results::trace_path(cells_dir, id).is_file()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn state_files_are_read_back_as_the_scripts_write_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shard-2.state");
        for (text, expected) in [
            ("12_2 running\n", Some(("12_2".to_owned(), Recorded::Running))),
            ("12_2 exit 1\n", Some(("12_2".to_owned(), Recorded::Exit(1)))),
            ("12_2 terminated\n", Some(("12_2".to_owned(), Recorded::Terminated))),
            ("12_2 exit\n", None),
            ("", None),
        ] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(read_state(&path), expected, "{text:?}");
        }
        assert_eq!(read_state(&dir.path().join("absent.state")), None);
    }
}

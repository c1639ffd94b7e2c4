//! The journal of a live study: one JSON record per line, appended and flushed to disk before
//! the study acts on it, so that killing `hposim tune` (even with SIGKILL) loses no completed
//! step. `hposim tune --resume` replays the journal through a fresh strategy built with the
//! same seed: strategies are deterministic given the calls they receive, so replaying every
//! call in order rebuilds their state exactly, and the study carries on from there.
//!
//! A last line cut off by the kill is ignored (it was never acted on); any other unreadable
//! line is an error naming the file and line.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// What a scheduler answered when asked about a free worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Asked {
    /// A new trial with this configuration (JSON of its active parameters) until a step.
    Start {
        /// The configuration.
        config: Map<String, Json>,
        /// Target step.
        until: u32,
    },
    /// A paused trial resumed until a step.
    Resume {
        /// The trial.
        trial: u32,
        /// Target step.
        until: u32,
    },
    /// A new trial from another trial's checkpoint (population-based training).
    Exploit {
        /// The trial whose checkpoint it starts from.
        donor: u32,
        /// The trial it replaces.
        recipient: u32,
        /// The copied step.
        step: u32,
        /// The new trial's configuration.
        config: Map<String, Json>,
        /// Target step.
        until: u32,
    },
    /// Nothing to do yet.
    Wait,
    /// Nothing to do ever.
    Finish,
}

/// One journal record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// The scheduler was asked about free worker `worker` at study time `now`.
    Ask {
        /// The worker slot.
        worker: u32,
        /// Study seconds.
        now: f64,
        /// Id a new trial would get.
        next_trial: u32,
        /// The answer.
        answer: Asked,
    },
    /// A process was started for a trial.
    Launch {
        /// The trial.
        trial: u32,
        /// The worker slot.
        worker: u32,
        /// The launch number.
        launch: u64,
        /// Study seconds.
        now: f64,
        /// Steps already recorded.
        start_step: u32,
        /// Target step.
        until: u32,
        /// The local process group or Slurm job id, to end it if `hposim tune` is killed.
        handle: Option<String>,
    },
    /// A step completed with finite metrics; the scheduler decided `decision`.
    Step {
        /// The trial.
        trial: u32,
        /// The worker slot.
        worker: u32,
        /// The step.
        step: u32,
        /// Study seconds when the step started.
        start: f64,
        /// Study seconds when its report arrived.
        end: f64,
        /// One value per objective.
        metrics: Vec<f64>,
        /// Other numeric fields of the report.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        extra: Vec<(String, f64)>,
        /// The trace's decision label (`continue`, `pause`, `stop`, `done`, `cut`).
        decision: String,
    },
    /// A trial failed (diverged metrics, crash, timeout, bad output); the scheduler was told.
    Fail {
        /// The trial.
        trial: u32,
        /// The worker slot.
        worker: u32,
        /// The step it failed at.
        step: u32,
        /// Study seconds when the step started.
        start: f64,
        /// Study seconds when the failure was seen.
        end: f64,
        /// `diverged` (NaN metrics) or `failed`.
        status: String,
        /// The metrics, if the trial reported any (NaN otherwise).
        metrics: Vec<Option<f64>>,
        /// What happened.
        reason: String,
    },
    /// A process ended.
    Exit {
        /// The launch number.
        launch: u64,
        /// Study seconds.
        now: f64,
        /// Its exit code, if it exited.
        code: Option<i32>,
    },
    /// The study ended.
    End {
        /// Study seconds.
        now: f64,
        /// Why (`strategy_finished`, `budget:...`).
        stop_reason: String,
    },
}

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
}

/// A journal that cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", path.display(), line.map(|l| format!(", line {l}")).unwrap_or_default())]
pub struct JournalError {
    /// The journal.
    pub path: PathBuf,
    /// The line, where one is at fault.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path` for appending.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(|e| JournalError {
            path: path.to_owned(),
            line: None,
            message: e.to_string(),
        })?;
        Ok(Self { path: path.to_owned(), file })
    }

    /// Appends `record` and flushes it to disk.
    pub fn append(&mut self, record: &Record) -> Result<(), JournalError> {
        self.append_as(record)
    }

    /// Appends a record of any serialisable type (another kind of journal, such as an
    /// ask/tell study's) and flushes it to disk.
    pub fn append_as<R: Serialize>(&mut self, record: &R) -> Result<(), JournalError> {
        let fail = |message: String| JournalError { path: self.path.clone(), line: None, message };
        let mut line = serde_json::to_vec(record).map_err(|e| fail(e.to_string()))?;
        line.push(b'\n');
        self.file.write_all(&line).map_err(|e| fail(e.to_string()))?;
        self.file.sync_data().map_err(|e| fail(e.to_string()))
    }

    /// The records of the journal at `path` (none if it does not exist). A cut-off last line
    /// is dropped, and truncated from the file so that appending continues cleanly.
    pub fn read(path: &Path) -> Result<Vec<Record>, JournalError> {
        Self::read_as(path)
    }

    /// [`Journal::read`] for records of another type.
    pub fn read_as<R: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<R>, JournalError> {
        let fail = |line: Option<usize>, message: String| JournalError { path: path.to_owned(), line, message };
        // Only a regular file is read (a FIFO put in its place would block the study forever).
        let file = match hposim_core::input::open_regular(path, u64::MAX) {
            Ok((file, _)) => file,
            Err(hposim_core::input::InputError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(fail(None, e.to_string())),
        };
        let mut records = Vec::new();
        let mut good_bytes = 0u64;
        let mut reader = BufReader::new(file);
        let mut buffer = Vec::new();
        let mut number = 0;
        loop {
            buffer.clear();
            let read = reader.read_until(b'\n', &mut buffer).map_err(|e| fail(None, e.to_string()))?;
            if read == 0 {
                break;
            }
            number += 1;
            // A last line without its newline was being written when the study was killed.
            if !buffer.ends_with(b"\n") {
                break;
            }
            let record = serde_json::from_slice::<R>(&buffer).map_err(|e| fail(Some(number), format!("unreadable record ({e})")))?;
            records.push(record);
            good_bytes += read as u64;
        }
        let length = std::fs::metadata(path).map_err(|e| fail(None, e.to_string()))?.len();
        if length > good_bytes {
            let file = OpenOptions::new().write(true).open(path).map_err(|e| fail(None, e.to_string()))?;
            file.set_len(good_bytes).map_err(|e| fail(None, e.to_string()))?;
        }
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_off_last_line_is_dropped_and_a_corrupt_line_is_named() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("journal.jsonl");
        let mut journal = Journal::open(&path).unwrap_or_else(|e| panic!("{e}"));
        let end = Record::End { now: 1.5, stop_reason: "strategy_finished".into() };
        journal.append(&end).unwrap_or_else(|e| panic!("{e}"));
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"{\"record\":\"exit\",\"lau"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Journal::read(&path).unwrap_or_else(|e| panic!("{e}")), std::slice::from_ref(&end));
        // The fragment was cut away, so appending goes on cleanly.
        Journal::open(&path).and_then(|mut j| j.append(&end)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Journal::read(&path).unwrap_or_else(|e| panic!("{e}")).len(), 2);
        std::fs::write(&path, "{\"record\":\"end\",\"now\":1,\"stop_reason\":\"x\"}\nnot json\n{}\n").unwrap_or_else(|e| panic!("{e}"));
        let error = Journal::read(&path).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("line 2") && error.contains("unreadable record"), "{error}");
        // Something else than a file where the journal should be is refused, not read.
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let status = std::process::Command::new("mkfifo").arg(&path).status().unwrap_or_else(|e| panic!("{e}"));
        assert!(status.success());
        let error = Journal::read(&path).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("it is a named pipe (FIFO), not a regular file"), "{error}");
    }
}

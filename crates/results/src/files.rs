//! Writing a results directory's files atomically, and reading them back with their trace
//! format checked.

use crate::trace_file::{TraceMetadata, write_trace};
use hposim_core::input::{InputError, read_text};
use hposim_core::{CellSummary, Exploit, MANIFEST_FILE, Manifest, SearchSpace, TRACE_FORMAT_VERSION, Trace};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A results file that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Reading or writing failed.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause (shown in the message, so not a `source`: it would be printed twice).
        error: std::io::Error,
    },
    /// A file could not be encoded (a trace or JSON document).
    #[error("{}: cannot write the {what}: {message}", path.display())]
    Encode {
        /// The file.
        path: PathBuf,
        /// What was being written (`trace`, `summary`, ...).
        what: &'static str,
        /// The cause.
        message: String,
    },
    /// A file was written by another version of hposim, or is not what its name says.
    #[error("{}: {message}", path.display())]
    Refused {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
    move |error| FileError::Io { path: path.to_owned(), error }
}

/// The error of reading `path` with [`hposim_core::input`], as a [`FileError`].
pub(crate) fn unreadable(path: &Path) -> impl FnOnce(InputError) -> FileError + '_ {
    move |error| match error {
        InputError::Io(error) => FileError::Io { path: path.to_owned(), error },
        other => refused(path, other.to_string()),
    }
}

fn refused(path: &Path, message: impl Into<String>) -> FileError {
    FileError::Refused { path: path.to_owned(), message: message.into() }
}

/// File-name-safe form of a name (letters, digits, `-`, `_` and `.` kept, the rest `_`).
pub fn safe_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' }).collect()
}

/// Creates the temporary file `<path>.<pid>-<nonce>-<n>.tmp` that becomes `path` once complete
/// (`n` counting this process's temporary files, `nonce` random per process), new (never an
/// existing file opened again), and locked (an exclusive `flock`, held while it is open).
///
/// The unique name keeps writers of the same file apart: shards of one sweep each write the
/// folder's manifest (the same bytes), possibly on several nodes of one shared filesystem where
/// process ids repeat, and with one temporary name one would truncate the other's file and its
/// rename would fail. The lock tells a temporary file that is being written from one left by a
/// killed process, which a later run removes ([`is_abandoned`]).
pub(crate) fn create_tmp(path: &Path) -> Result<(File, PathBuf), FileError> {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    static NONCE: OnceLock<u32> = OnceLock::new();
    // RandomState's keys come from the operating system's randomness, once per process.
    let nonce = *NONCE.get_or_init(|| std::collections::hash_map::RandomState::new().build_hasher().finish() as u32);
    loop {
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let mut name = path.file_name().unwrap_or_default().to_owned();
        name.push(format!(".{}-{nonce:08x}-{n}.tmp", std::process::id()));
        let tmp = path.with_file_name(name);
        match OpenOptions::new().read(true).write(true).create_new(true).open(&tmp) {
            Ok(file) => {
                // Where the filesystem has no locks, an unlocked file is merely never removed
                // by another run while its cell is rerun (a leftover is harmless).
                let _ = file.try_lock();
                return Ok((file, tmp));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(FileError::Io { path: tmp, error }),
        }
    }
}

/// Whether the temporary file at `path` was left by a process that is gone: nothing holds its
/// lock ([`create_tmp`]). A file that cannot be opened or locked (another holds it, or the
/// filesystem has no locks) is not.
pub fn is_abandoned(path: &Path) -> bool {
    OpenOptions::new().write(true).open(path).is_ok_and(|file| file.try_lock().is_ok())
}

/// Writes `bytes` to `path` atomically (see [`write_atomically_with`]), unless `path` already
/// holds exactly these bytes: then nothing is written, so rerunning a finished experiment
/// leaves its folder untouched (and works where the folder is read-only).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    if fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64) && fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    PendingFile::with_bytes(path, bytes)?.commit()
}

/// Writes `value` as pretty JSON to `path` atomically; `what` names it in errors.
pub fn write_json_atomically(path: &Path, value: &impl serde::Serialize, what: &'static str) -> Result<(), FileError> {
    write_atomically(path, &pretty_json(path, value, what)?)
}

/// `value` as pretty JSON, for the file `path`, which errors name with `what`.
fn pretty_json(path: &Path, value: &impl serde::Serialize, what: &'static str) -> Result<Vec<u8>, FileError> {
    serde_json::to_vec_pretty(value).map_err(|e| FileError::Encode { path: path.to_owned(), what, message: e.to_string() })
}

/// Removes from `cells_dir` the temporary files of the cells in `cells` (by file stem) that
/// earlier, killed attempts left ([`create_tmp`]'s `<cell>.parquet.<pid>-<nonce>-<n>.tmp`, and
/// the same for the summary and exploits; `<file>.tmp` as hposim wrote before): a process killed
/// with SIGKILL cannot remove its own. Only files that nobody holds are removed
/// ([`is_abandoned`]), so a cell run twice at once by mistake does not lose its file.
pub fn remove_abandoned_temporaries(cells_dir: &Path, cells: &std::collections::HashSet<&str>) {
    let Ok(entries) = fs::read_dir(cells_dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".tmp")) else { continue };
        let file = stem
            .rsplit_once('.')
            .filter(|(_, tag)| !tag.is_empty() && tag.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
            .map_or(stem, |(file, _)| file);
        let cell = [".exploits.json", ".parquet", ".json"].iter().find_map(|suffix| file.strip_suffix(suffix));
        if cell.is_some_and(|cell| cells.contains(cell)) && is_abandoned(&entry.path()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Creates `path` atomically: `write` fills a new temporary file ([`create_tmp`]) in the same
/// directory, which is flushed to disk and then renamed over `path`, so `path` is either absent
/// or complete.
pub fn write_atomically_with(path: &Path, write: impl FnOnce(&mut File, &Path) -> Result<(), FileError>) -> Result<(), FileError> {
    PendingFile::write_with(path, write)?.commit()
}

/// A complete file under its temporary name ([`create_tmp`]), which it keeps locked, not yet
/// flushed to disk and renamed into place; removed if dropped before [`PendingFile::rename`].
/// Flushing several pending files one after the other costs the filesystem one journal commit
/// rather than one each, so a writer of many small files can flush them in batches.
pub struct PendingFile {
    file: File,
    tmp: PathBuf,
    path: PathBuf,
    renamed: bool,
}

impl PendingFile {
    /// The pending file `tmp`, open as `file`, that becomes `path`.
    pub(crate) fn new(file: File, tmp: PathBuf, path: PathBuf) -> Self {
        Self { file, tmp, path, renamed: false }
    }

    /// `write` fills a new temporary file ([`create_tmp`]) that becomes `path`; removed if
    /// `write` fails.
    pub fn write_with(path: &Path, write: impl FnOnce(&mut File, &Path) -> Result<(), FileError>) -> Result<Self, FileError> {
        let (mut file, tmp) = create_tmp(path)?;
        let written = write(&mut file, &tmp);
        let pending = Self::new(file, tmp, path.to_owned());
        written.map(|()| pending)
    }

    /// Writes `bytes` into a new temporary file that becomes `path`.
    pub fn with_bytes(path: &Path, bytes: &[u8]) -> Result<Self, FileError> {
        Self::write_with(path, |file, tmp| file.write_all(bytes).map_err(io(tmp)))
    }

    /// Writes `value` as pretty JSON into a new temporary file that becomes `path`; `what`
    /// names it in errors.
    pub fn with_json(path: &Path, value: &impl serde::Serialize, what: &'static str) -> Result<Self, FileError> {
        Self::with_bytes(path, &pretty_json(path, value, what)?)
    }

    /// The temporary name it has until it is renamed.
    pub fn tmp(&self) -> &Path {
        &self.tmp
    }

    /// Flushes the file to disk.
    pub fn sync(&self) -> Result<(), FileError> {
        self.file.sync_all().map_err(io(&self.tmp))
    }

    /// Renames the file into place (after [`PendingFile::sync`], for it to survive a crash).
    pub fn rename(mut self) -> Result<(), FileError> {
        fs::rename(&self.tmp, &self.path).map_err(io(&self.path))?;
        self.renamed = true;
        Ok(())
    }

    /// Flushes the file to disk and renames it into place.
    pub fn commit(self) -> Result<(), FileError> {
        self.sync()?;
        self.rename()
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The trace file of cell `id` in `cells_dir`.
pub fn trace_path(cells_dir: &Path, id: &str) -> PathBuf {
    cells_dir.join(format!("{id}.parquet"))
}

/// The summary file of cell `id` in `cells_dir`; its presence marks the cell finished.
pub fn summary_path(cells_dir: &Path, id: &str) -> PathBuf {
    cells_dir.join(format!("{id}.json"))
}

/// The exploits file of cell `id` in `cells_dir` (population-based training).
pub fn exploits_path(cells_dir: &Path, id: &str) -> PathBuf {
    cells_dir.join(format!("{id}.exploits.json"))
}

/// Writes cell `id`'s files into `cells_dir`: its trace (configurations from `space`; its
/// benchmark, strategy, seed and code from `summary` and its step unit `step_unit` as the
/// file's metadata), its exploits if it has any, and then its summary, whose presence marks the
/// cell finished.
pub fn write_cell(
    cells_dir: &Path,
    id: &str,
    trace: &Trace,
    space: &SearchSpace,
    summary: &CellSummary,
    step_unit: &str,
) -> Result<(), FileError> {
    let path = trace_path(cells_dir, id);
    let metadata = TraceMetadata {
        benchmark: summary.benchmark.clone(),
        strategy: summary.strategy.clone(),
        seed: summary.seed,
        step_unit: step_unit.to_owned(),
        code: summary.fingerprint.clone(),
    };
    write_atomically_with(&path, |file, tmp| {
        write_trace(trace, space, Some(&metadata), file).map_err(|e| FileError::Encode {
            path: tmp.to_owned(),
            what: "trace",
            message: e.to_string(),
        })
    })?;
    finish_cell(cells_dir, id, trace, space, summary)
}

/// Writes what follows a cell's trace file: its exploits if it has any, then its summary, whose
/// presence marks the cell finished.
pub fn finish_cell(cells_dir: &Path, id: &str, trace: &Trace, space: &SearchSpace, summary: &CellSummary) -> Result<(), FileError> {
    if !trace.exploits.is_empty() {
        write_json_atomically(&exploits_path(cells_dir, id), &exploits_json(trace, space), "exploits")?;
    }
    write_json_atomically(&summary_path(cells_dir, id), summary, "summary")
}

/// The exploits of `trace` as JSON: one object per exploit with `time`, `step`, `trial`,
/// `donor`, `recipient`, and the configurations `old_config` (the recipient's) and
/// `new_config` (the new trial's, the donor's configuration after explore) by parameter name.
pub fn exploits_json(trace: &Trace, space: &SearchSpace) -> serde_json::Value {
    let config_of = |t: u32| trace.configs.get(t as usize).map(|c| serde_json::Value::Object(c.to_json(space)));
    serde_json::Value::Array(
        trace
            .exploits
            .iter()
            .map(|e| {
                serde_json::json!({
                    "time": e.time,
                    "step": e.step,
                    "trial": e.trial,
                    "donor": e.donor,
                    "recipient": e.recipient,
                    "old_config": config_of(e.recipient),
                    "new_config": config_of(e.trial),
                })
            })
            .collect(),
    )
}

/// The summary of cell `id` if an earlier run finished it (its trace and its summary are there
/// and readable).
pub fn finished_cell(cells_dir: &Path, id: &str) -> Option<CellSummary> {
    if !trace_path(cells_dir, id).is_file() {
        return None;
    }
    read_summary(&summary_path(cells_dir, id)).ok()
}

/// Refuses a file of another trace format (files written before the field existed are format 1).
fn check_format(path: &Path, found: Option<u64>) -> Result<(), FileError> {
    let found = found.unwrap_or(1);
    if found != u64::from(TRACE_FORMAT_VERSION) {
        return Err(refused(
            path,
            format!(
                "written with trace format {found}, but this hposim reads format {TRACE_FORMAT_VERSION}; rerun the experiment with this version (`hposim run` reruns exactly the cells that changed)"
            ),
        ));
    }
    Ok(())
}

/// Reads a JSON document of this trace format at `path`; `what` names it in errors.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, FileError> {
    let text = read_text(path).map_err(unreadable(path))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| refused(path, format!("not a {what}: {e}")))?;
    check_format(path, value.get("trace_format").and_then(serde_json::Value::as_u64))?;
    serde_json::from_value(value).map_err(|e| refused(path, format!("not a {what} of this hposim version: {e}")))
}

/// Reads the cell summary at `path`.
pub fn read_summary(path: &Path) -> Result<CellSummary, FileError> {
    read_json(path, "cell summary")
}

/// Reads the manifest of the results directory `dir`, if it has one.
pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>, FileError> {
    let path = dir.join(MANIFEST_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    read_json(&path, "manifest").map(Some)
}

/// The exploits listed at `path`; none if the file does not exist.
pub fn read_exploits(path: &Path) -> Result<Vec<Exploit>, FileError> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let text = read_text(path).map_err(unreadable(path))?;
    serde_json::from_str(&text).map_err(|e| refused(path, format!("not a list of exploits: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
    use super::*;

    fn temporaries(dir: &Path) -> Vec<String> {
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.ends_with(".tmp")).collect()
    }

    /// A pending file is complete but not in place until renamed, held (so another run does not
    /// take it for a killed process's leftover), and gone if dropped before its rename.
    #[test]
    fn a_pending_file_appears_only_when_renamed_and_vanishes_if_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cell.json");
        let pending = PendingFile::with_json(&path, &serde_json::json!({"a": 1}), "summary").unwrap();
        let tmp = dir.path().join(&temporaries(dir.path())[0]);
        assert!(!path.exists());
        assert!(!is_abandoned(&tmp), "a pending file is held");
        assert_eq!(fs::read(&tmp).unwrap(), b"{\n  \"a\": 1\n}");
        pending.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"{\n  \"a\": 1\n}");
        assert!(temporaries(dir.path()).is_empty());

        let other = dir.path().join("other.json");
        let pending = PendingFile::with_bytes(&other, b"x").unwrap();
        pending.sync().unwrap();
        drop(pending);
        assert!(!other.exists());
        assert!(temporaries(dir.path()).is_empty(), "a pending file dropped before its rename is removed");
    }
}

//! Cells tied to the code that made them. A cell's file stem ends with a hash of its settings
//! *and* of the code fingerprint, so a cell computed by other code is never found under the
//! stem this code looks for: it is rerun. Its settings hash alone, written into its summary,
//! finds it again when the user asks to reuse other code's cells on purpose.
//!
//! Cells written before fingerprints existed carry no settings hash in their summary, but
//! their stem ends with exactly the settings hash (their key had no fingerprint), so they are
//! found the same way.

use crate::files::{FileError, exploits_path, read_summary, summary_path, trace_path, write_atomically, write_json_atomically};
use hposim_core::rng::stable_hash;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// The identity of a cell: the hash of its settings, and its file stem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellIdentity {
    /// 16 hex digits: the hash of the cell's settings (its key without the fingerprint).
    pub settings: String,
    /// The file stem: `<prefix>__<16 hex digits>`, the hash of the settings and the fingerprint.
    pub id: String,
}

/// The identity of the cell whose settings serialise to `settings` (JSON of its key), whose
/// stem starts with `prefix` and whose hash is tagged `tag` (`live` for live studies, empty for
/// simulated cells), computed by code with `fingerprint`.
pub fn identity(prefix: &str, tag: &str, settings: &[u8], fingerprint: &str) -> CellIdentity {
    let plain = stable_hash(0, &[settings]);
    let with_code = stable_hash(0, &[settings, b"\0fingerprint\0", fingerprint.as_bytes()]);
    CellIdentity { settings: format!("{tag}{plain:016x}"), id: format!("{prefix}__{tag}{with_code:016x}") }
}

/// A finished cell found in a results directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundCell {
    /// Its file stem.
    pub id: String,
    /// The fingerprint of the code that made it (empty: before fingerprints existed).
    pub fingerprint: String,
}

/// The finished cells in `cells_dir` (summary and trace both there), by settings hash.
pub fn finished_cells(cells_dir: &Path) -> Result<HashMap<String, Vec<FoundCell>>, FileError> {
    let mut found: HashMap<String, Vec<FoundCell>> = HashMap::new();
    let Ok(entries) = std::fs::read_dir(cells_dir) else { return Ok(found) };
    for entry in entries {
        let path = entry.map_err(|error| FileError::Io { path: cells_dir.to_owned(), error })?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let Some(id) = name.strip_suffix(".json").filter(|stem| !stem.ends_with(".exploits")) else { continue };
        if !trace_path(cells_dir, id).is_file() {
            continue;
        }
        // An unreadable summary (another trace format, a half-written file) is not reusable.
        let Ok(summary) = read_summary(&path) else { continue };
        let settings =
            if summary.settings.is_empty() { id.rsplit("__").next().unwrap_or_default().to_owned() } else { summary.settings.clone() };
        found.entry(settings).or_default().push(FoundCell { id: id.to_owned(), fingerprint: summary.fingerprint });
    }
    for cells in found.values_mut() {
        cells.sort_by(|a, b| a.id.cmp(&b.id));
    }
    Ok(found)
}

/// Copies the finished cell `from` to the stem `to` of the cell with settings hash `settings`
/// (trace, exploits, then the summary with its new stem and settings hash; the fingerprint it
/// records stays that of the code that made it).
pub fn adopt(cells_dir: &Path, from: &str, to: &str, settings: &str) -> Result<hposim_core::CellSummary, FileError> {
    let copy = |source: &Path, target: &Path| -> Result<(), FileError> {
        let bytes =
            hposim_core::input::read_bytes(source, hposim_core::input::MAX_TABLE_BYTES).map_err(crate::files::unreadable(source))?;
        write_atomically(target, &bytes)
    };
    copy(&trace_path(cells_dir, from), &trace_path(cells_dir, to))?;
    if exploits_path(cells_dir, from).is_file() {
        copy(&exploits_path(cells_dir, from), &exploits_path(cells_dir, to))?;
    }
    let mut summary = read_summary(&summary_path(cells_dir, from))?;
    summary.cell = to.to_owned();
    summary.settings = settings.to_owned();
    write_json_atomically(&summary_path(cells_dir, to), &summary, "summary")?;
    Ok(summary)
}

/// For each cell (`(id, settings)`) that this code has not finished in `cells_dir` but other
/// code has, with the same settings: the other code's cell.
pub fn of_other_code<'a>(
    cells: impl IntoIterator<Item = (&'a str, &'a str)>,
    cells_dir: &Path,
) -> Result<HashMap<String, FoundCell>, FileError> {
    let mut found = finished_cells(cells_dir)?;
    let mut other = HashMap::new();
    for (id, settings) in cells {
        if let Some(candidates) = found.remove(settings)
            && !candidates.iter().any(|c| c.id == id)
            && let Some(cell) = candidates.into_iter().next()
        {
            other.insert(id.to_owned(), cell);
        }
    }
    Ok(other)
}

/// Cells of a results directory that other code computed with the settings of cells this code
/// is about to run: rerun, unless the user asks to reuse them (`--reuse-other-code`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OtherCode {
    /// Cells that only other code has finished.
    pub cells: usize,
    /// The fingerprints of that code (empty: before fingerprints existed).
    pub fingerprints: BTreeSet<String>,
}

impl OtherCode {
    /// What [`of_other_code`] found.
    pub fn of(found: &HashMap<String, FoundCell>) -> Self {
        Self { cells: found.len(), fingerprints: found.values().map(|f| f.fingerprint.clone()).collect() }
    }

    /// The one line the command prints about them (`None` if there are none), for the results
    /// directory `dir` and this code's `fingerprint`; `reuse` says whether they are reused.
    pub fn notice(&self, dir: &Path, fingerprint: &str, reuse: bool) -> Option<String> {
        if self.cells == 0 {
            return None;
        }
        let code: Vec<String> = self
            .fingerprints
            .iter()
            .map(|f| if f.is_empty() { "code from before fingerprints".to_owned() } else { format!("code {f}") })
            .collect();
        let made_by = format!("made by other code ({}; this is code {fingerprint})", code.join(", "));
        Some(if reuse {
            format!("{}: reusing {} cells {made_by}, as --reuse-other-code asks", dir.display(), self.cells)
        } else {
            format!("{}: {} cells were {made_by}; they are rerun (--reuse-other-code reuses them instead)", dir.display(), self.cells)
        })
    }
}

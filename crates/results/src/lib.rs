//! The files of an hposim results directory, written by `hposim run` (simulated cells) and
//! `hposim tune` (live studies) alike, and read by `hposim report`:
//!
//! | file | content | module |
//! |---|---|---|
//! | `manifest.json` | every cell the experiment runs, per benchmark the values regret is judged against, the code fingerprint | [`files::read_manifest`] |
//! | `cells/<cell>.parquet` | the cell's trace ([`hposim_core::trace`] lists the columns) | [`trace_file`] |
//! | `cells/<cell>.exploits.json` | population-based training's exploits | [`files::write_cell`], [`files::read_exploits`] |
//! | `cells/<cell>.json` | the cell's summary; its presence marks the cell finished | [`files::write_cell`], [`files::read_summary`] |
//!
//! One hposim at a time writes a folder, or the shards of one sweep together ([`lock`]). Every file is written atomically (a temporary file, flushed, then renamed), so an
//! interrupted run leaves each file either absent or complete; the summary is written last.
//! Readers refuse files of another trace format, naming the file.

pub mod files;
pub mod lock;
pub mod names;
pub mod other_code;
pub mod trace_file;

pub use files::{
    FileError, PendingFile, exploits_json, exploits_path, finish_cell, finished_cell, is_abandoned, read_exploits, read_manifest,
    read_summary, remove_abandoned_temporaries, safe_name, summary_path, trace_path, write_atomically, write_atomically_with, write_cell,
    write_json_atomically,
};
pub use lock::{FolderLock, LOCK_FILE, lock_folder, lock_folder_shared};
pub use names::{MAX_NAME_CHARS, check_name, default_folder};
pub use other_code::{CellIdentity, FoundCell, OtherCode, adopt, finished_cells, identity, of_other_code};
pub use trace_file::{
    READ_CHUNK_ROWS, TraceMetadata, TraceWriter, read_trace, read_trace_frame, read_trace_metadata, trace_frame, trace_rows, write_trace,
};

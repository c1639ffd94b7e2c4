//! A scratch folder under the system's temporary directory, removed when dropped. (Not the
//! `tempfile` crate: its dependencies' features would differ from those of the Python
//! extension's build, and CI's second release build, the wheel's, would then compile polars
//! again instead of reusing the first build's artifacts.)

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A folder that exists until this value is dropped.
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    /// A new, empty folder named for this process and a counter.
    pub fn new() -> std::io::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!("hposim-perf-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let path = std::env::temp_dir().join(name);
        // A folder of an earlier process with the same id is stale.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)?;
        Ok(Self { path })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

//! The files the fingerprint covers and their hash, shared by the build script (which computes
//! the fingerprint) and the tests (which recompute it over a changed copy of the sources).

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The workspace crates whose sources the fingerprint covers (folders under `crates/`): those
/// that compute cells or write their files.
pub const RESULT_CRATES: &[&str] = &["core", "curves", "samplers", "schedulers", "book", "results", "sim", "runner", "fingerprint"];

/// The covered paths of the workspace at `workspace` (files or folders, which need not exist),
/// in a fixed order: each covered crate's `src/`, `build.rs` and `Cargo.toml`, then the
/// workspace's `Cargo.toml` and `Cargo.lock`.
pub fn covered_paths(workspace: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for name in RESULT_CRATES {
        for part in ["src", "build.rs", "Cargo.toml"] {
            paths.push(workspace.join("crates").join(name).join(part));
        }
    }
    paths.push(workspace.join("Cargo.toml"));
    paths.push(workspace.join("Cargo.lock"));
    paths
}

/// The fingerprint of the workspace at `workspace` built by a compiler whose `rustc -vV` printed
/// `compiler`: the first 16 hex digits of SHA-256 over every covered file (its path relative to
/// the workspace, with `/`, and its bytes, each length-prefixed, files in path order) and the
/// compiler's version; and how many files it covers.
pub fn fingerprint(workspace: &Path, compiler: &[u8]) -> (String, usize) {
    let mut files = Vec::new();
    for path in covered_paths(workspace) {
        collect(&path, &mut files);
    }
    let mut named: Vec<(String, PathBuf)> = files
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(workspace).unwrap_or(&file);
            let name: Vec<String> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            (name.join("/"), file)
        })
        .collect();
    named.sort();
    let mut hash = Sha256::new();
    for (name, file) in &named {
        let bytes = std::fs::read(file).unwrap_or_default();
        hash.update((name.len() as u64).to_le_bytes());
        hash.update(name.as_bytes());
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    hash.update(compiler);
    let digest = hash.finalize();
    (digest.iter().take(8).map(|b| format!("{b:02x}")).collect(), named.len())
}

/// `path` if it is a file, or every file under it if it is a folder.
fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_owned());
    } else if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            collect(&entry.path(), out);
        }
    }
}

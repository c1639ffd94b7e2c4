//! The code fingerprint: a hash of every source that can change a result, computed when hposim
//! is built, so that a results directory is never silently reused by other code.
//!
//! **What it covers** ([`sources`]). The sources (`src/`, `build.rs`, `Cargo.toml`) of the
//! crates in [`RESULT_CRATES`], which compute cells and write their files (the model, the
//! benchmarks, the samplers and schedulers, the trial book, both executors, the trace format),
//! the workspace's `Cargo.toml` and `Cargo.lock` (dependency versions: a new `rand` or `statrs`
//! can change a number), and the compiler's version. It leaves out the crates that only read
//! results (`eval`, `report`) and the command line (`cli`), so that improving a report does not
//! rerun experiments, and it leaves out tests and benchmarks. Any edit of a covered file changes
//! it, a comment included: a fingerprint cannot tell which edits change a number, so it errs on
//! the side of recomputing.
//!
//! **Why a build-time hash and not the git revision.** A revision misses uncommitted edits (the
//! very case of a researcher changing a sampler and rerunning), needs git and a checkout at run
//! time (absent from an installed binary or a wheel), and changes on commits that touch only
//! documentation. A hash of the sources themselves changes exactly when a covered file does,
//! committed or not, and travels inside the binary.
//!
//! The fingerprint is shown by `hposim --version`, written to `manifest.json` and every cell
//! summary, and is part of every cell key (`hposim-results`' `other_code` module).

pub mod sources;

pub use sources::RESULT_CRATES;

/// The fingerprint: the first 16 hex digits of SHA-256 over the covered files.
pub const FINGERPRINT: &str = env!("HPOSIM_FINGERPRINT");

/// How many files the fingerprint covers.
pub const FILES: &str = env!("HPOSIM_FINGERPRINT_FILES");

/// The version line: hposim's version and the fingerprint of its code.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (code ", env!("HPOSIM_FINGERPRINT"), ")");

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::path::{Path, PathBuf};

    fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// A copy of the covered files of this workspace in a temporary folder.
    fn copy_of_sources() -> tempfile::TempDir {
        let copy = tempfile::tempdir().unwrap();
        fn copy_tree(from: &Path, to: &Path) {
            if from.is_file() {
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::fs::copy(from, to).unwrap();
            } else if from.is_dir() {
                for entry in std::fs::read_dir(from).unwrap() {
                    let entry = entry.unwrap();
                    copy_tree(&entry.path(), &to.join(entry.file_name()));
                }
            }
        }
        let root = workspace();
        for path in sources::covered_paths(&root) {
            copy_tree(&path, &copy.path().join(path.strip_prefix(&root).unwrap()));
        }
        copy
    }

    fn compiler() -> Vec<u8> {
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
        std::process::Command::new(rustc).arg("-vV").output().unwrap().stdout
    }

    #[test]
    fn the_fingerprint_is_sixteen_hex_digits_over_the_covered_files() {
        assert_eq!(FINGERPRINT.len(), 16);
        assert!(FINGERPRINT.chars().all(|c| c.is_ascii_hexdigit()), "{FINGERPRINT}");
        let files: usize = FILES.parse().unwrap();
        assert!(files > 50, "only {files} files were hashed: is the workspace layout intact?");
        assert!(VERSION.ends_with(&format!("(code {FINGERPRINT})")));
        for name in RESULT_CRATES {
            assert!(workspace().join("crates").join(name).join("src").is_dir(), "crates/{name}/src is not there");
        }
    }

    #[test]
    fn the_same_sources_give_the_built_fingerprint_wherever_they_lie_and_one_changed_line_another() {
        let copy = copy_of_sources();
        let compiler = compiler();
        // Recomputed over a copy elsewhere: the fingerprint this binary was built with (unless
        // a covered file was edited after the build, which the next build picks up).
        let (same, files) = sources::fingerprint(copy.path(), &compiler);
        assert_eq!((same.as_str(), files.to_string()), (FINGERPRINT, FILES.to_owned()));
        // One line of a sampler changed: another fingerprint, hence other cell keys.
        let sampler = copy.path().join("crates/samplers/src/random.rs");
        let text = std::fs::read_to_string(&sampler).unwrap();
        std::fs::write(&sampler, text.replacen("space.sample(rng)", "space.sample(rng) /* changed */", 1)).unwrap();
        assert_ne!(std::fs::read_to_string(&sampler).unwrap(), text, "the edit did not apply");
        let (changed, _) = sources::fingerprint(copy.path(), &compiler);
        assert_ne!(changed, FINGERPRINT);
        // Files outside the covered crates (a report's code) do not count.
        std::fs::create_dir_all(copy.path().join("crates/report/src")).unwrap();
        std::fs::write(copy.path().join("crates/report/src/lib.rs"), "// a better report").unwrap();
        assert_eq!(sources::fingerprint(copy.path(), &compiler).0, changed);
        // Nor does the compiler stay out of it.
        assert_ne!(sources::fingerprint(copy.path(), b"rustc 0.0.0").0, changed);
    }
}

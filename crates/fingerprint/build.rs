//! Computes the code fingerprint (see src/sources.rs) and hands it to the library as the
//! environment variables `HPOSIM_FINGERPRINT` and `HPOSIM_FINGERPRINT_FILES`. Cargo reruns this
//! script whenever a covered file changes.

#[path = "src/sources.rs"]
mod sources;

use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let workspace = manifest_dir.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
    for path in sources::covered_paths(&workspace) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rerun-if-env-changed=RUSTC");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let compiler = std::process::Command::new(rustc).arg("-vV").output().map(|o| o.stdout).unwrap_or_default();
    let (fingerprint, files) = sources::fingerprint(&workspace, &compiler);
    println!("cargo:rustc-env=HPOSIM_FINGERPRINT={fingerprint}");
    println!("cargo:rustc-env=HPOSIM_FINGERPRINT_FILES={files}");
}

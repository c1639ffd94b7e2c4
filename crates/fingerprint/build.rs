//! Computes the code fingerprint (see src/sources.rs) and hands it to the library as the
//! environment variables `HPOSIM_FINGERPRINT` and `HPOSIM_FINGERPRINT_FILES`. Cargo reruns this
//! script whenever a covered file changes.

#[path = "src/sources.rs"]
mod sources;

use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let workspace = manifest_dir.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
    // Only paths that exist: Cargo reruns a build script on every build while a path it
    // watches is missing. A crate's folder covers its sources and a build script added later.
    for name in sources::RESULT_CRATES {
        println!("cargo:rerun-if-changed={}", workspace.join("crates").join(name).display());
    }
    for name in ["Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", workspace.join(name).display());
    }
    println!("cargo:rerun-if-env-changed=RUSTC");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let compiler = std::process::Command::new(rustc).arg("-vV").output().map(|o| o.stdout).unwrap_or_default();
    let (fingerprint, files) = sources::fingerprint(&workspace, &compiler);
    println!("cargo:rustc-env=HPOSIM_FINGERPRINT={fingerprint}");
    println!("cargo:rustc-env=HPOSIM_FINGERPRINT_FILES={files}");
}

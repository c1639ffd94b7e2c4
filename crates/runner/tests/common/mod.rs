//! What the live-study tests share.

use hposim_runner::spec::LiveExperiment;
use hposim_runner::tune::{LiveResult, TuneOptions, tune};
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// Runs every study of `experiment` into `out` (continuing one with `resume`), ended early when
/// `interrupt` is set; the error as the CLI would print it.
pub fn run(experiment: &LiveExperiment, out: &Path, interrupt: &AtomicBool, resume: bool) -> Result<Vec<LiveResult>, String> {
    let mut options = TuneOptions {
        out_dir: out.to_owned(),
        resume,
        restrict: None,
        restrict_hash: None,
        tracker: None,
        interrupt,
        reuse_other_code: false,
    };
    tune(experiment, &mut options, &mut |_| {}).map_err(|e| e.to_string())
}

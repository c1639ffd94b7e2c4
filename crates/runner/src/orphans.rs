//! Ending processes left behind by a study that was killed (SIGKILL gives it no chance to end
//! its trials): on `--resume`, every launch the journal shows without an exit is ended through
//! the handle its executor journaled, before the trial is relaunched on the same checkpoint.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::path::Path;

/// Ends the process group `pgid:N` or the Slurm job `slurm:ID` (or the one whose id the file
/// `slurm-file:PATH` holds) of a trial whose checkpoint
/// directory is `checkpoint_dir`; a handle that is already gone is ignored. A process group is
/// ended only if its leader is still that trial's process (its environment names the
/// checkpoint directory), since the id may have been reused meanwhile.
pub fn end(handle: &str, checkpoint_dir: &Path) {
    if let Some(group) = handle.strip_prefix("pgid:").and_then(|g| g.parse::<i32>().ok()).filter(|&g| g > 1) {
        let marker = format!("{}={}", crate::protocol::ENV_CHECKPOINT_DIR, checkpoint_dir.display());
        let ours = std::fs::read(format!("/proc/{group}/environ"))
            .is_ok_and(|environ| environ.split(|&b| b == 0).any(|entry| entry == marker.as_bytes()));
        if ours {
            let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
        }
    } else if let Some(file) = handle.strip_prefix("slurm-file:") {
        // Written when the launch was submitted; absent if it never was.
        if let Ok(id) = std::fs::read_to_string(file) {
            end(&format!("slurm:{}", id.trim()), checkpoint_dir);
        }
    } else if let Some(job) = handle.strip_prefix("slurm:").filter(|j| !j.is_empty() && j.chars().all(|c| c.is_ascii_digit() || c == '_')) {
        let _ = std::process::Command::new("scancel").arg(job).status();
    }
}

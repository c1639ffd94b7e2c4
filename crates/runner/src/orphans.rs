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

/// Ends the processes this process adopted (as a child subreaper) whose environment holds
/// `marker` (`HPOSIM_CHECKPOINT_DIR=<dir>`: the trial whose process just exited), and reaps
/// them. Their own children are adopted in turn when they die, so the scan repeats until it
/// finds none (at most 16 rounds: a fork bomb is not chased forever). Processes that cleared
/// their environment, and orphans that exited by themselves, are not touched.
pub fn end_adopted(marker: &str) {
    let me = std::process::id() as i32;
    for _ in 0..16 {
        let Ok(entries) = std::fs::read_dir("/proc") else { return };
        let mut ended = Vec::new();
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
            let Some((ppid, pgrp, state)) = parent_of(pid) else { continue };
            if ppid != me || state == 'Z' {
                continue;
            }
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            if environ.split(|&b| b == 0).any(|entry| entry == marker.as_bytes()) {
                // A group of its own (it called setsid or setpgid): end the whole group.
                if pgrp == pid {
                    let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
                }
                let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
                ended.push(pid);
            }
        }
        if ended.is_empty() {
            return;
        }
        for pid in ended {
            let _ = nix::sys::wait::waitpid(Pid::from_raw(pid), None);
        }
    }
}

/// The parent, process group and state of process `pid`, from `/proc/<pid>/stat`
/// (`pid (comm) state ppid pgrp ...`; the command name may hold spaces and parentheses, so the
/// fields are read after its last `)`).
fn parent_of(pid: i32) -> Option<(i32, i32, char)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((ppid, pgrp, state))
}

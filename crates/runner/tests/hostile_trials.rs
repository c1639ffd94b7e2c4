//! Trials that try to break a live study, each of which once did: a line without end (memory
//! and log grew by gigabytes), a child in its own session holding the output pipe (the study
//! hung, and an interrupt could not end it), and descendants that leave the trial's process
//! group (they outlived the study).

mod common;

use hposim_runner::local::{MAX_LINE_BYTES, MAX_LOG_BYTES};
use hposim_runner::spec::LiveExperiment;
use hposim_runner::tune::LiveResult;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A live experiment in `dir` whose trials run the Python program `script` (written beside it,
/// after a line that names `dir/pids.txt` as `PIDS`), one trial at a time, with a time limit of `limit` seconds per launch.
fn experiment(dir: &Path, script: &str, limit: f64) -> LiveExperiment {
    let program = dir.join("trial.py");
    let script = format!("PIDS = {:?}\n{script}", dir.join("pids.txt").display().to_string());
    std::fs::write(&program, script).unwrap_or_else(|e| panic!("{e}"));
    let text = format!(
        r#"
seed = 1
workers = 1
[budget]
trials = 1
[training]
name = "hostile"
command = ["python3", "{program}"]
objectives = [{{ name = "loss", direction = "minimize" }}]
fidelity = {{ min = 1, max = 2, unit = "epoch" }}
grace_seconds = 0.5
time_limit_seconds = {limit}
[[training.space]]
type = "float"
name = "x"
low = 0.5
high = 2.0
[[strategies]]
name = "random"
sampler = {{ type = "random" }}
"#,
        program = program.display()
    );
    let path = dir.join("live.toml");
    std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{e}"));
    LiveExperiment::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn run(experiment: &LiveExperiment, out: &Path, interrupt: &AtomicBool) -> Result<Vec<LiveResult>, String> {
    common::run(experiment, out, interrupt, false)
}

/// Peak resident memory of this test process, in bytes (`VmHWM`).
fn peak_memory() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib =
        status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    kib.unwrap_or(0) * 1024
}

/// Whether process `pid` still runs (a zombie has ended).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rfind(')').map(|i| !stat[i + 1..].trim_start().starts_with('Z')))
        .unwrap_or(false)
}

/// Reads the process ids a trial wrote to `pids.txt` in the study folder.
fn pids(dir: &Path) -> Vec<i32> {
    std::fs::read_to_string(dir.join("pids.txt")).unwrap_or_default().lines().filter_map(|l| l.trim().parse().ok()).collect()
}

const REPORTS: &str = r#"
import json, os, sys, time
def report(step):
    print(json.dumps({"step": step, "loss": 1.0 / step}), flush=True)
"#;

#[test]
fn a_line_without_end_is_cut_and_the_log_bounded() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // 1 MiB chunks without a newline until the time limit (before the fix: gigabytes buffered).
    let script = format!("{REPORTS}\nreport(1)\nchunk = 'x' * (1 << 20)\nwhile True:\n    sys.stdout.write(chunk)\n");
    let exp = experiment(dir.path(), &script, 4.0);
    let before = peak_memory();
    let never = AtomicBool::new(false);
    let results = run(&exp, &dir.path().join("out"), &never).unwrap_or_else(|e| panic!("{e}"));
    let grown = peak_memory().saturating_sub(before);
    let study = results[0].outcome.as_ref().unwrap_or_else(|| panic!("reused"));
    let trial = &study.trials[0];
    assert_eq!(trial.status, "failed");
    assert!(trial.reason.as_deref().unwrap_or("").contains("time limit"), "{:?}", trial.reason);
    let log_size = std::fs::metadata(&trial.log).map_or(0, |m| m.len());
    // The cut line (its first MAX_LINE_BYTES) and the note; never more than the log's limit.
    assert!(log_size <= MAX_LINE_BYTES as u64 + 4096, "log.txt is {log_size} bytes");
    assert!(log_size <= MAX_LOG_BYTES);
    // Step 1 was recorded before the flood.
    assert_eq!(study.cell.trace.epoch.first(), Some(&1));
    // A few line buffers, not the gigabytes printed.
    assert!(grown < 256 << 20, "peak memory grew by {grown} bytes");
}

#[test]
fn long_lines_go_to_the_log_cut_with_a_note_and_the_trial_goes_on() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // A 3 MiB line (which starts like a report) between two reports, and a bounded stderr flood.
    let script = format!("{REPORTS}\nreport(1)\nprint('{{' + 'y' * (3 << 20), flush=True)\nsys.stderr.write('e' * (1 << 20))\nreport(2)\n");
    let exp = experiment(dir.path(), &script, 60.0);
    let never = AtomicBool::new(false);
    let results = run(&exp, &dir.path().join("out"), &never).unwrap_or_else(|e| panic!("{e}"));
    let study = results[0].outcome.as_ref().unwrap_or_else(|| panic!("reused"));
    assert_eq!(study.trials[0].status, "done", "{:?}", study.trials[0].reason);
    let log = std::fs::read(&study.trials[0].log).unwrap_or_default();
    let text = String::from_utf8_lossy(&log);
    assert!(text.contains(&format!("a line of {} bytes was cut to its first {MAX_LINE_BYTES}", (3 << 20) + 2)), "no note in the log");
    assert!(log.len() < (MAX_LINE_BYTES + (1 << 20) + 8192), "log.txt is {} bytes", log.len());
}

/// A trial whose child (in its own session, so outside the trial's process group) inherits
/// stdout and sleeps; the trial itself hangs after step 1 until the time limit.
const SESSION_CHILD: &str = r#"
import subprocess
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
with open(PIDS, "a") as f:
    f.write(f"{child.pid}\n")
report(1)
time.sleep(600)
"#;

#[test]
fn a_child_in_its_own_session_neither_hangs_the_study_nor_outlives_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let exp = experiment(dir.path(), &format!("{REPORTS}{SESSION_CHILD}"), 2.0);
    let never = AtomicBool::new(false);
    let started = Instant::now();
    let results = run(&exp, &dir.path().join("out"), &never).unwrap_or_else(|e| panic!("{e}"));
    // Before the fix the study never returned.
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
    let study = results[0].outcome.as_ref().unwrap_or_else(|| panic!("reused"));
    assert!(study.trials[0].reason.as_deref().unwrap_or("").contains("time limit"), "{:?}", study.trials[0].reason);
    let children = pids(dir.path());
    assert_eq!(children.len(), 1, "the trial did not write its child's pid");
    assert!(!alive(children[0]), "the trial's child {} outlived the study", children[0]);
}

#[test]
fn an_interrupt_ends_a_study_whose_trial_left_a_child_holding_its_output() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let exp = experiment(dir.path(), &format!("{REPORTS}{SESSION_CHILD}"), 600.0);
    let interrupt = std::sync::Arc::new(AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&interrupt);
    let root = dir.path().to_owned();
    // Interrupt once the trial has started its child (as one SIGTERM or Ctrl-C would).
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        while pids(&root).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(300));
        flag.store(true, Ordering::Relaxed);
    });
    let started = Instant::now();
    let error = run(&exp, &dir.path().join("out"), &interrupt).err().unwrap_or_default();
    assert!(error.contains("interrupted") && error.contains("--resume"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
    let children = pids(dir.path());
    assert!(children.iter().all(|&pid| !alive(pid)), "a child outlived the study: {children:?}");
}

#[test]
fn descendants_that_leave_the_process_group_are_ended_with_their_trial() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // A double-forked daemon in a new session with its output elsewhere: nothing ties it to the
    // trial but its ancestry and environment. The trial then finishes normally.
    let script = format!(
        r#"{REPORTS}
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        with open(PIDS, "a") as f:
            f.write(f"{{os.getpid()}}\n")
        time.sleep(600)
    os._exit(0)
os.waitpid(pid, 0)
time.sleep(0.3)
report(1)
report(2)
"#
    );
    let exp = experiment(dir.path(), &script, 60.0);
    let never = AtomicBool::new(false);
    let results = run(&exp, &dir.path().join("out"), &never).unwrap_or_else(|e| panic!("{e}"));
    let study = results[0].outcome.as_ref().unwrap_or_else(|| panic!("reused"));
    assert_eq!(study.trials[0].status, "done", "{:?}", study.trials[0].reason);
    let daemons = pids(dir.path());
    assert_eq!(daemons.len(), 1, "the daemon did not write its pid");
    assert!(!alive(daemons[0]), "the daemon {} outlived its trial", daemons[0]);
}

#[test]
fn a_trial_ended_by_a_signal_is_failed_with_the_signal_named() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let script = format!("{REPORTS}\nimport signal\nreport(1)\nos.kill(os.getpid(), signal.SIGSEGV)\n");
    let exp = experiment(dir.path(), &script, 60.0);
    let never = AtomicBool::new(false);
    let results = run(&exp, &dir.path().join("out"), &never).unwrap_or_else(|e| panic!("{e}"));
    let study = results[0].outcome.as_ref().unwrap_or_else(|| panic!("reused"));
    assert_eq!(study.trials[0].reason.as_deref(), Some("was killed by SIGSEGV (signal 11) after step 1 of 2"));
}

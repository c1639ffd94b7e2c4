//! The local executor: trial processes on this machine, one per worker slot, each slot
//! optionally bound to a GPU through `CUDA_VISIBLE_DEVICES`.
//!
//! Each process runs in its own process group, so that signals reach the processes it starts
//! (data-loader workers, a shell wrapper). A reader thread per process forwards its standard
//! output line by line, appending lines that are not step reports to the trial's log, and
//! reports the exit status after the last line; standard error goes straight to the log.

use crate::executor::{Event, EventKind, Executor, ExecutorError, Job, Signal, WallClock};
use nix::sys::signal::{Signal as NixSignal, killpg};
use nix::unistd::Pid;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Instant;

/// An event as a reader thread saw it, stamped with the instant.
struct Stamped {
    launch: u64,
    kind: EventKind,
    at: Instant,
}

/// Local processes in `slots` worker slots.
pub struct LocalExecutor {
    slots: usize,
    /// GPU index of each slot, empty for CPU slots.
    gpus: Vec<Vec<u32>>,
    sender: Sender<Stamped>,
    receiver: Receiver<Stamped>,
    clock: WallClock,
    /// Process-group id of each launch that may still be running.
    groups: HashMap<u64, i32>,
}

impl LocalExecutor {
    /// `slots` CPU slots.
    pub fn new(slots: usize) -> Self {
        Self::with_gpus(slots, &[], 0)
    }

    /// `slots` slots sharing `gpus` round-robin, `per_trial` GPUs each (no binding if
    /// `per_trial` is 0 or there are no GPUs).
    pub fn with_gpus(slots: usize, gpus: &[u32], per_trial: u32) -> Self {
        let (sender, receiver) = channel();
        let per = per_trial as usize;
        let gpus = (0..slots)
            .map(
                |slot| {
                    if per == 0 || gpus.is_empty() { Vec::new() } else { (0..per).map(|k| gpus[(slot * per + k) % gpus.len()]).collect() }
                },
            )
            .collect();
        Self { slots, gpus, sender, receiver, clock: WallClock::new(), groups: HashMap::new() }
    }
}

fn open_log(job: &Job) -> Result<File, ExecutorError> {
    OpenOptions::new().create(true).append(true).open(&job.log).map_err(|e| ExecutorError::new(format!("opening {}", job.log.display()), e))
}

impl Executor for LocalExecutor {
    fn now(&self) -> f64 {
        self.clock.now()
    }

    fn slots(&self) -> usize {
        self.slots
    }

    fn slot_env(&self, slot: usize) -> Vec<(String, String)> {
        match self.gpus.get(slot) {
            Some(gpus) if !gpus.is_empty() => {
                let list: Vec<String> = gpus.iter().map(u32::to_string).collect();
                vec![("CUDA_VISIBLE_DEVICES".to_owned(), list.join(","))]
            }
            _ => Vec::new(),
        }
    }

    fn launch(&mut self, slot: usize, job: &Job) -> Result<(), ExecutorError> {
        let what = || format!("starting {:?} for slot {slot}", job.argv.first().map_or("", String::as_str));
        let (program, args) = job.argv.split_first().ok_or_else(|| ExecutorError::new(what(), "the command is empty"))?;
        let log = open_log(job)?;
        let stderr = log.try_clone().map_err(|e| ExecutorError::new(what(), e))?;
        let mut child = Command::new(program)
            .args(args)
            .envs(job.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&job.workdir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .process_group(0)
            .spawn()
            .map_err(|e| ExecutorError::new(what(), e))?;
        let pid = child.id() as i32;
        self.groups.insert(job.launch, pid);
        let stdout = child.stdout.take().ok_or_else(|| ExecutorError::new(what(), "no standard output pipe"))?;
        let sender = self.sender.clone();
        let launch = job.launch;
        // The waiter reaps the process, then ends what is left of its group: a descendant that
        // kept the output pipe open would otherwise hold the reader (and the slot) forever.
        let (status_sender, status_receiver) = channel();
        std::thread::spawn(move || {
            let status = child.wait().ok();
            let _ = killpg(Pid::from_raw(pid), NixSignal::SIGKILL);
            let _ = status_sender.send(status);
        });
        std::thread::spawn(move || {
            let mut log = log;
            let mut reader = BufReader::new(stdout);
            let mut buffer = Vec::new();
            loop {
                buffer.clear();
                match reader.read_until(b'\n', &mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&buffer);
                        let line = text.trim_end_matches(['\n', '\r']);
                        if line.trim_start().starts_with('{') {
                            let _ = sender.send(Stamped { launch, kind: EventKind::Line(line.to_owned()), at: Instant::now() });
                        } else {
                            // The log keeps every other line as printed.
                            let _ = log.write_all(&buffer);
                        }
                    }
                }
            }
            let status = status_receiver.recv().ok().flatten();
            let code = status.and_then(|status| status.code());
            let _ = sender.send(Stamped { launch, kind: EventKind::Exited(code), at: Instant::now() });
        });
        Ok(())
    }

    fn signal(&mut self, launch: u64, signal: Signal) -> Result<(), ExecutorError> {
        let Some(&group) = self.groups.get(&launch) else { return Ok(()) };
        let nix_signal = match signal {
            Signal::Terminate => NixSignal::SIGTERM,
            Signal::Kill => NixSignal::SIGKILL,
        };
        match killpg(Pid::from_raw(group), nix_signal) {
            // The group is gone: the process ended already.
            Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
            Err(e) => Err(ExecutorError::new(format!("signalling launch {launch}"), e)),
        }
    }

    fn next_event(&mut self, deadline: f64) -> Result<Option<Event>, ExecutorError> {
        match self.receiver.recv_timeout(self.clock.until(deadline)) {
            Ok(Stamped { launch, kind, at }) => {
                if matches!(kind, EventKind::Exited(_)) {
                    self.groups.remove(&launch);
                }
                Ok(Some(Event { launch, kind, at: self.clock.at(at) }))
            }
            Err(RecvTimeoutError::Timeout) => Ok(None),
            // Impossible while `self` holds a sender; treat as "nothing".
            Err(RecvTimeoutError::Disconnected) => Ok(None),
        }
    }

    fn handle(&self, launch: u64) -> Option<String> {
        self.groups.get(&launch).map(|group| format!("pgid:{group}"))
    }

    fn name(&self) -> &'static str {
        "local"
    }
}

impl Drop for LocalExecutor {
    /// Processes never outlive the study that started them.
    fn drop(&mut self) {
        for &group in self.groups.values() {
            let _ = killpg(Pid::from_raw(group), NixSignal::SIGKILL);
        }
    }
}

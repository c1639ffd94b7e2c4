//! The local executor: trial processes on this machine, one per worker slot, each slot
//! optionally bound to a GPU through `CUDA_VISIBLE_DEVICES`.
//!
//! Each process runs in its own process group, so that signals reach the processes it starts
//! (data-loader workers, a shell wrapper); hposim is a child subreaper, so descendants that
//! leave the group are still found and ended when the trial's process exits
//! ([`crate::orphans::end_adopted`]). A reader thread per process forwards its standard output
//! line by line ([`MAX_LINE_BYTES`] at most), appending lines that are not step reports to the
//! trial's log ([`MAX_LOG_BYTES`] at most), another appends its standard error; a waiter reports
//! the exit status after the last line, or [`OUTPUT_GRACE_SECONDS`] after the exit where a
//! process that could not be ended keeps the output open.

use crate::executor::{Event, EventKind, Executor, ExecutorError, Job, Signal, WallClock};
use crate::protocol::ENV_CHECKPOINT_DIR;
use nix::sys::signal::{Signal as NixSignal, killpg};
use nix::unistd::Pid;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{ChildStderr, ChildStdout, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

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
        // Descendants that leave a trial's process group (a daemon, a child in its own session)
        // are re-parented to hposim rather than to init when their parent exits, so that
        // `orphans::end_adopted` can find and end them. Without the attribute (a kernel older
        // than 3.4) they are left to the process group's end alone.
        let _ = nix::sys::prctl::set_child_subreaper(true);
        Self { slots, gpus, sender, receiver, clock: WallClock::new(), groups: HashMap::new() }
    }
}

/// Longest line read from a trial's standard output: 1 MiB. A step report is a JSON object of a
/// few hundred bytes, so a longer line is not one: its first `MAX_LINE_BYTES` go to the log with
/// a note, the rest is dropped, and memory stays bounded whatever the trial prints.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Most bytes a trial's `log.txt` grows to, over all its launches: 64 MiB. Output beyond it is
/// dropped, after a note saying so.
pub const MAX_LOG_BYTES: u64 = 64 << 20;

/// How long output is still read after a trial's process has exited (and its process group and
/// adopted descendants were ended): a process that hposim could not end and that keeps the
/// output pipes open would otherwise hold its worker slot forever.
pub const OUTPUT_GRACE_SECONDS: f64 = 5.0;

/// A trial's log, shared by the readers of its standard output and error, that stops growing at
/// [`MAX_LOG_BYTES`].
struct BoundedLog {
    file: File,
    /// Bytes the file may still grow by.
    room: u64,
    /// Whether the note that output was dropped has been written.
    noted: bool,
}

impl BoundedLog {
    fn open(path: &std::path::Path) -> Result<Arc<Mutex<Self>>, ExecutorError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| ExecutorError::new(format!("opening {}", path.display()), e))?;
        let size = file.metadata().map_or(0, |m| m.len());
        Ok(Arc::new(Mutex::new(Self { file, room: MAX_LOG_BYTES.saturating_sub(size), noted: false })))
    }

    /// Appends `bytes`, or what of them fits.
    fn write(&mut self, bytes: &[u8]) {
        let fits = bytes.len().min(usize::try_from(self.room).unwrap_or(usize::MAX));
        if fits > 0 && self.file.write_all(&bytes[..fits]).is_ok() {
            self.room -= fits as u64;
        }
        if fits < bytes.len() && !self.noted {
            self.noted = true;
            let _ = writeln!(
                self.file,
                "\n[hposim: this log reached its limit of {MAX_LOG_BYTES} bytes; further output of the trial is dropped]"
            );
        }
    }
}

fn write_log(log: &Mutex<BoundedLog>, bytes: &[u8]) {
    log.lock().unwrap_or_else(PoisonError::into_inner).write(bytes);
}

/// Reads a line of at most `max` bytes into `line` (newline included); the rest of a longer
/// line is read and dropped. Returns the bytes the whole line had (0 at the end of the stream).
fn read_bounded_line(reader: &mut impl BufRead, line: &mut Vec<u8>, max: usize) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(total);
        }
        let (take, complete) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        let room = max.saturating_sub(line.len());
        line.extend_from_slice(&available[..take.min(room)]);
        reader.consume(take);
        total += take;
        if complete {
            return Ok(total);
        }
    }
}

/// Forwards each report line of a trial's standard output as an event and appends the other
/// lines to its log, until the pipe closes or the trial's `Exited` has been sent.
fn spawn_stdout_reader(
    stdout: ChildStdout,
    launch: u64,
    sender: Sender<Stamped>,
    log: Arc<Mutex<BoundedLog>>,
    exited: Arc<Mutex<bool>>,
    eof: Sender<()>,
) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            let length = match read_bounded_line(&mut reader, &mut buffer, MAX_LINE_BYTES) {
                Ok(0) | Err(_) => break,
                Ok(length) => length,
            };
            if length > MAX_LINE_BYTES {
                // Not a report, whatever it starts with.
                write_log(&log, &buffer);
                write_log(&log, format!("\n[hposim: a line of {length} bytes was cut to its first {MAX_LINE_BYTES}]\n").as_bytes());
                continue;
            }
            let text = String::from_utf8_lossy(&buffer);
            let line = text.trim_end_matches(['\n', '\r']);
            if line.trim_start().starts_with('{') {
                let done = exited.lock().unwrap_or_else(PoisonError::into_inner);
                if *done {
                    break;
                }
                let _ = sender.send(Stamped { launch, kind: EventKind::Line(line.to_owned()), at: Instant::now() });
            } else {
                // The log keeps every other line as printed.
                write_log(&log, &buffer);
            }
        }
        let _ = eof.send(());
    });
}

/// Appends a trial's standard error to its log as it comes.
fn spawn_stderr_reader(mut stderr: ChildStderr, log: Arc<Mutex<BoundedLog>>, eof: Sender<()>) {
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match stderr.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => write_log(&log, &chunk[..n]),
            }
        }
        let _ = eof.send(());
    });
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
        let log = BoundedLog::open(&job.log)?;
        let mut child = Command::new(program)
            .args(args)
            .envs(job.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&job.workdir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| ExecutorError::new(what(), e))?;
        let pid = child.id() as i32;
        self.groups.insert(job.launch, pid);
        let stdout = child.stdout.take().ok_or_else(|| ExecutorError::new(what(), "no standard output pipe"))?;
        let stderr = child.stderr.take().ok_or_else(|| ExecutorError::new(what(), "no standard error pipe"))?;
        let marker = job.env.iter().find(|(k, _)| k == ENV_CHECKPOINT_DIR).map(|(k, v)| format!("{k}={v}"));
        let launch = job.launch;
        // Once the waiter has sent `Exited`, the reader sends nothing more: `Exited` is last.
        let exited = Arc::new(Mutex::new(false));
        let (eof_sender, eof_receiver) = channel::<()>();
        spawn_stdout_reader(stdout, launch, self.sender.clone(), Arc::clone(&log), Arc::clone(&exited), eof_sender.clone());
        spawn_stderr_reader(stderr, Arc::clone(&log), eof_sender);
        let sender = self.sender.clone();
        // The waiter reaps the process, ends what is left of its group and the descendants that
        // left it, waits for the output pipes to close (at most `OUTPUT_GRACE_SECONDS`: a
        // descendant hposim could not end may hold them open forever), then reports the exit.
        std::thread::spawn(move || {
            let status = child.wait().ok();
            let _ = killpg(Pid::from_raw(pid), NixSignal::SIGKILL);
            if let Some(marker) = &marker {
                crate::orphans::end_adopted(marker);
            }
            let deadline = Instant::now() + Duration::from_secs_f64(OUTPUT_GRACE_SECONDS);
            for _ in 0..2 {
                if eof_receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())).is_err() {
                    break;
                }
            }
            let mut done = exited.lock().unwrap_or_else(PoisonError::into_inner);
            *done = true;
            // A signal's end is written −N, as Python's `returncode` does, so that the reason
            // can name the signal.
            let code = status.and_then(|status| status.code().or_else(|| status.signal().map(|n| -n)));
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

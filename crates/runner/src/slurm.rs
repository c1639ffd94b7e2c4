//! The Slurm executor: each launch is a batch job (`sbatch --parsable`), at most `slots` at a
//! time, so a study spreads over a cluster's nodes; launches decided together are submitted as
//! one job array (`sbatch --array`), a task per trial.
//!
//! The job's script is a two-line wrapper that `exec`s the argument vector, which `sbatch`
//! passes through unchanged (no shell ever parses a value). The protocol's environment
//! variables are set in `sbatch`'s own environment and exported with `--export=ALL` (values
//! given in `--export=NAME=VALUE` would be cut at a comma, and a configuration's JSON has
//! commas). Standard output goes to a file in the trial's directory (on the shared filesystem
//! a cluster provides), which is read as it grows; standard error goes to the trial's log. Job
//! states and exit codes come from `squeue --json` (Slurm ≥ 21.08), which lists every job the
//! controller remembers (finished ones for `MinJobAge`, 300 s by default); its `exit_code` is
//! the raw wait status. Pausing sends SIGTERM to the job's processes
//! (`scancel --signal=TERM --full`), killing `scancel --signal=KILL --full` and then `scancel`.

use crate::executor::{Event, EventKind, Executor, ExecutorError, Job, Signal, WallClock};
use serde_json::Value as Json;
use std::collections::{HashMap, VecDeque};
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// Slurm job states after which a job runs no more.
const FINAL_STATES: [&str; 10] =
    ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "SPECIAL_EXIT"];

#[derive(Debug)]
struct Running {
    job_id: String,
    stdout: PathBuf,
    log: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    /// Polls in a row that did not list the job (it may not be visible yet right after sbatch).
    missing: u32,
    /// Whether squeue has shown it running.
    started: bool,
}

/// Batch jobs on a Slurm cluster.
pub struct SlurmExecutor {
    slots: usize,
    partition: Option<String>,
    sbatch_args: Vec<String>,
    poll: Duration,
    running: HashMap<u64, Running>,
    pending: VecDeque<Event>,
    last_poll: Option<Instant>,
    clock: WallClock,
    squeue_failures: u32,
    /// Launches to submit at the next `next_event`.
    queued: Vec<Job>,
    /// Where each launch's job id is written once it is submitted.
    id_files: HashMap<u64, PathBuf>,
}

/// Consecutive failed `squeue` polls after which the executor gives up.
pub const MAX_SQUEUE_FAILURES: u32 = 600;

impl SlurmExecutor {
    /// At most `slots` jobs at once in `partition` (the default one if `None`), with extra
    /// `sbatch_args`, polling every `poll`.
    pub fn new(slots: usize, partition: Option<String>, sbatch_args: Vec<String>, poll: Duration) -> Self {
        Self {
            slots,
            partition,
            sbatch_args,
            poll,
            running: HashMap::new(),
            pending: VecDeque::new(),
            last_poll: None,
            clock: WallClock::new(),
            squeue_failures: 0,
            queued: Vec::new(),
            id_files: HashMap::new(),
        }
    }

    /// The Slurm job id of a launch still running.
    pub fn job_id(&self, launch: u64) -> Option<&str> {
        self.running.get(&launch).map(|r| r.job_id.as_str())
    }

    /// Reads what the jobs printed since the last poll and asks Slurm for their states.
    fn poll_jobs(&mut self) -> Result<(), ExecutorError> {
        self.last_poll = Some(Instant::now());
        let now = self.clock.now();
        let launches: Vec<u64> = self.running.keys().copied().collect();
        for &launch in &launches {
            if let Some(running) = self.running.get_mut(&launch) {
                read_new_lines(launch, running, now, &mut self.pending);
            }
        }
        if launches.is_empty() {
            return Ok(());
        }
        let states = match job_states() {
            Ok(states) => {
                self.squeue_failures = 0;
                states
            }
            // A controller that restarts or times out once must not end a long study: give up
            // only after failures for about MAX_SQUEUE_FAILURES polls in a row.
            Err(message) => {
                self.squeue_failures += 1;
                if self.squeue_failures >= MAX_SQUEUE_FAILURES {
                    return Err(ExecutorError::new(format!("running squeue --json ({} times in a row)", self.squeue_failures), message));
                }
                return Ok(());
            }
        };
        let mut ended = Vec::new();
        for &launch in &launches {
            let Some(running) = self.running.get_mut(&launch) else { continue };
            match states.get(&running.job_id) {
                Some(state) if FINAL_STATES.contains(&state.state.as_str()) => ended.push((launch, state.code)),
                Some(state) => {
                    running.missing = 0;
                    if state.state == "RUNNING" && !running.started {
                        running.started = true;
                        self.pending.push_back(Event { launch, kind: EventKind::Started, at: now });
                    }
                }
                // An array task not yet started is listed only under the array's id.
                None if running.job_id.split_once('_').and_then(|(array, _)| states.get(array)).is_some_and(|s| s.state == "PENDING") => {
                    running.missing = 0;
                }
                None => {
                    // Not listed: not yet visible, or finished longer ago than MinJobAge.
                    running.missing += 1;
                    if running.missing >= 20 {
                        ended.push((launch, None));
                    }
                }
            }
        }
        for (launch, code) in ended {
            if let Some(mut running) = self.running.remove(&launch) {
                read_new_lines(launch, &mut running, now, &mut self.pending);
                if !running.partial.is_empty() {
                    let line = String::from_utf8_lossy(&running.partial).into_owned();
                    route_line(launch, &line, &running.log, now, &mut self.pending);
                }
                self.pending.push_back(Event { launch, kind: EventKind::Exited(code), at: now });
            }
        }
        Ok(())
    }
}

/// Runs `sbatch --parsable ...` (`command`), retrying a refusal twice (a busy controller may
/// refuse for a moment), and returns the job id it printed; `what` names it in errors.
pub fn submit(command: &mut Command, what: &str) -> Result<String, ExecutorError> {
    let mut attempt = 0;
    let output = loop {
        attempt += 1;
        let output = command.output().map_err(|e| ExecutorError::new(what, e))?;
        if output.status.success() || attempt >= 3 {
            break output;
        }
        std::thread::sleep(Duration::from_secs(attempt));
    };
    if !output.status.success() {
        return Err(ExecutorError::new(what, String::from_utf8_lossy(&output.stderr).trim().to_owned()));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let job_id = text.trim().split(';').next().unwrap_or_default().to_owned();
    if job_id.is_empty() || !job_id.chars().all(|c| c.is_ascii_digit()) {
        return Err(ExecutorError::new(what, format!("sbatch printed {:?}, not a job id", text.trim())));
    }
    Ok(job_id)
}

/// Every job the controller remembers, by id ([`parse_squeue`] of `squeue --json`).
pub fn job_states() -> Result<HashMap<String, JobState>, String> {
    match Command::new("squeue").arg("--json").output() {
        Ok(output) if output.status.success() => parse_squeue(&output.stdout),
        Ok(output) => Err(String::from_utf8_lossy(&output.stderr).trim().to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

/// Whether a job in `state` runs no more.
pub fn has_ended(state: &str) -> bool {
    FINAL_STATES.contains(&state)
}

/// A job's state and, once it ended, its exit code (`None` if a signal ended it).
#[derive(Clone, Debug, PartialEq)]
pub struct JobState {
    /// `PENDING`, `RUNNING`, `COMPLETED`, ...
    pub state: String,
    /// The exit code decoded from the raw wait status.
    pub code: Option<i32>,
}

/// The jobs of `squeue --json` output by job id (array tasks under their own id, and under
/// `<array_job_id>_<task>`).
pub fn parse_squeue(bytes: &[u8]) -> Result<HashMap<String, JobState>, String> {
    let json: Json = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let jobs = json.get("jobs").and_then(Json::as_array).ok_or("no \"jobs\" list")?;
    let mut states = HashMap::new();
    for job in jobs {
        let Some(id) = job.get("job_id").and_then(slurm_number) else { continue };
        // A string up to Slurm 23.02 (data_parser v0.0.39); a list of flags from v0.0.40 on,
        // whose first entry is the base state.
        let state = match job.get("job_state") {
            Some(Json::String(s)) => s.clone(),
            Some(Json::Array(list)) => list.first().and_then(Json::as_str).unwrap_or("UNKNOWN").to_owned(),
            _ => "UNKNOWN".to_owned(),
        };
        let code = match job.get("exit_code") {
            // Up to 23.02: the raw wait(2) status, low 7 bits the signal, bits 8..16 the code.
            Some(Json::Number(n)) => {
                let raw = n.as_u64().unwrap_or(0);
                if raw & 0x7f != 0 { None } else { Some(((raw >> 8) & 0xff) as i32) }
            }
            // From v0.0.40: {"return_code": {"set", "number"}, "signal": {"id": {"set", "number"}}}.
            Some(Json::Object(exit)) => {
                let number = |v: Option<&Json>| v.filter(|v| v["set"].as_bool() != Some(false)).and_then(|v| v["number"].as_i64());
                match number(exit.get("signal").map(|s| &s["id"])) {
                    Some(signal) if signal != 0 => None,
                    _ => number(exit.get("return_code")).map(|c| c as i32).or(Some(0)),
                }
            }
            _ => Some(0),
        };
        let entry = JobState { state, code };
        if let (Some(array), Some(task)) = (job.get("array_job_id").and_then(slurm_number), job.get("array_task_id").and_then(slurm_number))
            && array != 0
        {
            states.insert(format!("{array}_{task}"), entry.clone());
        }
        states.insert(id.to_string(), entry);
    }
    Ok(states)
}

/// A number of `squeue --json`: plain up to Slurm 23.02, `{"set": true, "infinite": false,
/// "number": N}` from data_parser v0.0.40 on (unset: None).
fn slurm_number(value: &Json) -> Option<u64> {
    match value {
        Json::Object(fields) if fields.get("set").and_then(Json::as_bool) == Some(false) => None,
        Json::Object(fields) => fields.get("number").and_then(Json::as_u64),
        other => other.as_u64(),
    }
}

fn route_line(launch: u64, line: &str, log: &PathBuf, at: f64, pending: &mut VecDeque<Event>) {
    if line.trim_start().starts_with('{') {
        pending.push_back(Event { launch, kind: EventKind::Line(line.to_owned()), at });
    } else if let Ok(mut file) = OpenOptions::new().create(true).append(true).open(log) {
        let _ = writeln!(file, "{line}");
    }
}

fn read_new_lines(launch: u64, running: &mut Running, at: f64, pending: &mut VecDeque<Event>) {
    let Ok(mut file) = std::fs::File::open(&running.stdout) else { return };
    if file.seek(SeekFrom::Start(running.offset)).is_err() {
        return;
    }
    let mut bytes = Vec::new();
    let Ok(read) = file.read_to_end(&mut bytes) else { return };
    running.offset += read as u64;
    running.partial.extend_from_slice(&bytes);
    while let Some(end) = running.partial.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = running.partial.drain(..=end).collect();
        let text = String::from_utf8_lossy(&line);
        route_line(launch, text.trim_end_matches(['\n', '\r']), &running.log, at, pending);
    }
}

const WRAPPER: &str = "#!/bin/sh\n# hposim: run the trial's argument vector as given (no shell parses it).\nexec \"$@\"\n";

/// The script of an array of trials: task `$SLURM_ARRAY_TASK_ID` reads its environment (one
/// file per variable), its argument vector (one file per argument, in name order) and its log
/// path from files, so that no shell ever parses a value; `$(cat f; printf x)` keeps trailing
/// newlines.
const ARRAY_WRAPPER: &str = r#"#!/bin/sh
# hposim: one task of an array of trials; values come from files, never through a shell.
d="$HPOSIM_ARRAY_DIR/task-$SLURM_ARRAY_TASK_ID"
for f in "$d"/env/*; do
    [ -e "$f" ] || continue
    v=$(cat "$f"; printf x)
    export "${f##*/}=${v%x}"
done
set --
for f in "$d"/argv/*; do
    v=$(cat "$f"; printf x)
    set -- "$@" "${v%x}"
done
l=$(cat "$d/log"; printf x)
exec "$@" 2>>"${l%x}"
"#;

/// Where the Slurm job id of `job` is written once submitted.
fn id_file(job: &Job) -> PathBuf {
    job.trial_dir.join(format!("slurm-{}.id", job.launch))
}

fn write_file(path: &std::path::Path, bytes: &[u8], what: &str) -> Result<(), ExecutorError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| ExecutorError::new(what, format!("{}: {e}", parent.display())))?;
    }
    std::fs::write(path, bytes).map_err(|e| ExecutorError::new(what, format!("{}: {e}", path.display())))
}

impl SlurmExecutor {
    /// The `sbatch` options every submission shares.
    fn sbatch(&self, first: &Job) -> Command {
        let mut command = Command::new("sbatch");
        command.arg("--parsable").arg("--open-mode=append").arg(format!("--chdir={}", first.workdir.display())).arg("--export=ALL");
        if let Some(partition) = &self.partition {
            command.arg(format!("--partition={partition}"));
        }
        if first.gpus > 0 {
            command.arg(format!("--gres=gpu:{}", first.gpus));
        }
        command.args(&self.sbatch_args);
        command
    }

    fn track(&mut self, job: &Job, job_id: String, stdout: PathBuf) -> Result<(), ExecutorError> {
        write_file(&id_file(job), job_id.as_bytes(), "recording a job id")?;
        self.running.insert(
            job.launch,
            Running { job_id, stdout, log: job.log.clone(), offset: 0, partial: Vec::new(), missing: 0, started: false },
        );
        Ok(())
    }

    /// Submits the queued launches: one alone as a job, several together (the study starting
    /// its first trials, or a rung releasing several) as one job array (`sbatch --array`), each
    /// task its own trial; launches with different GPU needs or working directories are never
    /// mixed in one array.
    fn submit_queued(&mut self) -> Result<(), ExecutorError> {
        let queued = std::mem::take(&mut self.queued);
        let mut groups: Vec<Vec<Job>> = Vec::new();
        for job in queued {
            match groups.iter_mut().find(|g| g[0].gpus == job.gpus && g[0].workdir == job.workdir) {
                Some(group) => group.push(job),
                None => groups.push(vec![job]),
            }
        }
        for group in groups {
            if group.len() == 1 {
                self.submit_single(&group[0])?;
            } else {
                self.submit_array(&group)?;
            }
        }
        Ok(())
    }

    fn submit_single(&mut self, job: &Job) -> Result<(), ExecutorError> {
        let what = format!("submitting launch {} with sbatch", job.launch);
        let script = job.trial_dir.join("slurm-job.sh");
        write_file(&script, WRAPPER.as_bytes(), &what)?;
        let stdout = job.trial_dir.join(format!("stdout-{}.txt", job.launch));
        let mut command = self.sbatch(job);
        command
            .arg(format!("--job-name=hposim-{}", job.launch))
            .arg(format!("--output={}", stdout.display()))
            .arg(format!("--error={}", job.log.display()));
        // sbatch copies the script (its first non-option argument) and passes the rest to it.
        command.arg(&script).args(&job.argv);
        command.envs(job.env.iter().map(|(k, v)| (k, v)));
        let job_id = submit(&mut command, &what)?;
        self.track(job, job_id, stdout)
    }

    fn submit_array(&mut self, jobs: &[Job]) -> Result<(), ExecutorError> {
        let first = &jobs[0];
        let what = format!("submitting launches {}..={} as a job array", first.launch, jobs[jobs.len() - 1].launch);
        // <study>/trials/<id> → <study>/arrays/<first launch>
        let study = first.trial_dir.parent().and_then(|p| p.parent()).unwrap_or(&first.trial_dir);
        let dir = study.join("arrays").join(first.launch.to_string());
        for (task, job) in jobs.iter().enumerate() {
            let task_dir = dir.join(format!("task-{task}"));
            for (i, arg) in job.argv.iter().enumerate() {
                write_file(&task_dir.join("argv").join(format!("{i:06}")), arg.as_bytes(), &what)?;
            }
            for (name, value) in &job.env {
                write_file(&task_dir.join("env").join(name), value.as_bytes(), &what)?;
            }
            write_file(&task_dir.join("log"), job.log.display().to_string().as_bytes(), &what)?;
        }
        let script = dir.join("array-job.sh");
        write_file(&script, ARRAY_WRAPPER.as_bytes(), &what)?;
        let mut command = self.sbatch(first);
        command
            .arg(format!("--array=0-{}", jobs.len() - 1))
            .arg(format!("--job-name=hposim-{}-array", first.launch))
            .arg(format!("--output={}", dir.join("task-%a.out").display()))
            .arg(format!("--error={}", dir.join("task-%a.err").display()))
            .arg(&script)
            .env("HPOSIM_ARRAY_DIR", &dir);
        let array_id = submit(&mut command, &what)?;
        for (task, job) in jobs.iter().enumerate() {
            self.track(job, format!("{array_id}_{task}"), dir.join(format!("task-{task}.out")))?;
        }
        Ok(())
    }
}

impl Executor for SlurmExecutor {
    fn slots(&self) -> usize {
        self.slots
    }

    fn slot_env(&self, _slot: usize) -> Vec<(String, String)> {
        // Slurm binds GPUs itself (--gres sets CUDA_VISIBLE_DEVICES in the job).
        Vec::new()
    }

    fn launch(&mut self, _slot: usize, job: &Job) -> Result<(), ExecutorError> {
        if job.argv.is_empty() {
            return Err(ExecutorError::new(format!("submitting launch {}", job.launch), "the command is empty"));
        }
        // Submitted at the next `next_event`, together with the launches that come with it.
        self.id_files.insert(job.launch, id_file(job));
        self.queued.push(job.clone());
        Ok(())
    }

    fn signal(&mut self, launch: u64, signal: Signal) -> Result<(), ExecutorError> {
        if let Some(i) = self.queued.iter().position(|job| job.launch == launch) {
            // Never submitted: it ends here.
            self.queued.remove(i);
            self.pending.push_back(Event { launch, kind: EventKind::Exited(None), at: self.clock.now() });
            return Ok(());
        }
        let Some(running) = self.running.get(&launch) else { return Ok(()) };
        let name = match signal {
            Signal::Terminate => "TERM",
            Signal::Kill => "KILL",
        };
        let status = Command::new("scancel")
            .arg(format!("--signal={name}"))
            .arg("--full")
            .arg(&running.job_id)
            .status()
            .map_err(|e| ExecutorError::new(format!("scancel {}", running.job_id), e))?;
        if signal == Signal::Kill || !status.success() {
            // Also cancel the job itself, so the cluster frees its resources.
            let _ = Command::new("scancel").arg(&running.job_id).status();
        }
        Ok(())
    }

    fn now(&self) -> f64 {
        self.clock.now()
    }

    fn next_event(&mut self, deadline: f64) -> Result<Option<Event>, ExecutorError> {
        self.submit_queued()?;
        let deadline = Instant::now() + self.clock.until(deadline);
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(Some(event));
            }
            let due = self.last_poll.map_or(Instant::now(), |t| t + self.poll);
            if due > deadline {
                std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
                return Ok(None);
            }
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            self.poll_jobs()?;
            if self.pending.is_empty() && Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }

    fn handle(&self, launch: u64) -> Option<String> {
        // The job id is known only once the launch is submitted: it is written to this file.
        self.id_files.get(&launch).map(|file| format!("slurm-file:{}", file.display()))
    }

    fn name(&self) -> &'static str {
        "slurm"
    }
}

impl Drop for SlurmExecutor {
    /// Jobs never outlive the study that submitted them.
    fn drop(&mut self) {
        for running in self.running.values() {
            let _ = Command::new("scancel").arg(&running.job_id).status();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeue_json_states_and_raw_wait_statuses_are_decoded() {
        // Shapes as printed by squeue --json of Slurm 22.05.8 (.ci/slurm-cluster.sh).
        let text = br#"{"meta": {}, "errors": [], "jobs": [
            {"job_id": 1, "job_state": "RUNNING", "array_job_id": 0, "array_task_id": null, "exit_code": 0},
            {"job_id": 2, "job_state": "FAILED", "array_job_id": 0, "array_task_id": null, "exit_code": 768},
            {"job_id": 3, "job_state": "CANCELLED", "array_job_id": 0, "array_task_id": null, "exit_code": 15},
            {"job_id": 11, "job_state": "COMPLETED", "array_job_id": 10, "array_task_id": 0, "exit_code": 0}]}"#;
        let states = parse_squeue(text).unwrap_or_default();
        assert_eq!(states["1"], JobState { state: "RUNNING".into(), code: Some(0) });
        assert_eq!(states["2"].code, Some(3));
        assert_eq!(states["3"].code, None);
        assert_eq!(states["10_0"].state, "COMPLETED");
        assert!(parse_squeue(b"{}").is_err());
        // Slurm 24.x (data_parser v0.0.40+): state flags and a structured exit code.
        let text = br#"{"jobs": [
            {"job_id": 7, "job_state": ["FAILED"], "exit_code": {"status": ["ERROR"], "return_code": {"set": true, "number": 3}, "signal": {"id": {"set": false, "number": 0}}}},
            {"job_id": 8, "job_state": ["CANCELLED"], "exit_code": {"status": ["SIGNALED"], "return_code": {"set": true, "number": 0}, "signal": {"id": {"set": true, "number": 15}}}}]}"#;
        let states = parse_squeue(text).unwrap_or_default();
        assert_eq!(states["7"], JobState { state: "FAILED".into(), code: Some(3) });
        assert_eq!(states["8"], JobState { state: "CANCELLED".into(), code: None });
        // Array tasks from v0.0.40 on: their array's id and their index as structured numbers
        // (shape of Slurm 24.05's squeue --json); an unset index is no task.
        let text = br#"{"jobs": [
            {"job_id": 21, "job_state": ["RUNNING"], "array_job_id": {"set": true, "infinite": false, "number": 20}, "array_task_id": {"set": true, "infinite": false, "number": 2}},
            {"job_id": 20, "job_state": ["PENDING"], "array_job_id": {"set": true, "infinite": false, "number": 20}, "array_task_id": {"set": false, "infinite": false, "number": 0}, "array_task_string": "3-4"}]}"#;
        let states = parse_squeue(text).unwrap_or_default();
        assert_eq!(states["20_2"].state, "RUNNING");
        assert_eq!(states["21"].state, "RUNNING");
        assert_eq!(states["20"].state, "PENDING");
        assert!(!states.contains_key("20_0"), "{states:?}");
    }
}

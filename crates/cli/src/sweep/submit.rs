//! `hposim submit EXPERIMENT --slurm`: an experiment's shards as one Slurm job array, and a
//! job after it that writes `summary.json`.
//!
//! Every value reaches `sbatch` as an element of its argument vector, and the job scripts pass
//! their arguments on as `"$@"`: no shell ever parses a name, a path or an option. Only shards
//! with unfinished cells are submitted, and a task skips the finished cells of its shard, so
//! submitting again after a failure (a task killed, a node lost, a time limit) runs exactly
//! what is missing. The summary job depends on the array with `afterany`, so it also runs when a
//! task failed: `hposim run --merge` then fails naming the missing cells, which
//! `hposim status` shows.

use super::{MERGE_SCRIPT, SHARD_SCRIPT, SLURM_DIR, SUBMISSIONS_FILE, Submission, is_finished, read_partition, read_submissions};
use anyhow::{Context, Result, bail};
use hposim_sim::Experiment;
use hposim_sim::shard::{MAX_SHARDS, Partition, SHARDS_FILE};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Cells per shard when `--shards` is not given (a shard of 32 cheap cells takes seconds, of
/// 32 GP-BO cells minutes: either is a sensible array task).
const CELLS_PER_SHARD: usize = 32;
/// Most shards when `--shards` is not given: Slurm's default `MaxArraySize` is 1001 (task ids
/// up to 1000).
const DEFAULT_MAX_SHARDS: usize = 1000;

/// `hposim submit --slurm`'s options.
#[derive(Clone, Debug, Default)]
pub(crate) struct SlurmOptions {
    /// N [default: the last submission's, else one per [`CELLS_PER_SHARD`] cells].
    pub shards: Option<u32>,
    /// `sbatch --partition`.
    pub partition: Option<String>,
    /// `sbatch --time` of each task.
    pub time: Option<String>,
    /// `sbatch --cpus-per-task` of each task, and its threads.
    pub cpus_per_task: u32,
    /// `sbatch --mem` of each task.
    pub mem: Option<String>,
    /// `sbatch --account`.
    pub account: Option<String>,
    /// At most this many tasks at once.
    pub max_running: Option<u32>,
    /// The hposim the tasks run.
    pub hposim: Option<PathBuf>,
    /// Print the submissions instead.
    pub dry_run: bool,
    /// Further sbatch options.
    pub sbatch: Vec<String>,
}

/// Submits the shards of the experiment at `path` that have unfinished cells, into `out`
/// (default `results/NAME`), and the summary job after them.
pub(crate) fn submit(path: &Path, out: Option<PathBuf>, options: &SlurmOptions) -> Result<()> {
    check_options(options)?;
    // Loaded by its absolute path, as the tasks load it, so the manifest's command is theirs.
    let experiment_path = std::path::absolute(path).with_context(|| format!("{}: cannot make the path absolute", path.display()))?;
    let experiment = Experiment::load(&experiment_path)?;
    let out_dir = crate::results_folder(out, &experiment.name)?;
    let out_dir = std::path::absolute(&out_dir).with_context(|| format!("{}: cannot make the path absolute", out_dir.display()))?;
    if out_dir.to_string_lossy().contains('\\') {
        // sbatch reads a backslash in --output as "expand no %A/%a", and the logs would clash.
        bail!("{}: Slurm cannot name the tasks' logs in a folder whose path has a backslash; give another --out", out_dir.display());
    }
    let cells_dir = out_dir.join("cells");
    let hposim = this_hposim(options.hposim.as_deref())?;

    let previous = read_submissions(&out_dir)?;
    if let Some(last) = previous.last() {
        refuse_while_alive(last, &out_dir)?;
    }
    let cells = hposim_sim::cells(&experiment);
    let count = shard_count(options.shards, &out_dir, cells.len())?;
    let partition = Partition::new(&experiment, &cells, count);
    let missing: Vec<usize> = partition.cells.iter().map(|ids| ids.iter().filter(|id| !is_finished(&cells_dir, id)).count()).collect();
    let tasks: Vec<u32> = (1..=count).filter(|&k| missing[k as usize - 1] > 0).collect();
    let unfinished: usize = missing.iter().sum();

    let slurm_dir = out_dir.join(SLURM_DIR);
    let jobs = Jobs {
        name: format!("hposim-{}", hposim_results::safe_name(&experiment.name)),
        experiment: &experiment_path,
        out_dir: &out_dir,
        hposim: &hposim,
        options,
        partition: partition.digest(),
    };
    let array = jobs.array(count, &tasks);
    if options.dry_run {
        println!("{}: {} cells, {} unfinished, in {} of {count} shards; would run:", experiment.name, cells.len(), unfinished, tasks.len());
        if !tasks.is_empty() {
            println!("  {}", shown(&array));
            println!("  {}", shown(&jobs.merge("ARRAY_JOB_ID")));
        }
        return Ok(());
    }
    std::fs::create_dir_all(&cells_dir).with_context(|| format!("creating {}", cells_dir.display()))?;
    {
        // Refused while shards of an earlier submission still run on the folder.
        let _lock = hposim_results::lock_folder(&out_dir)?;
        hposim_sim::run::write_manifest(&experiment, &hposim_sim::run::manifest(&experiment, &cells), &out_dir)?;
        hposim_results::write_json_atomically(&out_dir.join(SHARDS_FILE), &partition, "shards")?;
    }
    if tasks.is_empty() {
        println!("{}: every one of the {} cells is finished; writing summary.json", experiment.name, cells.len());
        let settings = crate::RunSettings { out: Some(out_dir.clone()), quiet: true, merge: true, ..crate::RunSettings::default() };
        return crate::run_experiment(&experiment, &settings).map(|_| ());
    }

    std::fs::create_dir_all(&slurm_dir).with_context(|| format!("creating {}", slurm_dir.display()))?;
    for (name, script) in [("shard.sh", SHARD_SCRIPT), ("merge.sh", MERGE_SCRIPT)] {
        hposim_results::write_atomically(&slurm_dir.join(name), script.as_bytes())?;
    }
    // States of an earlier submission's tasks would read as this one's.
    for &k in &tasks {
        let state = slurm_dir.join(format!("shard-{k}.state"));
        if let Err(e) = std::fs::remove_file(&state)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            return Err(e).with_context(|| format!("removing {}", state.display()));
        }
    }
    let array_id = hposim_runner::slurm::submit(&mut to_command(&array), "submitting the shards (sbatch)")
        .map_err(|e| anyhow::anyhow!("{}: {}", e.what, e.message))?;
    let merge = jobs.merge(&array_id);
    let merge_id = hposim_runner::slurm::submit(&mut to_command(&merge), "submitting the summary job (sbatch)");
    let record = Submission {
        submitted: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        experiment: experiment_path.clone(),
        shards: count,
        tasks: tasks.clone(),
        array: array_id.clone(),
        merge: merge_id.as_ref().ok().cloned(),
    };
    append_submission(&slurm_dir, &record)?;
    println!(
        "{}: submitted {} of {count} shards ({unfinished} unfinished cells of {}) as job array {array_id}",
        experiment.name,
        tasks.len(),
        cells.len()
    );
    match merge_id {
        Ok(id) => println!("summary.json: job {id}, once every task of {array_id} has ended"),
        Err(e) => bail!(
            "the shards run as job array {array_id}, but {}: {}; write summary.json once they have finished with `hposim run {} --out {} --merge`",
            e.what,
            e.message,
            experiment_path.display(),
            out_dir.display()
        ),
    }
    println!("progress: hposim status {}", out_dir.display());
    Ok(())
}

/// N: `--shards`, else the folder's last partition's (so a resubmission runs the same shards),
/// else one per [`CELLS_PER_SHARD`] cells; never more than there are cells.
fn shard_count(given: Option<u32>, out_dir: &Path, cells: usize) -> Result<u32> {
    let cells = u32::try_from(cells.max(1)).unwrap_or(MAX_SHARDS);
    let count = match given {
        Some(0) => bail!("--shards: must be at least 1"),
        Some(n) if n > MAX_SHARDS => bail!("--shards: at most {MAX_SHARDS}, got {n}"),
        Some(n) => n,
        None => match read_partition(out_dir)? {
            Some(partition) => partition.shards,
            None => u32::try_from((cells as usize).div_ceil(CELLS_PER_SHARD).min(DEFAULT_MAX_SHARDS)).unwrap_or(1),
        },
    };
    Ok(count.min(cells))
}

/// The hposim the tasks run: `--hposim`, else this program if it is an hposim binary (the
/// Python package's `hposim` runs inside Python: then the `hposim` on PATH), as absolute paths.
fn this_hposim(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = given {
        if !path.is_file() {
            bail!("--hposim: {} is not a file", path.display());
        }
        return std::path::absolute(path).with_context(|| format!("--hposim: {}", path.display()));
    }
    if let Ok(exe) = std::env::current_exe()
        && exe.file_name().is_some_and(|n| n.to_string_lossy().starts_with("hposim"))
    {
        return Ok(exe);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("hposim"))
        .find(|candidate| candidate.is_file());
    match on_path {
        Some(path) => std::path::absolute(&path).with_context(|| format!("{}", path.display())),
        None => bail!("cannot tell which hposim the tasks should run: give its path on the nodes with --hposim"),
    }
}

/// Refuses to submit while the jobs of the folder's `last` submission are still queued or
/// running (they would run the same cells twice). Where `squeue` does not answer, only a
/// summary job that recorded its end shows that the sweep is over.
fn refuse_while_alive(last: &Submission, out_dir: &Path) -> Result<()> {
    let states = match hposim_runner::slurm::job_states() {
        Ok(states) => states,
        Err(message) => {
            let ended = last.merge.as_ref().is_some_and(|merge| {
                super::read_state(&out_dir.join(SLURM_DIR).join("merge.state"))
                    .is_some_and(|(job, recorded)| job == *merge && recorded != super::Recorded::Running)
            });
            if ended {
                return Ok(());
            }
            bail!(
                "{}: cannot tell whether the sweep submitted earlier (job array {}) still runs: squeue --json: {message}; submit again once squeue answers",
                out_dir.display(),
                last.array
            );
        }
    };
    let mut alive = Vec::new();
    for k in &last.tasks {
        let id = format!("{}_{k}", last.array);
        if states.get(&id).is_some_and(|s| !hposim_runner::slurm::has_ended(&s.state)) {
            alive.push(id);
        }
    }
    // Array tasks not yet started are listed under the array's id only.
    if alive.is_empty() && states.get(&last.array).is_some_and(|s| s.state == "PENDING") {
        alive.push(last.array.clone());
    }
    if let Some(merge) = &last.merge
        && states.get(merge).is_some_and(|s| !hposim_runner::slurm::has_ended(&s.state))
    {
        alive.push(merge.clone());
    }
    if !alive.is_empty() {
        bail!(
            "{}: the sweep submitted earlier is still queued or running (jobs {}); wait for it (`hposim status {}`), or cancel it with `scancel {} {}` first",
            out_dir.display(),
            alive.join(", "),
            out_dir.display(),
            last.array,
            last.merge.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

/// The sbatch options hposim sets itself, which extra options must not override: the array and
/// the dependency that make the sweep, the logs and folder `hposim status` reads, the CPUs a
/// task's threads match, the job id sbatch must print alone.
const RESERVED: [(&str, Option<&str>, &str); 8] = [
    ("--array", Some("-a"), "--shards and --max-running"),
    ("--dependency", Some("-d"), "the summary job's afterany dependency"),
    ("--output", Some("-o"), "the logs in DIR/slurm/"),
    ("--error", Some("-e"), "the logs in DIR/slurm/"),
    ("--chdir", Some("-D"), "DIR"),
    ("--cpus-per-task", Some("-c"), "--cpus-per-task"),
    ("--parsable", None, "the job ids"),
    ("--wrap", None, "the job scripts"),
];

/// Checks the options before anything is read or written.
fn check_options(options: &SlurmOptions) -> Result<()> {
    if options.cpus_per_task == 0 || options.cpus_per_task as usize > crate::MAX_THREADS {
        bail!("--cpus-per-task: must lie in 1..={} (each task runs as many threads), got {}", crate::MAX_THREADS, options.cpus_per_task);
    }
    if options.max_running == Some(0) {
        bail!("--max-running: must be at least 1");
    }
    for extra in &options.sbatch {
        let flag = extra.split('=').next().unwrap_or_default();
        for (long, short, set_by) in RESERVED {
            // `-c4` and `-c 4` alike; long options may be abbreviated to any unambiguous prefix.
            let short_form = short.is_some_and(|s| flag.starts_with(s) && !flag.starts_with("--"));
            let long_form = flag.len() > 3 && flag.starts_with("--") && long.starts_with(flag);
            if long_form || short_form {
                bail!("sbatch option {extra:?} after --: hposim sets {long} itself (for {set_by}); leave it out");
            }
        }
    }
    Ok(())
}

/// What the sweep's jobs share: where they run, what they run, and the user's sbatch options.
struct Jobs<'a> {
    name: String,
    experiment: &'a Path,
    out_dir: &'a Path,
    hposim: &'a Path,
    options: &'a SlurmOptions,
    /// The partition's digest, which the tasks check (`--expect-partition`).
    partition: String,
}

impl Jobs<'_> {
    /// `sbatch --parsable FLAGS --job-name=JOB --output=slurm/OUTPUT --chdir=DIR [--partition,
    /// --time, --account] [extra options] slurm/SCRIPT slurm/ ARGS HPOSIM run EXPERIMENT --out DIR`,
    /// as an argument vector (the program first).
    fn sbatch(&self, flags: &[String], job: &str, output: &str, script: &str, args: &[String]) -> Vec<String> {
        let slurm_dir = self.out_dir.join(SLURM_DIR);
        let mut command = vec!["sbatch".to_owned(), "--parsable".to_owned()];
        command.extend(flags.iter().cloned());
        command.extend([
            format!("--job-name={job}"),
            // `%` is sbatch's pattern character: a literal one in the path is written `%%`.
            format!("--output={}/{output}", slurm_dir.display().to_string().replace('%', "%%")),
            format!("--chdir={}", self.out_dir.display()),
        ]);
        let options = self.options;
        for (flag, value) in [("--partition", &options.partition), ("--time", &options.time), ("--account", &options.account)] {
            if let Some(value) = value {
                command.push(format!("{flag}={value}"));
            }
        }
        command.extend(options.sbatch.iter().cloned());
        command.extend([slurm_dir.join(script).display().to_string(), slurm_dir.display().to_string()]);
        command.extend(args.iter().cloned());
        command.extend([
            self.hposim.display().to_string(),
            "run".to_owned(),
            self.experiment.display().to_string(),
            "--out".to_owned(),
            self.out_dir.display().to_string(),
        ]);
        command
    }

    /// The job array of `tasks` (shards from 1) of `count`: each runs
    /// `hposim run EXPERIMENT --out DIR --threads C --quiet --shard K/N` (the script adds the shard).
    fn array(&self, count: u32, tasks: &[u32]) -> Vec<String> {
        let mut array = task_list(tasks);
        if let Some(limit) = self.options.max_running {
            array.push_str(&format!("%{limit}"));
        }
        let cpus = self.options.cpus_per_task;
        let mut flags = vec![format!("--array={array}"), format!("--cpus-per-task={cpus}")];
        flags.extend(self.options.mem.iter().map(|mem| format!("--mem={mem}")));
        let mut command = self.sbatch(&flags, &self.name, "%A_%a.out", "shard.sh", &[count.to_string()]);
        command.extend([
            "--threads".to_owned(),
            cpus.to_string(),
            "--quiet".to_owned(),
            "--expect-partition".to_owned(),
            self.partition.clone(),
        ]);
        command
    }

    /// The summary job after array `array_id`: `hposim run EXPERIMENT --out DIR --merge --quiet`.
    fn merge(&self, array_id: &str) -> Vec<String> {
        // The same memory as a task: it loads the experiment (recorded tables too) and reads
        // every summary.
        let mut flags = vec![format!("--dependency=afterany:{array_id}"), "--cpus-per-task=1".to_owned()];
        flags.extend(self.options.mem.iter().map(|mem| format!("--mem={mem}")));
        let mut command = self.sbatch(&flags, &format!("{}-summary", self.name), "%j.out", "merge.sh", &[]);
        command.extend(["--merge".to_owned(), "--quiet".to_owned()]);
        command
    }
}

/// Slurm's `--array` list of task ids: runs of consecutive ids as ranges (`1-4,7,9-10`).
fn task_list(tasks: &[u32]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < tasks.len() {
        let mut j = i;
        while j + 1 < tasks.len() && tasks[j + 1] == tasks[j] + 1 {
            j += 1;
        }
        parts.push(if i == j { tasks[i].to_string() } else { format!("{}-{}", tasks[i], tasks[j]) });
        i = j + 1;
    }
    parts.join(",")
}

fn to_command(args: &[String]) -> Command {
    let mut command = Command::new(&args[0]);
    command.args(&args[1..]);
    command
}

/// An argument vector as a shell would need it, to show (never to run).
fn shown(args: &[String]) -> String {
    let quote = |a: &String| {
        if !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_=./:,%+@".contains(c)) {
            a.clone()
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    };
    args.iter().map(quote).collect::<Vec<_>>().join(" ")
}

fn append_submission(slurm_dir: &Path, record: &Submission) -> Result<()> {
    let path = slurm_dir.join(SUBMISSIONS_FILE);
    let line = serde_json::to_string(record).context("encoding the submission record")?;
    let mut file =
        std::fs::OpenOptions::new().create(true).append(true).open(&path).with_context(|| format!("opening {}", path.display()))?;
    writeln!(file, "{line}").with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_lists_join_consecutive_ids_into_ranges() {
        assert_eq!(task_list(&[1, 2, 3, 4, 7, 9, 10]), "1-4,7,9-10");
        assert_eq!(task_list(&[5]), "5");
        assert_eq!(task_list(&[2, 4, 6]), "2,4,6");
    }

    #[test]
    fn shown_commands_quote_what_a_shell_would_split() {
        let args = ["sbatch", "--job-name=a b", "it's", "/x/y.toml"].map(String::from);
        assert_eq!(shown(&args), r"sbatch '--job-name=a b' 'it'\''s' /x/y.toml");
    }
}

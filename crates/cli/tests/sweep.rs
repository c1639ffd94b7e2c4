//! Sharded sweeps: `hposim run --shard K/N` and `--merge`, `hposim status`, and on a real Slurm
//! cluster `hposim submit --slurm`. CI starts a single-node cluster on localhost with
//! `.ci/slurm-cluster.sh` and sets `HPOSIM_REQUIRE_SLURM=1`; elsewhere the Slurm tests run where
//! `sinfo` answers and are skipped (with a message) where it does not.
//!
//! A sweep submitted as a job array must leave exactly the files of one local `hposim run`,
//! byte for byte; a task cancelled mid-way must show as failed, and submitting again must run
//! only its shard, without touching the cells already finished.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn cluster_available() -> bool {
    let up = Command::new("sinfo").arg("-h").output().is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    if !up {
        assert!(
            std::env::var("HPOSIM_REQUIRE_SLURM").as_deref() != Ok("1"),
            "HPOSIM_REQUIRE_SLURM=1 but no Slurm cluster answers sinfo; start one with .ci/slurm-cluster.sh"
        );
        eprintln!("skipping: no Slurm cluster (start one with .ci/slurm-cluster.sh)");
    }
    up
}

fn hposim(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_hposim")).args(args).output().unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

fn status(dir: &Path) -> Value {
    let (ok, stdout, stderr) = hposim(&["status", dir.to_str().unwrap(), "--json"]);
    assert!(ok, "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// Every file of `dir/cells` and the summary and manifest, by name.
fn results(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir.join("cells")).unwrap() {
        let path = entry.unwrap().path();
        files.insert(format!("cells/{}", path.file_name().unwrap().to_string_lossy()), std::fs::read(&path).unwrap());
    }
    for name in ["summary.json", "manifest.json", "experiment.toml"] {
        files.insert(name.to_owned(), std::fs::read(dir.join(name)).unwrap());
    }
    files
}

/// The job ids of the last submission in `dir`: the array's and the summary job's.
fn last_submission(dir: &Path) -> (String, String, Vec<u64>) {
    let text = std::fs::read_to_string(dir.join("slurm/submissions.jsonl")).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let tasks = last["tasks"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap()).collect();
    (last["array"].as_str().unwrap().to_owned(), last["merge"].as_str().unwrap().to_owned(), tasks)
}

/// Waits until the summary job of the last submission in `dir` has recorded its end, and
/// returns what it recorded (`JOB exit CODE`).
fn wait_for_summary_job(dir: &Path, limit: Duration) -> String {
    let (_, merge, _) = last_submission(dir);
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(dir.join("slurm/merge.state"))
            && text.starts_with(&format!("{merge} "))
            && !text.contains("running")
        {
            return text.trim().to_owned();
        }
        assert!(started.elapsed() < limit, "the summary job {merge} did not end within {limit:?}; status: {}", status(dir));
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn write_experiment(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

const SWEEP: &str = r#"
name = "sweep"
seeds = 3
workers = 2
[budget]
trials = 12
[[benchmarks]]
name = "smooth"
type = "synthetic"
max_epochs = 9
[[benchmarks]]
name = "branin"
type = "branin"
[[strategies]]
name = "random"
sampler = { type = "random" }
[[strategies]]
name = "tpe"
sampler = { type = "tpe" }
[[strategies]]
name = "asha"
sampler = { type = "random" }
scheduler = { type = "asha", eta = 3 }
"#;

#[test]
fn a_sweep_submitted_as_a_job_array_leaves_the_files_of_one_local_run() {
    if !cluster_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let experiment = write_experiment(dir.path(), "sweep", SWEEP);
    let (local, cluster) = (dir.path().join("local"), dir.path().join("cluster"));
    let (ok, stdout, stderr) =
        hposim(&["submit", experiment.to_str().unwrap(), "--slurm", "--out", cluster.to_str().unwrap(), "--shards", "3", "--time", "10"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("submitted 3 of 3 shards (18 unfinished cells of 18) as job array"), "{stdout}");
    let (array, merge, tasks) = last_submission(&cluster);
    assert_eq!(tasks, vec![1, 2, 3]);
    assert!(wait_for_summary_job(&cluster, Duration::from_secs(180)).ends_with("exit 0"), "{}", status(&cluster));

    let (ok, _, stderr) = hposim(&["run", experiment.to_str().unwrap(), "--out", local.to_str().unwrap(), "--quiet"]);
    assert!(ok, "{stderr}");
    let (a, b) = (results(&local), results(&cluster));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs between the local run and the sweep");
    }

    let report = status(&cluster);
    assert_eq!((report["cells"].as_u64(), report["finished"].as_u64(), report["summary"].as_bool()), (Some(18), Some(18), Some(true)));
    assert_eq!(report["shards"].as_array().unwrap().len(), 3);
    for (k, shard) in report["shards"].as_array().unwrap().iter().enumerate() {
        assert_eq!(shard["task"]["job"].as_str(), Some(format!("{array}_{}", k + 1).as_str()), "{shard}");
        assert_eq!(shard["task"]["state"].as_str(), Some("finished"), "{shard}");
        assert_eq!(shard["cells"].as_u64(), Some(6), "equal costs per seed: 6 cells each, {shard}");
    }
    assert_eq!(report["summary_job"]["job"].as_str(), Some(merge.as_str()));
    assert_eq!(report["summary_job"]["state"].as_str(), Some("finished"));

    // Nothing is missing: submitting again submits nothing and keeps summary.json.
    let (ok, stdout, stderr) = hposim(&["submit", experiment.to_str().unwrap(), "--slurm", "--out", cluster.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("every one of the 18 cells is finished; writing summary.json"), "{stdout}");
    assert_eq!(std::fs::read(cluster.join("summary.json")).unwrap(), a["summary.json"]);
}

/// GP-BO cells of about half a second each (debug build), eight seeds in two shards.
const SLOW: &str = r#"
name = "slow-sweep"
seeds = 8
workers = 2
[budget]
trials = 60
[[benchmarks]]
name = "branin"
type = "branin"
[[strategies]]
name = "gp"
sampler = { type = "gp" }
"#;

#[test]
fn a_task_cancelled_mid_way_shows_as_failed_and_submitting_again_runs_only_what_is_missing() {
    if !cluster_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let experiment = write_experiment(dir.path(), "slow", SLOW);
    let cluster = dir.path().join("cluster");
    let (ok, _, stderr) = hposim(&["submit", experiment.to_str().unwrap(), "--slurm", "--out", cluster.to_str().unwrap(), "--shards", "2"]);
    assert!(ok, "{stderr}");
    let (array, _, _) = last_submission(&cluster);
    // A second submission while the first is queued or running would run its cells twice.
    let (ok, _, stderr) = hposim(&["submit", experiment.to_str().unwrap(), "--slurm", "--out", cluster.to_str().unwrap()]);
    assert!(!ok && stderr.contains("the sweep submitted earlier is still queued or running"), "{stderr}");
    let partition: Value = serde_json::from_slice(&std::fs::read(cluster.join("shards.json")).unwrap()).unwrap();
    let first: Vec<String> = partition["cells"][0].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(first.len(), 4);
    let done = |ids: &[String]| ids.iter().filter(|id| cluster.join(format!("cells/{id}.json")).is_file()).count();

    // Cancel task 1 once it has finished a cell of its shard, before it finishes them all.
    let started = Instant::now();
    while done(&first) == 0 {
        assert!(started.elapsed() < Duration::from_secs(120), "task {array}_1 finished no cell in 2 minutes: {}", status(&cluster));
        std::thread::sleep(Duration::from_millis(50));
    }
    let cancelled = Command::new("scancel").arg(format!("{array}_1")).status().unwrap();
    assert!(cancelled.success());
    let recorded = wait_for_summary_job(&cluster, Duration::from_secs(180));
    assert!(recorded.ends_with("exit 1"), "the summary job must fail while cells are missing: {recorded}");
    let finished_before: Vec<(String, std::time::SystemTime)> = first
        .iter()
        .filter(|id| cluster.join(format!("cells/{id}.json")).is_file())
        .map(|id| (id.clone(), std::fs::metadata(cluster.join(format!("cells/{id}.parquet"))).unwrap().modified().unwrap()))
        .collect();
    assert!(
        !finished_before.is_empty() && finished_before.len() < first.len(),
        "the cancel should land mid-way: {} of 4 cells finished",
        finished_before.len()
    );

    let report = status(&cluster);
    assert_eq!(report["failed_tasks"], serde_json::json!([format!("{array}_1")]), "{report:#}");
    assert_eq!(report["shards"][0]["task"]["failed"].as_bool(), Some(true), "{report:#}");
    // The task's script trapped Slurm's SIGTERM, waited for hposim and recorded it.
    assert_eq!(report["shards"][0]["task"]["state"].as_str(), Some("ended by Slurm (cancelled or out of time)"), "{report:#}");
    assert_eq!(report["shards"][1]["task"]["state"].as_str(), Some("finished"), "{report:#}");
    assert_eq!(report["summary"].as_bool(), Some(false));
    assert_eq!(report["summary_job"]["failed"].as_bool(), Some(true), "{report:#}");
    assert!(report["summary_job"]["last_line"].as_str().unwrap_or_default().contains("cells are not finished"), "{report:#}");
    let (_, text, _) = hposim(&["status", cluster.to_str().unwrap()]);
    assert!(text.contains("1 task(s) failed with") && text.contains("runs only what is missing"), "{text}");

    // Submitting again runs shard 1 alone (the same partition), and leaves its finished cells be.
    let (ok, stdout, stderr) = hposim(&["submit", experiment.to_str().unwrap(), "--slurm", "--out", cluster.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains(&format!("submitted 1 of 2 shards ({} unfinished cells of 8)", 4 - finished_before.len())), "{stdout}");
    let (_, _, tasks) = last_submission(&cluster);
    assert_eq!(tasks, vec![1]);
    assert!(wait_for_summary_job(&cluster, Duration::from_secs(180)).ends_with("exit 0"), "{}", status(&cluster));
    for (id, modified) in &finished_before {
        let now = std::fs::metadata(cluster.join(format!("cells/{id}.parquet"))).unwrap().modified().unwrap();
        assert_eq!(&now, modified, "{id} was simulated again");
    }

    let local = dir.path().join("local");
    let (ok, _, stderr) = hposim(&["run", experiment.to_str().unwrap(), "--out", local.to_str().unwrap(), "--quiet"]);
    assert!(ok, "{stderr}");
    let (a, b) = (results(&local), results(&cluster));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs between the local run and the resubmitted sweep");
    }
    let report = status(&cluster);
    assert_eq!((report["finished"].as_u64(), report["summary"].as_bool()), (Some(8), Some(true)), "{report:#}");
}

#[test]
fn shards_run_from_the_command_line_then_merge_into_the_unsharded_results() {
    let dir = tempfile::tempdir().unwrap();
    let experiment = write_experiment(dir.path(), "sweep", SWEEP);
    let (exp, sharded) = (experiment.to_str().unwrap(), dir.path().join("sharded"));
    let out = sharded.to_str().unwrap();
    let (ok, stdout, stderr) = hposim(&["run", exp, "--out", out, "--shard", "2/4", "--quiet"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("sweep: shard 2/4: ") && stdout.contains("of the 18 cells"), "{stdout}");
    assert!(stdout.contains("--merge"), "says how summary.json is written: {stdout}");
    assert!(!sharded.join("summary.json").exists());

    // Status from the files alone: the partition, each shard's progress, no Slurm tasks.
    let report = status(&sharded);
    assert_eq!((report["cells"].as_u64(), report["summary"].as_bool()), (Some(18), Some(false)), "{report:#}");
    let shards = report["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 4);
    assert_eq!(shards[1]["finished"], shards[1]["cells"], "{report:#}");
    assert_eq!(report["finished"], shards[1]["finished"], "{report:#}");
    assert!(shards.iter().all(|s| s["task"].is_null()), "{report:#}");
    let (_, text, _) = hposim(&["status", out]);
    assert!(text.contains("of 18 cells finished") && text.contains("summary.json: not written yet"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("2/4") && l.ends_with("  -")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("1/4") && l.ends_with("not submitted")), "{text}");

    // The merge refuses while cells are missing (exit status 1), naming them.
    let (ok, _, stderr) = hposim(&["run", exp, "--out", out, "--merge", "--quiet"]);
    assert!(!ok);
    assert!(stderr.contains("cells are not finished") && stderr.contains("hposim status"), "{stderr}");
    for k in [1, 3, 4] {
        let (ok, _, stderr) = hposim(&["run", exp, "--out", out, "--shard", &format!("{k}/4"), "--quiet"]);
        assert!(ok, "{stderr}");
    }
    let (ok, stdout, stderr) = hposim(&["run", exp, "--out", out, "--merge", "--quiet"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("sweep: 18 cells (0 simulated, 18 reused"), "{stdout}");
    let whole = dir.path().join("whole");
    let (ok, _, stderr) = hposim(&["run", exp, "--out", whole.to_str().unwrap(), "--quiet"]);
    assert!(ok, "{stderr}");
    assert!(results(&whole) == results(&sharded), "the merged shards differ from one run");
    assert_eq!(status(&sharded)["summary"].as_bool(), Some(true));
}

#[test]
fn bad_sweep_options_are_refused_with_the_option_named() {
    let dir = tempfile::tempdir().unwrap();
    let experiment = write_experiment(dir.path(), "sweep", SWEEP);
    let exp = experiment.to_str().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    for (args, says) in [
        (vec!["run", exp, "--out", out, "--shard", "0/4"], "K must lie in 1..=4"),
        (vec!["run", exp, "--out", out, "--shard", "5/4"], "K must lie in 1..=4"),
        (vec!["run", exp, "--out", out, "--shard", "three"], "is not K/N"),
        (vec!["run", exp, "--out", out, "--shard", "1/2", "--merge"], "cannot be used with"),
        (vec!["submit", exp, "--out", out], "--slurm"),
        (vec!["submit", exp, "--slurm", "--out", out, "--shards", "0", "--dry-run"], "--shards: must be at least 1"),
        (vec!["submit", exp, "--slurm", "--out", out, "--cpus-per-task", "0"], "--cpus-per-task: must lie in 1..=1024"),
        (vec!["submit", exp, "--slurm", "--out", out, "--cpus-per-task", "2000"], "--cpus-per-task: must lie in 1..=1024"),
        (vec!["submit", exp, "--slurm", "--out", out, "--max-running", "0"], "--max-running: must be at least 1"),
        (vec!["submit", exp, "--slurm", "--out", out, "--", "--dependency=afterok:1"], "hposim sets --dependency itself"),
        (vec!["submit", exp, "--slurm", "--out", out, "--", "-c4"], "hposim sets --cpus-per-task itself"),
        (vec!["submit", exp, "--slurm", "--out", out, "--", "--out=x.log"], "hposim sets --output itself"),
        (vec!["run", exp, "--out", out, "--expect-partition", "abc"], "--shard"),
        (vec!["submit", exp, "--slurm", "--out", out, "--hposim", "/no/such/hposim"], "--hposim: /no/such/hposim is not a file"),
    ] {
        let (ok, _, stderr) = hposim(&args);
        assert!(!ok, "{args:?} was accepted");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let (ok, _, stderr) = hposim(&["status", dir.path().to_str().unwrap()]);
    assert!(!ok && stderr.contains("no manifest.json here"), "{stderr}");
}

#[test]
fn a_dry_run_shows_the_argument_vectors_sbatch_would_get() {
    let dir = tempfile::tempdir().unwrap();
    let experiment = write_experiment(dir.path(), "sweep", SWEEP);
    let out = dir.path().join("out");
    let (ok, stdout, stderr) = hposim(&[
        "submit",
        experiment.to_str().unwrap(),
        "--slurm",
        "--out",
        out.to_str().unwrap(),
        "--shards",
        "4",
        "--partition",
        "gpu",
        "--time",
        "1:00:00",
        "--cpus-per-task",
        "2",
        "--mem",
        "4G",
        "--account",
        "lab",
        "--max-running",
        "2",
        "--dry-run",
        "--",
        "--qos=long name",
    ]);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("sweep: 18 cells, 18 unfinished, in 4 of 4 shards; would run:"), "{stdout}");
    let (exp, out) = (experiment.display().to_string(), out.display().to_string());
    // The tasks check that they run the partition submitted.
    let parsed = hposim_sim::Experiment::load(&experiment).unwrap();
    let digest = hposim_sim::Partition::new(&parsed, &hposim_sim::cells(&parsed), 4).digest();
    assert_eq!(
        lines[1].trim(),
        format!(
            "sbatch --parsable --array=1-4%2 --cpus-per-task=2 --mem=4G --job-name=hposim-sweep --output={out}/slurm/%A_%a.out \
             --chdir={out} --partition=gpu --time=1:00:00 --account=lab '--qos=long name' {out}/slurm/shard.sh {out}/slurm 4 {} run {exp} \
             --out {out} --threads 2 --quiet --expect-partition {digest}",
            env!("CARGO_BIN_EXE_hposim")
        )
    );
    assert!(
        lines[2].starts_with(
            "  sbatch --parsable --dependency=afterany:ARRAY_JOB_ID --cpus-per-task=1 --mem=4G --job-name=hposim-sweep-summary"
        ),
        "{stdout}"
    );
    assert!(
        lines[2]
            .ends_with(&format!("{out}/slurm/merge.sh {out}/slurm {} run {exp} --out {out} --merge --quiet", env!("CARGO_BIN_EXE_hposim"))),
        "{stdout}"
    );
    // A dry run writes nothing.
    assert!(!Path::new(&out).exists(), "a dry run created {out}");
}

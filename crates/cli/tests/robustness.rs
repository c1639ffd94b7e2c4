//! Hostile input to the `hposim` binary, each case once a hang, a panic or a write in the wrong
//! place: special files as tables and experiments, absurd thread counts, a closed stdout,
//! experiment names that lead out of `results/`, over-long names, two runs on one folder, and a
//! finished folder rerun (nothing rewritten). Every case runs with `RUST_BACKTRACE=1` and must not
//! print "panicked".
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn command(args: &[&str], cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hposim"));
    command.args(args).current_dir(cwd).env("RUST_BACKTRACE", "1");
    command
}

/// Runs `hposim args` in `cwd`, killed after `limit` (a hang fails the test instead of CI).
fn hposim_within(args: &[&str], cwd: &Path, limit: Duration) -> Output {
    let mut child = command(args, cwd).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary runs");
    let started = Instant::now();
    while child.try_wait().expect("waitable").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("killed");
            panic!("hposim {args:?} did not finish within {limit:?}; stderr: {}", text(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("finished");
    assert!(!text(&out.stderr).contains("panicked"), "hposim {args:?} panicked: {}", text(&out.stderr));
    out
}

fn hposim(args: &[&str], cwd: &Path) -> Output {
    hposim_within(args, cwd, Duration::from_secs(120))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn tiny(name: &str) -> String {
    format!(
        r#"
name = {name:?}
seeds = 1
workers = 2
[budget]
compute_seconds = 3000
[[benchmarks]]
name = "smooth"
type = "synthetic"
max_epochs = 5
[[strategies]]
name = "random"
sampler = {{ type = "random" }}
"#
    )
}

#[test]
fn special_files_are_refused_as_experiments_and_tables_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    // A FIFO named like a table (before the fix `hposim run` hung on it), and a symlink to
    // /dev/zero (before, 4.2 GB were read before failing).
    let status = Command::new("mkfifo").arg(dir.path().join("t.parquet")).status().unwrap();
    assert!(status.success());
    std::fs::write(dir.path().join("t.toml"), std::fs::read_to_string(tiny_table_metadata()).unwrap()).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("z.parquet")).unwrap();
    std::fs::copy(dir.path().join("t.toml"), dir.path().join("z.toml")).unwrap();
    for (table, what) in [("t.parquet", "a named pipe (FIFO), not a regular file"), ("z.parquet", "a character device, not a regular file")]
    {
        let experiment = format!(
            "name = \"special\"\n[budget]\ntrials = 2\n[[benchmarks]]\nname = \"rec\"\ntype = \"recorded\"\npath = \"{table}\"\n[[strategies]]\nname = \"random\"\nsampler = {{ type = \"random\" }}\n"
        );
        std::fs::write(dir.path().join("exp.toml"), experiment).unwrap();
        let out = hposim_within(&["run", "exp.toml", "--quiet"], dir.path(), Duration::from_secs(30));
        assert_eq!(out.status.code(), Some(1));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(table) && stderr.contains(what), "{stderr}");
        let out = hposim_within(&["data", "check", table], dir.path(), Duration::from_secs(30));
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains(what), "{}", text(&out.stderr));
    }
    // The experiment file itself.
    let status = Command::new("mkfifo").arg(dir.path().join("fifo.toml")).status().unwrap();
    assert!(status.success());
    let out = hposim_within(&["run", "fifo.toml"], dir.path(), Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("fifo.toml: cannot read the file: it is a named pipe (FIFO)"), "{}", text(&out.stderr));
}

/// The metadata of the example recorded table shipped with the curves crate's tests.
fn tiny_table_metadata() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hposim-robust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let table = hposim_curves::recorded::example::write_example(&dir).unwrap();
    table.with_extension("toml")
}

#[test]
fn absurd_thread_counts_are_refused_and_large_ones_capped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), tiny("tiny")).unwrap();
    let out = hposim(&["run", "tiny.toml", "--threads", "100000", "--quiet"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--threads: must lie in 1..=1024, got 100000"), "{}", text(&out.stderr));
    // 1024 threads for one cell: one thread runs it (before, 1024 were started).
    let out = hposim_within(&["run", "tiny.toml", "--threads", "1024", "--quiet"], dir.path(), Duration::from_secs(60));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("on 1 threads"), "{}", text(&out.stdout));
}

#[test]
fn a_closed_stdout_ends_commands_quietly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), tiny("tiny")).unwrap();
    for args in [
        vec!["list"],
        vec!["brackets", "--max-fidelity", "81", "--eta", "3"],
        vec!["run", "tiny.toml", "--quiet", "--out", "res"],
        vec!["--help"],
    ] {
        // A pipe whose reading end is closed before hposim writes: every write fails with EPIPE
        // (before the fix, `println!` panicked).
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = command(&args, dir.path()).stdout(writer).stderr(Stdio::piped()).output().unwrap();
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        // Ended by SIGPIPE, as `cat` and `ls` are, or (clap's --help) a plain failure status.
        assert!(out.status.signal() == Some(13) || out.status.code().is_some(), "{args:?}: {:?}", out.status);
    }
    // The run's results were written before anything was printed.
    assert!(dir.path().join("res/summary.json").is_file());
}

#[test]
fn default_results_folders_stay_inside_results() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("a/b/c");
    std::fs::create_dir_all(&work).unwrap();
    for (name, folder) in [("../../../escaped", "_._.._.._escaped"), ("/abs/path", "_abs_path")] {
        std::fs::write(work.join("x.toml"), tiny(name)).unwrap();
        let out = hposim(&["run", "x.toml", "--quiet"], &work);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        assert!(work.join("results").join(folder).join("summary.json").is_file(), "{name}");
    }
    assert!(!dir.path().join("escaped").exists() && !Path::new("/abs/path").exists());
    for name in ["", ".", "..", "..."] {
        std::fs::write(work.join("x.toml"), tiny(name)).unwrap();
        let out = hposim(&["run", "x.toml", "--quiet"], &work);
        assert_eq!(out.status.code(), Some(1), "{name:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("x.toml: name: "), "{name:?}: {stderr}");
    }
    // Nothing was written into results/ itself or the working directory.
    assert!(!work.join("results/cells").exists() && !work.join("cells").exists());
}

#[test]
fn long_names_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let long = "s".repeat(10_000);
    let experiment = tiny("long").replace("name = \"random\"", &format!("name = \"{long}\""));
    std::fs::write(dir.path().join("long.toml"), experiment).unwrap();
    let out = hposim(&["run", "long.toml", "--out", "res"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("strategies[0]") && stderr.contains("is 10000 characters long"), "{stderr}");
    assert!(!dir.path().join("res").exists(), "a results folder was made for a refused experiment");
}

#[test]
fn a_second_run_on_a_busy_folder_is_refused_plainly_and_a_finished_folder_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let slow = tiny("slow").replace("seeds = 1", "seeds = 4");
    std::fs::write(dir.path().join("slow.toml"), slow).unwrap();
    // Another hposim holds the folder (as a running `hposim run` does: an flock on its lock
    // file). Before the fix, both wrote the same temporary files and the loser failed with
    // "No such file or directory".
    std::fs::create_dir_all(dir.path().join("res")).unwrap();
    let holder = std::fs::File::create(dir.path().join("res/.hposim.lock")).unwrap();
    holder.try_lock().unwrap();
    let second = hposim(&["run", "slow.toml", "--out", "res", "--quiet"], dir.path());
    assert_eq!(second.status.code(), Some(1));
    let stderr = text(&second.stderr);
    assert!(stderr.contains("another hposim is running on this results folder"), "{stderr}");
    assert!(!dir.path().join("res/summary.json").exists());
    drop(holder);
    // Finished: a rerun reuses every cell and rewrites nothing.
    let again = hposim(&["run", "slow.toml", "--out", "res", "--quiet"], dir.path());
    assert!(again.status.success(), "{}", text(&again.stderr));
    let modified = |file: &str| std::fs::metadata(dir.path().join("res").join(file)).unwrap().modified().unwrap();
    let before: Vec<_> = ["experiment.toml", "manifest.json", "summary.json"].iter().map(|f| modified(f)).collect();
    std::thread::sleep(Duration::from_millis(20));
    let again = hposim(&["run", "slow.toml", "--out", "res", "--quiet"], dir.path());
    assert!(again.status.success() && text(&again.stdout).contains("0 simulated, 4 reused"), "{}", text(&again.stdout));
    let after: Vec<_> = ["experiment.toml", "manifest.json", "summary.json"].iter().map(|f| modified(f)).collect();
    assert_eq!(before, after, "a finished folder's files were rewritten");
}

/// A live experiment named `name` whose trials run the runner's toy trainer (two seeds, so a
/// second study follows the first).
fn live(name: &str) -> String {
    let trainer = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runner/tests/fixtures/toy_trainer.py");
    format!(
        r#"
name = {name:?}
seed = 3
seeds = 2
workers = 1
[budget]
trials = 2
[training]
name = "toy"
command = ["python3", "{}", "0.01"]
objectives = [{{ name = "loss", direction = "minimize" }}]
fidelity = {{ min = 1, max = 2, unit = "epoch" }}
grace_seconds = 0.5
[[training.space]]
type = "float"
name = "x"
low = 0.5
high = 2.0
[[strategies]]
name = "random"
sampler = {{ type = "random" }}
"#,
        trainer.display()
    )
}

#[test]
fn tune_keeps_its_folder_inside_results_and_ends_cleanly_on_a_closed_stdout() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dots.toml"), live("..")).unwrap();
    let out = hposim(&["tune", "dots.toml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("dots.toml: name: \"..\" cannot name a results folder"), "{}", text(&out.stderr));
    std::fs::write(dir.path().join("up.toml"), live("../up")).unwrap();
    // Nobody reads the study's output: the first line printed ends the study as Ctrl-C would
    // (before the fix, `println!` panicked), leaving it resumable.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = command(&["tune", "up.toml"], dir.path()).stdout(writer).stderr(Stdio::piped()).output().unwrap();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("interrupted") && stderr.contains("--resume"), "{stderr}");
    assert!(dir.path().join("results/_._up/manifest.json").is_file(), "{stderr}");
    assert!(!dir.path().join("up").exists());
    // Resumed with a reader, it finishes.
    let out = hposim(&["tune", "up.toml", "--resume"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("2 studies"), "{}", text(&out.stdout));
}

#[test]
fn a_long_cell_is_exported_whole_a_row_group_at_a_time() {
    use polars::prelude::{ParquetReader, SerReader};
    let dir = tempfile::tempdir().unwrap();
    // 2.5 row groups of 2^18 rows: 3,277 trials of 200 epochs.
    let long = tiny("long").replace("compute_seconds = 3000", "trials = 3277").replace("max_epochs = 5", "max_epochs = 200");
    std::fs::write(dir.path().join("long.toml"), long).unwrap();
    let out = hposim(&["run", "long.toml", "--out", "res", "--quiet"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = hposim(&["export", "res", "--out", "steps.parquet"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let frame = ParquetReader::new(std::fs::File::open(dir.path().join("steps.parquet")).unwrap()).finish().unwrap();
    assert_eq!(frame.height(), 3277 * 200);
    let steps = frame.column("step").unwrap().u32().unwrap();
    // Every trial's 200 steps, in the trace's order: the chunks joined without a gap or overlap.
    assert_eq!(steps.iter().flatten().map(u64::from).sum::<u64>(), 3277 * (200 * 201 / 2));
    assert_eq!(frame.column("config_learning_rate").unwrap().null_count(), 0);
    // Row groups of another size than the export's chunks (a slice then spans two of them; the
    // previous code panicked on any trace of several row groups).
    let cells = dir.path().join("res/cells");
    let trace =
        std::fs::read_dir(&cells).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "parquet")).unwrap();
    let mut whole = ParquetReader::new(std::fs::File::open(&trace).unwrap()).finish().unwrap();
    polars::prelude::ParquetWriter::new(std::fs::File::create(&trace).unwrap())
        .with_row_group_size(Some(100_000))
        .finish(&mut whole)
        .unwrap();
    let out = hposim(&["export", "res", "--out", "again.parquet"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let again = ParquetReader::new(std::fs::File::open(dir.path().join("again.parquet")).unwrap()).finish().unwrap();
    assert!(again.equals_missing(&frame));
}

#[test]
fn one_sigterm_ends_a_study_whose_trial_left_a_child_holding_its_output() {
    let dir = tempfile::tempdir().unwrap();
    // The trial starts a child in its own session that inherits stdout, writes the child's pid,
    // reports step 1 and hangs (before the fix the study hung, and SIGTERM could not end it).
    let pids = dir.path().join("pids.txt");
    let script = format!(
        "import json, os, subprocess, sys, time\nchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)\nopen({:?}, 'a').write(f'{{child.pid}}\\n')\nprint(json.dumps({{'step': 1, 'loss': 0.5}}), flush=True)\ntime.sleep(600)\n",
        pids.display().to_string()
    );
    std::fs::write(dir.path().join("trial.py"), script).unwrap();
    let experiment = live("hang").replace(
        &format!(
            "command = [\"python3\", \"{}\", \"0.01\"]",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../runner/tests/fixtures/toy_trainer.py").display()
        ),
        "command = [\"python3\", \"trial.py\"]",
    );
    assert!(experiment.contains("trial.py"));
    std::fs::write(dir.path().join("hang.toml"), experiment).unwrap();
    let mut child = command(&["tune", "hang.toml"], dir.path()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    while std::fs::read_to_string(&pids).unwrap_or_default().is_empty() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
    let sent = Instant::now();
    while child.try_wait().unwrap().is_none() && sent.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let finished = child.try_wait().unwrap().is_some();
    if !finished {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(finished, "one SIGTERM did not end the study within 60 s: {stderr}");
    assert!(stderr.contains("interrupted") && stderr.contains("--resume") && !stderr.contains("panicked"), "{stderr}");
    let pid = std::fs::read_to_string(&pids).unwrap().trim().to_owned();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.rsplit(')').next().is_some_and(|s| s.trim_start().starts_with('Z')),
        "the child {pid} outlived the study"
    );
}

#[test]
fn tune_shows_progress_prints_the_best_configuration_and_fails_when_every_trial_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("toy.toml"), live("toy")).unwrap();
    let out = hposim(&["tune", "toy.toml", "--out", "res"], dir.path());
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    // Not a terminal: a plain line per event, with the counts and the best so far.
    assert!(stdout.contains("] trial 0 started: {\"x\":"), "{stdout}");
    assert!(stdout.contains("random seed 0: 0 running, 0 paused, 1 done, 0 stopped, 0 failed; best loss "), "{stdout}");
    assert!(stdout.contains("trial 1 finished at epoch 2 (loss "), "{stdout}");
    // The best configuration, printed and written to every study's summary.
    assert!(stdout.contains("best configuration: {\"x\":"), "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("res/summary.json")).unwrap()).unwrap();
    for study in summary.as_array().unwrap() {
        let best = &study["best_config"];
        assert_eq!(best["step"], 2, "{study}");
        assert_eq!(best["value"].as_f64(), study["best_objective_max_fidelity"].as_f64(), "{study}");
        assert!(best["config"]["x"].as_f64().is_some_and(|x| (0.5..=2.0).contains(&x)), "{study}");
    }
    // The report shows it under the verdict.
    let report = hposim(&["report", "res", "--out", "rep"], dir.path());
    assert!(report.status.success(), "{}", text(&report.stderr));
    let md = std::fs::read_to_string(dir.path().join("rep/report.md")).unwrap();
    assert!(md.contains("**Best configuration found**") && md.contains("| toy | loss = "), "{md}");
    // One strategy has nothing to be compared with, and the verdict says so.
    assert!(md.contains("| toy | **random**; the only strategy with a result |"), "{md}");
    // A study whose every trial fails ends with status 1 and says so.
    let failing: String = live("failing")
        .lines()
        .map(|line| if line.starts_with("command =") { r#"command = ["python3", "-c", "import sys; sys.exit(3)"]"# } else { line })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.path().join("failing.toml"), failing).unwrap();
    let out = hposim(&["tune", "failing.toml", "--out", "failed"], dir.path());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("trial 0 failed"), "{stdout}");
    assert!(text(&out.stderr).contains("error: every trial failed (4 of 4)"), "{}", text(&out.stderr));
}

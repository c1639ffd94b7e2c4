//! Experiments end to end in the library: determinism across thread counts, resuming, and the
//! refusal of bad experiment files (each with the file and key named).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests and benchmarks fail loudly on purpose.

use hposim_sim::{Experiment, RunOptions, run};
use polars::prelude::{ParquetReader, SerReader};
use std::fs;
use std::path::{Path, PathBuf};

const SMALL: &str = r#"
name = "small"
seeds = 3
workers = 3
price_per_worker_hour = 2.0
[budget]
compute_seconds = 20000

[[benchmarks]]
name = "exp"
type = "synthetic"
max_epochs = 12
epoch_seconds = 30

[[benchmarks]]
name = "cross"
type = "synthetic"
family = "crossing"
max_epochs = 12
epoch_seconds = 30
divergence = { fraction = 0.2 }

[[benchmarks]]
type = "counting_ones"
categorical = 2
continuous = 2
max_budget = 27
min_budget = 3

[[strategies]]
name = "random"
sampler = { type = "random" }

[[strategies]]
name = "grid"
sampler = { type = "grid", resolution = 2 }
scheduler = { type = "fifo" }
"#;

fn experiment(text: &str) -> Experiment {
    Experiment::parse(Path::new("small.toml"), text).unwrap()
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = fs::read_dir(dir.join("cells"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p: PathBuf| (p.file_name().unwrap().to_string_lossy().into_owned(), fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out.push(("summary.json".into(), fs::read(dir.join("summary.json")).unwrap()));
    out
}

#[test]
fn one_and_two_threads_give_identical_traces() {
    let exp = experiment(SMALL);
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let ra =
        run(&exp, &RunOptions { out_dir: a.path().into(), threads: 1, reuse_other_code: false, ..Default::default() }, &|_, _| {}).unwrap();
    let rb =
        run(&exp, &RunOptions { out_dir: b.path().into(), threads: 2, reuse_other_code: false, ..Default::default() }, &|_, _| {}).unwrap();
    assert_eq!(ra.ran, 18);
    assert_eq!(ra.summaries, rb.summaries);
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert_eq!(fa.len(), 2 * 18 + 1);
    for ((na, ba), (nb, bb)) in fa.iter().zip(&fb) {
        assert_eq!(na, nb);
        assert!(ba == bb, "{na} differs between 1 and 2 threads");
    }
    // The traces are real data: read one back and check its columns.
    let parquet = fa.iter().find(|(n, _)| n.starts_with("cross__random") && n.ends_with(".parquet")).unwrap();
    let frame = ParquetReader::new(std::fs::File::open(a.path().join("cells").join(&parquet.0)).unwrap()).finish().unwrap();
    let names: Vec<String> = frame.get_column_names().iter().map(|s| s.to_string()).collect();
    for expected in
        ["trial", "worker", "epoch", "start", "end", "val_error", "status", "decision", "config_learning_rate", "config_momentum"]
    {
        assert!(names.iter().any(|n| n == expected), "missing {expected} in {names:?}");
    }
    let summary = ra.summaries.iter().find(|s| s.cell == parquet.0.trim_end_matches(".parquet")).unwrap();
    assert_eq!(frame.height() as u64, summary.epochs);
    // Costs follow the price: $2 per worker-hour.
    assert!((summary.cost_usd.unwrap() - 2.0 * summary.compute_seconds / 3600.0).abs() < 1e-9);
}

#[test]
fn a_rerun_skips_finished_cells_and_redoes_only_missing_ones() {
    let exp = experiment(SMALL);
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions { out_dir: dir.path().into(), threads: 2, reuse_other_code: false, ..Default::default() };
    let first = run(&exp, &options, &|_, _| {}).unwrap();
    let before = files(dir.path());
    // Interrupt one cell after its trace but before its summary, and leave a stray temp file.
    let victim = &first.summaries[4].cell;
    fs::remove_file(dir.path().join("cells").join(format!("{victim}.json"))).unwrap();
    fs::write(dir.path().join("cells").join("half-written.parquet.tmp"), b"junk").unwrap();
    // What a killed attempt at the victim leaves (a process killed with SIGKILL cannot clean up).
    let leftover = dir.path().join("cells").join(format!("{victim}.parquet.4242-0badcafe-7.tmp"));
    fs::write(&leftover, b"junk").unwrap();
    // And one a live writer holds (locked, as hposim's writers hold theirs): left alone.
    let live = dir.path().join("cells").join(format!("{victim}.json.4243-0badcafe-1.tmp"));
    let held = fs::File::create(&live).unwrap();
    held.try_lock().unwrap();
    let second = run(&exp, &options, &|_, _| {}).unwrap();
    assert_eq!((second.ran, second.reused), (1, 17));
    assert!(!leftover.exists(), "the rerun of a cell removes what killed attempts at it left");
    assert!(live.exists(), "a temporary file that a live process holds is not removed");
    drop(held);
    fs::remove_file(&live).unwrap();
    assert!(dir.path().join("cells/half-written.parquet.tmp").exists(), "files of no cell of this run are left alone");
    assert_eq!(first.summaries, second.summaries);
    let after: Vec<(String, Vec<u8>)> = files(dir.path()).into_iter().filter(|(n, _)| !n.ends_with(".tmp")).collect();
    assert_eq!(before, after);
    // Changing one benchmark's settings reruns exactly its cells.
    let edited = experiment(
        &SMALL.replace("name = \"exp\"\ntype = \"synthetic\"\nmax_epochs = 12", "name = \"exp\"\ntype = \"synthetic\"\nmax_epochs = 11"),
    );
    let third = run(&edited, &options, &|_, _| {}).unwrap();
    assert_eq!((third.ran, third.reused), (6, 12));
}

/// A cell whose file cannot be written fails the run, naming the file; the cells simulated
/// before it are kept, finished, and no temporary file is left; once the obstacle is gone, a
/// rerun finishes only the rest, with the results of an uninterrupted run. A manifest that
/// cannot be written fails the run before any cell is finished.
#[test]
fn a_cell_that_cannot_be_written_fails_the_run_and_keeps_the_cells_before_it() {
    let exp = experiment(SMALL);
    let clean = tempfile::tempdir().unwrap();
    let whole = run(&exp, &RunOptions { out_dir: clean.path().into(), threads: 1, ..Default::default() }, &|_, _| {}).unwrap();
    let victim = &whole.summaries[4].cell;
    let dir = tempfile::tempdir().unwrap();
    // A folder where the victim's trace goes: renaming the finished trace over it fails.
    let obstacle = dir.path().join("cells").join(format!("{victim}.parquet"));
    fs::create_dir_all(&obstacle).unwrap();
    let options = RunOptions { out_dir: dir.path().into(), threads: 1, ..Default::default() };
    let error = run(&exp, &options, &|_, _| {}).expect_err("the victim's trace cannot be renamed").to_string();
    assert!(error.contains(victim.as_str()), "{error}");
    let names: Vec<String> =
        fs::read_dir(dir.path().join("cells")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "temporary files left: {names:?}");
    let finished: Vec<&String> = names.iter().filter(|n| n.ends_with(".json")).collect();
    // The four cells before the victim (one thread takes them in the grid's order) at least.
    assert!(finished.len() >= 4 && finished.len() < 18, "{finished:?}");
    assert!(!finished.iter().any(|n| n.starts_with(victim.as_str())));
    for name in &finished {
        let trace = dir.path().join("cells").join(name.replace(".json", ".parquet"));
        assert!(ParquetReader::new(fs::File::open(&trace).unwrap()).finish().is_ok(), "{} is not a whole trace", trace.display());
    }
    fs::remove_dir(&obstacle).unwrap();
    let rerun = run(&exp, &options, &|_, _| {}).unwrap();
    assert_eq!((rerun.ran, rerun.reused), (18 - finished.len(), finished.len()));
    assert_eq!(rerun.summaries, whole.summaries);
    assert!(files(dir.path()) == files(clean.path()), "the resumed run's files differ from an uninterrupted run's");

    let no_manifest = tempfile::tempdir().unwrap();
    fs::create_dir_all(no_manifest.path().join("manifest.json")).unwrap();
    let options = RunOptions { out_dir: no_manifest.path().into(), threads: 2, ..Default::default() };
    let error = run(&exp, &options, &|_, _| {}).expect_err("the manifest cannot be renamed").to_string();
    assert!(error.contains("manifest.json"), "{error}");
    let left: Vec<String> =
        fs::read_dir(no_manifest.path().join("cells")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(left.is_empty(), "no cell is finished (nor any temporary file left) without a manifest: {left:?}");
}

/// Parses `text` as `bad.toml` and returns the error message.
fn refusal(text: &str) -> String {
    let err = Experiment::parse(Path::new("experiments/bad.toml"), text).expect_err("the experiment must be refused");
    let message = err.to_string();
    assert!(message.starts_with("experiments/bad.toml: "), "{message}");
    message
}

const HEAD: &str = "workers = 2\n[budget]\ntrials = 4\n";
const STRATEGY: &str = "[[strategies]]\nname = \"r\"\nsampler = { type = \"random\" }\n";

fn with_space(param: &str) -> String {
    format!(
        "{HEAD}[[benchmarks]]\ntype = \"synthetic\"\n[[benchmarks.space]]\nname = \"opt\"\ntype = \"categorical\"\nchoices = [\"sgd\", \"adam\"]\n[[benchmarks.space]]\n{param}\n{STRATEGY}"
    )
}

#[test]
fn unknown_keys_and_names_are_refused_with_the_line() {
    let m = refusal(&format!("{HEAD}wrokers = 3\n[[benchmarks]]\ntype = \"synthetic\"\n{STRATEGY}"));
    assert!(m.contains("unknown field `wrokers`") && m.contains("line 4"), "{m}");
    let m =
        refusal(&format!("{HEAD}[[benchmarks]]\ntype = \"synthetic\"\n[[strategies]]\nname = \"r\"\nsampler = {{ type = \"smac\" }}\n"));
    assert!(m.contains("unknown variant `smac`") && m.contains("line 8"), "{m}");
    let m = refusal(&format!("{HEAD}[[benchmarks]]\ntype = \"synthetic\"\n{STRATEGY}scheduler = {{ type = \"hyperbnad\" }}\n"));
    assert!(m.contains("unknown variant `hyperbnad`") && m.contains("line 9"), "{m}");
    let m = refusal(&format!(
        "{HEAD}[[benchmarks]]\ntype = \"synthetic\"\n{STRATEGY}scheduler = {{ type = \"asha\", reduction_factor = 3 }}\n"
    ));
    assert!(m.contains("unknown field `reduction_factor`"), "{m}");
    let m = refusal(&format!("{HEAD}[[benchmarks]]\ntype = \"lcbench\"\n{STRATEGY}"));
    assert!(m.contains("unknown variant `lcbench`"), "{m}");
    let m = refusal("workers = 2\n[budget\ntrials = 4\n");
    assert!(m.contains("line 2"), "{m}");
}

#[test]
fn bad_search_spaces_are_refused_naming_the_parameter() {
    let cases = [
        (
            "name = \"c\"\ntype = \"categorical\"\nchoices = []",
            "benchmarks[0] (\"synthetic\", line 4).space: parameter `c`: needs at least one choice",
        ),
        ("name = \"lr\"\ntype = \"float\"\nlow = 0.1\nhigh = 0.1", "parameter `lr`: low (0.1) must be below high (0.1)"),
        ("name = \"lr\"\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\nlog = true", "parameter `lr`: a log scale needs low > 0, but low is 0"),
        ("name = \"n\"\ntype = \"int\"\nlow = 0\nhigh = 8\nlog = true", "parameter `n`: a log scale needs low >= 1, but low is 0"),
        (
            "name = \"m\"\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\ncondition = { parent = \"optimiser\", values = [\"sgd\"] }",
            "parameter `m`: condition names unknown parent `optimiser`",
        ),
        (
            "name = \"m\"\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\ncondition = { parent = \"opt\", values = [\"lbfgs\"] }",
            "parameter `m`: condition value \"lbfgs\" is not a value parent `opt` can take",
        ),
    ];
    for (param, expected) in cases {
        let m = refusal(&with_space(param));
        assert!(m.contains(expected), "{m}\n  expected: {expected}");
    }
}

/// Early-termination settings that cannot work are refused before the run, naming the key.
#[test]
fn bad_scheduler_settings_are_refused() {
    let bench = "[[benchmarks]]\ntype = \"synthetic\"\nmax_epochs = 27\n";
    let with = |scheduler: &str| format!("{HEAD}{bench}{STRATEGY}scheduler = {scheduler}\n");
    let m = refusal(&with("{ type = \"hyperband\", eta = 2.5 }"));
    assert!(m.contains("scheduler.eta: must be a whole number (2, 3, 4, ...), got 2.5"), "{m}");
    let m = refusal(&with("{ type = \"asha\", min_fidelity = 0 }"));
    assert!(m.contains("scheduler.min_fidelity: the benchmark's fidelity runs from 1 to 27 (epoch); got 0"), "{m}");
    let m = refusal(&with("{ type = \"asha\", brackets = 4 }"));
    assert!(m.contains("scheduler.brackets: 4 brackets need a rung at 1·3^3 below max_fidelity (27)"), "{m}");
    let m = refusal(&with("{ type = \"median_stopping\", grace_period = 28 }"));
    assert!(m.contains("scheduler.grace_period: must lie in 1..=27"), "{m}");
    // A budget of full evaluations alone never ends if no trial reaches full fidelity.
    let only_full =
        format!("workers = 2\n[budget]\nfull_evaluations = 5\n{bench}{STRATEGY}scheduler = {{ type = \"asha\", max_fidelity = 9 }}\n");
    let m = refusal(&only_full);
    assert!(
        m.contains("budget.full_evaluations: strategy \"r\" never trains a trial beyond 9 of benchmark \"synthetic\"'s 27 epoch"),
        "{m}"
    );
    let short_bracket = format!(
        "workers = 2\n[budget]\nfull_evaluations = 5\n{bench}{STRATEGY}scheduler = {{ type = \"successive_halving\", configs = 10 }}\n"
    );
    let m = refusal(&short_bracket);
    assert!(m.contains("never trains a trial beyond 9 of"), "{m}");
    // With a second limit the same strategy is fine.
    let fine = format!(
        "workers = 2\n[budget]\nfull_evaluations = 5\ntrials = 50\n{bench}{STRATEGY}scheduler = {{ type = \"asha\", max_fidelity = 9 }}\n"
    );
    Experiment::parse(Path::new("ok.toml"), &fine).unwrap();
}

#[test]
fn bad_settings_are_refused_naming_the_key() {
    let bench = "[[benchmarks]]\ntype = \"synthetic\"\n";
    let cases = [
        (format!("workers = 0\n[budget]\ntrials = 4\n{bench}{STRATEGY}"), "experiments/bad.toml: workers: must lie in 1..=100000, got 0"),
        (format!("workers = 2\n{bench}{STRATEGY}"), "experiments/bad.toml: budget: no budget: set at least one of"),
        (format!("workers = 2\n[budget]\n{bench}{STRATEGY}"), "experiments/bad.toml: budget: no budget"),
        (
            format!("workers = 2\n[budget]\ncompute_seconds = -5\n{bench}{STRATEGY}"),
            "budget.compute_seconds: must be a positive number of seconds, at most 1e12 (about 31,700 years), got -5",
        ),
        (format!("{HEAD}{STRATEGY}"), "benchmarks: add at least one [[benchmarks]] table"),
        (format!("{HEAD}{bench}"), "strategies: add at least one [[strategies]] table"),
        (format!("{HEAD}{bench}{STRATEGY}{STRATEGY}"), "strategies[1] (\"r\", line 9).name: strategy name \"r\" is used twice"),
        (
            format!("{HEAD}{bench}max_epochs = 0\n{STRATEGY}"),
            "benchmarks[0] (\"synthetic\", line 4).max_epochs: must lie in 1..=1000000, got 0",
        ),
        (
            format!("{HEAD}{bench}[[strategies]]\nname = \"g\"\nsampler = {{ type = \"grid\", resolutions = {{ lr = 3 }} }}\n"),
            "strategies[0] (\"g\", line 6).sampler.resolutions.lr: no parameter `lr` in the search space (on benchmark \"synthetic\")",
        ),
    ];
    for (text, expected) in cases {
        let m = refusal(&text);
        assert!(m.contains(expected), "{m}\n  expected: {expected}");
    }
}

#[test]
fn every_shipped_experiment_file_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let mut loaded = Vec::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        // Live experiments (a [training] table) are `hposim tune` files, loaded by the runner's tests.
        let live = fs::read_to_string(&path).is_ok_and(|t| t.lines().any(|l| l.trim() == "[training]"));
        if path.extension().is_some_and(|e| e == "toml") && !live {
            Experiment::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            loaded.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    loaded.sort();
    assert!(loaded.contains(&"bohb-paper.toml".to_owned()) && loaded.contains(&"default.toml".to_owned()), "{loaded:?}");
}

#[test]
fn population_based_training_is_refused_where_it_cannot_run_naming_the_key() {
    let with_trials = |bench: &str, scheduler: &str| {
        format!("{HEAD}[[benchmarks]]\ntype = \"{bench}\"\n{STRATEGY}scheduler = {{ type = \"pbt\"{scheduler} }}\n")
    };
    let pbt = |bench: &str, scheduler: &str| with_trials(bench, scheduler).replace("trials = 4", "compute_seconds = 100");
    let cases = [
        ("training_dynamics", ", population = 1", "strategies[0] (\"r\", line 6).scheduler.population: must lie in 2..="),
        ("training_dynamics", ", quantile_fraction = 0.0", "scheduler.quantile_fraction: must lie in (0, 0.5], got 0"),
        ("training_dynamics", ", quantile_fraction = 0.75", "scheduler.quantile_fraction: must lie in (0, 0.5], got 0.75"),
        ("training_dynamics", ", perturbation_interval = 0", "scheduler.perturbation_interval: must lie in 1..=100"),
        ("training_dynamics", ", perturbation_interval = 101", "scheduler.perturbation_interval: must lie in 1..=100"),
        ("synthetic", "", "scheduler: pbt changes configurations mid-training, which benchmark \"synthetic\" cannot"),
    ];
    for (bench, scheduler, expected) in cases {
        let m = refusal(&pbt(bench, scheduler));
        assert!(m.contains(expected), "{m}");
    }
    let m = refusal(&format!("checkpointing = false\n{}", pbt("pbt_toy", "")));
    assert!(m.contains("scheduler: pbt copies checkpoints, so it needs checkpointing"), "{m}");
    let m = refusal(&with_trials("pbt_toy", ""));
    assert!(m.contains("budget.trials: pbt starts a new trial at every exploit"), "{m}");
    // A population larger than the number of workers is allowed: members wait.
    assert!(Experiment::parse(Path::new("ok.toml"), &pbt("pbt_toy", ", population = 9")).is_ok());
}

/// Makes the finished cells of `dir` look computed by other code with fingerprint `other`: each
/// cell's files move to the stem that code gives it, and its summary records that code.
fn as_if_made_by(dir: &Path, experiment: &Experiment, other: &str) {
    let cells_dir = dir.join("cells");
    for cell in hposim_sim::cells(experiment) {
        let prefix = cell.id.rsplit_once("__").unwrap().0;
        let settings = {
            let summary: serde_json::Value =
                serde_json::from_slice(&fs::read(cells_dir.join(format!("{}.json", cell.id))).unwrap()).unwrap();
            summary["settings"].as_str().unwrap().to_owned()
        };
        assert_eq!(settings, cell.settings);
        // Another fingerprint gives another stem for the same settings.
        let json = format!("{{\"other settings\": \"{settings}\"}}");
        let other_id = hposim_results::identity(prefix, "", json.as_bytes(), other).id;
        assert_ne!(other_id, cell.id);
        for ext in ["parquet", "json"] {
            fs::rename(cells_dir.join(format!("{}.{ext}", cell.id)), cells_dir.join(format!("{other_id}.{ext}"))).unwrap();
        }
        let path = cells_dir.join(format!("{other_id}.json"));
        let mut summary: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        summary["cell"] = other_id.clone().into();
        summary["fingerprint"] = other.into();
        fs::write(&path, serde_json::to_vec_pretty(&summary).unwrap()).unwrap();
    }
}

#[test]
fn cells_of_other_code_are_rerun_unless_reused_on_purpose() {
    let exp = experiment(SMALL);
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions { out_dir: dir.path().into(), threads: 2, reuse_other_code: false, ..Default::default() };
    let first = run(&exp, &options, &|_, _| {}).unwrap();
    let total = first.summaries.len();
    assert!(first.summaries.iter().all(|s| s.fingerprint == hposim_fingerprint::FINGERPRINT && s.settings.len() == 16));
    let manifest: serde_json::Value = serde_json::from_slice(&fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["fingerprint"], hposim_fingerprint::FINGERPRINT);
    assert!(hposim_sim::other_code(&exp, dir.path()).unwrap().notice(dir.path(), "x", false).is_none());

    // The same directory, as if another build of hposim had computed it.
    as_if_made_by(dir.path(), &exp, "0123456789abcdef");
    let other = hposim_sim::other_code(&exp, dir.path()).unwrap();
    assert_eq!(other.cells, total);
    assert_eq!(other.fingerprints.iter().collect::<Vec<_>>(), ["0123456789abcdef"]);
    let line = other.notice(dir.path(), hposim_fingerprint::FINGERPRINT, false).unwrap();
    assert!(line.contains(&format!("{total} cells were made by other code (code 0123456789abcdef")), "{line}");
    let saved = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(dir.path().join("cells")).unwrap() {
        let path = entry.unwrap().path();
        fs::create_dir_all(saved.path().join("cells")).unwrap();
        fs::copy(&path, saved.path().join("cells").join(path.file_name().unwrap())).unwrap();
    }
    // Never reused silently: every cell is computed again, with the same results.
    let again = run(&exp, &options, &|_, _| {}).unwrap();
    assert_eq!((again.ran, again.reused), (total, 0));
    let strip = |s: &hposim_core::CellSummary| hposim_core::CellSummary { cell: String::new(), fingerprint: String::new(), ..s.clone() };
    assert_eq!(again.summaries.iter().map(strip).collect::<Vec<_>>(), first.summaries.iter().map(strip).collect::<Vec<_>>());

    // Reused on purpose: nothing runs, and each cell keeps the fingerprint of the code that made it.
    let reuse = RunOptions { out_dir: saved.path().into(), threads: 2, reuse_other_code: true, ..Default::default() };
    let reused = run(&exp, &reuse, &|_, _| {}).unwrap();
    assert_eq!((reused.ran, reused.reused), (0, total));
    assert!(reused.summaries.iter().all(|s| s.fingerprint == "0123456789abcdef"));
    assert_eq!(reused.summaries.iter().map(strip).collect::<Vec<_>>(), first.summaries.iter().map(strip).collect::<Vec<_>>());
    // Once adopted under this code's stems, they are this directory's cells: a plain rerun finds them.
    let rerun = run(&exp, &RunOptions { reuse_other_code: false, ..reuse }, &|_, _| {}).unwrap();
    assert_eq!((rerun.ran, rerun.reused), (0, total));
}

/// `trace = "decisions"` keeps a row per run segment: its cells are other cells (the level is in
/// their identity; writing `trace = "steps"` changes nothing), their summaries are those of
/// every step (step-cost sums to 1e-9), the manifest says so, and a bad level is refused naming
/// the key.
#[test]
fn the_decisions_trace_level_has_its_own_cells_and_the_same_summaries() {
    let text = SMALL.replace("compute_seconds = 20000", "wallclock_seconds = 3000");
    let level = |level: &str| text.replacen("workers = 3\n", &format!("workers = 3\ntrace = \"{level}\"\n"), 1);
    let run_in = |text: &str| {
        let dir = tempfile::tempdir().unwrap();
        let options = RunOptions { out_dir: dir.path().into(), threads: 2, ..Default::default() };
        let report = run(&experiment(text), &options, &|_, _| {}).unwrap();
        (dir, report)
    };
    let (steps_dir, steps) = run_in(&text);
    let (_, explicit) = run_in(&level("steps"));
    let (decisions_dir, decisions) = run_in(&level("decisions"));
    assert_eq!(steps.summaries, explicit.summaries, "the default level is \"steps\"");
    assert_eq!(decisions.summaries.len(), steps.summaries.len());
    let (mut steps_rows, mut decisions_rows) = (0, 0);
    for (s, d) in steps.summaries.iter().zip(&decisions.summaries) {
        assert_ne!(s.cell, d.cell, "the level is part of a cell's identity");
        assert_eq!((s.trials, s.epochs, s.full_evaluations, &s.stop_reason), (d.trials, d.epochs, d.full_evaluations, &d.stop_reason));
        assert_eq!(
            (s.best_objective, s.best_objective_max_fidelity, s.wallclock_seconds),
            (d.best_objective, d.best_objective_max_fidelity, d.wallclock_seconds)
        );
        assert!(
            (s.compute_seconds - d.compute_seconds).abs() <= 1e-9 * s.compute_seconds,
            "{} vs {}",
            s.compute_seconds,
            d.compute_seconds
        );
        let rows = |dir: &Path, cell: &str| {
            let file = std::fs::File::open(dir.join("cells").join(format!("{cell}.parquet"))).unwrap();
            ParquetReader::new(file).finish().unwrap().height()
        };
        steps_rows += rows(steps_dir.path(), &s.cell);
        decisions_rows += rows(decisions_dir.path(), &d.cell);
    }
    assert!(decisions_rows * 2 < steps_rows, "{decisions_rows} rows at the decisions level, {steps_rows} with every step");
    let manifest = fs::read_to_string(decisions_dir.path().join("manifest.json")).unwrap();
    assert!(manifest.contains("\"trace\": \"decisions\""), "{manifest}");
    assert!(!fs::read_to_string(steps_dir.path().join("manifest.json")).unwrap().contains("\"trace\""));
    let m = refusal(&format!("trace = \"epochs\"\n{HEAD}[[benchmarks]]\ntype = \"synthetic\"\n{STRATEGY}"));
    assert!(m.contains("unknown variant `epochs`, expected `steps` or `decisions`") && m.contains("trace"), "{m}");
}

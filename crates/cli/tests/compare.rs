//! `hposim compare` end to end: a strategy given a tenth of the budget under the same seeds is
//! named as worse and the exit status is 1; the same results compared with themselves pass;
//! bad input is refused with the file named.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::path::Path;
use std::process::{Command, Output};

fn hposim(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hposim")).args(args).current_dir(cwd).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Random search and Sobol sampling on one synthetic benchmark, 12 seeds, `compute` seconds of
/// budget.
fn experiment(compute: f64) -> String {
    format!(
        r#"
name = "ab"
seeds = 12
workers = 2
[budget]
compute_seconds = {compute}
[[benchmarks]]
name = "smooth"
type = "synthetic"
max_epochs = 10
[[strategies]]
name = "random"
sampler = {{ type = "random" }}
[[strategies]]
name = "sobol"
sampler = {{ type = "sobol" }}
"#
    )
}

#[test]
fn a_strategy_with_less_budget_is_named_worse_and_identical_results_pass() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("base.toml"), experiment(200_000.0)).unwrap();
    std::fs::write(dir.path().join("new.toml"), experiment(20_000.0)).unwrap();
    for (file, out) in [("base.toml", "base"), ("new.toml", "new")] {
        let run = hposim(&["run", file, "--out", out, "--quiet"], dir.path());
        assert!(run.status.success(), "{}", text(&run.stderr));
    }

    // Under one seed a strategy's random stream and the benchmark's noise are the same, so with a
    // tenth of the budget each run's trials are a prefix of the baseline's: never better, worse
    // wherever the baseline found its best later. Paired by seed, Wilcoxon sees it.
    let out = hposim(&["compare", "base", "new", "--json", "comparison.json"], dir.path());
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("Runs paired by seed"), "{stdout}");
    let random_row = stdout.lines().find(|l| l.starts_with("| smooth | random |")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(random_row.contains("WORSE"), "{random_row}");
    assert!(stderr.contains("got significantly worse") && stderr.contains("random on smooth"), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("comparison.json")).unwrap()).unwrap();
    let pairs = json["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 2);
    let random = pairs.iter().find(|p| p["strategy"] == "random").unwrap();
    assert_eq!(random["paired"], true);
    assert_eq!(random["runs"], serde_json::json!([12, 12]));
    // Never better on any seed: the share of seeds on which NEW ends better counts only the
    // seeds where both found their best within the smaller budget, as ties (one half each).
    let share = random["final_score"]["new_better"][0].as_f64().unwrap();
    assert!(share < 0.5 && (share * 24.0 - (share * 24.0).round()).abs() < 1e-9, "{share}");
    assert!(random["final_score"]["new_median"].as_f64().unwrap() >= random["final_score"]["base_median"].as_f64().unwrap());
    assert!(random["compute_hours"][1].as_f64().unwrap() < random["compute_hours"][0].as_f64().unwrap());

    // Reversed, the baseline is the better one: nothing got worse.
    let out = hposim(&["compare", "new", "base"], dir.path());
    assert!(out.status.success(), "{}\n{}", text(&out.stdout), text(&out.stderr));
    let stdout = text(&out.stdout);
    let random_row = stdout.lines().find(|l| l.starts_with("| smooth | random |")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(random_row.contains("| better |"), "{random_row}");

    // The same results against themselves: equal on every seed, nothing to test, exit 0.
    let out = hposim(&["compare", "base", "base"], dir.path());
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("2 pairs compared: 0 worse, 0 better, 2 unchanged."), "{stdout}");

    // A tolerance larger than the difference lets it pass.
    let out = hposim(&["compare", "base", "new", "--tolerance", "1000"], dir.path());
    assert!(out.status.success(), "{}\n{}", text(&out.stdout), text(&out.stderr));

    // A digest of BASE (what a committed baseline holds) gives the same comparison.
    let out = hposim(&["digest", "base", "--out", "base.json"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = hposim(&["compare", "base.json", "new", "--json", "from-digest.json"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("base.json (digest of base)"), "{}", text(&out.stdout));
    let from_digest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("from-digest.json")).unwrap()).unwrap();
    assert_eq!(from_digest["pairs"], json["pairs"], "a digest compares as its results directory does");
}

#[test]
fn bad_input_is_refused_with_the_directory_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let out = hposim(&["compare", "empty", "missing"], dir.path());
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("BASE") && stderr.contains("empty"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let out = hposim(&["compare", "empty", "empty", "--tolerance=-1"], dir.path());
    let stderr = text(&out.stderr);
    assert!(!out.status.success() && stderr.contains("--tolerance"), "{stderr}");
}

//! The `hposim` binary end to end: a run, its outputs and printed table, resuming, and the
//! refusal of bad input with a non-zero exit status and no panic.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests and benchmarks fail loudly on purpose.

use std::path::Path;
use std::process::{Command, Output};

fn hposim(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hposim")).args(args).current_dir(cwd).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const TINY: &str = r#"
name = "tiny"
seeds = 2
workers = 2
price_per_worker_hour = 3.0
[budget]
compute_seconds = 30000
[[benchmarks]]
name = "smooth"
type = "synthetic"
max_epochs = 10
[[benchmarks]]
name = "crossing"
type = "synthetic"
family = "crossing"
max_epochs = 10
[[strategies]]
name = "random"
sampler = { type = "random" }
[[strategies]]
name = "grid"
sampler = { type = "grid", resolution = 2 }
"#;

#[test]
fn run_writes_results_prints_the_table_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), TINY).unwrap();
    let out = hposim(&["run", "tiny.toml", "--out", "res", "--threads", "2", "--quiet"], dir.path());
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}\n{}", stdout, text(&out.stderr));
    assert!(stdout.contains("tiny: 8 cells (8 simulated, 0 reused"), "{stdout}");
    assert!(stdout.contains("final regret, median [IQR]") && stdout.contains("cost $, median [IQR]"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("crossing") && l.contains("grid")), "{stdout}");
    assert!(stdout.contains("epochs/s") && stdout.contains("µs per epoch per thread"), "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("res/summary.json")).unwrap()).unwrap();
    let cells = summary.as_array().unwrap();
    assert_eq!(cells.len(), 8);
    for key in ["benchmark", "strategy", "seed", "trials", "epochs", "compute_seconds", "wallclock_seconds", "best_objective", "cost_usd"] {
        assert!(cells.iter().all(|c| c.get(key).is_some()), "missing {key}");
    }
    let first = &cells[0];
    let cost = first["cost_usd"].as_f64().unwrap();
    let compute = first["compute_seconds"].as_f64().unwrap();
    assert!((cost - 3.0 * compute / 3600.0).abs() < 1e-9);
    assert!(dir.path().join("res/experiment.toml").is_file());
    let again = hposim(&["run", "tiny.toml", "--out", "res", "--quiet"], dir.path());
    assert!(text(&again.stdout).contains("(0 simulated, 8 reused"), "{}", text(&again.stdout));
}

#[test]
fn bad_input_exits_non_zero_with_the_file_and_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("unknown-key.toml", TINY.replace("seeds = 2", "seeds = 2\nsede = 3"), "unknown field `sede`"),
        ("zero-workers.toml", TINY.replace("workers = 2", "workers = 0"), "workers: must lie in 1..=100000, got 0"),
        ("no-budget.toml", TINY.replace("compute_seconds = 30000", ""), "budget: no budget"),
        ("bad-sampler.toml", TINY.replace("type = \"grid\"", "type = \"hyperopt\""), "unknown variant `hyperopt`"),
        (
            "bad-space.toml",
            TINY.replace(
                "max_epochs = 10\n[[benchmarks]]",
                "max_epochs = 10\nspace = [{ name = \"lr\", type = \"float\", low = 1.0, high = 0.5 }]\n[[benchmarks]]",
            ),
            "benchmarks[0] (\"smooth\", line 8).space: parameter `lr`: low (1) must be below high (0.5)",
        ),
    ];
    for (name, body, expected) in cases {
        std::fs::write(dir.path().join(name), body).unwrap();
        let out = hposim(&["run", name, "--out", "res", "--quiet"], dir.path());
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains(name) && stderr.contains(expected), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(!dir.path().join("res").exists(), "{name}: nothing may run before validation passes");
    }
    let out = hposim(&["run", "missing.toml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("missing.toml: cannot read the file"));
}

#[test]
fn help_explains_the_commands() {
    let out = hposim(&["--help"], Path::new("."));
    let stdout = text(&out.stdout);
    assert!(out.status.success());
    for needle in ["run", "list", "experiments/default.toml", "experiments/README.md"] {
        assert!(stdout.contains(needle), "{needle} missing from:\n{stdout}");
    }
    let list = hposim(&["list"], Path::new("."));
    assert!(text(&list.stdout).contains("counting_ones"));
}

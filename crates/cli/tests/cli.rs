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
    // The default table fits 120 columns: score, compute, wall clock and "saved", which FIFO
    // strategies (neither of these stops a trial early) do not get.
    assert!(stdout.contains("final score") && stdout.contains("wall clock h") && !stdout.contains("cost $"), "{stdout}");
    let joined = stdout.replace('\n', " ");
    assert!(joined.contains("final score: median [IQR] over seeds") && joined.contains("normalised regret of val_error"), "{stdout}");
    let table: Vec<&str> = stdout.lines().take_while(|l| !l.starts_with("final score:")).collect();
    assert!(table.iter().all(|l| l.chars().count() <= 120), "{stdout}");
    assert!(table.iter().filter(|l| l.starts_with("smooth") || l.starts_with("crossing")).all(|l| l.ends_with(" -")), "{stdout}");
    assert!(stdout.lines().filter(|l| !l.starts_with("simulated ")).all(|l| l.chars().count() <= 120), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("crossing") && l.contains("grid")), "{stdout}");
    assert!(stdout.contains("epochs/s") && stdout.contains("µs per epoch per thread"), "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("res/summary.json")).unwrap()).unwrap();
    let cells = summary.as_array().unwrap();
    assert_eq!(cells.len(), 8);
    for key in [
        "benchmark",
        "strategy",
        "seed",
        "trials",
        "epochs",
        "compute_seconds",
        "wallclock_seconds",
        "best_objective",
        "cost_usd",
        "full_training_seconds",
        "compute_saved",
        "full_training_cost_usd",
        "checkpointing",
    ] {
        assert!(cells.iter().all(|c| c.get(key).is_some()), "missing {key}");
    }
    let first = &cells[0];
    let cost = first["cost_usd"].as_f64().unwrap();
    let compute = first["compute_seconds"].as_f64().unwrap();
    assert!((cost - 3.0 * compute / 3600.0).abs() < 1e-9);
    assert!(dir.path().join("res/experiment.toml").is_file());
    let again = hposim(&["run", "tiny.toml", "--out", "res", "--quiet", "--wide"], dir.path());
    let wide = text(&again.stdout);
    assert!(wide.contains("(0 simulated, 8 reused"), "{wide}");
    // --wide: every column, with plain regret and cost.
    assert!(
        wide.contains("final regret") && wide.contains("cost $") && wide.contains("full training h") && wide.contains("idle h"),
        "{wide}"
    );

    // The tidy export: one row per step of every cell, with the identifying columns first.
    let export = hposim(&["export", "res", "--out", "steps.parquet"], dir.path());
    assert!(export.status.success(), "{}", text(&export.stderr));
    use polars::prelude::SerReader;
    let steps = polars::prelude::ParquetReader::new(std::fs::File::open(dir.path().join("steps.parquet")).unwrap()).finish().unwrap();
    let names: Vec<String> = steps.get_column_names().iter().map(|n| n.to_string()).collect();
    assert_eq!(names[..6], ["benchmark", "strategy", "seed", "trial", "step", "step_unit"], "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("config_")) && names.contains(&"val_error".to_owned()), "{names:?}");
    let epochs: u64 = cells.iter().map(|c| c["epochs"].as_u64().unwrap()).sum();
    assert_eq!(steps.height() as u64, epochs);
    assert!(text(&export.stdout).contains(&format!("{epochs} rows from 8 cells")), "{}", text(&export.stdout));
    let csv = hposim(&["export", "res", "--out", "steps.csv"], dir.path());
    assert!(csv.status.success(), "{}", text(&csv.stderr));
    let csv_text = std::fs::read_to_string(dir.path().join("steps.csv")).unwrap();
    assert!(csv_text.starts_with("benchmark,strategy,seed,trial,step,step_unit,"), "{}", &csv_text[..200]);
    assert_eq!(csv_text.lines().count() as u64, epochs + 1);
    let refused = hposim(&["export", "res", "--out", "steps.xlsx"], dir.path());
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("steps.xlsx: the output must end in .parquet or .csv"), "{}", text(&refused.stderr));
    // Each trace names its cell, units and code in its Parquet metadata.
    let trace = std::fs::read_dir(dir.path().join("res/cells"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    let metadata = hposim_results::read_trace_metadata(&trace).unwrap();
    let get = |k: &str| metadata.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
    assert!(["smooth", "crossing"].contains(&get("hposim.benchmark").as_str()) && get("hposim.step_unit") == "epoch", "{metadata:?}");
    assert_eq!((get("hposim.time_unit").as_str(), get("hposim.code").len()), ("seconds", 16), "{metadata:?}");
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
    let scheduler =
        |line: &str| TINY.replace("sampler = { type = \"random\" }", &format!("sampler = {{ type = \"random\" }}\nscheduler = {line}"));
    let cases = cases.into_iter().chain([
        ("eta.toml", scheduler("{ type = \"asha\", eta = 1.5 }"), "scheduler.eta: must be at least 2, got 1.5 (on benchmark \"smooth\")"),
        (
            "min-max.toml",
            scheduler("{ type = \"hyperband\", min_fidelity = 10, max_fidelity = 10 }"),
            "scheduler.min_fidelity: must be less than max_fidelity (10), got 10",
        ),
        (
            "missing-fidelity.toml",
            scheduler("{ type = \"successive_halving\", max_fidelity = 500 }"),
            "scheduler.max_fidelity: the benchmark's fidelity runs from 1 to 10 (epoch); got 500",
        ),
        (
            "few-configs.toml",
            scheduler("{ type = \"successive_halving\", configs = 2 }"),
            "scheduler.configs: 2 configurations are fewer than eta (3)",
        ),
    ]);
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

/// The bracket table of Li et al. (2018), Table 1 (R = 81, η = 3), and HpBandSter's sizing of
/// the same range (derived in crates/schedulers/src/brackets.rs).
#[test]
fn brackets_prints_the_table_as_json_and_text() {
    let out = hposim(&["brackets", "--max-fidelity", "81", "--eta", "3", "--json"], Path::new("."));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    let summary: Vec<(u64, Vec<(u64, f64)>)> = table
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let rungs =
                b["rungs"].as_array().unwrap().iter().map(|r| (r["configs"].as_u64().unwrap(), r["fidelity"].as_f64().unwrap())).collect();
            (b["bracket"].as_u64().unwrap(), rungs)
        })
        .collect();
    assert_eq!(summary[0], (4, vec![(81, 1.0), (27, 3.0), (9, 9.0), (3, 27.0), (1, 81.0)]));
    assert_eq!(summary[1], (3, vec![(34, 3.0), (11, 9.0), (3, 27.0), (1, 81.0)]));
    assert_eq!(summary[4], (0, vec![(5, 81.0)]));
    let hp = hposim(&["brackets", "--max-fidelity", "81", "--eta", "3", "--sizing", "hpbandster", "--json"], Path::new("."));
    let hp: serde_json::Value = serde_json::from_str(&text(&hp.stdout)).unwrap();
    let firsts: Vec<u64> = hp.as_array().unwrap().iter().map(|b| b["rungs"][0]["configs"].as_u64().unwrap()).collect();
    assert_eq!(firsts, vec![81, 27, 9, 6, 5]);
    let plain = hposim(&["brackets", "--max-fidelity", "81", "--eta", "3"], Path::new("."));
    assert!(text(&plain.stdout).contains("s_max = 4"), "{}", text(&plain.stdout));
    let bad = hposim(&["brackets", "--max-fidelity", "81", "--eta", "1"], Path::new("."));
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("--eta: must be at least 2"), "{}", text(&bad.stderr));
    let bad = hposim(&["brackets", "--max-fidelity", "1", "--eta", "3", "--min-fidelity", "2"], Path::new("."));
    assert!(text(&bad.stderr).contains("--max-fidelity: must be greater than min_fidelity"), "{}", text(&bad.stderr));
    let huge = hposim(&["brackets", "--max-fidelity", "1e30", "--eta", "2"], Path::new("."));
    assert_eq!(huge.status.code(), Some(1));
    assert!(text(&huge.stderr).contains("more than 63"), "{}", text(&huge.stderr));
}

fn repository() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn data_info_describes_a_recorded_benchmark() {
    let dir = tempfile::tempdir().unwrap();
    hposim_curves::recorded::example::write_example(dir.path()).unwrap();
    let out = hposim(&["data", "info", "tiny.toml"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("tiny (tiny.parquet)\n"), "{stdout}");
    assert!(stdout.contains("fidelity: epoch, steps 1..=full fidelity = 3; first rung at step 1"), "{stdout}");
    assert!(stdout.contains("momentum             float 0..1   (only if optimizer is \"sgd\")"), "{stdout}");
    assert!(stdout.contains("metrics: accuracy (maximize), loss (minimize)"), "{stdout}");
    // Hand-derived: 3 configurations, 4 curves, 1 diverged; best 0.85 (config 1, final); finals
    // 0.80, 0.78, 0.85 → median 0.80; first-epoch vs final ranks (1,2,3) vs (2,1,3) → ρ = 0.5;
    // curve costs 33, 34.5, 60, 10 → median 33.75; total 137.5 s = 0.04 h.
    let row = stdout.lines().last().unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells, ["-", "3", "4", "3", "1", "0.8500", "0.8500", "0.8000", "0.5000", "33.7500", "0.04"], "{stdout}");
}

#[test]
fn data_check_passes_on_every_shipped_file() {
    let data = repository().join("data");
    let mut checked = 0;
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "parquet") {
            let out = hposim(&["data", "check", path.to_str().unwrap()], repository());
            assert!(out.status.success(), "{}: {}", path.display(), text(&out.stderr));
            assert!(text(&out.stdout).starts_with("ok: "), "{}", text(&out.stdout));
            checked += 1;
        }
    }
    assert!(checked >= 5, "mlp-digits, mlp-breast-cancer, nas-bench-201, fcnet, lcdb at least; found {checked}");
    // A name in ./data works too.
    let out = hposim(&["data", "check", "mlp-digits"], repository());
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn data_commands_refuse_bad_input_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let out = hposim(&["data", "check", "lcbench"], repository());
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("lcbench: no such recorded benchmark") && stderr.contains("mlp-digits"), "{stderr}");
    let table = hposim_curves::recorded::example::write_example(dir.path()).unwrap();
    std::fs::write(&table, b"not parquet at all").unwrap();
    for command in ["check", "info"] {
        let out = hposim(&["data", command, "tiny.parquet"], dir.path());
        assert_eq!(out.status.code(), Some(1));
        let stderr = text(&out.stderr);
        assert!(stderr.starts_with("error: tiny.parquet: not a readable Parquet file"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn report_writes_the_report_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), TINY).unwrap();
    assert!(hposim(&["run", "tiny.toml", "--out", "res", "--quiet"], dir.path()).status.success());
    let out = hposim(&["report", "res", "--out", "rep", "--baseline", "grid", "--convention", "any-fidelity"], dir.path());
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("smooth: ") && stdout.contains("lowest median final") && stdout.contains("speed-up over grid"), "{stdout}");
    let md = std::fs::read_to_string(dir.path().join("rep/report.md")).unwrap();
    assert!(md.contains("Incumbent convention: **any-fidelity**; baseline for speed-ups: **grid**"), "{md}");
    // The exact commands that reproduce results and report.
    assert!(md.contains("hposim run tiny.toml --out res\nhposim report res --out rep --baseline grid --convention any-fidelity"), "{md}");
    assert!(dir.path().join("rep/report.html").is_file() && dir.path().join("rep/figures/ranks.svg").is_file());
    // With 2 seeds, the tests say plainly that the data are too few, and the verdict names no
    // winner it cannot support.
    assert!(md.contains("too few seeds"), "{md}");
    assert!(md.contains("no significant difference among the 2 strategies"), "{md}");
    // Every figure as SVG, PDF and PNG.
    assert!(["svg", "pdf", "png"].iter().all(|e| dir.path().join(format!("rep/figures/anytime__smooth.{e}")).is_file()));

    // A selection of strategies and benchmarks, in the column preset.
    let some = hposim(
        &["report", "res", "--out", "rep2", "--benchmarks", "crossing", "--strategies", "random,grid", "--figure-size", "column"],
        dir.path(),
    );
    assert!(some.status.success(), "{}", text(&some.stderr));
    let md2 = std::fs::read_to_string(dir.path().join("rep2/report.md")).unwrap();
    let verdict = &md2[..md2.find("## Figures").unwrap()];
    assert!(verdict.contains("| crossing | ") && !verdict.contains("| smooth | "), "{md2}");
    assert!(md2.contains("--benchmarks crossing") && md2.contains("--figure-size column"), "{md2}");
    let svg = std::fs::read_to_string(dir.path().join("rep2/figures/anytime__crossing.svg")).unwrap();
    assert!(svg.contains("width=\"336\""), "{}", &svg[..300]);
    let unknown = hposim(&["report", "res", "--strategies", "tpe"], dir.path());
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("--strategies: res has no \"tpe\"; it has random, grid"), "{}", text(&unknown.stderr));

    let missing = hposim(&["report", "nowhere"], dir.path());
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("nowhere: no such results directory"), "{}", text(&missing.stderr));
    let bad = hposim(&["report", "res", "--convention", "best"], dir.path());
    assert!(!bad.status.success() && text(&bad.stderr).contains("--convention"));
    // A foreign trace is refused with the file named, not a panic.
    let cells = dir.path().join("res/cells");
    let json = std::fs::read_dir(&cells).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "json")).unwrap();
    std::fs::write(json.with_extension("parquet"), b"garbage").unwrap();
    let refused = hposim(&["report", "res"], dir.path());
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("not a readable Parquet trace"), "{}", text(&refused.stderr));
}

#[test]
fn hypervolume_prints_the_volume_then_the_non_dominated_rows() {
    let dir = tempfile::tempdir().unwrap();
    // Minimising both: the staircase (1,3), (2,2), (3,1) within (4,4) covers 3 + 2 + 1 = 6;
    // (2.5, 2.5) is dominated by (2, 2); (5, 0) is outside the box but not dominated.
    std::fs::write(dir.path().join("p.csv"), "err,time\n1,3\n2,2\n3,1\n2.5,2.5\n5,0\n").unwrap();
    let out = hposim(&["hypervolume", "p.csv", "--reference", "4,4"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "6\n0\n1\n2\n4\n");
    assert!(text(&out.stderr).contains("1 of 5 points are not strictly better than the reference point"));
    // Maximising both against (−1, −1): (2.5, 2.5) now dominates (2, 2). The union of the
    // boxes [(−1, −1), p], in horizontal slabs: y ≤ 0 up to x = 5 (6·1), 0–1 up to 3 (4·1),
    // 1–2.5 up to 2.5 (3.5·1.5), 2.5–3 up to 1 (2·0.5): 6 + 4 + 5.25 + 1 = 16.25.
    let out = hposim(&["hypervolume", "p.csv", "--reference", "-1,-1", "--maximize", "err,time"], dir.path());
    assert_eq!(text(&out.stdout), "16.25\n0\n2\n3\n4\n", "{}", text(&out.stderr));
    // Signed zeros are equal ((0, 3) dominates (−0, 5)); a byte-order mark and quotes are not
    // part of a name.
    std::fs::write(dir.path().join("z.csv"), "\u{feff}\"a\",b\r\n-0,5\r\n0,3\r\n").unwrap();
    let out = hposim(&["hypervolume", "z.csv", "--reference", "-10,10", "--maximize", " a"], dir.path());
    assert_eq!(text(&out.stdout), "70\n1\n", "{}", text(&out.stderr));
    let out = hposim(&["hypervolume", "z.csv", "--reference", "10,10"], dir.path());
    assert_eq!(text(&out.stdout), "70\n1\n", "{}", text(&out.stderr));
    for (args, message) in [
        (vec!["hypervolume", "p.csv", "--reference", "4"], "--reference: 1 coordinates, but p.csv has 2 objectives"),
        (vec!["hypervolume", "p.csv", "--reference", "4,4", "--maximize", "acc"], "--maximize: \"acc\" is not an objective of p.csv"),
        (vec!["hypervolume", "missing.csv", "--reference", "4,4"], "reading missing.csv"),
        (vec!["hypervolume", "p.csv", "--reference", "inf,4"], "--reference: coordinate 1 (\"inf\") is not a finite number"),
        (vec!["hypervolume", "bad.csv", "--reference", "4,4"], "bad.csv: line 3, column time: \"x\" is not a number"),
    ] {
        std::fs::write(dir.path().join("bad.csv"), "err,time\n1,2\n3,x\n").unwrap();
        let out = hposim(&args, dir.path());
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(text(&out.stderr).contains(message), "{args:?}: {}", text(&out.stderr));
    }
}

/// The `type` names documented in a section of experiments/README.md: in `### ... type = "x"`
/// headings (benchmarks), or in the first column of a table (samplers, schedulers).
fn documented(readme: &str, section: &str, end: &str, in_headings: bool) -> Vec<String> {
    let start = readme.find(section).unwrap_or_else(|| panic!("experiments/README.md has no {section:?}"));
    let body = &readme[start + section.len()..];
    let body = &body[..body.find(end).unwrap_or(body.len())];
    let mut names = Vec::new();
    for line in body.lines() {
        if in_headings && line.starts_with("### ") {
            names.extend(line.split("type = \"").skip(1).filter_map(|rest| rest.split('"').next()).map(str::to_owned));
        } else if let Some(cell) = line.strip_prefix("| `").filter(|_| !in_headings) {
            // Not the header row (`type` | keys | meaning).
            names.extend(cell.split('`').next().filter(|name| *name != "type").map(str::to_owned));
        }
    }
    names
}

#[test]
fn list_names_every_type_the_registries_hold_and_experiments_readme_documents() {
    let out = hposim(&["list"], repository());
    assert!(out.status.success());
    let listed = text(&out.stdout);
    let listed_names: Vec<&str> =
        listed.lines().filter(|l| l.starts_with("  ") && !l.starts_with("   ")).filter_map(|l| l.split_whitespace().next()).collect();
    let readme = std::fs::read_to_string(repository().join("experiments/README.md")).unwrap();
    let registries: [(&str, Vec<&str>, Vec<String>); 3] = [
        (
            "benchmark",
            hposim_curves::registry::BENCHMARKS.iter().map(|b| b.name).collect(),
            documented(&readme, "## `[[benchmarks]]`", "\n## ", true),
        ),
        (
            "sampler",
            hposim_samplers::registry::SAMPLERS.iter().map(|s| s.name).collect(),
            documented(&readme, "### Samplers", "\n### ", false),
        ),
        (
            "scheduler",
            hposim_schedulers::registry::SCHEDULERS.iter().map(|s| s.name).collect(),
            documented(&readme, "### Schedulers", "\n## ", false),
        ),
    ];
    for (kind, registered, documented) in registries {
        assert!(registered.len() >= 7, "{kind}: {registered:?}");
        for name in &registered {
            assert!(listed_names.contains(name), "hposim list omits the {kind} {name}");
            assert!(documented.iter().any(|d| d == name), "experiments/README.md does not document the {kind} {name}");
        }
        for name in &documented {
            assert!(registered.contains(&name.as_str()), "experiments/README.md documents a {kind} {name} that hposim does not know");
        }
    }
}

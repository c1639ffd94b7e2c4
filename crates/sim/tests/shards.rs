//! Sharded runs (`hposim run --shard K/N`, then `--merge`): whatever the number of shards, the
//! order they run in, or whether they run at once on one folder, their union is byte for byte
//! one unsharded run, cell by cell and in `summary.json`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use hposim_sim::{Experiment, RunError, RunOptions, Shard, run};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;
use std::path::Path;

/// 2 benchmarks × 3 strategies of different costs (random 1, TPE 2, GP 12) × 3 seeds.
const GRID: &str = r#"
name = "shards"
seeds = 3
workers = 2
[budget]
trials = 10
[[benchmarks]]
name = "smooth"
type = "synthetic"
max_epochs = 6
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
name = "gp"
sampler = { type = "gp" }
"#;

fn experiment() -> Experiment {
    Experiment::parse(Path::new("shards.toml"), GRID).unwrap()
}

/// The cells' files, `summary.json` and the manifest, by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir.join("cells")).unwrap() {
        let path = entry.unwrap().path();
        out.insert(path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap());
    }
    for name in ["summary.json", "manifest.json", "experiment.toml"] {
        out.insert(name.to_owned(), std::fs::read(dir.join(name)).unwrap());
    }
    out
}

fn options(dir: &Path, shard: Option<Shard>, merge_only: bool) -> RunOptions {
    RunOptions { out_dir: dir.to_owned(), threads: 1, reuse_other_code: false, shard, merge_only, expected_partition: None }
}

#[test]
fn the_union_of_the_shards_is_one_unsharded_run_byte_for_byte() {
    let exp = experiment();
    let whole = tempfile::tempdir().unwrap();
    let reference = run(&exp, &options(whole.path(), None, false), &|_, _| {}).unwrap();
    let expected = files(whole.path());
    assert_eq!(reference.summaries.len(), 18);

    let mut runner = TestRunner::new(Config { cases: 12, failure_persistence: None, ..Config::default() });
    runner
        .run(&(1u32..=8, any::<bool>()), |(count, backwards)| {
            let dir = tempfile::tempdir().unwrap();
            let mut order: Vec<u32> = (1..=count).collect();
            if backwards {
                order.reverse();
            }
            let mut ran = 0;
            for index in order {
                let report = run(&exp, &options(dir.path(), Some(Shard { index, count }), false), &|_, _| {}).unwrap();
                prop_assert_eq!(report.total_cells, 18);
                ran += report.ran;
                // A shard writes no summary.json: the merge does, once every cell is there.
                prop_assert!(!dir.path().join("summary.json").exists());
            }
            prop_assert_eq!(ran, 18, "every cell simulated once, by exactly one shard");
            let merged = run(&exp, &options(dir.path(), None, true), &|_, _| {}).unwrap();
            prop_assert_eq!(merged.ran, 0);
            prop_assert!(dir.path().join("shards.json").is_file());
            let union = files(dir.path());
            prop_assert!(union == expected, "{count} shards differ from the unsharded run");
            Ok(())
        })
        .unwrap();
}

#[test]
fn shards_running_at_once_on_one_folder_make_the_same_files() {
    let exp = experiment();
    let whole = tempfile::tempdir().unwrap();
    run(&exp, &options(whole.path(), None, false), &|_, _| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let count = 4;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (1..=count)
            .map(|index| {
                let (exp, dir) = (&exp, dir.path());
                scope.spawn(move || run(exp, &options(dir, Some(Shard { index, count }), false), &|_, _| {}).map(|r| r.ran))
            })
            .collect();
        let ran: usize = handles.into_iter().map(|h| h.join().unwrap().unwrap()).sum();
        assert_eq!(ran, 18);
    });
    run(&exp, &options(dir.path(), None, true), &|_, _| {}).unwrap();
    assert!(files(dir.path()) == files(whole.path()));
    // No temporary file is left behind by the shards' concurrent writes of the shared files.
    let stray: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .chain(std::fs::read_dir(dir.path().join("cells")).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[test]
fn a_merge_with_cells_missing_writes_nothing_and_names_them() {
    let exp = experiment();
    let dir = tempfile::tempdir().unwrap();
    let report = run(&exp, &options(dir.path(), Some(Shard { index: 2, count: 3 }), false), &|_, _| {}).unwrap();
    assert_eq!(report.ran, 6, "18 cells in 3 shards of equal cost, 6 cells each (see the test below)");
    let error = run(&exp, &options(dir.path(), None, true), &|_, _| {}).unwrap_err();
    assert!(matches!(error, RunError::Missing { missing: 12, total: 18, .. }), "{error}");
    let message = error.to_string();
    assert!(message.starts_with(&format!("{}: 12 of 18 cells are not finished (", dir.path().join("cells").display())), "{message}");
    assert!(message.contains(", ...); run the shards that hold them"), "{message}");
    assert!(!dir.path().join("summary.json").exists());
}

#[test]
fn the_partition_is_recorded_and_balanced_by_cost() {
    let exp = experiment();
    let cells = hposim_sim::cells(&exp);
    let partition = hposim_sim::Partition::new(&exp, &cells, 3);
    assert_eq!(partition.cells.iter().map(Vec::len).sum::<usize>(), 18);
    // Per seed the six cells cost 12, 12, 2, 2, 1, 1 (GP, TPE, random on two benchmarks), 30 in
    // all. List scheduling, by hand: seed 0 gives the shards 12, 12 and 2+2+1+1 (loads 12, 12,
    // 6); seed 1 puts its GP cells on shards 3 and 1 and the rest on 2 (24, 18, 18); seed 2 its
    // GP cells on shards 2 and 3 and the rest on 1: 30 each, and six cells each.
    let cost = |id: &String| {
        if id.contains("__gp__") {
            12
        } else if id.contains("__tpe__") {
            2
        } else {
            1
        }
    };
    let loads: Vec<u32> = partition.cells.iter().map(|ids| ids.iter().map(cost).sum()).collect();
    assert_eq!(loads, vec![30, 30, 30], "{partition:?}");
    assert!(partition.cells.iter().all(|ids| ids.len() == 6), "{partition:?}");
    let dir = tempfile::tempdir().unwrap();
    run(&exp, &options(dir.path(), Some(Shard { index: 1, count: 3 }), false), &|_, _| {}).unwrap();
    let written: hposim_sim::Partition = serde_json::from_slice(&std::fs::read(dir.path().join("shards.json")).unwrap()).unwrap();
    assert_eq!(written, partition);
}

#[test]
fn shards_of_another_partition_are_refused_while_shards_run() {
    let exp = experiment();
    let dir = tempfile::tempdir().unwrap();
    // A shard of 3 holds the folder (as a running shard does) ...
    run(&exp, &options(dir.path(), Some(Shard { index: 1, count: 3 }), false), &|_, _| {}).unwrap();
    let held = hposim_results::lock_folder_shared(dir.path()).unwrap();
    // ... so a shard of 4 is refused, naming both partitions; one of 3 runs.
    let error = run(&exp, &options(dir.path(), Some(Shard { index: 2, count: 4 }), false), &|_, _| {}).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("shards of another partition run on this results folder"), "{message}");
    assert!(message.contains("it records 3 shards of 18 cells; this shard is one of 4 shards of 18 cells"), "{message}");
    run(&exp, &options(dir.path(), Some(Shard { index: 2, count: 3 }), false), &|_, _| {}).unwrap();
    drop(held);
    // Alone on the folder, a new partition replaces the old one.
    run(&exp, &options(dir.path(), Some(Shard { index: 2, count: 4 }), false), &|_, _| {}).unwrap();
    let written: hposim_sim::Partition = serde_json::from_slice(&std::fs::read(dir.path().join("shards.json")).unwrap()).unwrap();
    assert_eq!(written.shards, 4);
}

#[test]
fn a_shard_of_another_partition_than_the_submitted_one_is_refused() {
    let exp = experiment();
    let cells = hposim_sim::cells(&exp);
    let submitted = hposim_sim::Partition::new(&exp, &cells, 3).digest();
    let dir = tempfile::tempdir().unwrap();
    let shard = Some(Shard { index: 1, count: 3 });
    let same = RunOptions { expected_partition: Some(submitted.clone()), ..options(dir.path(), shard, false) };
    assert_eq!(run(&exp, &same, &|_, _| {}).unwrap().ran, 6);
    // The experiment edited after submission (one more seed): its partition is another.
    let edited = Experiment::parse(Path::new("shards.toml"), &GRID.replace("seeds = 3", "seeds = 4")).unwrap();
    let message = run(&edited, &same, &|_, _| {}).unwrap_err().to_string();
    assert!(message.contains(&format!("is not the one submitted (digest {submitted})")), "{message}");
}

//! `hposim record` end to end with the toy trainer (tests/fixtures/toy_trainer.py): the table it
//! writes validates against data/FORMAT.md, and replaying it gives the recorded values exactly.

use hposim_core::Value;
use hposim_curves::tabular::{Lookup, TabularSpec};
use hposim_curves::{BenchmarkSpec, Builder};
use hposim_runner::journal::{Journal, Record};
use hposim_runner::record::{measure_overhead, record, study_dir};
use hposim_runner::spec::{Design, LiveExperiment};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

#[test]
fn a_recording_replays_exactly_what_the_trials_reported() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let trainer = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/toy_trainer.py");
    let text = format!(
        "workers = 2\n[training]\nname = \"toy\"\ncommand = [\"python3\", \"{}\", \"0.02\"]\nobjectives = [{{ name = \"loss\", direction = \"minimize\" }}]\nfidelity = {{ min = 1, max = 5, unit = \"epoch\" }}\nlicence = \"CC0-1.0\"\n[[training.space]]\ntype = \"float\"\nname = \"x\"\nlow = 0.5\nhigh = 2.0\n[[training.space]]\ntype = \"categorical\"\nname = \"mode\"\nchoices = [\"ok\", \"crash\"]\n[[training.space]]\ntype = \"categorical\"\nname = \"at\"\nchoices = [2]\n",
        trainer.display()
    );
    let path = dir.path().join("record.toml");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    let experiment = LiveExperiment::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let table: PathBuf = dir.path().join("toy.parquet");
    let never = AtomicBool::new(false);
    let done = record(&experiment, &table, 6, Design::Sobol, false, &never, None).unwrap_or_else(|e| panic!("{e}"));
    // Crashed configurations are left out, with their reason.
    assert_eq!(done.recorded + done.left_out.len(), 6);
    assert!(done.recorded > 0);
    assert!(done.left_out.iter().all(|(_, reason)| reason.contains("exited with status 3")), "{:?}", done.left_out);

    // What each trial reported, from the study's journal.
    let journal = Journal::read(&study_dir(&table).join("journal.jsonl")).unwrap_or_else(|e| panic!("{e}"));
    let reported: Vec<(u32, u32, f64, f64)> = journal
        .iter()
        .filter_map(|r| match r {
            Record::Step { trial, step, metrics, start, end, .. } => Some((*trial, *step, metrics[0], end - start)),
            _ => None,
        })
        .collect();

    let spec = BenchmarkSpec::Recorded(TabularSpec {
        name: None,
        path: "toy.parquet".into(),
        task: None,
        objectives: None,
        lookup: Lookup::Recorded,
        hypervolume_reference: None,
    });
    let bench = Builder::new(dir.path()).build(&spec).unwrap_or_else(|e| panic!("{e}"));
    let set = bench.recorded_configs().unwrap_or_else(|| panic!("no recorded configurations"));
    assert_eq!(set.len(), done.recorded);
    // The first step of each launch (step 1, and the step after a pause of the configurations
    // paused on purpose) is charged without its launch overhead, which the metadata holds.
    let measured = measure_overhead(&journal);
    assert_eq!(bench.overhead(), measured.overhead);
    assert_eq!(done.overhead, measured.overhead);
    assert_eq!(done.samples.0, 6, "every configuration's first launch is a start-up sample");
    let paused = journal.iter().filter(|r| matches!(r, Record::Launch { start_step: 2, .. })).count();
    assert!(paused >= 1 && done.samples.1 == paused, "{paused} resumed launches, {} resume samples", done.samples.1);
    let resumed: Vec<u32> = journal
        .iter()
        .filter_map(|r| match r {
            Record::Launch { trial, start_step: 2, .. } => Some(*trial),
            _ => None,
        })
        .collect();
    assert!(resumed.iter().all(|t| t % 2 == 1), "the paused ones are every other trial: {resumed:?}");
    assert!(measured.overhead.startup > 0.0 && measured.overhead.startup < 5.0, "{:?}", measured.overhead);
    let mut metrics = [0.0];
    let mut replayed = 0;
    for config in set.configs() {
        let Value::Float(x) = config.get(0) else { panic!("x is not a float") };
        let trial = reported.iter().find(|r| r.1 == 1 && (r.2 - (x * 0.9 + 0.01)).abs() < 1e-12).map(|r| r.0);
        let trial = trial.unwrap_or_else(|| panic!("no trial reported x = {x}"));
        let curve = bench.open(config, 0);
        for step in 1..=5 {
            let cost = bench.step(&curve, step, &mut metrics);
            let &(_, _, value, seconds) =
                reported.iter().find(|r| r.0 == trial && r.1 == step).unwrap_or_else(|| panic!("step {step} missing"));
            assert_eq!(metrics[0].to_bits(), value.to_bits(), "trial {trial} step {step}");
            let launch = measured.launch.get(&(trial, step)).copied().unwrap_or(0.0);
            // Half of the six (3) are paused at step 5 / 2 = 2, spread over the list: trials
            // 1, 3 and 5, whose third step is the first of a resumed launch.
            assert!((launch > 0.0) == (step == 1 || (step == 3 && trial % 2 == 1)) || launch == 0.0, "trial {trial} step {step}: {launch}");
            let want = (seconds - launch).max(1e-6);
            assert!((cost - want).abs() < 1e-9, "step {step}: cost {cost} vs {want}");
            assert!(cost > 0.0);
            replayed += 1;
        }
    }
    assert_eq!(replayed, done.recorded * 5);
    // Recording again without --resume is refused, so nothing recorded is lost.
    let error = record(&experiment, &table, 6, Design::Sobol, false, &never, None).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("--resume"), "{error}");
}

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::recorded::example::{EXAMPLE_METADATA, EXAMPLE_ROWS, frame_of, write_example, write_frame};

fn spec(path: &Path) -> TabularSpec {
    TabularSpec { name: None, path: path.to_owned(), task: None, objectives: None, lookup: Lookup::Nearest, hypervolume_reference: None }
}

fn example(edit: impl FnOnce(&mut TabularSpec)) -> Result<Tabular, BenchmarkError> {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec(&write_example(dir.path()).unwrap());
    edit(&mut spec);
    Tabular::new("tiny".into(), &spec, Path::new(""))
}

fn config(optimizer: u32, lr: f64, momentum: Option<f64>) -> Config {
    Config::new(vec![Value::Choice(optimizer), Value::Float(lr), momentum.map_or(Value::Inactive, Value::Float)])
}

#[test]
fn proposals_resolve_to_the_nearest_recorded_configuration_and_categoricals_never_cross() {
    let bench = example(|_| {}).unwrap();
    // adam with lr 0.5: numerically next to configuration 2 (sgd, lr 0.5), but the only adam
    // configuration is 1.
    assert_eq!(bench.resolve(&config(1, 0.5, None)), 1);
    assert_eq!(bench.resolve(&config(0, 0.4, Some(0.1))), 2);
    assert_eq!(bench.resolve(&config(0, 0.01, Some(0.8))), 0);
    // lr 0.07 is 0.85 decades from 0.01 and 0.85 decades from 0.5: momentum decides.
    assert_eq!(bench.resolve(&config(0, 0.07, Some(0.2))), 2);
    assert_eq!(bench.resolve(&config(0, 0.07, Some(0.7))), 0);
    // Under "nearest" samplers propose freely: no set to choose among.
    assert!(bench.recorded_configs().is_none());
}

#[test]
fn steps_replay_the_table_exactly() {
    let bench = example(|s| s.objectives = Some(vec!["loss".into(), "accuracy".into()])).unwrap();
    let curve = bench.open(&config(1, 0.01, None), 7);
    let mut metrics = [0.0; 2];
    for (step, row) in (1..=3).zip(&EXAMPLE_ROWS[6..9]) {
        assert_eq!(bench.step(&curve, step, &mut metrics), row.3);
        assert_eq!(metrics, [row.8, row.7]);
    }
    assert_eq!(bench.cost_until(&curve, 3), 60.0);
    assert_eq!(bench.fidelity(), &Fidelity { min: 1, max: 3, unit: "epoch".into() });
    assert_eq!(bench.best_known(), Some(&[0.5, 0.85][..]));
}

#[test]
fn a_diverged_curve_gives_nan_from_its_diverged_step() {
    let bench = example(|_| {}).unwrap();
    let curve = bench.open(&config(0, 0.5, Some(0.0)), 0);
    let mut metrics = [0.0];
    assert_eq!(bench.step(&curve, 1, &mut metrics), 5.0);
    assert_eq!(metrics, [0.30]);
    assert_eq!(bench.step(&curve, 2, &mut metrics), 5.0);
    assert!(metrics[0].is_nan());
    // Training it again to full fidelity would stop at the divergence too.
    assert_eq!(bench.cost_until(&curve, 3), 10.0);
}

#[test]
fn trials_draw_among_the_repeats() {
    let bench = example(|_| {}).unwrap();
    let mut metrics = [0.0];
    let mut seen = [0; 2];
    for seed in 0..200 {
        let curve = bench.open(&config(0, 0.01, Some(0.9)), seed);
        bench.step(&curve, 1, &mut metrics);
        seen[usize::from(metrics[0] == 0.52)] += 1;
        // Each trial stays on one repeat.
        bench.step(&curve, 3, &mut metrics);
        assert!(metrics[0] == 0.80 || metrics[0] == 0.78);
    }
    assert!(seen[0] > 70 && seen[1] > 70, "both repeats drawn about equally: {seen:?}");
}

#[test]
fn a_spliced_trial_continues_on_the_new_configurations_curve() {
    let bench = example(|_| {}).unwrap();
    let curve = bench.open(&config(0, 0.01, Some(0.9)), 3);
    let spliced = bench.splice(&curve, &config(1, 0.01, None), 1, 3).unwrap();
    let mut before = [0.0];
    let mut after = [0.0];
    assert_eq!(bench.step(&spliced, 1, &mut after), bench.step(&curve, 1, &mut before));
    assert_eq!(before, after);
    assert_eq!(bench.step(&spliced, 2, &mut after), 20.0);
    assert_eq!(after, [0.75]);
    assert_eq!(bench.cost_until(&spliced, 3), bench.step(&curve, 1, &mut before) + 40.0);
}

#[test]
fn splicing_twice_keeps_every_earlier_segment() {
    let bench = example(|_| {}).unwrap();
    let curve = bench.open(&config(0, 0.01, Some(0.9)), 0);
    let once = bench.splice(&curve, &config(1, 0.01, None), 1, 0).unwrap();
    let twice = bench.splice(&once, &config(0, 0.5, Some(0.0)), 2, 0).unwrap();
    let mut metrics = [0.0];
    let seen: Vec<(f64, f64)> = (1..=2).map(|s| (bench.step(&twice, s, &mut metrics), metrics[0])).collect();
    // Step 1 from configuration 0 (repeat 0 or 1), step 2 from configuration 1.
    assert!(seen[0] == (10.0, 0.50) || seen[0] == (10.5, 0.52), "{seen:?}");
    assert_eq!(seen[1], (20.0, 0.75));
    // Step 3 from configuration 2, which diverged at its step 2: NaN.
    bench.step(&twice, 3, &mut metrics);
    assert!(metrics[0].is_nan());
    // A splice at or before an earlier one replaces it.
    let again = bench.splice(&twice, &config(1, 0.01, None), 1, 0).unwrap();
    assert_eq!(again.extra.len(), 2);
    assert_eq!(bench.step(&again, 3, &mut metrics), 20.0);
    assert_eq!(metrics, [0.85]);
}

#[test]
fn nearest_lookup_needs_every_categorical_combination() {
    let dir = tempfile::tempdir().unwrap();
    let sgd_only: Vec<_> = EXAMPLE_ROWS.iter().filter(|r| r.4 == "sgd").copied().collect();
    let path = write_frame(dir.path(), "sgd", &mut frame_of(&sgd_only), EXAMPLE_METADATA).unwrap();
    let error = Tabular::new("sgd".into(), &spec(&path), Path::new("")).unwrap_err();
    assert!(error.to_string().starts_with("lookup: \"nearest\" needs"), "{error}");
    assert!(error.to_string().contains("none has optimizer = \"adam\""), "{error}");
    let recorded = TabularSpec { lookup: Lookup::Recorded, ..spec(&path) };
    let bench = Tabular::new("sgd".into(), &recorded, Path::new("")).unwrap();
    assert_eq!(bench.recorded_configs().map(|set| set.len()), Some(2));
}

#[test]
fn bad_settings_name_their_key() {
    let error = example(|s| s.objectives = Some(vec!["top5".into()])).unwrap_err();
    assert_eq!(
        error.to_string(),
        "objectives: no metric \"top5\" in the file; its metrics are: accuracy, loss, and \"training_time\" (the seconds of training so far)"
    );
    let error = example(|s| {
        s.objectives = Some(vec!["accuracy".into(), "training_time".into()]);
        s.hypervolume_reference = Some(vec![0.5]);
    })
    .unwrap_err();
    assert_eq!(error.to_string(), "hypervolume_reference: needs one coordinate per objective (2: accuracy, training_time), got 1");
    let error = example(|s| s.hypervolume_reference = Some(vec![0.5])).unwrap_err();
    assert_eq!(error.to_string(), "hypervolume_reference: applies to benchmarks with several objectives; this one has 1 (accuracy)");
    let error = example(|s| s.task = Some("cifar10".into())).unwrap_err();
    assert!(error.to_string().starts_with("task: the file has no task column"), "{error}");
    let error = example(|s| s.path = PathBuf::from("/nonexistent/none.parquet")).unwrap_err();
    assert!(error.to_string().starts_with("path: /nonexistent/none.toml: cannot read the metadata file"), "{error}");
}

#[test]
fn nearest_lookup_is_refused_where_the_combinations_cannot_be_enumerated() {
    let dir = tempfile::tempdir().unwrap();
    // `optimizer` conditioned on the integer `layers`: which combinations exist depends on a
    // number, so "nearest" cannot promise that categoricals never cross.
    let metadata = EXAMPLE_METADATA.replace(
        "[[space]]\ntype = \"categorical\"\nname = \"optimizer\"\nchoices = [\"sgd\", \"adam\"]",
        "[[space]]\ntype = \"int\"\nname = \"layers\"\nlow = 1\nhigh = 2\n\n[[space]]\ntype = \"categorical\"\nname = \"optimizer\"\nchoices = [\"sgd\", \"adam\"]\ncondition = { parent = \"layers\", values = [1] }",
    );
    assert_ne!(metadata, EXAMPLE_METADATA);
    let mut frame = frame_of(&EXAMPLE_ROWS);
    frame.with_column(polars::prelude::Column::new("layers".into(), vec![1i64; EXAMPLE_ROWS.len()])).unwrap();
    let path = write_frame(dir.path(), "int-parent", &mut frame, &metadata).unwrap();
    let error = Tabular::new("x".into(), &spec(&path), Path::new("")).unwrap_err().to_string();
    assert!(error.contains("`optimizer` depends on the number `layers`"), "{error}");
    let recorded = TabularSpec { lookup: Lookup::Recorded, ..spec(&path) };
    assert!(Tabular::new("x".into(), &recorded, Path::new("")).is_ok());
}

#[test]
fn training_time_is_the_cost_so_far_across_splices() {
    let bench = example(|s| s.objectives = Some(vec!["accuracy".into(), "training_time".into()])).unwrap();
    assert_eq!(bench.objectives()[1], Objective::minimize("training_time"));
    let mut metrics = [0.0; 2];
    let adam = bench.open(&config(1, 0.01, None), 0);
    let times: Vec<f64> = (1..=3)
        .map(|s| {
            bench.step(&adam, s, &mut metrics);
            metrics[1]
        })
        .collect();
    assert_eq!(times, vec![20.0, 40.0, 60.0]);
    // Configuration 0 (either repeat: 10 or 10.5 for step 1), then configuration 1 from step 2.
    let curve = bench.open(&config(0, 0.01, Some(0.9)), 3);
    let first = bench.step(&curve, 1, &mut metrics);
    assert_eq!(metrics[1], first);
    let spliced = bench.splice(&curve, &config(1, 0.01, None), 1, 3).unwrap();
    bench.step(&spliced, 3, &mut metrics);
    assert_eq!(metrics, [0.85, first + 40.0]);
    assert_eq!(metrics[1], bench.cost_until(&spliced, 3));
    // The fastest step anywhere: configuration 2's first, 5 s.
    assert_eq!(bench.best_known(), Some(&[0.85, 5.0][..]));
    // Configuration 2 diverged at its step 2: no training time there either, so that a benchmark
    // whose only objective is the training time still shows the divergence.
    let alone = example(|s| s.objectives = Some(vec!["training_time".into()])).unwrap();
    let diverging = alone.open(&config(0, 0.5, Some(0.0)), 0);
    let mut time = [0.0];
    alone.step(&diverging, 1, &mut time);
    assert_eq!(time, [5.0]);
    alone.step(&diverging, 2, &mut time);
    assert!(time[0].is_nan());
}

#[test]
fn the_default_reference_point_is_the_nadir_pushed_out_by_a_tenth_of_the_range() {
    // Curves recorded to step 3 (configuration 2 diverged): accuracy 0.80, 0.78, 0.85 (best
    // 0.85, worst 0.78: 0.78 − 0.007); training time 33, 34.5, 60 (60 + 2.7).
    let bench = example(|s| s.objectives = Some(vec!["accuracy".into(), "training_time".into()])).unwrap();
    let reference = bench.hypervolume_reference().unwrap();
    assert!((reference[0] - 0.773).abs() < 1e-12 && (reference[1] - 62.7).abs() < 1e-12, "{reference:?}");
    let given = example(|s| {
        s.objectives = Some(vec!["loss".into(), "accuracy".into()]);
        s.hypervolume_reference = Some(vec![3.0, 0.0]);
    })
    .unwrap();
    assert_eq!(given.hypervolume_reference(), Some(&[3.0, 0.0][..]));
    assert_eq!(example(|_| {}).unwrap().hypervolume_reference(), None);
}

/// `cost_until` looks the prefix sum up for a curve without splices: the same bits as adding the
/// steps' costs one by one from step 1, up to the divergence (included) or the full fidelity.
#[test]
fn cost_until_is_the_running_sum_of_the_step_costs() {
    let bench = example(|_| {}).unwrap();
    let mut metrics = [0.0];
    for c in [config(0, 0.01, Some(0.8)), config(1, 0.01, None), config(0, 0.5, Some(0.0))] {
        let curve = bench.open(&c, 11);
        let (mut total, mut diverged) = (0.0, false);
        for step in 0..=5 {
            if step >= 1 && step <= bench.fidelity().max && !diverged {
                total += bench.step(&curve, step, &mut metrics);
                diverged = metrics[0].is_nan();
            }
            assert_eq!(bench.cost_until(&curve, step).to_bits(), total.to_bits(), "{c:?} up to step {step}");
        }
    }
}

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::example::{EXAMPLE_METADATA, EXAMPLE_ROWS, ExampleRow, frame_of, write_example, write_frame};
use super::*;
use hposim_core::Value;
use polars::prelude::{Column, DataFrame};

fn load_rows(rows: &[ExampleRow], metadata: &str) -> Result<Recorded, RecordedError> {
    let dir = tempfile::tempdir().unwrap();
    let path = write_frame(dir.path(), "t", &mut frame_of(rows), metadata).unwrap();
    load(&path)
}

/// Loads the example with `edit` applied to its rows, and returns the error.
fn refused(edit: impl FnOnce(&mut Vec<ExampleRow>)) -> RecordedError {
    let mut rows = EXAMPLE_ROWS.to_vec();
    edit(&mut rows);
    load_rows(&rows, EXAMPLE_METADATA).expect_err("the edited table must be refused")
}

fn assert_error(error: &RecordedError, row: Option<usize>, column: &str, words: &str) {
    assert_eq!(error.row, row, "{error}");
    assert_eq!(error.column.as_deref(), Some(column), "{error}");
    assert!(error.message.contains(words), "{error}");
}

/// NaN-aware equality of two tasks.
fn same_task(a: &RecordedTask, b: &RecordedTask) -> bool {
    let bits = |v: &[f64]| v.iter().map(|x| if x.is_nan() { u64::MAX } else { x.to_bits() }).collect::<Vec<_>>();
    a.name == b.name
        && a.configs == b.configs
        && a.curves == b.curves
        && a.max_step == b.max_step
        && bits(&a.metrics) == bits(&b.metrics)
        && bits(&a.costs) == bits(&b.costs)
        && bits(&a.fidelity_values) == bits(&b.fidelity_values)
}

#[test]
fn the_example_loads_into_dense_curves() {
    let dir = tempfile::tempdir().unwrap();
    let data = load(&write_example(dir.path()).unwrap()).unwrap();
    assert_eq!(data.tasks.len(), 1);
    let task = &data.tasks[0];
    assert_eq!(task.max_step, 3);
    assert_eq!(task.configs.iter().map(|c| c.id).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(task.configs[0].curves, 0..2);
    assert_eq!(task.curves[3], CurveInfo { repeat: 0, steps: 2, diverged: true });
    // The space is stored parents-first: optimizer, lr, momentum.
    assert_eq!(task.configs[1].config.values(), [Value::Choice(1), Value::Float(0.01), Value::Inactive]);
    assert_eq!(task.metrics_at(1, 2), [0.68, 0.9]);
    assert_eq!(task.cost_at(1, 3), 12.5);
    // Past the divergence: NaN metrics, the diverged step's cost repeated.
    assert!(task.metrics_at(3, 3).iter().all(|m| m.is_nan()));
    assert_eq!(task.cost_at(3, 3), 5.0);
}

#[test]
fn write_then_read_gives_the_same_benchmark() {
    let dir = tempfile::tempdir().unwrap();
    let first = load(&write_example(dir.path()).unwrap()).unwrap();
    let copy = dir.path().join("copy.parquet");
    write(&copy, &first.metadata, &first.space, &first.tasks).unwrap();
    let second = load(&copy).unwrap();
    // The writer adds the table's checksum; everything else is as read.
    assert_eq!(second.metadata.sha256.as_deref(), Some(sha256_hex(&std::fs::read(&copy).unwrap()).as_str()));
    assert_eq!(first.metadata, Metadata { sha256: None, ..second.metadata.clone() });
    assert!(same_task(&first.tasks[0], &second.tasks[0]));
    assert_ne!(first.content_hash, second.content_hash, "different bytes, different hash");
}

#[test]
fn tasks_and_fidelity_values_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut frame = frame_of(&EXAMPLE_ROWS);
    let tasks: Vec<&str> = EXAMPLE_ROWS.iter().map(|r| if r.0 == 1 { "b" } else { "a" }).collect();
    let sizes: Vec<f64> = EXAMPLE_ROWS.iter().map(|r| 100.0 * r.2 as f64).collect();
    frame.with_column(Column::new("dataset".into(), tasks)).unwrap();
    frame.with_column(Column::new("size".into(), sizes)).unwrap();
    let metadata = EXAMPLE_METADATA.replace("repeat = \"seed\"", "repeat = \"seed\"\ntask = \"dataset\"\nfidelity_value = \"size\"");
    let path = write_frame(dir.path(), "tasks", &mut frame, &metadata).unwrap();
    let first = load(&path).unwrap();
    assert_eq!(first.tasks.iter().map(|t| t.name.as_deref()).collect::<Vec<_>>(), [Some("a"), Some("b")]);
    assert_eq!(first.tasks[1].configs.len(), 1);
    assert_eq!(first.tasks[0].fidelity_values, [100.0, 200.0, 300.0]);
    assert_eq!(first.task_index(Some("b")), Ok(1));
    assert!(first.task_index(None).unwrap_err().contains("choose one with `task`: a, b"));
    assert!(first.task_index(Some("c")).unwrap_err().contains("no task \"c\""));
    let copy = dir.path().join("copy.parquet");
    write(&copy, &first.metadata, &first.space, &first.tasks).unwrap();
    let second = load(&copy).unwrap();
    assert!(first.tasks.iter().zip(&second.tasks).all(|(a, b)| same_task(a, b)));
}

#[test]
fn a_missing_step_is_named() {
    let error = refused(|rows| {
        rows.remove(1);
    });
    assert_error(&error, Some(1), "epoch", "configuration 0, repeat 0 has step 3 but no step 2");
}

#[test]
fn a_curve_that_stops_early_without_diverging_is_refused() {
    let error = refused(|rows| {
        rows.remove(8);
    });
    assert_error(&error, Some(7), "epoch", "ends at step 2, before the full fidelity 3, without diverging");
}

#[test]
fn a_duplicate_row_is_named_with_its_twin() {
    let error = refused(|rows| rows.push(rows[4]));
    assert_error(&error, Some(11), "epoch", "duplicate row: configuration 0, repeat 1 has step 2 also in row 4");
}

#[test]
fn negative_zero_and_nan_costs_are_refused() {
    for cost in [-1.0, 0.0, f64::NAN] {
        let error = refused(|rows| rows[3].3 = cost);
        assert_error(&error, Some(3), "seconds", "a step's cost must be a finite number of seconds above 0");
    }
}

#[test]
fn nan_metrics_need_a_whole_diverged_step_and_permission() {
    let error = refused(|rows| rows[0].7 = f64::NAN);
    assert_error(&error, Some(0), "accuracy", "while other metrics of the row are not");
    let strict = EXAMPLE_METADATA.replace("allow_divergence = true", "allow_divergence = false");
    let error = load_rows(&EXAMPLE_ROWS, &strict).unwrap_err();
    assert_error(&error, Some(10), "accuracy", "must set `allow_divergence = true`");
    let error = refused(|rows| rows.push((2, 0, 3, 5.0, "sgd", 0.5, Some(0.0), 0.3, 2.0)));
    assert_error(&error, Some(10), "accuracy", "diverged at step 2 but goes on to step 3");
}

#[test]
fn values_outside_the_space_are_named() {
    let error = refused(|rows| rows[6].5 = 2.0);
    assert_error(&error, Some(6), "lr", "value 2 (bounds [0.001, 1]) lies outside the declared space");
    let error = refused(|rows| rows[6].4 = "rmsprop");
    assert_error(&error, Some(6), "optimizer", "value \"rmsprop\" is not one of the declared choices");
    let error = refused(|rows| rows[6].6 = Some(0.5));
    assert_error(&error, Some(6), "momentum", "inactive here (its condition on `optimizer` does not hold)");
    let error = refused(|rows| rows[9].6 = None);
    assert_error(&error, Some(9), "momentum", "is null, but the parameter is active");
}

#[test]
fn one_id_must_be_one_configuration() {
    let error = refused(|rows| rows[1].5 = 0.02);
    assert_error(&error, Some(1), "lr", "configuration 0 has 0.02 here but 0.01 in row 0");
}

#[test]
fn metadata_that_disagrees_with_the_table_is_refused() {
    let renamed = EXAMPLE_METADATA.replace("cost = \"seconds\"", "cost = \"cpu_seconds\"");
    let error = load_rows(&EXAMPLE_ROWS, &renamed).unwrap_err();
    // The table's `seconds` is not named any more; that is found first.
    assert_error(&error, None, "seconds", "the metadata does not name it");
    let dir = tempfile::tempdir().unwrap();
    let mut frame = frame_of(&EXAMPLE_ROWS);
    frame.with_column(Column::new("unused".into(), vec![0i64; EXAMPLE_ROWS.len()])).unwrap();
    let error = load(&write_frame(dir.path(), "x", &mut frame, EXAMPLE_METADATA).unwrap()).unwrap_err();
    assert_error(&error, None, "unused", "the metadata does not name it");
    let _ = frame.drop_in_place("unused").unwrap();
    let _ = frame.drop_in_place("loss").unwrap();
    let error = load(&write_frame(dir.path(), "y", &mut frame, EXAMPLE_METADATA).unwrap()).unwrap_err();
    assert_error(&error, None, "loss", "the table has no such column");
    let wrong_max = EXAMPLE_METADATA.replace("max = 3", "max = 4");
    let error = load_rows(&EXAMPLE_ROWS, &wrong_max).unwrap_err();
    assert!(error.file.ends_with("t.toml"), "{error}");
    assert_error(&error, None, "fidelity.max", "is 4, but the table's largest step is 3");
}

#[test]
fn a_column_of_the_wrong_type_is_refused() {
    let mut frame = frame_of(&EXAMPLE_ROWS);
    let epochs: Vec<f64> = EXAMPLE_ROWS.iter().map(|r| r.2 as f64).collect();
    frame.with_column(Column::new("epoch".into(), epochs)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let error = load(&write_frame(dir.path(), "x", &mut frame, EXAMPLE_METADATA).unwrap()).unwrap_err();
    assert_error(&error, None, "epoch", "must be an integer column, found f64");
}

#[test]
fn broken_files_are_refused_with_their_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_example(dir.path()).unwrap();
    std::fs::write(&path, b"PAR1 this is not parquet").unwrap();
    let error = load(&path).unwrap_err();
    assert_eq!(error.file, path);
    assert!(error.message.starts_with("not a readable Parquet file"), "{error}");
    let error = load(&dir.path().join("absent.parquet")).unwrap_err();
    assert!(error.file.ends_with("absent.toml") && error.message.contains("cannot read the metadata file"), "{error}");
    std::fs::write(metadata_path(&path), EXAMPLE_METADATA.replace("licence", "license")).unwrap();
    let error = load(&path).unwrap_err();
    assert!(error.to_string().contains("unknown field `license`"), "{error}");
    std::fs::write(metadata_path(&path), EXAMPLE_METADATA.replace("format = 1", "format = 2")).unwrap();
    assert_error(&load(&path).unwrap_err(), None, "format", "this hposim reads format 1, the file says 2");
    let mut empty = DataFrame::empty();
    let error = load(&write_frame(dir.path(), "empty", &mut empty, EXAMPLE_METADATA).unwrap()).unwrap_err();
    assert!(error.message.contains("no rows"), "{error}");
}

#[test]
fn the_error_message_names_file_row_and_column() {
    let error = refused(|rows| rows[3].3 = -2.0);
    let text = error.to_string();
    assert!(
        text.ends_with("t.parquet: row 3, column `seconds`: cost -2: a step's cost must be a finite number of seconds above 0"),
        "{text}"
    );
}

#[test]
fn the_cost_column_may_also_be_a_metric() {
    let rows: Vec<ExampleRow> = EXAMPLE_ROWS.iter().filter(|r| r.0 != 2).copied().collect();
    let mut frame = frame_of(&rows);
    let _ = frame.drop_in_place("seconds").unwrap();
    let metadata = EXAMPLE_METADATA.replace("cost = \"seconds\"", "cost = \"loss\"");
    let dir = tempfile::tempdir().unwrap();
    let first = load(&write_frame(dir.path(), "shared", &mut frame, &metadata).unwrap()).unwrap();
    let task = &first.tasks[0];
    assert_eq!((task.cost_at(0, 2), task.metrics_at(0, 2)[1]), (0.8, 0.8));
    let copy = dir.path().join("copy.parquet");
    write(&copy, &first.metadata, &first.space, &first.tasks).unwrap();
    assert!(same_task(task, &load(&copy).unwrap().tasks[0]));
    // Any other shared role is refused.
    let twice = EXAMPLE_METADATA.replace("step = \"epoch\"", "step = \"seed\"");
    let error = load_rows(&EXAMPLE_ROWS, &twice).unwrap_err();
    assert_error(&error, None, "columns.repeat", "column \"seed\" is also named by columns.step");
}

#[test]
fn truncated_tables_are_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_example(dir.path()).unwrap();
    let original = std::fs::read(&path).unwrap();
    for length in 0..original.len() {
        std::fs::write(&path, &original[..length]).unwrap();
        let error = load(&path).expect_err("a truncated table is refused");
        assert_eq!(error.file, path);
    }
}

#[test]
fn a_checksum_refuses_any_corruption_before_decoding() {
    assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"); // FIPS 180-2, B.1
    let dir = tempfile::tempdir().unwrap();
    let example = load(&write_example(dir.path()).unwrap()).unwrap();
    let path = dir.path().join("summed.parquet");
    write(&path, &example.metadata, &example.space, &example.tasks).unwrap();
    let written = load(&path).unwrap();
    assert_eq!(written.metadata.sha256.as_deref(), Some(sha256_hex(&std::fs::read(&path).unwrap()).as_str()));
    let original = std::fs::read(&path).unwrap();
    // Some flips make polars' decoder allocate without bound (an abort, not a panic); the
    // checksum stops every one of them before decoding.
    for position in (0..original.len()).step_by(5) {
        let mut bytes = original.clone();
        bytes[position] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        let error = load(&path).expect_err("a corrupted table is refused");
        assert!(error.message.contains("the table is corrupted, or was changed without its metadata"), "{error}");
    }
}

#[test]
fn a_panic_inside_the_reader_becomes_an_error() {
    let outcome: Result<(), String> = guarded(|| panic!("decoder assertion"));
    assert_eq!(outcome, Err("the Parquet reader failed on it (decoder assertion)".into()));
    assert_eq!(guarded(|| Ok(7)), Ok(7));
}

#[test]
fn duplicate_configurations_and_unsupported_types_are_refused() {
    let error = refused(|rows| {
        for row in rows.iter_mut().filter(|r| r.0 == 2) {
            (row.4, row.5, row.6) = ("sgd", 0.01, Some(0.9));
        }
    });
    assert_error(&error, Some(9), "config_id", "configuration 2 has the same hyperparameters as configuration 0");
    let mut frame = frame_of(&EXAMPLE_ROWS);
    let blobs: Vec<&[u8]> = EXAMPLE_ROWS.iter().map(|r| r.4.as_bytes()).collect();
    frame.with_column(Column::new("optimizer".into(), blobs)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let error = load(&write_frame(dir.path(), "x", &mut frame, EXAMPLE_METADATA).unwrap()).unwrap_err();
    assert_error(&error, None, "optimizer", "which the format does not allow");
    // 32-bit floats cannot hold the bounds 0.001 and 1 exactly, so they are refused up front.
    let mut frame = frame_of(&EXAMPLE_ROWS);
    let rates: Vec<f32> = EXAMPLE_ROWS.iter().map(|r| r.5 as f32).collect();
    frame.with_column(Column::new("lr".into(), rates)).unwrap();
    let error = load(&write_frame(dir.path(), "f32", &mut frame, EXAMPLE_METADATA).unwrap()).unwrap_err();
    assert_error(&error, None, "lr", "has type Float32, which the format does not allow");
}

#[test]
fn a_gap_is_blamed_on_its_row_not_on_the_metadata() {
    let error = refused(|rows| rows[8].2 = 4);
    assert_error(&error, Some(8), "epoch", "configuration 1, repeat 0 has step 4 but no step 3");
}

#[test]
fn an_all_null_parameter_column_reads_as_inactive() {
    // Only adam rows: momentum is null everywhere, which writers store as Parquet's null type.
    let rows: Vec<ExampleRow> = EXAMPLE_ROWS.iter().filter(|r| r.0 == 1).copied().collect();
    let mut frame = frame_of(&rows);
    frame.with_column(Column::full_null("momentum".into(), rows.len(), &polars::prelude::DataType::Null)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = load(&write_frame(dir.path(), "adam", &mut frame, EXAMPLE_METADATA).unwrap()).unwrap();
    assert_eq!(data.tasks[0].configs[0].config.get(2), Value::Inactive);
}

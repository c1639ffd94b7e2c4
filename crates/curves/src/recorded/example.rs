//! A tiny hand-written recorded benchmark, for tests and for trying the format: three
//! configurations of a conditional space, one with two repeats, one that diverges.

use polars::prelude::{Column, DataFrame, ParquetWriter};
use std::path::{Path, PathBuf};

/// The metadata of [`write_example`]'s table.
pub const EXAMPLE_METADATA: &str = r#"
format = 1
name = "tiny"
description = "Three hand-written configurations, three epochs"
source = "hand-written for hposim's tests"
licence = "CC0-1.0"
allow_divergence = true

[columns]
config = "config_id"
step = "epoch"
cost = "seconds"
repeat = "seed"

[fidelity]
unit = "epoch"
max = 3

[[metrics]]
name = "accuracy"
direction = "maximize"

[[metrics]]
name = "loss"
direction = "minimize"

[[space]]
type = "categorical"
name = "optimizer"
choices = ["sgd", "adam"]

[[space]]
type = "float"
name = "lr"
low = 0.001
high = 1.0
log = true

[[space]]
type = "float"
name = "momentum"
low = 0.0
high = 1.0
condition = { parent = "optimizer", values = ["sgd"] }
"#;

/// A row of the example: (config, seed, epoch, seconds, optimizer, lr, momentum, accuracy, loss).
pub type ExampleRow = (i64, i64, i64, f64, &'static str, f64, Option<f64>, f64, f64);

/// The example's rows. Configuration 0 (sgd, lr 0.01, momentum 0.9) has two repeats;
/// configuration 1 (adam, lr 0.01) one; configuration 2 (sgd, lr 0.5, momentum 0) diverges at
/// epoch 2.
pub const EXAMPLE_ROWS: [ExampleRow; 11] = [
    (0, 0, 1, 10.0, "sgd", 0.01, Some(0.9), 0.50, 1.2),
    (0, 0, 2, 11.0, "sgd", 0.01, Some(0.9), 0.70, 0.8),
    (0, 0, 3, 12.0, "sgd", 0.01, Some(0.9), 0.80, 0.6),
    (0, 1, 1, 10.5, "sgd", 0.01, Some(0.9), 0.52, 1.1),
    (0, 1, 2, 11.5, "sgd", 0.01, Some(0.9), 0.68, 0.9),
    (0, 1, 3, 12.5, "sgd", 0.01, Some(0.9), 0.78, 0.7),
    (1, 0, 1, 20.0, "adam", 0.01, None, 0.60, 1.0),
    (1, 0, 2, 20.0, "adam", 0.01, None, 0.75, 0.7),
    (1, 0, 3, 20.0, "adam", 0.01, None, 0.85, 0.5),
    (2, 0, 1, 5.0, "sgd", 0.5, Some(0.0), 0.30, 2.0),
    (2, 0, 2, 5.0, "sgd", 0.5, Some(0.0), f64::NAN, f64::NAN),
];

/// The example's table as a data frame, rows in [`EXAMPLE_ROWS`] order.
pub fn example_frame() -> DataFrame {
    frame_of(&EXAMPLE_ROWS)
}

/// A table with the example's columns and the given rows.
pub fn frame_of(rows: &[ExampleRow]) -> DataFrame {
    let columns = vec![
        Column::new("config_id".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        Column::new("seed".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
        Column::new("epoch".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
        Column::new("seconds".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
        Column::new("optimizer".into(), rows.iter().map(|r| r.4).collect::<Vec<_>>()),
        Column::new("lr".into(), rows.iter().map(|r| r.5).collect::<Vec<_>>()),
        Column::new("momentum".into(), rows.iter().map(|r| r.6).collect::<Vec<_>>()),
        Column::new("accuracy".into(), rows.iter().map(|r| r.7).collect::<Vec<_>>()),
        Column::new("loss".into(), rows.iter().map(|r| r.8).collect::<Vec<_>>()),
    ];
    // Equal lengths by construction.
    DataFrame::new(rows.len(), columns).unwrap_or_default()
}

/// Writes `frame` as `dir/NAME.parquet` with `metadata` beside it; returns the table's path.
pub fn write_frame(dir: &Path, name: &str, frame: &mut DataFrame, metadata: &str) -> std::io::Result<PathBuf> {
    let path = dir.join(format!("{name}.parquet"));
    let file = std::fs::File::create(&path)?;
    ParquetWriter::new(file).finish(frame).map_err(std::io::Error::other)?;
    std::fs::write(super::metadata_path(&path), metadata)?;
    Ok(path)
}

/// Writes the example to `dir/tiny.parquet` and `dir/tiny.toml`; returns the table's path.
pub fn write_example(dir: &Path) -> std::io::Result<PathBuf> {
    write_frame(dir, "tiny", &mut example_frame(), EXAMPLE_METADATA)
}

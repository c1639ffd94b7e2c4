//! Writing a recorded benchmark in the format of `data/FORMAT.md`: for converters and recorders
//! written in Rust, and the other half of the round-trip tests.

use super::{Metadata, RecordedError, RecordedTask, metadata_path};
use hposim_core::{Choice, Domain, SearchSpace, Value};
use polars::prelude::{Column, DataFrame, ParquetCompression, ParquetWriter};
use std::path::Path;

/// Writes `tasks` (of `space`, described by `metadata`) to the Parquet table `path` and its
/// metadata file beside it, with the table's SHA-256. Rows go task by task, configuration by
/// configuration, repeat by repeat, step by step; a diverged curve's rows end at its diverged
/// step.
pub fn write(path: &Path, metadata: &Metadata, space: &SearchSpace, tasks: &[RecordedTask]) -> Result<(), RecordedError> {
    let fail = |file: &Path, message: String| RecordedError { file: file.to_owned(), row: None, column: None, message };
    // (task, configuration, curve, step) of every row.
    let mut rows: Vec<(usize, usize, usize, u32)> = Vec::new();
    for (t, task) in tasks.iter().enumerate() {
        for (c, config) in task.configs.iter().enumerate() {
            for curve in config.curves.clone() {
                rows.extend((1..=task.curves[curve].steps).map(|step| (t, c, curve, step)));
            }
        }
    }
    let columns_meta = &metadata.columns;
    let mut columns = vec![
        Column::new(columns_meta.config.as_str().into(), rows.iter().map(|&(t, c, ..)| tasks[t].configs[c].id).collect::<Vec<i64>>()),
        Column::new(columns_meta.step.as_str().into(), rows.iter().map(|&(.., step)| i64::from(step)).collect::<Vec<i64>>()),
    ];
    // A cost column that is also a metric is written once, as the metric.
    if !metadata.metrics.iter().any(|m| m.name == columns_meta.cost) {
        let costs: Vec<f64> = rows.iter().map(|&(t, _, curve, step)| tasks[t].cost_at(curve, step)).collect();
        columns.push(Column::new(columns_meta.cost.as_str().into(), costs));
    }
    if let Some(name) = &columns_meta.repeat {
        columns.push(Column::new(
            name.as_str().into(),
            rows.iter().map(|&(t, _, curve, _)| tasks[t].curves[curve].repeat).collect::<Vec<i64>>(),
        ));
    }
    if let Some(name) = &columns_meta.task {
        let names: Vec<&str> = rows.iter().map(|&(t, ..)| tasks[t].name.as_deref().unwrap_or_default()).collect();
        columns.push(Column::new(name.as_str().into(), names));
    }
    if let Some(name) = &columns_meta.fidelity_value {
        let values: Vec<f64> =
            rows.iter().map(|&(t, .., step)| tasks[t].fidelity_values.get(step as usize - 1).copied().unwrap_or(f64::NAN)).collect();
        columns.push(Column::new(name.as_str().into(), values));
    }
    for (m, metric) in metadata.metrics.iter().enumerate() {
        let values: Vec<f64> = rows.iter().map(|&(t, _, curve, step)| tasks[t].metrics_at(curve, step)[m]).collect();
        columns.push(Column::new(metric.name.as_str().into(), values));
    }
    for spec in &metadata.space {
        let index =
            space.index_of(spec.name()).ok_or_else(|| fail(&metadata_path(path), format!("space: no parameter {:?}", spec.name())))?;
        let value_of = |&(t, c, ..): &(usize, usize, usize, u32)| tasks[t].configs[c].config.get(index);
        columns.push(param_column(spec.name(), &space.params()[index].domain, rows.iter().map(value_of)));
    }
    let mut frame = DataFrame::new(rows.len(), columns).map_err(|e| fail(path, format!("cannot build the table: {e}")))?;
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .with_compression(ParquetCompression::Zstd(None))
        .set_parallel(false)
        .finish(&mut frame)
        .map_err(|e| fail(path, format!("cannot write Parquet: {e}")))?;
    let metadata = Metadata { sha256: Some(super::sha256_hex(&bytes)), ..metadata.clone() };
    let text = toml::to_string(&metadata).map_err(|e| fail(&metadata_path(path), format!("cannot write the metadata: {e}")))?;
    std::fs::write(path, &bytes).map_err(|e| fail(path, format!("cannot write the file: {e}")))?;
    std::fs::write(metadata_path(path), text).map_err(|e| fail(&metadata_path(path), format!("cannot write the file: {e}")))
}

/// A parameter's column: floats, integers, or the choices' own type; null where inactive.
fn param_column(name: &str, domain: &Domain, values: impl Iterator<Item = Value>) -> Column {
    match domain {
        Domain::Float { .. } => {
            Column::new(name.into(), values.map(|v| if let Value::Float(x) = v { Some(x) } else { None }).collect::<Vec<_>>())
        }
        Domain::Int { .. } => {
            Column::new(name.into(), values.map(|v| if let Value::Int(i) = v { Some(i) } else { None }).collect::<Vec<_>>())
        }
        Domain::Categorical { choices } | Domain::Ordinal { values: choices } => {
            let choice = |v: Value| if let Value::Choice(c) = v { choices.get(c as usize) } else { None };
            if choices.iter().all(|c| matches!(c, Choice::Int(_))) {
                let column: Vec<Option<i64>> =
                    values.map(|v| choice(v).and_then(|c| if let Choice::Int(i) = c { Some(*i) } else { None })).collect();
                Column::new(name.into(), column)
            } else if choices.iter().all(|c| c.as_f64().is_some()) {
                Column::new(name.into(), values.map(|v| choice(v).and_then(Choice::as_f64)).collect::<Vec<_>>())
            } else if choices.iter().all(|c| matches!(c, Choice::Bool(_))) {
                Column::new(name.into(), values.map(|v| choice(v).map(|c| *c == Choice::Bool(true))).collect::<Vec<_>>())
            } else {
                let column: Vec<Option<String>> =
                    values.map(|v| choice(v).map(|c| if let Choice::Text(s) = c { s.clone() } else { c.to_string() })).collect();
                Column::new(name.into(), column)
            }
        }
    }
}

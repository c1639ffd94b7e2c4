//! `hposim export`: every step of every finished cell of a results directory as one long
//! ("tidy") table, one row per step, with the columns that identify it (benchmark, strategy,
//! seed, trial, step and its unit) in front of the trace's own (worker, times, metrics, status,
//! decision and the configuration, `config_<name>`), written as Parquet or CSV. Benchmarks with
//! different hyperparameters share one table: a column a cell does not have is null in its rows.
//! Cells are read and written one at a time, a row group (2^18 rows) at a time, so memory holds
//! one chunk of one cell, never a whole cell or the whole study.

use crate::results::{ResultsError, expected_cells};
use hposim_core::trace::columns;
use hposim_results::{FileError, READ_CHUNK_ROWS, read_trace_frame, trace_rows};
use polars::prelude::{Column, CsvWriter, DataFrame, DataType, ParquetCompression, ParquetWriter, PolarsResult, Schema, SerWriter};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The identifying columns every exported row starts with.
pub const ID_COLUMNS: [&str; 6] = ["benchmark", "strategy", "seed", "trial", "step", "step_unit"];

/// What an export wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exported {
    /// Cells exported.
    pub cells: usize,
    /// Rows written.
    pub rows: usize,
    /// Expected cells skipped because they are not finished.
    pub missing: usize,
    /// Columns of the table.
    pub columns: Vec<String>,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The results directory could not be read.
    #[error(transparent)]
    Results(#[from] ResultsError),
    /// A trace could not be read.
    #[error(transparent)]
    File(#[from] FileError),
    /// The output's extension names no format.
    #[error("{}: the output must end in .parquet or .csv", path.display())]
    Format {
        /// The output path.
        path: PathBuf,
    },
    /// Writing the table failed.
    #[error("{}: {message}", path.display())]
    Write {
        /// The output path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

enum Format {
    Parquet,
    Csv,
}

/// Writes every step of every finished cell of the results directory `dir` to `out` (Parquet or
/// CSV, by its extension), in the manifest's cell order.
pub fn export(dir: &Path, out: &Path) -> Result<Exported, ExportError> {
    let format = match out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("parquet") => Format::Parquet,
        Some("csv") => Format::Csv,
        _ => return Err(ExportError::Format { path: out.to_owned() }),
    };
    let (manifest, expected) = expected_cells(dir)?;
    let units: Vec<(String, String)> =
        manifest.as_ref().map(|m| m.benchmarks.iter().map(|b| (b.name.clone(), b.unit.clone())).collect()).unwrap_or_default();
    let cells_dir = dir.join("cells");
    let finished: Vec<_> = expected
        .iter()
        .filter(|c| cells_dir.join(format!("{}.json", c.cell)).is_file() && cells_dir.join(format!("{}.parquet", c.cell)).is_file())
        .collect();
    if finished.is_empty() {
        return Err(ResultsError::Empty { dir: dir.to_owned() }.into());
    }
    let frame_of = |cell: &hposim_core::ExpectedCell, slice: (usize, usize)| -> Result<DataFrame, ExportError> {
        let path = cells_dir.join(format!("{}.parquet", cell.cell));
        let unit = units.iter().find(|(b, _)| *b == cell.benchmark).map_or("epoch", |(_, u)| u.as_str());
        tidy(&path, &cell.benchmark, &cell.strategy, cell.seed, unit, slice)
    };
    // A cell's rows a row group at a time: memory holds one chunk, never a whole long cell.
    let chunks_of = |cell: &hposim_core::ExpectedCell| -> Result<Vec<(usize, usize)>, ExportError> {
        let total = trace_rows(&cells_dir.join(format!("{}.parquet", cell.cell)))?;
        Ok((0..total.div_ceil(READ_CHUNK_ROWS).max(1)).map(|i| (i * READ_CHUNK_ROWS, READ_CHUNK_ROWS)).collect())
    };
    // First pass, on the files' footers alone (no rows): the union of the cells' columns, in
    // order of first appearance; a column whose type differs between benchmarks becomes text.
    let mut schema = Schema::default();
    for cell in &finished {
        for (name, dtype) in frame_of(cell, (0, 0))?.schema().iter() {
            match schema.get(name) {
                None => {
                    schema.insert(name.clone(), dtype.clone());
                }
                Some(known) if known != dtype => {
                    schema.insert(name.clone(), DataType::String);
                }
                Some(_) => {}
            }
        }
    }
    let write_error = |e: polars::prelude::PolarsError| ExportError::Write { path: out.to_owned(), message: e.to_string() };
    let file = File::create(out).map_err(|e| ExportError::Write { path: out.to_owned(), message: e.to_string() })?;
    let conform = |frame: DataFrame| -> PolarsResult<DataFrame> {
        let height = frame.height();
        let columns: Vec<Column> = schema
            .iter()
            .map(|(name, dtype)| match frame.column(name) {
                Ok(c) if c.dtype() == dtype => Ok(c.clone()),
                Ok(c) => c.cast(dtype),
                Err(_) => Ok(Column::full_null(name.clone(), height, dtype)),
            })
            .collect::<PolarsResult<_>>()?;
        let mut frame = DataFrame::new(height, columns)?;
        // A slice across two of the file's row groups reads as two chunks per column, the
        // identifying columns as one: the writer needs them aligned.
        frame.align_chunks();
        Ok(frame)
    };
    // Every chunk of every cell, conformed to the schema, through one format's `write_batch`.
    let write_all = |write_batch: &mut dyn FnMut(&DataFrame) -> PolarsResult<()>| -> Result<usize, ExportError> {
        let mut rows = 0;
        for cell in &finished {
            for slice in chunks_of(cell)? {
                let frame = conform(frame_of(cell, slice)?).map_err(write_error)?;
                rows += frame.height();
                write_batch(&frame).map_err(write_error)?;
            }
        }
        Ok(rows)
    };
    let rows = match format {
        Format::Parquet => {
            let mut writer = ParquetWriter::new(file)
                .with_compression(ParquetCompression::Snappy)
                .set_parallel(false)
                .batched(&schema)
                .map_err(write_error)?;
            let rows = write_all(&mut |frame| writer.write_batch(frame))?;
            writer.finish().map_err(write_error)?;
            rows
        }
        Format::Csv => {
            let mut writer = CsvWriter::new(file).include_header(true).batched(&schema).map_err(write_error)?;
            let rows = write_all(&mut |frame| writer.write_batch(frame))?;
            writer.finish().map_err(write_error)?;
            rows
        }
    };
    Ok(Exported {
        cells: finished.len(),
        rows,
        missing: expected.len() - finished.len(),
        columns: schema.iter_names().map(|n| n.to_string()).collect(),
    })
}

/// Rows `slice` (offset, count) of one cell's trace with the identifying columns in front and
/// `epoch` renamed `step`.
fn tidy(path: &Path, benchmark: &str, strategy: &str, seed: u32, unit: &str, slice: (usize, usize)) -> Result<DataFrame, ExportError> {
    let refused = |message: String| FileError::Refused { path: path.to_owned(), message };
    let trace = read_trace_frame(path, Some(slice))?;
    let height = trace.height();
    let mut columns = vec![
        Column::new("benchmark".into(), vec![benchmark; height]),
        Column::new("strategy".into(), vec![strategy; height]),
        Column::new("seed".into(), vec![seed; height]),
    ];
    for name in [columns::TRIAL, columns::EPOCH] {
        let c = trace.column(name).map_err(|_| refused(format!("has no `{name}` column: not an hposim trace")))?;
        columns.push(if name == columns::EPOCH { c.clone().with_name("step".into()) } else { c.clone() });
    }
    columns.push(Column::new("step_unit".into(), vec![unit; height]));
    columns.extend(trace.columns().iter().filter(|c| c.name() != columns::TRIAL && c.name() != columns::EPOCH).cloned());
    DataFrame::new(height, columns).map_err(|e| refused(e.to_string()).into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn an_unknown_extension_is_refused_before_anything_is_read() {
        let e = export(Path::new("/nonexistent"), Path::new("out.xlsx")).unwrap_err();
        assert_eq!(e.to_string(), "out.xlsx: the output must end in .parquet or .csv");
    }
}

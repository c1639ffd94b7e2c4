//! Reading the table's columns into plain vectors, checking each column's type and each
//! value that can be checked on its own (nulls, domains).

use super::{Metadata, RecordedError};
use hposim_core::{Choice, Domain, SearchSpace, Value};
use polars::prelude::{Column, DataFrame, DataType};
use std::collections::HashMap;
use std::path::Path;

/// The table, column by column; every vector has one entry per row.
pub(super) struct Rows {
    pub config: Vec<i64>,
    pub step: Vec<i64>,
    pub cost: Vec<f64>,
    /// Repeat ids (all 0 without a repeat column).
    pub repeat: Vec<i64>,
    /// Index into `task_names` (all 0 without a task column).
    pub task: Vec<u32>,
    /// Task names in order of first appearance (`[None]` without a task column).
    pub task_names: Vec<Option<String>>,
    pub fidelity_value: Option<Vec<f64>>,
    /// One vector per metric; null reads as NaN.
    pub metrics: Vec<Vec<f64>>,
    /// One vector per parameter, in the space's (topological) order; null is inactive.
    pub params: Vec<Vec<Value>>,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.config.len()
    }
}

struct Reader<'a> {
    frame: &'a DataFrame,
    path: &'a Path,
}

impl Reader<'_> {
    fn error(&self, row: Option<usize>, column: &str, message: String) -> RecordedError {
        RecordedError { file: self.path.to_owned(), row, column: Some(column.to_owned()), message }
    }

    fn column(&self, name: &str) -> Result<&Column, RecordedError> {
        self.frame
            .column(name)
            .map_err(|_| self.error(None, name, "the metadata names this column, but the table has no such column".into()))
    }

    /// A column of nulls only (Parquet's `null` type, as writers infer for an all-missing
    /// column), read as a column of any type.
    fn all_null(&self, column: &Column) -> Option<usize> {
        (column.dtype() == &DataType::Null).then(|| column.len())
    }

    fn ints(&self, name: &str) -> Result<Vec<Option<i64>>, RecordedError> {
        let column = self.column(name)?;
        if let Some(rows) = self.all_null(column) {
            return Ok(vec![None; rows]);
        }
        if !column.dtype().is_integer() {
            return Err(self.error(None, name, format!("must be an integer column, found {}", column.dtype())));
        }
        let cast = column.cast(&DataType::Int64).map_err(|e| self.error(None, name, format!("cannot read as 64-bit integers: {e}")))?;
        let values = cast.i64().map_err(|e| self.error(None, name, e.to_string()))?;
        let out: Vec<Option<i64>> = values.iter().collect();
        if cast.null_count() > column.null_count() {
            // A value that was there before the cast and is gone after it did not fit.
            let was_null = column.is_null();
            let row = out.iter().zip(was_null.iter()).position(|(value, was)| value.is_none() && was != Some(true)).unwrap_or(0);
            return Err(self.error(Some(row), name, "the value does not fit a 64-bit signed integer".into()));
        }
        Ok(out)
    }

    fn required_ints(&self, name: &str) -> Result<Vec<i64>, RecordedError> {
        self.ints(name)?
            .into_iter()
            .enumerate()
            .map(|(row, v)| v.ok_or_else(|| self.error(Some(row), name, "is null; this column must always have a value".into())))
            .collect()
    }

    fn floats(&self, name: &str) -> Result<Vec<Option<f64>>, RecordedError> {
        let column = self.column(name)?;
        if let Some(rows) = self.all_null(column) {
            return Ok(vec![None; rows]);
        }
        if !(column.dtype().is_float() || column.dtype().is_integer()) {
            return Err(self.error(None, name, format!("must be a numeric column, found {}", column.dtype())));
        }
        let cast = column.cast(&DataType::Float64).map_err(|e| self.error(None, name, format!("cannot read as numbers: {e}")))?;
        let values = cast.f64().map_err(|e| self.error(None, name, e.to_string()))?;
        Ok(values.iter().collect())
    }

    fn strings(&self, name: &str) -> Result<Vec<Option<String>>, RecordedError> {
        let column = self.column(name)?;
        if let Some(rows) = self.all_null(column) {
            return Ok(vec![None; rows]);
        }
        let values = column.str().map_err(|_| self.error(None, name, format!("must be a string column, found {}", column.dtype())))?;
        Ok(values.iter().map(|v| v.map(str::to_owned)).collect())
    }

    fn bools(&self, name: &str) -> Result<Vec<Option<bool>>, RecordedError> {
        let column = self.column(name)?;
        if let Some(rows) = self.all_null(column) {
            return Ok(vec![None; rows]);
        }
        let values = column.bool().map_err(|_| self.error(None, name, format!("must be a boolean column, found {}", column.dtype())))?;
        Ok(values.iter().collect())
    }

    /// A parameter column as configuration values, each checked against the domain.
    fn param(&self, name: &str, domain: &Domain) -> Result<Vec<Value>, RecordedError> {
        let outside = |row: usize, shown: String| self.error(Some(row), name, format!("value {shown} lies outside the declared space"));
        match domain {
            Domain::Float { low, high, .. } => (self.floats(name)?.into_iter().enumerate())
                .map(|(row, v)| match v {
                    None => Ok(Value::Inactive),
                    Some(x) if x.is_finite() && x >= *low && x <= *high => Ok(Value::Float(x)),
                    Some(x) => Err(outside(row, format!("{x} (bounds [{low}, {high}])"))),
                })
                .collect(),
            Domain::Int { low, high, .. } => (self.ints(name)?.into_iter().enumerate())
                .map(|(row, v)| match v {
                    None => Ok(Value::Inactive),
                    Some(i) if i >= *low && i <= *high => Ok(Value::Int(i)),
                    Some(i) => Err(outside(row, format!("{i} (bounds [{low}, {high}])"))),
                })
                .collect(),
            Domain::Categorical { choices } | Domain::Ordinal { values: choices } => self.choices(name, choices),
        }
    }

    fn choices(&self, name: &str, choices: &[Choice]) -> Result<Vec<Value>, RecordedError> {
        let declared = || choices.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        let outside = |row: usize, shown: String| {
            self.error(Some(row), name, format!("value {shown} is not one of the declared choices ({})", declared()))
        };
        if choices.iter().all(|c| matches!(c, Choice::Text(_))) {
            let index: HashMap<&str, u32> =
                choices.iter().zip(0..).filter_map(|(c, i)| if let Choice::Text(s) = c { Some((s.as_str(), i)) } else { None }).collect();
            (self.strings(name)?.into_iter().enumerate())
                .map(|(row, v)| match v {
                    None => Ok(Value::Inactive),
                    Some(s) => index.get(s.as_str()).map(|&i| Value::Choice(i)).ok_or_else(|| outside(row, format!("{s:?}"))),
                })
                .collect()
        } else if choices.iter().all(|c| c.as_f64().is_some()) {
            (self.floats(name)?.into_iter().enumerate())
                .map(|(row, v)| match v {
                    None => Ok(Value::Inactive),
                    Some(x) => (choices.iter().position(|c| c.as_f64() == Some(x)))
                        .map(|i| Value::Choice(i as u32))
                        .ok_or_else(|| outside(row, x.to_string())),
                })
                .collect()
        } else if choices.iter().all(|c| matches!(c, Choice::Bool(_))) {
            (self.bools(name)?.into_iter().enumerate())
                .map(|(row, v)| match v {
                    None => Ok(Value::Inactive),
                    Some(b) => (choices.iter().position(|c| *c == Choice::Bool(b)))
                        .map(|i| Value::Choice(i as u32))
                        .ok_or_else(|| outside(row, b.to_string())),
                })
                .collect()
        } else {
            Err(self.error(None, name, "the choices of a recorded parameter must be all text, all numbers or all booleans".into()))
        }
    }
}

/// Reads every column the metadata names (the schema check has refused the others).
pub(super) fn read(frame: &DataFrame, metadata: &Metadata, space: &SearchSpace, path: &Path) -> Result<Rows, RecordedError> {
    let reader = Reader { frame, path };
    for name in metadata.column_names() {
        reader.column(name)?;
    }
    let c = &metadata.columns;
    let rows = frame.height();
    let config = reader.required_ints(&c.config)?;
    let step = reader.required_ints(&c.step)?;
    let cost: Vec<f64> = (reader.floats(&c.cost)?.into_iter().enumerate())
        .map(|(row, v)| match v {
            Some(x) if x.is_finite() && x > 0.0 => Ok(x),
            Some(x) => Err(reader.error(Some(row), &c.cost, format!("cost {x}: a step's cost must be a finite number of seconds above 0"))),
            None => Err(reader.error(Some(row), &c.cost, "is null; every step has a cost".into())),
        })
        .collect::<Result<_, _>>()?;
    let repeat = match &c.repeat {
        Some(name) => reader.required_ints(name)?,
        None => vec![0; rows],
    };
    let (task, task_names) = match &c.task {
        Some(name) => {
            let mut names: Vec<Option<String>> = Vec::new();
            let mut index: HashMap<String, u32> = HashMap::new();
            let mut task = Vec::with_capacity(rows);
            for (row, value) in reader.strings(name)?.into_iter().enumerate() {
                let value = value.ok_or_else(|| reader.error(Some(row), name, "is null; every row belongs to a task".into()))?;
                let next = names.len() as u32;
                let i = *index.entry(value.clone()).or_insert_with(|| {
                    names.push(Some(value));
                    next
                });
                task.push(i);
            }
            (task, names)
        }
        None => (vec![0; rows], vec![None]),
    };
    let fidelity_value = match &c.fidelity_value {
        Some(name) => Some(
            (reader.floats(name)?.into_iter().enumerate())
                .map(|(row, v)| v.filter(|x| x.is_finite()).ok_or_else(|| reader.error(Some(row), name, "must be a finite number".into())))
                .collect::<Result<_, _>>()?,
        ),
        None => None,
    };
    let metrics = (metadata.metrics.iter())
        .map(|m| Ok(reader.floats(&m.name)?.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect()))
        .collect::<Result<_, RecordedError>>()?;
    let params = space.params().iter().map(|p| reader.param(&p.name, &p.domain)).collect::<Result<_, _>>()?;
    Ok(Rows { config, step, cost, repeat, task, task_names, fidelity_value, metrics, params })
}

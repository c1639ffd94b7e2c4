//! Assembling rows into curves: grouping by (task, configuration, repeat), checking that each
//! configuration has one set of hyperparameters that fits the space, that steps are complete and
//! unique, and that only a curve's last step may diverge; then laying the curves out densely.

use super::columns::Rows;
use super::{CurveInfo, Metadata, RecordedConfig, RecordedError, RecordedTask};
use hposim_core::{Config, SearchSpace, Value, Violation};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Largest step a table may have: dense arrays hold every step of every curve.
pub const MAX_STEP: i64 = 100_000;
/// Most numbers the dense arrays of a file may hold (curves × full fidelity × (metrics + 1),
/// summed over tasks): 2^27, one GiB.
pub const MAX_VALUES: usize = 1 << 27;

/// A configuration's rows: its first row (which defines its hyperparameters) and, per repeat,
/// its (step, row) pairs.
struct Slot {
    first_row: usize,
    repeats: BTreeMap<i64, Vec<(u32, usize)>>,
}

pub(super) fn tasks(
    rows: &Rows,
    metadata: &Metadata,
    space: &SearchSpace,
    path: &Path,
    meta_path: &Path,
) -> Result<Vec<RecordedTask>, RecordedError> {
    let at = |row: usize, column: &str, message: String| RecordedError {
        file: path.to_owned(),
        row: Some(row),
        column: Some(column.to_owned()),
        message,
    };
    let columns = &metadata.columns;
    let diverged = diverged_rows(rows, metadata, path)?;
    let mut slots: Vec<HashMap<i64, Slot>> = (0..rows.task_names.len()).map(|_| HashMap::new()).collect();
    let mut values = vec![Value::Inactive; space.len()];
    for row in 0..rows.len() {
        let step = rows.step[row];
        if !(1..=MAX_STEP).contains(&step) {
            return Err(at(row, &columns.step, format!("step {step}: steps are numbered from 1 (at most {MAX_STEP})")));
        }
        let id = rows.config[row];
        let task = &mut slots[rows.task[row] as usize];
        let slot = match task.get_mut(&id) {
            Some(slot) => {
                for (param, column) in space.params().iter().zip(&rows.params) {
                    if column[row] != column[slot.first_row] {
                        return Err(at(
                            row,
                            &param.name,
                            format!(
                                "configuration {id} has {} here but {} in row {}; one id, one configuration",
                                shown(column[row]),
                                shown(column[slot.first_row]),
                                slot.first_row
                            ),
                        ));
                    }
                }
                slot
            }
            None => {
                for (value, column) in values.iter_mut().zip(&rows.params) {
                    *value = column[row];
                }
                check_conditions(space, &values).map_err(|(param, message)| at(row, param, message))?;
                task.entry(id).or_insert(Slot { first_row: row, repeats: BTreeMap::new() })
            }
        };
        slot.repeats.entry(rows.repeat[row]).or_default().push((step as u32, row));
    }
    let mut tasks = Vec::with_capacity(slots.len());
    let mut values_held = 0usize;
    for (task_index, task_slots) in slots.into_iter().enumerate() {
        let name = rows.task_names[task_index].clone();
        let max_step = task_slots.values().flat_map(|s| s.repeats.values().flatten()).map(|&(step, _)| step).max().unwrap_or(0);
        let task_label = name.as_deref().map_or(String::new(), |n| format!("task {n:?}: "));
        let meta_error = |key: &str, message: String| RecordedError {
            file: meta_path.to_owned(),
            row: None,
            column: Some(key.to_owned()),
            message: format!("{task_label}{message}"),
        };
        let mut ids: Vec<i64> = task_slots.keys().copied().collect();
        ids.sort_unstable();
        let curve_count: usize = task_slots.values().map(|s| s.repeats.len()).sum();
        let metric_count = rows.metrics.len();
        values_held = values_held.saturating_add(curve_count.saturating_mul(max_step as usize).saturating_mul(metric_count + 1));
        if values_held > MAX_VALUES {
            return Err(RecordedError {
                file: path.to_owned(),
                row: None,
                column: None,
                message: format!(
                    "{task_label}curves × full fidelity × (metrics + 1), over the tasks so far, exceeds the {MAX_VALUES} numbers hposim holds in memory (a few very long curves among many short ones do that: every curve is stored to the task's full fidelity)"
                ),
            });
        }
        let stride = max_step as usize;
        let mut task = RecordedTask {
            name,
            configs: Vec::with_capacity(ids.len()),
            curves: Vec::with_capacity(curve_count),
            max_step,
            metric_count,
            metrics: vec![f64::NAN; curve_count * stride * metric_count],
            costs: vec![0.0; curve_count * stride],
            fidelity_values: Vec::new(),
        };
        let mut fidelity_values: Vec<Option<(f64, usize)>> = vec![None; stride];
        let mut early_end: Option<RecordedError> = None;
        for id in ids {
            let slot = &task_slots[&id];
            let start = task.curves.len();
            for (&repeat, steps) in &slot.repeats {
                let mut steps = steps.clone();
                steps.sort_unstable();
                let curve = task.curves.len();
                let described =
                    || format!("configuration {id}{}", if columns.repeat.is_some() { format!(", repeat {repeat}") } else { String::new() });
                for (i, &(step, row)) in steps.iter().enumerate() {
                    if i > 0 && steps[i - 1].0 == step {
                        return Err(at(
                            row,
                            &columns.step,
                            format!("duplicate row: {} has step {step} also in row {}", described(), steps[i - 1].1),
                        ));
                    }
                    let expected = i as u32 + 1;
                    if step != expected {
                        return Err(at(
                            row,
                            &columns.step,
                            format!("{} has step {step} but no step {expected}: steps must have no gaps", described()),
                        ));
                    }
                    if diverged[row] && i + 1 < steps.len() {
                        return Err(at(
                            row,
                            &metadata.metrics[0].name,
                            format!(
                                "{} diverged at step {step} but goes on to step {}; a diverged step must be the curve's last",
                                described(),
                                steps.len()
                            ),
                        ));
                    }
                    let cell = curve * stride + i;
                    task.costs[cell] = rows.cost[row];
                    for (m, metric) in rows.metrics.iter().enumerate() {
                        task.metrics[cell * metric_count + m] = metric[row];
                    }
                    if let Some(values) = &rows.fidelity_value {
                        match fidelity_values[i] {
                            None => fidelity_values[i] = Some((values[row], row)),
                            Some((value, first)) if value != values[row] => {
                                let column = columns.fidelity_value.as_deref().unwrap_or_default();
                                return Err(at(
                                    row,
                                    column,
                                    format!("step {step} has fidelity value {} here but {value} in row {first}", values[row]),
                                ));
                            }
                            Some(_) => {}
                        }
                    }
                }
                let &(last_step, last_row) = steps.last().unwrap_or(&(0, slot.first_row));
                let ended_diverged = diverged[last_row];
                if last_step < max_step && !ended_diverged && early_end.is_none() {
                    // Reported after every curve's gaps and duplicates: a gap elsewhere, which
                    // raises the task's largest step, is the likelier cause.
                    early_end = Some(at(
                        last_row,
                        &columns.step,
                        format!("{} ends at step {last_step}, before the full fidelity {max_step}, without diverging", described()),
                    ));
                }
                // Past a diverged end: NaN metrics (already), the last cost repeated.
                let last_cost = rows.cost[last_row];
                for cell in curve * stride + last_step as usize..(curve + 1) * stride {
                    task.costs[cell] = last_cost;
                }
                task.curves.push(CurveInfo { repeat, steps: last_step, diverged: ended_diverged });
            }
            let values = rows.params.iter().map(|column| column[slot.first_row]).collect();
            task.configs.push(RecordedConfig { id, config: Config::new(values), curves: start..task.curves.len() });
        }
        if let Some(error) = early_end {
            return Err(error);
        }
        if let Some(max) = metadata.fidelity.max
            && max != max_step
        {
            return Err(meta_error("fidelity.max", format!("is {max}, but the table's largest step is {max_step}")));
        }
        if metadata.fidelity.min > max_step {
            return Err(meta_error("fidelity.min", format!("is {}, beyond the table's largest step {max_step}", metadata.fidelity.min)));
        }
        if let Some((later, earlier)) = duplicate_configuration(&task.configs) {
            let (row, id) = (task_slots[&task.configs[later].id].first_row, task.configs[later].id);
            return Err(at(
                row,
                &columns.config,
                format!(
                    "configuration {id} has the same hyperparameters as configuration {}; record reruns as repeats of one configuration",
                    task.configs[earlier].id
                ),
            ));
        }
        if rows.fidelity_value.is_some() {
            task.fidelity_values = fidelity_values.into_iter().map(|v| v.map_or(f64::NAN, |(value, _)| value)).collect();
        }
        tasks.push(task);
    }
    Ok(tasks)
}

/// Which rows diverged (every metric NaN or infinite); refuses partly missing metrics, and
/// divergence where the metadata does not allow it.
fn diverged_rows(rows: &Rows, metadata: &Metadata, path: &Path) -> Result<Vec<bool>, RecordedError> {
    (0..rows.len())
        .map(|row| {
            let bad = rows.metrics.iter().filter(|m| !m[row].is_finite()).count();
            let first_bad = || rows.metrics.iter().position(|m| !m[row].is_finite()).unwrap_or(0);
            let error = |message: String| RecordedError {
                file: path.to_owned(),
                row: Some(row),
                column: Some(metadata.metrics[first_bad()].name.clone()),
                message,
            };
            if bad == 0 {
                Ok(false)
            } else if bad < rows.metrics.len() {
                Err(error("is NaN or infinite while other metrics of the row are not; a diverged step has no metrics at all".into()))
            } else if !metadata.allow_divergence {
                Err(error("is NaN or infinite (a diverged step); the metadata must set `allow_divergence = true` to allow that".into()))
            } else {
                Ok(true)
            }
        })
        .collect()
}

/// Every parameter is set exactly where its condition holds (values were checked against
/// their domains as the columns were read).
fn check_conditions<'a>(space: &'a SearchSpace, values: &[Value]) -> Result<(), (&'a str, String)> {
    let Some((index, violation)) = space.violation(values) else { return Ok(()) };
    let param = &space.params()[index];
    let parent = param.condition.as_ref().map_or(String::new(), |c| space.params()[c.parent].name.clone());
    let message = match violation {
        Violation::MissingActive => "is null, but the parameter is active in this configuration".into(),
        Violation::SetWhileInactive => {
            format!("has a value, but the parameter is inactive here (its condition on `{parent}` does not hold); write null")
        }
        Violation::OutOfDomain | Violation::WrongKind => "lies outside the declared space".into(),
    };
    Err((&param.name, message))
}

/// The first configuration (index) whose hyperparameters equal an earlier one's, and that one.
fn duplicate_configuration(configs: &[RecordedConfig]) -> Option<(usize, usize)> {
    let key = |config: &Config| -> Vec<u64> {
        config
            .values()
            .iter()
            .map(|v| match *v {
                Value::Inactive => u64::MAX,
                Value::Float(x) => (x + 0.0).to_bits(),
                Value::Int(i) => i as u64,
                Value::Choice(c) => u64::from(c),
            })
            .collect()
    };
    let mut seen: HashMap<Vec<u64>, usize> = HashMap::with_capacity(configs.len());
    configs.iter().enumerate().find_map(|(i, c)| match seen.entry(key(&c.config)) {
        std::collections::hash_map::Entry::Occupied(first) => Some((i, *first.get())),
        std::collections::hash_map::Entry::Vacant(slot) => {
            slot.insert(i);
            None
        }
    })
}

fn shown(value: Value) -> String {
    match value {
        Value::Inactive => "null".into(),
        Value::Float(x) => x.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Choice(c) => format!("choice #{c}"),
    }
}

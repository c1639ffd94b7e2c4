//! Tabular benchmarks: one task of a recorded file (`data/FORMAT.md`) replayed in the
//! simulator, as the tabular back-ends of HPOBench, YAHPO's `tabular` mode and Syne Tune's
//! blackbox repository replay LCBench, NAS-Bench-201 or FCNet.
//!
//! - A proposal is resolved once per trial ([`Benchmark::open`]) to a recorded configuration:
//!   the nearest one in the encoded space, categorical values never crossing
//!   ([`hposim_core::nearest`]). With [`Lookup::Recorded`] samplers choose among the recorded
//!   configurations themselves ([`Benchmark::recorded_configs`]), so resolution is exact.
//! - A trial replays one repeat of its configuration, drawn from the trial's seed.
//! - Step `k` is one index into the task's dense arrays: constant time (plus one comparison per
//!   splice of the trial), no allocation.
//! - The best known value of each objective is the best the task holds anywhere.
//! - Objectives are metric columns, or `training_time` ([`recorded::TRAINING_TIME`]): the
//!   seconds of training so far, the cost column summed (prefix sums computed once, so a step
//!   stays constant time), for trading error against training cost.
//! - With several objectives, the hypervolume reference point is `hypervolume_reference` where
//!   given, else the task's nadir at full fidelity pushed out by a tenth of each objective's
//!   range: per objective the worst value `w` and the best `b` of the curves recorded to full
//!   fidelity, the reference `w + 0.1·(w − b)` in the direction of worse (every recorded
//!   result inside).
//! - [`Benchmark::splice`] continues a trial from a step with another configuration's curve
//!   (the approximation is documented in `data/FORMAT.md`, section Replay).

use crate::recorded::{self, MetricSource, Recorded, RecordedTask};
use crate::{Benchmark, BenchmarkError, TrialCurve};
use hposim_core::nearest::{NearestIndex, encode_for_nearest};
use hposim_core::rng::stateless_uniform;
use hposim_core::{Config, Domain, Fidelity, Objective, SearchSpace, Value};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How a sampler's proposal becomes a recorded configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lookup {
    /// Samplers propose anywhere in the space; each proposal is resolved to the nearest
    /// recorded configuration with the same categorical values.
    #[default]
    Nearest,
    /// Samplers choose among the recorded configurations (Syne Tune's
    /// `restrict_configurations`).
    Recorded,
}

/// `[[benchmarks]] type = "recorded"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TabularSpec {
    /// Display name (default: the file's stem, with `/task` where a task is chosen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The Parquet table, relative to the experiment file's directory; its metadata is the
    /// `.toml` file beside it.
    pub path: PathBuf,
    /// Which task of a file with several (required there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// The metrics to optimise, in order (default: the file's first metric).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objectives: Option<Vec<String>>,
    /// How proposals are resolved (default `nearest`).
    #[serde(default)]
    pub lookup: Lookup,
    /// With several objectives, the hypervolume reference point, one coordinate per objective
    /// in its own units (default: the task's nadir at full fidelity, pushed out by a tenth of
    /// each objective's range).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hypervolume_reference: Option<Vec<f64>>,
}

impl TabularSpec {
    /// The default display name: the file's stem, and the task after a slash.
    pub fn default_name(&self) -> String {
        let stem = self.path.file_stem().map_or_else(|| "recorded".to_owned(), |s| s.to_string_lossy().into_owned());
        match &self.task {
            Some(task) => format!("{stem}/{task}"),
            None => stem,
        }
    }
}

/// Index of the repeat stream in a trial's seed.
const REPEAT_STREAM: u64 = 0x7265_7065_6174;

/// One task of a recorded benchmark, replayed.
#[derive(Debug)]
pub struct Tabular {
    name: String,
    space: SearchSpace,
    objectives: Vec<Objective>,
    fidelity: Fidelity,
    task: RecordedTask,
    /// Where each objective's values come from.
    columns: Vec<MetricSource>,
    /// Seconds of training up to each step, in the layout of [`RecordedTask::costs`]: the
    /// training-time objective, and [`Benchmark::cost_until`] in one lookup.
    elapsed: Vec<f64>,
    best: Vec<f64>,
    /// The hypervolume reference point (empty with one objective).
    reference: Vec<f64>,
    /// The recorded configurations, indexed: resolves proposals, and under
    /// [`Lookup::Recorded`] is what samplers choose among.
    index: Arc<NearestIndex>,
    lookup: Lookup,
    content_hash: u64,
    overhead: hposim_core::LaunchOverhead,
}

impl Tabular {
    /// Loads the file of `spec` (relative paths from `base_dir`) and prepares its task.
    pub fn new(name: String, spec: &TabularSpec, base_dir: &Path) -> Result<Self, BenchmarkError> {
        let path = base_dir.join(&spec.path);
        let data = recorded::load(&path).map_err(|e| BenchmarkError::invalid("path", e.to_string()))?;
        Self::from_recorded(name, &data, spec)
    }

    /// Prepares the task of `spec` from loaded data (copying that task, so one loaded file
    /// serves every benchmark that replays one of its tasks).
    pub fn from_recorded(name: String, data: &Recorded, spec: &TabularSpec) -> Result<Self, BenchmarkError> {
        let task_index = data.task_index(spec.task.as_deref()).map_err(|message| BenchmarkError::invalid("task", message))?;
        let columns =
            data.objective_columns(spec.objectives.as_deref()).map_err(|message| BenchmarkError::invalid("objectives", message))?;
        let (metadata, space, content_hash) = (&data.metadata, data.space.clone(), data.content_hash);
        let task = data.tasks[task_index].clone();
        let objectives: Vec<Objective> = columns
            .iter()
            .map(|source| match *source {
                MetricSource::Column(c) => metadata.metrics[c].clone(),
                MetricSource::TrainingTime => Objective::minimize(recorded::TRAINING_TIME),
            })
            .collect();
        let elapsed = prefix_sums(&task);
        let values_of = |source: MetricSource| -> Vec<f64> {
            match source {
                MetricSource::Column(c) => task.metrics.iter().skip(c).step_by(task.metric_count).copied().collect(),
                MetricSource::TrainingTime => elapsed.clone(),
            }
        };
        let best = columns.iter().zip(&objectives).map(|(&c, objective)| objective.best(values_of(c)).unwrap_or(f64::NAN)).collect();
        let reference = match &spec.hypervolume_reference {
            Some(given) => {
                let names: Vec<&str> = objectives.iter().map(|o| o.name.as_str()).collect();
                crate::require_reference(given, &names)?;
                given.clone()
            }
            None if objectives.len() >= 2 => {
                let last = |c: usize| c * task.max_step as usize + task.max_step as usize - 1;
                let complete = |c: &usize| task.curves[*c].steps == task.max_step && !task.curves[*c].diverged;
                let full: Vec<usize> = (0..task.curves.len()).filter(complete).map(last).collect();
                columns
                    .iter()
                    .zip(&objectives)
                    .map(|(&source, objective)| {
                        let values = values_of(source);
                        let at_full: Vec<f64> = full.iter().map(|&i| values[i]).collect();
                        nadir_reference(objective, &at_full)
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        let index = Arc::new(NearestIndex::new(&space, task.configs.iter().map(|c| c.config.clone()).collect()));
        if spec.lookup == Lookup::Nearest
            && let Err(problem) = all_combinations_recorded(&space, &index)
        {
            return Err(BenchmarkError::invalid(
                "lookup",
                format!(
                    "\"nearest\" needs a recorded configuration for every combination of categorical values the space allows, and {problem}; use lookup = \"recorded\""
                ),
            ));
        }
        let fidelity = Fidelity { min: metadata.fidelity.min, max: task.max_step, unit: metadata.fidelity.unit.clone() };
        let overhead = metadata.overhead.unwrap_or_default();
        Ok(Self {
            name,
            space,
            objectives,
            fidelity,
            task,
            columns,
            elapsed,
            best,
            reference,
            index,
            lookup: spec.lookup,
            content_hash,
            overhead,
        })
    }

    /// The replayed task.
    pub fn task(&self) -> &RecordedTask {
        &self.task
    }

    /// The index (into [`RecordedTask::configs`]) of the recorded configuration nearest to
    /// `config`.
    pub fn resolve(&self, config: &Config) -> usize {
        let mut query = vec![0.0; self.space.len()];
        encode_for_nearest(&self.space, config, &mut query);
        self.index.nearest(&query, |_| true).unwrap_or(0)
    }

    /// The curve (repeat) of configuration `index` that a trial seeded with `seed` replays.
    fn curve_of(&self, index: usize, seed: u64) -> usize {
        let range = self.task.configs[index].curves.clone();
        let offset = (stateless_uniform(seed, REPEAT_STREAM) * range.len() as f64) as usize;
        range.start + offset.min(range.len().saturating_sub(1))
    }

    /// Seconds of training of `curve` up to `step`: each replayed segment's share of its
    /// curve's prefix sums (steps up to a splice from the curve before it).
    fn training_time(&self, curve: &TrialCurve, step: u32) -> f64 {
        let max = self.task.max_step as usize;
        let elapsed = |c: usize, s: u32| if s == 0 { 0.0 } else { self.elapsed[c * max + s as usize - 1] };
        let (mut total, mut from, mut current) = (0.0, 0, curve.coefficients[0] as usize);
        for pair in curve.extra.chunks_exact(2) {
            let at = pair[0] as u32;
            if step <= at {
                break;
            }
            total += elapsed(current, at) - elapsed(current, from);
            (from, current) = (at, pair[1] as usize);
        }
        total + elapsed(current, step) - elapsed(current, from)
    }

    /// The curve index that `curve` replays at `step`: the curve it opened with, or after a
    /// splice at step `s` (pairs `(s, curve)` in `extra`, by increasing `s`) the spliced-in
    /// curve from step `s + 1` on.
    fn curve_at(curve: &TrialCurve, step: u32) -> usize {
        let mut current = curve.coefficients[0];
        for pair in curve.extra.chunks_exact(2) {
            if f64::from(step) <= pair[0] {
                break;
            }
            current = pair[1];
        }
        current as usize
    }
}

impl Benchmark for Tabular {
    fn name(&self) -> &str {
        &self.name
    }

    fn space(&self) -> &SearchSpace {
        &self.space
    }

    fn objectives(&self) -> &[Objective] {
        &self.objectives
    }

    fn fidelity(&self) -> &Fidelity {
        &self.fidelity
    }

    fn open(&self, config: &Config, seed: u64) -> TrialCurve {
        let mut coefficients = [0.0; crate::INLINE_COEFFICIENTS];
        coefficients[0] = self.curve_of(self.resolve(config), seed) as f64;
        TrialCurve::new(coefficients, seed)
    }

    fn step(&self, curve: &TrialCurve, step: u32, metrics: &mut [f64]) -> f64 {
        let step = step.clamp(1, self.task.max_step);
        let index = Self::curve_at(curve, step);
        let row = self.task.metrics_at(index, step);
        let info = self.task.curves[index];
        // A diverged step has no metrics at all, the training time included.
        let diverged = info.diverged && step >= info.steps;
        for (out, &source) in metrics.iter_mut().zip(&self.columns) {
            *out = match source {
                MetricSource::Column(column) => row[column],
                MetricSource::TrainingTime if diverged => f64::NAN,
                MetricSource::TrainingTime => self.training_time(curve, step),
            };
        }
        self.task.cost_at(index, step)
    }

    fn best_known(&self) -> Option<&[f64]> {
        self.best.iter().all(|b| b.is_finite()).then_some(&self.best)
    }

    /// The cost of steps `1..=step`, except that a curve that diverged costs nothing past its
    /// diverged step: training it again from scratch would stop there too, so the yardstick
    /// "every trial trained to full fidelity" does not charge steps that were never recorded.
    fn cost_until(&self, curve: &TrialCurve, step: u32) -> f64 {
        if curve.extra.is_empty() {
            // One curve throughout: its prefix sum, added in the same order as the loop below.
            let index = curve.coefficients[0] as usize;
            let info = self.task.curves[index];
            let last = step.min(self.task.max_step).min(if info.diverged { info.steps } else { u32::MAX });
            return if last == 0 { 0.0 } else { self.elapsed[index * self.task.max_step as usize + last as usize - 1] };
        }
        let mut total = 0.0;
        for s in 1..=step.min(self.task.max_step) {
            let index = Self::curve_at(curve, s);
            let info = self.task.curves[index];
            if info.diverged && s > info.steps {
                break;
            }
            total += self.task.cost_at(index, s);
        }
        total
    }

    fn hypervolume_reference(&self) -> Option<&[f64]> {
        (!self.reference.is_empty()).then_some(&self.reference)
    }

    fn recorded_configs(&self) -> Option<Arc<NearestIndex>> {
        (self.lookup == Lookup::Recorded).then(|| Arc::clone(&self.index))
    }

    fn content_hash(&self) -> Option<u64> {
        Some(self.content_hash)
    }

    fn overhead(&self) -> hposim_core::LaunchOverhead {
        self.overhead
    }

    fn supports_splice(&self) -> bool {
        true
    }

    /// Steps up to `step` keep whatever the trial replayed (earlier splices included); later
    /// steps replay `config`'s curve. A later splice replaces the ones at or after its step.
    fn splice(&self, curve: &TrialCurve, config: &Config, step: u32, seed: u64) -> Option<TrialCurve> {
        let mut spliced = curve.clone();
        let keep = spliced.extra.chunks_exact(2).take_while(|pair| pair[0] < f64::from(step)).count();
        spliced.extra.truncate(2 * keep);
        spliced.extra.extend([f64::from(step), self.curve_of(self.resolve(config), seed) as f64]);
        Some(spliced)
    }
}

/// Per curve, the cost of its steps summed up to each step (the layout of
/// [`RecordedTask::costs`]).
fn prefix_sums(task: &RecordedTask) -> Vec<f64> {
    let mut elapsed = Vec::with_capacity(task.costs.len());
    for curve in task.costs.chunks(task.max_step as usize) {
        let mut total = 0.0;
        elapsed.extend(curve.iter().map(|cost| {
            total += cost;
            total
        }));
    }
    elapsed
}

/// The reference coordinate of `objective` from its full-fidelity values: the worst pushed out
/// by a tenth of the range (a tenth of the worst's magnitude, or 1, when all are equal).
fn nadir_reference(objective: &Objective, values: &[f64]) -> f64 {
    let finite = || values.iter().copied().filter(|v| v.is_finite());
    let best = objective.best(finite()).unwrap_or(0.0);
    let worst = finite().fold(best, |w, v| if objective.better(w, v) { v } else { w });
    let range = (worst - best).abs();
    let margin = if range > 0.0 {
        0.1 * range
    } else if worst != 0.0 {
        0.1 * worst.abs()
    } else {
        1.0
    };
    worst + margin * objective.direction.sign()
}

/// Most combinations of categorical values [`all_combinations_recorded`] enumerates.
const MAX_COMBINATIONS: f64 = 1e6;

/// Checks that every combination of categorical values the space allows (with the activity it
/// implies) has a recorded configuration; the error says which is missing, or why the check
/// cannot be made (a parameter conditioned on a number, whose activity then depends on values
/// no enumeration covers; more than [`MAX_COMBINATIONS`] combinations).
fn all_combinations_recorded(space: &SearchSpace, index: &NearestIndex) -> Result<(), String> {
    let params = space.params();
    let is_categorical = |i: usize| matches!(params[i].domain, Domain::Categorical { .. });
    if let Some(p) = (0..params.len()).find(|&i| params[i].condition.as_ref().is_some_and(|c| !is_categorical(c.parent))) {
        let parent = params[p].condition.as_ref().map_or("", |c| params[c.parent].name.as_str());
        return Err(format!(
            "`{}` depends on the number `{parent}`, so which combinations the space allows cannot be enumerated",
            params[p].name
        ));
    }
    let combinations: f64 =
        (0..params.len()).filter(|&i| is_categorical(i)).filter_map(|i| params[i].domain.choice_count()).map(|n| n as f64).product();
    if combinations > MAX_COMBINATIONS {
        return Err(format!("the space has {combinations} combinations, too many to check (at most {MAX_COMBINATIONS})"));
    }
    let mut values = vec![Value::Inactive; params.len()];
    let mut query = vec![0.0; params.len()];
    match first_missing(space, index, 0, &mut values, &mut query) {
        Some(missing) => Err(format!("none has {missing}")),
        None => Ok(()),
    }
}

fn first_missing(space: &SearchSpace, index: &NearestIndex, at: usize, values: &mut [Value], query: &mut [f64]) -> Option<String> {
    let params = space.params();
    let Some(param) = params.get(at) else {
        encode_for_nearest(space, &Config::new(values.to_vec()), query);
        if index.has_match(query) {
            return None;
        }
        let shown: Vec<String> = params
            .iter()
            .zip(values.iter())
            .filter_map(|(p, v)| match (v, p.domain.choices()) {
                (Value::Choice(c), Some(choices)) if matches!(p.domain, Domain::Categorical { .. }) => {
                    Some(format!("{} = {}", p.name, choices[*c as usize]))
                }
                _ => None,
            })
            .collect();
        return Some(shown.join(", "));
    };
    if !space.is_active(at, values) {
        values[at] = Value::Inactive;
        return first_missing(space, index, at + 1, values, query);
    }
    match &param.domain {
        Domain::Categorical { choices } => (0..choices.len() as u32).find_map(|c| {
            values[at] = Value::Choice(c);
            first_missing(space, index, at + 1, values, query)
        }),
        domain => {
            values[at] = hposim_core::encoding::from_unit(domain, 0.5);
            first_missing(space, index, at + 1, values, query)
        }
    }
}

#[cfg(test)]
mod tests;

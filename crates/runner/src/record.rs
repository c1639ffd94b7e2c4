//! `hposim record`: runs a set of configurations (Sobol, random or grid) to full fidelity with
//! the live study loop (a FIFO scheduler over a fixed list) and writes them as a recorded
//! benchmark in the data/ format (data/FORMAT.md), so the simulator can replay real training.
//!
//! A step's cost is the wall-clock time between its report and the previous one; the first
//! step's cost runs from the process launch, so it includes the script's start-up (imports,
//! data loading). Trials that crashed or broke the protocol are left out (with a warning);
//! diverged ones are kept up to the diverged step (`allow_divergence`). The study's journal sits
//! beside the table (`<table>.record/`), so an interrupted recording resumes; the first step a
//! resumed trial reports after such a resume then carries its start-up time again.

use crate::spec::{Design, LiveExperiment};
use crate::study::{StudyError, StudySetup, run_study};
use crate::tune::executor_for;
use hposim_core::rng::stream;
use hposim_core::{Budget, Config, EpochStatus, Observation, Rng, Trace};
use hposim_curves::recorded::{self, Columns, CurveInfo, FidelityInfo, Metadata, RecordedConfig, RecordedTask};
use hposim_samplers::Sampler;
use hposim_schedulers::SchedulerSpec;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// A sampler that proposes a fixed list of configurations in order, then nothing.
pub struct Listed {
    configs: VecDeque<Config>,
}

impl Listed {
    /// Proposes `configs` in order.
    pub fn new(configs: Vec<Config>) -> Self {
        Self { configs: configs.into() }
    }
}

impl Sampler for Listed {
    fn suggest(&mut self, _rng: &mut Rng) -> Option<Config> {
        self.configs.pop_front()
    }

    fn observe(&mut self, _observation: &Observation<'_>) {}
}

/// `count` configurations of `experiment`'s space chosen by `design`, from the stream
/// (experiment seed, `"record"`).
pub fn design_configs(experiment: &LiveExperiment, count: u32, design: Design) -> Result<Vec<Config>, String> {
    let space = &experiment.space;
    let mut rng = stream(experiment.spec.seed, "record", "design");
    let spec: hposim_samplers::SamplerSpec = match design {
        Design::Sobol => serde_json::from_str(r#"{"type": "sobol"}"#),
        Design::Random => serde_json::from_str(r#"{"type": "random"}"#),
        Design::Grid => serde_json::from_str(r#"{"type": "grid", "shuffle": true}"#),
    }
    .map_err(|e| e.to_string())?;
    let objectives = &experiment.spec.training.objectives;
    let mut sampler = hposim_samplers::build(&spec, space, objectives, &mut rng).map_err(|e| format!("record.design: {e}"))?;
    let mut configs = Vec::with_capacity(count as usize);
    while configs.len() < count as usize {
        let Some(config) = sampler.suggest(&mut rng) else { break };
        configs.push(config);
    }
    Ok(configs)
}

/// What a recording did.
#[derive(Clone, Debug)]
pub struct RecordOutcome {
    /// The table written.
    pub table: PathBuf,
    /// Configurations recorded.
    pub recorded: usize,
    /// Trials left out, with the reason.
    pub left_out: Vec<(u32, String)>,
    /// Wall-clock seconds the recording took (this run and any it resumed).
    pub wallclock_seconds: f64,
}

/// A recording that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The study failed.
    #[error(transparent)]
    Study(#[from] StudyError),
    /// Something else, said in words.
    #[error("{0}")]
    Other(String),
}

/// The directory of a recording's study: `<table>.record/` beside the table.
pub fn study_dir(table: &Path) -> PathBuf {
    let mut name = table.file_name().unwrap_or_default().to_owned();
    name.push(".record");
    table.with_file_name(name)
}

/// Records `configs` (chosen by `design`) of `experiment` into the table `table` (and its
/// metadata beside it). With `resume`, an interrupted recording goes on.
pub fn record(
    experiment: &LiveExperiment,
    table: &Path,
    configs: u32,
    design: Design,
    resume: bool,
    interrupt: &AtomicBool,
) -> Result<RecordOutcome, RecordError> {
    let training = &experiment.spec.training;
    let dir = study_dir(table);
    if dir.join("journal.jsonl").is_file() && !resume {
        return Err(RecordError::Other(format!(
            "{} holds an unfinished or earlier recording; continue it with --resume, or remove it to record afresh",
            dir.display()
        )));
    }
    let list = design_configs(experiment, configs, design).map_err(RecordError::Other)?;
    let budget = Budget { trials: Some(list.len() as u64), ..Budget::default() };
    let mut scheduler = hposim_schedulers::build(
        &SchedulerSpec::Fifo {},
        Box::new(Listed::new(list)),
        &experiment.space,
        &training.fidelity,
        &training.objectives,
    )
    .map_err(|e| RecordError::Other(e.to_string()))?;
    let setup = StudySetup::of(experiment, &dir, &budget, true);
    let mut executor = executor_for(experiment, experiment.spec.workers as usize);
    let mut rng = stream(experiment.spec.seed, "record", "strategy");
    let outcome = run_study(&setup, scheduler.as_mut(), &mut rng, executor.as_mut(), None, interrupt)?;
    let (task, left_out) = task_of(&outcome.cell.trace, training.fidelity.max, &outcome.trials);
    if task.configs.is_empty() {
        return Err(RecordError::Other(format!(
            "no configuration completed, so there is nothing to record; the trials' logs are in {}",
            dir.join("trials").display()
        )));
    }
    let metadata = Metadata {
        format: recorded::FORMAT_VERSION,
        name: training.name.clone(),
        description: experiment.spec.description.clone().unwrap_or_default(),
        source: format!("recorded live by hposim record from the command {:?}", training.command),
        licence: training.licence.clone().unwrap_or_else(|| "unspecified".to_owned()),
        command: Some(format!("hposim record {} --configs {configs} --design {}", experiment.path.display(), design.as_str())),
        sha256: None,
        allow_divergence: task.curves.iter().any(|c| c.diverged),
        columns: Columns {
            config: "config_id".into(),
            step: "step".into(),
            cost: "seconds".into(),
            repeat: None,
            task: None,
            fidelity_value: None,
        },
        fidelity: FidelityInfo { unit: training.fidelity.unit.clone(), min: training.fidelity.min, max: Some(training.fidelity.max) },
        metrics: training.objectives.clone(),
        space: training.space.clone(),
    };
    recorded::write(table, &metadata, &experiment.space, std::slice::from_ref(&task)).map_err(|e| RecordError::Other(e.to_string()))?;
    Ok(RecordOutcome {
        table: table.to_owned(),
        recorded: task.configs.len(),
        left_out,
        wallclock_seconds: outcome.cell.stats.wallclock_seconds,
    })
}

/// The recorded task of a FIFO study's trace: each trial that reached full fidelity (or
/// diverged) as one configuration (its trial id as config id), step costs from the report
/// times.
fn task_of(trace: &Trace, max: u32, trials: &[crate::study::TrialReport]) -> (RecordedTask, Vec<(u32, String)>) {
    let k = trace.objectives.len();
    let m = max as usize;
    let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); trace.configs.len()];
    for row in 0..trace.len() {
        rows_of[trace.trial[row] as usize].push(row);
    }
    let mut task = RecordedTask {
        name: None,
        configs: Vec::new(),
        curves: Vec::new(),
        max_step: max,
        metric_count: k,
        metrics: Vec::new(),
        costs: Vec::new(),
        fidelity_values: Vec::new(),
    };
    let mut left_out = Vec::new();
    for (trial, rows) in rows_of.iter().enumerate() {
        let last = rows.last().copied();
        let diverged = last.is_some_and(|r| trace.status[r] == EpochStatus::Diverged);
        let complete = last.is_some_and(|r| trace.status[r] == EpochStatus::Ok && trace.epoch[r] == max);
        if !(complete || diverged) {
            let reason = trials.get(trial).and_then(|t| t.reason.clone()).unwrap_or_else(|| "did not reach full fidelity".to_owned());
            left_out.push((trial as u32, reason));
            continue;
        }
        let curve = task.curves.len();
        task.configs.push(RecordedConfig { id: trial as i64, config: trace.configs[trial].clone(), curves: curve..curve + 1 });
        task.curves.push(CurveInfo { repeat: 0, steps: rows.len() as u32, diverged });
        let mut metrics = vec![f64::NAN; m * k];
        let mut costs = vec![0.0; m];
        for (i, &row) in rows.iter().enumerate() {
            metrics[i * k..(i + 1) * k].copy_from_slice(trace.metrics_of(row));
            if trace.status[row] == EpochStatus::Diverged {
                metrics[i * k..(i + 1) * k].fill(f64::NAN);
            }
            // A positive cost even where the clock could not tell two reports apart.
            costs[i] = (trace.end[row] - trace.start[row]).max(1e-6);
        }
        let last_cost = costs[rows.len().saturating_sub(1)];
        costs[rows.len()..].fill(last_cost);
        task.metrics.extend(metrics);
        task.costs.extend(costs);
    }
    (task, left_out)
}

//! `hposim record`: runs a set of configurations (Sobol, random or grid) to full fidelity with
//! the live study loop and writes them as a recorded benchmark in the data/ format
//! (data/FORMAT.md), so the simulator can replay real training.
//!
//! A step's cost is the wall-clock time between its report and the previous one. What a
//! process costs besides its steps is measured and written to the metadata's `overhead`
//! ([`hposim_core::overhead`]), and taken out of the first step of each launch:
//!
//! - start-up: from a trial's launch to its first report, minus that step's own time (the
//!   report's `step_seconds`, which `examples/train/hposim_trial.py` sends; without it, the
//!   median time of the trial's other steps);
//! - resume: the same for a launch from a checkpoint. The recording pauses `record.resumes`
//!   configurations halfway (step ⌊max/2⌋) and resumes them to full fidelity right away, so
//!   that resuming is measured, not guessed (with checkpointing only). The paused ones are
//!   spread evenly over the list (every other one by default), not taken from its front: with
//!   configurations of equal length, workers that all pause or all run through would launch
//!   in lock-step, every start-up competing with another start-up, which a live study's
//!   staggered launches rarely do (on the 2-core CI machine, a scikit-learn start-up took
//!   1.37 s beside another start-up and 1.26 s alone, means of 25 interleaved tries);
//! - shutdown: from a launch's last report to its process's exit.
//!
//! The means are written, with the coefficient of variation of the start-ups as `noise`.
//! Trials that crashed or broke the protocol are left out (with a warning); diverged ones are
//! kept up to the diverged step (`allow_divergence`). The study's journal sits beside the table
//! (`<table>.record/`), so an interrupted recording resumes; a launch after such an interrupt
//! counts as a resume.

use crate::journal::{Journal, Record};
use crate::spec::{Design, LiveExperiment};
use crate::study::{StudyError, StudySetup, run_study};
use crate::tune::executor_for;
use hposim_core::rng::stream;
use hposim_core::{Action, Budget, Config, Decision, EpochStatus, LaunchOverhead, Observation, Rng, Trace, TrialId, WorkerRequest};
use hposim_curves::recorded::{self, Columns, CurveInfo, FidelityInfo, Metadata, RecordedConfig, RecordedTask};
use hposim_schedulers::Scheduler;
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// The recording's scheduler: starts the listed configurations in order, `probes` of them
/// (spread evenly over the list, [`Recording::is_probe`]) only up to step `pause`, and
/// resumes each paused one to full fidelity before it starts another configuration.
pub struct Recording {
    configs: VecDeque<Config>,
    count: u64,
    probes: u32,
    pause: u32,
    max: u32,
    paused: VecDeque<TrialId>,
}

impl Recording {
    /// Records `configs` to full fidelity `max`, pausing `probes` of them at step `pause`
    /// (none when `pause` is not below `max`).
    pub fn new(configs: Vec<Config>, probes: u32, pause: u32, max: u32) -> Self {
        let probes = if pause >= 1 && pause < max { probes } else { 0 };
        Self { count: configs.len() as u64, configs: configs.into(), probes, pause, max, paused: VecDeque::new() }
    }

    /// Whether trial `trial` (the `trial`-th configuration) is paused halfway: `probes` of the
    /// `count` trials, evenly spaced (trial t is one when ⌊(t+1)·p/n⌋ > ⌊t·p/n⌋, the line
    /// drawing rule), so every other one when p = n/2, and all of them when p ≥ n.
    pub fn is_probe(&self, trial: TrialId) -> bool {
        let (t, p, n) = (u64::from(trial), u64::from(self.probes).min(self.count), self.count.max(1));
        t < n && (t + 1) * p / n > t * p / n
    }
}

impl Scheduler for Recording {
    fn on_free_worker(&mut self, request: &WorkerRequest, _rng: &mut Rng) -> Action {
        if let Some(trial) = self.paused.pop_front() {
            return Action::Resume { trial, until: self.max };
        }
        match self.configs.pop_front() {
            Some(config) => {
                let until = if self.is_probe(request.next_trial) { self.pause } else { self.max };
                Action::Start { config, until }
            }
            None => Action::Finish,
        }
    }

    fn on_result(&mut self, observation: &Observation<'_>) -> Decision {
        if self.is_probe(observation.trial) && observation.fidelity == self.pause {
            self.paused.push_back(observation.trial);
            return Decision::Pause;
        }
        Decision::Continue
    }

    fn on_failure(&mut self, _failure: &Observation<'_>) {}

    fn sampler_warnings(&self) -> u64 {
        0
    }
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
    /// The launch overhead measured.
    pub overhead: LaunchOverhead,
    /// Start-ups, resumes and shutdowns it was measured from.
    pub samples: (usize, usize, usize),
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
/// metadata beside it). With `resume`, an interrupted recording goes on. `tracker` hears of
/// every trial (the command line's progress display).
pub fn record(
    experiment: &LiveExperiment,
    table: &Path,
    configs: u32,
    design: Design,
    resume: bool,
    interrupt: &AtomicBool,
    tracker: Option<&mut dyn crate::tracker::Tracker>,
) -> Result<RecordOutcome, RecordError> {
    let training = &experiment.spec.training;
    let dir = study_dir(table);
    std::fs::create_dir_all(&dir).map_err(|e| RecordError::Other(format!("{}: {e}", dir.display())))?;
    let _lock = hposim_results::lock_folder(&dir).map_err(|e| RecordError::Other(e.to_string()))?;
    if dir.join("journal.jsonl").is_file() && !resume {
        return Err(RecordError::Other(format!(
            "{} holds an unfinished or earlier recording; continue it with --resume, or remove it to record afresh",
            dir.display()
        )));
    }
    let list = design_configs(experiment, configs, design).map_err(RecordError::Other)?;
    let budget = Budget { trials: Some(list.len() as u64), ..Budget::default() };
    let checkpointing = experiment.spec.checkpointing;
    let probes = if checkpointing { experiment.spec.record.resumes.unwrap_or(configs.div_ceil(2)) } else { 0 };
    let max = training.fidelity.max;
    let mut scheduler = Recording::new(list, probes, max / 2, max);
    let setup = StudySetup::of(experiment, &dir, &budget, checkpointing);
    let mut executor = executor_for(experiment, experiment.spec.workers as usize);
    let mut rng = stream(experiment.spec.seed, "record", "strategy");
    let outcome = run_study(&setup, &mut scheduler, &mut rng, executor.as_mut(), tracker, interrupt)?;
    let journal = Journal::read(&dir.join("journal.jsonl")).map_err(|e| RecordError::Other(e.to_string()))?;
    let measured = measure_overhead(&journal);
    let (task, left_out) = task_of(&outcome.cell.trace, max, &outcome.trials, &measured.launch);
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
        overhead: Some(measured.overhead),
    };
    recorded::write(table, &metadata, &experiment.space, std::slice::from_ref(&task)).map_err(|e| RecordError::Other(e.to_string()))?;
    Ok(RecordOutcome {
        table: table.to_owned(),
        recorded: task.configs.len(),
        left_out,
        wallclock_seconds: outcome.cell.stats.wallclock_seconds,
        overhead: measured.overhead,
        samples: (measured.startups, measured.resumes, measured.shutdowns),
    })
}

/// Launch overhead measured from a recording's journal.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MeasuredOverhead {
    /// The means (and the start-ups' coefficient of variation as noise).
    pub overhead: LaunchOverhead,
    /// Launch overhead of the first step of each launch, by (trial, step).
    pub launch: BTreeMap<(TrialId, u32), f64>,
    /// Start-ups, resumes and shutdowns measured.
    pub startups: usize,
    /// Resumes measured.
    pub resumes: usize,
    /// Shutdowns measured.
    pub shutdowns: usize,
}

/// Measures start-up, resume and shutdown from a study's journal (see the module's doc).
/// A resume never measured is taken to cost a start-up (it costs at least that).
pub fn measure_overhead(journal: &[Record]) -> MeasuredOverhead {
    struct LaunchInfo {
        trial: TrialId,
        resumed: bool,
        /// (step, duration, reported own time) of each report.
        steps: Vec<(u32, f64, Option<f64>)>,
        last_report: Option<f64>,
        exit: Option<f64>,
    }
    let mut launches: Vec<LaunchInfo> = Vec::new();
    let mut current: BTreeMap<TrialId, usize> = BTreeMap::new();
    let mut by_launch: BTreeMap<u64, usize> = BTreeMap::new();
    for record in journal {
        match record {
            Record::Launch { trial, launch, start_step, .. } => {
                current.insert(*trial, launches.len());
                by_launch.insert(*launch, launches.len());
                launches.push(LaunchInfo { trial: *trial, resumed: *start_step > 0, steps: Vec::new(), last_report: None, exit: None });
            }
            Record::Step { trial, step, start, end, extra, .. } => {
                if let Some(&i) = current.get(trial) {
                    let own = extra.iter().find(|(k, _)| k == crate::protocol::STEP_SECONDS).map(|(_, v)| *v).filter(|v| v.is_finite());
                    launches[i].steps.push((*step, end - start, own));
                    launches[i].last_report = Some(*end);
                }
            }
            Record::Exit { launch, now, code } => {
                if let Some(&i) = by_launch.get(launch)
                    && *code == Some(0)
                {
                    launches[i].exit = Some(*now);
                }
            }
            _ => {}
        }
    }
    // The median duration of each trial's steps that are not first in their launch.
    let mut later: BTreeMap<TrialId, Vec<f64>> = BTreeMap::new();
    for l in &launches {
        later.entry(l.trial).or_default().extend(l.steps.iter().skip(1).map(|s| s.1));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (!v.is_empty()).then(|| v[v.len() / 2])
    };
    let medians: BTreeMap<TrialId, Option<f64>> = later.into_iter().map(|(t, mut v)| (t, median(&mut v))).collect();
    let mut measured = MeasuredOverhead::default();
    let (mut startups, mut resumes, mut shutdowns) = (Vec::new(), Vec::new(), Vec::new());
    for l in &launches {
        if let Some(&(step, duration, own)) = l.steps.first() {
            let own = own.or_else(|| medians.get(&l.trial).copied().flatten()).unwrap_or(duration);
            let overhead = (duration - own).max(0.0);
            measured.launch.insert((l.trial, step), overhead);
            if l.resumed { resumes.push(overhead) } else { startups.push(overhead) }
        }
        if let (Some(last), Some(exit)) = (l.last_report, l.exit) {
            shutdowns.push((exit - last).max(0.0));
        }
    }
    let mean = |v: &[f64]| if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 };
    let startup = mean(&startups);
    let noise = if startups.len() >= 2 && startup > 0.0 {
        let var = startups.iter().map(|x| (x - startup).powi(2)).sum::<f64>() / (startups.len() - 1) as f64;
        var.sqrt() / startup
    } else {
        0.0
    };
    measured.overhead = LaunchOverhead {
        startup,
        resume: if resumes.is_empty() { startup } else { mean(&resumes) },
        shutdown: mean(&shutdowns),
        noise: noise.min(10.0),
    };
    (measured.startups, measured.resumes, measured.shutdowns) = (startups.len(), resumes.len(), shutdowns.len());
    measured
}

/// The recorded task of a recording's trace: each trial that reached full fidelity (or
/// diverged) as one configuration (its trial id as config id), step costs from the report
/// times, less the launch overhead measured at each launch's first step (`launch`).
fn task_of(
    trace: &Trace,
    max: u32,
    trials: &[crate::study::TrialReport],
    launch: &BTreeMap<(TrialId, u32), f64>,
) -> (RecordedTask, Vec<(u32, String)>) {
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
            let overhead = launch.get(&(trial as TrialId, trace.epoch[row])).copied().unwrap_or(0.0);
            // A positive cost even where the clock could not tell two reports apart.
            costs[i] = (trace.end[row] - trace.start[row] - overhead).max(1e-6);
        }
        let last_cost = costs[rows.len().saturating_sub(1)];
        costs[rows.len()..].fill(last_cost);
        task.metrics.extend(metrics);
        task.costs.extend(costs);
    }
    (task, left_out)
}

#[cfg(test)]
mod tests {
    use super::Recording;
    use hposim_core::Config;

    fn probes_of(count: usize, probes: u32, pause: u32) -> Vec<u32> {
        let recording = Recording::new(vec![Config::default(); count], probes, pause, 27);
        (0..count as u32 + 2).filter(|&t| recording.is_probe(t)).collect()
    }

    #[test]
    fn paused_configurations_are_spread_over_the_list() {
        // Half of them: every other one, so two workers fall out of step.
        assert_eq!(probes_of(16, 8, 13), vec![1, 3, 5, 7, 9, 11, 13, 15]);
        // ⌊(t+1)·3/16⌋ > ⌊t·3/16⌋ at t = 5 (1 > 0), 10 (2 > 1) and 15 (3 > 2).
        assert_eq!(probes_of(16, 3, 13), vec![5, 10, 15]);
        // More than there are: all of them, and none beyond the list.
        assert_eq!(probes_of(4, 9, 13), vec![0, 1, 2, 3]);
        assert_eq!(probes_of(16, 0, 13), Vec::<u32>::new());
        // No pause below full fidelity: none.
        assert_eq!(probes_of(16, 8, 27), Vec::<u32>::new());
        assert_eq!(probes_of(0, 8, 13), Vec::<u32>::new());
    }
}

//! Live experiment files: a `[training]` table (the command, its search space, objectives and
//! fidelity, where it runs) with the same `[[strategies]]`, `[budget]`, `seed` and `workers` as
//! simulated experiments. Every key is documented in `experiments/README.md`; loading refuses a
//! bad file with the file and key named.

use hposim_core::{Budget, Fidelity, Objective, ParamSpec, SearchSpace};
use hposim_schedulers::{Setting, StrategySpec, check_strategy};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

fn default_one() -> u32 {
    1
}
fn default_true() -> bool {
    true
}
fn default_grace() -> f64 {
    10.0
}
fn default_configs() -> u32 {
    16
}

/// Where trials run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecutorSpec {
    /// Processes on this machine (the default).
    #[default]
    Local,
    /// Jobs of a Slurm cluster, submitted with `sbatch`.
    Slurm {
        /// Partition (`--partition`); default: the cluster's default.
        #[serde(default)]
        partition: Option<String>,
        /// Further `sbatch` options, one per element (e.g. `"--mem=8G"`).
        #[serde(default)]
        sbatch_args: Vec<String>,
        /// Seconds between polls of `squeue` and of the jobs' output files (default 0.5).
        #[serde(default)]
        poll_seconds: Option<f64>,
    },
}

/// The `[training]` table: the command and what it trains.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSpec {
    /// Name of the training task (the benchmark column of summaries).
    pub name: String,
    /// The argument vector; `{param}` placeholders are replaced per argument (PROTOCOL.md).
    pub command: Vec<String>,
    /// Working directory, relative to the experiment file (default: its directory).
    #[serde(default)]
    pub workdir: Option<PathBuf>,
    /// The metrics each step reports that the strategy uses; the first ranks trials.
    pub objectives: Vec<Objective>,
    /// The fidelity axis (`min`, `max`, `unit`).
    pub fidelity: Fidelity,
    /// The search space.
    pub space: Vec<ParamSpec>,
    /// A launch running longer than this many seconds is ended and its trial failed.
    #[serde(default)]
    pub time_limit_seconds: Option<f64>,
    /// Seconds between SIGTERM and SIGKILL when a trial is paused or stopped (default 10).
    #[serde(default = "default_grace")]
    pub grace_seconds: f64,
    /// GPUs per trial (default 0): local slots get `CUDA_VISIBLE_DEVICES`, Slurm jobs
    /// `--gres=gpu:N`.
    #[serde(default)]
    pub gpus_per_trial: u32,
    /// Where trials run (default: local processes).
    #[serde(default)]
    pub executor: ExecutorSpec,
    /// The licence to write into recordings of this training (default: "unspecified").
    #[serde(default)]
    pub licence: Option<String>,
}

/// How `hposim record` and `hposim validate` choose the configurations they record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Design {
    /// Scrambled Sobol points.
    #[default]
    Sobol,
    /// Uniform random points.
    Random,
    /// A grid (first `configs` points of the sampler's grid, shuffled).
    Grid,
}

impl Design {
    /// The name used in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Design::Sobol => "sobol",
            Design::Random => "random",
            Design::Grid => "grid",
        }
    }
}

/// The `[record]` table: defaults of `hposim record` and the recording step of validation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordSpec {
    /// Configurations to record (default 16).
    #[serde(default = "default_configs")]
    pub configs: u32,
    /// How they are chosen (default sobol).
    #[serde(default)]
    pub design: Design,
    /// How many of them are paused halfway and resumed from their checkpoints, so that the
    /// resume cost is measured rather than guessed (default: half of `configs`, rounded up;
    /// 0 turns it off; none without checkpointing).
    #[serde(default)]
    pub resumes: Option<u32>,
}

impl Default for RecordSpec {
    fn default() -> Self {
        Self { configs: default_configs(), design: Design::default(), resumes: None }
    }
}

/// Optional tracking of every trial in an MLflow server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlflowSpec {
    /// The server, `http://host:port` or `https://host:port` (credentials and TLS settings from
    /// MLflow's environment variables: [`crate::mlflow::Connection`]).
    pub tracking_uri: String,
    /// Experiment name (default: the study's name).
    #[serde(default)]
    pub experiment: Option<String>,
}

/// A live experiment file, as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveSpec {
    /// Name (default: the file's stem).
    #[serde(default)]
    pub name: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Experiment seed (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Repetitions of every strategy (default 1).
    #[serde(default = "default_one")]
    pub seeds: u32,
    /// Worker slots (default 1).
    #[serde(default = "default_one")]
    pub workers: u32,
    /// Whether paused trials resume from their checkpoints (default true).
    #[serde(default = "default_true")]
    pub checkpointing: bool,
    /// When each study stops (at least one limit).
    #[serde(default)]
    pub budget: Budget,
    /// The training.
    pub training: TrainingSpec,
    /// The strategies, run one after another.
    #[serde(default)]
    pub strategies: Vec<StrategySpec>,
    /// Recording settings.
    #[serde(default)]
    pub record: RecordSpec,
    /// MLflow tracking (optional).
    #[serde(default)]
    pub mlflow: Option<MlflowSpec>,
}

/// A refused live experiment: the file and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct LiveError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong, starting with the key.
    pub message: String,
}

/// A validated live experiment.
#[derive(Clone, Debug)]
pub struct LiveExperiment {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its name.
    pub name: String,
    /// The file's text.
    pub source: String,
    /// The specification.
    pub spec: LiveSpec,
    /// The search space, built.
    pub space: SearchSpace,
    /// The working directory of trials (absolute).
    pub workdir: PathBuf,
}

/// The longest time limit or grace period (about 31 years), so that every duration stays
/// representable.
pub const MAX_SECONDS: f64 = 1e9;

/// Most worker slots a live study may ask for.
pub const MAX_SLOTS: u32 = 4096;

impl LiveExperiment {
    /// Reads and validates the live experiment at `path`.
    pub fn load(path: &Path) -> Result<Self, LiveError> {
        let source = hposim_core::input::read_text(path)
            .map_err(|e| LiveError { path: path.to_owned(), message: format!("cannot read the file: {e}") })?;
        Self::parse(path, &source)
    }

    /// Validates the text `source` of the live experiment at `path`.
    pub fn parse(path: &Path, source: &str) -> Result<Self, LiveError> {
        let fail = |message: String| LiveError { path: path.to_owned(), message };
        let spec: LiveSpec = toml::from_str(source).map_err(|e| fail(e.to_string().trim_end().to_owned()))?;
        let name =
            spec.name.clone().or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned())).unwrap_or_else(|| "study".into());
        hposim_results::default_folder(&name).map_err(|e| fail(format!("name: {e}")))?;
        if spec.workers == 0 || spec.workers > MAX_SLOTS {
            return Err(fail(format!("workers: must lie in 1..={MAX_SLOTS}, got {}", spec.workers)));
        }
        if spec.seeds == 0 {
            return Err(fail("seeds: must be at least 1".into()));
        }
        // A file used only to record needs no budget; studies do.
        if let Err((key, message)) = spec.budget.validate()
            && !spec.strategies.is_empty()
        {
            let key = if key.is_empty() { "budget".to_owned() } else { format!("budget.{key}") };
            return Err(fail(format!("{key}: {message}")));
        }
        let training = &spec.training;
        hposim_results::check_name(&training.name).map_err(|e| fail(format!("training.name: {e}")))?;
        if training.command.is_empty() || training.command[0].is_empty() {
            return Err(fail(
                "training.command: give the program and its arguments, e.g. [\"python3\", \"train.py\", \"--lr={lr}\"]".into(),
            ));
        }
        if training.objectives.is_empty() {
            return Err(fail("training.objectives: give at least one { name, direction }".into()));
        }
        let fidelity = &training.fidelity;
        if fidelity.min == 0 || fidelity.min > fidelity.max {
            return Err(fail(format!("training.fidelity: need 1 <= min <= max, got min {} and max {}", fidelity.min, fidelity.max)));
        }
        let space = SearchSpace::new(&training.space).map_err(|e| fail(format!("training.space: {e}")))?;
        let unknown = crate::protocol::unknown_placeholders(&training.command, &space);
        if !unknown.is_empty() {
            return Err(fail(format!(
                "training.command: unknown placeholder(s) {}; use a parameter of training.space or one of trial, checkpoint_dir, start_step, until, seed (write {{{{ and }}}} for literal braces)",
                unknown.iter().map(|u| format!("{{{u}}}")).collect::<Vec<_>>().join(", ")
            )));
        }
        if let Some(limit) = training.time_limit_seconds
            && !(limit > 0.0 && limit <= MAX_SECONDS)
        {
            return Err(fail(format!("training.time_limit_seconds: must lie in (0, {MAX_SECONDS}] seconds, got {limit}")));
        }
        if !(training.grace_seconds >= 0.0 && training.grace_seconds <= MAX_SECONDS) {
            return Err(fail(format!("training.grace_seconds: must lie in [0, {MAX_SECONDS}] seconds, got {}", training.grace_seconds)));
        }
        if let ExecutorSpec::Slurm { poll_seconds: Some(p), .. } = &training.executor
            && !(*p > 0.0 && *p <= 3600.0)
        {
            return Err(fail(format!("training.executor.poll_seconds: must lie in (0, 3600] seconds, got {p}")));
        }
        if spec.record.configs == 0 {
            return Err(fail("record.configs: must be at least 1".into()));
        }
        if let Some(mlflow) = &spec.mlflow
            && !(mlflow.tracking_uri.starts_with("http://") || mlflow.tracking_uri.starts_with("https://"))
        {
            return Err(fail(format!("mlflow.tracking_uri: must be an http:// or https:// address, got {:?}", mlflow.tracking_uri)));
        }
        let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let workdir = base.join(training.workdir.as_deref().unwrap_or(Path::new(".")));
        let workdir =
            workdir.canonicalize().map_err(|e| fail(format!("training.workdir: {} is not a usable directory ({e})", workdir.display())))?;
        for (i, strategy) in spec.strategies.iter().enumerate() {
            let at = format!("strategies[{i}] ({:?})", strategy.name);
            hposim_results::check_name(&strategy.name).map_err(|e| fail(format!("{at}.name: {e}")))?;
            if spec.strategies[..i].iter().any(|s| s.name == strategy.name) {
                return Err(fail(format!("{at}.name: strategy name {:?} is used twice", strategy.name)));
            }
            let setting = Setting {
                space: &space,
                fidelity,
                objectives: &training.objectives,
                checkpointing: strategy.checkpointing.unwrap_or(spec.checkpointing),
                trial_budget: spec.budget.trials.is_some(),
                // Real processes keep only their latest checkpoint (PROTOCOL.md), so no trial
                // can start from another's checkpoint at a given step yet.
                cannot_change_configurations: Some(
                    "live studies cannot do yet (a trial's checkpoint directory holds only its latest step); run it with `hposim run`",
                ),
            };
            check_strategy(strategy, &setting).map_err(|e| if e.starts_with("budget.") { fail(e) } else { fail(format!("{at}.{e}")) })?;
        }
        Ok(Self { path: path.to_owned(), name, source: source.to_owned(), spec, space, workdir })
    }

    /// Whether strategy `index` resumes paused trials from checkpoints.
    pub fn checkpointing(&self, index: usize) -> bool {
        self.spec.strategies.get(index).and_then(|s| s.checkpointing).unwrap_or(self.spec.checkpointing)
    }
}

//! The trial protocol (`crates/runner/PROTOCOL.md`): how a training command is started, what it
//! is told, and how its step reports are read.
//!
//! A command is an argument vector, never a shell string: `{name}` in an argument is replaced by
//! the value of hyperparameter `name` (an argument naming an inactive parameter is dropped), and
//! the whole configuration also arrives as JSON in [`ENV_CONFIG`]. A line of standard output
//! whose first non-blank character is `{` is a step report, `{"step": N, "<metric>": value, ...}`;
//! every other line belongs to the trial's log.

use hposim_core::{Config, Objective, SearchSpace, Value};
use serde_json::{Map, Value as Json};
use std::path::Path;

/// The configuration, a JSON object of the active hyperparameters.
pub const ENV_CONFIG: &str = "HPOSIM_CONFIG";
/// The trial id (0-based, in start order).
pub const ENV_TRIAL: &str = "HPOSIM_TRIAL";
/// The trial's checkpoint directory (absolute; it exists and is the trial's alone).
pub const ENV_CHECKPOINT_DIR: &str = "HPOSIM_CHECKPOINT_DIR";
/// Steps already recorded: the trial reports steps from this plus one.
pub const ENV_START_STEP: &str = "HPOSIM_START_STEP";
/// The last step to train: the trial exits with status 0 after reporting it.
pub const ENV_UNTIL: &str = "HPOSIM_UNTIL";
/// A seed derived from the experiment seed and the configuration, so that every run of a
/// configuration (recording, replay, live study) can train identically.
pub const ENV_SEED: &str = "HPOSIM_SEED";
/// The full fidelity of the study.
pub const ENV_MAX_STEP: &str = "HPOSIM_MAX_STEP";
/// An optional numeric field of a step report: the seconds the step's own training took (from
/// the start of its training to its report). With it, hposim tells a launch's start-up or
/// resume (the rest of the time from launch to the first report) from training, in the trace's
/// `launch_seconds` column and in `hposim record`'s overhead measurement.
pub const STEP_SECONDS: &str = "step_seconds";

/// A substituted argument vector: `{param}` placeholders replaced by the configuration's values,
/// `{trial}`, `{checkpoint_dir}`, `{start_step}`, `{until}` and `{seed}` by the launch's. An
/// argument that names an inactive parameter is dropped; `{{` and `}}` stand for braces.
pub fn substitute(command: &[String], space: &SearchSpace, config: &Config, launch: &LaunchValues<'_>) -> Vec<String> {
    let json = config.to_json(space);
    command.iter().filter_map(|arg| substitute_one(arg, space, config, &json, launch)).collect()
}

/// The per-launch values a command may name.
#[derive(Clone, Copy, Debug)]
pub struct LaunchValues<'a> {
    /// Trial id.
    pub trial: u32,
    /// Checkpoint directory.
    pub checkpoint_dir: &'a Path,
    /// Steps already recorded.
    pub start_step: u32,
    /// Last step to train.
    pub until: u32,
    /// The trial's seed.
    pub seed: u64,
}

fn substitute_one(arg: &str, space: &SearchSpace, config: &Config, json: &Map<String, Json>, launch: &LaunchValues<'_>) -> Option<String> {
    let mut out = String::with_capacity(arg.len());
    let mut rest = arg;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        let Some(end) = tail.find('}').filter(|_| tail.starts_with('{')) else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
            continue;
        };
        let name = &tail[1..end];
        match placeholder(name, space, config, json, launch) {
            Placeholder::Value(value) => out.push_str(&value),
            Placeholder::Inactive => return None,
            Placeholder::Unknown => out.push_str(&tail[..=end]),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

enum Placeholder {
    Value(String),
    Inactive,
    Unknown,
}

fn placeholder(name: &str, space: &SearchSpace, config: &Config, json: &Map<String, Json>, launch: &LaunchValues<'_>) -> Placeholder {
    let value = match name {
        "trial" => launch.trial.to_string(),
        "checkpoint_dir" => launch.checkpoint_dir.display().to_string(),
        "start_step" => launch.start_step.to_string(),
        "until" => launch.until.to_string(),
        "seed" => launch.seed.to_string(),
        _ => match space.index_of(name) {
            Some(index) if config.get(index) == Value::Inactive => return Placeholder::Inactive,
            Some(_) => match json.get(name) {
                Some(Json::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => return Placeholder::Inactive,
            },
            None => return Placeholder::Unknown,
        },
    };
    Placeholder::Value(value)
}

/// The names in `{...}` placeholders of `command` that are neither parameters of `space` nor
/// launch values: almost certainly typos, refused when a study is loaded.
pub fn unknown_placeholders(command: &[String], space: &SearchSpace) -> Vec<String> {
    const LAUNCH: [&str; 5] = ["trial", "checkpoint_dir", "start_step", "until", "seed"];
    let mut unknown = Vec::new();
    for arg in command {
        let cleaned = arg.replace("{{", "").replace("}}", "");
        let mut rest = cleaned.as_str();
        while let Some(i) = rest.find('{') {
            let tail = &rest[i + 1..];
            let Some(end) = tail.find('}') else { break };
            let name = &tail[..end];
            if !LAUNCH.contains(&name) && space.index_of(name).is_none() && !unknown.iter().any(|u| u == name) {
                unknown.push(name.to_owned());
            }
            rest = &tail[end + 1..];
        }
    }
    unknown
}

/// What one line of a trial's standard output is.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    /// Not a step report: it goes to the trial's log.
    Log,
    /// A step report.
    Step(StepReport),
}

/// A step report: the step and one value per objective (NaN or infinite values are kept: the
/// trial diverged).
#[derive(Clone, Debug, PartialEq)]
pub struct StepReport {
    /// The step completed (1-based).
    pub step: u32,
    /// One value per objective, in the study's objective order.
    pub metrics: Vec<f64>,
    /// Other numeric fields of the report (logged to the tracker, not used by the strategy).
    pub extra: Vec<(String, f64)>,
}

/// Reads one line of standard output. A line whose first non-blank character is `{` must be a
/// JSON object with an integer `step` ≥ 1 and a number for every objective (`NaN`, `Infinity`
/// and `null` are accepted as a diverged metric); anything else about it is an error that says
/// what is wrong.
pub fn parse_line(line: &str, objectives: &[Objective]) -> Result<Line, String> {
    let trimmed = line.trim();
    if !trimmed.starts_with('{') {
        return Ok(Line::Log);
    }
    // Python's json.dumps writes NaN and Infinity as bare words, which JSON does not allow.
    let normalised = normalise_non_finite(trimmed);
    let object: Map<String, Json> = serde_json::from_str(&normalised).map_err(|e| format!("not a JSON object ({e})"))?;
    let step = match object.get("step") {
        Some(Json::Number(n)) => n.as_u64().filter(|&s| s >= 1 && s <= u64::from(u32::MAX)),
        _ => None,
    }
    .ok_or_else(|| "\"step\" must be an integer of at least 1".to_owned())? as u32;
    let mut metrics = Vec::with_capacity(objectives.len());
    for objective in objectives {
        let value = match object.get(&objective.name) {
            Some(Json::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
            Some(Json::Null) => f64::NAN,
            Some(Json::String(s)) if s == NAN_MARK => f64::NAN,
            Some(Json::String(s)) if s == INF_MARK => f64::INFINITY,
            Some(Json::String(s)) if s == NEG_INF_MARK => f64::NEG_INFINITY,
            Some(other) => return Err(format!("metric {:?} must be a number, got {other}", objective.name)),
            None => return Err(format!("the report has no metric {:?} (objective of the study)", objective.name)),
        };
        metrics.push(value);
    }
    let extra = object
        .iter()
        .filter(|(key, _)| key.as_str() != "step" && !objectives.iter().any(|o| &o.name == *key))
        .filter_map(|(key, value)| value.as_f64().map(|v| (key.clone(), v)))
        .collect();
    Ok(Line::Step(StepReport { step, metrics, extra }))
}

/// The report line of step `step` with `metrics` (one per objective, in order): the JSON object
/// a training command prints, with Python's words for non-finite values, and every number
/// written so that it reads back exactly.
pub fn report_line(step: u32, objectives: &[Objective], metrics: &[f64]) -> String {
    let mut line = format!("{{\"step\": {step}");
    for (objective, value) in objectives.iter().zip(metrics) {
        let name = Json::String(objective.name.clone()).to_string();
        let number = match *value {
            v if v.is_nan() => "NaN".to_owned(),
            v if v == f64::INFINITY => "Infinity".to_owned(),
            v if v == f64::NEG_INFINITY => "-Infinity".to_owned(),
            // Rust writes the shortest decimal that reads back as the same float.
            v => format!("{v:?}"),
        };
        line.push_str(&format!(", {name}: {number}"));
    }
    line.push('}');
    line
}

const NAN_MARK: &str = "\u{0}nan";
const INF_MARK: &str = "\u{0}inf";
const NEG_INF_MARK: &str = "\u{0}-inf";

/// Replaces the bare words `NaN`, `Infinity` and `-Infinity` outside strings by marker strings.
fn normalise_non_finite(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let replaced =
            [("-Infinity", NEG_INF_MARK), ("Infinity", INF_MARK), ("NaN", NAN_MARK)].into_iter().find(|(word, _)| rest.starts_with(word));
        if let Some((word, mark)) = replaced {
            out.push_str(&serde_json::to_string(mark).unwrap_or_default());
            rest = &rest[word.len()..];
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hposim_core::{Choice, ConditionSpec, ParamSpec};

    fn objectives() -> Vec<Objective> {
        vec![Objective::minimize("loss")]
    }

    #[test]
    fn step_reports_are_read_with_python_style_non_finite_values() {
        let line = parse_line(r#"{"step": 3, "loss": 0.25, "acc": 0.9, "note": "x NaN y"}"#, &objectives());
        assert_eq!(line, Ok(Line::Step(StepReport { step: 3, metrics: vec![0.25], extra: vec![("acc".into(), 0.9)] })));
        let Ok(Line::Step(report)) = parse_line(r#"{"step": 4, "loss": NaN}"#, &objectives()) else { panic!("not a step") };
        assert!(report.metrics[0].is_nan());
        let Ok(Line::Step(report)) = parse_line(r#"  {"loss": -Infinity, "step": 1}"#, &objectives()) else { panic!("not a step") };
        assert_eq!(report.metrics[0], f64::NEG_INFINITY);
        assert_eq!(parse_line("epoch 3: loss 0.2 {not json}", &objectives()), Ok(Line::Log));
    }

    #[test]
    fn malformed_reports_say_what_is_wrong() {
        let message = |line: &str| parse_line(line, &objectives()).err().unwrap_or_default();
        assert!(message("{garbage").contains("not a JSON object"));
        assert!(message(r#"{"step": 0, "loss": 1}"#).contains("\"step\" must be an integer"));
        assert!(message(r#"{"step": 1.5, "loss": 1}"#).contains("\"step\" must be an integer"));
        assert!(message(r#"{"step": 1}"#).contains("no metric \"loss\""));
        assert!(message(r#"{"step": 1, "loss": "low"}"#).contains("must be a number"));
    }

    #[test]
    fn placeholders_are_substituted_per_argument_and_never_through_a_shell() {
        let space = SearchSpace::new(&[
            ParamSpec::Float { name: "lr".into(), low: 1e-4, high: 1.0, log: true, condition: None },
            ParamSpec::Categorical {
                name: "opt".into(),
                choices: vec![Choice::Text("sgd".into()), Choice::Text("$(rm -rf ~)".into())],
                condition: None,
            },
            ParamSpec::Float {
                name: "momentum".into(),
                low: 0.0,
                high: 1.0,
                log: false,
                condition: Some(ConditionSpec { parent: "opt".into(), values: vec![Choice::Text("sgd".into())] }),
            },
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let config = Config::new(vec![Value::Float(0.5), Value::Choice(1), Value::Inactive]);
        let command: Vec<String> = [
            "train.py",
            "--lr={lr}",
            "--opt",
            "{opt}",
            "--momentum={momentum}",
            "{{literal}}",
            "--ckpt={checkpoint_dir}/{trial}",
            "{nope}",
        ]
        .map(String::from)
        .to_vec();
        let launch = LaunchValues { trial: 7, checkpoint_dir: Path::new("/s/t7"), start_step: 2, until: 9, seed: 5 };
        assert_eq!(
            substitute(&command, &space, &config, &launch),
            ["train.py", "--lr=0.5", "--opt", "$(rm -rf ~)", "{literal}", "--ckpt=/s/t7/7", "{nope}"]
        );
        assert_eq!(unknown_placeholders(&command, &space), ["nope"]);
    }
}

//! Progress of live studies (`hposim tune`, `record`, `validate`): how many trials are running,
//! paused, done, stopped and failed, and the best result so far. On a terminal it is one line
//! redrawn on stderr; otherwise (a log file, CI) a plain line per event on stdout: a trial
//! started, paused, stopped, finished or failed, or a new best. It listens as a
//! [`Tracker`] does, and passes every call on to the experiment's own tracker (MLflow).

use hposim_core::Objective;
use hposim_runner::tracker::Tracker;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Instant;

/// Where a trial stands, as far as progress goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Running,
    Paused,
    Done,
    Stopped,
    Failed,
}

/// The best result so far: whether at full fidelity, value, trial, step.
type Best = (bool, f64, u32, u32);

/// A live study's progress display.
pub struct Progress {
    inner: Option<Box<dyn Tracker>>,
    objective: Objective,
    max: u32,
    unit: String,
    study: String,
    states: HashMap<u32, State>,
    best: Option<Best>,
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Progress {
    /// Progress of studies ranking trials by `objective` up to full fidelity `max` (steps of
    /// `unit`), passing every call on to `inner`.
    pub fn new(objective: Objective, max: u32, unit: &str, inner: Option<Box<dyn Tracker>>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed}] {msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Self {
            inner,
            objective,
            max,
            unit: unit.to_owned(),
            study: String::new(),
            states: HashMap::new(),
            best: None,
            bar,
            started: Instant::now(),
        }
    }

    /// The counts and the best so far, as one line.
    fn status(&self) -> String {
        let count = |s: State| self.states.values().filter(|&&x| x == s).count();
        let best = match self.best {
            Some((full, value, trial, step)) => {
                let at = if full { String::new() } else { format!(" at {} {step}", self.unit) };
                format!("best {} {value:.6} (trial {trial}{at})", self.objective.name)
            }
            None => format!("no {} yet", self.objective.name),
        };
        format!(
            "{}: {} running, {} paused, {} done, {} stopped, {} failed; {best}",
            self.study,
            count(State::Running),
            count(State::Paused),
            count(State::Done),
            count(State::Stopped),
            count(State::Failed)
        )
    }

    /// Shows `event` (with the status): a plain line, or the redrawn line on a terminal
    /// (where failures are printed above it too).
    fn event(&self, event: &str, important: bool) {
        let status = self.status();
        match &self.bar {
            Some(bar) => {
                if important {
                    bar.println(event);
                }
                bar.set_message(status);
            }
            None => {
                crate::say!("[{:.1} s] {event} | {status}", self.started.elapsed().as_secs_f64());
            }
        }
    }

    /// Ends the redrawn line (nothing to do for plain lines).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn pass(&mut self, call: impl FnOnce(&mut dyn Tracker) -> Result<(), String>) -> Result<(), String> {
        match self.inner.as_deref_mut() {
            Some(inner) => call(inner),
            None => Ok(()),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Tracker for Progress {
    fn begin_study(&mut self, experiment: &str, strategy: &str, cell: &str) -> Result<(), String> {
        let seed = cell.split("__").find_map(|part| part.strip_prefix('s').and_then(|s| s.parse::<u32>().ok()));
        self.study = match seed {
            Some(seed) => format!("{strategy} seed {seed}"),
            None => strategy.to_owned(),
        };
        self.states.clear();
        self.best = None;
        self.pass(|t| t.begin_study(experiment, strategy, cell))
    }

    fn trial_started(&mut self, trial: u32, config: &Map<String, Json>) -> Result<(), String> {
        self.states.insert(trial, State::Running);
        self.event(&format!("trial {trial} started: {}", Json::Object(config.clone())), false);
        self.pass(|t| t.trial_started(trial, config))
    }

    fn step(
        &mut self,
        trial: u32,
        step: u32,
        metrics: &[f64],
        extra: &[(String, f64)],
        decision: &str,
        bracket: Option<u64>,
    ) -> Result<(), String> {
        let previous = self.states.insert(trial, State::Running);
        if previous == Some(State::Paused) {
            self.event(&format!("trial {trial} resumed"), false);
        }
        let mut improved = false;
        if let Some(&value) = metrics.first().filter(|v| v.is_finite()) {
            let full = step >= self.max;
            let better = match self.best {
                None => true,
                Some((best_full, best, _, _)) => hposim_core::better_result(&self.objective, (full, value), (best_full, best)),
            };
            if better {
                self.best = Some((full, value, trial, step));
                improved = true;
            }
        }
        let state = match decision {
            "pause" | "cut" => Some(State::Paused),
            "stop" => Some(State::Stopped),
            "done" => Some(State::Done),
            _ => None,
        };
        let value = metrics.first().map_or("?".to_owned(), |v| format!("{v:.6}"));
        if let Some(state) = state {
            self.states.insert(trial, state);
            let what = match state {
                State::Paused => "paused",
                State::Stopped => "stopped",
                _ => "finished",
            };
            self.event(&format!("trial {trial} {what} at {} {step} ({} {value})", self.unit, self.objective.name), false);
        } else if improved {
            self.event(&format!("trial {trial}: new best {} {value} at {} {step}", self.objective.name, self.unit), false);
        }
        self.pass(|t| t.step(trial, step, metrics, extra, decision, bracket))
    }

    fn trial_ended(&mut self, trial: u32, status: &str) -> Result<(), String> {
        if status == "FAILED" {
            self.states.insert(trial, State::Failed);
            self.event(&format!("trial {trial} failed"), true);
        }
        self.pass(|t| t.trial_ended(trial, status))
    }
}

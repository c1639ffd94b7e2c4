//! Tracking in an MLflow server over its REST API 2.0 (plain HTTP; tested against
//! `mlflow server` 3.17 with a SQLite store, `.ci/mlflow-server.sh`).
//!
//! One MLflow experiment per study (the experiment file's name, or `mlflow.experiment`), one run
//! per trial (`trial-0007`), the configuration as parameters, every step's metrics with its
//! `step`, and tags `hposim.strategy`, `hposim.cell`, `hposim.trial`, `hposim.bracket`,
//! `hposim.rung` (the fidelity of the latest rung decision) and `hposim.decision`. Rung,
//! bracket and decision are tags, not parameters, because MLflow parameters cannot change and
//! these do. Non-finite metrics are sent as the strings MLflow accepts (`"NaN"`,
//! `"Infinity"`): a bare NaN would silently corrupt the batch, and `null` is refused.

use crate::spec::MlflowSpec;
use crate::tracker::Tracker;
use serde_json::{Map, Value as Json, json};
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// An MLflow tracking client.
pub struct Mlflow {
    base: String,
    experiment_name: String,
    agent: ureq::Agent,
    experiment_id: Option<String>,
    strategy: String,
    cell: String,
    /// MLflow run id of each trial of the current study.
    runs: HashMap<u32, String>,
    /// Metric names of the objectives, in order (set by the first step).
    names: Vec<String>,
}

fn millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn metric_value(x: f64) -> Json {
    if x.is_nan() {
        json!("NaN")
    } else if x == f64::INFINITY {
        json!("Infinity")
    } else if x == f64::NEG_INFINITY {
        json!("-Infinity")
    } else {
        json!(x)
    }
}

impl Mlflow {
    /// A client for `spec`, logging under `spec.experiment` or else `study`.
    pub fn new(spec: &MlflowSpec, study: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        Self {
            base: format!("{}/api/2.0/mlflow", spec.tracking_uri.trim_end_matches('/')),
            experiment_name: spec.experiment.clone().unwrap_or_else(|| study.to_owned()),
            agent,
            experiment_id: None,
            strategy: String::new(),
            cell: String::new(),
            runs: HashMap::new(),
            names: Vec::new(),
        }
    }

    /// Declares the objectives' metric names (the step reports' values come in this order).
    pub fn with_objectives(mut self, names: Vec<String>) -> Self {
        self.names = names;
        self
    }

    fn call(&self, endpoint: &str, body: Option<Json>, query: &[(&str, &str)]) -> Result<(u16, Json), String> {
        let url = format!("{}/{endpoint}", self.base);
        let response = match body {
            Some(body) => self.agent.post(&url).send_json(body),
            None => {
                let mut request = self.agent.get(&url);
                for (k, v) in query {
                    request = request.query(*k, *v);
                }
                request.call()
            }
        };
        let mut response = response.map_err(|e| format!("{endpoint}: {e}"))?;
        let status = response.status().as_u16();
        let json: Json = response.body_mut().read_json().unwrap_or(Json::Null);
        Ok((status, json))
    }

    fn post(&self, endpoint: &str, body: Json) -> Result<Json, String> {
        let (status, json) = self.call(endpoint, Some(body), &[])?;
        if status != 200 {
            return Err(format!("{endpoint}: HTTP {status}: {}", json.get("message").and_then(Json::as_str).unwrap_or("")));
        }
        Ok(json)
    }

    fn experiment_id(&mut self) -> Result<String, String> {
        if let Some(id) = &self.experiment_id {
            return Ok(id.clone());
        }
        let (status, json) = self.call("experiments/get-by-name", None, &[("experiment_name", &self.experiment_name)])?;
        let id = match (status, json["experiment"]["experiment_id"].as_str()) {
            (200, Some(id)) => id.to_owned(),
            _ => match self.post("experiments/create", json!({ "name": self.experiment_name })) {
                Ok(created) => created["experiment_id"].as_str().ok_or("experiments/create returned no experiment_id")?.to_owned(),
                // Another study created it meanwhile (RESOURCE_ALREADY_EXISTS): use that one.
                Err(error) => {
                    let (_, json) = self.call("experiments/get-by-name", None, &[("experiment_name", &self.experiment_name)])?;
                    json["experiment"]["experiment_id"].as_str().ok_or(error)?.to_owned()
                }
            },
        };
        self.experiment_id = Some(id.clone());
        Ok(id)
    }

    /// The run of `trial`: created by this process, or (after `hposim tune --resume`) found
    /// by its tags.
    fn run_of(&mut self, trial: u32) -> Result<String, String> {
        if let Some(run) = self.runs.get(&trial) {
            return Ok(run.clone());
        }
        let experiment_id = self.experiment_id()?;
        let filter = format!("tags.`hposim.cell` = '{}' and tags.`hposim.trial` = '{trial}'", self.cell.replace('\'', ""));
        let found = self.post("runs/search", json!({ "experiment_ids": [experiment_id], "filter": filter, "max_results": 1 }))?;
        let run = found["runs"][0]["info"]["run_id"].as_str().ok_or_else(|| format!("trial {trial} has no MLflow run"))?.to_owned();
        self.runs.insert(trial, run.clone());
        Ok(run)
    }
}

impl Tracker for Mlflow {
    fn begin_study(&mut self, _experiment: &str, strategy: &str, cell: &str) -> Result<(), String> {
        self.strategy = strategy.to_owned();
        self.cell = cell.to_owned();
        self.runs.clear();
        self.experiment_id().map(|_| ())
    }

    fn trial_started(&mut self, trial: u32, config: &Map<String, Json>) -> Result<(), String> {
        let experiment_id = self.experiment_id()?;
        let tags = json!([
            { "key": "hposim.strategy", "value": self.strategy },
            { "key": "hposim.cell", "value": self.cell },
            { "key": "hposim.trial", "value": trial.to_string() },
        ]);
        let created = self.post(
            "runs/create",
            json!({ "experiment_id": experiment_id, "run_name": format!("trial-{trial:04}"), "start_time": millis(), "tags": tags }),
        )?;
        let run_id = created["run"]["info"]["run_id"].as_str().ok_or("runs/create returned no run_id")?.to_owned();
        let params: Vec<Json> = config
            .iter()
            .map(|(k, v)| json!({ "key": k, "value": match v { Json::String(s) => s.clone(), other => other.to_string() } }))
            .collect();
        for chunk in params.chunks(100) {
            self.post("runs/log-batch", json!({ "run_id": run_id, "params": chunk }))?;
        }
        self.runs.insert(trial, run_id);
        Ok(())
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
        let run_id = self.run_of(trial)?;
        let now = millis();
        let named = self.names.iter().zip(metrics).map(|(k, v)| (k.as_str(), *v));
        let values: Vec<Json> = named
            .chain(extra.iter().map(|(k, v)| (k.as_str(), *v)))
            .map(|(k, v)| json!({ "key": k, "value": metric_value(v), "timestamp": now, "step": step }))
            .collect();
        let mut tags = vec![json!({ "key": "hposim.decision", "value": decision })];
        if decision != "continue" {
            tags.push(json!({ "key": "hposim.rung", "value": step.to_string() }));
        }
        if let Some(bracket) = bracket {
            tags.push(json!({ "key": "hposim.bracket", "value": bracket.to_string() }));
        }
        self.post("runs/log-batch", json!({ "run_id": run_id, "metrics": values, "tags": tags })).map(|_| ())
    }

    fn trial_ended(&mut self, trial: u32, status: &str) -> Result<(), String> {
        let run_id = self.run_of(trial)?;
        self.post("runs/update", json!({ "run_id": run_id, "status": status, "end_time": millis() })).map(|_| ())
    }
}

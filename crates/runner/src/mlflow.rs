//! Tracking in an MLflow server over its REST API 2.0, over HTTP or HTTPS (tested against
//! `mlflow server` 3.17 with a SQLite store, `.ci/mlflow-server.sh`, and an HTTPS server with a
//! certificate of its own, `tests/mlflow.rs`).
//!
//! Authentication and TLS follow the environment variables MLflow's own clients read
//! ([`Connection::from_env`]): `MLFLOW_TRACKING_TOKEN` (a bearer token), or
//! `MLFLOW_TRACKING_USERNAME` and `MLFLOW_TRACKING_PASSWORD` (basic authentication);
//! `MLFLOW_TRACKING_SERVER_CERT_PATH` (a PEM file of the certificate authorities to trust instead
//! of the built-in web roots), `MLFLOW_TRACKING_CLIENT_CERT_PATH` (a PEM file with the client's
//! certificate and key), `MLFLOW_TRACKING_INSECURE_TLS=true` (no certificate verification).
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

/// How to reach the server besides its address: credentials and TLS settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Connection {
    /// `MLFLOW_TRACKING_TOKEN`: sent as `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// `MLFLOW_TRACKING_USERNAME` and `MLFLOW_TRACKING_PASSWORD`: basic authentication.
    pub basic: Option<(String, String)>,
    /// `MLFLOW_TRACKING_SERVER_CERT_PATH`: certificate authorities to trust (PEM).
    pub server_cert: Option<std::path::PathBuf>,
    /// `MLFLOW_TRACKING_CLIENT_CERT_PATH`: the client's certificate and key (PEM).
    pub client_cert: Option<std::path::PathBuf>,
    /// `MLFLOW_TRACKING_INSECURE_TLS`: skip certificate verification.
    pub insecure: bool,
}

impl Connection {
    /// The settings of the environment variables MLflow's clients read, looked up with `var`
    /// (`std::env::var` in use; a map in tests).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Self {
        let set = |name: &str| var(name).filter(|v| !v.is_empty());
        Self {
            token: set("MLFLOW_TRACKING_TOKEN"),
            basic: set("MLFLOW_TRACKING_USERNAME").map(|user| (user, set("MLFLOW_TRACKING_PASSWORD").unwrap_or_default())),
            server_cert: set("MLFLOW_TRACKING_SERVER_CERT_PATH").map(Into::into),
            client_cert: set("MLFLOW_TRACKING_CLIENT_CERT_PATH").map(Into::into),
            insecure: set("MLFLOW_TRACKING_INSECURE_TLS").is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1"),
        }
    }

    /// The `Authorization` header, if any.
    fn authorization(&self) -> Option<String> {
        use base64::Engine as _;
        match (&self.token, &self.basic) {
            (Some(token), _) => Some(format!("Bearer {token}")),
            (None, Some((user, password))) => {
                Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))))
            }
            (None, None) => None,
        }
    }

    /// The HTTP agent: the built-in web roots (or the given authorities), the client
    /// certificate if any. Errors name the variable and the file.
    fn agent(&self) -> Result<ureq::Agent, String> {
        use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};
        let read = |variable: &str, path: &std::path::Path| {
            std::fs::read(path).map_err(|e| format!("{variable}: cannot read {}: {e}", path.display()))
        };
        let mut tls = TlsConfig::builder().disable_verification(self.insecure);
        if let Some(path) = &self.server_cert {
            let pem = read("MLFLOW_TRACKING_SERVER_CERT_PATH", path)?;
            let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(PemItem::Certificate(cert)) => Some(cert),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(format!("MLFLOW_TRACKING_SERVER_CERT_PATH: {} holds no PEM certificate", path.display()));
            }
            tls = tls.root_certs(RootCerts::new_with_certs(&certs));
        }
        if let Some(path) = &self.client_cert {
            let pem = read("MLFLOW_TRACKING_CLIENT_CERT_PATH", path)?;
            let mut certs = Vec::new();
            let mut key = None;
            for item in ureq::tls::parse_pem(&pem) {
                match item {
                    Ok(PemItem::Certificate(cert)) => certs.push(cert),
                    Ok(PemItem::PrivateKey(k)) => key = Some(k),
                    _ => {}
                }
            }
            let key: PrivateKey<'static> = key.ok_or_else(|| {
                format!(
                    "MLFLOW_TRACKING_CLIENT_CERT_PATH: {} holds no private key (put the certificate and its key in one PEM file)",
                    path.display()
                )
            })?;
            if certs.is_empty() {
                return Err(format!("MLFLOW_TRACKING_CLIENT_CERT_PATH: {} holds no PEM certificate", path.display()));
            }
            tls = tls.client_cert(Some(ClientCert::new_with_certs(&certs, key)));
        }
        Ok(ureq::Agent::config_builder().http_status_as_error(false).tls_config(tls.build()).build().into())
    }
}

/// An MLflow tracking client.
pub struct Mlflow {
    base: String,
    authorization: Option<String>,
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
    /// A client for `spec`, logging under `spec.experiment` or else `study`, with the
    /// credentials and TLS settings of the environment ([`Connection::from_env`]).
    pub fn new(spec: &MlflowSpec, study: &str) -> Result<Self, String> {
        Self::connect(spec, study, &Connection::from_env(|name| std::env::var(name).ok()))
    }

    /// [`Mlflow::new`] with explicit credentials and TLS settings.
    pub fn connect(spec: &MlflowSpec, study: &str, connection: &Connection) -> Result<Self, String> {
        let agent = connection.agent()?;
        Ok(Self {
            base: format!("{}/api/2.0/mlflow", spec.tracking_uri.trim_end_matches('/')),
            authorization: connection.authorization(),
            experiment_name: spec.experiment.clone().unwrap_or_else(|| study.to_owned()),
            agent,
            experiment_id: None,
            strategy: String::new(),
            cell: String::new(),
            runs: HashMap::new(),
            names: Vec::new(),
        })
    }

    /// Declares the objectives' metric names (the step reports' values come in this order).
    pub fn with_objectives(mut self, names: Vec<String>) -> Self {
        self.names = names;
        self
    }

    fn call(&self, endpoint: &str, body: Option<Json>, query: &[(&str, &str)]) -> Result<(u16, Json), String> {
        let url = format!("{}/{endpoint}", self.base);
        let auth = self.authorization.as_deref();
        let response = match body {
            Some(body) => {
                let mut request = self.agent.post(&url);
                if let Some(auth) = auth {
                    request = request.header("Authorization", auth);
                }
                request.send_json(body)
            }
            None => {
                let mut request = self.agent.get(&url);
                if let Some(auth) = auth {
                    request = request.header("Authorization", auth);
                }
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

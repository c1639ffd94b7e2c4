//! The MLflow tracking client (`hposim_runner::mlflow::Mlflow`) against a real MLflow server: a
//! study of two trials is reported through the `Tracker` trait, then the experiment, runs,
//! parameters, tags, statuses and metric histories (NaN included) are read back over MLflow's
//! REST API and checked. A second test checks that an unreachable server gives an error, not a
//! panic.
//!
//! The server test needs `HPOSIM_MLFLOW_URI` (e.g. `http://127.0.0.1:5077`). CI starts a server
//! with `.ci/mlflow-server.sh DIR 5077`, sets `HPOSIM_MLFLOW_URI` and `HPOSIM_REQUIRE_MLFLOW=1`,
//! and runs `cargo test -p hposim-runner --test mlflow`. Without `HPOSIM_MLFLOW_URI` the test
//! prints a note and passes, unless `HPOSIM_REQUIRE_MLFLOW=1`, in which case it fails.

use hposim_runner::mlflow::Mlflow;
use hposim_runner::spec::MlflowSpec;
use hposim_runner::tracker::Tracker;
use serde_json::{Map, Value as Json, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// The server's address, or `None` (after a note) when the test should be skipped.
fn server() -> Option<String> {
    match std::env::var("HPOSIM_MLFLOW_URI") {
        Ok(uri) if !uri.trim().is_empty() => Some(uri.trim().trim_end_matches('/').to_owned()),
        _ => {
            assert!(
                std::env::var("HPOSIM_REQUIRE_MLFLOW").as_deref() != Ok("1"),
                "HPOSIM_REQUIRE_MLFLOW=1 but HPOSIM_MLFLOW_URI is unset: start a server with .ci/mlflow-server.sh and set it"
            );
            println!(
                "skipping: this test needs an MLflow server in HPOSIM_MLFLOW_URI (e.g. http://127.0.0.1:5077; CI starts one with .ci/mlflow-server.sh)"
            );
            None
        }
    }
}

/// A plain REST client for checking what the tracker wrote.
struct Rest {
    base: String,
    agent: ureq::Agent,
}

impl Rest {
    fn new(uri: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        Self { base: format!("{uri}/api/2.0/mlflow"), agent }
    }

    fn get(&self, endpoint: &str, query: &[(&str, &str)]) -> Json {
        let mut request = self.agent.get(format!("{}/{endpoint}", self.base));
        for (k, v) in query {
            request = request.query(*k, *v);
        }
        let mut response = request.call().unwrap_or_else(|e| panic!("GET {endpoint}: {e}"));
        let status = response.status().as_u16();
        let body: Json = response.body_mut().read_json().unwrap_or_else(|e| panic!("GET {endpoint}: body: {e}"));
        assert_eq!(status, 200, "GET {endpoint} {query:?}: {body}");
        body
    }

    fn post(&self, endpoint: &str, body: Json) -> Json {
        let mut response =
            self.agent.post(format!("{}/{endpoint}", self.base)).send_json(&body).unwrap_or_else(|e| panic!("POST {endpoint}: {e}"));
        let status = response.status().as_u16();
        let answer: Json = response.body_mut().read_json().unwrap_or_else(|e| panic!("POST {endpoint}: body: {e}"));
        assert_eq!(status, 200, "POST {endpoint} {body}: {answer}");
        answer
    }

    /// `(step, value)` of every point of `key`'s history in `run_id`, by step; NaN comes back as
    /// the string `"NaN"`.
    fn history(&self, run_id: &str, key: &str) -> Vec<(i64, f64)> {
        let body = self.get("metrics/get-history", &[("run_id", run_id), ("metric_key", key)]);
        let mut points: Vec<(i64, f64)> = body["metrics"]
            .as_array()
            .unwrap_or_else(|| panic!("no history for {key}: {body}"))
            .iter()
            .map(|m| {
                let step = m["step"].as_i64().unwrap_or_else(|| panic!("{key}: bad step in {m}"));
                let value = match &m["value"] {
                    Json::Number(n) => n.as_f64().unwrap_or_else(|| panic!("{key}: bad value in {m}")),
                    Json::String(s) if s == "NaN" => f64::NAN,
                    other => panic!("{key}: unexpected value {other} in {m}"),
                };
                (step, value)
            })
            .collect();
        points.sort_by_key(|p| p.0);
        points
    }
}

/// The `key` → `value` pairs of a run's `data.params` or `data.tags`.
fn pairs(run: &Json, field: &str) -> Map<String, Json> {
    run["data"][field]
        .as_array()
        .map(|items| items.iter().filter_map(|p| Some((p["key"].as_str()?.to_owned(), p["value"].clone()))).collect())
        .unwrap_or_default()
}

fn config(pairs: &[(&str, Json)]) -> Map<String, Json> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

#[test]
fn study_is_recorded_in_mlflow() {
    let Some(uri) = server() else { return };
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let experiment = format!("hposim-test-{}-{nanos}", std::process::id());
    let spec = MlflowSpec { tracking_uri: uri.clone(), experiment: Some(experiment.clone()) };
    let mut tracker = Mlflow::new(&spec, "unused-study-name").unwrap_or_else(|e| panic!("{e}")).with_objectives(vec!["val_loss".into()]);

    let ok = |what: &str, r: Result<(), String>| r.unwrap_or_else(|e| panic!("{what}: {e}"));
    ok("begin_study", tracker.begin_study("exp", "asha", "cell-1"));
    ok("trial_started 0", tracker.trial_started(0, &config(&[("lr", json!(0.01)), ("opt", json!("sgd"))])));
    ok("step 0/1", tracker.step(0, 1, &[0.5], &[("acc".into(), 0.8)], "continue", Some(1)));
    ok("step 0/2", tracker.step(0, 2, &[f64::NAN], &[], "stop", Some(1)));
    ok("trial_ended 0", tracker.trial_ended(0, "KILLED"));
    ok("trial_started 1", tracker.trial_started(1, &config(&[("lr", json!(0.1)), ("opt", json!("adam"))])));
    ok("step 1/1", tracker.step(1, 1, &[0.3], &[("acc".into(), 0.9)], "continue", Some(0)));
    ok("trial_ended 1", tracker.trial_ended(1, "FINISHED"));

    let rest = Rest::new(&uri);
    let found = rest.get("experiments/get-by-name", &[("experiment_name", &experiment)]);
    assert_eq!(found["experiment"]["name"], json!(experiment), "{found}");
    let experiment_id = found["experiment"]["experiment_id"].as_str().unwrap_or_else(|| panic!("no experiment_id: {found}")).to_owned();

    let searched = rest.post("runs/search", json!({ "experiment_ids": [experiment_id], "max_results": 100 }));
    let runs = searched["runs"].as_array().unwrap_or_else(|| panic!("no runs: {searched}"));
    let mut names: Vec<&str> = runs.iter().filter_map(|r| r["info"]["run_name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["trial-0000", "trial-0001"], "{searched}");
    let run = |name: &str| -> &Json {
        runs.iter().find(|r| r["info"]["run_name"] == json!(name)).unwrap_or_else(|| panic!("no run {name}: {searched}"))
    };

    let run0 = run("trial-0000");
    let params = pairs(run0, "params");
    assert_eq!(params.get("lr"), Some(&json!("0.01")), "{run0}");
    assert_eq!(params.get("opt"), Some(&json!("sgd")), "{run0}");
    let tags = pairs(run0, "tags");
    for (key, value) in [
        ("hposim.strategy", "asha"),
        ("hposim.cell", "cell-1"),
        ("hposim.trial", "0"),
        ("hposim.bracket", "1"),
        ("hposim.rung", "2"),
        ("hposim.decision", "stop"),
    ] {
        assert_eq!(tags.get(key), Some(&json!(value)), "tag {key} of {run0}");
    }
    assert_eq!(run0["info"]["status"], json!("KILLED"), "{run0}");
    assert!(run0["info"]["end_time"].as_i64().is_some_and(|t| t > 0), "no end_time: {run0}");

    let run0_id = run0["info"]["run_id"].as_str().unwrap_or_else(|| panic!("no run_id: {run0}"));
    let loss = rest.history(run0_id, "val_loss");
    assert_eq!(loss.len(), 2, "{loss:?}");
    assert_eq!(loss[0], (1, 0.5), "{loss:?}");
    assert_eq!(loss[1].0, 2, "{loss:?}");
    assert!(loss[1].1.is_nan(), "{loss:?}");
    assert_eq!(rest.history(run0_id, "acc"), [(1, 0.8)]);

    let run1 = run("trial-0001");
    assert_eq!(run1["info"]["status"], json!("FINISHED"), "{run1}");
    assert!(run1["info"]["end_time"].as_i64().is_some_and(|t| t > 0), "no end_time: {run1}");
    let tags1 = pairs(run1, "tags");
    assert_eq!(tags1.get("hposim.trial"), Some(&json!("1")), "{run1}");
    assert_eq!(tags1.get("hposim.decision"), Some(&json!("continue")), "{run1}");
}

#[test]
fn unreachable_server_is_an_error() {
    let spec = MlflowSpec { tracking_uri: "http://127.0.0.1:9".into(), experiment: None };
    let mut tracker = Mlflow::new(&spec, "unreachable").unwrap_or_else(|e| panic!("{e}")).with_objectives(vec!["val_loss".into()]);
    let result = tracker.begin_study("exp", "asha", "cell-1");
    assert!(result.is_err(), "{result:?}");
}

#[test]
fn a_resumed_tracker_finds_the_runs_of_trials_started_before_the_kill() {
    let Some(uri) = server() else { return };
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let experiment = format!("hposim-resume-{}-{nanos}", std::process::id());
    let spec = MlflowSpec { tracking_uri: uri.clone(), experiment: Some(experiment.clone()) };
    let ok = |what: &str, r: Result<(), String>| r.unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut first = Mlflow::new(&spec, "study").unwrap_or_else(|e| panic!("{e}")).with_objectives(vec!["val_loss".into()]);
    ok("begin_study", first.begin_study("exp", "asha", "cell-r"));
    ok("trial_started 3", first.trial_started(3, &config(&[("lr", json!(0.5))])));
    ok("step 3/1", first.step(3, 1, &[0.7], &[], "continue", None));
    // `hposim tune` is killed here; the resumed process has a new client.
    let mut resumed = Mlflow::new(&spec, "study").unwrap_or_else(|e| panic!("{e}")).with_objectives(vec!["val_loss".into()]);
    ok("begin_study again", resumed.begin_study("exp", "asha", "cell-r"));
    ok("step 3/2 after resume", resumed.step(3, 2, &[0.6], &[], "done", None));
    ok("trial_ended 3", resumed.trial_ended(3, "FINISHED"));
    assert!(resumed.step(4, 1, &[0.1], &[], "continue", None).is_err(), "a trial never started has no run");

    let rest = Rest::new(&uri);
    let found = rest.get("experiments/get-by-name", &[("experiment_name", &experiment)]);
    let experiment_id = found["experiment"]["experiment_id"].as_str().unwrap_or_else(|| panic!("no experiment_id: {found}")).to_owned();
    let searched = rest.post("runs/search", json!({ "experiment_ids": [experiment_id], "max_results": 100 }));
    let runs = searched["runs"].as_array().unwrap_or_else(|| panic!("no runs: {searched}"));
    assert_eq!(runs.len(), 1, "the resumed tracker created a second run: {searched}");
    let run_id = runs[0]["info"]["run_id"].as_str().unwrap_or_else(|| panic!("no run_id: {searched}"));
    assert_eq!(rest.history(run_id, "val_loss"), [(1, 0.7), (2, 0.6)]);
    assert_eq!(runs[0]["info"]["status"], json!("FINISHED"));
}

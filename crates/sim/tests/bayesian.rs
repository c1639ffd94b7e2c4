//! Every sampler behind every scheduler (TPE + ASHA, GP + HyperBand, BOHB = its KDE behind
//! HyperBand, ...): each combination runs, is bit-identical for one and two threads, and never
//! proposes outside the space.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hposim_sim::{Experiment, RunOptions, run};
use std::path::Path;

const SAMPLERS: [&str; 12] = [
    "{ type = 'random' }",
    "{ type = 'sobol' }",
    "{ type = 'latin_hypercube', points = 16 }",
    "{ type = 'tpe' }",
    "{ type = 'tpe', preset = 'hyperopt', multivariate = true }",
    "{ type = 'gp', candidates = 128, restarts = 2 }",
    "{ type = 'bohb' }",
    "{ type = 'regularized_evolution', population = 8, sample_size = 3 }",
    "{ type = 'grid', resolution = 2 }",
    "{ type = 'fabolas', initial_design = 4, candidates = 32, local_search = 1, levels = 3, max_value_samples = 3, restarts = 1, max_observations = 30 }",
    "{ type = 'multitask', initial_design = 4, candidates = 32, local_search = 1, restarts = 1, max_observations = 30 }",
    "{ type = 'mobster', candidates = 32, local_search = 1, restarts = 1, max_observations = 30 }",
];

const SCHEDULERS: [&str; 6] = [
    "{ type = 'fifo' }",
    "{ type = 'fidelity_choice' }",
    "{ type = 'asha' }",
    "{ type = 'hyperband', sizing = 'hpbandster' }",
    "{ type = 'successive_halving' }",
    "{ type = 'median_stopping' }",
];

fn matrix() -> String {
    let mut text = String::from(
        r#"
name = "matrix"
seeds = 1
workers = 3
[budget]
compute_seconds = 3000

[[benchmarks]]
type = "counting_ones"
categorical = 2
continuous = 2
min_budget = 3
max_budget = 27
seconds_per_sample = 1.0
"#,
    );
    for (i, sampler) in SAMPLERS.iter().enumerate() {
        for (j, scheduler) in SCHEDULERS.iter().enumerate() {
            text.push_str(&format!("\n[[strategies]]\nname = \"s{i}-{j}\"\nsampler = {sampler}\nscheduler = {scheduler}\n"));
        }
    }
    text
}

#[test]
fn every_sampler_runs_behind_every_scheduler_identically_on_one_and_two_threads() {
    let experiment = Experiment::parse(Path::new("matrix.toml"), &matrix()).unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let one =
        run(&experiment, &RunOptions { out_dir: a.path().into(), threads: 1, reuse_other_code: false, ..Default::default() }, &|_, _| {})
            .unwrap();
    let two =
        run(&experiment, &RunOptions { out_dir: b.path().into(), threads: 2, reuse_other_code: false, ..Default::default() }, &|_, _| {})
            .unwrap();
    assert_eq!(one.summaries, two.summaries);
    assert_eq!(one.summaries.len(), SAMPLERS.len() * SCHEDULERS.len());
    for summary in &one.summaries {
        assert!(summary.trials >= 3, "{}: {} trials", summary.strategy, summary.trials);
        assert!(summary.best_objective.is_some(), "{}", summary.strategy);
        assert_eq!(summary.sampler_warnings, 0, "{}", summary.strategy);
    }
}

#[test]
fn bohb_beats_random_search_behind_the_same_hyperband_on_counting_ones() {
    // The BOHB paper's counting-ones result in small: with the same HyperBand brackets, the KDE
    // model finds better configurations than random sampling (mean final regret over seeds).
    let text = r#"
seeds = 6
workers = 1
[budget]
compute_seconds = 60000
[[benchmarks]]
type = "counting_ones"
categorical = 4
continuous = 4
[[strategies]]
name = "HB"
sampler = { type = "random" }
scheduler = { type = "hyperband", sizing = "hpbandster" }
[[strategies]]
name = "BOHB"
sampler = { type = "bohb" }
scheduler = { type = "hyperband", sizing = "hpbandster" }
"#;
    let experiment = Experiment::parse(Path::new("bohb.toml"), text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let report =
        run(&experiment, &RunOptions { out_dir: dir.path().into(), threads: 2, reuse_other_code: false, ..Default::default() }, &|_, _| {})
            .unwrap();
    let mean_regret = |name: &str| {
        let regrets: Vec<f64> = report.summaries.iter().filter(|s| s.strategy == name).map(|s| s.regret_any_fidelity.unwrap()).collect();
        regrets.iter().sum::<f64>() / regrets.len() as f64
    };
    let (hb, bohb) = (mean_regret("HB"), mean_regret("BOHB"));
    assert!(bohb < 0.8 * hb, "BOHB {bohb} vs HyperBand {hb}");
}

#[test]
fn the_bohb_sampler_defaults_to_hyperband_with_hpbandster_sizing() {
    let text = r#"
[budget]
trials = 10
[[benchmarks]]
type = "counting_ones"
[[strategies]]
name = "BOHB"
sampler = { type = "bohb" }
[[strategies]]
name = "BOHB under ASHA"
sampler = { type = "bohb" }
scheduler = { type = "asha" }
[[strategies]]
name = "TPE"
sampler = { type = "tpe" }
"#;
    let experiment = Experiment::parse(Path::new("bohb.toml"), text).unwrap();
    let schedulers: Vec<String> = experiment.spec.strategies.iter().map(|s| format!("{:?}", s.scheduler)).collect();
    assert!(schedulers[0].starts_with("Hyperband") && schedulers[0].contains("Hpbandster"), "{}", schedulers[0]);
    assert!(schedulers[1].starts_with("Asha"), "{}", schedulers[1]);
    assert!(schedulers[2].starts_with("Fifo"), "{}", schedulers[2]);
}

#[test]
fn bad_sampler_settings_are_refused_when_the_experiment_loads() {
    let refusal = |sampler: &str| {
        let text =
            format!("[budget]\ntrials = 5\n[[benchmarks]]\ntype = \"hartmann6\"\n[[strategies]]\nname = \"s\"\nsampler = {sampler}\n");
        Experiment::parse(Path::new("bad.toml"), &text).unwrap_err().to_string()
    };
    let cases = [
        ("{ type = 'tpe', candidates = 0 }", "sampler.candidates: must be at least 1"),
        ("{ type = 'bohb', top_n_percent = 100 }", "sampler.top_n_percent"),
        ("{ type = 'gp', restarts = 0 }", "sampler.restarts: must be at least 1"),
        ("{ type = 'latin_hypercube', points = 0 }", "sampler.points"),
        ("{ type = 'regularized_evolution', population = 1 }", "sampler.population"),
        ("{ type = 'grid', resolution = 0 }", "sampler.resolution"),
        ("{ type = 'tpe', preset = 'smac' }", "unknown variant `smac`"),
    ];
    for (sampler, expected) in cases {
        let message = refusal(sampler);
        assert!(message.contains("bad.toml") && message.contains(expected), "{sampler}: {message}");
    }
}

//! Property tests over every sampler: proposals are valid in the space (bounds, integers,
//! choices, active exactly where the conditions hold), whatever the results fed back (including
//! failures and several fidelities), and the same seed gives the same proposals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hposim_core::{Choice, ConditionSpec, Config, Objective, Observation, ParamSpec, Rng, SearchSpace, Value};
use hposim_samplers::{SamplerSpec, build};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};

/// One generated parameter: kind, and whether (and on which earlier categorical) it depends.
#[derive(Clone, Debug)]
struct Gen {
    kind: u8,
    log: bool,
    width: u8,
    parent: Option<usize>,
}

fn space_of(gens: &[Gen]) -> SearchSpace {
    let mut specs: Vec<ParamSpec> = Vec::new();
    let mut categoricals: Vec<(String, usize)> = Vec::new();
    for (i, g) in gens.iter().enumerate() {
        let name = format!("p{i}");
        let condition = g
            .parent
            .and_then(|p| categoricals.get(p % categoricals.len().max(1)))
            .map(|(parent, _)| ConditionSpec { parent: parent.clone(), values: vec![Choice::Int(0)] });
        let spec = match g.kind % 4 {
            0 => ParamSpec::Float { name: name.clone(), low: if g.log { 1e-4 } else { -3.0 }, high: 2.0, log: g.log, condition },
            1 => ParamSpec::Int { name: name.clone(), low: 1, high: 1 + i64::from(g.width) * 7, log: g.log, condition },
            2 => {
                let choices: Vec<Choice> = (0..i64::from(g.width % 4) + 2).map(Choice::Int).collect();
                categoricals.push((name.clone(), choices.len()));
                ParamSpec::Categorical { name: name.clone(), choices, condition }
            }
            _ => ParamSpec::Ordinal {
                name: name.clone(),
                values: (0..i64::from(g.width % 5) + 1).map(|v| Choice::Int(v * 10)).collect(),
                condition,
            },
        };
        specs.push(spec);
    }
    SearchSpace::new(&specs).unwrap()
}

fn param() -> impl Strategy<Value = Gen> {
    (any::<u8>(), any::<bool>(), 1u8..6, proptest::option::of(0usize..4)).prop_map(|(kind, log, width, parent)| Gen {
        kind,
        log,
        width,
        parent,
    })
}

fn specs() -> Vec<SamplerSpec> {
    let parse = |s: &str| -> SamplerSpec { toml::from_str(s).unwrap() };
    vec![
        parse("type = 'random'"),
        parse("type = 'sobol'"),
        parse("type = 'latin_hypercube'\npoints = 7"),
        parse("type = 'tpe'"),
        parse("type = 'tpe'\nmultivariate = true\nstartup_trials = 4"),
        parse("type = 'tpe'\npreset = 'hyperopt'\nstartup_trials = 3"),
        parse("type = 'gp'\nstartup_trials = 5\ncandidates = 64\nrestarts = 1"),
        parse("type = 'bohb'\nrandom_fraction = 0.0"),
        parse("type = 'regularized_evolution'\npopulation = 6\nsample_size = 3"),
        parse("type = 'motpe'\nstartup_trials = 4"),
        parse("type = 'motpe'\nmultivariate = true\nbelow_weights = 'uniform'\nstartup_trials = 4"),
        parse("type = 'nsga2'\npopulation_size = 6"),
        parse("type = 'ehvi'\nstartup_trials = 5\ncandidates = 32\nrestarts = 1"),
        parse("type = 'parego'\nmodel = { type = 'tpe', startup_trials = 4 }"),
        parse("type = 'fabolas'\ninitial_design = 4\ncandidates = 32\nlevels = 3\nmax_value_samples = 3\nrestarts = 1"),
        parse("type = 'multitask'\ninitial_design = 4\ncandidates = 32\nrestarts = 1"),
        parse("type = 'mobster'\nstartup_trials = 4\ncandidates = 32\nrestarts = 1"),
    ]
}

/// Runs `spec` for `trials` proposals, feeding back a loss and an accuracy (single-objective
/// samplers use the first) per proposal at one of three fidelities (and a failure every
/// seventh), and returns the proposals.
fn drive(spec: &SamplerSpec, space: &SearchSpace, seed: u64, trials: u32) -> Vec<Config> {
    let mut rng = Rng::seed_from_u64(seed);
    let mut sampler = build(spec, space, &[Objective::minimize("loss"), Objective::maximize("accuracy")], &mut rng).unwrap();
    let mut proposals = Vec::new();
    for trial in 0..trials {
        let config = sampler.suggest(&mut rng).unwrap();
        let metric = if trial % 7 == 6 { [f64::NAN; 2] } else { [rng.random::<f64>(), rng.random::<f64>()] };
        for fidelity in [1, 3, 9].into_iter().take(1 + (trial % 3) as usize) {
            let observation = Observation { trial, config: &config, fidelity, metrics: &metric, time: 0.0 };
            if metric[0].is_nan() {
                sampler.on_failure(&observation);
                break;
            }
            sampler.observe(&observation);
        }
        proposals.push(config);
    }
    proposals
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_sampler_proposes_only_valid_configurations(gens in proptest::collection::vec(param(), 1..7), seed in any::<u64>()) {
        let space = space_of(&gens);
        for spec in specs() {
            for config in drive(&spec, &space, seed, 40) {
                prop_assert!(space.contains(&config), "{spec:?} proposed {config:?}");
                for (i, value) in config.values().iter().enumerate() {
                    prop_assert_eq!(value.is_active(), space.is_active(i, config.values()), "{:?}", spec);
                    if let Value::Float(x) = value {
                        prop_assert!(x.is_finite());
                    }
                }
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_proposals(gens in proptest::collection::vec(param(), 1..5), seed in any::<u64>()) {
        let space = space_of(&gens);
        for spec in specs() {
            prop_assert_eq!(drive(&spec, &space, seed, 25), drive(&spec, &space, seed, 25), "{:?}", spec);
        }
    }
}

#[test]
fn a_grid_over_a_continuous_parameter_needs_a_resolution() {
    let space = SearchSpace::new(&[ParamSpec::Float { name: "lr".into(), low: 1e-4, high: 1.0, log: true, condition: None }]).unwrap();
    let spec: SamplerSpec = toml::from_str("type = 'grid'\nresolution = 0").unwrap();
    let error = hposim_samplers::validate(&spec, &space, &[Objective::minimize("loss")]).unwrap_err().to_string();
    assert!(error.contains("resolution"), "{error}");
    let unknown = toml::from_str::<SamplerSpec>("type = 'tpe'\ngamma = 0.2").unwrap_err().to_string();
    assert!(unknown.contains("unknown field `gamma`"), "{unknown}");
}

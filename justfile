# hposim tasks. Each recipe is a command or two you can copy if you do not have `just`.

# Compare strategies: run experiments/default.toml and write its report to reports/default
experiment:
    cargo run --release -- run experiments/default.toml
    cargo run --release -- report results/default --out reports/default

# The comparison report of any results directory: just report results/bohb-paper
report DIR:
    cargo run --release -- report {{DIR}}

# Run any experiment file: just run experiments/test-functions.toml
run FILE:
    cargo run --release -- run {{FILE}}

# The talk's scenario: 1536 h of full training against successive halving and HyperBand, without
# and with 30 s of start-up or checkpoint restore per launch
seed-scenario:
    cargo run --release -- run experiments/seed-resnet50-hyperband.toml --wide
    cargo run --release -- run experiments/seed-resnet50-overhead.toml --wide

# The BOHB paper's comparison: random, TPE, GP-BO, HyperBand, BOHB (about a minute)
bohb-paper:
    cargo run --release -- run experiments/bohb-paper.toml

# Early termination on recorded MLP curves (digits, breast cancer) and samplers on NAS-Bench-201
recorded:
    cargo run --release -- run experiments/recorded-mlp.toml
    cargo run --release -- run experiments/nas-bench-201.toml

# Population-based training: against random, ASHA and BOHB, and the PBT paper's toy example
pbt:
    cargo run --release -- run experiments/pbt.toml
    cargo run --release -- report results/pbt
    cargo run --release -- run experiments/pbt-toy.toml
    cargo run --release -- report results/pbt-toy

# Multi-objective strategies on multi-fidelity ZDT1 and DTLZ2, and on error against training
# time and model size (synthetic and recorded MLP curves); hypervolume in the run table
multi-objective:
    cargo run --release -- run experiments/multi-objective.toml
    cargo run --release -- report results/multi-objective
    cargo run --release -- run experiments/multi-objective-trade-offs.toml
    cargo run --release -- report results/multi-objective-trade-offs

# Describe and validate a recorded benchmark: just data mlp-digits
data NAME:
    cargo run --release -- data info {{NAME}}
    cargo run --release -- data check {{NAME}}

# Re-record the MLP curves (about 9 + 2 minutes on 2 cores; data/README.md has the details)
record-mlp:
    python3 -m venv data/.venv && data/.venv/bin/pip install -r data/requirements.txt
    data/.venv/bin/python data/scripts/record_mlp.py --dataset digits --configs 500 --epochs 50 --seed 0 --jobs 2 --out data/mlp-digits
    data/.venv/bin/python data/scripts/record_mlp.py --dataset breast_cancer --configs 500 --epochs 50 --seed 0 --jobs 2 --out data/mlp-breast-cancer

# HyperBand's bracket table: just brackets 81 3
brackets R ETA:
    cargo run --release -- brackets --max-fidelity {{R}} --eta {{ETA}}

# The test suite (what CI runs)
test:
    cargo test --workspace

# Formatting and lints, as CI checks them
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Criterion benchmarks: simulator throughput (FIFO, ASHA, HyperBand), curve lookups, sampler
# suggestions (TPE, BOHB's KDE, GP-BO), the report's statistics (trajectories, bootstrap, tests),
# hypervolume and non-dominated sorting
bench:
    cargo bench --workspace

# The performance gate CI runs: instruction counts of the hot paths under valgrind's callgrind
# against crates/perf/baseline.json (fails on growth above 2 %; needs valgrind)
bench-check:
    cargo build --release -p hposim-cli -p hposim-perf && target/release/hposim-instructions check

# Record the current instruction counts as the baselines (deliberately: say why in the commit)
bench-bless:
    cargo build --release -p hposim-cli -p hposim-perf && target/release/hposim-instructions bless

# The quality gate CI runs: the regression suites against their committed baselines (fails when
# a strategy got significantly worse; about a minute)
regression:
    cargo run --release -- run experiments/regression.toml --out results/regression --quiet
    cargo run --release -- compare reports/regression-baseline/regression.json results/regression
    cargo run --release -- run experiments/regression-pbt.toml --out results/regression-pbt --quiet
    cargo run --release -- compare reports/regression-baseline/regression-pbt.json results/regression-pbt

# Record the regression suites' results as the new baselines (deliberately: say why in the commit)
regression-bless:
    rm -rf results/regression-baseline results/regression-pbt-baseline
    cargo run --release -- run experiments/regression.toml --out results/regression-baseline --quiet
    cargo run --release -- run experiments/regression-pbt.toml --out results/regression-pbt-baseline --quiet
    cargo run --release -- digest results/regression-baseline --out reports/regression-baseline/regression.json
    cargo run --release -- digest results/regression-pbt-baseline --out reports/regression-baseline/regression-pbt.json

# Real training under a strategy (a live experiment file with a [training] table)
tune FILE:
    cargo run --release -- tune {{FILE}}

# The simulator against real training on CPU: record, replay, run live, compare (about a minute;
# needs python3 with data/requirements.txt, e.g. an activated venv)
validate-cpu:
    cargo run --release -- validate experiments/validate-cpu.toml --out results/validate-cpu

# The same on a GPU machine with PyTorch (a few minutes); the report is copied to
# reports/validation/<card>.md
validate-gpu:
    cargo run --release -- validate experiments/validate-gpu.toml --out results/validate-gpu
    card=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1 | tr 'A-Z ' 'a-z-'); mkdir -p reports/validation; cp results/validate-gpu/validation/report.md reports/validation/$card.md; cp results/validate-gpu/validation/report.json reports/validation/$card.json

# The Python package: build the wheel (target/wheels/), install it into target/py-venv and run
# its tests and the example (what CI does, without taking Rust off the PATH)
python:
    python3 -m venv target/py-venv && target/py-venv/bin/pip install --quiet "maturin>=1.9.4,<2" pytest
    target/py-venv/bin/maturin build --release -m crates/python/Cargo.toml --out target/wheels
    target/py-venv/bin/pip install --quiet --force-reinstall target/wheels/hposim-*.whl
    target/py-venv/bin/python -m pytest -q crates/python/tests
    target/py-venv/bin/python examples/python/tour.py

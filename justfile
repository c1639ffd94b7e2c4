# hposim tasks. Each recipe is one cargo call you can copy if you do not have `just`.

# Compare strategies: run experiments/default.toml
experiment:
    cargo run --release -- run experiments/default.toml

# Run any experiment file: just run experiments/test-functions.toml
run FILE:
    cargo run --release -- run {{FILE}}

# The talk's scenario: 1536 h of full training against successive halving and HyperBand
seed-scenario:
    cargo run --release -- run experiments/seed-resnet50-hyperband.toml

# The BOHB paper's comparison: random, TPE, GP-BO, HyperBand, BOHB (about a minute)
bohb-paper:
    cargo run --release -- run experiments/bohb-paper.toml

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
# suggestions (TPE, BOHB's KDE, GP-BO)
bench:
    cargo bench --workspace

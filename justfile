# hposim tasks. Each recipe is one cargo call you can copy if you do not have `just`.

# Compare strategies: run experiments/default.toml
experiment:
    cargo run --release -- run experiments/default.toml

# Run any experiment file: just run experiments/test-functions.toml
run FILE:
    cargo run --release -- run {{FILE}}

# The test suite (what CI runs)
test:
    cargo test --workspace

# Formatting and lints, as CI checks them
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Criterion benchmarks: simulator throughput and curve lookups
bench:
    cargo bench --workspace

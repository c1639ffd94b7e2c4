"""Two builds of hposim's TPE and Optuna's, whole 200-trial studies in interleaved rounds.

Each round runs the criterion benchmark `study/tpe/200` of suggest.rs with the benchmark binary
of the previous code (OLD, e.g. a copy of target/release/deps/suggest-* built at the previous
commit), then with the current one (NEW), then Optuna 5.0's default `TPESampler()` on the same
space and loss (seeds 0, 1, 2, CPU time of `study.optimize`, median), and prints and appends
one JSON line per round: milliseconds per trial and both ratios. The ratio of either build to
Optuna moves with the machine's state; the two builds' ratios in the same round do not. Not
part of the tests.

    OMP_NUM_THREADS=1 /tmp/peers/bin/python crates/samplers/benches/tpe_before_after.py ROUNDS OUT.jsonl OLD NEW
"""
import json
import pathlib
import re
import statistics
import subprocess
import sys
import time
import warnings

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from optuna_motpe import objective  # noqa: E402  (the space and losses of suggest.rs)

TRIALS = 200


def hposim_ms_per_trial(binary):
    out = subprocess.run([binary, "--bench", f"^study/tpe/{TRIALS}$"], capture_output=True, text=True, check=True).stdout
    value, unit = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+)", out).groups()
    return float(value) * {"ns": 1e-6, "µs": 1e-3, "ms": 1.0, "s": 1e3}[unit] / TRIALS


def optuna_ms_per_trial():
    import optuna
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    times = []
    for seed in range(3):
        started = time.process_time()
        study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
        study.optimize(lambda t: objective(t)[0], n_trials=TRIALS)
        times.append(time.process_time() - started)
    return 1000 * statistics.median(times) / TRIALS


def main():
    warnings.filterwarnings("ignore")
    rounds, path, old, new = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    with open(path, "a") as log:
        for r in range(rounds):
            row = {"round": r, "old_ms": hposim_ms_per_trial(old), "new_ms": hposim_ms_per_trial(new), "optuna_ms": optuna_ms_per_trial()}
            row["old_ratio"], row["new_ratio"] = row["optuna_ms"] / row["old_ms"], row["optuna_ms"] / row["new_ms"]
            print(json.dumps(row), flush=True)
            log.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()

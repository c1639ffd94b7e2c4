"""hposim's TPE against Optuna's, whole studies side by side, in interleaved rounds.

Each round runs the criterion benchmarks `study/tpe/200` and `study/tpe/1000` of suggest.rs
(hposim's default TPE, Optuna 5.0's algorithm, over whole studies on the 10-parameter mixed
space, first loss; criterion's median per study) and then Optuna's default `TPESampler()` on
the same space and loss (the first of `optuna_motpe.py`'s two), one study per seed 0, 1, 2 at
each size, CPU time of `study.optimize` (median over the seeds). Single-threaded
(`OMP_NUM_THREADS=1` and friends). Prints a Markdown table of the per-trial medians over rounds
and the ratios, and appends every measurement to OUT.jsonl. Not part of the tests.

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install optuna==5.0.0
    OMP_NUM_THREADS=1 /tmp/peers/bin/python crates/samplers/benches/tpe_side_by_side.py ROUNDS OUT.jsonl
"""
import json
import pathlib
import statistics
import subprocess
import sys
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(pathlib.Path(__file__).parent))
from optuna_motpe import objective  # noqa: E402  (the space and losses of suggest.rs)
SIZES = (200, 1000)


def loss(t):
    """The first of `optuna_motpe.py`'s two losses (the one suggest.rs's single-objective samplers use)."""
    return objective(t)[0]


def optuna_ms_per_trial(n):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    times = []
    for seed in range(3):
        started = time.process_time()
        study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
        study.optimize(loss, n_trials=n)
        times.append(time.process_time() - started)
    return 1000 * statistics.median(times) / n


def hposim_ms_per_trial():
    subprocess.run(["cargo", "bench", "-q", "-p", "hposim-samplers", "--bench", "suggest", "--", "^study/tpe/"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    out = {}
    for n in SIZES:
        estimates = ROOT / "target" / "criterion" / "study" / "tpe" / str(n) / "new" / "estimates.json"
        out[n] = json.loads(estimates.read_text())["median"]["point_estimate"] / 1e6 / n
    return out


def main():
    warnings.filterwarnings("ignore")
    import optuna
    rounds, path = int(sys.argv[1]), sys.argv[2]
    rows = {n: {"hposim": [], "optuna": []} for n in SIZES}
    with open(path, "a") as log:
        for r in range(rounds):
            for n, ms in hposim_ms_per_trial().items():
                rows[n]["hposim"].append(ms)
                log.write(json.dumps({"round": r, "tool": "hposim", "trials": n, "ms_per_trial": ms}) + "\n")
            for n in SIZES:
                ms = optuna_ms_per_trial(n)
                rows[n]["optuna"].append(ms)
                log.write(json.dumps({"round": r, "tool": f"optuna {optuna.__version__}", "trials": n, "ms_per_trial": ms}) + "\n")
            log.flush()
    print("| trials | hposim ms per trial | Optuna ms per trial | ratio |")
    print("|---:|---:|---:|---:|")
    for n, t in rows.items():
        h, o = statistics.median(t["hposim"]), statistics.median(t["optuna"])
        print(f"| {n} | {h:.4f} | {o:.2f} | {o / h:.0f}× |")


if __name__ == "__main__":
    main()

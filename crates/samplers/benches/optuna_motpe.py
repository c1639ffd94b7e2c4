"""Per-trial time of Optuna's TPESampler on two objectives in the space and with the losses of
suggest.rs (10 mixed parameters; both losses on the same unit-cube encoding), for the reference
figures of the MO-TPE rows there and in the README (not part of the tests):

    python -m venv /tmp/optuna-venv && /tmp/optuna-venv/bin/pip install optuna==5.0.0
    /tmp/optuna-venv/bin/python crates/samplers/benches/optuna_motpe.py
"""
import math
import time
import warnings

import optuna

warnings.filterwarnings("ignore")
optuna.logging.set_verbosity(optuna.logging.ERROR)


def objective(t):
    x = [t.suggest_float("dropout", 0, 0.8) / 0.8, (t.suggest_float("momentum", 0.5, 0.99) - 0.5) / 0.49,
         t.suggest_float("warmup", 0, 0.3) / 0.3,
         (math.log(t.suggest_float("lr", 1e-5, 1.0, log=True)) - math.log(1e-5)) / -math.log(1e-5),
         (math.log(t.suggest_float("weight_decay", 1e-8, 1e-1, log=True)) - math.log(1e-8)) / (math.log(1e-1) - math.log(1e-8)),
         (t.suggest_int("layers", 1, 8) - 1) / 7, (math.log(t.suggest_int("batch", 16, 1024, log=True)) - math.log(16)) / math.log(64),
         t.suggest_categorical("optimizer", [0, 1, 2]) / 2, t.suggest_categorical("activation", [0, 1, 2, 3]) / 3, t.suggest_categorical("norm", [0, 1, 2]) / 2]
    a = sum((v - 0.1 * (i % 7) - 0.2) ** 2 for i, v in enumerate(x))
    b = sum((v - 0.8 + 0.05 * (i % 5)) ** 2 for i, v in enumerate(x))
    return a, b


def study_seconds(n: int, seed: int) -> float:
    started = time.perf_counter()
    study = optuna.create_study(directions=["minimize"] * 2, sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=n)
    return time.perf_counter() - started


if __name__ == "__main__":
    for n in [200, 1000]:
        best = min(study_seconds(n, seed) for seed in range(3))
        print(f"Optuna {optuna.__version__} TPESampler, 2 objectives, {n} trials: {1000 * best / n:.2f} ms per trial (best of 3)")

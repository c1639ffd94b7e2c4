"""Record per-epoch learning curves of scikit-learn's MLPClassifier on a bundled dataset.

Draws ``--configs`` configurations at random from an LCBench-like search space (Zimmer, Lindauer
& Hutter, "Auto-PyTorch Tabular", TPAMI 2021, whose LCBench varies the number of layers, units,
batch size, learning rate, weight decay and momentum), trains each with
``MLPClassifier.partial_fit`` for ``--epochs`` epochs (one epoch, shuffled, per call) and
records after every epoch:

- ``valid_accuracy``: accuracy of the argmax of ``predict_proba`` on the validation split;
- ``valid_log_loss``: ``sklearn.metrics.log_loss`` on the validation split, ``labels`` = all
  classes;
- ``train_loss``: the model's ``loss_`` after that ``partial_fit`` call (mean training loss
  over the epoch's mini-batches, L2 penalty included, as scikit-learn computes it);
- ``n_parameters``: the model's number of weights and biases (sizes of ``coefs_`` and
  ``intercepts_``), the same at every epoch: the size objective of multi-objective tuning;
- ``cpu_seconds``: ``time.process_time()`` difference around the ``partial_fit`` call alone
  (evaluation not included). Should that difference be 0 (timer resolution), the
  ``time.perf_counter()`` difference of the same call is used instead and counted.

Search space (the ``[[space]]`` of the metadata):

- ``num_layers`` int 1..4; ``width`` int 16..512 log (units of every hidden layer);
- ``batch_size`` int 16..512 log (scikit-learn clips it to the training-set size);
- ``learning_rate`` float 1e-4..1e-1 log (``learning_rate_init``);
- ``alpha`` float 1e-6..1e-1 log (L2 penalty);
- ``optimizer`` categorical sgd, adam (``solver``);
- ``momentum`` float 0.1..0.99, only for sgd (Nesterov momentum, scikit-learn's default);
- ``activation`` categorical relu, tanh, logistic.

Sampling: ``numpy.random.default_rng(seed)``; for each configuration in id order, every
parameter in the order above is drawn (momentum too, then dropped under adam, so that the stream
does not depend on branches): floats uniformly (on the log scale where ``log``), ints as
Optuna does (uniform on [low - 0.5, high + 0.5], log scale where ``log``, rounded and clipped to
the bounds), categoricals uniformly. Data: a stratified split, 2/3 train and 1/3 validation,
``random_state = seed``; ``StandardScaler`` fitted on the training part. Configuration ``i``'s
MLP uses ``random_state = SeedSequence([seed, i]).generate_state(1)[0]``. Everything else is
scikit-learn's default (constant learning rate for sgd, adam's betas, ``shuffle=True``).

Divergence (``allow_divergence = true``): when ``partial_fit`` raises, or the training loss or a
predicted probability is not finite, that epoch is written with all four metrics NaN (cost: the
measured time of that failed call) and the configuration stops.

Writes ``STEM.parquet`` (zstd) and ``STEM.toml`` in the recorded-curve format version 1
(``data/FORMAT.md``) and checks the pair before exiting. Each worker process is
single-threaded (OMP/OpenBLAS/MKL thread counts set to 1 before numpy is imported, and
threadpoolctl).

Datasets (copies bundled in the scikit-learn package, BSD-3-Clause): ``digits`` is the UCI "Optical
Recognition of Handwritten Digits" test set (1797 8x8 images, 10 classes); ``breast_cancer`` is
UCI "Breast Cancer Wisconsin (Diagnostic)" (569 samples, 30 features, 2 classes).

Usage (from the repository root)::

    python data/scripts/record_mlp.py --dataset digits --configs 500 --epochs 50 --seed 0 \\
        --jobs 2 --out data/mlp-digits
"""

from __future__ import annotations

import os

# Single-threaded BLAS in every process: must be set before numpy is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import sklearn  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from curve_format import fail, human_size, write_pair  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DATASETS = {
    "digits": (
        load_digits,
        "UCI Optical Recognition of Handwritten Digits (the 1797-image test set, 8x8 pixels, "
        "10 classes), as shipped in scikit-learn (sklearn.datasets.load_digits)",
    ),
    "breast_cancer": (
        load_breast_cancer,
        "UCI Breast Cancer Wisconsin (Diagnostic) (569 samples, 30 features, 2 classes), as "
        "shipped in scikit-learn (sklearn.datasets.load_breast_cancer)",
    ),
}

# The search space, in the order parameters are drawn and columns are written.
SPACE = [
    {"type": "int", "name": "num_layers", "low": 1, "high": 4, "log": False},
    {"type": "int", "name": "width", "low": 16, "high": 512, "log": True},
    {"type": "int", "name": "batch_size", "low": 16, "high": 512, "log": True},
    {"type": "float", "name": "learning_rate", "low": 1e-4, "high": 1e-1, "log": True},
    {"type": "float", "name": "alpha", "low": 1e-6, "high": 1e-1, "log": True},
    {"type": "categorical", "name": "optimizer", "choices": ["sgd", "adam"]},
    {"type": "float", "name": "momentum", "low": 0.1, "high": 0.99, "log": False,
     "condition": {"parent": "optimizer", "values": ["sgd"]}},
    {"type": "categorical", "name": "activation", "choices": ["relu", "tanh", "logistic"]},
]
METRICS = [
    {"name": "valid_accuracy", "direction": "maximize"},
    {"name": "valid_log_loss", "direction": "minimize"},
    {"name": "train_loss", "direction": "minimize"},
    {"name": "n_parameters", "direction": "minimize"},
]


def sample_configs(n: int, seed: int) -> list[dict]:
    """``n`` configurations drawn from SPACE with ``default_rng(seed)`` (see module docstring)."""
    rng = np.random.default_rng(seed)
    configs = []
    for _ in range(n):
        config = {}
        for p in SPACE:
            if p["type"] == "categorical":
                config[p["name"]] = p["choices"][int(rng.integers(len(p["choices"])))]
            elif p["type"] == "float":
                lo, hi = p["low"], p["high"]
                if p["log"]:
                    x = math.exp(rng.uniform(math.log(lo), math.log(hi)))
                else:
                    x = rng.uniform(lo, hi)
                config[p["name"]] = min(max(float(x), lo), hi)
            else:  # int
                lo, hi = p["low"], p["high"]
                if p["log"]:
                    x = math.exp(rng.uniform(math.log(lo - 0.5), math.log(hi + 0.5)))
                else:
                    x = rng.uniform(lo - 0.5, hi + 0.5)
                config[p["name"]] = int(min(max(round(x), lo), hi))
        if config["optimizer"] != "sgd":
            config["momentum"] = None
        configs.append(config)
    return configs


# Worker state, set once per process by init_worker.
_DATA: dict = {}


def init_worker(data: dict) -> None:
    _DATA.update(data)
    threadpool_limits(1)
    warnings.simplefilter("ignore")


def run_config(job: tuple[int, dict, int, int]) -> tuple[int, list[tuple], int, float]:
    """Train one configuration; returns (id, rows, epochs with the perf_counter fallback, wall)."""
    config_id, config, seed, epochs = job
    X_train, y_train = _DATA["X_train"], _DATA["y_train"]
    X_valid, y_valid = _DATA["X_valid"], _DATA["y_valid"]
    classes = _DATA["classes"]
    mlp_seed = int(np.random.SeedSequence([seed, config_id]).generate_state(1)[0])
    model = MLPClassifier(
        hidden_layer_sizes=(config["width"],) * config["num_layers"],
        activation=config["activation"],
        solver=config["optimizer"],
        alpha=config["alpha"],
        batch_size=config["batch_size"],
        learning_rate_init=config["learning_rate"],
        momentum=config["momentum"] if config["momentum"] is not None else 0.9,
        shuffle=True,
        random_state=mlp_seed,
    )
    rows = []
    fallbacks = 0
    start_wall = time.perf_counter()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for epoch in range(1, epochs + 1):
            failed = False
            cpu0, wall0 = time.process_time(), time.perf_counter()
            try:
                model.partial_fit(X_train, y_train, classes=classes)
            except (ValueError, FloatingPointError, OverflowError, ArithmeticError):
                failed = True
            cpu1, wall1 = time.process_time(), time.perf_counter()
            cost = cpu1 - cpu0
            if not cost > 0:
                cost = wall1 - wall0
                fallbacks += 1
            if not cost > 0:
                raise RuntimeError(f"config {config_id} epoch {epoch}: no positive time measured")
            metrics = (math.nan, math.nan, math.nan, math.nan)
            if not failed:
                train_loss = float(model.loss_)
                try:
                    proba = model.predict_proba(X_valid)
                except (ValueError, FloatingPointError, OverflowError, ArithmeticError):
                    proba = None
                if (proba is not None and math.isfinite(train_loss) and np.isfinite(proba).all()):
                    accuracy = float(np.mean(model.classes_[proba.argmax(axis=1)] == y_valid))
                    loss = float(log_loss(y_valid, proba, labels=classes))
                    size = sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_)
                    metrics = (accuracy, loss, train_loss, float(size))
                    if not math.isfinite(loss):
                        metrics = (math.nan, math.nan, math.nan, math.nan)
            rows.append((config_id, epoch, cost, *metrics))
            if math.isnan(metrics[0]):
                break  # diverged: the curve ends here
    return config_id, rows, fallbacks, time.perf_counter() - start_wall


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def repo_relative(path: str) -> str:
    """A path relative to the repository root where it lies inside it, else absolute."""
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, REPO_ROOT)
    return absolute if rel.startswith("..") else rel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    parser.add_argument("--configs", type=int, default=500, help="configurations (default 500)")
    parser.add_argument("--epochs", type=int, default=50, help="epochs per configuration (default 50)")
    parser.add_argument("--seed", type=int, default=0, help="seed of sampling, split and models")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--out", required=True, help="output stem: writes STEM.parquet and STEM.toml")
    args = parser.parse_args()
    if args.configs < 1:
        fail("--configs must be at least 1")
    if args.epochs < 1:
        fail("--epochs must be at least 1")
    if not 0 <= args.seed < 2**32:
        fail("--seed must be in 0..2^32-1")
    if args.jobs < 1:
        fail("--jobs must be at least 1")
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        fail(f"the directory of --out ({out_dir}) does not exist")
    if args.out.endswith((".parquet", ".toml")):
        fail("--out is a stem: give it without .parquet or .toml")

    started = time.perf_counter()
    loader, dataset_text = DATASETS[args.dataset]
    X, y = loader(return_X_y=True)
    X_train, X_valid, y_train, y_valid = train_test_split(
        X, y, test_size=1 / 3, stratify=y, random_state=args.seed)
    scaler = StandardScaler().fit(X_train)
    data = {"X_train": scaler.transform(X_train), "y_train": y_train,
            "X_valid": scaler.transform(X_valid), "y_valid": y_valid, "classes": np.unique(y)}
    configs = sample_configs(args.configs, args.seed)
    jobs = [(i, c, args.seed, args.epochs) for i, c in enumerate(configs)]
    print(f"record_mlp: {args.dataset}: {len(y_train)} train / {len(y_valid)} validation rows, "
          f"{args.configs} configurations x {args.epochs} epochs, {args.jobs} processes",
          file=sys.stderr)

    results: dict[int, list[tuple]] = {}
    fallbacks = 0
    diverged = 0

    def collect(result: tuple[int, list[tuple], int, float]) -> None:
        nonlocal fallbacks, diverged
        config_id, rows, fb, wall = result
        results[config_id] = rows
        fallbacks += fb
        div = math.isnan(rows[-1][3])
        diverged += div
        print(f"[{len(results)}/{args.configs}] config {config_id}: {len(rows)} epochs"
              f"{' (diverged)' if div else ''}, {sum(r[2] for r in rows):.2f} cpu s, {wall:.2f} s wall; "
              f"elapsed {time.perf_counter() - started:.0f} s", file=sys.stderr)

    if args.jobs == 1:
        init_worker(data)
        for job in jobs:
            collect(run_config(job))
    else:
        with multiprocessing.get_context("fork").Pool(args.jobs, init_worker, (data,)) as pool:
            for result in pool.imap_unordered(run_config, jobs, chunksize=1):
                collect(result)

    # Build the table: one row per (configuration, epoch), in id order.
    rows = [row for i in range(args.configs) for row in results[i]]
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    columns = {
        "config_id": pa.array(ids, type=pa.int64()),
        "epoch": pa.array([r[1] for r in rows], type=pa.int64()),
        "cpu_seconds": pa.array([r[2] for r in rows], type=pa.float64()),
    }
    for p in SPACE:
        dtype = {"int": pa.int64(), "float": pa.float64(), "categorical": pa.string()}[p["type"]]
        columns[p["name"]] = pa.array([configs[i][p["name"]] for i in ids], type=dtype)
    for j, m in enumerate(METRICS):
        columns[m["name"]] = pa.array([r[3 + j] for r in rows], type=pa.float64())
    table = pa.table(columns)

    command = shlex.join(["python", repo_relative(__file__), "--dataset", args.dataset,
                          "--configs", str(args.configs), "--epochs", str(args.epochs),
                          "--seed", str(args.seed), "--jobs", str(args.jobs),
                          "--out", repo_relative(args.out)])
    name = os.path.basename(args.out)
    meta = {
        "name": name,
        "description": (
            f"Per-epoch learning curves of scikit-learn's MLPClassifier (partial_fit, one shuffled "
            f"epoch per call) on {args.dataset}: {args.configs} configurations drawn at random "
            f"(seed {args.seed}) from an LCBench-like space, {args.epochs} epochs each, one run per "
            f"configuration. Stratified split 2/3 train, 1/3 validation (random_state {args.seed}), "
            f"StandardScaler fitted on train. valid_accuracy and valid_log_loss on the validation "
            f"split (log_loss over all classes), train_loss = the model's loss_ after the epoch "
            f"(L2 penalty included), n_parameters = the model's weights and biases. Cost = CPU seconds (time.process_time) of the partial_fit call "
            f"alone, one single-threaded process per configuration, {args.jobs} in parallel, on "
            f"{cpu_model()}. A diverged epoch (partial_fit raised, or a non-finite loss or "
            f"probability) has all metrics NaN and ends its curve. Recorded with scikit-learn "
            f"{sklearn.__version__}, numpy {np.__version__}, Python {platform.python_version()}."
        ),
        "source": (
            f"Recorded by data/scripts/record_mlp.py (this repository). Dataset: {dataset_text}."
        ),
        "licence": (
            "Curves: recorded in this repository. Dataset: a copy distributed inside the "
            "scikit-learn package (BSD-3-Clause), originally from the UCI Machine Learning "
            "Repository. See data/licences/scikit-learn-datasets.md."
        ),
        "command": command,
        "allow_divergence": True,
        "columns": {"config": "config_id", "step": "epoch", "cost": "cpu_seconds"},
        "fidelity": {"unit": "epoch", "min": 1, "max": args.epochs},
        "metrics": METRICS,
        "space": SPACE,
    }
    # A small run may miss some optimizer x activation combinations: a warning, not an error.
    parquet_path, toml_path, counts = write_pair(args.out, table, meta, require_all_combinations=False)
    elapsed = time.perf_counter() - started
    print(f"record_mlp: wrote {parquet_path} ({human_size(parquet_path)}) and {toml_path}: "
          f"{counts['rows']} rows, {counts['configs']} configurations, {diverged} diverged, "
          f"{fallbacks} epochs timed with perf_counter (process_time delta 0); {elapsed:.1f} s wall",
          file=sys.stderr)


if __name__ == "__main__":
    main()

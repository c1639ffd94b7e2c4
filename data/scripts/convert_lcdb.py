"""Convert LCDB 1.0's learning curves (one split) to the recorded-curve format.

Source: LCDB 1.0 (Mohr, Viering, Loog & van Rijn, "LCDB 1.0: An Extensive Learning Curves
Database for Classification Tasks", ECML PKDD 2022), as shipped in the ``lcdb`` package, version
0.1.0 (Felix Mohr, MIT licence, https://github.com/fmohr/lcdb): the CSV files
``database-accuracy.csv`` and ``database-logloss.csv`` inside the package. Each row there is one
learner (scikit-learn classifier with default hyperparameters) trained on the first
``size_train`` examples (an *anchor*) of one train/validation/test split (``outer_seed``,
``inner_seed``) of one OpenML dataset (``openmlid``), with ``traintime`` (wall-clock seconds of
that one fit, rounded to 0.1 ms) and the scores on train (at most 1000 training examples),
validation and test data.

Conversion:

- only ``outer_seed = 0`` and ``inner_seed = 0`` (one curve per learner and dataset; no repeat
  column);
- task column ``openmlid`` (text, e.g. "3"); only datasets on which all 20 learners have at least
  one anchor are kept, so that every learner is recorded in every task;
- one categorical parameter ``learner``: the scikit-learn class name without its module path
  (``sklearn.linear_model.LogisticRegression`` -> ``LogisticRegression``); LCDB's own names
  ``SVC_linear``, ``SVC_poly``, ``SVC_rbf``, ``SVC_sigmoid`` (``SVC`` with that kernel) are kept
  as they are. ``config_id`` = position of the short name in sorted order (0..19), the same in
  every task;
- steps: anchor index 1..K of the task, K = number of distinct ``size_train`` over all learners
  of the task (so tasks have different K and the metadata sets no ``fidelity.max``);
  ``size_train`` (float) is the fidelity value;
- cost ``train_seconds`` = ``traintime``: the time to train at that anchor *from scratch*.
  LCDB trains every anchor anew, so a trial that steps through anchors 1..k pays the training at
  every anchor, which is what evaluating a learner at every anchor costs. Any ``traintime <= 0``
  would be replaced by 0.0001 s (the CSV's resolution) and counted;
- metrics: ``valid_accuracy`` (score_valid), ``test_accuracy`` (score_test),
  ``train_accuracy`` (score_train), all maximized, and ``valid_log_loss`` (score_valid of
  database-logloss.csv, minimized; omit with ``--no-log-loss``). The two CSVs are joined on
  (openmlid, learner, size_train); their traintime must agree;
- truncated curves (``allow_divergence = true``): a learner's curve that lacks later anchors of
  its task, or has a gap, ends with one diverged row at the first missing anchor (all metrics
  NaN; anchors after a gap are dropped). That row's cost is the cost of the curve's previous step
  (an approximation: the failed fit's time is not recorded); where the first anchor itself is
  missing there is no previous step and the learner's cost at its first recorded anchor of the
  task is used instead. A row with a NaN score would count as missing too (diverged, with its
  own traintime as cost); LCDB 0.1.0 has none for this split.

Usage (from the repository root)::

    python data/scripts/convert_lcdb.py --out data/lcdb
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import math
import os
import shlex
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from curve_format import fail, human_size, write_pair  # noqa: E402

EXPECTED_VERSION = "0.1.0"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MIN_TRAINTIME = 1e-4  # the CSV's resolution (traintime is rounded to 4 decimals)


def short_name(learner: str) -> str:
    return learner.rsplit(".", 1)[-1]


def read_split(path: str, score_columns: list[str]) -> pa.Table:
    """The rows of outer_seed 0, inner_seed 0 of one LCDB CSV."""
    if not os.path.isfile(path):
        fail(f"{path} not found: is lcdb {EXPECTED_VERSION} installed?")
    table = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(
        include_columns=["openmlid", "learner", "size_train", "outer_seed", "inner_seed",
                         "traintime", *score_columns]))
    mask = pc.and_(pc.equal(table["outer_seed"], 0), pc.equal(table["inner_seed"], 0))
    return table.filter(mask)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(REPO_ROOT, "data", "lcdb"),
                        help="output stem (default data/lcdb): writes STEM.parquet and STEM.toml")
    parser.add_argument("--no-log-loss", action="store_true",
                        help="leave out valid_log_loss (database-logloss.csv)")
    args = parser.parse_args()
    if not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
        fail(f"the directory of --out {args.out} does not exist")
    if args.out.endswith((".parquet", ".toml")):
        fail("--out is a stem: give it without .parquet or .toml")
    try:
        version = importlib.metadata.version("lcdb")
    except importlib.metadata.PackageNotFoundError:
        fail("lcdb is not installed (pip install -r data/requirements-convert.txt)")
    if version != EXPECTED_VERSION:
        fail(f"lcdb {version} is installed; this script reads {EXPECTED_VERSION}")
    # Locate the package without importing it: lcdb/__init__.py imports pandas, openml and
    # func_timeout, which the wheel does not declare; only its CSV files are needed here.
    spec = importlib.util.find_spec("lcdb")
    if spec is None or not spec.submodule_search_locations:
        fail("cannot locate the lcdb package directory")
    package_dir = list(spec.submodule_search_locations)[0]
    started = time.perf_counter()

    acc = read_split(os.path.join(package_dir, "database-accuracy.csv"),
                     ["score_train", "score_valid", "score_test"])
    records: dict[tuple[int, str, int], list[float]] = {}
    for oid, learner, size, tt, s_train, s_valid, s_test in zip(
            *(acc[c].to_pylist() for c in ["openmlid", "learner", "size_train", "traintime",
                                            "score_train", "score_valid", "score_test"])):
        key = (oid, learner, size)
        if key in records:
            fail(f"database-accuracy.csv: duplicate row {key} for outer/inner seed 0")
        # metric order: valid_accuracy, test_accuracy, train_accuracy[, valid_log_loss]
        records[key] = [tt, s_valid, s_test, s_train]
    metric_names = ["valid_accuracy", "test_accuracy", "train_accuracy"]
    if not args.no_log_loss:
        metric_names.append("valid_log_loss")
        ll = read_split(os.path.join(package_dir, "database-logloss.csv"), ["score_valid"])
        seen = 0
        for oid, learner, size, tt, s_valid in zip(
                *(ll[c].to_pylist() for c in ["openmlid", "learner", "size_train", "traintime", "score_valid"])):
            key = (oid, learner, size)
            if key not in records or len(records[key]) != 4:
                fail(f"database-logloss.csv: row {key} has no single counterpart in database-accuracy.csv")
            if records[key][0] != tt:
                fail(f"database-logloss.csv: row {key}: traintime {tt} differs from the accuracy file's")
            records[key].append(s_valid)
            seen += 1
        if seen != len(records):
            fail(f"database-logloss.csv has {seen} rows for seed 0, database-accuracy.csv {len(records)}")
    print(f"convert_lcdb: {len(records)} rows with outer_seed = inner_seed = 0", file=sys.stderr)

    full_names = sorted({k[1] for k in records})
    learners = sorted({short_name(n) for n in full_names})
    if len(learners) != len(full_names):
        fail(f"short learner names are not unique: {full_names}")
    if len(learners) != 20:
        print(f"warning: {len(learners)} learners, LCDB 1.0 has 20", file=sys.stderr)
    learner_id = {n: learners.index(short_name(n)) for n in full_names}

    # anchors present per (task, learner)
    by_task: dict[int, dict[str, dict[int, list[float]]]] = {}
    for (oid, learner, size), values in records.items():
        by_task.setdefault(oid, {}).setdefault(learner, {})[size] = values
    kept = sorted(t for t in by_task if len(by_task[t]) == len(full_names))
    dropped = sorted(t for t in by_task if len(by_task[t]) != len(full_names))

    out: dict[str, list] = {k: [] for k in ["openmlid", "config_id", "anchor", "size_train",
                                            "train_seconds", "learner", *metric_names]}
    clamped = 0
    dropped_rows = 0  # recorded anchors after a curve's first missing one
    truncated = {"lacks later anchors": 0, "gap": 0, "lacks the first anchor": 0, "NaN score": 0}
    truncated_curves = []
    for oid in kept:
        anchors = sorted({s for curves in by_task[oid].values() for s in curves})
        for learner in sorted(full_names, key=lambda n: learner_id[n]):
            curve = by_task[oid][learner]
            previous_cost = None
            for k, size in enumerate(anchors, start=1):
                values = curve.get(size)
                missing = values is None or any(math.isnan(v) for v in values[1:])
                if values is not None:
                    cost = values[0]
                    if not cost > 0:
                        cost = MIN_TRAINTIME
                        clamped += 1
                if missing:
                    if values is not None:
                        reason = "NaN score"
                    elif k == 1:
                        reason = "lacks the first anchor"
                    elif any(s > size for s in curve):
                        reason = "gap"
                    else:
                        reason = "lacks later anchors"
                    truncated[reason] += 1
                    truncated_curves.append((oid, short_name(learner), k, len(anchors), reason))
                    if values is not None:  # the fit ran (NaN score): its cost is known
                        row_cost = cost
                    elif previous_cost is not None:  # the approximation: the previous step's cost
                        row_cost = previous_cost
                    else:  # no previous step: the cost at the first recorded anchor of the task
                        first = curve[min(curve)][0]
                        row_cost = first if first > 0 else MIN_TRAINTIME
                    row_metrics = [math.nan] * len(metric_names)
                else:
                    row_cost, row_metrics = cost, values[1:]
                out["openmlid"].append(str(oid))
                out["config_id"].append(learner_id[learner])
                out["anchor"].append(k)
                out["size_train"].append(float(size))
                out["train_seconds"].append(row_cost)
                out["learner"].append(short_name(learner))
                for name, v in zip(metric_names, row_metrics):
                    out[name].append(float(v))
                if missing:
                    dropped_rows += sum(1 for a in curve if a > size)
                    break
                previous_cost = row_cost

    types = {"openmlid": pa.string(), "config_id": pa.int64(), "anchor": pa.int64(),
             "size_train": pa.float64(), "train_seconds": pa.float64(), "learner": pa.string()}
    table = pa.table({k: pa.array(v, type=types.get(k, pa.float64())) for k, v in out.items()})

    out_rel = os.path.relpath(os.path.abspath(args.out), REPO_ROOT)
    if out_rel.startswith(".."):
        out_rel = os.path.abspath(args.out)
    command = ["python", "data/scripts/convert_lcdb.py", "--out", out_rel]
    if args.no_log_loss:
        command.append("--no-log-loss")
    n_truncated = sum(truncated.values())
    meta = {
        "name": os.path.basename(args.out),
        "description": (
            f"LCDB 1.0 learning curves over training-set size: {len(learners)} scikit-learn "
            f"classifiers with default hyperparameters on {len(kept)} OpenML datasets (those on "
            f"which all {len(learners)} have at least one anchor; {len(dropped)} others dropped), "
            "split outer_seed = 0, inner_seed = 0 only. Step k = the k-th anchor (distinct "
            "training-set sizes of the task, over all learners), fidelity value size_train. Cost "
            "train_seconds = LCDB's traintime at that anchor (wall-clock seconds of one fit from "
            "scratch, rounded to 0.1 ms): stepping through anchors pays the training at each, "
            "which is what evaluating a learner at every anchor costs. Metrics: LCDB's "
            "score_valid, score_test and score_train (train: on at most 1000 training examples) "
            "of database-accuracy.csv"
            + ("" if args.no_log_loss else ", and score_valid of database-logloss.csv")
            + f". {n_truncated} curves lack anchors ({truncated['lacks later anchors']} lack later "
            f"ones, {truncated['gap']} have a gap, {truncated['lacks the first anchor']} lack the "
            "first): each ends with one diverged row (all metrics NaN) at its first missing "
            "anchor, costed at its previous step's cost (at the learner's first recorded anchor "
            "where the first anchor is missing): an approximation. The "
            f"{dropped_rows} recorded anchors after a gap or a missing first anchor are dropped. "
            "config_id = position of the learner's short name in "
            "sorted order."
        ),
        "source": ("Mohr, Viering, Loog & van Rijn, LCDB 1.0: An Extensive Learning Curves Database "
                   "for Classification Tasks, ECML PKDD 2022; the CSVs of the lcdb package 0.1.0 "
                   "(https://github.com/fmohr/lcdb, https://pypi.org/project/lcdb/), converted by "
                   "data/scripts/convert_lcdb.py."),
        "licence": "MIT (lcdb package, Copyright (c) 2021 Felix Mohr); see data/licences/LCDB-MIT.txt.",
        "command": shlex.join(command),
        "allow_divergence": True,
        "columns": {"config": "config_id", "step": "anchor", "cost": "train_seconds",
                    "task": "openmlid", "fidelity_value": "size_train"},
        "fidelity": {"unit": "anchor (training-set size)", "min": 1},
        "metrics": [{"name": n, "direction": "minimize" if n == "valid_log_loss" else "maximize"}
                    for n in metric_names],
        "space": [{"type": "categorical", "name": "learner", "choices": learners}],
    }
    parquet_path, _, counts = write_pair(args.out, table, meta)
    print(f"convert_lcdb: {len(kept)} tasks kept, {len(dropped)} dropped (not all learners): "
          f"{', '.join(map(str, dropped))}", file=sys.stderr)
    print(f"convert_lcdb: {n_truncated} truncated curves {truncated}; {dropped_rows} recorded "
          f"anchors dropped after a gap or a missing first anchor; {clamped} traintime <= 0 "
          f"replaced by {MIN_TRAINTIME}", file=sys.stderr)
    for oid, learner, k, n_anchors, reason in truncated_curves:
        print(f"  openmlid {oid} {learner}: diverged row at anchor {k} of {n_anchors} ({reason})",
              file=sys.stderr)
    print(f"convert_lcdb: wrote {parquet_path} ({human_size(parquet_path)}): {counts['rows']} rows, "
          f"{counts['curves']} curves, anchors per task {counts['task_max_steps']}; "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()

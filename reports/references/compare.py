#!/usr/bin/env python3
"""hposim's samplers against their reference implementations, on identical problems.

Runs hposim (through `hposim run`, on generated experiments) and the references (Optuna 5.0's
TPESampler and GPSampler, hyperopt's tpe.suggest) on the same functions with the same budgets,
one evaluation at a time, over many seeds, and prints per problem both medians, their
interquartile ranges and the two-sided Mann–Whitney U p-value. A comparison is "worse" when
p < 0.05 and hposim's median is worse.

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install -r reports/references/requirements.txt
    cargo build --release -p hposim-cli
    /tmp/ref/bin/python reports/references/compare.py --hposim target/release/hposim \\
        --seeds 50 --work /tmp/references --markdown reports/references/results.md

Problems (the functions are written out below and checked against hposim's own values):
- Branin (x1 ∈ [−5, 10], x2 ∈ [0, 15]), regret f − 5/(4π), 100 trials (GP-BO: 50);
- Hartmann-6 (x ∈ [0, 1]⁶, maximised), regret 3.322368011391339 − f, 100 trials (GP-BO: 50);
- ZDT1 with 6 variables, hypervolume of every evaluated point at reference (1.1, 1.1), after
  200 and 500 trials. Both sides propose one trial after another and neither knows the budget,
  so the first 200 trials of a 500-trial run are a 200-trial run.

Reference results are cached in the work folder (one JSON file per method, problem and seed),
so an interrupted run resumes; hposim's results folder resumes by itself.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# One thread per run (PyTorch and BLAS would otherwise take every core); runs go in parallel.
for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

BRANIN_MIN = 5.0 / (4.0 * math.pi)
HARTMANN6_MAX = 3.322368011391339
ZDT1_VARIABLES = 6
ZDT1_REFERENCE = (1.1, 1.1)

# ---------------------------------------------------------------------------------------------
# The problems, as hposim defines them at full fidelity (crates/curves/src/{branin,hartmann6,zdt}.rs)


def branin(x1: float, x2: float) -> float:
    b = 5.1 / (4.0 * math.pi**2)
    c = 5.0 / math.pi
    t = 1.0 / (8.0 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6.0) ** 2 + 10.0 * (1.0 - t) * math.cos(x1) + 10.0


_H6_ALPHA = [1.0, 1.2, 3.0, 3.2]
_H6_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
_H6_P = [
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
]


def hartmann6(x: list[float]) -> float:
    total = 0.0
    for i in range(4):
        inner = sum(_H6_A[i][j] * (x[j] - _H6_P[i][j] * 1e-4) ** 2 for j in range(6))
        total += _H6_ALPHA[i] * math.exp(-inner)
    return total


def zdt1(x: list[float]) -> tuple[float, float]:
    g = 1.0 + 9.0 / (len(x) - 1) * sum(x[1:])
    return x[0], g * (1.0 - math.sqrt(x[0] / g))


def hypervolume_2d(points: list[tuple[float, float]], reference: tuple[float, float]) -> float:
    """Area dominated by `points` (both minimised) inside the box below `reference`."""
    inside = sorted(p for p in points if p[0] < reference[0] and p[1] < reference[1])
    volume, best_f2 = 0.0, reference[1]
    for f1, f2 in inside:
        if f2 < best_f2:
            volume += (reference[0] - f1) * (best_f2 - f2)
            best_f2 = f2
    return volume


# ---------------------------------------------------------------------------------------------
# References


def _optuna_single(problem: str, seed: int, trials: int, method: str) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if method == "optuna_tpe":
        sampler = optuna.samplers.TPESampler(seed=seed)
    elif method == "optuna_tpe_univariate":
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=False)
    elif method == "optuna_gp":
        sampler = optuna.samplers.GPSampler(seed=seed)
    else:
        raise ValueError(method)
    study = optuna.create_study(sampler=sampler)

    def objective(trial: "optuna.Trial") -> float:
        if problem == "branin":
            return branin(trial.suggest_float("x1", -5.0, 10.0), trial.suggest_float("x2", 0.0, 15.0))
        return -hartmann6([trial.suggest_float(f"x{j}", 0.0, 1.0) for j in range(1, 7)])

    study.optimize(objective, n_trials=trials)
    return [t.value for t in study.trials]


def _hyperopt_single(problem: str, seed: int, trials: int) -> list[float]:
    from hyperopt import Trials, fmin, hp, tpe

    if problem == "branin":
        space = [hp.uniform("x1", -5.0, 10.0), hp.uniform("x2", 0.0, 15.0)]

        def objective(x: list[float]) -> float:
            return branin(x[0], x[1])
    else:
        space = [hp.uniform(f"x{j}", 0.0, 1.0) for j in range(1, 7)]

        def objective(x: list[float]) -> float:
            return -hartmann6(list(x))

    record = Trials()
    fmin(objective, space, algo=tpe.suggest, max_evals=trials, trials=record,
         rstate=np.random.default_rng(seed), show_progressbar=False)
    return [float(loss) for loss in record.losses()]


def _optuna_zdt1(seed: int, trials: int) -> list[list[float]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(lambda t: zdt1([t.suggest_float(f"x{i}", 0.0, 1.0) for i in range(ZDT1_VARIABLES)]), n_trials=trials)
    return [list(t.values) for t in study.trials]


def run_reference(job: tuple[str, str, int, int, str]) -> tuple[str, float]:
    method, problem, seed, trials, path = job
    start = time.process_time()
    if method == "optuna_motpe":
        values = _optuna_zdt1(seed, trials)
    elif method == "hyperopt":
        values = _hyperopt_single(problem, seed, trials)
    else:
        values = _optuna_single(problem, seed, trials, method)
    Path(path).write_text(json.dumps({"values": values, "cpu_seconds": time.process_time() - start}))
    return path, time.process_time() - start


# ---------------------------------------------------------------------------------------------
# hposim

EXPERIMENT = """name = "{name}"
seeds = {seeds}
workers = 1

[budget]
trials = {trials}
{benchmarks}{strategies}"""

SINGLE = """
[[benchmarks]]
type = "branin"
steps = 1

[[benchmarks]]
type = "hartmann6"
steps = 1
"""

MULTI = f"""
[[benchmarks]]
type = "zdt"
problem = "zdt1"
variables = {ZDT1_VARIABLES}
steps = 1
"""


def experiment(name: str, seeds: int, trials: int, benchmarks: str, entries: dict[str, str]) -> str:
    return EXPERIMENT.format(name=name, seeds=seeds, trials=trials, benchmarks=benchmarks, strategies=strategies(entries))


def strategies(entries: dict[str, str]) -> str:
    return "".join(f'\n[[strategies]]\nname = "{name}"\nsampler = {sampler}\n' for name, sampler in entries.items())


HPOSIM_TPE = {
    "tpe": "{ type = 'tpe' }",
    "tpe-univariate": "{ type = 'tpe', multivariate = false }",
    "tpe-univariate-gaps-with-prior": "{ type = 'tpe', multivariate = false, bandwidth = 'gaps_with_prior' }",
    "tpe-optuna4-multivariate": "{ type = 'tpe', preset = 'optuna4', multivariate = true }",
    "tpe-hyperopt": "{ type = 'tpe', preset = 'hyperopt' }",
}
HPOSIM_GP = {"gp": "{ type = 'gp' }"}
HPOSIM_MOTPE = {"motpe": "{ type = 'motpe' }", "motpe-optuna4": "{ type = 'motpe', preset = 'optuna4' }"}


def run_hposim(binary: str, work: Path, name: str, text: str, threads: int) -> Path:
    experiment = work / f"{name}.toml"
    experiment.write_text(text)
    out = work / "results" / name
    start = time.time()
    subprocess.run([binary, "run", str(experiment), "--out", str(out), "--threads", str(threads), "--quiet"], check=True)
    print(f"hposim {name}: {time.time() - start:.0f} s", file=sys.stderr)
    return out


def hposim_cells(results: Path) -> list[tuple[dict, "object"]]:
    """The cells of the last run into `results`, as its summary.json lists them (cells of
    earlier code stay in the folder beside them and are not read)."""
    import polars as pl

    cells = []
    for summary in json.loads((results / "summary.json").read_text()):
        trace = pl.read_parquet(results / "cells" / f"{summary['cell']}.parquet").sort("trial")
        cells.append((summary, trace))
    return cells


# ---------------------------------------------------------------------------------------------
# Scores and statistics


def single_regret(problem: str, values: list[float], trials: int) -> float:
    values = values[:trials]
    if problem == "branin":
        return min(values) - BRANIN_MIN
    return HARTMANN6_MAX - max(-v for v in values)  # references minimise −f


def quartiles(xs: list[float]) -> tuple[float, float, float]:
    q1, median, q3 = np.percentile(xs, [25, 50, 75])
    return float(median), float(q1), float(q3)


def compare(a: list[float], b: list[float], lower_is_better: bool) -> tuple[float, str]:
    from scipy.stats import mannwhitneyu

    p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    a_better = np.median(a) < np.median(b) if lower_is_better else np.median(a) > np.median(b)
    if p >= 0.05:
        return p, "not significantly different"
    return p, "hposim better" if a_better else "hposim WORSE"


def run_references(work: Path, seeds: int, skip: set[str], jobs_at_once: int) -> dict[tuple[str, str, int, int], Path]:
    """Runs the reference jobs not yet cached; returns every job's result file."""
    jobs = []
    for seed in range(seeds):
        for problem in ("branin", "hartmann6"):
            for method, trials in (("optuna_tpe", 100), ("optuna_tpe_univariate", 100), ("hyperopt", 100), ("optuna_gp", 50)):
                jobs.append((method, problem, seed, trials))
        jobs.append(("optuna_motpe", "zdt1", seed, 500))
    jobs = [j for j in jobs if j[0] not in skip]
    paths = {j: work / "reference" / f"{j[0]}-{j[1]}-{j[3]}-{j[2]}.json" for j in jobs}
    todo = [(*j, str(paths[j])) for j in jobs if not paths[j].exists()]
    print(f"references: {len(jobs) - len(todo)} cached, {len(todo)} to run", file=sys.stderr)
    with ProcessPoolExecutor(max_workers=jobs_at_once) as pool:
        for done, (path, seconds) in enumerate(pool.map(run_reference, todo), 1):
            if done % 20 == 0 or done == len(todo):
                print(f"  {done}/{len(todo)} ({Path(path).name}: {seconds:.1f} CPU s)", file=sys.stderr)
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hposim", required=True, help="the hposim binary")
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--work", type=Path, default=Path("/tmp/references"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip", default="", help="comma-separated reference methods to leave out (e.g. optuna_gp)")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--references-only", action="store_true", help="only fill the cache of reference runs")
    args = parser.parse_args()
    work = args.work
    (work / "reference").mkdir(parents=True, exist_ok=True)
    skip = set(filter(None, args.skip.split(",")))

    seeds = args.seeds
    if args.references_only:
        run_references(work, seeds, skip, args.jobs)
        return 0

    # 1. hposim
    single = run_hposim(args.hposim, work, "tpe", experiment("tpe", seeds, 100, SINGLE, HPOSIM_TPE), args.jobs)
    gp = None
    if "optuna_gp" not in skip:
        gp = run_hposim(args.hposim, work, "gp", experiment("gp", seeds, 50, SINGLE, HPOSIM_GP), args.jobs)
    multi = run_hposim(args.hposim, work, "motpe", experiment("motpe", seeds, 500, MULTI, HPOSIM_MOTPE), args.jobs)

    # hposim's scores, with its function values checked against the functions above.
    hp_single: dict[tuple[str, str], list[float]] = {}
    for results in filter(None, [single, gp]):
        for summary, trace in hposim_cells(results):
            problem, strategy = summary["benchmark"], summary["strategy"]
            xs = trace.select(sorted(c for c in trace.columns if c.startswith("config_x"))).to_numpy()
            values = trace["value"].to_list()
            for x, value in zip(xs[:5], values[:5]):
                expected = branin(*x) if problem == "branin" else hartmann6(list(x))
                assert abs(expected - value) <= 1e-9 * max(1.0, abs(value)), (problem, x, value, expected)
            regret = min(values) - BRANIN_MIN if problem == "branin" else HARTMANN6_MAX - max(values)
            hp_single.setdefault((problem, strategy), []).append(regret)
    hp_multi: dict[tuple[str, int], list[float]] = {}
    for summary, trace in hposim_cells(multi):
        points = list(zip(trace["f1"].to_list(), trace["f2"].to_list()))
        xs = trace.select([f"config_x{i}" for i in range(1, ZDT1_VARIABLES + 1)]).to_numpy()
        for x, point in zip(xs[:5], points[:5]):
            assert max(abs(a - b) for a, b in zip(zdt1(list(x)), point)) <= 1e-9, (x, point)
        for trials in (200, 500):
            hp_multi.setdefault((summary["strategy"], trials), []).append(hypervolume_2d(points[:trials], ZDT1_REFERENCE))

    # 2. references (cached)
    paths = run_references(work, seeds, skip, args.jobs)
    ref: dict[tuple[str, str, int], list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for (method, problem, seed, trials), path in paths.items():
        data = json.loads(path.read_text())
        cpu.setdefault(method, []).append(data["cpu_seconds"])
        if method == "optuna_motpe":
            points = [tuple(v) for v in data["values"]]
            for cut in (200, 500):
                ref.setdefault((method, f"zdt1@{cut}", cut), []).append(hypervolume_2d(points[:cut], ZDT1_REFERENCE))
        else:
            ref.setdefault((method, problem, trials), []).append(single_regret(problem, data["values"], trials))

    # 3. the table
    rows = []

    def row(problem: str, ours: str, theirs: str, a: list[float] | None, b: list[float] | None, measure: str, lower: bool) -> None:
        if not a or not b:
            return
        p, verdict = compare(a, b, lower)
        (ma, qa1, qa3), (mb, qb1, qb3) = quartiles(a), quartiles(b)
        rows.append(f"| {problem} | {measure} | {ours} | {ma:.4g} [{qa1:.4g}, {qa3:.4g}] | {theirs} | {mb:.4g} [{qb1:.4g}, {qb3:.4g}] | {p:.3g} | {verdict} |")

    for problem in ("branin", "hartmann6"):
        regret = f"regret after 100 trials (n = {seeds})"
        row(problem, "tpe (default, Optuna 5.0 preset)", "Optuna 5.0 `TPESampler()`", hp_single.get((problem, "tpe")), ref.get(("optuna_tpe", problem, 100)), regret, True)
        row(problem, "tpe, multivariate = false", "`TPESampler(multivariate=False)`", hp_single.get((problem, "tpe-univariate")), ref.get(("optuna_tpe_univariate", problem, 100)), regret, True)
        row(problem, "tpe, multivariate = false, bandwidth = gaps_with_prior", "`TPESampler(multivariate=False)`", hp_single.get((problem, "tpe-univariate-gaps-with-prior")), ref.get(("optuna_tpe_univariate", problem, 100)), regret, True)
        row(problem, "tpe, preset = optuna4, multivariate = true", "Optuna 5.0 `TPESampler()`", hp_single.get((problem, "tpe-optuna4-multivariate")), ref.get(("optuna_tpe", problem, 100)), regret, True)
        row(problem, "tpe, preset = hyperopt", "hyperopt `tpe.suggest`", hp_single.get((problem, "tpe-hyperopt")), ref.get(("hyperopt", problem, 100)), regret, True)
        row(problem, "gp", "Optuna 5.0 `GPSampler()`", hp_single.get((problem, "gp")), ref.get(("optuna_gp", problem, 50)), f"regret after 50 trials (n = {seeds})", True)
    for trials in (200, 500):
        measure = f"hypervolume at (1.1, 1.1) after {trials} trials (n = {seeds})"
        row("zdt1 (6 variables)", "motpe (default, Optuna 5.0 preset)", "Optuna 5.0 `TPESampler()`, 2 objectives", hp_multi.get(("motpe", trials)), ref.get(("optuna_motpe", f"zdt1@{trials}", trials)), measure, False)
        row("zdt1 (6 variables)", "motpe, preset = optuna4", "Optuna 5.0 `TPESampler()`, 2 objectives", hp_multi.get(("motpe-optuna4", trials)), ref.get(("optuna_motpe", f"zdt1@{trials}", trials)), measure, False)

    header = [
        "| problem | measure | hposim | median [IQR] | reference | median [IQR] | Mann–Whitney p | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    table = "\n".join(header + rows)
    print(table)
    print("\nreference CPU seconds per run (median): " + ", ".join(f"{m} {np.median(v):.2f}" for m, v in sorted(cpu.items())))
    if args.markdown:
        import importlib.metadata as md

        versions = ", ".join(f"{p} {md.version(p)}" for p in ("optuna", "hyperopt", "numpy", "scipy") if _installed(p))
        hposim_version = subprocess.run([args.hposim, "--version"], capture_output=True, text=True).stdout.strip()
        args.markdown.write_text(
            f"# hposim's samplers against their references\n\n"
            f"Written by `reports/references/compare.py` on {time.strftime('%Y-%m-%d')} "
            f"(`{hposim_version}`; {versions}; Python {sys.version.split()[0]}). "
            f"Lower regret and higher hypervolume are better; a verdict names a side only when "
            f"p < 0.05 (two-sided).\n\n{table}\n"
        )
    worse = [r for r in rows if "WORSE" in r and ("default" in r)]
    return 1 if worse else 0


def _installed(package: str) -> bool:
    import importlib.metadata as md

    try:
        md.version(package)
        return True
    except md.PackageNotFoundError:
        return False


if __name__ == "__main__":
    sys.exit(main())

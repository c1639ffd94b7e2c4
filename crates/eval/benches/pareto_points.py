"""Optuna's and pymoo's hypervolume and Optuna's non-dominated sorting on the points of benches/pareto.rs.

Writes the same random points as the criterion benchmark (hposim_core::rng::stateless_uniform:
coordinate k of point i is SplitMix64-mixed (seed m, counter i*m + k) scaled to [0, 1)), times
Optuna's implementation on them (and pymoo's, moocore's C code, where pymoo is installed), and
prints each hypervolume so it can be checked against `hposim hypervolume`. Not part of the tests.

    python3 -m venv /tmp/optuna-venv && /tmp/optuna-venv/bin/pip install optuna numpy "pymoo==0.6.2"
    /tmp/optuna-venv/bin/python crates/eval/benches/pareto_points.py [--write DIR]

With --write DIR it also writes DIR/points_<n>_<m>.csv for `hposim hypervolume`.
"""
import sys
import time

import numpy as np

MASK = (1 << 64) - 1


def mix(seed, counter):
    z = (seed + ((counter + 1) * 0x9E3779B97F4A7C15 & MASK)) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def points(n, m):
    return np.array([[(mix(m, i * m + k) >> 11) * (1.0 / (1 << 53)) for k in range(m)] for i in range(n)])


def best_of(repeats, fn):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    import optuna
    from optuna._hypervolume import compute_hypervolume
    from optuna.study._multi_objective import _fast_non_domination_rank

    try:
        import pymoo
        from pymoo.indicators.hv import HV
    except ImportError:
        pymoo = None

    write = sys.argv[sys.argv.index("--write") + 1] if "--write" in sys.argv else None
    print(f"optuna {optuna.__version__}, numpy {np.__version__}, pymoo {pymoo.__version__ if pymoo else 'not installed'}")
    for n, m in [(1000, 2), (1000, 3), (200, 5), (2000, 4), (2000, 5)]:
        p = points(n, m)
        if write:
            header = ",".join(f"f{k}" for k in range(m))
            np.savetxt(f"{write}/points_{n}_{m}.csv", p, delimiter=",", header=header, comments="", fmt="%.17g")
        seconds, hv = best_of(5, lambda: compute_hypervolume(p, np.full(m, 1.1)))
        print(f"hypervolume/{n}_points_{m}_objectives: optuna {seconds * 1e3:.3f} ms (hypervolume {hv!r})")
        if pymoo:
            indicator = HV(ref_point=np.full(m, 1.1))
            seconds, hv = best_of(20, lambda: indicator(p))
            print(f"hypervolume/{n}_points_{m}_objectives: pymoo {seconds * 1e3:.3f} ms (hypervolume {hv!r})")
    p = points(10_000, 2)
    seconds, _ = best_of(5, lambda: _fast_non_domination_rank(p))
    print(f"non_dominated_sort/10000_points_2_objectives: {seconds * 1e3:.3f} ms")


if __name__ == "__main__":
    main()

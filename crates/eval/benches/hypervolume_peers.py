"""pymoo's and moocore's hypervolume on the point sets of benches/hypervolume.rs, for comparison.

The same points as the criterion benchmark (hposim_core::rng::stateless_uniform, SplitMix64):
"uniform" has coordinate k of point i uniform in [0, 1) (seed m, counter i*m + k); "sphere"
divides each such point (seed 100 + m) by its Euclidean norm, so that every point is
non-dominated. Reference point 1.1 in each objective. Prints one JSON object per line: set,
points, objectives, median milliseconds of pymoo 0.6.2's `HV` (which calls moocore) and of
`moocore.hypervolume` itself, each the median of enough calls to fill ~0.2 s, and the
hypervolume. Not part of the tests.

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install "pymoo==0.6.2" numpy
    /tmp/peers/bin/python crates/eval/benches/hypervolume_peers.py [--write DIR]

With --write DIR it also writes DIR/<set>_<n>_<m>.csv for `hposim hypervolume`.
"""
import json
import statistics
import sys
import time

import numpy as np

MASK = (1 << 64) - 1
CASES = [("uniform", n, m) for m in (2, 3, 4, 5) for n in (10, 100, 1000, 10000)] + [
    ("sphere", n, m) for m in (3, 4) for n in (100, 1000)
] + [("sphere", 100, 5), ("sphere", 300, 5)]


def mix(seed, counter):
    z = (seed + ((counter + 1) * 0x9E3779B97F4A7C15 & MASK)) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def uniform(n, m, seed):
    return np.array([[(mix(seed, i * m + k) >> 11) * (1.0 / (1 << 53)) for k in range(m)] for i in range(n)])


def point_set(name, n, m):
    if name == "uniform":
        return uniform(n, m, m)
    u = uniform(n, m, 100 + m)
    return u / np.sqrt((u * u).sum(axis=1))[:, None]


def median_ms(fn):
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    calls = max(3, min(1000, int(0.2 / max(once, 1e-7))))
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main():
    import moocore
    import pymoo
    from pymoo.indicators.hv import HV

    write = sys.argv[sys.argv.index("--write") + 1] if "--write" in sys.argv else None
    versions = {"pymoo": pymoo.__version__, "moocore": moocore.__version__, "numpy": np.__version__}
    print(json.dumps({"versions": versions}))
    for name, n, m in CASES:
        p = point_set(name, n, m)
        if write:
            header = ",".join(f"f{k}" for k in range(m))
            np.savetxt(f"{write}/{name}_{n}_{m}.csv", p, delimiter=",", header=header, comments="", fmt="%.17g")
        reference = np.full(m, 1.1)
        indicator = HV(ref_point=reference)
        row = {"set": name, "points": n, "objectives": m}
        row["pymoo_ms"] = median_ms(lambda: indicator(p))
        row["moocore_ms"] = median_ms(lambda: moocore.hypervolume(p, ref=reference))
        row["hypervolume"] = float(moocore.hypervolume(p, ref=reference))
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()

"""Two builds of hposim's four-objective hypervolume against pymoo and moocore, on fronts.

Each round times the criterion benchmarks `hypervolume_grid/sphere_{100,1000}_4` of
benches/pareto.rs (points on the unit sphere: every one non-dominated) with the benchmark
binary of the previous code (OLD, a copy of target/release/deps/pareto-* built at the previous
commit) and the current one (NEW), then pymoo 0.6.2's `HV` and `moocore.hypervolume` on the same
points (`hypervolume_peers.py`), and prints and appends one JSON line per case and round
(milliseconds, criterion's median; the peers' median of ~0.2 s of calls). Not part of the tests.

    /tmp/peers/bin/python crates/eval/benches/hypervolume_4d_fronts_before_after.py ROUNDS OUT.jsonl OLD NEW
"""
import json
import pathlib
import re
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import hypervolume_peers as peers  # noqa: E402


def criterion_ms(binary, case):
    out = subprocess.run([binary, "--bench", f"hypervolume_grid/{case}$"], capture_output=True, text=True, check=True).stdout
    value, unit = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+)", out).groups()
    return float(value) * {"ns": 1e-6, "µs": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def main():
    import moocore
    from pymoo.indicators.hv import HV
    rounds, path, old, new = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    with open(path, "a") as log:
        for r in range(rounds):
            for n in (100, 1000):
                points = peers.point_set("sphere", n, 4)
                indicator = HV(ref_point=[1.1] * 4)
                row = {
                    "round": r,
                    "case": f"front_{n}_4",
                    "hposim_old_ms": criterion_ms(old, f"sphere_{n}_4"),
                    "hposim_new_ms": criterion_ms(new, f"sphere_{n}_4"),
                    "pymoo_ms": peers.median_ms(lambda: indicator(points)),
                    "moocore_ms": peers.median_ms(lambda: moocore.hypervolume(points, ref=[1.1] * 4)),
                }
                print(json.dumps(row), flush=True)
                log.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()

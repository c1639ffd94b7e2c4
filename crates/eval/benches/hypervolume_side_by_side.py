"""hposim's hypervolume against pymoo's and moocore's, side by side, in interleaved rounds.

Each round runs the criterion group `hypervolume_grid` of benches/pareto.rs (hposim, medians of
criterion's samples) and then `hypervolume_peers.py`'s measurements on the same points (pymoo
0.6.2's `HV` and `moocore.hypervolume`, medians of ~0.2 s of calls), all single-threaded
wall-clock time on an otherwise idle machine. Prints a Markdown table of the medians over rounds
and the ratios, and appends every measurement to OUT.jsonl. Not part of the tests.

    /tmp/peers/bin/python crates/eval/benches/hypervolume_side_by_side.py ROUNDS OUT.jsonl
"""
import json
import pathlib
import statistics
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import hypervolume_peers as peers  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[3]


def hposim_round():
    subprocess.run(["cargo", "bench", "-q", "-p", "hposim-eval", "--bench", "pareto", "--", "hypervolume_grid"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    times = {}
    for name, n, m in peers.CASES:
        estimates = ROOT / "target" / "criterion" / "hypervolume_grid" / f"{name}_{n}_{m}" / "new" / "estimates.json"
        times[(name, n, m)] = json.loads(estimates.read_text())["median"]["point_estimate"] / 1e6
    return times


def peers_round():
    import moocore
    from pymoo.indicators.hv import HV
    times = {}
    for name, n, m in peers.CASES:
        p = peers.point_set(name, n, m)
        reference = [1.1] * m
        indicator = HV(ref_point=reference)
        times[(name, n, m)] = (peers.median_ms(lambda: indicator(p)), peers.median_ms(lambda: moocore.hypervolume(p, ref=reference)))
    return times


def main():
    rounds, out = int(sys.argv[1]), sys.argv[2]
    rows = {case: {"hposim": [], "pymoo": [], "moocore": []} for case in peers.CASES}
    with open(out, "a") as log:
        for r in range(rounds):
            for case, ms in hposim_round().items():
                rows[case]["hposim"].append(ms)
                log.write(json.dumps({"round": r, "tool": "hposim", "case": case, "ms": ms}) + "\n")
            for case, (pymoo_ms, moocore_ms) in peers_round().items():
                rows[case]["pymoo"].append(pymoo_ms)
                rows[case]["moocore"].append(moocore_ms)
                log.write(json.dumps({"round": r, "tool": "pymoo", "case": case, "ms": pymoo_ms}) + "\n")
                log.write(json.dumps({"round": r, "tool": "moocore", "case": case, "ms": moocore_ms}) + "\n")
            log.flush()
    print("| points | objectives | hposim ms | pymoo ms | moocore ms | pymoo / hposim | moocore / hposim |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for (name, n, m), t in rows.items():
        h, p, c = (statistics.median(t[k]) for k in ("hposim", "pymoo", "moocore"))
        print(f"| {name} {n} | {m} | {h:.4g} | {p:.4g} | {c:.4g} | {p / h:.2f}× | {c / h:.2f}× |")


if __name__ == "__main__":
    main()

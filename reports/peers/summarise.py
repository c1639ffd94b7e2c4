"""Summarises reports/peers/simulators.sh's runs.jsonl: per side and method, the median CPU
microseconds per simulated epoch over the rounds (with the range), and hposim's ratio to the
Syne Tune method it replaces (the ratio of medians, and the smallest ratio over all pairs of rounds)."""
import json
import statistics
import sys
from collections import defaultdict

# hposim experiment stem -> the Syne Tune method it is set against.
PEER = {
    "A-random": "RandomSearch",
    "A-asha": "ASHA",
    "A-hyperband": "SyncHyperband",
    "A-bohb-async": "BOHB",
    "A-bohb": "SyncBOHB",
    "A-gp": "BayesianOptimization",
}

runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
per_epoch = defaultdict(list)
versions = {}
for r in runs:
    key = r["method"] if r["side"] == "hposim" else r["method"]
    per_epoch[(r["side"] == "hposim", key)].append(1e6 * r["cpu_s"] / r["epochs"])
    if r["side"] != "hposim":
        versions[r["method"]] = r["side"]


def fmt(values):
    m = statistics.median(values)
    return f"{m:.3g} [{min(values):.3g}, {max(values):.3g}]"


print("| hposim experiment | hposim CPU µs/epoch, median [range] | Syne Tune method | Syne Tune CPU µs/epoch | ratio of medians | smallest ratio |")
print("|---|---:|---|---:|---:|---:|")
for (is_hposim, stem), values in sorted(per_epoch.items()):
    if not is_hposim:
        continue
    base = stem.removesuffix("-decisions")
    peer = PEER.get(base)
    if peer is None or (False, peer) not in per_epoch:
        print(f"| {stem} | {fmt(values)} | — | — | — | — |")
        continue
    theirs = per_epoch[(False, peer)]
    ratio = statistics.median(theirs) / statistics.median(values)
    worst = min(theirs) / max(values)
    print(f"| {stem} | {fmt(values)} | {peer} ({versions[peer]}) | {fmt(theirs)} | {ratio:.0f}× | {worst:.0f}× |")

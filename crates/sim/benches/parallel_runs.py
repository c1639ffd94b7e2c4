#!/usr/bin/env python3
"""What a second thread buys a whole `hposim run` (issue 25, goal 4), measured the way a user
sees it: the real time of the command on 1 and on 2 threads, interleaved, each run writing into
a new results folder that is kept until the series ends (on a filesystem without a journal, ext4
skips inodes deleted in the last minutes when it creates files, so deleting results between runs
would slow the runs that follow). Several builds can be compared in one series.

    python3 crates/sim/benches/parallel_runs.py NAME=BINARY[,NAME=BINARY...] EXPERIMENT[,...] ROUNDS OUT.jsonl SCRATCH_DIR

e.g. `... new=target/release/hposim default,nas-bench-201 3 /tmp/parallel.jsonl /tmp/parallel-runs`
(EXPERIMENT names a file in experiments/). Writes one JSON line per run (wall, user and system
seconds) and prints, per experiment and build, the medians on 1 and 2 threads and their ratio.
"""
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    builds = dict(item.split("=", 1) for item in sys.argv[1].split(","))
    experiments = sys.argv[2].split(",")
    rounds, out, scratch = int(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5])
    root = Path(__file__).resolve().parents[3]
    rows = []
    for round_ in range(rounds):
        for experiment in experiments:
            for name, binary in builds.items():
                for threads in (1, 2):
                    folder = scratch / f"{name}-{experiment}-{threads}-{round_}-{time.time_ns()}"
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    start = time.perf_counter()
                    done = subprocess.run(
                        [binary, "run", str(root / "experiments" / f"{experiment}.toml"), "--out", str(folder), "--threads", str(threads), "--quiet"],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                        check=False,
                    )
                    wall = time.perf_counter() - start
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    if done.returncode != 0:
                        sys.exit(f"{binary} failed on {experiment}: {done.stderr.decode(errors='replace')}")
                    row = {
                        "build": name,
                        "experiment": experiment,
                        "threads": threads,
                        "round": round_,
                        "wall_s": wall,
                        "user_s": after.ru_utime - before.ru_utime,
                        "sys_s": after.ru_stime - before.ru_stime,
                    }
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    shutil.rmtree(scratch, ignore_errors=True)
    out.write_text("".join(json.dumps(row) + "\n" for row in rows))
    for experiment in experiments:
        for name in builds:
            wall = {t: [r["wall_s"] for r in rows if (r["experiment"], r["build"], r["threads"]) == (experiment, name, t)] for t in (1, 2)}
            ratios = [one / two for one, two in zip(wall[1], wall[2])]
            one, two = statistics.median(wall[1]), statistics.median(wall[2])
            print(f"{experiment:28s} {name:8s} 1 thread {one:7.3f} s  2 threads {two:7.3f} s  ratio of medians {one / two:.2f}  rounds {min(ratios):.2f}-{max(ratios):.2f}")


if __name__ == "__main__":
    main()

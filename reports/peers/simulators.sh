#!/usr/bin/env bash
# Simulator throughput, hposim against Syne Tune's simulator, side by side on this machine:
# Syne Tune's 1000-configuration x 100-epoch synthetic table (synthetic_tabular.py), 4 simulated
# workers, 5000 simulated seconds per cell, replayed by hposim from the same table
# (write_hposim_table.py). Rounds are interleaved (Syne Tune, hposim, Syne Tune, ...); each
# side's figure of merit is CPU microseconds per simulated epoch, one thread:
#   Syne Tune: process CPU time of Tuner.run() / results delivered to the scheduler (st_sim_bench.py;
#              the interpreter's start-up and the table's construction are not counted);
#   hposim:    user + system CPU time of the whole `hposim run` command (start-up, table loading
#              and writing every cell's files included) / the sum of `epochs` in summary.json.
#
# Usage: reports/peers/simulators.sh HPOSIM_BINARY OUT_DIR [ROUNDS]
# Needs two virtual environments (registries only, a few minutes):
#   python3 -m venv /tmp/peers && /tmp/peers/bin/pip install "syne-tune==0.16.0" huggingface_hub h5py polars pyarrow
#   python3 -m venv /tmp/peers-st014 && /tmp/peers-st014/bin/pip install "syne-tune[gpsearchers,kde,blackbox-repository]==0.14.2"
# (0.14.2 still has synchronous HyperBand, synchronous BOHB and GP-BO, which 0.16 dropped.)
# Writes OUT_DIR/runs.jsonl (one line per run) and prints the table (summarise.py).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(realpath "$1")"
out="$(mkdir -p "$2" && realpath "$2")"
rounds="${3:-3}"
st016="${ST016:-/tmp/peers/bin/python}"
st014="${ST014:-/tmp/peers-st014/bin/python}"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
work="$out/work"
mkdir -p "$work/data" "$work/experiments"
"$st016" "$here/write_hposim_table.py" "$work/data/synthetic-tabular" >/dev/null
for f in "$here"/experiments/A-*.toml; do
  name="$(basename "$f" .toml)"
  cp "$f" "$work/experiments/$name.toml"
  # The decisions trace level: a row per run segment (Syne Tune's simulator keeps no trace).
  sed -e "s/^name = \"$name\"/name = \"$name-decisions\"/" -e 's/^workers = 4$/workers = 4\ntrace = "decisions"/' "$f" \
    >"$work/experiments/$name-decisions.toml"
done
runs="$out/runs.jsonl"
: >"$runs"

syne_tune() { # python method
  local json="$work/st.json"
  "$1" "$here/st_sim_bench.py" --methods "$2" --repeats 1 --json "$json" >/dev/null 2>&1
  "$1" - "$json" "$2" "$("$1" -c 'import syne_tune; print(syne_tune.__version__)')" >>"$runs" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][sys.argv[2]]["runs"][0]
print(json.dumps({"side": "syne-tune " + sys.argv[3], "method": sys.argv[2], "cpu_s": r["cpu_s"], "epochs": r["epochs"]}))
PY
}

hposim() { # experiment stem
  local dir="$work/results-$1" times="$work/time.txt"
  rm -rf "$dir"
  /usr/bin/time -f "%U %S" -o "$times" "$bin" run "$work/experiments/$1.toml" --out "$dir" --threads 1 >/dev/null 2>&1
  python3 - "$dir/summary.json" "$times" "$1" >>"$runs" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))
cells = summary["cells"] if isinstance(summary, dict) else summary
user, system = map(float, open(sys.argv[2]).read().split())
print(json.dumps({"side": "hposim", "method": sys.argv[3], "cpu_s": user + system, "epochs": sum(c["epochs"] for c in cells), "cells": len(cells)}))
PY
  rm -rf "$dir"
}

for round in $(seq "$rounds"); do
  echo "round $round of $rounds" >&2
  syne_tune "$st016" RandomSearch; hposim A-random; hposim A-random-decisions
  syne_tune "$st016" ASHA; hposim A-asha; hposim A-asha-decisions
  syne_tune "$st014" SyncHyperband; hposim A-hyperband; hposim A-hyperband-decisions
  syne_tune "$st016" BOHB; hposim A-bohb-async; hposim A-bohb-async-decisions
  syne_tune "$st014" SyncBOHB; hposim A-bohb; hposim A-bohb-decisions
  syne_tune "$st014" BayesianOptimization; hposim A-gp; hposim A-gp-decisions
  hposim A-tpe-asha; hposim A-tpe-asha-decisions
done
python3 "$here/summarise.py" "$runs"

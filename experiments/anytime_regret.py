"""Anytime regret of every strategy at fractions of the compute budget, from hposim traces.

Incumbent = best value among full-fidelity evaluations finished so far (HpBandSter's
convention for the final incumbent); regret against the benchmark's best known value.
Usage: python3 experiments/anytime_regret.py RESULTS_DIR BUDGET_SECONDS (needs `pip install polars`);
for experiments/bohb-paper.toml: results/bohb-paper 145800. A stopgap until `hposim report`.
"""
import glob, json, sys, math
import polars as pl

out, budget = sys.argv[1], float(sys.argv[2])
fractions = [0.05, 0.1, 0.25, 0.5, 1.0]
rows = []
for path in sorted(glob.glob(f"{out}/cells/*.json")):
    s = json.load(open(path))
    d = pl.read_parquet(path[:-5] + ".parquet")
    full = d.filter((pl.col("epoch") == s["max_fidelity"]) & (pl.col("status") == "ok")).sort("end")
    sign = 1.0 if s["direction"] == "minimize" else -1.0
    ends, values = full["end"].to_list(), full[s["objective"]].to_list()
    for f in fractions:
        t = f * budget
        seen = [sign * v for e, v in zip(ends, values) if e <= t]
        regret = (min(seen) - sign * s["best_known"]) if seen else math.inf
        rows.append((s["benchmark"], s["strategy"], s["seed"], f, regret))
df = pl.DataFrame(rows, schema=["benchmark", "strategy", "seed", "fraction", "regret"], orient="row")
summary = (df.group_by(["benchmark", "strategy", "fraction"])
             .agg(pl.col("regret").median().alias("median"), pl.col("regret").filter(pl.col("regret").is_finite()).mean().alias("mean_finite"),
                  (pl.col("regret").is_infinite().sum()).alias("no_full_eval"))
             .sort(["benchmark", "fraction", "median"]))
pl.Config.set_tbl_rows(200)
pl.Config.set_tbl_width_chars(200)
for bench in summary["benchmark"].unique().sort():
    print(bench)
    piv = summary.filter(pl.col("benchmark") == bench).pivot(on="fraction", index="strategy", values="median")
    print(piv)

"""hposim from Python, the three ways in (run it from the repository's root, after
`pip install crates/python` or `pip install hposim-*.whl`):

    python examples/python/tour.py

1. Simulate an experiment and look at its results as DataFrames.
2. Write the comparison report.
3. Drive a training loop of your own with ASHA through ask/tell, journaled so that a crash
   loses nothing, and report it like any other study.

Each part is a notebook cell's worth; nothing here needs a GPU (the "training" in part 3 is a
made-up learning curve standing in for yours).
"""

import math
import tempfile
from pathlib import Path

import polars as pl

import hposim

work = Path(tempfile.mkdtemp(prefix="hposim-tour-"))

# 1. Simulate: every benchmark x strategy x seed of the default experiment (a few seconds).
results = hposim.run("experiments/default.toml", out=work / "default")
cells = results.cells  # one row per cell (polars; .to_pandas() for pandas)
print(
    cells.group_by("benchmark", "strategy")
    .agg(pl.col("best_objective_max_fidelity").median().alias("median final"), pl.col("compute_seconds").median() / 3600)
    .sort("benchmark", "median final")
)
steps = results.steps  # every step of every cell, tidy
print(f"{steps.height} steps; columns: {steps.columns[:12]} ...")

# 2. The report: report.md, report.html, figures (PNG, SVG, PDF) and tables (CSV).
report = results.report(work / "report")
print(f"report: {report / 'report.md'}")


# 3. Ask/tell: your training loop, hposim's decisions. Two workers train at once; ASHA pauses
# the worse trials at rungs 1, 3 and 9 epochs and resumes the better ones from their
# checkpoints.
def train_one_epoch(config, epoch):
    """Stands in for a real epoch: a validation loss that falls with the epochs, lowest for a
    learning rate near 3e-3 and wider layers."""
    quality = (math.log10(config["lr"]) + 2.5) ** 2 + 8 / config["width"] + (0.2 if config["optimizer"] == "sgd" else 0.0)
    return quality + 2.0 / epoch


study = hposim.Study(
    space=[
        {"type": "float", "name": "lr", "low": 1e-5, "high": 1e-1, "log": True},
        {"type": "ordinal", "name": "width", "values": [32, 64, 128, 256]},
        {"type": "categorical", "name": "optimizer", "choices": ["sgd", "adam"]},
    ],
    objectives=[{"name": "val_loss", "direction": "minimize"}],
    fidelity={"min": 1, "max": 27, "unit": "epoch"},
    strategy={"name": "asha", "sampler": {"type": "tpe"}, "scheduler": {"type": "asha", "eta": 3, "variant": "promotion"}},
    workers=2,
    budget={"trials": 40},
    journal=work / "asha.jsonl",  # run this cell again after a crash: it carries on
)

# A sequential loop for brevity: each launch trains the epochs it was given, one worker at a
# time (with real parallel workers, call ask() whenever one is free and tell() from each).
while True:
    s = study.ask()
    if s.kind == "finish":
        break
    if s.kind == "wait":  # nothing to do until a running trial reports (not here: one at a time)
        continue
    # s.kind is "start" (train from scratch) or "resume" (load the checkpoint after s.from_step)
    for epoch in s.steps:
        answer = study.tell(s.trial, epoch, {"val_loss": train_one_epoch(s.config, epoch)}, cost=60.0)
        if answer != "continue":  # "pause": save a checkpoint; "stop"/"done": finished with it
            break

print(f"{len(study.trials)} trials; stopped because: {study.stop_reason}")
print(f"best: {study.best()}")
saved = study.save(work / "asha-study")
print(saved.cells.select("strategy", "trials", "epochs", "best_objective_max_fidelity"))
print(f"its report: {saved.report(work / 'asha-report') / 'report.md'}")

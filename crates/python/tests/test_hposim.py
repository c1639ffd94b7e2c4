"""Tests of the Python package against the installed wheel (CI: .ci/run builds the wheel with
maturin, installs it into a fresh virtual environment without Rust on PATH, and runs
``pytest crates/python/tests`` from the repository's root)."""

import heapq
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import hposim

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "crates" / "cli" / "tests" / "fixtures" / "ask-tell.toml"


def hposim_command(*args, cwd=None):
    """The ``hposim`` console script of the installed package (not a Rust binary on PATH)."""
    script = Path(sys.executable).parent / "hposim"
    return subprocess.run([str(script), *map(str, args)], capture_output=True, text=True, cwd=cwd)


# --- run and load ----------------------------------------------------------------------------

SMALL = {
    "name": "small",
    "seed": 3,
    "seeds": 3,
    "workers": 2,
    "budget": {"trials": 12},
    "benchmarks": [{"name": "smooth", "type": "synthetic", "family": "exponential", "max_epochs": 9, "noise": 0.01}],
    "strategies": [
        {"name": "random", "sampler": {"type": "random"}, "scheduler": {"type": "fifo"}},
        {"name": "asha", "sampler": {"type": "random"}, "scheduler": {"type": "asha", "eta": 3}},
    ],
}


def test_run_a_dict_load_it_and_match_the_command_line(tmp_path):
    results = hposim.run(SMALL, out=tmp_path / "api", threads=1)
    cells = results.cells
    assert isinstance(cells, pl.DataFrame)
    assert cells.height == 6 and cells.columns[:3] == ["benchmark", "strategy", "seed"]
    assert sorted(cells["strategy"].unique().to_list()) == ["asha", "random"]
    steps = results.steps
    assert steps.columns[:6] == ["benchmark", "strategy", "seed", "trial", "step", "step_unit"]
    assert steps.height == cells["epochs"].sum()
    # The same experiment as a file, run by the package's `hposim` command: the same cells,
    # bit for bit (same code, same fingerprint, same streams).
    toml = tmp_path / "small.toml"
    toml.write_text(
        'name = "small"\nseed = 3\nseeds = 3\nworkers = 2\n[budget]\ntrials = 12\n'
        '[[benchmarks]]\nname = "smooth"\ntype = "synthetic"\nfamily = "exponential"\nmax_epochs = 9\nnoise = 0.01\n'
        '[[strategies]]\nname = "random"\nsampler = { type = "random" }\nscheduler = { type = "fifo" }\n'
        '[[strategies]]\nname = "asha"\nsampler = { type = "random" }\nscheduler = { type = "asha", eta = 3 }\n'
    )
    done = hposim_command("run", toml, "--out", tmp_path / "cli", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "small: 6 cells (6 simulated, 0 reused" in done.stdout
    cli = hposim.load(tmp_path / "cli")
    key = ["benchmark", "strategy", "seed"]
    assert cli.cells.sort(key).select(key + ["best_objective", "epochs", "compute_seconds"]).equals(
        cells.sort(key).select(key + ["best_objective", "epochs", "compute_seconds"])
    )
    assert cli.steps.sort(key + ["trial", "step"]).equals(steps.sort(key + ["trial", "step"]))
    # Running again reuses every cell.
    again = hposim_command("run", toml, "--out", tmp_path / "cli", "--quiet")
    assert "(0 simulated, 6 reused" in again.stdout
    # The report of a loaded directory.
    out = cli.report(tmp_path / "report")
    assert (out / "report.md").read_text().startswith("#")
    assert (tmp_path / "report" / "report.html").is_file()


def test_pandas_through_polars(tmp_path):
    pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = hposim.run(SMALL, out=tmp_path / "r", threads=1).cells.to_pandas()
    assert len(frame) == 6


def test_the_default_experiment_from_the_repository(tmp_path):
    os.chdir(ROOT)
    results = hposim.run("experiments/default.toml", out=tmp_path / "default")
    assert results.cells.height == 320
    assert (results.cells["stop_reason"] != "").all()


def test_the_command_line_of_the_package():
    version = hposim_command("--version")
    assert version.returncode == 0 and version.stdout.startswith("hposim ")
    assert hposim.__version__ in version.stdout
    listing = hposim_command("list")
    assert listing.returncode == 0 and "asha" in listing.stdout
    usage = hposim_command("run")
    assert usage.returncode == 2 and "EXPERIMENT" in usage.stderr
    missing = hposim_command("run", "no/such/file.toml")
    assert missing.returncode == 1 and missing.stderr.startswith("error: no/such/file.toml")


# --- errors ----------------------------------------------------------------------------------


def test_bad_input_raises_hposim_error_with_the_command_lines_message(tmp_path):
    with pytest.raises(hposim.HposimError, match=r"no/such/file.toml"):
        hposim.run("no/such/file.toml")
    bad = dict(SMALL, workers=0)
    with pytest.raises(hposim.HposimError, match=r"workers"):
        hposim.run(bad, out=tmp_path / "bad")
    nameless = {k: v for k, v in SMALL.items() if k != "name"}
    with pytest.raises(hposim.HposimError, match=r"^name: give the experiment a name"):
        hposim.run(nameless, out=tmp_path / "nameless")
    with pytest.raises(hposim.HposimError, match=r"not a results directory"):
        hposim.load(tmp_path)
    # The message is the one the command line prints after "error: ".
    cli = hposim_command("run", "no/such/file.toml")
    try:
        hposim.run("no/such/file.toml")
    except hposim.HposimError as error:
        assert cli.stderr.strip() == f"error: {error}"
    with pytest.raises(hposim.HposimError, match=r"^strategy: unknown variant `no-such`"):
        hposim.Study(space=SPACE, objectives=LOSS, fidelity=FIDELITY,
                     strategy={"name": "x", "sampler": {"type": "random"}, "scheduler": {"type": "no-such"}})
    with pytest.raises(hposim.HposimError, match=r"space"):
        hposim.Study(space=[{"type": "float", "name": "lr", "low": 1.0, "high": 0.1}], objectives=LOSS,
                     fidelity=FIDELITY, strategy=ASHA)
    study = hposim.Study(space=SPACE, objectives=LOSS, fidelity=FIDELITY, strategy=ASHA)
    s = study.ask()
    with pytest.raises(hposim.HposimError, match=r"no value for objective\(s\) 'loss'"):
        study.tell(s.trial, 1, {"accuracy": 0.9})
    with pytest.raises(hposim.HposimError, match=r"every worker is busy"):
        study.ask()
    with pytest.raises(hposim.HposimError, match=r"trial 5 does not exist"):
        study.tell(5, 1, 0.3)


# --- ask/tell ----------------------------------------------------------------------------------

SPACE = [
    {"type": "float", "name": "lr", "low": 1e-4, "high": 1e-1, "log": True},
    {"type": "ordinal", "name": "width", "values": [16, 32, 64]},
    {"type": "categorical", "name": "optimizer", "choices": ["sgd", "adam"]},
]
LOSS = [{"name": "loss", "direction": "minimize"}]
FIDELITY = {"min": 1, "max": 27, "unit": "epoch"}
ASHA = {"name": "asha", "sampler": {"type": "random"}, "scheduler": {"type": "asha", "eta": 3, "variant": "promotion"}}


def toy_loss(config, step):
    """A made-up training run: better with lr near 0.01 and wider nets, improving with steps."""
    base = (math.log10(config["lr"]) + 2) ** 2 + 16 / config["width"] + (0.1 if config["optimizer"] == "sgd" else 0)
    return base + 1 / step


def train(study, stop_after=None):
    """The loop a user writes: ask, train the steps asked for, tell each; returns the calls."""
    calls = 0
    while True:
        s = study.ask()
        if s.kind == "finish":
            return calls
        assert s.kind in ("start", "resume"), s
        for step in s.steps:
            calls += 1
            answer = study.tell(s.trial, step, {"loss": toy_loss(s.config, step)}, cost=1.0)
            if stop_after is not None and calls == stop_after:
                return calls
            if answer != "continue":
                break


def test_ask_tell_in_a_training_loop(tmp_path):
    study = hposim.Study(space=SPACE, objectives=LOSS, fidelity=FIDELITY, strategy=ASHA, budget={"trials": 30}, seed=1)
    train(study)
    assert study.finished and study.stop_reason == "strategy_finished"
    trials = study.trials
    assert len(trials) == 30
    assert {t["status"] for t in trials} <= {"paused", "done"}
    # ASHA (eta 3, rungs 1, 3, 9, 27) promoted the best third: some trials reached 27.
    assert sum(t["steps"] == 27 for t in trials) >= 1
    best = study.best()
    losses = [toy_loss(t["config"], 27) for t in trials if t["steps"] == 27]
    assert best is not None and best["value"] == pytest.approx(min(losses))
    assert study.best_params == best["config"] and study.best_value == best["value"]
    # The summary of the saved study records the same best configuration.
    results = study.save(tmp_path / "study")
    assert results.cells.height == 1 and results.cells["trials"][0] == 30
    recorded = json.loads(results.cells["best_config"][0])
    assert recorded["config"] == best["config"] and recorded["trial"] == best["trial"]
    assert results.steps.height == sum(t["steps"] for t in trials)
    # What `hposim report` makes of it.
    report = hposim_command("report", tmp_path / "study", "--out", tmp_path / "report")
    assert report.returncode == 0, report.stderr
    assert "## Verdict" in (tmp_path / "report" / "report.md").read_text()


def test_a_journaled_study_resumes_after_a_crash(tmp_path):
    journal = tmp_path / "study.jsonl"
    whole = hposim.Study(space=SPACE, objectives=LOSS, fidelity=FIDELITY, strategy=ASHA, budget={"trials": 20})
    train(whole)
    crashed = hposim.Study(space=SPACE, objectives=LOSS, fidelity=FIDELITY, strategy=ASHA, budget={"trials": 20}, journal=journal)
    train(crashed, stop_after=25)
    del crashed  # the notebook's kernel died mid-launch
    study = hposim.Study(space=SPACE, objectives=LOSS, fidelity=FIDELITY, strategy=ASHA, budget={"trials": 20}, journal=journal)
    running = [t for t in study.running if t is not None]
    assert len(running) == 1, "the launch under way is still the worker's"
    trial = study.trials[running[0]]
    # Finish the launch under way, then carry on as usual.
    for step in range(trial["steps"] + 1, trial["until"] + 1):
        if study.tell(running[0], step, {"loss": toy_loss(trial["config"], step)}, cost=1.0) != "continue":
            break
    train(study)
    assert study.trials == whole.trials
    with pytest.raises(hposim.HposimError, match=r"study\.jsonl, line 1: was written by a study with other settings"):
        hposim.Study(space=SPACE, objectives=LOSS, fidelity=FIDELITY, strategy=ASHA, budget={"trials": 21}, journal=journal)


def replay(study, bench):
    """Replays ``bench`` through ``study`` with the simulator's event order: one event per
    running step at its end time, ties to the step scheduled first; a freed worker is asked at
    once, and the workers told to wait after every result."""
    queue, running, seq = [], {}, 0

    def run(worker, trial, config, step, now):
        nonlocal seq
        metrics, cost = bench.step(config, step)
        heapq.heappush(queue, (now + cost, seq, worker))
        seq += 1
        running[worker] = (trial, config, step, metrics, cost)

    def follow(s, now):
        if s.kind in ("start", "resume"):
            run(s.worker, s.trial, s.config, s.from_step + 1, now)

    for worker in range(study.spec["workers"]):
        follow(study.ask(worker, now=0.0), 0.0)
    while queue:
        now, _, worker = heapq.heappop(queue)
        trial, config, step, metrics, cost = running.pop(worker)
        if study.tell(trial, step, metrics, cost=cost, now=now) == "continue":
            run(worker, trial, config, step + 1, now)
        else:
            follow(study.ask(worker, now=now), now)
        for s in study.wake(now=now):
            follow(s, now)


@pytest.mark.parametrize("strategy", ["asha", "asha-stopping", "hyperband", "bohb"])
@pytest.mark.parametrize("repetition", [0, 1])
def test_ask_tell_reproduces_the_simulators_trace(tmp_path, strategy, repetition):
    simulated = hposim.run(FIXTURE, out=tmp_path / "sim", threads=1)
    study = hposim.Study.from_experiment(FIXTURE, "crossing", strategy, repetition)
    replay(study, hposim.Benchmark(FIXTURE, "crossing", repetition))
    key = ["trial", "step", "worker", "start", "end", "launch_seconds", "exit_seconds", "val_error", "status", "decision"]
    sim = simulated.steps.filter((pl.col("strategy") == strategy) & (pl.col("seed") == repetition))
    ours = study.trace()
    columns = [c for c in key if c in sim.columns]
    assert columns == key, sim.columns
    assert sim.height > 100
    assert ours.select(columns).equals(sim.select(columns), null_equal=True)
    config = [c for c in sim.columns if c.startswith("config_")]
    assert config and ours.select(config).equals(sim.select(config), null_equal=True)

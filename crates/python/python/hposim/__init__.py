"""hposim from Python.

Three ways in, all running the code of the ``hposim`` command (a Rust extension module):

* ``hposim.run(experiment)`` simulates an experiment (a TOML file or a dict of the same keys)
  and returns its :class:`Results`;
* ``hposim.load(results_dir)`` reads a results directory of ``hposim run``, ``hposim tune`` or
  an ask/tell study: ``.cells`` and ``.steps`` are polars DataFrames (``.to_pandas()`` for
  pandas), ``.report(out)`` writes the comparison report;
* :class:`Study` drives your own training loop with hposim's strategies through ask/tell:
  ``ask()`` says what a free worker should do (start a trial, resume a paused one, wait, or
  finish), ``tell(trial, step, metrics)`` says whether the trial continues, pauses or stops.

Every failure raises :class:`HposimError` with the message the command line prints.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from . import _hposim
from ._hposim import HposimError

__all__ = [
    "Benchmark",
    "HposimError",
    "Results",
    "Study",
    "Suggestion",
    "load",
    "run",
    "__version__",
]

__version__: str = _hposim.VERSION.split(" ")[0]
"""The version of hposim (``hposim --version`` adds the code's fingerprint)."""

PathLike = Union[str, "os.PathLike[str]"]


def _polars():
    import polars

    return polars


class Results:
    """A results directory: its cells (one row per benchmark × strategy × seed) and steps."""

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        if not (self.path / "summary.json").is_file() and not (self.path / "cells").is_dir():
            raise HposimError(f"{self.path}: not a results directory (no summary.json, no cells/)")
        self._steps = None

    def __repr__(self) -> str:
        return f"hposim.Results({str(self.path)!r})"

    @property
    def cells(self):
        """One row per finished cell: benchmark, strategy, seed, then its summary (final and best
        objective, trials, steps, compute and wall-clock seconds, stop reason, ...), as a polars
        DataFrame."""
        pl = _polars()
        summary = self.path / "summary.json"
        if summary.is_file():
            rows = json.loads(summary.read_text())
        else:
            # A run still going (or interrupted): the cells written so far.
            rows = [
                json.loads(p.read_text())
                for p in sorted((self.path / "cells").glob("*.json"))
                if not p.name.endswith(".exploits.json")
            ]
        if not rows:
            return pl.DataFrame()
        frame = pl.DataFrame([_flat(row) for row in rows], infer_schema_length=None)
        first = [c for c in ("benchmark", "strategy", "seed") if c in frame.columns]
        return frame.select(first + [c for c in frame.columns if c not in first])

    @property
    def steps(self):
        """Every step of every finished cell (what ``hposim export`` writes): benchmark,
        strategy, seed, trial, step and its unit, the trace's columns (times in seconds,
        metrics, status, decision) and the configuration, as a polars DataFrame."""
        if self._steps is None:
            with tempfile.TemporaryDirectory(prefix="hposim-") as tmp:
                out = os.path.join(tmp, "steps.parquet")
                _hposim.export(str(self.path), out)
                self._steps = _polars().read_parquet(out)
        return self._steps

    def report(
        self,
        out: Optional[PathLike] = None,
        *,
        baseline: str = "random",
        convention: str = "highest-fidelity",
        figure_size: str = "screen",
    ) -> Path:
        """Writes the comparison report (report.md, report.html, figures, tables) to ``out``
        (default ``reports/NAME``) and returns its directory."""
        args = ["hposim", "report", str(self.path), "--baseline", baseline, "--convention", convention,
                "--figure-size", figure_size]
        if out is not None:
            args += ["--out", str(out)]
        _hposim.command(args)
        return Path(out) if out is not None else Path("reports") / self.path.name


def _flat(row: Mapping[str, Any]) -> Dict[str, Any]:
    """A summary record with lists (sampler warnings, Pareto fronts) kept as JSON text, so that
    every column has one type."""
    return {k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in row.items()}


def run(
    experiment: Union[PathLike, Mapping[str, Any]],
    out: Optional[PathLike] = None,
    threads: Optional[int] = None,
    *,
    quiet: bool = True,
) -> Results:
    """Runs an experiment, as ``hposim run`` does, and returns its results.

    ``experiment`` is a TOML file (``"experiments/default.toml"``) or a dict of the same keys
    (``name`` required). ``out`` defaults to ``results/NAME``; ``threads`` to every core (results
    do not depend on it). Finished cells are reused, so a rerun only computes what changed.
    With ``quiet=False`` the progress bar and the end-of-run table are printed.
    """
    if isinstance(experiment, Mapping):
        source, is_path = json.dumps(experiment), False
    else:
        source, is_path = os.fspath(experiment), True
    folder = _hposim.run(source, is_path, None if out is None else os.fspath(out), threads, quiet, not quiet)
    return Results(folder)


def load(results: PathLike) -> Results:
    """The results directory ``results`` (of ``hposim run``, ``hposim tune`` or
    :meth:`Study.save`)."""
    return Results(results)


@dataclass(frozen=True)
class Suggestion:
    """What a free worker should do, as :meth:`Study.ask` answers.

    ``kind`` is ``"start"`` (a new trial: train ``config`` from step 1 to ``until``),
    ``"resume"`` (a paused trial: from its checkpoint after ``from_step`` to ``until``),
    ``"exploit"`` (population-based training: a new trial with ``config`` from the checkpoint
    of trial ``donor`` after ``from_step``, replacing trial ``recipient``), ``"wait"`` (nothing to
    do until another result arrives) or ``"finish"`` (nothing more to do).
    """

    kind: str
    worker: int
    trial: Optional[int] = None
    config: Dict[str, Any] = field(default_factory=dict)
    from_step: int = 0
    until: int = 0
    donor: Optional[int] = None
    recipient: Optional[int] = None

    @property
    def steps(self) -> range:
        """The steps to train in this launch: ``from_step + 1`` to ``until``."""
        return range(self.from_step + 1, self.until + 1)


def _suggestion(text: str) -> Suggestion:
    return Suggestion(**json.loads(text))


class Study:
    """An ask/tell study: hposim's strategies deciding for your training loop.

    The keys are those of a live experiment file (``experiments/README.md``): ``space`` (a list
    of parameter tables), ``objectives`` (``[{"name": ..., "direction": "minimize"}]``; the
    first ranks trials), ``fidelity`` (``{"min": 1, "max": 81, "unit": "epoch"}``), ``strategy``
    (a ``[[strategies]]`` table: ``name``, ``sampler``, ``scheduler``), ``workers`` (slots that
    train at the same time), ``budget`` (``trials``, ``compute_seconds``, ``wallclock_seconds``,
    ``full_evaluations``), ``checkpointing``, ``seed`` and ``repetition``.

    With ``journal`` (a file), every call is recorded before it is answered, and a study
    created again on the same journal continues where it stopped (a crashed notebook loses
    nothing). Times are the study's seconds: by default the wall clock since the study began,
    or what you pass as ``now`` (and a step's compute as ``cost``).
    """

    def __init__(
        self,
        *,
        space: Sequence[Mapping[str, Any]],
        objectives: Sequence[Mapping[str, Any]],
        fidelity: Mapping[str, Any],
        strategy: Mapping[str, Any],
        workers: int = 1,
        budget: Optional[Mapping[str, Any]] = None,
        checkpointing: bool = True,
        seed: int = 0,
        repetition: int = 0,
        name: str = "study",
        journal: Optional[PathLike] = None,
    ) -> None:
        spec = {
            "name": name,
            "space": list(space),
            "objectives": list(objectives),
            "fidelity": dict(fidelity),
            "strategy": dict(strategy),
            "workers": workers,
            "budget": dict(budget or {}),
            "checkpointing": checkpointing,
            "seed": seed,
            "repetition": repetition,
        }
        self._open(json.dumps(spec), journal)

    def _open(self, spec: str, journal: Optional[PathLike]) -> None:
        self._study = _hposim.Study(spec, None if journal is None else os.fspath(journal))
        self._spec = json.loads(self._study.spec())
        self.objectives: List[str] = [o["name"] for o in self._spec["objectives"]]

    @classmethod
    def from_experiment(
        cls,
        experiment: PathLike,
        benchmark: str,
        strategy: str,
        repetition: int = 0,
        *,
        journal: Optional[PathLike] = None,
    ) -> "Study":
        """The study that asks what ``hposim run`` asks in the cell (``benchmark``,
        ``strategy``, ``repetition``) of a simulated experiment: its space, objectives,
        fidelity, strategy, workers, budget and seed. Replaying that benchmark through it
        (:class:`Benchmark`) reproduces the simulator's trace."""
        study = cls.__new__(cls)
        study._open(_hposim.spec_of_cell(os.fspath(experiment), benchmark, strategy, repetition), journal)
        return study

    def __repr__(self) -> str:
        return f"hposim.Study({self._spec['strategy']['name']!r} on {self._spec['name']!r}, {len(self.trials)} trials)"

    @property
    def spec(self) -> Dict[str, Any]:
        """The study's settings, defaults filled in."""
        return dict(self._spec)

    def ask(self, worker: Optional[int] = None, *, now: Optional[float] = None) -> Suggestion:
        """What worker ``worker`` (default: the first free one, else the first waiting one)
        should do. Raises :class:`HposimError` if every worker runs a trial."""
        return _suggestion(self._study.ask(worker, now))

    def tell(
        self,
        trial: int,
        step: int,
        metrics: Union[float, Sequence[float], Mapping[str, float]],
        *,
        cost: Optional[float] = None,
        now: Optional[float] = None,
    ) -> str:
        """Step ``step`` of ``trial`` completed with ``metrics`` (a dict by objective name, a
        sequence in the objectives' order, or one number for one objective; NaN or infinity
        for a diverged run). Returns what the trial does next: ``"continue"`` (train the next
        step), ``"pause"`` (save its checkpoint and end the launch: it may be resumed),
        ``"stop"``, ``"done"`` (full fidelity) or ``"cut"`` (the budget ran out). Every answer
        but ``"continue"`` frees the trial's worker: ask again for it."""
        return self._study.tell(trial, step, self._values(metrics), cost, now)

    def _values(self, metrics: Union[float, Sequence[float], Mapping[str, float]]) -> List[float]:
        if isinstance(metrics, Mapping):
            missing = [o for o in self.objectives if o not in metrics]
            if missing:
                raise HposimError(f"metrics: no value for objective(s) {', '.join(map(repr, missing))} (got {sorted(metrics)})")
            return [float(metrics[o]) for o in self.objectives]
        if isinstance(metrics, (int, float)):
            return [float(metrics)]
        return [float(m) for m in metrics]

    def fail(self, trial: int, step: Optional[int] = None, *, now: Optional[float] = None) -> None:
        """Trial ``trial`` failed (crashed, ran out of memory or time) during ``step`` (default:
        its next step). The strategy counts it as a diverged run; its worker is free."""
        self._study.fail(trial, step, now)

    def wake(self, *, now: Optional[float] = None) -> List[Suggestion]:
        """Asks again the workers that were told to wait, now that results have arrived, until
        one is told to wait again (what the simulator does after every result)."""
        return [Suggestion(**s) for s in json.loads(self._study.wake(now))]

    @property
    def trials(self) -> List[Dict[str, Any]]:
        """Every trial: ``trial``, ``config``, ``status`` (running, paused, stopped, diverged,
        done, failed), ``steps`` done and the step it runs ``until``."""
        return json.loads(self._study.trials())

    @property
    def running(self) -> List[Optional[int]]:
        """The trial each worker runs (``None`` where it runs none): after resuming from a
        journal, the launches that were under way."""
        return list(self._study.running())

    @property
    def waiting(self) -> List[int]:
        """Workers told to wait that a result has arrived for since (see :meth:`wake`)."""
        return list(self._study.waiting())

    @property
    def finished(self) -> bool:
        """Whether every worker has been told to finish."""
        return self._study.finished()

    @property
    def stop_reason(self) -> str:
        """Why the study ended (or would end now): ``strategy_finished``, ``budget:trials``..."""
        return self._study.stop_reason()

    def best(self) -> Optional[Dict[str, Any]]:
        """The best trial at full fidelity by the first objective (``None`` before any):
        ``trial``, ``config`` and ``value``."""
        steps = self.trace()
        if steps.is_empty():
            return None
        pl = _polars()
        objective = self.objectives[0]
        top = int(self._spec["fidelity"]["max"])
        full = steps.filter((pl.col("step") == top) & pl.col(objective).is_finite())
        if full.is_empty():
            return None
        descending = self._spec["objectives"][0].get("direction", "minimize") == "maximize"
        row = full.sort(objective, descending=descending).row(0, named=True)
        trial = int(row["trial"])
        return {"trial": trial, "config": self.trials[trial]["config"], "value": row[objective]}

    @property
    def best_params(self) -> Optional[Dict[str, Any]]:
        """The configuration of :meth:`best` (``None`` before any result), as Optuna names it."""
        best = self.best()
        return None if best is None else best["config"]

    @property
    def best_value(self) -> Optional[float]:
        """The value of :meth:`best` (``None`` before any result), as Optuna names it."""
        best = self.best()
        return None if best is None else best["value"]

    def save(self, out: PathLike) -> Results:
        """Writes the study as a results directory (``manifest.json``, ``cells/``,
        ``summary.json``) that ``hposim report`` and :func:`load` read."""
        self._study.save(os.fspath(out))
        return Results(out)

    def trace(self):
        """Every step told so far, tidy (as :attr:`Results.steps`), as a polars DataFrame."""
        with tempfile.TemporaryDirectory(prefix="hposim-study-") as tmp:
            return self.save(tmp).steps


class Benchmark:
    """A benchmark of a simulated experiment, replayed step by step: the metrics and cost of
    any configuration's step, with the noise the simulator gives repetition ``repetition``
    (so that an ask/tell loop over it can reproduce ``hposim run``)."""

    def __init__(self, experiment: PathLike, name: str, repetition: int = 0) -> None:
        self._bench = _hposim.Benchmark(os.fspath(experiment), name, repetition)
        self.objectives: List[str] = list(self._bench.objectives())
        self.max_fidelity: int = self._bench.max_fidelity()

    def step(self, config: Mapping[str, Any], step: int):
        """The metrics (a dict by objective name) and the cost in seconds of step ``step`` of a
        trial with ``config``."""
        values, cost = self._bench.step(json.dumps(dict(config)), step)
        return dict(zip(self.objectives, values)), cost

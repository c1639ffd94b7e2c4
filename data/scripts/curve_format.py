"""Shared helpers for the recording and conversion scripts in data/scripts/.

Writes a recorded benchmark (``NAME.parquet`` + ``NAME.toml``) in the recorded-curve format,
version 1, described in ``data/FORMAT.md``, and checks a written pair against that contract:
re-reads the TOML with :mod:`tomllib` and the Parquet file with pyarrow and asserts every rule
the Rust loader (``hposim_curves::recorded``) enforces, as far as FORMAT.md states them, plus the
rule of ``lookup = "nearest"`` that every combination of categorical values the space allows is
recorded in every task. The check is stricter than the format on column types: it accepts the
types these scripts write (64-bit integers and floats, plain strings), not the 32-bit integers,
boolean choices or all-null columns that FORMAT.md also allows.

Each Parquet column has one role, with one exception: ``[columns] cost`` may name one of the
``[[metrics]]`` columns (a training time that is also an objective, say). That column is then
checked both as the cost (finite and > 0 on every row) and as a metric.

The optional top-level key ``sha256`` holds the SHA-256 of the Parquet file's bytes (64 lowercase
hex digits). write_pair always writes it (computed from the file just written); check_pair
verifies it when present, before reading the Parquet file, and accepts its absence.

The TOML is written by hand (string formatting): Python 3.11 can read TOML (tomllib) but not
write it. Only the keys FORMAT.md lists are written, because the loader refuses unknown keys.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import sys
import tomllib
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FORMAT_VERSION = 1
TOP_KEYS = {
    "format", "name", "description", "source", "licence", "command", "sha256", "allow_divergence",
    "columns", "fidelity", "metrics", "space",
}
SHA256_RE = re.compile(r"[0-9a-f]{64}")
COLUMN_ROLES = ("config", "step", "cost", "repeat", "task", "fidelity_value")
REQUIRED_ROLES = ("config", "step", "cost")
SPACE_KEYS = {
    "float": {"type", "name", "low", "high", "log", "condition"},
    "int": {"type", "name", "low", "high", "log", "condition"},
    "categorical": {"type", "name", "choices", "condition"},
    "ordinal": {"type", "name", "values", "condition"},
}


class FormatError(Exception):
    """A written file pair breaks the recorded-curve format."""


def fail(message: str) -> None:
    """Print a message to stderr and exit with status 1 (for bad command-line input)."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def toml_value(value: Any) -> str:
    """One TOML value: string, bool, int, finite float, list or inline table of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if not math.isfinite(x):
            raise ValueError(f"cannot write the non-finite number {x} to TOML")
        text = repr(x)  # '0.0001', '1e-06', '0.3': all valid TOML floats
        return text
    if isinstance(value, str):
        # JSON basic strings with ensure_ascii=False are valid TOML basic strings
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) to TOML")


def metadata_toml(meta: dict[str, Any]) -> str:
    """The text of ``NAME.toml`` for a metadata dict with the keys of FORMAT.md."""
    unknown = set(meta) - TOP_KEYS
    if unknown:
        raise ValueError(f"unknown metadata keys {sorted(unknown)}")
    lines = [f"format = {FORMAT_VERSION}"]
    for key in ("name", "description", "source", "licence", "command", "sha256", "allow_divergence"):
        if key in meta:
            lines.append(f"{key} = {toml_value(meta[key])}")
    lines += ["", "[columns]"]
    for role in COLUMN_ROLES:
        if role in meta["columns"]:
            lines.append(f"{role} = {toml_value(meta['columns'][role])}")
    lines += ["", "[fidelity]"]
    for key in ("unit", "min", "max"):
        if key in meta["fidelity"]:
            lines.append(f"{key} = {toml_value(meta['fidelity'][key])}")
    for metric in meta["metrics"]:
        lines += ["", "[[metrics]]", f"name = {toml_value(metric['name'])}",
                  f"direction = {toml_value(metric['direction'])}"]
    for param in meta["space"]:
        lines += ["", "[[space]]"]
        for key in ("type", "name", "low", "high", "log", "choices", "values", "condition"):
            if key in param:
                lines.append(f"{key} = {toml_value(param[key])}")
    return "\n".join(lines) + "\n"


def file_sha256(path: str) -> str:
    """The SHA-256 of a file's bytes, as 64 lowercase hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_pair(stem: str, table: pa.Table, meta: dict[str, Any],
               require_all_combinations: bool = True,
               byte_stream_split: list[str] | None = None) -> tuple[str, str, dict[str, Any]]:
    """Write ``stem.parquet`` (zstd) and ``stem.toml``, then check the pair (see check_pair).

    ``byte_stream_split`` names float columns to write with Parquet's BYTE_STREAM_SPLIT encoding
    instead of dictionary/plain encoding: smaller for float values with many distinct values
    (for float32 values stored as float64 especially), larger for values repeated per
    configuration. The TOML gets ``sha256`` = the SHA-256 of the Parquet file just written
    (any ``sha256`` in ``meta`` is replaced). Returns both paths and check_pair's counts.
    """
    parquet_path, toml_path = stem + ".parquet", stem + ".toml"
    directory = os.path.dirname(os.path.abspath(parquet_path))
    os.makedirs(directory, exist_ok=True)
    options: dict[str, Any] = {}
    if byte_stream_split:
        options["use_byte_stream_split"] = list(byte_stream_split)
        options["use_dictionary"] = [c for c in table.column_names if c not in byte_stream_split]
    pq.write_table(table, parquet_path, compression="zstd", compression_level=19, **options)
    meta = {**meta, "sha256": file_sha256(parquet_path)}
    with open(toml_path, "w", encoding="utf-8") as f:
        f.write(metadata_toml(meta))
    counts = check_pair(parquet_path, toml_path, require_all_combinations)
    return parquet_path, toml_path, counts


# ---------------------------------------------------------------------------------------------
# Checking
# ---------------------------------------------------------------------------------------------

def _require(condition: bool, message: str) -> None:
    if not condition:
        raise FormatError(message)


def _check_metadata(meta: dict[str, Any], where: str) -> None:
    unknown = set(meta) - TOP_KEYS
    _require(not unknown, f"{where}: unknown keys {sorted(unknown)}")
    _require(meta.get("format") == FORMAT_VERSION, f"{where}: format must be {FORMAT_VERSION}")
    for key in ("name", "description", "source", "licence"):
        _require(isinstance(meta.get(key), str) and meta[key] != "", f"{where}: {key} missing")
    if "command" in meta:
        _require(isinstance(meta["command"], str), f"{where}: command must be a string")
    if "sha256" in meta:
        _require(isinstance(meta["sha256"], str) and SHA256_RE.fullmatch(meta["sha256"]) is not None,
                 f"{where}: sha256 must be 64 lowercase hex digits")
    _require(isinstance(meta.get("allow_divergence", False), bool), f"{where}: allow_divergence")
    columns = meta.get("columns", {})
    _require(set(columns) <= set(COLUMN_ROLES), f"{where}: unknown [columns] keys")
    for role in REQUIRED_ROLES:
        _require(isinstance(columns.get(role), str), f"{where}: [columns] {role} missing")
    fidelity = meta.get("fidelity", {})
    _require(set(fidelity) <= {"unit", "min", "max"}, f"{where}: unknown [fidelity] keys")
    _require(isinstance(fidelity.get("unit"), str), f"{where}: fidelity.unit missing")
    metrics = meta.get("metrics", [])
    _require(len(metrics) >= 1, f"{where}: no [[metrics]]")
    for m in metrics:
        _require(set(m) == {"name", "direction"}, f"{where}: metric keys {sorted(m)}")
        _require(m["direction"] in ("maximize", "minimize"), f"{where}: direction {m['direction']}")
    space = meta.get("space", [])
    _require(len(space) >= 1, f"{where}: no [[space]]")
    names = [p.get("name") for p in space]
    _require(len(set(names)) == len(names), f"{where}: duplicate parameter names")
    metric_names = [m["name"] for m in metrics]
    # the one column allowed two roles: a cost column that is also a metric
    used = [c for r, c in columns.items() if not (r == "cost" and c in metric_names)]
    used += metric_names + names
    _require(len(set(used)) == len(used), f"{where}: a column is named twice: {used}")
    for p in space:
        kind = p.get("type")
        _require(kind in SPACE_KEYS, f"{where}: parameter {p.get('name')}: type {kind}")
        _require(set(p) <= SPACE_KEYS[kind] and "name" in p,
                 f"{where}: parameter {p.get('name')}: keys {sorted(p)}")
        if kind in ("float", "int"):
            _require(p["low"] < p["high"], f"{where}: {p['name']}: low >= high")
            if p.get("log", False):
                _require(p["low"] > 0 if kind == "float" else p["low"] >= 1,
                         f"{where}: {p['name']}: log scale needs a positive low")
        else:
            choices = p["choices"] if kind == "categorical" else p["values"]
            _require(len(choices) >= 1 and len(set(map(repr, choices))) == len(choices),
                     f"{where}: {p['name']}: empty or duplicate choices")
        if "condition" in p:
            cond = p["condition"]
            _require(set(cond) == {"parent", "values"}, f"{where}: {p['name']}: condition keys")
            _require(cond["parent"] in names and names.index(cond["parent"]) < names.index(p["name"]),
                     f"{where}: {p['name']}: condition parent must be an earlier parameter")


def _column(table: pa.Table, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(values, is_null) of one column as numpy arrays (object arrays for strings)."""
    col = table.column(name).combine_chunks()
    nulls = col.is_null().to_numpy(zero_copy_only=False)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        values = np.array(col.to_pylist(), dtype=object)
    elif pa.types.is_floating(col.type):
        values = col.fill_null(math.nan).to_numpy(zero_copy_only=False)
    elif pa.types.is_integer(col.type):
        values = col.fill_null(0).to_numpy(zero_copy_only=False)
    elif pa.types.is_boolean(col.type):
        values = col.fill_null(False).to_numpy(zero_copy_only=False)
    else:
        raise FormatError(f"column {name}: unsupported type {col.type}")
    return values, nulls


def _choice_type(choices: list[Any]) -> pa.DataType:
    if all(isinstance(c, bool) for c in choices):
        return pa.bool_()
    if all(isinstance(c, int) and not isinstance(c, bool) for c in choices):
        return pa.int64()
    if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in choices):
        return pa.float64()
    if all(isinstance(c, str) for c in choices):
        return pa.string()
    raise FormatError(f"mixed choice types {choices}")


def check_pair(parquet_path: str, toml_path: str, require_all_combinations: bool = True) -> dict[str, Any]:
    """Assert that a file pair satisfies data/FORMAT.md; returns a few counts for reports.

    FORMAT.md's list of what the loader refuses does not include a task that lacks some
    combination of categorical values, but replay with ``lookup = "nearest"`` needs them all:
    with ``require_all_combinations`` a missing one is an error, otherwise a warning. A
    ``sha256`` in the metadata is checked against the Parquet file's bytes before the file is
    decoded (a mismatch is an error); without it the bytes are not checked.
    """
    with open(toml_path, "rb") as f:
        meta = tomllib.load(f)
    _check_metadata(meta, toml_path)
    if "sha256" in meta:
        actual_sha = file_sha256(parquet_path)
        _require(actual_sha == meta["sha256"],
                 f"{parquet_path}: SHA-256 {actual_sha} does not match the metadata's sha256 "
                 f"{meta['sha256']} ({toml_path})")
    table = pq.read_table(parquet_path)
    where = parquet_path
    columns = meta["columns"]
    metrics = [m["name"] for m in meta["metrics"]]
    space = meta["space"]
    # the cost column may also be a metric (check_metadata allows no other shared column)
    expected = list(dict.fromkeys(list(columns.values()) + metrics + [p["name"] for p in space]))
    present = table.column_names
    _require(set(present) == set(expected) and len(present) == len(expected),
             f"{where}: columns {present} differ from the metadata's {expected}")
    n = table.num_rows
    _require(n > 0, f"{where}: no rows")

    # types
    types = {columns["config"]: pa.int64(), columns["step"]: pa.int64(),
             columns["cost"]: pa.float64()}
    if "repeat" in columns:
        types[columns["repeat"]] = pa.int64()
    if "task" in columns:
        types[columns["task"]] = pa.string()
    if "fidelity_value" in columns:
        types[columns["fidelity_value"]] = pa.float64()
    for m in metrics:
        types[m] = pa.float64()
    for p in space:
        if p["type"] == "float":
            types[p["name"]] = pa.float64()
        elif p["type"] == "int":
            types[p["name"]] = pa.int64()
        else:
            types[p["name"]] = _choice_type(p["choices"] if p["type"] == "categorical" else p["values"])
    for name, dtype in types.items():
        actual = table.schema.field(name).type
        _require(actual == dtype, f"{where}: column {name} is {actual}, expected {dtype}")

    def no_nulls(name: str) -> np.ndarray:
        values, nulls = _column(table, name)
        _require(not nulls.any(), f"{where}: column {name} has nulls (row {np.argmax(nulls)})")
        return values

    config = no_nulls(columns["config"])
    step = no_nulls(columns["step"])
    cost = no_nulls(columns["cost"])
    repeat = no_nulls(columns["repeat"]) if "repeat" in columns else np.zeros(n, dtype=np.int64)
    if "task" in columns:
        task_names, task = np.unique(no_nulls(columns["task"]).astype(str), return_inverse=True)
    else:
        task_names, task = np.array([""]), np.zeros(n, dtype=np.int64)
    if "fidelity_value" in columns:
        fv = no_nulls(columns["fidelity_value"])
        _require(np.isfinite(fv).all(), f"{where}: non-finite fidelity_value")

    bad = np.flatnonzero(step < 1)
    _require(bad.size == 0, f"{where}: row {bad[:1]}: step below 1")
    bad = np.flatnonzero(~(np.isfinite(cost) & (cost > 0)))
    _require(bad.size == 0, f"{where}: row {bad[:1]}: cost {cost[bad[:1]]} not finite and > 0")

    # metrics: all finite, or none (diverged: NaN or null; the loader treats infinity alike)
    missing = np.stack([~np.isfinite(_column(table, m)[0]) | _column(table, m)[1] for m in metrics], axis=1)
    diverged = missing.all(axis=1)
    partial = missing.any(axis=1) & ~diverged
    bad = np.flatnonzero(partial)
    _require(bad.size == 0, f"{where}: row {bad[:1]}: some but not all metrics NaN or infinite")
    if diverged.any():
        _require(meta.get("allow_divergence", False),
                 f"{where}: row {np.argmax(diverged)}: diverged step without allow_divergence")

    # curves: steps 1..k, no duplicates, complete unless ending in a diverged step
    order = np.lexsort((step, repeat, config, task))
    t, c, r, s, d = task[order], config[order], repeat[order], step[order], diverged[order]
    new_curve = np.ones(n, dtype=bool)
    new_curve[1:] = (t[1:] != t[:-1]) | (c[1:] != c[:-1]) | (r[1:] != r[:-1])
    starts = np.flatnonzero(new_curve)
    curve_id = np.cumsum(new_curve) - 1
    position = np.arange(n) - starts[curve_id] + 1
    bad = np.flatnonzero(s != position)
    _require(bad.size == 0, f"{where}: row {order[bad[:1]]}: missing or duplicate step "
                            f"(task {task_names[t[bad[:1]]]}, config {c[bad[:1]]}, repeat {r[bad[:1]]})")
    ends = np.append(starts[1:], n) - 1
    curve_len = s[ends]
    curve_task = t[ends]
    task_max = np.zeros(len(task_names), dtype=np.int64)
    np.maximum.at(task_max, curve_task, curve_len)
    is_end = np.zeros(n, dtype=bool)
    is_end[ends] = True
    bad = np.flatnonzero(d & ~is_end)
    _require(bad.size == 0, f"{where}: row {order[bad[:1]]}: a diverged step that does not end its curve")
    short = (curve_len < task_max[curve_task]) & ~d[ends]
    bad = np.flatnonzero(short)
    _require(bad.size == 0, f"{where}: row {order[ends[bad[:1]]]}: curve ends before full fidelity "
                            "without diverging")
    fidelity = meta["fidelity"]
    if "max" in fidelity:
        _require(bool((task_max == fidelity["max"]).all()),
                 f"{where}: fidelity.max {fidelity['max']} but tasks end at {sorted(set(task_max))}")
    _require(bool((task_max >= fidelity.get("min", 1)).all()), f"{where}: fidelity.min above a task's end")

    # parameters: domain, conditions, constant per configuration id
    values: dict[str, tuple[np.ndarray, np.ndarray]] = {p["name"]: _column(table, p["name"]) for p in space}
    active: dict[str, np.ndarray] = {}
    by_config = np.argsort(config, kind="stable")
    cs = config[by_config]
    same_config = np.zeros(n, dtype=bool)
    same_config[1:] = cs[1:] == cs[:-1]
    for p in space:
        name = p["name"]
        vals, nulls = values[name]
        if "condition" in p:
            cond = p["condition"]
            parent_vals, _ = values[cond["parent"]]
            holds = np.zeros(n, dtype=bool)
            for v in cond["values"]:
                holds |= parent_vals == v
            act = active[cond["parent"]] & holds
        else:
            act = np.ones(n, dtype=bool)
        active[name] = act
        bad = np.flatnonzero(act & nulls)
        _require(bad.size == 0, f"{where}: row {bad[:1]}, column {name}: null for an active parameter")
        bad = np.flatnonzero(~act & ~nulls)
        _require(bad.size == 0, f"{where}: row {bad[:1]}, column {name}: set for an inactive parameter")
        a = vals[act]
        if p["type"] in ("float", "int"):
            ok = np.isfinite(a.astype(float)) & (a >= p["low"]) & (a <= p["high"])
        else:
            choices = p["choices"] if p["type"] == "categorical" else p["values"]
            ok = np.isin(a, np.array(choices, dtype=object if isinstance(choices[0], str) else None))
        bad = np.flatnonzero(~ok)
        _require(bad.size == 0, f"{where}: column {name}: value {a[bad[:1]]} outside the declared space")
        # constant per configuration id
        v, nl = vals[by_config], nulls[by_config]
        differs = same_config[1:] & ((nl[1:] != nl[:-1]) | (~nl[1:] & (v[1:] != v[:-1])))
        bad = np.flatnonzero(differs)
        _require(bad.size == 0, f"{where}: config {cs[bad[:1] + 1]}: {name} differs between rows")

    # lookup = "nearest": every allowed combination of categorical values recorded in every task
    cats = [p for p in space if p["type"] == "categorical"]
    combos_needed = _categorical_combinations(space, cats)
    missing_combinations = 0
    for ti, tname in enumerate(task_names):
        rows = task == ti
        seen = set(zip(*[tuple(np.where(values[p["name"]][1][rows], None, values[p["name"]][0][rows]))
                         for p in cats])) if cats else {()}
        missing = combos_needed - seen
        if missing:
            message = (f"{where}: task {str(tname)!r}: {len(missing)} categorical combinations not "
                       f"recorded (replay with lookup = \"nearest\" needs them all): "
                       f"{sorted(missing, key=repr)[:5]}")
            _require(not require_all_combinations, message)
            print(f"warning: {message}", file=sys.stderr)
            missing_combinations += len(missing)

    return {"rows": n, "curves": len(starts), "tasks": len(task_names),
            "configs": len(np.unique(config)), "diverged_curves": int(d[ends].sum()),
            "task_max_steps": sorted(set(int(x) for x in task_max)),
            "missing_combinations": missing_combinations}


def _categorical_combinations(space: list[dict[str, Any]], cats: list[dict[str, Any]]) -> set[tuple]:
    """All combinations of categorical values (None where inactive) that the space allows."""
    if not cats:
        return {()}
    combos = set()
    names = [p["name"] for p in cats]
    by_name = {p["name"]: p for p in space}
    for choice in itertools.product(*[p["choices"] for p in cats]):
        assignment = dict(zip(names, choice))

        def is_active(name: str) -> bool:
            cond = by_name[name].get("condition")
            if cond is None:
                return True
            parent = cond["parent"]
            if parent not in assignment:  # a non-categorical parent: assume it can take the values
                return is_active(parent)
            return is_active(parent) and assignment[parent] in cond["values"]

        combos.add(tuple(assignment[nm] if is_active(nm) else None for nm in names))
    return combos


def human_size(path: str) -> str:
    size = os.path.getsize(path)
    return f"{size / 1e6:.2f} MB ({size} bytes)"

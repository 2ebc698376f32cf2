"""Sweep specs (YAML) and their plan: every run of every point, keyed for the ledger.

A spec names a base scenario, fixed overrides, parameters by dotted path and a design::

    name: staffing
    scenario: embedded              # a shipped name, or a path relative to the spec file
    set: {days: 7}                  # fixed overrides, dotted path -> value
    design: grid                    # grid | list | lhs | sobol | morris
    parameters:
      units.*.count: [1, 2, 3, 4]   # '*' = every list item; grid/list take value lists
      rate: {low: 0.5, high: 2, relative: true, paths: [calls.rate_per_hour]}  # ranges (sampled)
      offices: {values: [1, 2], label: true}  # label: a results column only
    replications: 5                 # paired: every point runs the same (seed, replication)s
    seeds: [1]                      # scenario seeds (default: the base scenario's own)

A run's key hashes its base scenario, parameters, seed, replication and the code version,
so a rerun skips what is done and a code change recomputes everything.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from sim.errors import SimInputError
from sim.layers import result_modules
from sim.scenarios.frozen import FromFile, Frozen
from sim.scenarios.load import find_scenario, format_validation_error, read_raw, read_yaml_mapping
from sim.scenarios.overrides import set_path
from sim.sweeps.designs import SAMPLED, design_points


class Range(Frozen):
    """A sampled parameter: uniform on [low, high] (or log-uniform), optionally integer."""

    low: float
    high: float
    integer: bool = False
    log: bool = False
    relative: bool = False  # the value multiplies the base scenario's value
    paths: tuple[str, ...] = ()  # several dotted paths set to the same value

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        return self


class Values(Frozen):
    """A grid/list parameter with options: its values and where they go."""

    values: tuple[Any, ...] = Field(min_length=1)
    relative: bool = False
    paths: tuple[str, ...] = ()
    label: bool = False  # a column of the results only: sets nothing in the scenario


class SweepSpec(FromFile):
    """A validated sweep spec."""

    name: str = "sweep"
    scenario: str
    set: dict[str, Any] = Field(default_factory=dict)
    design: Literal["grid", "list", "lhs", "sobol", "morris"] = "grid"
    parameters: dict[str, Values | Range] = Field(min_length=1)
    samples: int = Field(default=0, ge=0)
    levels: int = Field(default=4, ge=2)
    seed: int = Field(default=0, ge=0)
    replications: int = Field(default=1, ge=1)
    seeds: tuple[int, ...] | None = Field(default=None, min_length=1)
    metrics: tuple[str, ...] = ("response_min.mean", "resolution_rate")

    @field_validator("parameters", mode="before")
    @classmethod
    def _lists_are_values(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"values": v} if isinstance(v, list) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _design_fits(self) -> SweepSpec:
        sampled = self.design in SAMPLED
        for name, param in self.parameters.items():
            if sampled != isinstance(param, Range):
                want = "a range {low, high}" if sampled else "a list of values"
                raise ValueError(f"parameters.{name}: design {self.design!r} needs {want}")
            if name == "scenario" and (sampled or param.relative or param.paths):
                raise ValueError("parameters.scenario: a plain list of scenario names or paths")
        if sampled and self.samples < 1:
            raise ValueError(f"samples: design {self.design!r} needs samples >= 1")
        if self.design == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"samples: design 'sobol' needs a power of 2 (got {self.samples})")
        return self


@dataclass(frozen=True)
class RunTask:
    """One run: what a worker needs, and the key the ledger files it under."""

    key: str
    point: int
    seed: int
    replication: int
    params: dict[str, Any]  # parameter name -> value
    raw: dict[str, Any]  # the scenario, fixed overrides and parameters applied, not validated
    source: str  # the scenario file (for error messages)
    base_dir: str  # where the scenario's relative paths resolve


@dataclass
class Plan:
    """Every run of a sweep, in a fixed order (point, seed, replication)."""

    spec: SweepSpec
    points: list[dict[str, Any]]
    tasks: list[RunTask] = field(default_factory=list)
    code_version: str = ""


# -- loading ----------------------------------------------------------------------------
def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a spec file (its paths resolve against its folder)."""
    path = Path(path)
    raw = read_yaml_mapping(path, "sweep spec")
    raw.setdefault("name", path.stem)
    return parse_spec(raw, str(path)).located(path.parent)


def parse_spec(raw: dict[str, Any], source: str = "<sweep spec>") -> SweepSpec:
    """Validate a spec dict; errors name the source and the key."""
    try:
        return SweepSpec.model_validate(raw)
    except ValidationError as exc:
        raise SimInputError(format_validation_error(exc, source)) from None


# -- planning -----------------------------------------------------------------------------
def make_plan(spec: SweepSpec) -> Plan:
    """Every run of the spec with its key; fails early on a bad scenario or path."""
    base_dir = spec.source_dir or Path.cwd()
    points = design(spec)
    code = code_version()
    bases: dict[str, tuple[Path, dict[str, Any]]] = {}
    plan = Plan(spec, points, code_version=code)
    for index, point in enumerate(points):
        name = str(point.get("scenario", spec.scenario))
        if name not in bases:
            bases[name] = _base_scenario(name, base_dir)
        path, base = bases[name]
        raw = apply_point(spec, base, point)
        for seed in spec.seeds or (int(raw.get("seed", 1)),):
            seeded = {**raw, "seed": seed}
            for rep in range(spec.replications):
                key = run_key(seeded, point, rep, code)
                task = RunTask(key, index, seed, rep, point, seeded, str(path), str(path.parent))
                plan.tasks.append(task)
    return plan


def design(spec: SweepSpec) -> list[dict[str, Any]]:
    """The spec's points as {parameter: value}, deterministic for a given spec."""
    names = list(spec.parameters)
    params = list(spec.parameters.values())
    values = [p.values if isinstance(p, Values) else None for p in params]
    bounds = [_bounds(p) if isinstance(p, Range) else None for p in params]
    rows = design_points(spec.design, names, values, bounds, spec.samples, spec.levels, spec.seed)
    return [{n: _finish(p, v) for n, p, v in zip(names, params, row, strict=True)} for row in rows]


def _bounds(param: Range) -> tuple[float, float]:
    if param.log:
        import math

        return math.log(param.low), math.log(param.high)
    return param.low, param.high


def _finish(param: Values | Range, value: Any) -> Any:
    if isinstance(param, Values):
        return value
    if param.log:
        import math

        value = math.exp(value)
    return int(min(max(round(value), param.low), param.high)) if param.integer else value


def apply_point(spec: SweepSpec, base: dict[str, Any], point: dict[str, Any]) -> dict[str, Any]:
    """The base scenario with the spec's fixed overrides and the point's values."""
    raw = copy.deepcopy(base)
    for path, value in spec.set.items():
        set_path(raw, path, value)
    for name, value in point.items():
        param = spec.parameters[name]
        if name == "scenario" or getattr(param, "label", False):
            continue
        for path in param.paths or (name,):
            set_path(raw, path, value, param.relative)
    return raw


def _base_scenario(name: str, base_dir: Path) -> tuple[Path, dict[str, Any]]:
    """A base scenario by shipped name or by path (relative to the spec's folder)."""
    path = base_dir / name
    path = path if path.suffix in (".yaml", ".yml") and path.is_file() else find_scenario(name)
    return path.resolve(), read_raw(path)


def check_points(plan: Plan) -> list[str]:
    """Validate each point's scenario; the messages of those that fail (in point order).

    A spec whose every point fails is a spec error; otherwise failing points are run (and
    recorded as failed) like any other.
    """
    from sim.scenarios.load import validate

    messages, seen = [], set()
    for task in plan.tasks:
        if task.point in seen:
            continue
        seen.add(task.point)
        try:
            validate(task.raw, task.source)
        except SimInputError as exc:
            messages.append(f"point {task.point} {task.params}: {exc}")
    if messages and len(messages) == len(seen):
        raise SimInputError(f"sweep {plan.spec.name!r}: every point fails: {messages[0]}")
    return messages


def run_key(raw: dict[str, Any], point: dict[str, Any], rep: int, code: str) -> str:
    """The ledger key of one run: its scenario (seed included), parameters, replication, code."""
    text = json.dumps(
        {"scenario": raw, "params": point, "replication": rep, "code": code},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@cache
def code_version() -> str:
    """A hash of every source file in the layers that shape a run's results.

    Derived from the package layout (``sim.layers``): every module of the simulation and
    analysis layers, and the shipped scenarios and data; not the clients (command line,
    app, reporting, planning, sweeps).
    """
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for name in sorted((*result_modules(), "data")):
        folder = root / name
        files = sorted(folder.rglob("*")) if folder.is_dir() else [root / f"{name}.py"]
        for path in files:
            if path.is_file() and path.suffix in (".py", ".yaml", ".bz2"):
                rel = path.relative_to(root).as_posix()
                digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]

"""Scenario files: YAML validated into frozen objects, with ``--set`` overrides.

A scenario is found by name in ``sim/scenarios/`` or by path. ``extends: OTHER`` deep-merges
the named scenario under this one (mappings merge, lists and values replace). Every error
names the file, the key path and what was expected. The schema is in ``sim.scenarios.schema``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.errors import SimInputError
from sim.scenarios.overrides import apply_override, read_yaml, set_path
from sim.scenarios.schema import Scenario

SCENARIO_DIR = Path(__file__).parent


def available_scenarios() -> dict[str, Path]:
    """Shipped scenarios by name (files starting with '_' are shared parts, not listed)."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.yaml")) if not p.name.startswith("_")}


def find_scenario(name_or_path: str | Path) -> Path:
    """The file for a scenario name or path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if path.is_dir():
            raise SimInputError(f"scenario {path}: a folder, not a scenario file (.yaml)")
        if not path.is_file():
            raise SimInputError(f"scenario file not found: {path}")
        return path
    candidate = SCENARIO_DIR / f"{name_or_path}.yaml"
    if candidate.is_file():
        return candidate
    known = ", ".join(available_scenarios())
    raise SimInputError(f"unknown scenario {str(name_or_path)!r}; shipped scenarios: {known}")


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    """A YAML file holding a mapping (of ``what`` keys); a clear error otherwise."""
    try:
        raw = read_yaml(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SimInputError(f"cannot read {what} file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SimInputError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SimInputError(f"{path}: expected a mapping of {what} keys at the top level")
    return raw


def read_raw(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The scenario file as a dict, with ``extends`` resolved."""
    path = path.resolve()
    if path in _seen:
        raise SimInputError(f"{path}: 'extends' loops back to itself")
    raw = read_yaml_mapping(path, "scenario")
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    parent_path = (path.parent / f"{parent}.yaml") if "/" not in str(parent) else Path(parent)
    if not parent_path.is_file():
        parent_path = find_scenario(parent)
    return deep_merge(read_raw(parent_path, (*_seen, path)), raw)


def deep_merge(base: dict, top: dict) -> dict:
    """``top`` over ``base``: mappings merge recursively, anything else replaces.

    A mapping whose ``kind`` or ``dist`` differs from the base's replaces it whole (a
    network of another kind, a distribution of another family keep none of the old keys).
    """
    merged = copy.deepcopy(base)
    for key, value in top.items():
        if (
            isinstance(value, dict)
            and isinstance(merged.get(key), dict)
            and not _retyped(merged[key], value)
        ):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _retyped(base: dict, top: dict) -> bool:
    return any(tag in top and tag in base and top[tag] != base[tag] for tag in ("kind", "dist"))


def load_scenario(
    name_or_path: str | Path,
    overrides: Sequence[str] = (),
    *,
    days: float | None = None,
    seed: int | None = None,
    reps: int | None = None,
    set: Mapping[str, Any] | None = None,
) -> Scenario:
    """Load a scenario by name or path, with overrides, validated.

    ``overrides``: ``"dotted.path=value"`` strings (as ``--set``); ``set``: the same as a
    mapping of dotted paths to values; ``days``, ``seed``, ``reps`` (replications) are
    shortcuts. The scenario remembers its folder, where its relative paths resolve.
    """
    path = find_scenario(name_or_path)
    raw = read_raw(path)
    for assignment in overrides:
        apply_override(raw, assignment)
    if isinstance(raw.get("communities"), dict) or isinstance(raw.get("posts"), dict):
        from sim.scenarios.place_files import expand_place_files  # places from GIS files

        raw = expand_place_files(raw, path.parent)
    for dotted, value in (set or {}).items():  # None included: it sets the key to null
        set_path(raw, dotted, value)
    shortcuts = {"days": days, "seed": seed, "replications": reps}
    for dotted, value in shortcuts.items():
        if value is not None:  # (None: not given)
            set_path(raw, dotted, value)
    return validate(raw, str(path)).located(path.parent)


def validate(raw: dict, source: str = "<scenario>") -> Scenario:
    """Validate a raw scenario dict; errors name the source, key path and what was expected."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise SimInputError(format_validation_error(exc, source)) from None


def format_validation_error(exc: ValidationError, source: str) -> str:
    """One line per problem: ``source: key.path: message (got value)``."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if not _is_union_tag(p))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (a typo?)"
        got = err.get("input")
        shown = "" if err["type"] in ("missing", "extra_forbidden") else f" (got {got!r:.60})"
        lines.append(f"{source}: {loc or '(top level)'}: {msg}{shown}")
    return "\n".join(lines[:5]) + (f"\n... and {len(lines) - 5} more" if len(lines) > 5 else "")


def _is_union_tag(part: object) -> bool:
    """Pydantic puts the union member's tag in the location; users never wrote it."""
    return isinstance(part, str) and (
        part in {"exponential", "lognormal", "fixed", "uniform"}
        or part.startswith(("function-", "tagged-union"))
        or part in {"synthetic", "osm", "graphml", "place", "point"}
    )

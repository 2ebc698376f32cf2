"""Mapping an export's call types onto a scenario's (``fit --types MAP.yaml``).

A map is YAML, ``THEIR TYPE: our_type`` per line; case and spacing of their names are
ignored. Types the map and the scenario do not know are never given default outcomes
silently: their rows are rejected and ``NEW_types.yaml`` lists them, with their counts and
the closest scenario type as a suggestion, ready to be checked and passed back with
``--types``. ``--add-types like=TYPE`` adds them instead, with the outcome parameters of an
existing type, stated in the fitted scenario as an assumption.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pandas as pd
import yaml

from sim.calls.table import normal_name
from sim.errors import SimInputError

OUTCOME_KEYS = ("p_familiar", "p_unfamiliar", "p_command_room")


def load_type_map(path: Path, names: list[str]) -> dict[str, str]:
    """``{their type: our type}`` from a YAML file; every target must be one of ``names``."""
    path = Path(path)
    if not path.is_file():
        raise SimInputError(f"--types {path}: file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SimInputError(f"--types {path}: not YAML: {exc}".splitlines()[0]) from None
    if not isinstance(raw, dict):
        raise SimInputError(f"--types {path}: expected a mapping THEIR TYPE: our_type")
    known = {normal_name(n): n for n in names}
    out = {}
    for theirs, ours in raw.items():
        if ours is None:
            continue  # left to fill in: its rows stay unmapped
        if normal_name(ours) not in known:
            raise SimInputError(
                f"--types {path}: {theirs!r} maps to {ours!r}, not a type of the scenario "
                f"({', '.join(names)})"
            )
        out[str(theirs)] = known[normal_name(ours)]
    return out


def suggestion(name: str, names: list[str]) -> str:
    """The scenario type whose name is closest to ``name`` (difflib's ratio)."""
    scores = [difflib.SequenceMatcher(None, normal_name(name), normal_name(n)).ratio()
              for n in names]  # fmt: skip
    return names[max(range(len(names)), key=lambda i: (scores[i], -i))]


def write_new_types(path: Path, unmapped: pd.Series, names: list[str], source: str) -> Path:
    """``NEW_types.yaml``: each unmapped type with its count and a suggested scenario type."""
    lines = [
        f"# Call types of {source} that the scenario does not know ({', '.join(names)}).",
        "# Each is mapped to the closest name as a suggestion: check every line, then fit",
        "# again with --types THIS_FILE (or set a line to null to keep rejecting its rows).",
    ]
    for name, count in unmapped.items():
        key = yaml.safe_dump(str(name), allow_unicode=True).splitlines()[0]
        if key == "...":
            key = "''"
        lines.append(f"{key}: {suggestion(str(name), names)}  # {int(count)} calls")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def parse_like(text: str | None, names: list[str]) -> str | None:
    """The type named by ``--add-types like=TYPE`` (None when the option is not given)."""
    if text is None:
        return None
    key, sep, like = text.partition("=")
    if not sep or key.strip() != "like" or not like.strip():
        raise SimInputError(
            f"--add-types {text!r}: name the type whose outcome parameters the new types take, "
            f"e.g. --add-types like={names[0]}"
        )
    known = {normal_name(n): n for n in names}
    if normal_name(like) not in known:
        raise SimInputError(
            f"--add-types like={like}: not a type of the scenario ({', '.join(names)})"
        )
    return known[normal_name(like)]


def added_type(name: str, like: dict) -> dict:
    """A new type ``name`` with the outcome parameters of ``like`` (raw dict), as assumptions."""
    entry = {k: v for k, v in like.items() if k not in ("share", "label_zh")}
    entry["name"] = name
    for key in OUTCOME_KEYS:
        value = like.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            entry[key] = {
                "value": float(value),
                "range": [0.0, 1.0],
                "source": f"ASSUMPTION: taken from type {like['name']!r} (fit --add-types "
                f"like={like['name']}); the export's {name!r} was not in the base",
            }
    return entry

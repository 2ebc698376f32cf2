"""The one dotted-path setter: ``units.0.count``, ``calls.types.*.share``, read as YAML.

Used by ``--set``, by ``sim.load_scenario(..., set={...})``, by sweeps and by the app.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml

from sim.errors import SimInputError


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading every float notation as a number (as YAML 1.2 does).

    PyYAML follows YAML 1.1, where a float needs a dot and a signed exponent: it reads
    ``1e9``, ``1.0e9`` and ``1E+9`` as strings. Here they are floats, for every key.
    """


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def read_yaml(text: str) -> Any:
    """Parse YAML text safely, with every float notation read as a number."""
    return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: safe


def apply_override(raw: dict, assignment: str) -> None:
    """Apply one ``dotted.path=value`` (the value read as YAML) to a raw scenario."""
    if "=" not in assignment:
        raise SimInputError(f"--set {assignment!r}: expected dotted.path=value")
    path, _, text = assignment.partition("=")
    try:
        value = read_yaml(text)
    except yaml.YAMLError:
        value = text
    try:
        set_path(raw, path.strip(), value)
    except SimInputError as exc:
        raise SimInputError(f"--set {exc}") from None


def set_path(raw: dict, path: str, value: Any, relative: bool = False) -> None:
    """Set ``path`` (dots, list indices, '*' for every item) in ``raw`` to ``value``.

    With ``relative`` the value multiplies the number already there.
    """
    keys = path.split(".")
    _set(raw, keys, value, relative, path, 0)


def _set(node: Any, keys: list[str], value: Any, relative: bool, path: str, depth: int) -> None:
    key, last = keys[depth], depth == len(keys) - 1
    where = ".".join(keys[: depth + 1])
    if key == "*":
        if not isinstance(node, list | dict) or not node:
            raise SimInputError(f"{path}: {where} matches nothing (no list or mapping there)")
        for item in list(node.keys() if isinstance(node, dict) else range(len(node))):
            _step(node, item, keys, value, relative, path, depth, last)
        return
    if isinstance(node, list):
        if not key.isdecimal() or int(key) >= len(node):
            raise SimInputError(f"{path}: {where} needs a list index below {len(node)}")
        _step(node, int(key), keys, value, relative, path, depth, last)
    elif isinstance(node, dict):
        if not last and key not in node:
            node[key] = {}
        _step(node, key, keys, value, relative, path, depth, last)
    else:
        raise SimInputError(f"{path}: {'.'.join(keys[:depth])} is not a mapping or list")


def _step(node, item, keys, value, relative, path, depth, last) -> None:
    if not last:
        _set(node[item], keys, value, relative, path, depth + 1)
    elif relative:
        base = node[item] if isinstance(node, list) or item in node else None
        if not isinstance(base, int | float) or isinstance(base, bool):
            raise SimInputError(f"{path}: relative needs a number there (found {base!r})")
        node[item] = base * value
    else:
        node[item] = copy.deepcopy(value)

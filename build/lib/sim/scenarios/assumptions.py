"""Assumptions with a range and a source, written in place of a number.

Any number in a scenario file may be written ``{value: 0.85, range: [0.7, 0.95], source:
"..."}``. Validation puts the value in its place and keeps the range and source under the
scenario's ``assumptions``, keyed by the dotted path (list items by index), so
``run_sim.py ... --uncertainty N`` can draw them and every output can cite them.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from sim.scenarios.frozen import Frozen

_KEYS = {"value", "range", "source"}


class Assumption(Frozen):
    """An assumed number's plausible range and where it comes from."""

    value: float
    range: tuple[float, float]
    source: str = ""
    integer: bool = Field(default=False)  # drawn values are rounded (e.g. a count)

    @model_validator(mode="after")
    def _inside(self) -> Assumption:
        lo, hi = self.range
        if not lo <= self.value <= hi:
            raise ValueError(f"value {self.value} is outside its range [{lo}, {hi}]")
        return self


def _is_assumption(node: Any) -> bool:
    return isinstance(node, dict) and "value" in node and "range" in node and set(node) <= _KEYS


def unwrap(node: Any, path: str = "", found: dict | None = None) -> tuple[Any, dict]:
    """``node`` with every assumption replaced by its value; {dotted path: assumption}."""
    found = {} if found is None else found
    if _is_assumption(node):
        value = node["value"]
        found[path] = {**node, "integer": isinstance(value, int) and not isinstance(value, bool)}
        return value, found
    if isinstance(node, dict):
        return {k: unwrap(v, f"{path}.{k}" if path else str(k), found)[0] for k, v in
                node.items()}, found  # fmt: skip
    if isinstance(node, list):
        return [unwrap(v, f"{path}.{i}", found)[0] for i, v in enumerate(node)], found
    return node, found

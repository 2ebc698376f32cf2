"""Call records: one flat, typed row per call, straight into a DataFrame."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sim.calls.call import Call
    from sim.network.routing import Router
    from sim.scenarios.schema import CallType, Scenario


class RecordsSource(Protocol):
    """What the records are made from (the model)."""

    calls: Sequence[Call]
    call_types: Sequence[CallType]
    scenario: Scenario
    router: Router
    warmup_min: float


#: Columns and dtypes of the call records (a test pins them).
COLUMNS: dict[str, str] = {
    "id": "int64",
    "type": "string",
    "priority": "int64",
    "criminal": "bool",
    "community": "string",
    "node": "string",
    "t_call": "float64",
    "t_ready": "float64",
    "t_assigned": "float64",
    "t_arrive": "float64",
    "t_clear": "float64",
    "unit": "string",
    "unit_post": "string",
    "units": "int64",
    "queued": "bool",
    "travel_min": "float64",
    "response_min": "float64",
    "resolved": "bool",
    "repeat_of": "Int64",
    "escalated": "bool",
    "first_type": "string",
    "familiarity": "float64",
    "problem": "Int64",
    "in_warmup": "bool",
    "found_by": "string",
}


INT_FIELDS = ("id", "type_index", "priority", "community", "node", "repeat_of", "first_type",
              "problem")  # fmt: skip
TIME_FIELDS = ("t_call", "t_ready", "t_assigned", "t_arrive", "t_clear", "familiarity")


def call_records(model: RecordsSource) -> pd.DataFrame:
    """The model's calls as a typed DataFrame (all calls, warm-up ones flagged)."""
    calls = model.calls
    if not calls:
        return empty_records()
    names = np.array([t.name for t in model.call_types], dtype=object)
    criminal = np.array([t.criminal for t in model.call_types])
    communities = np.array([c.name for c in model.scenario.communities], dtype=object)
    node_ids = np.array([str(n) for n in model.router.node_ids], dtype=object)

    def table(attributes: tuple[str, ...], dtype) -> dict[str, np.ndarray]:
        n = len(calls)
        return {a: np.fromiter(map(attrgetter(a), calls), dtype, count=n) for a in attributes}

    ints = table(INT_FIELDS, np.int64)
    times = table(TIME_FIELDS, float)
    flags = table(("queued", "resolved", "escalated"), bool)
    type_index, repeat_of, problem = ints["type_index"], ints["repeat_of"], ints["problem"]
    units = [c.unit for c in calls]
    frame = pd.DataFrame(
        {
            "id": ints["id"],
            "type": names[type_index],
            "priority": ints["priority"],
            "criminal": criminal[type_index],
            "community": communities[ints["community"]],
            "node": node_ids[ints["node"]],
            **{t: times[t] for t in TIME_FIELDS[:5]},
            "unit": [u.label if u is not None else None for u in units],
            "unit_post": [u.post.name if u is not None else None for u in units],
            "units": np.fromiter((len(c.units) for c in calls), np.int64, len(calls)),
            "queued": flags["queued"],
            "travel_min": times["t_arrive"] - times["t_assigned"],
            "response_min": times["t_arrive"] - times["t_call"],
            "resolved": flags["resolved"],
            "repeat_of": pd.arrays.IntegerArray(repeat_of, repeat_of < 0),
            "escalated": flags["escalated"],
            "first_type": names[ints["first_type"]],
            "familiarity": times["familiarity"],
            "problem": pd.arrays.IntegerArray(problem, problem < 0),
            "in_warmup": times["t_call"] < model.warmup_min,
            "found_by": [c.found_by for c in calls],
        }
    )
    frame = _typed(frame)
    for column in optional_columns(model.scenario):  # only where the feature is on
        frame[column] = np.fromiter(map(attrgetter(column), calls), bool, len(calls))
    return frame


def optional_columns(scenario) -> list[str]:
    """Columns of features that are off by default: ``abandoned``, ``by_phone``."""
    columns = []
    if scenario.calls.patience_min is not None:
        columns.append("abandoned")
    if any(t.p_command_room > 0 for t in scenario.calls.types):
        columns.append("by_phone")
    return columns


def empty_records() -> pd.DataFrame:
    """A records table with no rows and the right columns and types."""
    return _typed(pd.DataFrame({name: [] for name in COLUMNS}))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(COLUMNS)

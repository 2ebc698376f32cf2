"""Call records: one flat, typed row per call, straight into a DataFrame.

A long run need not keep every call object to the end: ``RecordSpool`` turns the finished
calls into records a chunk at a time (the model then drops them), so a run of a million calls
holds its records once, as columns, rather than as objects and then again as columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain, compress
from operator import attrgetter
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:
    from sim.agents.unit import Unit
    from sim.calls.call import Call
    from sim.network.routing import Router
    from sim.scenarios.schema import CallType, Scenario


class RecordsSource(Protocol):
    """What the records are made from (the model)."""

    calls: Sequence[Call]
    units: Sequence[Unit]  # in their order (``Unit.index``)
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
    """The model's calls as a typed DataFrame in call order (all calls, warm-up ones flagged).

    With a spool (``model.spool``), the records it made already come first, then those of
    the calls the model still holds, sorted by call id: the same table as without one.
    """
    spool = getattr(model, "spool", None)
    if spool is None or not spool.frames:
        return records_of(model.calls, model)
    frames = [*spool.frames, records_of(model.calls, model)]
    merged = pd.concat(frames, ignore_index=True)
    return merged.sort_values("id", kind="stable", ignore_index=True)


def is_finished(call: Call) -> bool:
    """Whether a call's record can no longer change: cleared, abandoned or done by phone."""
    return call.t_clear == call.t_clear or call.abandoned or call.by_phone  # t_clear not nan


class RecordSpool:
    """Records of finished calls, made a chunk at a time during a run."""

    def __init__(self, chunk_calls: int = 50_000):
        """Make records once the model holds ``chunk_calls`` calls (or more)."""
        self.chunk_calls = chunk_calls
        self.frames: list[pd.DataFrame] = []
        self.due_at = chunk_calls

    def take_finished(self, model: RecordsSource) -> list[Call]:
        """Records of the model's finished calls; returns the calls still to keep."""
        calls, n = model.calls, len(model.calls)

        def column(name: str, dtype) -> np.ndarray:
            return np.fromiter(map(attrgetter(name), calls), dtype, n)

        done = ~np.isnan(column("t_clear", float)) | column("abandoned", bool)
        done |= column("by_phone", bool)  # as ``is_finished``, for every call at once
        finished = list(compress(calls, done))
        kept = list(compress(calls, ~done))
        if finished:
            self.frames.append(records_of(finished, model))
        self.due_at = len(kept) + self.chunk_calls
        return kept


def records_of(calls: Sequence[Call], model: RecordsSource) -> pd.DataFrame:
    """These calls of ``model`` as a typed DataFrame, in the order given."""
    if not calls:
        return empty_records(model.scenario)
    n = len(calls)
    type_names = [t.name for t in model.call_types]
    criminal = np.array([t.criminal for t in model.call_types])

    def table(attributes: tuple[str, ...], dtype) -> dict[str, np.ndarray]:
        """These attributes of every call as columns, read in one pass (a row per call)."""
        rows = chain.from_iterable(map(attrgetter(*attributes), calls))
        values = np.fromiter(rows, dtype, count=n * len(attributes))
        return dict(zip(attributes, values.reshape(n, len(attributes)).T.copy(), strict=True))

    ints = table(INT_FIELDS, np.int64)
    times = table(TIME_FIELDS, float)
    flags = table(("queued", "resolved", "escalated"), bool)
    type_index, repeat_of, problem = ints["type_index"], ints["repeat_of"], ints["problem"]
    index_of = {None: -1, **{unit: unit.index for unit in model.units}}  # lead unit: -1 none
    lead = np.fromiter(map(index_of.__getitem__, map(attrgetter("unit"), calls)), np.int64, n)
    frame = pd.DataFrame(
        {
            "id": ints["id"],
            "type": _strings(type_names, type_index),
            "priority": ints["priority"],
            "criminal": criminal[type_index],
            "community": _strings([c.name for c in model.scenario.communities], ints["community"]),
            "node": _strings([str(n) for n in model.router.node_ids], ints["node"]),
            **{t: times[t] for t in TIME_FIELDS[:5]},
            "unit": _strings([u.label for u in model.units], lead),
            "unit_post": _strings([u.post.name for u in model.units], lead),
            "units": np.fromiter(map(len, map(attrgetter("units"), calls)), np.int64, n),
            "queued": flags["queued"],
            "travel_min": times["t_arrive"] - times["t_assigned"],
            "response_min": times["t_arrive"] - times["t_call"],
            "resolved": flags["resolved"],
            "repeat_of": pd.arrays.IntegerArray(repeat_of, repeat_of < 0),
            "escalated": flags["escalated"],
            "first_type": _strings(type_names, ints["first_type"]),
            "familiarity": times["familiarity"],
            "problem": pd.arrays.IntegerArray(problem, problem < 0),
            "in_warmup": times["t_call"] < model.warmup_min,
            "found_by": list(map(attrgetter("found_by"), calls)),
        }
    )
    frame = _typed(frame)
    for column in optional_columns(model.scenario):  # only where the feature is on
        frame[column] = np.fromiter(map(attrgetter(column), calls), bool, n)
    return frame


def _strings(names: list[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``names[code]`` for every code (-1: missing) as a string column, gathered by Arrow."""
    taken = pa.array(names, pa.large_string()).take(pa.array(codes, mask=codes < 0))
    return pd.array(taken, dtype=COLUMNS["type"])


def optional_columns(scenario) -> list[str]:
    """Columns of features that are off by default: ``abandoned``, ``by_phone``."""
    columns = []
    if scenario.calls.patience_min is not None:
        columns.append("abandoned")
    if any(t.p_command_room > 0 for t in scenario.calls.types):
        columns.append("by_phone")
    return columns


def empty_records(scenario: Scenario | None = None) -> pd.DataFrame:
    """A records table with no rows and the right columns and types.

    Given the scenario, with its optional columns too.
    """
    frame = _typed(pd.DataFrame({name: [] for name in COLUMNS}))
    for column in optional_columns(scenario) if scenario is not None else []:
        frame[column] = np.zeros(0, dtype=bool)
    return frame


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(COLUMNS)

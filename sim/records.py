"""Call records: one flat, typed row per call, straight into a DataFrame."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from sim.model import PatrolModel

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
}


def call_records(model: PatrolModel) -> pd.DataFrame:
    """The model's calls as a typed DataFrame (all calls, warm-up ones flagged)."""
    communities = [c.name for c in model.config.communities]
    types = model.call_types
    node_ids = model.router.node_ids
    rows = {name: [] for name in COLUMNS}
    for call in model.calls:
        call_type = types[call.type_index]
        rows["id"].append(call.id)
        rows["type"].append(call_type.name)
        rows["priority"].append(call.priority)
        rows["criminal"].append(call_type.criminal)
        rows["community"].append(communities[call.community])
        rows["node"].append(str(node_ids[call.node]))
        for t in ("t_call", "t_ready", "t_assigned", "t_arrive", "t_clear"):
            rows[t].append(getattr(call, t))
        rows["unit"].append(call.unit.label if call.unit else None)
        rows["unit_post"].append(call.unit.post.name if call.unit else None)
        rows["units"].append(len(call.units))
        rows["queued"].append(call.queued)
        rows["travel_min"].append(call.t_arrive - call.t_assigned)
        rows["response_min"].append(call.t_arrive - call.t_call)
        rows["resolved"].append(call.resolved)
        rows["repeat_of"].append(call.repeat_of if call.repeat_of >= 0 else None)
        rows["escalated"].append(call.escalated)
        rows["first_type"].append(types[call.first_type].name)
        rows["familiarity"].append(call.familiarity)
        rows["problem"].append(call.problem if call.problem >= 0 else None)
        rows["in_warmup"].append(call.t_call < model.warmup_min)
    return empty_records() if not model.calls else _typed(pd.DataFrame(rows))


def empty_records() -> pd.DataFrame:
    """A records table with no rows and the right columns and types."""
    return _typed(pd.DataFrame({name: [] for name in COLUMNS}))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(COLUMNS)

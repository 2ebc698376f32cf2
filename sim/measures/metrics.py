"""Summaries of call records (DESIGN 4.3), and means with 95% CIs over replications."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import stdtrit

from sim.agents.unit import STATE_NAMES, UnitState
from sim.measures.censoring import COMMITTED_STATES

TARGETS_MIN = (3, 5, 10, 15)


def describe(values: np.ndarray) -> dict[str, float | None]:
    """mean, median, p90 and max of the values that are not NaN (None when there are none)."""
    v = values[~np.isnan(values)]
    if len(v) == 0:
        return {"mean": None, "median": None, "p90": None, "max": None}
    return {
        "mean": float(v.mean()),
        "median": float(np.median(v)),
        "p90": float(np.quantile(v, 0.9)),
        "max": float(v.max()),
    }


def _share(flags: np.ndarray) -> float | None:
    return float(flags.mean()) if len(flags) else None


class CallColumns:
    """The columns of counted records a summary needs, as numpy arrays."""

    def __init__(self, records: pd.DataFrame):
        def col(name: str, dtype=float) -> np.ndarray:
            return records[name].to_numpy(dtype=dtype)

        self.community, self.type = records["community"], records["type"]  # text, as it is
        self.t_ready, self.t_assigned = col("t_ready"), col("t_assigned")
        self.t_arrive, self.t_clear = col("t_arrive"), col("t_clear")
        self.response, self.travel = col("response_min"), col("travel_min")
        self.queued, self.resolved = col("queued", bool), col("resolved", bool)
        self.escalated = col("escalated", bool)
        self.repeat = records["repeat_of"].notna().to_numpy()


def codes_of(text: pd.Series, names: list[str]) -> np.ndarray:
    """Each row's position in ``names`` (-1: missing or not there), found by Arrow at once.

    Comparing these ints per name costs far less than comparing Python strings.
    """
    found = pc.index_in(pa.array(text, pa.large_string()), pa.array(names, pa.large_string()))
    return found.fill_null(-1).to_numpy()


def call_figures(c: CallColumns, rows: np.ndarray | slice = slice(None)) -> dict[str, Any]:
    """The call-based figures of a summary, for the counted records selected by ``rows``."""
    response = c.response[rows]
    answered = ~np.isnan(c.t_arrive[rows])
    ready = ~np.isnan(c.t_ready[rows])
    attended = ~np.isnan(c.t_clear[rows])
    waited = (c.t_assigned[rows] - c.t_ready[rows])[ready]
    reached = np.where(np.isnan(response), np.inf, response)
    return {
        "calls": len(response),
        "answered": int(answered.sum()),
        "response_min": describe(response[answered]),
        "queue_min": describe(waited),
        "p_queued": _share(c.queued[rows][ready]),
        "travel_min": describe(c.travel[rows][answered]),
        "within_target": {str(t): _share(reached <= t) for t in TARGETS_MIN},
        "resolution_rate": _share(c.resolved[rows][attended]),
        "repeat_rate": _share(c.repeat[rows]),
        "escalations": int(c.escalated[rows].sum()),
    }


def utilization(state_min: np.ndarray) -> dict[str, Any]:
    """Utilisation: the share of on-shift time committed to calls; and shares by state.

    Committed: en route, on scene, follow-up. Not other duties, community work, patrol or
    driving back to the post (time per unit state, units x states).
    """
    total = state_min.sum(axis=1)
    on_shift = total - state_min[:, UnitState.OFF_SHIFT]
    busy = sum(state_min[:, STATE_NAMES.index(s)] for s in COMMITTED_STATES)
    per_unit = np.divide(busy, on_shift, out=np.zeros_like(busy), where=on_shift > 0)
    all_time = state_min.sum()
    by_state = {
        name: float(state_min[:, s].sum() / all_time) if all_time > 0 else None
        for s, name in enumerate(STATE_NAMES)
    }
    return {"mean": float(per_unit.mean()) if len(per_unit) else None, "by_state": by_state}


def summarize(
    records: pd.DataFrame,
    state_min: np.ndarray,
    communities: list[str],
    types: list[str],
    meta: dict[str, Any],
) -> dict[str, Any]:
    """The summary of one run (DESIGN 4.3).

    Incidents a patrol found on view are not calls the command room received: they are
    counted under ``patrol.on_view``, not in the call figures.
    """
    counted = ~records["in_warmup"]
    if "found_by" in records:
        counted &= records["found_by"] != "patrol"
    columns = CallColumns(records[counted])
    summary = call_figures(columns)
    summary["utilization"] = utilization(state_min)
    community, kind = codes_of(columns.community, communities), codes_of(columns.type, types)
    summary["by_community"] = {
        name: call_figures(columns, community == k) for k, name in enumerate(communities)
    }
    summary["by_type"] = {name: call_figures(columns, kind == k) for k, name in enumerate(types)}
    summary.update(meta)
    return summary


# -- replications -----------------------------------------------------------------------
def flatten(tree: dict, prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': 1}} -> {'a.b': 1}."""
    flat = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """The inverse of ``flatten``."""
    tree: dict[str, Any] = {}
    for path, value in flat.items():
        node = tree
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return tree


def mean_ci(values: list[float | None]) -> tuple[float | None, float | None]:
    """Mean and 95% confidence half-width (Student t) of the values that exist."""
    v = np.array([x for x in values if x is not None], dtype=float)
    if len(v) == 0:
        return None, None
    if len(v) == 1:
        return float(v[0]), None
    half = stdtrit(len(v) - 1, 0.975) * v.std(ddof=1) / np.sqrt(len(v))  # Student's t quantile
    return float(v.mean()), float(half)


NUMBER = (int, float, np.integer, np.floating)


def combine(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Means over replications in the summary's own shape, half-widths under ``ci95``."""
    flats = [flatten(s) for s in summaries]
    means, halves = {}, {}
    for key, first in flats[0].items():
        values = [f.get(key) for f in flats]
        numeric = [v for v in values if v is not None]
        if all(isinstance(v, NUMBER) and not isinstance(v, bool) for v in numeric):
            means[key], halves[key] = mean_ci(values)
        else:
            means[key] = first
    combined = unflatten(means)
    combined["ci95"] = unflatten({k: v for k, v in halves.items() if k not in _META_NUMBERS})
    return combined


_META_NUMBERS = {"seed", "days", "replications"}

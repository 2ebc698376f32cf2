"""Whether a run's figures can be trusted as they are: censoring, load, overload, time budget.

Censored response times (calls still open at the horizon), calls open at the end, offered
load per pool of units, overload flags, and each unit's time budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from sim.agents.unit import STATE_NAMES
from sim.measures.budget import time_budget
from sim.measures.censoring import (
    committed_per_call,
    offered_load,
    open_calls_by_day,
    overload_flags,
    queue_bound,
    queue_saturated,
    response_km,
    unit_pools,
)

if TYPE_CHECKING:
    from sim.agents.unit import Unit
    from sim.scenarios.schema import Scenario


class HealthSource(Protocol):
    """What the checks read from the model."""

    scenario: Scenario
    units: Sequence[Unit]
    warmup_min: float
    horizon_min: float


def health(model: HealthSource, records: pd.DataFrame, state_min: np.ndarray) -> dict[str, Any]:
    """Censored response times, open calls at the end, offered load, overload, time budget."""
    scenario = model.scenario
    counted = records[~records["in_warmup"]]
    closed = np.zeros(len(counted), dtype=bool)  # without a unit: hung up, or by phone
    for column in ("abandoned", "by_phone"):
        if column in counted:
            closed |= counted[column].to_numpy(dtype=bool)
    waiting = counted[~closed]
    t_call, t_arrive = waiting["t_call"].to_numpy(), waiting["t_arrive"].to_numpy()
    window = model.horizon_min - model.warmup_min
    loads = {}
    posts = np.array([u.post.name for u in model.units])
    cleared = records[records["t_clear"] >= model.warmup_min]
    for name, (pool_posts, communities) in unit_pools(scenario).items():
        made, done = counted, cleared
        if communities is not None:
            made = counted[counted["community"].isin(communities)]
            done = cleared[cleared["community"].isin(communities)]
        in_pool = np.isin(posts, pool_posts)
        loads[name] = offered_load(state_min[in_pool], STATE_NAMES, len(made), len(done), window)
    by_day = open_calls_by_day(t_call, t_arrive, model.warmup_min, model.horizon_min)
    unanswered = int(np.isnan(t_arrive).sum())
    per_call = committed_per_call(state_min, STATE_NAMES, len(cleared))
    p_queued, queue_mean, response_mean = queue_figures(waiting, model.horizon_min)
    saturated = queue_saturated(p_queued, queue_mean, per_call)
    bound = queue_bound(p_queued, queue_mean, response_mean)
    out = {
        "abandoned": int(counted["abandoned"].sum()) if "abandoned" in counted else 0,
        "by_phone": int(counted["by_phone"].sum()) if "by_phone" in counted else 0,
        "response_km": response_km(t_call, t_arrive, model.horizon_min),
        "offered_load": loads,
        **overload_flags(loads, by_day, unanswered, saturated, bound),
    }
    labels = [u.label for u in model.units]
    officers = [u.officers for u in model.units]
    out["time_budget"] = time_budget(state_min, STATE_NAMES, labels, officers)
    return out


def queue_figures(calls: pd.DataFrame, horizon_min: float) -> tuple[float, float, float]:
    """(share of calls queued, mean minutes waiting for a unit, mean response minutes).

    Calls still open at the horizon count up to it (lower bounds).
    """
    if calls.empty:
        return 0.0, 0.0, 0.0

    def until(column: str, start: np.ndarray) -> float:
        end = np.nan_to_num(calls[column].to_numpy(float), nan=horizon_min)
        return float(np.clip(end - np.minimum(start, horizon_min), 0.0, None).mean())

    queued = float(calls["queued"].to_numpy(dtype=bool).mean())
    ready, made = calls["t_ready"].to_numpy(float), calls["t_call"].to_numpy(float)
    return queued, until("t_assigned", ready), until("t_arrive", made)

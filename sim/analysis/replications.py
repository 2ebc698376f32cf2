"""Running a scenario: replications with their own streams, records and summaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from sim.agents.unit import STATE_NAMES
from sim.analysis.budget import time_budget
from sim.analysis.censoring import (
    offered_load,
    open_calls_by_day,
    overload_flags,
    response_km,
    unit_pools,
)
from sim.analysis.metrics import combine, summarize
from sim.analysis.records import call_records
from sim.analysis.warmup import check_records
from sim.model import PatrolModel
from sim.network.world import build_world

if TYPE_CHECKING:
    from sim.scenarios.schema import Scenario


@dataclass
class RunResult:
    """Every replication of one scenario."""

    scenario: Scenario
    records: pd.DataFrame  # all replications, with a 'replication' column
    summaries: list[dict[str, Any]]  # one per replication
    summary: dict[str, Any]  # means over replications, with 'ci95'


def summarize_model(model: PatrolModel, records: pd.DataFrame | None = None) -> dict[str, Any]:
    """The summary of one finished (or paused) run of the model."""
    scenario = model.scenario
    records = call_records(model) if records is None else records
    meta = {
        "scenario": scenario.name,
        "seed": model.seed_value,
        "replication": model.replication,
        "days": scenario.days,
        "replications": 1,
        "scenario_hash": scenario.digest(),
        "network_hash": model.world.network.digest,
    }
    state_min = np.array([u.state_min for u in model.units])
    summary = summarize(
        records,
        state_min,
        [c.name for c in scenario.communities],
        [t.name for t in scenario.calls.types],
        meta,
    )
    summary["problems"] = model.community_work.summary()
    summary.update(health(model, records, state_min))
    return summary


def health(model: PatrolModel, records: pd.DataFrame, state_min: np.ndarray) -> dict[str, Any]:
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
    out = {
        "abandoned": int(counted["abandoned"].sum()) if "abandoned" in counted else 0,
        "by_phone": int(counted["by_phone"].sum()) if "by_phone" in counted else 0,
        "response_km": response_km(t_call, t_arrive, model.horizon_min),
        "offered_load": loads,
        **overload_flags(loads, by_day, unanswered),
    }
    labels = [u.label for u in model.units]
    officers = [u.officers for u in model.units]
    out["time_budget"] = time_budget(state_min, STATE_NAMES, labels, officers)
    return out


def run_once(
    scenario: Scenario, replication: int = 0
) -> tuple[PatrolModel, pd.DataFrame, dict[str, Any]]:
    """One replication: the finished model, its records and its summary."""
    model = PatrolModel(scenario, replication=replication, world=build_world(scenario))
    model.run()
    records = call_records(model)
    return model, records, summarize_model(model, records)


def run_replications(scenario: Scenario, progress: bool = True) -> RunResult:
    """All of a scenario's replications (seeded ``seed``, replications 0..R-1)."""
    frames, summaries = [], []
    reps = range(scenario.replications)
    bar = tqdm(reps, desc=scenario.name, unit="rep", disable=not progress, leave=False)
    for rep in bar:
        _, records, summary = run_once(scenario, rep)
        frames.append(records.assign(replication=rep))
        summaries.append(summary)
    return combine_replications(scenario, frames, summaries)


def combine_replications(
    scenario: Scenario, frames: list[pd.DataFrame], summaries: list[dict[str, Any]]
) -> RunResult:
    """A RunResult from per-replication records (with a 'replication' column) and summaries."""
    summary = combine(summaries)
    summary["replications"] = len(summaries)
    summary.pop("replication", None)
    summary["ci95"].pop("replication", None)
    for flag in ("overloaded", "queue_growing"):
        summary[flag] = any(s.get(flag) for s in summaries)
    summary["overloaded_pools"] = sorted(
        {p for s in summaries for p in s.get("overloaded_pools", [])}
    )
    records = pd.concat(frames, ignore_index=True)
    total_days = scenario.warmup_days + scenario.days
    summary["warmup_check"] = check_records(records, scenario.warmup_days, total_days)
    return RunResult(scenario, records, summaries, summary)

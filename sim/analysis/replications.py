"""Running a scenario: replications with their own streams, records and summaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from tqdm.auto import tqdm

from sim.measures.metrics import combine
from sim.measures.records import call_records
from sim.measures.warmup import check_records
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


def run_once(
    scenario: Scenario, replication: int = 0
) -> tuple[PatrolModel, pd.DataFrame, dict[str, Any]]:
    """One replication: the finished model, its records and its summary."""
    model = PatrolModel(scenario, replication=replication, world=build_world(scenario))
    model.run()
    records = call_records(model)
    return model, records, model.summary(records)


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

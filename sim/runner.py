"""Running a scenario: replications with their own streams, records and summaries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from sim.metrics import combine, summarize
from sim.model import PatrolModel
from sim.records import call_records
from sim.scenario import Scenario
from sim.world import build_world


@dataclass
class RunResult:
    """Every replication of one scenario."""

    scenario: Scenario
    records: pd.DataFrame  # all replications, with a 'replication' column
    summaries: list[dict[str, Any]]  # one per replication
    summary: dict[str, Any]  # means over replications, with 'ci95'
    base_dir: Path | None = None  # where the scenario's relative paths resolve


def run_once(
    scenario: Scenario, replication: int = 0, base_dir: Path | None = None
) -> tuple[PatrolModel, pd.DataFrame, dict[str, Any]]:
    """One replication: the finished model, its records and its summary."""
    world = build_world(scenario, base_dir)
    model = PatrolModel(scenario, replication=replication, world=world, base_dir=base_dir)
    model.run()
    records = call_records(model)
    meta = {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "replication": replication,
        "days": scenario.days,
        "replications": 1,
        "scenario_hash": scenario.digest(),
        "network_hash": world.network.digest,
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
    return model, records, summary


def run_replications(
    scenario: Scenario, base_dir: Path | None = None, progress: bool = True
) -> RunResult:
    """All of a scenario's replications (seeded ``seed``, replications 0..R-1)."""
    frames, summaries = [], []
    reps = range(scenario.replications)
    bar = tqdm(reps, desc=scenario.name, unit="rep", disable=not progress, leave=False)
    for rep in bar:
        _, records, summary = run_once(scenario, rep, base_dir)
        frames.append(records.assign(replication=rep))
        summaries.append(summary)
    summary = combine(summaries)
    summary["replications"] = scenario.replications
    summary.pop("replication", None)
    summary["ci95"].pop("replication", None)
    records = pd.concat(frames, ignore_index=True)
    return RunResult(scenario, records, summaries, summary, base_dir)

"""``sim.run`` and ``sim.compare``: replications of scenarios given by name, path or object."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.analysis.comparison import Comparison
from sim.analysis.replications import RunResult, run_all
from sim.scenarios.load import load_scenario
from sim.scenarios.overrides import set_path
from sim.scenarios.schema import Scenario

ScenarioLike = Scenario | str | Path


def resolve(
    scenario: ScenarioLike,
    *,
    reps: int | None = None,
    days: float | None = None,
    seed: int | None = None,
    set: Mapping[str, Any] | None = None,
) -> Scenario:
    """A validated scenario: loaded by name or path, or an object with changes applied."""
    if not isinstance(scenario, Scenario):
        return load_scenario(scenario, days=days, seed=seed, reps=reps, set=set)
    changes = {"days": days, "seed": seed, "replications": reps, **(set or {})}
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        return scenario
    raw = scenario.model_dump(mode="json")
    for dotted, value in changes.items():
        set_path(raw, dotted, value)
    return Scenario.model_validate(raw).located(scenario.source_dir)


def run(
    scenario: ScenarioLike,
    *,
    reps: int | None = None,
    days: float | None = None,
    seed: int | None = None,
    set: Mapping[str, Any] | None = None,
    progress: bool = False,
    workers: int | None = 1,
) -> RunResult:
    """Run a scenario's replications: records, per-replication summaries, means with CIs.

    ``workers``: processes (1, the default: in this process, as a script or notebook
    expects; None: every core); the same results either way.
    """
    resolved = resolve(scenario, reps=reps, days=days, seed=seed, set=set)
    return run_all([resolved], progress, workers)[0]


def compare(
    *scenarios: ScenarioLike,
    reps: int | None = None,
    days: float | None = None,
    seed: int | None = None,
    set: Mapping[str, Any] | None = None,
    progress: bool = False,
    workers: int | None = 1,
) -> Comparison:
    """Run scenarios on the same calls (same seed, paired replications) and compare them.

    Every (scenario, replication) pair is one task for ``workers`` processes (as in ``run``).
    """
    resolved = [resolve(s, reps=reps, days=days, seed=seed, set=set) for s in scenarios]
    return Comparison(run_all(resolved, progress, workers))

"""Running a scenario: replications with their own streams, records and summaries."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from tqdm.auto import tqdm

from sim.analysis.pool import WORKER_MODULES, check_workers, process_pool
from sim.analysis.sharing import SharedTasks
from sim.errors import SimInputError
from sim.measures.metrics import combine
from sim.measures.records import call_records
from sim.measures.warmup import check_records
from sim.model import PatrolModel
from sim.network.world import build_world
from sim.registry import DISPATCH_POLICIES, OUTCOME_RULES, PATROL_POLICIES

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
    """One replication: the finished model, its records and its summary.

    The model keeps no finished call objects (``keep_calls=False``): their records are made
    as it runs, so a long run holds them once.
    """
    world = build_world(scenario)
    model = PatrolModel(scenario, replication=replication, world=world, keep_calls=False)
    model.run()
    records = call_records(model)
    return model, records, model.summary(records)


Outcome = tuple[pd.DataFrame, dict[str, Any]]


def replicate(scenario: Scenario, replication: int) -> Outcome:
    """One replication's records (with a 'replication' column) and summary: a worker's task."""
    _, records, summary = run_once(scenario, replication)
    return records.assign(replication=replication), summary


def run_replications(
    scenario: Scenario, progress: bool = True, workers: int | None = 1
) -> RunResult:
    """All of a scenario's replications (seeded ``seed``, replications 0..R-1).

    ``workers``: processes to run them in (None: every core; 1: in this process). The
    result is the same, byte for byte, whatever the number.
    """
    return run_all([scenario], progress, workers)[0]


def run_all(
    scenarios: Sequence[Scenario], progress: bool = True, workers: int | None = 1
) -> list[RunResult]:
    """Every replication of every scenario, spread over ``workers`` processes together."""
    names = [s.name for s in scenarios]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SimInputError(
            f"scenario name {twice[0]!r} is given {names.count(twice[0])} times: scenarios run "
            "side by side need different names (set 'name:' in a copy of the YAML file)"
        )
    tasks = [(s, rep) for s in scenarios for rep in range(s.replications)]
    desc = ", ".join(s.name for s in scenarios)
    outcomes = iter(run_tasks(tasks, workers, progress, desc))
    results = []
    for scenario in scenarios:
        mine = [next(outcomes) for _ in range(scenario.replications)]
        frames, summaries = [f for f, _ in mine], [s for _, s in mine]
        results.append(combine_replications(scenario, frames, summaries))
    return results


def run_tasks(
    tasks: Sequence[tuple[Scenario, int]],
    workers: int | None = 1,
    progress: bool = True,
    desc: str = "",
    *,
    here: bool = True,
) -> list[Outcome]:
    """Each (scenario, replication)'s outcome, in the order of ``tasks``.

    With one task or one worker, or a policy a worker could not import (one defined in
    ``__main__``), they run here; else here and in ``workers - 1`` other processes
    (``here=False``: in ``workers`` other processes only).
    """
    count = min(check_workers(workers), len(tasks))
    modules = policy_modules([s for s, _ in tasks])
    bar = tqdm(total=len(tasks), desc=desc, unit="rep", disable=not progress, leave=False)
    with bar:
        if count > 1 and modules is None:
            warnings.warn(
                f"{count} workers asked, but a dispatch or patrol policy these scenarios use is "
                "defined where worker processes cannot import it (__main__): running in this "
                "process (define the policy in an importable module to use workers)",
                UserWarning,
                stacklevel=3,
            )
        if count <= 1 or modules is None:
            return [_counted(bar, replicate(*task)) for task in tasks]
        return _in_pool(tasks, count, modules, bar, here)


def _counted(bar: tqdm, outcome: Outcome) -> Outcome:
    bar.update()
    return outcome


def _in_pool(
    tasks: Sequence[tuple[Scenario, int]],
    workers: int,
    modules: list[str],
    bar: tqdm,
    here: bool = True,
) -> list[Outcome]:
    """The tasks in this process and ``workers - 1`` others; on error or Ctrl-C they stop.

    A worker that dies costs its replication one retry (see :mod:`sim.analysis.sharing`).
    """
    before = set(multiprocessing.active_children())
    others = workers - 1 if here else workers
    names = [f"replication {rep} of {scenario.name!r}" for scenario, rep in tasks]
    shared = SharedTasks(
        tasks, replicate, warm_up,
        lambda: process_pool(others, modules=[*WORKER_MODULES, *modules]), names, bar.update,
    )  # fmt: skip
    try:
        return shared.run(others, here)
    finally:  # every result is in (or none is wanted): stop the workers, even mid-start
        for pool in shared.pools:
            pool.shutdown(wait=False, cancel_futures=True)
        for process in set(multiprocessing.active_children()) - before:
            process.terminate()
        # Keep the pools referenced: were one collected while its manager thread handles the
        # stopped workers, that thread would deadlock (CPython 3.13.0, weakref_cb) and the
        # interpreter would hang at exit.
        _STOPPED_POOLS.extend(shared.pools)


_STOPPED_POOLS: list[cf.Executor] = []


def warm_up(task: tuple[Scenario, int]) -> None:
    """A worker's first call: build (and cache) the world before taking any task."""
    build_world(task[0])


def policy_modules(scenarios: Sequence[Scenario]) -> list[str] | None:
    """Modules a worker imports to know the policies and rules these scenarios name.

    None: a worker cannot (one is defined in ``__main__``).
    """
    used = [DISPATCH_POLICIES.get(s.dispatch.policy) for s in scenarios]
    used += [PATROL_POLICIES.get(group.patrol.policy) for s in scenarios for group in s.units]
    used += [OUTCOME_RULES.get(name) for s in scenarios for name in s.outcomes.rules]
    modules = {getattr(fn, "__module__", None) for fn in used if fn is not None}
    if modules & {None, "__main__", "builtins"}:
        return None
    return sorted(m for m in modules if not m.startswith("sim."))


def combine_replications(
    scenario: Scenario, frames: list[pd.DataFrame], summaries: list[dict[str, Any]]
) -> RunResult:
    """A RunResult from per-replication records (with a 'replication' column) and summaries."""
    summary = combine(summaries)
    summary["replications"] = len(summaries)
    summary.pop("replication", None)
    summary["ci95"].pop("replication", None)
    for flag in ("overloaded", "queue_growing", "queue_saturated", "queue_bound"):
        summary[flag] = any(s.get(flag) for s in summaries)
    summary["overloaded_pools"] = sorted(
        {p for s in summaries for p in s.get("overloaded_pools", [])}
    )
    records = pd.concat(frames, ignore_index=True)
    total_days = scenario.warmup_days + scenario.days
    summary["warmup_check"] = check_records(records, scenario.warmup_days, total_days)
    return RunResult(scenario, records, summaries, summary)

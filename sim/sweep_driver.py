"""The sweep driver: submits runs to a pool, files every outcome in the ledger, shows progress.

The driver is the ledger's only writer. It keeps a bounded window of runs in flight, commits
each result as it arrives, resubmits runs lost to a dead worker (rebuilding a broken local
pool), and records a run as failed after ``max_attempts`` such losses.
"""

from __future__ import annotations

import concurrent.futures as cf
import sys
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from sim.executors import Pool, execute_run
from sim.ledger import Ledger
from sim.sweep import Plan, RunTask

TABLE_NAME = "runs.parquet"
Outcome = dict[str, Any]


@dataclass
class SweepStats:
    """What one invocation did."""

    total: int  # runs in the plan
    skipped: int  # already in the ledger
    todo: int  # submitted this time
    done: int = 0
    failed: int = 0
    lost: int = 0  # runs resubmitted because a worker died
    seconds: float = 0.0
    table: Path | None = None

    @property
    def rate_per_min(self) -> float:
        """Runs finished per minute of wall time."""
        return 60.0 * (self.done + self.failed) / self.seconds if self.seconds else 0.0


def run_sweep(
    plan: Plan,
    folder: str | Path,
    open_pool: Callable[[], Pool],
    *,
    retry_failed: bool = False,
    progress: bool = True,
    run_fn: Callable[[RunTask], Outcome] = execute_run,
    max_attempts: int = 3,
    on_outcome: Callable[[RunTask, Outcome], None] | None = None,
) -> SweepStats:
    """Run what the ledger in ``folder`` lacks, then export the plan's runs to Parquet.

    ``open_pool`` is called only when there is something to run.
    """
    folder = Path(folder)
    started = time.perf_counter()
    with Ledger(folder) as ledger:
        ledger.set_meta("spec", plan.spec.model_dump(mode="json"))
        statuses = ledger.statuses()
        unique = list({t.key: t for t in plan.tasks}.values())  # points may share runs
        todo = [
            t for t in unique
            if t.key not in statuses or (retry_failed and statuses[t.key] == "failed")
        ]  # fmt: skip
        stats = SweepStats(len(plan.tasks), len(unique) - len(todo), len(todo))
        if todo:
            with open_pool() as pool:
                _announce(plan, stats, pool, progress)
                _execute(todo, pool, ledger, plan, stats, run_fn, max_attempts, progress,
                         on_outcome)  # fmt: skip
        stats.table = folder / TABLE_NAME
        ledger.export(stats.table, plan.tasks)
    stats.seconds = time.perf_counter() - started
    return stats


def _announce(plan: Plan, stats: SweepStats, pool: Pool, progress: bool) -> None:
    if progress:
        print(
            f"sweep {plan.spec.name!r}: {stats.total} runs ({len(plan.points)} points x "
            f"{stats.total // max(1, len(plan.points))} seeds/replications); "
            f"{stats.skipped} in the ledger, {stats.todo} to run on {pool.kind} "
            f"x{pool.workers}",
            file=sys.stderr,
        )


def _execute(
    todo: list[RunTask],
    pool: Pool,
    ledger: Ledger,
    plan: Plan,
    stats: SweepStats,
    run_fn: Callable[[RunTask], Outcome],
    max_attempts: int,
    progress: bool,
    on_outcome: Callable[[RunTask, Outcome], None] | None,
) -> None:
    queue = deque(todo)
    inflight: dict[cf.Future, RunTask] = {}
    losses: Counter[str] = Counter()
    window = max(2, (2 if pool.kind == "local" else 4) * pool.workers)
    bar = tqdm(total=len(todo), desc=plan.spec.name, unit="run", disable=not progress,
               file=sys.stderr, dynamic_ncols=True)  # fmt: skip

    def finish(task: RunTask, outcome: Outcome) -> None:
        ledger.record(task, outcome, plan.spec.name, plan.code_version)
        stats.done += outcome["status"] == "done"
        stats.failed += outcome["status"] == "failed"
        bar.update(1)
        bar.set_postfix(done=stats.done, failed=stats.failed, refresh=False)
        if on_outcome is not None:
            on_outcome(task, outcome)

    def lost(task: RunTask, exc: BaseException) -> None:
        losses[task.key] += 1
        stats.lost += 1
        if losses[task.key] >= max_attempts:
            finish(task, _infra_failure(task, exc, losses[task.key]))
        else:
            queue.appendleft(task)

    try:
        while queue or inflight:
            while queue and len(inflight) < window:
                task = queue.popleft()
                inflight[pool.submit(run_fn, task)] = task
            finished, _ = cf.wait(inflight, return_when=cf.FIRST_COMPLETED)
            broken = False
            for future in finished:
                task = inflight.pop(future)
                exc = future.exception()
                if exc is None:
                    finish(task, future.result())
                else:
                    broken |= isinstance(exc, cf.BrokenExecutor)
                    lost(task, exc)
            if broken:  # every other run in flight is lost too: keep what finished first
                for task, outcome, exc in _drain(inflight):
                    finish(task, outcome) if exc is None else lost(task, exc)
                pool.recover()
    finally:
        bar.close()


def _drain(
    inflight: dict[cf.Future, RunTask],
) -> list[tuple[RunTask, Outcome | None, BaseException | None]]:
    """Settle every future of a broken pool (they fail fast) and empty ``inflight``."""
    cf.wait(inflight, timeout=60)
    settled = []
    for future, task in inflight.items():
        if future.done() and not future.cancelled() and future.exception() is None:
            settled.append((task, future.result(), None))
        elif future.done() and not future.cancelled():
            settled.append((task, None, future.exception()))
        else:
            settled.append((task, None, cf.BrokenExecutor("the worker pool broke")))
    inflight.clear()
    return settled


def _infra_failure(task: RunTask, exc: BaseException, times: int) -> Outcome:
    import traceback

    text = "".join(traceback.format_exception(exc))
    return {
        "key": task.key,
        "status": "failed",
        "error": f"worker lost {times} times while running: {type(exc).__name__}: {exc}",
        "traceback": text,
    }

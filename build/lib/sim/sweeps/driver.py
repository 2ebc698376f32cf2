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

from sim.sweeps.executors import Pool, execute_run
from sim.sweeps.ledger import Ledger
from sim.sweeps.spec import Plan, RunTask

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
    lost: int = 0  # times runs were lost with a worker and resubmitted
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

    try:
        _Loop(pool, run_fn, finish, stats, max_attempts).run(todo)
    finally:
        bar.close()


class _Loop:
    """Submit a window of runs, collect outcomes, and handle runs lost with a worker.

    When a local pool breaks, every run in flight is lost and the culprit is unknown: the
    lost runs become suspects and are rerun one at a time, so a run that kills its worker
    again is blamed alone (and recorded failed after ``max_attempts``).
    """

    def __init__(self, pool: Pool, run_fn, finish, stats: SweepStats, max_attempts: int):
        self.pool, self.run_fn, self.finish, self.stats = pool, run_fn, finish, stats
        self.max_attempts = max_attempts
        self.window = max(2, (2 if pool.kind == "local" else 4) * pool.workers)
        self.queue: deque[RunTask] = deque()
        self.suspects: deque[RunTask] = deque()
        self.inflight: dict[cf.Future, RunTask] = {}
        self.losses: Counter[str] = Counter()

    def run(self, todo: list[RunTask]) -> None:
        self.queue.extend(todo)
        while self.queue or self.suspects or self.inflight:
            self._fill()
            finished, _ = cf.wait(self.inflight, return_when=cf.FIRST_COMPLETED)
            alone = len(self.inflight) == 1
            broken = False
            for future in finished:
                task = self.inflight.pop(future)
                exc = future.exception()
                if exc is None:
                    self.finish(task, future.result())
                elif isinstance(exc, cf.BrokenExecutor):
                    broken = True
                    self._blame(task, exc) if alone else self.suspects.append(task)
                else:  # e.g. Dask's KilledWorker: Dask knows which run it was
                    self._blame(task, exc)
            if broken:
                self._pool_broke()

    def _pool_broke(self) -> None:
        """The rest in flight is lost too: keep what finished first, suspect the others."""
        for task, outcome, exc in _drain(self.inflight):
            self.finish(task, outcome) if exc is None else self.suspects.append(task)
        self.stats.lost += 1
        self.pool.recover()

    def _fill(self) -> None:
        if self.suspects:
            if not self.inflight:
                task = self.suspects.popleft()
                if not self._submit(task):
                    self.suspects.appendleft(task)
            return
        while self.queue and len(self.inflight) < self.window:
            task = self.queue.popleft()
            if not self._submit(task):
                self.queue.appendleft(task)
                return

    def _submit(self, task: RunTask) -> bool:
        """Submit a run; False when the pool turns out broken (it is then recovered)."""
        try:
            self.inflight[self.pool.submit(self.run_fn, task)] = task
        except cf.BrokenExecutor:  # a worker died after the last results came in
            self._pool_broke()
            return False
        return True

    def _blame(self, task: RunTask, exc: BaseException) -> None:
        self.losses[task.key] += 1
        if self.losses[task.key] >= self.max_attempts:
            self.finish(task, _infra_failure(task, exc, self.losses[task.key]))
        elif isinstance(exc, cf.BrokenExecutor):
            self.suspects.append(task)
        else:
            self.queue.appendleft(task)
            self.stats.lost += 1


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

"""Tasks shared between this process and a pool of worker processes, each taking the next.

This process starts at once; a worker takes tasks only once it has started up (imports, the
world), then the next one whenever it is free. So a pool is not slower than this process
alone when tasks are short, and up to ``workers`` times faster when they are long.

One thread here (the feeder) alone talks to the pool. Nothing is submitted from a future's
callback: CPython's pool runs those callbacks holding its own lock when a worker dies, and
a submit from there deadlocks it. A worker that dies (killed, out of memory) loses its task:
the pool is started again once and the task retried once, and a line says so; a second
death ends the run within seconds with :class:`~sim.errors.WorkerLostError` naming the task.

A worker's outcome comes back through a file, the pool's pipe carrying only its name: a
worker killed while it sends a large outcome through the pipe leaves half a message there,
and CPython's pool then waits for the rest forever (seen with 1.6 MB replications). A name
of a few bytes goes in one write, whole or not at all.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from sim.errors import WorkerLostError

POLL_S = 0.1  # how often the feeder looks up from the pool (to see a stop)
DIED = "lost with a worker process that died (killed, or out of memory?)"


def say(line: str) -> None:
    """Tell the user (on stderr)."""
    print(line, file=sys.stderr, flush=True)


def spilled(work: Callable[..., Any], folder: str, index: int, *task: Any) -> str:
    """In a worker: ``work(*task)``, its outcome pickled to a file in ``folder``; its name."""
    outcome = work(*task)
    path = os.path.join(folder, f"{index}.pickle")
    try:
        with open(path, "wb") as file:
            pickle.dump(outcome, file, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError as exc:  # a full disk: name the file (an error in a write names none)
        raise OSError(exc.errno, exc.strerror, path) from None
    return path


def unspilled(path: str) -> Any:
    """Here: the outcome a worker left in ``path`` (a file of this run's own folder), then gone."""
    with open(path, "rb") as file:
        outcome = pickle.load(file)
    os.unlink(path)
    return outcome


class SharedTasks:
    """Run ``work(*task)`` for every task, here and in pools made by ``new_pool``.

    ``warm(task)``: a worker's first call (build what every task needs) before it takes
    any. ``names[i]``: task ``i`` as the user knows it ("replication 3 of 'embedded'").
    ``done()``: called here after each finished task (a progress bar).
    """

    def __init__(
        self,
        tasks: Sequence[tuple[Any, ...]],
        work: Callable[..., Any],
        warm: Callable[..., Any],
        new_pool: Callable[[], cf.Executor],
        names: Sequence[str],
        done: Callable[[], Any] = lambda: None,
        tell: Callable[[str], None] = say,
    ) -> None:
        self.tasks, self.work, self.warm, self.new_pool = tasks, work, warm, new_pool
        self.names, self.done, self.tell = names, done, tell
        self.outcomes: list[Any] = [None] * len(tasks)
        self.waiting = deque(range(len(tasks)))  # not yet taken, retried ones first
        self.lock = threading.Lock()
        self.stopped = False
        self.error: BaseException | None = None
        self.pools: list[cf.Executor] = []  # every pool started (the caller stops them)
        self.caller: int | None = None  # the thread that runs tasks here
        self.folder = ""  # where workers leave outcomes (this run's own, removed after)

    def run(self, pool_workers: int, here: bool = True) -> list[Any]:
        """Every task's outcome, in task order; the pool's error if it failed."""
        try:
            return self._run(pool_workers, here)
        except BaseException:  # Ctrl-C, or the feeder ending this thread's task: then
            if self.error is None:  # whatever that interrupted fails, the cause is the pool
                raise
            raise self.error from None

    def _run(self, pool_workers: int, here: bool) -> list[Any]:
        self.caller = threading.get_ident()
        self.folder = tempfile.mkdtemp(prefix="patrol-sim-outcomes-")
        feeder = threading.Thread(target=self._feed, args=(pool_workers,), daemon=True)
        try:
            feeder.start()
            while here and (index := self.take()) is not None:
                self.outcomes[index] = self.work(*self.tasks[index])
                self.done()
            while feeder.is_alive():  # in steps, so that Ctrl-C gets through
                feeder.join(POLL_S)
        finally:
            self.stop()
            shutil.rmtree(self.folder, ignore_errors=True)  # (a stopped worker may add one)
        if self.error is not None:
            raise self.error
        return self.outcomes

    def take(self) -> int | None:
        """The next task's index (None: all taken, or stopped)."""
        with self.lock:
            if self.stopped or not self.waiting:
                return None
            return self.waiting.popleft()

    def stop(self) -> None:
        """Hand out no more tasks."""
        with self.lock:
            self.stopped = True

    # -- the feeder thread ----------------------------------------------------------------
    def _feed(self, workers: int) -> None:
        try:
            self._drive(workers)
        except BaseException as exc:
            with self.lock:
                if self.stopped:
                    return
                self.stopped, self.error = True, exc
                if self.caller == threading.main_thread().ident:  # end its task too, now
                    signal.pthread_kill(self.caller, signal.SIGINT)

    def _drive(self, workers: int) -> None:
        """Start the pool, give each free worker the next task, collect; restart once."""
        inflight = self._start(workers)
        restarted = False
        while True:
            with self.lock:  # done when no task is left to send or to collect
                if self.stopped or not (
                    self.waiting or any(i is not None for i in inflight.values())
                ):
                    return
            if not self._collect(inflight):
                lost = self._settle(inflight)
                if restarted:
                    raise WorkerLostError(self._lost_message(lost))
                self._retry(lost)
                inflight, restarted = self._start(workers), True

    def _collect(self, inflight: dict[cf.Future, int | None]) -> bool:
        """Collect what finished and refill the freed workers; False: the pool broke."""
        finished, _ = cf.wait(inflight, timeout=POLL_S, return_when=cf.FIRST_COMPLETED)
        whole = True
        for future in finished:
            error = future.exception()
            if isinstance(error, cf.BrokenExecutor):
                whole = False  # _settle finds it lost
                continue
            if error is not None:  # the task itself failed: so does the run
                raise error
            if (index := inflight.pop(future)) is not None:  # None: a worker's warm-up
                self.outcomes[index] = unspilled(future.result())
                self.done()
            whole = whole and self._submit(inflight)
        return whole

    def _start(self, workers: int) -> dict[cf.Future, int | None]:
        pool = self.new_pool()
        self.pools.append(pool)
        return {pool.submit(self.warm, self.tasks[0]): None for _ in range(workers)}

    def _submit(self, inflight: dict[cf.Future, int | None]) -> bool:
        """Give the next task to the worker just freed; False: the pool broke meanwhile."""
        if (index := self.take()) is None:
            return True  # nothing left: the worker stays idle
        try:
            task = self.tasks[index]
            inflight[self.pools[-1].submit(spilled, self.work, self.folder, index, *task)] = index
        except cf.BrokenExecutor:
            with self.lock:
                self.waiting.appendleft(index)  # not lost: never sent
            return False
        return True

    def _settle(self, inflight: dict[cf.Future, int | None]) -> list[int]:
        """After a break: keep what finished, return the tasks lost with the pool."""
        cf.wait(inflight, timeout=30)  # a broken pool fails every future at once
        lost = []
        for future, index in inflight.items():
            if index is None:
                continue
            if future.done() and future.exception() is None:
                self.outcomes[index] = unspilled(future.result())
                self.done()
            else:
                lost.append(index)
        inflight.clear()
        return lost

    def _retry(self, lost: list[int]) -> None:
        """Put the lost tasks first in line again (once), and say so."""
        with self.lock:
            self.waiting.extendleft(sorted(lost, reverse=True))
        if lost:
            names = ", ".join(self.names[i] for i in sorted(lost))
            self.tell(f"{names}: {DIED}; retrying {'it' if len(lost) == 1 else 'them'} once")
        else:
            self.tell("a worker process died while starting (killed, or out of memory?); "
                      "starting the pool again")  # fmt: skip

    def _lost_message(self, lost: list[int]) -> str:
        hint = "after one worker was lost already; --workers 1 runs everything in this process"
        if not lost:
            return f"a worker process died while starting (killed, or out of memory?), {hint}"
        return f"{', '.join(self.names[i] for i in sorted(lost))}: {DIED}, {hint}"

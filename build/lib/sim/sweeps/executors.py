"""Where runs execute: one ``concurrent.futures`` seam for a local process pool and Dask.

Workers run :func:`execute_run` and *return* its outcome; only the driver writes the ledger.
A run that raises comes back as a ``failed`` outcome with its traceback; an exception from a
future itself means the infrastructure failed (a worker died) and the driver resubmits.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from sim.analysis.pool import process_pool
from sim.errors import SimInputError, import_extra
from sim.measures.metrics import flatten
from sim.sweeps.spec import RunTask

EXECUTORS = ("local", "dask", "inline")
#: Modules a local worker imports before its first run.
PRELOAD = ("sim.sweeps.executors", "sim.analysis.replications")
#: Extra per-run metrics beyond DESIGN 4.3's summary: the response-time CDF at these minutes.
CDF_MINUTES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 25, 30, 45, 60)


# -- the worker side ------------------------------------------------------------------------
def execute_run(task: RunTask) -> dict[str, Any]:
    """Validate and run one task; its outcome (never raises for a failing run)."""
    started = time.perf_counter()
    outcome: dict[str, Any] = {"key": task.key, "worker": f"{socket.gethostname()}:{os.getpid()}"}
    try:
        outcome["metrics"] = run_metrics(task)
        outcome["status"] = "done"
    except Exception as exc:  # a failing run is a result, not a crash
        outcome.update(status="failed", error=f"{type(exc).__name__}: {exc}",
                       traceback=traceback.format_exc())  # fmt: skip
    outcome["seconds"] = time.perf_counter() - started
    return outcome


def run_metrics(task: RunTask) -> dict[str, Any]:
    """One replication's flattened summary plus the sweep's extra metrics."""
    from sim.analysis.replications import run_once
    from sim.scenarios.load import validate

    scenario = validate(task.raw, task.source).located(task.base_dir)
    model, records, summary = run_once(scenario, task.replication)
    metrics = flatten(summary)
    metrics.update(extra_metrics(model, records))
    return {k: _plain(v) for k, v in metrics.items()}


def extra_metrics(model: Any, records: Any) -> dict[str, Any]:
    """Response-time CDF points and the share of calls answered from another community."""
    if "in_warmup" not in records or "response_min" not in records:
        return {}
    counted = records[~records["in_warmup"]]
    response = counted["response_min"].to_numpy(dtype=float, na_value=np.inf)
    extra: dict[str, Any] = {
        f"extra.within_min.{m}": float((response <= m).mean()) if len(response) else None
        for m in CDF_MINUTES
    }
    extra["extra.borrowed_share"] = _borrowed_share(model, counted)
    return extra


def _borrowed_share(model: Any, counted: Any) -> float | None:
    """Share of answered calls whose unit's post serves another community."""
    world = getattr(model, "world", None)
    if world is None or "unit_post" not in counted:
        return None
    names = [c.name for c in model.scenario.communities]
    home = {post: names[c] for post, c in world.post_community.items()}
    answered = counted[counted["unit_post"].notna()]
    if not len(answered):
        return None
    other = answered["unit_post"].map(home).astype(str) != answered["community"].astype(str)
    return float(other.mean())


def _plain(value: Any) -> Any:
    """Numpy scalars to Python ones (for JSON)."""
    return value.item() if isinstance(value, np.generic) else value


# -- pools ----------------------------------------------------------------------------------
class Pool:
    """A ``concurrent.futures`` executor with how many runs it takes at once."""

    kind = "inline"
    workers = 1

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future:
        """Run ``fn(*args)`` now, in this process (a baseline and for debugging)."""
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def recover(self) -> None:
        """Make the pool usable again after a worker died."""

    def close(self) -> None:
        """Release workers and connections."""

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalPool(Pool):
    """A process pool on this machine (``forkserver`` processes; one run per process at once)."""

    kind = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._executor = self._new()

    def _new(self) -> cf.ProcessPoolExecutor:
        return process_pool(self.workers, PRELOAD, (), ignore_interrupt=False)

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future:
        """Queue ``fn(*args)`` on the pool."""
        return self._executor.submit(fn, *args)

    def recover(self) -> None:
        """A killed worker breaks a ProcessPoolExecutor for good: start a new one."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = self._new()

    def close(self) -> None:
        """Stop the workers (pending runs are cancelled; the ledger keeps what finished)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


class DaskPool(Pool):
    """Dask distributed: a scheduler at ``address``, or a local cluster of processes."""

    kind = "dask"

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        distributed = import_extra("distributed", "sweep", "--executor dask")
        Client, LocalCluster = distributed.Client, distributed.LocalCluster
        self._cluster = None
        if address is None:
            self._cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR,
                preload=list(PRELOAD),  # imported as each worker starts, not at its first run
            )  # fmt: skip
            address = self._cluster.scheduler_address
        try:
            self.client = Client(address, timeout="20s")
        except OSError as exc:
            self._close_cluster()
            raise SimInputError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        self.workers = max(1, sum(self.client.nthreads().values()))
        self._executor = self.client.get_executor(pure=False)  # pure=True would merge runs

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future:
        """Send ``fn(*args)`` to the cluster."""
        return self._executor.submit(fn, *args)

    def close(self) -> None:
        """Close the client, and the local cluster if this pool started it."""
        self._executor.shutdown(wait=False)
        self.client.close()
        self._close_cluster()

    def _close_cluster(self) -> None:
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def open_pool(kind: str, workers: int | None = None, scheduler: str | None = None) -> Pool:
    """A pool by name: ``local``, ``dask`` or ``inline`` (in this process)."""
    if workers is not None and workers < 1:
        raise SimInputError(f"--workers {workers}: at least 1 is needed")
    if scheduler and kind != "dask":
        raise SimInputError("--scheduler needs --executor dask")
    if kind == "local":
        return LocalPool(workers)
    if kind == "dask":
        return DaskPool(workers, scheduler)
    if kind == "inline":
        return Pool()
    raise SimInputError(f"unknown executor {kind!r}; known: {', '.join(EXECUTORS)}")

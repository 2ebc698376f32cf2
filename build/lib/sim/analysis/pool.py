"""Local process pools: ``forkserver`` workers that end when the process that started them does.

One home for the pool that runs replications here and sweeps above (``sim.sweeps``).
Workers are started from a clean server process (not forked from a busy parent), preload
the simulation's modules, and watch their parent: a killed or interrupted parent leaves no
orphan processes behind.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import itertools
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence

from sim.errors import SimInputError

#: Modules a replication worker imports at its start (after it has set Ctrl-C aside).
WORKER_MODULES = ("sim.analysis.replications",)


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_workers(workers: int | None) -> int:
    """``workers`` as a count (None: every core); a clear error below 1."""
    if workers is None:
        return available_cores()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SimInputError(f"--workers {workers}: at least 1 worker is needed")
    return workers


def start_server(argv: Sequence[str] = ()) -> bool:
    """Start the fork server now, importing the simulation, unless ``argv`` asks for no pool.

    Called before a command loads (imports, scenarios, the world), so that the server gets
    ready meanwhile, on another core, and workers forked from it start with every module in.
    False (nothing started): one core, or ``--workers 1``, ``--reps 1`` or help in ``argv``.
    """
    words = " ".join(argv).replace("=", " ").split()
    single = any(a in ("--workers", "--reps") and b == "1" for a, b in itertools.pairwise(words))
    if single or {"-h", "--help"} & set(words) or available_cores() < 2:
        return False
    from multiprocessing import forkserver

    multiprocessing.set_forkserver_preload(list(WORKER_MODULES))
    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()
        return True
    # The server starts deaf to Ctrl-C (an ignored signal stays ignored across exec): a
    # Ctrl-C reaches the whole process group and would interrupt its start with a traceback.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)
    return True


def process_pool(
    workers: int,
    preload: Sequence[str] = (),
    modules: Sequence[str] = WORKER_MODULES,
    ignore_interrupt: bool = True,
) -> cf.ProcessPoolExecutor:
    """A pool of ``workers`` forkserver processes that exit soon after this process ends.

    ``preload``: modules the fork server imports once, if it is not running yet (see
    :func:`start_server`; the first task waits until they are imported). ``modules``: imported
    by every worker at its start (the simulation; those that register a user's policies).
    ``ignore_interrupt``: workers ignore Ctrl-C (SIGINT reaches the whole process group),
    and the driver stops them itself.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    return cf.ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=start_worker,
        initargs=(os.getpid(), tuple(modules), ignore_interrupt),
    )


def start_worker(
    driver_pid: int, modules: Sequence[str] = (), ignore_interrupt: bool = True
) -> None:
    """Worker initializer: ignore Ctrl-C, import ``modules`` and watch the driver."""
    if ignore_interrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    for module in modules:
        importlib.import_module(module)
    exit_with_driver(driver_pid)


def exit_with_driver(driver_pid: int) -> None:
    """Worker initializer: end this worker soon after the driver is gone (not orphaned)."""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(driver_pid, 0)
            except ProcessLookupError:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="watch-driver").start()

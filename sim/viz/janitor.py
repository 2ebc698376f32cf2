"""Give back what closed sessions leave behind: idle worker threads and freed heap memory.

Two things outlive a class of pages without being leaks, and ``janitor`` (a task on the
server's event loop, started by ``serve``) returns both:

- anyio's worker threads (Solara runs each page's websocket in one) stay idle in a pool and
  are stopped only when the pool is next used, once idle ``anyio``'s 10 s: the janitor uses
  the pool every ``TICK_S``, so idle workers go about 15 s after the last page closes;
- glibc keeps freed memory in its heaps (a page's models are freed, the process does not
  shrink): after sessions close, a full collection then ``malloc_trim(0)`` hand it back.
  The server also runs with ``MALLOC_ARENA_MAX`` (``ARENA_ENV``): one arena per thread would
  scatter each page's memory over many heaps that are rarely all free.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
import sys

log = logging.getLogger(__name__)

TICK_S = 5.0  # how often the janitor looks
#: glibc's arena cap for the server process (set in its environment before it starts).
ARENA_ENV = {"MALLOC_ARENA_MAX": "2"}


def open_sessions() -> int:
    """Solara sessions (one per open page) in this process."""
    kernels = sys.modules.get("solara.server.kernel_context")
    return len(kernels.contexts) if kernels is not None else 0


def give_back_memory() -> bool:
    """Collect garbage, then return free heap pages to the system (False off glibc)."""
    gc.collect()
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        trim = None
    if trim is None:
        return False
    trim(0)
    return True


async def janitor(tick_s: float = TICK_S) -> None:
    """Forever: keep anyio's idle workers pruned; after sessions close, give memory back."""
    import anyio.to_thread

    sessions = open_sessions()
    while True:
        await asyncio.sleep(tick_s)
        now = open_sessions()
        if now < sessions:
            await anyio.to_thread.run_sync(give_back_memory)
            log.info("sessions %d -> %d: memory given back", sessions, now)
        else:
            await anyio.to_thread.run_sync(_nothing)  # the pool prunes its idle workers
        sessions = now


def _nothing() -> None:
    """A call that only makes anyio's pool prune workers idle for its limit or longer."""

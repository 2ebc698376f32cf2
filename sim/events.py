"""The event queue: a heap of ``(time_min, priority, sequence, handler, arg)`` tuples.

Plain tuples in a ``heapq`` run about 1.6 M events/s here, three times dataclass events and
ten times Mesa 3.5's ``schedule_event`` (DESIGN 7), which is why the model keeps its own
queue. Ties in time go to the lower ``Priority``, then to the event scheduled first, so a run
is deterministic.
"""

from __future__ import annotations

import gc
import heapq
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum
from typing import Any


class Priority(IntEnum):
    """Order of events due at the same minute."""

    UNIT = 0  # units free up (arrive, clear, come home, change shift) ...
    CALL = 1  # ... before calls are dispatched, so a freed unit can take them


class EventQueue:
    """Events in time order; ``heap`` is read by the model's loop (earliest first)."""

    __slots__ = ("heap", "scheduled")

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, int, Callable[[Any], None], Any]] = []
        self.scheduled = 0  # events scheduled so far, each's sequence (base calls are none)

    def schedule(
        self, t_min: float, priority: Priority, handler: Callable[[Any], None], arg: Any
    ) -> None:
        """Call ``handler(arg)`` at ``t_min``."""
        seq = self.scheduled
        self.scheduled = seq + 1
        heapq.heappush(self.heap, (t_min, priority, seq, handler, arg))

    def next_time_min(self) -> float:
        """When the next event is due (infinity when none is)."""
        return self.heap[0][0] if self.heap else float("inf")

    def pop(self) -> tuple[float, Callable[[Any], None], Any]:
        """Remove the next event: (time, handler, arg)."""
        t_min, _, _, handler, arg = heapq.heappop(self.heap)
        return t_min, handler, arg

    def __len__(self) -> int:
        return len(self.heap)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (a run makes almost no cyclic garbage)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

"""The waiting queue of the command room: priority first, then first come first served."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.calls.call import Call


def _key(call: Call) -> tuple[int, float, int]:
    return call.queue_key


class WaitingQueue:
    """Calls that still need a unit, kept sorted by ``Call.queue_key``."""

    __slots__ = ("_calls",)

    def __init__(self) -> None:
        self._calls: list[Call] = []

    def add(self, call: Call) -> None:
        """Put ``call`` in its place (after calls of the same key)."""
        bisect.insort(self._calls, call, key=_key)

    def remove(self, call: Call) -> None:
        """Take ``call`` out (it must be waiting)."""
        self._calls.remove(call)

    def discard(self, call: Call) -> bool:
        """Take ``call`` out if it is waiting; say whether it was."""
        if call in self._calls:
            self._calls.remove(call)
            return True
        return False

    def __contains__(self, call: object) -> bool:
        return call in self._calls

    def __iter__(self) -> Iterator[Call]:
        return iter(self._calls)

    def __len__(self) -> int:
        return len(self._calls)

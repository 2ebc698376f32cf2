"""Which units are free to take a call, kept up to date as units change state.

Dispatch asks for the free units on every call; scanning every unit each time costs a
metropolitan district (hundreds of units, a million calls) more than the rest of dispatch.
Units report their changes here instead (``Unit.set_state`` and the pending flags), and the
free units of one community are a lookup.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.agents.unit import Unit


_INDEX = attrgetter("index")  # units are kept in the model's order


class FreeUnits:
    """The free units of a model, in the model's unit order, overall and by community."""

    def __init__(self, units: Sequence[Unit]):
        self.units = units
        self.flags = [False] * len(units)
        self.free: list[Unit] = []  # the free units, in the model's order
        # community -> its free units, in order (every unit's community has its list)
        self.by_community: dict[int, list[Unit]] = {u.post.community: [] for u in units}
        for unit in units:
            self.update(unit)

    def update(self, unit: Unit) -> None:
        """Note whether ``unit`` (which may have changed) is free now."""
        free, index = unit.is_free, unit.index
        if free == self.flags[index]:
            return
        self.flags[index] = free
        mine = self.by_community[unit.post.community]
        if free:
            bisect.insort(self.free, unit, key=_INDEX)
            bisect.insort(mine, unit, key=_INDEX)
        else:
            self.free.remove(unit)
            mine.remove(unit)

    def view(self) -> FreeView:
        """The units free now, as a sequence that builds its list only if read whole."""
        return FreeView(self)


class FreeView(Sequence):
    """The free units at one moment (read it before any unit changes state)."""

    def __init__(self, free: FreeUnits):
        self.free = free
        self._list: list[Unit] | None = None

    @property
    def units(self) -> list[Unit]:
        """Every free unit, in the model's order."""
        if self._list is None:
            self._list = self.free.free.copy()
        return self._list

    def of_community(self, community: int) -> list[Unit]:
        """The free units based in ``community``, in the model's order."""
        return self.free.by_community.get(community, []).copy()

    def holds(self, unit: object) -> bool:
        """Whether ``unit`` is one of these free units (the very object), at once."""
        index = getattr(unit, "index", None)
        free = self.free
        if not isinstance(index, int) or not 0 <= index < len(free.flags):
            return False
        return free.flags[index] and free.units[index] is unit

    def __len__(self) -> int:
        return len(self.units)

    def __getitem__(self, k):
        return self.units[k]

    def __iter__(self) -> Iterator[Unit]:
        return iter(self.units)


def of_community(units: Sequence[Unit], community: int) -> list[Unit]:
    """The units among ``units`` based in ``community`` (a lookup on a ``FreeView``)."""
    if isinstance(units, FreeView):
        return units.of_community(community)
    return [u for u in units if u.post.community == community]

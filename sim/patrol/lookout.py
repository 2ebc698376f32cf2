"""What units on patrol notice: on-view incidents along their legs, at their stays, on arrival.

Each pass of a leg, and each stay, gets one look (``OnViewIncidents`` says whether an
incident is there and seen). Only the first incident a leg or a stay will see is planned, as
one event; if by then it did not happen (deterred) or is over, the unit looks on from there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sim.agents.unit import Unit, UnitState
from sim.events import Priority

if TYPE_CHECKING:
    from sim.patrol.legs import Leg
    from sim.patrol.on_view import OnViewIncidents


class LookoutHost(Protocol):
    """What the lookout needs from the model."""

    time: float
    schedule: Callable[[float, Priority, Callable[[Any], None], Any], None]


class Lookout:
    """Plans and handles what patrolling units notice."""

    def __init__(
        self,
        host: LookoutHost,
        incidents: OnViewIncidents,
        rng: np.random.Generator,
        take_incident: Callable[[Unit, int], None],
        interrupted: Callable[[Unit], None],
    ):
        """For ``host`` (the model).

        ``take_incident(unit, k)``: the unit takes incident ``k`` where it is;
        ``interrupted(unit)``: the unit leaves its patrol now (counted up to now).
        """
        self.host = host
        self.incidents = incidents
        self.rng = rng
        self.take_incident = take_incident
        self.interrupted = interrupted

    def along(self, unit: Unit, leg: Leg, first: int = 1) -> None:
        """Plan the notice of the first incident the leg's inner passes will see, if any.

        Not the node it leaves from (the last leg's end) nor the one it ends at (looked at
        on arrival): each pass gets one look. ``first``: the first pass to look at.
        """
        nodes = leg.route.nodes[first:-1]
        times = leg.route.t_depart_min + leg.route.cum_min[first:-1]
        i, k = self.incidents.first_noticed(nodes, times, self.rng.random)
        if k >= 0:
            arg = (unit, unit.trip_id, leg, int(nodes[i]), k, first + i)
            self.host.schedule(float(times[i]), Priority.UNIT, self._on_notice, arg)

    def during(self, unit: Unit, node: int, start_min: float, end_min: float) -> None:
        """Plan the notice of the first incident starting at ``node`` while the unit stays."""
        t, k = self.incidents.first_during(node, start_min, end_min, self.rng.random)
        if k >= 0:
            arg = (unit, unit.trip_id, None, node, k, end_min)
            self.host.schedule(t, Priority.UNIT, self._on_notice, arg)

    def on_arrival(self, unit: Unit, node: int) -> bool:
        """Whether the unit, arriving at ``node``, notices an incident there (and takes it)."""
        now = self.host.time
        _, k = self.incidents.first_noticed(np.array([node]), np.array([now]), self.rng.random)
        if k < 0 or not self.incidents.visible(k, now):
            return False
        self.incidents.noticed(k)
        self.take_incident(unit, k)
        return True

    def _on_notice(self, arg: tuple[Unit, int, Leg | None, int, int, float]) -> None:
        """A pass (or a stay) planned to notice an incident gets there.

        The last item of ``arg``: the pass's position along the leg, or the stay's end.
        """
        unit, trip_id, leg, node, k, after = arg
        now = self.host.time
        if trip_id != unit.trip_id or unit.state != UnitState.PATROL:
            return  # it left its patrol before getting there
        if not self.incidents.visible(k, now):  # it did not happen (deterred) or is over:
            if leg is not None:  # the patrol goes on, looking at the passes after this one
                self.along(unit, leg, int(after) + 1)
            else:
                self.during(unit, node, now, after)
            return
        self.interrupted(unit)
        unit.stop_at(node)
        self.incidents.noticed(k)
        self.take_incident(unit, k)

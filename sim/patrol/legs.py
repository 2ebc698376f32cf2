"""Patrol legs: a stretch of the beat's tour, the fastest path to a place, or both in turn.

Times along a leg are car free-flow minutes times ``slowdown`` (congestion over the patrol
mode's speed factor).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from sim.network.routing import Route
from sim.patrol.coverage import Coverage

if TYPE_CHECKING:
    from sim.network.routing import Router
    from sim.patrol.tours import Tour


@dataclass(slots=True)
class Leg:
    """A planned patrol leg: its timed route, the CSR entry of each edge, then a dwell.

    A leg along a tour names the tour and the tour position of its edge ``tour_from``
    (its edges before are a path to the tour; ``tour_from == len(entries)``: a path that
    ends on the tour there).
    """

    route: Route
    entries: np.ndarray  # index into the router's CSR arrays of each edge, in order
    dwell_min: float = 0.0  # stay at the last node afterwards (hot spots)
    tour: Tour | None = None
    start: int = 0  # the tour position of its edge ``tour_from``
    tour_from: int = 0  # a tour leg: its first edge along the tour
    slowdown: float = 1.0  # its minutes over car free-flow minutes
    counted: int = 0  # its first edges already recorded by ``Coverage``

    @property
    def tour_edges(self) -> int:
        """How many of its edges follow the tour."""
        return len(self.entries) - self.tour_from if self.tour is not None else 0

    def count(self, coverage: Coverage, done: int) -> None:
        """Count the passes of its edges up to edge ``done`` (those not counted yet)."""
        first, done = self.counted, min(done, len(self.entries))
        if done > first:
            self.counted = done
            times = self.route.t_depart_min + self.route.cum_min[first + 1 : done + 1]
            coverage.record(self.entries[first:done], times)

    def minutes_along_tour(self, now_min: float) -> float:
        """How far along its tour (free-flow minutes from the beginning) its unit is.

        On its way to the tour: where it would be had it driven the tour at its pace.
        """
        tour = self.tour
        t_on_tour = self.route.t_depart_min + float(self.route.cum_min[self.tour_from])
        along = tour.minutes_at(self.start) + (now_min - t_on_tour) / self.slowdown
        return max(0.0, min(along, tour.minutes_at(self.start + self.tour_edges)))

    def edges_done(self, t_min: float) -> int:
        """How many of its edges are finished at ``t_min``."""
        ends = self.route.t_depart_min + self.route.cum_min
        return int(ends.searchsorted(t_min, side="right")) - 1 if len(ends) else 0


def tour_leg(
    tour: Tour, position: int, t_depart_min: float, duration_min: float, slowdown: float
) -> Leg:
    """The stretch of ``tour`` from ``position`` lasting about ``duration_min``.

    One edge at least, one lap at most (slices of the tour's laps, so a leg costs the same
    whatever its length).
    """
    end = tour.position_after(position, min(duration_min / slowdown, tour.lap_min))
    count = max(1, min(end - position, tour.length))
    nodes, entries, cum_min = tour.stretch(position, count)
    route = Route(nodes, cum_min * slowdown if slowdown != 1.0 else cum_min, t_depart_min)
    return Leg(route, entries, tour=tour, start=position, slowdown=slowdown)


def path_leg(
    router: Router,
    coverage: Coverage,
    source: int,
    target: int,
    t_depart_min: float,
    slowdown: float,
    dwell_min: float = 0.0,
) -> Leg:
    """The fastest path from ``source`` to ``target`` (then a dwell there)."""
    route = router.route(source, target, t_depart_min)
    route = Route(route.nodes, route.cum_min * slowdown, t_depart_min)
    return Leg(route, coverage.entries_of(route.nodes), dwell_min, slowdown=slowdown)


def joined(approach: Leg, stretch: Leg) -> Leg:
    """One leg: ``approach`` (a path to a tour position), then ``stretch`` along the tour."""
    path, tour = approach.route, stretch.route
    route = Route(
        np.concatenate([path.nodes, tour.nodes[1:]]),
        np.concatenate([path.cum_min, path.cum_min[-1] + tour.cum_min[1:]]),
        path.t_depart_min,
    )
    entries = np.concatenate([approach.entries, stretch.entries])
    return Leg(route, entries, tour=stretch.tour, start=stretch.start,
               tour_from=len(approach.entries), slowdown=stretch.slowdown)  # fmt: skip


def approach_only(approach: Leg, tour: Tour, position: int) -> Leg:
    """A path to ``position`` of ``tour`` that the stint ends on: it reaches the tour there."""
    return replace(approach, tour=tour, start=position, tour_from=len(approach.entries),
                   slowdown=approach.slowdown)  # fmt: skip

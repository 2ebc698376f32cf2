"""Patrol legs: a stretch of the beat's tour, the fastest path to a place, or both in turn.

Times along a leg are car free-flow minutes times ``slowdown`` (congestion over the patrol
mode's speed factor).
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

import numpy as np

from sim.network.routing import Route
from sim.patrol.coverage import Coverage, Leg, Tour

if TYPE_CHECKING:
    from sim.network.routing import Router


def tour_leg(
    tour: Tour, position: int, t_depart_min: float, duration_min: float, slowdown: float
) -> Leg:
    """The stretch of ``tour`` from ``position`` (in its first lap) lasting about ``duration_min``.

    One edge at least, one lap at most (a slice of the tour's arrays, so a leg costs the
    same whatever its length).
    """
    wanted = tour.cum_min[position] + duration_min / slowdown
    end = bisect.bisect_left(tour.cum_min, wanted)
    end = max(position + 1, min(end, position + tour.length))
    route = Route(
        tour.nodes[position : end + 1],
        (tour.cum_min[position : end + 1] - tour.cum_min[position]) * slowdown,
        t_depart_min,
    )
    return Leg(route, tour.entries[position:end], tour=tour, start=position)


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
    return Leg(route, coverage.entries_of(route.nodes), dwell_min)


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
               tour_from=len(approach.entries))  # fmt: skip

"""Patrol legs: a walk over the beat's streets, or the fastest path to a place.

Times along a leg are car free-flow minutes times ``slowdown`` (congestion over the patrol
mode's speed factor). A walk takes at each node the street its beat covered least recently
(planned passes included, so units share the work), never turning back unless it must;
ties go to a random one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.network.routing import Route
from sim.patrol.coverage import Coverage, Leg

if TYPE_CHECKING:
    from sim.network.routing import Router


def walk_leg(
    coverage: Coverage,
    start: int,
    in_beat: np.ndarray,
    t_depart_min: float,
    duration_min: float,
    slowdown: float,
    rng: np.random.Generator,
) -> Leg:
    """A walk from ``start`` over nodes where ``in_beat`` holds, about ``duration_min`` long."""
    nodes, entries, cum = [start], [], [0.0]
    previous, node = -1, start
    while cum[-1] < duration_min:
        entry = _next_entry(coverage, node, previous, in_beat, rng)
        if entry < 0:
            break
        previous, node = node, int(coverage.heads[entry])
        nodes.append(node)
        entries.append(entry)
        cum.append(cum[-1] + float(coverage.edge_min[entry]) * slowdown)
    route = Route(np.array(nodes), np.array(cum), t_depart_min)
    return Leg(route, np.array(entries, dtype=np.int64))


def _next_entry(
    coverage: Coverage, node: int, previous: int, in_beat: np.ndarray, rng: np.random.Generator
) -> int:
    """The street to take from ``node``: in the beat, not back, least recently covered."""
    start, end = coverage.indptr[node], coverage.indptr[node + 1]
    entries = np.arange(start, end)
    heads = coverage.heads[start:end]
    keep = in_beat[heads] & (heads != node)
    if keep.sum() > 1:
        keep &= heads != previous  # no U-turn where there is another way
    if not keep.any():
        return -1
    entries = entries[keep]
    last = coverage.last_planned[coverage.segment_of[entries]]
    oldest = entries[last == last.min()]
    return int(oldest[rng.integers(len(oldest))]) if len(oldest) > 1 else int(oldest[0])


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
    return Leg(route, coverage.entries_of(route.nodes), dwell_min, target)

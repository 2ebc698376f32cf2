"""Where each unit went along the streets during the last advance, for the browser to replay.

``MotionRecorder.sample()`` is called after every simulated minute of an advance; it adds to
each unit's path the street nodes it passed since the previous minute (with the times the
route says it passed them) and its position now. ``frame()`` gives the last advance's paths:
the browser moves each marker along its path at the screen's refresh rate, so a marker
always lies on a street (nodes and points along edges, joined by the edges themselves).
"""

from __future__ import annotations

import itertools

from sim.model import PatrolModel
from sim.network.routing import Route
from sim.viz.style import is_moving, state_color

_frames = itertools.count(1)


class MotionRecorder:
    """The street paths of one model's units over its last advance."""

    def __init__(self, sim: PatrolModel):
        self.sim = sim
        self.t_start = sim.time
        self.seq = next(_frames)
        self._routes: list[Route | None] = [self._route(u) for u in sim.units]
        self.paths: list[list[tuple[float, float, float]]] = [
            [(*u.xy(sim.time), sim.time)] for u in sim.units
        ]

    def start(self) -> None:
        """A new advance begins: each path starts where its unit is now."""
        now = self.sim.time
        self.t_start, self.seq = now, next(_frames)
        self.paths = [[(*u.xy(now), now)] for u in self.sim.units]

    def sample(self) -> None:
        """Add what each unit passed since the last sample (call after each simulated minute)."""
        now, router = self.sim.time, self.sim.router
        for i, unit in enumerate(self.sim.units):
            path = self.paths[i]
            t_last = path[-1][2]
            before, after = self._routes[i], self._route(unit)
            nodes: list[tuple[int, float]] = []
            if before is not None and before is not after:  # the rest it drove of the old one
                until = after.t_depart_min if after is not None else now
                nodes += _passed(before, t_last, min(until, now))
            if after is not None:
                nodes += _passed(after, max(t_last, after.t_depart_min - 1e-9), now)
            path.extend((float(router.x[n]), float(router.y[n]), t) for n, t in nodes)
            path.append((*unit.xy(now), now))
            self._routes[i] = after

    def frame(self) -> dict:
        """The last advance as plain data: its times, and per unit its colour and path."""
        return {
            "seq": self.seq,
            "t0": self.t_start,
            "t1": self.sim.time,
            "units": [
                {"c": state_color(u.state), "p": [[round(x, 1), round(y, 1), t] for x, y, t in p]}
                for u, p in zip(self.sim.units, self.paths, strict=True)
            ],
        }

    def _route(self, unit) -> Route | None:
        """The route the unit is on now (the old one while it finishes its edge), if moving."""
        trip = unit.trip
        if not is_moving(unit.state) or trip is None:
            return None
        if trip.lead is not None and self.sim.time < trip.t_start_min:
            return trip.lead
        return unit.route()


def _passed(route: Route, t_from: float, t_to: float) -> list[tuple[int, float]]:
    """(node, time) of the route's nodes passed after ``t_from`` up to ``t_to``."""
    times = route.t_depart_min + route.cum_min
    return [
        (int(n), float(t)) for n, t in zip(route.nodes, times, strict=True) if t_from < t <= t_to
    ]

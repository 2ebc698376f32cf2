"""The map as data for the browser: the streets once, then per frame what changes.

``street_map`` is sent once per scenario panel (street segments in metres with their
community tint, posts, community names, the coverage segments, the OSM credit): the page
draws it as vectors, crisp at any size and device pixel ratio. ``frame_overlay`` is sent each
frame (the clock, calls waiting, the followed unit and its route); the units' street paths
come from ``MotionRecorder.frame``. Coverage colours change slowly: ``CoverageColours`` looks
at most once every ``CHECK_EVERY_FRAMES`` frames and gives the same list until they change,
so the page is sent them only then.
"""

from __future__ import annotations

import numpy as np

from sim.model import PatrolModel
from sim.viz.clock import clock_text
from sim.viz.coverage_layer import (
    CHECK_EVERY_FRAMES,
    bin_colors,
    coverage_bins,
    passes_per_day,
    patrols,
)
from sim.viz.mapview import (
    COMMUNITY_TINTS,
    OSM_ATTRIBUTION,
    WAIT_ALERT_MIN,
    map_limits,
    route_xy,
    street_segments,
)
from sim.viz.style import type_color

ROUND_M = 1  # decimals of a metre sent (0.1 m: far below a pixel)
MIN_ASPECT, MAX_ASPECT = 0.55, 1.5  # height / width of the map box, at least and at most


def street_map(sim: PatrolModel) -> dict:
    """What the page draws once: limits, streets, posts, names, coverage segments, credit."""
    router, world = sim.router, sim.world
    x, y = np.asarray(router.x, dtype=float), np.asarray(router.y, dtype=float)
    segments, tails = street_segments(sim)
    posts = [
        [round(float(x[p.node]), ROUND_M), round(float(y[p.node]), ROUND_M), p.kind]
        for p in sim.posts.values()
        if p.kind in ("station", "office")
    ]
    names = [
        [c.name, round(float(x[n]), ROUND_M), round(float(y[n]), ROUND_M)]
        for c, n in zip(sim.scenario.communities, world.anchor_nodes, strict=True)
    ]
    return {
        "limits": [round(float(v), ROUND_M) for v in map_limits(x, y)],
        "streets": _flat(segments),
        "tint": (np.asarray(world.community_of_node)[tails] % len(COMMUNITY_TINTS)).tolist(),
        "palette": list(COMMUNITY_TINTS),
        "posts": posts,
        "names": names,
        "cover": _flat(_coverage_segments(sim)) if patrols(sim) else [],
        "credit": OSM_ATTRIBUTION if world.network.is_osm_data else "",
        "alert_min": WAIT_ALERT_MIN,
    }


def frame_overlay(sim: PatrolModel, followed: str | None) -> dict:
    """What changes each frame besides the units: clock, calls, the followed unit's route."""
    router, now = sim.router, sim.time
    calls = [
        [round(float(router.x[c.node]), ROUND_M), round(float(router.y[c.node]), ROUND_M),
         type_color(c.type_index), round(now - c.t_call, 1)]
        for c in sim.open_calls.values()
    ]  # fmt: skip
    index = next((i for i, u in enumerate(sim.units) if u.label == followed), -1)
    route: list[float] = []
    if index >= 0:
        xs, ys = route_xy(sim.units[index], sim)
        route = [round(float(v), ROUND_M) for xy in zip(xs, ys, strict=True) for v in xy]
    return {"clock": clock_text(now), "calls": calls, "followed": index, "route": route}


def map_ratio(limits: list[float]) -> float:
    """The map's width / height: the district's, kept between 1/1.5 and 1/0.55."""
    x0, x1, y0, y1 = limits
    return 1.0 / min(max((y1 - y0) / (x1 - x0), MIN_ASPECT), MAX_ASPECT)


def picked_unit(data: object, n_units: int) -> int | None:
    """The index of the unit the page says was clicked; None when it is not a valid one."""
    if not isinstance(data, dict):
        return None
    unit = data.get("unit")
    if isinstance(unit, bool) or not isinstance(unit, int) or not 0 <= unit < n_units:
        return None
    return unit


class CoverageColours:
    """The coverage segments' colours, looked at once every ``CHECK_EVERY_FRAMES`` frames."""

    def __init__(self, sim: PatrolModel):
        self.sim = sim
        self.colours: list[str] = []
        self.frames_to_check = 0
        self.looks = 0  # times the model's coverage was read

    def now(self) -> list[str]:
        """The colours (an equal list until they change: the page is not sent them again)."""
        if not patrols(self.sim):
            return []
        self.frames_to_check -= 1
        if self.frames_to_check > 0 and self.colours:
            return self.colours
        self.frames_to_check = CHECK_EVERY_FRAMES
        self.looks += 1
        colours = bin_colors(coverage_bins(passes_per_day(self.sim)))
        if colours != self.colours:
            self.colours = [str(c) for c in colours]
        return self.colours


def _coverage_segments(sim: PatrolModel) -> np.ndarray:
    cover = sim.patroller.coverage
    x, y = np.asarray(sim.router.x, dtype=float), np.asarray(sim.router.y, dtype=float)
    tails, heads = cover.segment_tail, cover.segment_head
    return np.stack([np.c_[x[tails], y[tails]], np.c_[x[heads], y[heads]]], axis=1)


def _flat(segments: np.ndarray) -> list[float]:
    """(n, 2, 2) segments as one list x0, y0, x1, y1, ... (metres, rounded)."""
    return np.round(np.asarray(segments, dtype=float).reshape(-1), ROUND_M).tolist()

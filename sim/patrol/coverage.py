"""Which streets patrols pass, how often, and how long units stay at hot spots.

A segment is a street between two nodes, both directions together. Passes count after the
warm-up. Larson's patrol frequency, the mean time between passes of a segment, is reported
as observed minutes x segments / passes (for K units on m segments of traversal time tau,
patrolling all the time, it is m tau / K whatever the walk, if every segment is covered
alike in the long run). Tour legs are counted as stretches of their tour, cut where 8-hour
shifts begin, and turned into passes per segment in bulk when figures are asked for; an edge
counts when it is finished (after the warm-up, in the shift it is finished in).
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

if TYPE_CHECKING:
    from sim.network.routing import Route, Router

SHIFT_MIN = 480.0  # "passed at least once per shift": 8-hour windows


@dataclass(frozen=True)
class Tour:
    """A closed walk, stored twice over so any stretch of up to one lap is a slice."""

    nodes: np.ndarray  # node of each position (2 L + 1 positions)
    entries: np.ndarray  # CSR entry of the edge leaving each position (2 L)
    cum_min: np.ndarray  # car free-flow minutes from position 0 (2 L + 1)
    cum_km: np.ndarray  # street km from position 0 (2 L + 1)
    length: int  # L: edges in one lap
    position_of: dict[int, int]  # node -> its first position

    @property
    def lap_min(self) -> float:
        """Car free-flow minutes of one lap."""
        return float(self.cum_min[self.length])


@dataclass(slots=True)
class Leg:
    """A planned patrol leg: its timed route, the CSR entry of each edge, then a dwell.

    A leg along a tour names the tour, where on it the leg joins it (``tour_from``: its
    edges before are a path to the tour) and the tour position there.
    """

    route: Route
    entries: np.ndarray  # index into the router's CSR arrays of each edge, in order
    dwell_min: float = 0.0  # stay at the last node afterwards (hot spots)
    tour: Tour | None = None
    start: int = 0  # the tour position of its node ``tour_from``
    joins: int = -1  # a path to a tour: the tour position it leads to (-1: none)
    overwritten: np.ndarray | None = None  # a tour leg: its positions' last passes before it
    tour_from: int = 0  # a tour leg: its first edge along the tour

    @property
    def tour_edges(self) -> int:
        """How many of its edges follow the tour."""
        return len(self.entries) - self.tour_from if self.tour is not None else 0


class Coverage:
    """Passes per street segment and presence at places, counted after the warm-up."""

    def __init__(
        self, router: Router, graph: nx.MultiDiGraph, community_of_node: np.ndarray,
        warmup_min: float,
    ):  # fmt: skip
        self.router = router
        forward = router.forward
        self.indptr, self.heads, self.edge_min = forward.indptr, forward.indices, forward.data
        tails = np.repeat(np.arange(router.n_nodes), np.diff(self.indptr))
        low, high = np.minimum(tails, self.heads), np.maximum(tails, self.heads)
        keys, self.segment_of = np.unique(low * router.n_nodes + high, return_inverse=True)
        self.n_segments = len(keys)
        self.segment_tail = (keys // max(router.n_nodes, 1)).astype(np.int64)
        self.segment_head = (keys % max(router.n_nodes, 1)).astype(np.int64)
        self.segment_community = community_of_node[self.segment_tail]
        self.n_communities = int(community_of_node.max(initial=0)) + 1
        self.segment_m = _segment_lengths(router, graph, self.segment_tail, self.segment_head)
        self.warmup_min = warmup_min
        self.presence_min: dict[int, float] = {}  # place node -> minutes present
        self.last_visit: dict[int, float] = {}  # place node -> when a unit last got there
        self._adjacency: list[list[tuple[int, int, float, int]]] | None = None
        self._path_passes: list[tuple[np.ndarray, np.ndarray]] = []  # (segments, times) per leg
        self._ranges: list[tuple[Tour, int, int, float]] = []  # tour stretches driven
        self._figures: tuple[int, int, tuple] | None = None

    # -- the street graph as plain Python (for walks) ----------------------------------
    def adjacency(self) -> list[list[tuple[int, int, float, int]]]:
        """For every node: its out-edges as (CSR entry, head, minutes, segment)."""
        if self._adjacency is None:
            heads, minutes = self.heads.tolist(), self.edge_min.tolist()
            segments, bounds = self.segment_of.tolist(), self.indptr.tolist()
            self._adjacency = [
                [(k, heads[k], minutes[k], segments[k]) for k in range(bounds[u], bounds[u + 1])]
                for u in range(len(bounds) - 1)
            ]
        return self._adjacency

    def entry(self, tail: int, head: int) -> int:
        """The CSR entry of the edge ``tail -> head``."""
        start, end = self.indptr[tail], self.indptr[tail + 1]
        hits = np.flatnonzero(self.heads[start:end] == head)
        return int(start + hits[0])

    def entries_of(self, nodes: np.ndarray) -> np.ndarray:
        """The CSR entries of the edges along a path of nodes."""
        return self.router.edge_entries(nodes)

    # -- recording ---------------------------------------------------------------------
    def record(self, leg: Leg, until_min: float) -> None:
        """Count the passes of the part of ``leg`` driven by ``until_min``."""
        route = leg.route
        done = max(0, bisect.bisect_right(route.cum_min, until_min - route.t_depart_min) - 1)
        if done == 0:
            return
        on_path = done if leg.tour is None else min(done, leg.tour_from)
        if on_path:
            times = route.t_depart_min + route.cum_min[1 : on_path + 1]
            self._path_passes.append((self.segment_of[leg.entries[:on_path]], times))
        if done > on_path:
            self._record_stretch(leg, done)

    def _record_stretch(self, leg: Leg, done: int) -> None:
        """Edges ``tour_from`` to ``done`` of a tour leg, as one stretch per shift.

        An edge counts when it is finished; a stretch is timed by its first edge's end.
        """
        route, offset = leg.route, leg.tour_from
        t0, cum = route.t_depart_min, route.cum_min

        def shift_of(edge: int) -> int:
            return self._shift(t0 + cum[edge + 1])

        def add(first: int, end: int) -> None:
            a, b = leg.start + first - offset, leg.start + end - offset
            self._ranges.append((leg.tour, a, b, t0 + cum[first + 1]))

        if shift_of(offset) == shift_of(done - 1):  # one shift (most legs)
            add(offset, done)
            return
        first = offset
        while first < done:  # edges [first, cut) end in the shift the first ends in
            cut = bisect.bisect_right(range(done), shift_of(first), first + 1, done, key=shift_of)
            add(first, cut)
            first = cut

    def stayed(self, node: int, start_min: float, end_min: float) -> None:
        """A unit stayed at a place from ``start_min`` to ``end_min`` (counted after warm-up)."""
        minutes = max(0.0, end_min - max(start_min, self.warmup_min))
        self.presence_min[node] = self.presence_min.get(node, 0.0) + minutes

    # -- figures -----------------------------------------------------------------------
    def passes_and_shifts(self) -> tuple[np.ndarray, np.ndarray]:
        """(passes, shifts with at least one pass) per segment, after warm-up."""
        key = (len(self._ranges), len(self._path_passes))
        if self._figures is None or self._figures[:2] != key:
            self._figures = (*key, self._count())
        return self._figures[2]

    def _count(self) -> tuple[np.ndarray, np.ndarray]:
        passes = np.zeros(self.n_segments, dtype=np.int64)
        paths = self._path_passes_by_shift()  # shift -> segments passed on path legs
        stretches: dict[int, dict[int, list]] = {}  # shift -> tour -> stretches
        tours: dict[int, Tour] = {}
        for segments in paths.values():
            np.add.at(passes, segments, 1)
        for stretch in self._ranges:
            tour, t = stretch[0], stretch[3]
            if t >= self.warmup_min:
                tours[id(tour)] = tour
                by_tour = stretches.setdefault(self._shift(t), {})
                by_tour.setdefault(id(tour), []).append(stretch)
        for key, tour in tours.items():
            mine = [s for by_tour in stretches.values() for s in by_tour.get(key, [])]
            np.add.at(passes, self._lap_segments(tour), _position_counts(tour, mine))
        shifts = np.zeros(self.n_segments, dtype=np.int64)
        for shift in set(paths) | set(stretches):
            covered = np.zeros(self.n_segments, dtype=bool)
            covered[paths.get(shift, [])] = True
            for key, mine in stretches.get(shift, {}).items():
                tour = tours[key]
                covered[self._lap_segments(tour)[_position_counts(tour, mine) > 0]] = True
            shifts += covered
        return passes, shifts

    def _path_passes_by_shift(self) -> dict[int, np.ndarray]:
        """The segments passed on path legs after the warm-up, by shift."""
        if not self._path_passes:
            return {}
        segments = np.concatenate([s for s, _ in self._path_passes])
        times = np.concatenate([t for _, t in self._path_passes])
        after = times >= self.warmup_min
        shift = ((times[after] - self.warmup_min) // SHIFT_MIN).astype(np.int64)
        segments = segments[after]
        order = np.argsort(shift, kind="stable")
        shift, segments = shift[order], segments[order]
        firsts = np.flatnonzero(np.r_[True, shift[1:] != shift[:-1]]) if len(shift) else []
        bounds = [*firsts, len(shift)]
        return {int(shift[a]): segments[a:b] for a, b in itertools.pairwise(bounds)}

    def _lap_segments(self, tour: Tour) -> np.ndarray:
        return self.segment_of[tour.entries[: tour.length]]

    def _shift(self, t_min: float) -> int:
        return int((t_min - self.warmup_min) // SHIFT_MIN)


def _position_counts(tour: Tour, ranges: list) -> np.ndarray:
    """How often each position of one lap was driven, over stretches [a, b) of the tour.

    A stretch may start at any position and run for any number of laps.
    """
    lap = tour.length
    diff = np.zeros(2 * lap + 1, dtype=np.int64)
    laps = 0
    for _, a, b, _ in ranges:
        full, rest = divmod(b - a, lap)
        laps += full
        diff[a % lap] += 1
        diff[a % lap + rest] -= 1
    counts = np.cumsum(diff)[: 2 * lap]
    return counts[:lap] + counts[lap:] + laps


def _segment_lengths(router: Router, graph: nx.MultiDiGraph, tails, heads) -> np.ndarray:
    """Length (m) of each segment: the shortest edge joining its two nodes."""
    shortest: dict[tuple[int, int], float] = {}
    index = router.index
    for u, v, length in graph.edges(data="length", default=0.0):
        a, b = index[u], index[v]
        key = (min(a, b), max(a, b))
        shortest[key] = min(shortest.get(key, np.inf), float(length))
    pairs = zip(tails.tolist(), heads.tolist(), strict=True)
    return np.array([shortest.get(pair, 0.0) for pair in pairs])

"""Which streets patrols pass, how often, and how long units stay at hot spots.

A segment is a street between two nodes, both directions together. Passes count after the
warm-up. Larson's patrol frequency, the mean time between passes of a segment, is reported
as observed minutes x segments / passes (for K units on m segments of traversal time tau,
patrolling all the time, it is m tau / K whatever the walk, if every segment is covered
alike in the long run).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

if TYPE_CHECKING:
    from sim.network.routing import Route, Router

SHIFT_MIN = 480.0  # "passed at least once per shift": 8-hour windows


@dataclass(frozen=True)
class Leg:
    """A planned patrol leg: its timed route, the CSR entry of each edge, then a dwell."""

    route: Route
    entries: np.ndarray  # index into the router's CSR arrays of each edge, in order
    dwell_min: float = 0.0  # stay at the last node afterwards (hot spots)
    place: int = -1  # the hot spot or route stop it heads for (-1: none)


class Coverage:
    """Passes per street segment and presence at places, counted after the warm-up."""

    def __init__(
        self,
        router: Router,
        graph: nx.MultiDiGraph,
        community_of_node: np.ndarray,
        warmup_min: float,
    ):
        forward = router.forward
        self.indptr, self.heads, self.edge_min = forward.indptr, forward.indices, forward.data
        tails = np.repeat(np.arange(router.n_nodes), np.diff(self.indptr))
        low, high = np.minimum(tails, self.heads), np.maximum(tails, self.heads)
        keys, self.segment_of = np.unique(low * router.n_nodes + high, return_inverse=True)
        self.n_segments = len(keys)
        self.segment_tail = (keys // max(router.n_nodes, 1)).astype(np.int64)
        self.segment_head = (keys % max(router.n_nodes, 1)).astype(np.int64)
        self.segment_community = community_of_node[self.segment_tail]
        self.segment_m = _segment_lengths(router, graph, self.segment_tail, self.segment_head)
        self.warmup_min = warmup_min
        self.passes = np.zeros(self.n_segments, dtype=np.int64)
        self.last_planned = np.full(self.n_segments, -np.inf)  # for "least recently covered"
        self.shifts_passed = np.zeros(self.n_segments, dtype=np.int64)
        self._last_shift = np.full(self.n_segments, -1, dtype=np.int64)
        self.km_by_community = np.zeros(int(community_of_node.max(initial=0)) + 1)
        self.presence_min: dict[int, float] = {}  # place node -> minutes present
        self.last_visit: dict[int, float] = {}  # place node -> when a unit last got there

    def entry(self, tail: int, head: int) -> int:
        """The CSR entry of the edge ``tail -> head``."""
        start, end = self.indptr[tail], self.indptr[tail + 1]
        hits = np.flatnonzero(self.heads[start:end] == head)
        return int(start + hits[0])

    def entries_of(self, nodes: np.ndarray) -> np.ndarray:
        """The CSR entries of the edges along a path of nodes."""
        return np.array([self.entry(a, b) for a, b in itertools.pairwise(nodes)], dtype=np.int64)

    def plan(self, leg: Leg) -> None:
        """Mark a leg's segments as covered when it will pass them (for route choice)."""
        if len(leg.entries):
            times = leg.route.t_depart_min + leg.route.cum_min[1:]
            segments = self.segment_of[leg.entries]
            np.maximum.at(self.last_planned, segments, times)

    def record(self, leg: Leg, until_min: float) -> None:
        """Count the passes of the part of ``leg`` driven by ``until_min`` (after warm-up)."""
        if not len(leg.entries):
            return
        times = leg.route.t_depart_min + leg.route.cum_min[1:]
        done = (times <= until_min) & (times >= self.warmup_min)
        segments = self.segment_of[leg.entries[done]]
        np.add.at(self.passes, segments, 1)
        np.add.at(self.km_by_community, self.segment_community[segments],
                  self.segment_m[segments] / 1000.0)  # fmt: skip
        shift = ((times[done] - self.warmup_min) // SHIFT_MIN).astype(np.int64)
        new = shift > self._last_shift[segments]  # never counts one shift twice
        np.add.at(self.shifts_passed, segments[new], 1)
        self._last_shift[segments[new]] = shift[new]

    def stayed(self, node: int, start_min: float, end_min: float) -> None:
        """A unit stayed at a place from ``start_min`` to ``end_min`` (counted after warm-up)."""
        minutes = max(0.0, end_min - max(start_min, self.warmup_min))
        self.presence_min[node] = self.presence_min.get(node, 0.0) + minutes


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

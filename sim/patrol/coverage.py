"""Which streets patrols pass, how often, and how long units stay at hot spots.

A segment is a street between two nodes, both directions together. Passes count after the
warm-up. Larson's patrol frequency, the mean time between passes of a segment, is reported
as observed minutes x segments / passes (for K units on m segments of traversal time tau,
patrolling all the time, it is m tau / K whatever the walk, if every segment is covered
alike in the long run). Every edge of a leg counts, by its index along the leg, when it is
finished (``sim.patrol.legs.Leg.count``): a leg is counted when it ends, when it is cut
short, and up to the time reached when figures are asked for (the leg in progress at the
horizon); an edge finished during the warm-up does not count, one finished after it does.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from sim.clock import MIN_PER_HOUR
from sim.patrol.pass_sums import SHIFT_MIN, PassSums

if TYPE_CHECKING:
    from sim.network.routing import Router


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
        self._fastest: dict[tuple[int, int], int] | None = None
        self._passes: list[tuple[np.ndarray, np.ndarray]] = []  # (segments, times) logged
        self._recorded = 0  # passes recorded so far (the key of the figures below)
        self._logged = 0  # passes in the log (the others are folded into the sums below)
        self._folded = PassSums(self.n_segments)
        self._any_folded = False
        self._figures: tuple[int, tuple[np.ndarray, np.ndarray]] | None = None

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

    def fastest_entries(self) -> dict[tuple[int, int], int]:
        """(tail, head) -> the CSR entry of the fastest edge between them."""
        if self._fastest is None:
            fastest: dict[tuple[int, int], int] = {}
            minutes = self.edge_min.tolist()
            for tail, out in enumerate(self.adjacency()):
                for entry, head, _, _ in out:
                    key = (tail, head)
                    if key not in fastest or minutes[entry] < minutes[fastest[key]]:
                        fastest[key] = entry
            self._fastest = fastest
        return self._fastest

    def entry(self, tail: int, head: int) -> int:
        """The CSR entry of the edge ``tail -> head``."""
        start, end = self.indptr[tail], self.indptr[tail + 1]
        hits = np.flatnonzero(self.heads[start:end] == head)
        return int(start + hits[0])

    def entries_of(self, nodes: np.ndarray) -> np.ndarray:
        """The CSR entries of the edges along a path of nodes."""
        return self.router.edge_entries(nodes)

    # -- recording ---------------------------------------------------------------------
    def record(self, entries: np.ndarray, times_min: np.ndarray) -> None:
        """Count a pass of each edge (CSR entries), finished at ``times_min``."""
        self._recorded += len(entries)
        self._logged += len(entries)
        self._passes.append((self.segment_of[entries], times_min))
        if self._logged > FOLD_PASSES:
            self._fold()

    def stayed(self, node: int, start_min: float, end_min: float) -> None:
        """A unit stayed at a place from ``start_min`` to ``end_min`` (counted after warm-up)."""
        minutes = max(0.0, end_min - max(start_min, self.warmup_min))
        self.presence_min[node] = self.presence_min.get(node, 0.0) + minutes

    # -- figures -----------------------------------------------------------------------
    def pass_times(self) -> tuple[np.ndarray, np.ndarray]:
        """(segment, time) of every pass after the warm-up, in the order recorded.

        Kept for runs of up to ``FOLD_PASSES`` passes; a longer run keeps only the figures
        (``passes_and_shifts``, ``last_pass_min``), and this raises.
        """
        if self._any_folded:
            raise RuntimeError(
                f"pass times are kept for runs of up to {FOLD_PASSES:,} passes; this run has "
                f"{self._recorded:,}: use passes_and_shifts() and last_pass_min()"
            )
        return self._log()

    def _log(self) -> tuple[np.ndarray, np.ndarray]:
        """The logged passes after the warm-up (joined into one pair of arrays)."""
        if len(self._passes) != 1:
            segments = np.concatenate([s for s, _ in self._passes] or [np.zeros(0, np.int64)])
            times = np.concatenate([t for _, t in self._passes] or [np.zeros(0)])
            self._passes = [(segments, times)]
        segments, times = self._passes[0]
        after = times >= self.warmup_min
        return segments[after], times[after]

    def _fold(self) -> None:
        """Add the log to the folded figures and empty it (a long run's memory stays flat)."""
        self._folded.add(*self._log(), self.warmup_min)
        self._passes, self._logged, self._any_folded = [], 0, True

    def _sums(self) -> PassSums:
        """The figures of every pass so far: the folded ones plus the log's."""
        sums = self._folded.copy()
        sums.add(*self._log(), self.warmup_min)
        return sums

    def passes_and_shifts(self) -> tuple[np.ndarray, np.ndarray]:
        """(passes, shifts with at least one pass) per segment, after warm-up."""
        if self._figures is None or self._figures[0] != self._recorded:
            sums = self._sums()
            shifts = sum(sums.shifts.values(), np.zeros(self.n_segments, dtype=np.int64))
            self._figures = (self._recorded, (sums.passes, shifts.astype(np.int64)))
        return self._figures[1]

    def last_pass_min(self) -> np.ndarray:
        """When each segment was last passed after the warm-up (nan: never)."""
        last = self._sums().last_min
        return np.where(np.isfinite(last), last, np.nan)


FOLD_PASSES = 2_000_000  # passes logged before they are folded into per-segment figures


def coverage_figures(
    cover: Coverage | None, observed_min: float, patrol_min: float, community: int = -1
) -> dict[str, float | None]:
    """Street-km per patrol unit-hour, share of segments passed per shift, time between passes."""
    if cover is None or observed_min <= 0:
        return {"street_km": 0.0, "street_km_per_unit_hour": None,
                "segments_passed_per_shift": 0.0, "min_between_passes": None}  # fmt: skip
    passes, shifts_passed = cover.passes_and_shifts()
    mask = slice(None) if community < 0 else cover.segment_community == community
    km = float(np.sum(passes[mask] * cover.segment_m[mask]) / 1000.0)
    segments = len(passes[mask])
    shifts = max(1, math.ceil(observed_min / SHIFT_MIN))
    total = int(passes[mask].sum())
    return {
        "street_km": km,
        "street_km_per_unit_hour": km / (patrol_min / MIN_PER_HOUR) if patrol_min > 0 else None,
        "segments_passed_per_shift": (
            float(shifts_passed[mask].sum()) / (segments * shifts) if segments else None
        ),
        "min_between_passes": observed_min * segments / total if total else None,
    }


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

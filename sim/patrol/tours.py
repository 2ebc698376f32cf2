"""Tours: the walk a beat's preventive patrol follows, lap after lap, built once per beat.

A beat's tour covers every street of the beat with as little repetition as its one-way
streets allow: its laps all drive the same multiset of edges, the shortest closed covering
walk (``sim.patrol.covering``), each lap in the order of an Euler circuit of it without
U-turns (``sim.patrol.circuits``). To stay unpredictable, as random preventive patrol is
meant to be, a fresh circuit is drawn for every lap from the patrol's random stream
(``redraw_each_lap``; otherwise the first lap's circuit is kept). Every lap starts and ends
at the same node (the post, if it is on the beat).

Every unit on a beat drives the same endless walk, lap 0, lap 1, ...: a position on the
tour is a plain count of edges from its beginning, so units spread along it stay spread
(``Patroller.join_position``). A patrol leg is a stretch of it of at most one lap, so
planning one costs the same whatever its length. Laps behind every position still in use
(``live_from``, given by the patroller) are forgotten, so a year of laps is not kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sim.patrol.circuit_kernel import across_laps, lap_arrays
from sim.patrol.circuits import Circuits
from sim.patrol.covering import covering_multiset

if TYPE_CHECKING:
    from sim.network.routing import Router
    from sim.patrol.coverage import Coverage


KEPT_LAPS = 12  # laps kept before those no position uses are looked for


class Tour:
    """A beat's endless patrol walk: laps of one covering multiset of edges."""

    def __init__(
        self, coverage: Coverage, entries: np.ndarray, start: int, rng: np.random.Generator,
        redraw_each_lap: bool = True,
    ):  # fmt: skip
        """Laps over the CSR ``entries`` (a balanced, connected multiset), from ``start``."""
        tails = np.searchsorted(coverage.indptr, entries, side="right") - 1
        heads = coverage.heads[entries]
        self._multiset = entries
        self._circuits = Circuits(tails, heads, coverage.segment_of[entries], start)
        self._heads, self._edge_min = coverage.heads, coverage.edge_min
        self._rng, self.redraw_each_lap = rng, redraw_each_lap
        self.start = start
        self.length = len(entries)  # L: edges in one lap
        self.lap_min = float(np.sum(coverage.edge_min[entries]))  # car free-flow minutes
        self._laps: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # k: see lap
        self._drawn = 0  # laps drawn so far
        self._last = -1  # the multiset index of the last lap's last edge
        self.frontier = 0  # where the last unit to leave the tour left it
        self.live_from: Callable[[], int] | None = None  # the first position still in use

    def lap(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lap ``k``: its CSR entries in order, their cumulative minutes from 0, its nodes.

        Read-only arrays (legs hold slices of them): ``L`` entries, ``L + 1`` minutes and
        nodes, the first node the lap's start.
        """
        lap = self._laps.get(k)
        if lap is not None:
            return lap
        if k < self._drawn:
            raise RuntimeError(f"tour lap {k} was forgotten: a position behind live_from")
        while self._drawn <= k:
            if self._drawn and not self.redraw_each_lap:
                self._laps[self._drawn] = self._laps[self._drawn - 1]  # (never forgotten)
            else:
                order = self._circuits.draw(self._rng, self._last)
                self._last = int(order[-1])
                self._laps[self._drawn] = self.arrays_of(order)
            self._drawn += 1
            self._forget()
        return self._laps[k]

    def arrays_of(self, order: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The lap of the multiset's edges in ``order``, as ``lap`` gives it (read-only)."""
        arrays = lap_arrays(order, self._multiset, self._edge_min, self._heads, self.start)
        for array in arrays:
            array.setflags(write=False)
        return arrays

    def arrays_of_plain(self, order: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``arrays_of`` in plain numpy (the reference of the compiled ``lap_arrays``)."""
        entries = self._multiset[order]
        cum = np.concatenate([[0.0], np.cumsum(self._edge_min[entries])])
        return entries, cum, np.concatenate([[self.start], self._heads[entries]])

    @property
    def laps_kept(self) -> int:
        """How many laps are held (the others are forgotten or not drawn yet)."""
        return len(self._laps)

    def _forget(self) -> None:
        """Drop the laps behind every position still in use (checked every few laps)."""
        if self.live_from is None or len(self._laps) <= KEPT_LAPS:
            return
        first = min(self.live_from() // self.length, self._drawn - 1)
        for k in [k for k in self._laps if k < first]:
            del self._laps[k]

    def stretch(
        self, position: int, count: int, plain: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Edges ``position`` to ``position + count`` (at most one lap further).

        As (nodes: count + 1, CSR entries: count, free-flow minutes from the first node);
        within one lap, read-only views of it; across two, joined by a compiled loop
        (``plain``: by its numpy reference, ``across_laps_plain``).
        """
        k, i = divmod(position, self.length)
        entries, cum, nodes = self.lap(k)
        end = i + count
        if end <= self.length:
            return nodes[i : end + 1], entries[i:end], cum[i : end + 1] - cum[i]
        following, cum_next, nodes_next = self.lap(k + 1)
        join = across_laps_plain if plain else across_laps
        return join(nodes, entries, cum, nodes_next, following, cum_next, i, end - self.length)

    def node_at(self, position: int) -> int:
        """The node at a position."""
        k, i = divmod(position, self.length)
        if i == 0:  # (a lap's start: known without drawing the lap)
            return self.start
        return int(self.lap(k)[2][i])

    def minutes_at(self, position: int) -> float:
        """Free-flow minutes along the walk from its beginning to a position."""
        k, i = divmod(position, self.length)
        return k * self.lap_min + float(self.lap(k)[1][i])

    def position_after(self, position: int, minutes: float) -> int:
        """The first position at least ``minutes`` of driving after ``position``."""
        k, i = divmod(position, self.length)
        wanted = (float(self.lap(k)[1][i]) if i else 0.0) + minutes
        laps, rest = divmod(wanted, self.lap_min)
        k += int(laps)
        return k * self.length + int(self.lap(k)[1].searchsorted(rest, side="left"))

    def join_position(self, others_min: list[float], approach_min: np.ndarray | None) -> int:
        """Where a unit joins: the middle of the largest gap between the units on the tour.

        ``others_min``: where they are (free-flow minutes along the walk); the gap is
        measured round one lap. The unit enters where the gap's middle will be when it gets
        there (``approach_min``: its free-flow minutes to every node; the others move on
        as many tour minutes meanwhile). Alone, it goes on where the last unit left.
        """
        if not others_min:
            return self.frontier
        phases = sorted(x % self.lap_min for x in others_min)
        gaps = np.diff([*phases, phases[0] + self.lap_min])
        widest = int(np.argmax(gaps))
        behind = next(x for x in sorted(others_min) if x % self.lap_min == phases[widest])
        middle = behind + gaps[widest] / 2.0
        first = self.position_after(0, middle)
        count = max(1, self.position_after(0, behind + gaps[widest]) - first)
        nodes, _, cum = self.stretch(first, min(count, self.length))
        late = np.abs(self.minutes_at(first) + cum - approach_min[nodes] - middle)
        return first + int(np.argmin(late))


def across_laps_plain(
    nodes: np.ndarray, entries: np.ndarray, cum: np.ndarray, nodes_next: np.ndarray,
    entries_next: np.ndarray, cum_next: np.ndarray, i: int, rest: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """``circuit_kernel.across_laps`` in plain numpy (its reference)."""
    return (
        np.concatenate((nodes[i:], nodes_next[1 : rest + 1])),
        np.concatenate((entries[i:], entries_next[:rest])),
        np.concatenate((cum[i:] - cum[i], cum_next[1 : rest + 1] + (cum[-1] - cum[i]))),
    )


def build_tour(
    coverage: Coverage,
    router: Router,
    in_beat: list[bool],
    rng: np.random.Generator,
    start_at: int = -1,
    redraw_each_lap: bool = True,
) -> Tour | None:
    """The tour of the beat (None when the beat holds no street).

    It starts from ``start_at`` if the walk passes that node (the post: units join and
    leave the tour there, on the post's precomputed routes), else at its first edge's tail.
    """
    entries = covering_multiset(coverage, router, in_beat)
    if entries is None:
        return None
    tails = np.searchsorted(coverage.indptr, entries, side="right") - 1
    start = start_at if start_at in set(tails.tolist()) else int(tails[0])
    return Tour(coverage, entries, start, rng, redraw_each_lap)

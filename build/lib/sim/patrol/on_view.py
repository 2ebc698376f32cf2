"""On-view incidents: what a passing patrol sees before anyone calls (DESIGN 3.9).

Calls of a type with ``on_view`` are incidents: each starts at its call's time, at its
node, and lasts a drawn time. Everything about an incident that does not depend on the
police (duration, whether and when someone would report it) is drawn when the model starts,
from a stream of its own, so scenarios face the same incidents. When a patrol leg is
planned, the passes of its nodes are checked against the incidents there (they are known
ahead, being drawn ahead): the first one noticed (probability ``p_notice`` per pass) cuts
the leg at that node and moment, and the unit takes the incident itself (no call, no
dispatch delay). Unnoticed, an incident is reported as a call after its delay, if at all.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.scenarios.schema import CallType

PENDING, ACTIVE, NOTICED, REPORTED = 0, 1, 2, 3


@dataclass
class _AtNode:
    """The incidents at one node, in time order."""

    starts: list[float]
    ends: list[float]
    ids: list[int]


class OnViewIncidents:
    """The on-view incidents of one run, indexed by node, and their fate."""

    def __init__(
        self,
        call_types: Sequence[CallType],
        times_min: Sequence[float],
        type_index: Sequence[int],
        nodes: Sequence[int],
        rng: np.random.Generator,
        warmup_min: float,
    ):
        n = len(times_min)
        draws = rng.random((n, 3))  # duration, report or not, report delay
        self.status = np.full(n, PENDING, dtype=np.int8)
        self.end_min = np.full(n, -np.inf)
        self.report_min = np.full(n, np.inf)
        self.counted = np.zeros(n, dtype=bool)  # after warm-up
        self.by_node: dict[int, _AtNode] = {}
        for k in range(n):
            on_view = call_types[type_index[k]].on_view
            if on_view is None:
                continue
            start = times_min[k]
            self.end_min[k] = start + on_view.duration_min.quantile(draws[k, 0])
            if draws[k, 1] < on_view.report_share:
                self.report_min[k] = start + on_view.report_delay_min.quantile(draws[k, 2])
            self.counted[k] = start >= warmup_min
            at = self.by_node.setdefault(int(nodes[k]), _AtNode([], [], []))
            at.starts.append(start)
            at.ends.append(float(self.end_min[k]))
            at.ids.append(k)
        self.p_notice = [t.on_view.p_notice if t.on_view else 0.0 for t in call_types]
        self._nodes: np.ndarray | None = None  # nodes with incidents, sorted
        self.type_index = type_index

    @property
    def any(self) -> bool:
        """Whether there are on-view incidents at all."""
        return bool(self.by_node)

    def is_incident(self, k: int) -> bool:
        """Whether base call ``k`` is an on-view incident."""
        return bool(np.isfinite(self.end_min[k]))

    def begin(self, k: int) -> float:
        """Incident ``k`` happens now (it was not prevented); return when it is reported."""
        self.status[k] = ACTIVE
        return float(self.report_min[k])

    def visible(self, k: int, t_min: float) -> bool:
        """Whether a unit passing at ``t_min`` could notice incident ``k``."""
        return self.status[k] == ACTIVE and t_min < self.end_min[k] and t_min < self.report_min[k]

    def noticed(self, k: int) -> None:
        """A patrol took incident ``k``."""
        self.status[k] = NOTICED

    def report(self, k: int) -> bool:
        """Its report is due: True if it is still unknown (it becomes a call)."""
        if self.status[k] != ACTIVE:
            return False
        self.status[k] = REPORTED
        return True

    def first_noticed(
        self, nodes: np.ndarray, times: np.ndarray, draw: Callable[[], float]
    ) -> tuple[int, int]:
        """(position along the leg, incident) of the first incident a pass notices, or (-1, -1).

        Each node is a pass at its time. Incidents that have not begun yet are candidates
        too (they were drawn ahead); whether they did begin is checked when the unit gets
        there.
        """
        if self._nodes is None:
            self._nodes = np.array(sorted(self.by_node), dtype=np.int64)
        for i in np.flatnonzero(np.isin(nodes, self._nodes)).tolist():
            at, t = self.by_node[int(nodes[i])], float(times[i])
            stop = bisect.bisect_right(at.starts, t)
            for j in range(stop):
                k = at.ids[j]
                if at.ends[j] > t and self.status[k] <= ACTIVE and t < self.report_min[k]:
                    if draw() < self.p_notice[self.type_index[k]]:
                        return i, k
        return -1, -1

    def first_during(
        self, node: int, start_min: float, end_min: float, draw: Callable[[], float]
    ) -> tuple[float, int]:
        """(when, incident) of the first incident a unit staying at ``node`` notices.

        Each incident that starts there during the stay gets one look when it starts (those
        under way when the unit arrived had theirs on arrival); (inf, -1) when none is seen.
        """
        at = self.by_node.get(node)
        if at is None:
            return np.inf, -1
        first = bisect.bisect_right(at.starts, start_min)  # those before: seen on arrival
        for j in range(first, bisect.bisect_left(at.starts, end_min)):
            k = at.ids[j]
            t = at.starts[j]
            if at.ends[j] > t and self.status[k] <= ACTIVE and t < self.report_min[k]:
                if draw() < self.p_notice[self.type_index[k]]:
                    return t, k
        return np.inf, -1

    def summary(self) -> dict[str, float | int | None]:
        """Incidents after warm-up that happened: found on view, reported, never known."""
        happened = self.counted & (self.status != PENDING)
        found = int(np.sum(happened & (self.status == NOTICED)))
        reported = int(np.sum(happened & (self.status == REPORTED)))
        total = int(np.sum(happened))
        return {
            "incidents": total,
            "found_on_view": found,
            "reported": reported,
            "never_known": total - found - reported,
            "share_on_view": found / total if total else 0.0,
        }

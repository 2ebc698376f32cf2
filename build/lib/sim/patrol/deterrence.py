"""Deterrence (an ASSUMPTION, off by default): a unit staying at a place lowers calls there.

Implemented by thinning the calls drawn before the run: each base call has its own
uniform (a stream of its own), and a call at a protected node is prevented when that
uniform is below ``effect``. So calls keep their draws, scenarios stay paired, and with
deterrence off the calls residents make cannot depend on patrol (the Kansas City result).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

if TYPE_CHECKING:
    from sim.network.routing import Router
    from sim.scenarios.patrol import Deterrence as DeterrenceSpec


class Deterrence:
    """Which nodes a staying unit protects, and when; prevents calls there."""

    def __init__(self, spec: DeterrenceSpec, router: Router, n_calls: int, rng):
        self.spec = spec
        self.uniform = rng.random(n_calls)
        self._tree = cKDTree(np.c_[router.x, router.y])
        self._near: dict[int, list[int]] = {}
        self._protected: dict[int, dict[tuple[int, float], tuple[float, float]]] = {}

    def near(self, place: int) -> list[int]:
        """Nodes within the radius of a place (the place included)."""
        if place not in self._near:
            point = self._tree.data[place]
            self._near[place] = sorted(self._tree.query_ball_point(point, self.spec.radius_m))
        return self._near[place]

    def stay(self, place: int, start_min: float, end_min: float) -> None:
        """A unit stays at ``place`` from ``start_min`` to ``end_min``.

        A later call with the same start replaces the earlier one (a stay cut short).
        """
        key = (place, start_min)
        long_enough = end_min - start_min >= self.spec.min_stay_min
        window = (start_min + self.spec.min_stay_min, end_min + self.spec.residual_min)
        for node in self.near(place):
            intervals = self._protected.setdefault(node, {})
            if long_enough:
                intervals[key] = window
            else:
                intervals.pop(key, None)

    def prevents(self, k: int, node: int, t_min: float) -> bool:
        """Whether base call ``k`` at ``node`` and ``t_min`` is deterred (and so never made)."""
        intervals = self._protected.get(node)
        if not intervals:
            return False
        for key, (start, end) in list(intervals.items()):
            if end < t_min:
                del intervals[key]  # over for good
            elif start <= t_min and self.uniform[k] < self.spec.effect:
                return True
        return False

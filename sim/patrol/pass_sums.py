"""Per-segment figures of a set of patrol passes: how many, the last, the shifts with one.

``PassSums.add`` folds passes in with a compiled loop (``sim.patrol.pass_kernel.fold``);
``add_plain`` is its plain numpy reference, kept and compared in
``tests/test_patrol_speed.py``. A pass at time ``t`` falls in shift
``(t - warmup) // SHIFT_MIN`` (numpy's floor division); the loop finds it by comparing ``t``
with the first time of each shift (``shift_starts``), which gives the very same shift for
every time, at a fraction of the cost of dividing.
"""

from __future__ import annotations

import numpy as np

SHIFT_MIN = 480.0  # "passed at least once per shift": 8-hour windows


class PassSums:
    """Per segment: passes, the last pass's time, and which shifts had a pass."""

    def __init__(self, n_segments: int):
        self.passes = np.zeros(n_segments, dtype=np.int64)
        self.last_min = np.full(n_segments, -np.inf)
        self.shifts: dict[int, np.ndarray] = {}  # shift -> which segments were passed in it

    def copy(self) -> PassSums:
        """An independent copy."""
        other = PassSums(len(self.passes))
        other.passes, other.last_min = self.passes.copy(), self.last_min.copy()
        other.shifts = {k: row.copy() for k, row in self.shifts.items()}
        return other

    def add(self, segments: np.ndarray, times_min: np.ndarray, warmup_min: float) -> None:
        """Count passes (all after the warm-up)."""
        if not len(segments):
            return
        first, last = (int(s) for s in shift_of(np.array([times_min.min(), times_min.max()]),
                                                warmup_min))  # fmt: skip
        block = np.zeros((last - first + 1, len(self.passes)), dtype=bool)
        starts = shift_starts(first, last + 1, warmup_min)
        from sim.patrol.pass_kernel import fold  # (numba loads only when a patrol is counted)

        fold(segments, times_min, starts, self.passes, self.last_min, block)
        self._merge(first, block)

    def add_plain(self, segments: np.ndarray, times_min: np.ndarray, warmup_min: float) -> None:
        """``add`` in plain numpy (the reference)."""
        if not len(segments):
            return
        self.passes += np.bincount(segments, minlength=len(self.passes))
        np.maximum.at(self.last_min, segments, times_min)
        shift = shift_of(times_min, warmup_min)
        first = int(shift.min())
        block = np.zeros((int(shift.max()) - first + 1, len(self.passes)), dtype=bool)
        block[shift - first, segments] = True
        self._merge(first, block)

    def _merge(self, first: int, block: np.ndarray) -> None:
        for k, row in enumerate(block):
            if row.any():
                known = self.shifts.get(first + k)
                self.shifts[first + k] = row if known is None else known | row


def shift_of(times_min: np.ndarray, warmup_min: float) -> np.ndarray:
    """The shift of each time (0: the first 8 hours after the warm-up)."""
    return ((times_min - warmup_min) // SHIFT_MIN).astype(np.int64)


def shift_starts(first: int, stop: int, warmup_min: float) -> np.ndarray:
    """The earliest time of shifts ``first`` to ``stop`` (inclusive) by ``shift_of``."""
    starts = np.empty(stop - first + 1)
    for i, k in enumerate(range(first, stop + 1)):
        t = warmup_min + k * SHIFT_MIN
        while shift_of(np.array([t]), warmup_min)[0] >= k:  # step down while still in it
            t = np.nextafter(t, -np.inf)
        while shift_of(np.array([t]), warmup_min)[0] < k:  # then up to its first time
            t = np.nextafter(t, np.inf)
        starts[i] = t
    return starts

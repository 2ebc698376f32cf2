"""Live figures of one running model, sampled as it steps, for the charts.

Reads the model only: calls as they are answered and cleared, the queue, unit states.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from sim.agents.unit import UnitState
from sim.clock import MIN_PER_DAY
from sim.model import PatrolModel

ROLLING_MIN = MIN_PER_DAY  # window of the rolling mean response time
TARGET_MIN = 10.0  # response target for "share within target"
SAMPLE_MIN = 5.0  # minutes between samples


class Tracker:
    """Time series of one model: response, share within target, resolution, queue, states."""

    def __init__(self, model: PatrolModel, target_min: float = TARGET_MIN):
        self.model = model
        self.target_min = target_min
        self._next_call = 0  # calls before this index have been seen
        self._open: list = []  # seen calls not yet cleared
        self._arrived: set[int] = set()  # ids of open calls already counted as answered
        self._recent: deque[tuple[float, float]] = deque()  # (t_arrive, response) in window
        self._recent_sum = 0.0
        self.answered = self.within = self.attended = self.resolved = 0
        self.t_min: list[float] = []
        self.response_min: list[float] = []
        self.within_share: list[float] = []
        self.resolution_rate: list[float] = []
        self.queue_len: list[int] = []
        self.state_min = np.zeros(len(UnitState))  # unit-minutes per state, sampled
        self._last_sample = -math.inf
        self.sample()

    def sample(self) -> None:
        """Take in what happened since the last call; record a sample when one is due."""
        self._scan_calls()
        now = self.model.time
        if now - self._last_sample < SAMPLE_MIN:
            return
        span = 0.0 if math.isinf(self._last_sample) else now - self._last_sample
        self._last_sample = now
        for unit in self.model.units:
            self.state_min[unit.state] += span
        self._drop_old(now)
        self.t_min.append(now)
        self.response_min.append(self._recent_sum / len(self._recent) if self._recent else math.nan)
        self.within_share.append(self.within / self.answered if self.answered else math.nan)
        self.resolution_rate.append(self.resolved / self.attended if self.attended else math.nan)
        self.queue_len.append(len(self.model.queue))

    def state_shares(self) -> np.ndarray:
        """Share of unit time per state so far (zeros before any time has passed)."""
        total = self.state_min.sum()
        return self.state_min / total if total > 0 else self.state_min.copy()

    def _scan_calls(self) -> None:
        calls = self.model.calls
        self._open.extend(calls[self._next_call :])
        self._next_call = len(calls)
        still_open = []
        for call in self._open:
            if call.id not in self._arrived and not math.isnan(call.t_arrive):
                self._count_arrival(call)
            if math.isnan(call.t_clear):
                still_open.append(call)
            else:
                self._arrived.discard(call.id)
                self.attended += 1
                self.resolved += bool(call.resolved)
        self._open = still_open

    def _count_arrival(self, call) -> None:
        self._arrived.add(call.id)
        response = call.t_arrive - call.t_call
        self.answered += 1
        self.within += response <= self.target_min
        self._recent.append((call.t_arrive, response))
        self._recent_sum += response

    def _drop_old(self, now: float) -> None:
        while self._recent and self._recent[0][0] < now - ROLLING_MIN:
            self._recent_sum -= self._recent.popleft()[1]

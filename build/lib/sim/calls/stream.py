"""The call stream: when, where and what, drawn before the police respond.

Calls come from a non-homogeneous Poisson process whose rate is constant within each hour
(base rate x hour-of-day factor x day-of-week factor), so it is drawn exactly: a Poisson count
per hour, uniform times within it. Each call carries its own uniforms for everything drawn
later (service time, dispatch delay, mobilisation, resolution), all from streams that nothing
else touches, so two scenarios with the same seed and the same call settings face exactly the
same calls (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.clock import MIN_PER_HOUR, MIN_PER_WEEK
from sim.scenarios.schema import Calls

#: Per-call uniforms drawn with the call, by column.
DRAWS = (
    "service",
    "dispatch_delay",
    "mobilisation",
    "resolution",
    "case_work",
    "follow_through",
    "escalation",
    "escalation_time",
    "prevention",
)


@dataclass(frozen=True)
class CallStream:
    """Columnar base calls in time order."""

    t_call_min: np.ndarray  # float
    type_index: np.ndarray  # int, into Calls.types
    resident_index: np.ndarray  # int, into the model's residents
    draws: np.ndarray  # (n, len(DRAWS)) uniforms in [0, 1)
    # a replay's calls as recorded (None, or NaN for a call: the scenario's type and draw)
    priority: np.ndarray | None = None  # float, 1 = most urgent
    service_min: np.ndarray | None = None  # float, minutes on scene

    def __len__(self) -> int:
        return len(self.t_call_min)


def call_rate(calls: Calls, population: int, per_min: float = 1.0) -> float:
    """Average calls per ``per_min`` minutes from ``population`` residents (the one conversion).

    ``rate_per_hour`` is everyone's rate (``population`` does not count);
    ``rate_per_1000_residents_per_week`` scales with ``population``.
    """
    if calls.rate_per_hour is not None:
        return calls.rate_per_hour / (MIN_PER_HOUR / per_min)
    per_week = calls.rate_per_1000_residents_per_week * population / 1000.0
    return per_week / (MIN_PER_WEEK / per_min)


def rate_per_min(calls: Calls, population: int) -> float:
    """The average call rate per minute."""
    return call_rate(calls, population)


def hourly_rates_per_min(calls: Calls, population: int, horizon_min: float) -> np.ndarray:
    """The rate per minute in each hour of the horizon (day 0 is a Monday, starting 00:00)."""
    hours = int(np.ceil(horizon_min / MIN_PER_HOUR))
    hour_of_day = np.arange(hours) % 24
    day_of_week = (np.arange(hours) // 24) % 7
    factors = np.asarray(calls.hourly_factors())[hour_of_day]
    factors = factors * np.asarray(calls.daily_factors())[day_of_week]
    return rate_per_min(calls, population) * factors


def generate_calls(
    calls: Calls,
    resident_weights: np.ndarray,
    horizon_min: float,
    rng_times: np.random.Generator,
    rng_what: np.random.Generator,
) -> CallStream:
    """Draw every base call in [0, horizon_min).

    ``resident_weights`` (people per resident agent) decide who calls; ``rng_times`` draws
    arrival times only, ``rng_what`` the type, the caller and the per-call uniforms.
    """
    population = int(resident_weights.sum())
    rates = hourly_rates_per_min(calls, population, horizon_min)
    counts = rng_times.poisson(rates * MIN_PER_HOUR)
    starts = np.repeat(np.arange(len(rates)) * MIN_PER_HOUR, counts)
    times = np.sort(starts + MIN_PER_HOUR * rng_times.random(len(starts)))
    times = times[times < horizon_min]
    n = len(times)
    shares = np.array([t.share for t in calls.types])
    type_index = _choose(rng_what.random(n), shares)
    resident_index = _choose(rng_what.random(n), resident_weights)
    draws = rng_what.random((n, len(DRAWS)))
    return CallStream(times, type_index, resident_index, draws)


def _choose(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Indices drawn with probability proportional to ``weights`` from uniforms ``u``."""
    if len(weights) == 0:
        return np.zeros(len(u), dtype=np.int64)
    cum = np.cumsum(weights, dtype=float)
    picks = np.searchsorted(cum, u * cum[-1], side="right")
    return np.minimum(picks, len(weights) - 1)

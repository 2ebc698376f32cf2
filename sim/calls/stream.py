"""The call stream: when, where and what, drawn before the police respond.

Calls come from a non-homogeneous Poisson process whose rate is constant within each hour
(base rate x hour-of-day factor x day-of-week factor), so it is drawn exactly: a Poisson count
per hour, uniform times within it. Each call carries its own uniforms for everything drawn
later (service time, dispatch delay, mobilisation, resolution), all from streams that nothing
else touches, so two scenarios with the same seed and the same call settings face exactly the
same calls (common random numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.scenarios.load import Calls

if TYPE_CHECKING:
    from sim.agents.post import Resident
    from sim.agents.unit import Unit

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

    def __len__(self) -> int:
        return len(self.t_call_min)


def rate_per_min(calls: Calls, population: int) -> float:
    """The average call rate per minute."""
    if calls.rate_per_hour is not None:
        return calls.rate_per_hour / 60.0
    return calls.rate_per_1000_residents_per_week * population / 1000.0 / (7 * 1440.0)


def hourly_rates_per_min(calls: Calls, population: int, horizon_min: float) -> np.ndarray:
    """The rate per minute in each hour of the horizon (day 0 is a Monday, starting 00:00)."""
    hours = int(np.ceil(horizon_min / 60.0))
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
    counts = rng_times.poisson(rates * 60.0)
    starts = np.repeat(np.arange(len(rates)) * 60.0, counts)
    times = np.sort(starts + 60.0 * rng_times.random(len(starts)))
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


@dataclass(slots=True, eq=False)
class Call:
    """One call, from the moment it is made until the scene is cleared (compared by identity).

    A call may need several units (``units_needed``; all in ``units``, in order of
    assignment). ``unit`` is the lead unit: the first assigned, then the first on scene. The
    scene lasts the call's service time from the first arrival; the lead unit decides the
    outcome, backups leave when the scene is cleared (at once if they arrive later).
    """

    id: int
    type_index: int
    priority: int
    community: int
    node: int
    resident: Resident  # who called (repeats come from the same household)
    t_call: float
    draws: list[float]  # its own uniforms, by DRAWS column
    first_type: int = -1  # the type when made (escalation may change type_index)
    repeat_of: int = -1  # the first call of this problem, for repeats
    chain: int = 0  # 0 for a first call, k for the k-th repeat
    problem: int = -1  # the latent problem that caused it, if any
    t_ready: float = math.nan
    t_assigned: float = math.nan
    t_arrive: float = math.nan
    t_clear: float = math.nan
    unit: Unit | None = None
    queued: bool = False
    resolved: bool = False
    escalated: bool = False
    familiarity: float = math.nan  # of the attending unit with the call's community
    units_needed: int = 1
    may_borrow: bool = False  # community_first: its borrowing threshold has passed
    clear_due: float = math.nan  # when the scene will be cleared (first arrival + service)
    mobilise_min: float = 0.0  # what a unit at its post needs before it leaves for it
    units: list[Unit] = field(default_factory=list)  # every unit assigned, primary first

    @property
    def missing_units(self) -> int:
        """Units still to assign."""
        return self.units_needed - len(self.units)

    @property
    def queue_key(self) -> tuple[int, float, int]:
        """Priority first (1 most urgent), then first come first served."""
        return (self.priority, self.t_ready, self.id)

"""Scenario keys for patrol: what free units do between calls, what they see, what it changes.

Every default that is an assumption says so, with its source and a plausible range.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from sim.registry import PATROL_POLICIES
from sim.scenarios.distributions import Dist
from sim.scenarios.frozen import Frozen
from sim.scenarios.location import Location

#: Travel speed of a mode over the car's speed on the same street (the drivable graph is
#: used for every mode: a stated simplification; footpaths and bike lanes are not modelled).
#: ASSUMPTION: cars average about 30 km/h on urban streets, e-bikes 15-20 km/h (range
#: 0.5-0.7), walking 5 km/h (range 0.13-0.2).
MODE_SPEED_FACTOR = {"car": 1.0, "ebike": 0.6, "foot": 0.17}

Mode = Literal["car", "ebike", "foot"]


class Place(Location):
    """A named point for patrol (a hot spot, a stop on a route)."""

    name: str = ""

    def location(self) -> dict:
        """The point without its name (as the snapping functions take it)."""
        return self.model_dump(exclude={"name"}, exclude_none=True)


class Patrol(Frozen):
    """What a unit group does when free (DESIGN 3.9). ``policy: stay`` is today's behaviour."""

    policy: str = "stay"  # stay | random | hot_spots | route (or a registered one)
    # Share of free time spent on patrol, the rest at the post between stints. ASSUMPTION:
    # no source fixes it; 0.5 for offices whose officers walk the community, range 0-1.
    share: float = Field(default=0.5, ge=0, le=1)
    stint_min: Dist = Field(default_factory=lambda: {"dist": "exponential", "mean": 60})
    mode: Mode = "car"  # how it patrols (speed factor: MODE_SPEED_FACTOR)
    # The streets it patrols: its own community (offices) or the whole district (stations).
    beat: Literal["auto", "community", "district"] = "auto"
    # A tour leg (one event) lasts to the end of the stint or the hour the traffic changes;
    # nothing is decided along it. A cap here only adds events (null: none).
    leg_min: float | None = Field(default=None, gt=0)
    # 'random' patrols: a fresh Euler circuit of the beat's covering walk every lap (same
    # streets, same counts, new order: unpredictable), or the first lap's kept (false).
    redraw_each_lap: bool = True
    # Hot spots: dwell this long at each. ASSUMPTION: 10-15 minutes (Koper 1995: stops of
    # 10-15 min maximise residual deterrence), range 5-20.
    dwell_min: Dist = Field(default_factory=lambda: {"dist": "uniform", "low": 10, "high": 15})
    route: tuple[Place, ...] = ()  # the stops of a 'route' patrol, visited in a loop

    @field_validator("policy")
    @classmethod
    def _known_policy(cls, value):
        return PATROL_POLICIES.check(value)  # read when the check runs: any registered name

    @property
    def patrols(self) -> bool:
        """Whether units of this group ever leave their post when free."""
        return self.policy != "stay" and self.share > 0

    @model_validator(mode="after")
    def _route_needs_stops(self) -> Patrol:
        if self.policy == "route" and len(self.route) < 2:
            raise ValueError("a 'route' patrol needs at least two places in 'route'")
        return self


class OnView(Frozen):
    """An incident a passing patrol can see (DESIGN 3.9), instead of waiting for a call.

    The incident starts at the call's time and lasts ``duration_min``; a patrolling unit
    passing its node meanwhile notices it with ``p_notice`` and takes it at once (no call, no
    dispatch delay). Unnoticed, it is reported as a call after ``report_delay_min`` with
    probability ``report_share`` (if not noticed before), else never known.
    ASSUMPTIONS (no source for this district): duration 20 min, p_notice 0.5,
    report_share 0.6, report delay 10 min; ranges 5-60 min, 0.2-0.9, 0.3-1, 0-30 min.
    """

    duration_min: Dist = 20.0
    p_notice: float = Field(default=0.5, ge=0, le=1)
    report_share: float = Field(default=0.6, ge=0, le=1)
    report_delay_min: Dist = 10.0


class HotSpots(Frozen):
    """The places ``hot_spots`` patrols visit: listed, or the top nodes by expected calls."""

    places: tuple[Place, ...] = ()
    top_k: int = Field(default=5, ge=1)  # used when no places are listed


class Deterrence(Frozen):
    """ASSUMPTION, off by default: time a unit spends at a place lowers calls there.

    After a unit has stayed at a place at least ``min_stay_min``, calls at nodes within
    ``radius_m`` are prevented with probability ``effect`` while it is there and for
    ``residual_min`` after it leaves (the Koper curve). Source: Braga, Turchan,
    Papachristos & Hureau (2019), hot-spot policing meta-analysis: a small but significant
    crime reduction (pooled effect size d = 0.13); ``effect`` 0.1, range 0-0.25. Residual
    deterrence: Koper (1995), range 0-120 min.
    """

    enabled: bool = False
    effect: float = Field(default=0.1, ge=0, le=1)
    residual_min: float = Field(default=60.0, ge=0)
    min_stay_min: float = Field(default=10.0, ge=0)
    radius_m: float = Field(default=100.0, ge=0)

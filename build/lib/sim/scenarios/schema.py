"""The scenario schema: frozen, validated objects (DESIGN 4.1).

Unknown keys are errors (``extra="forbid"``); every default that is an assumption says so.
Loading files, ``extends`` and ``--set`` overrides live in ``sim.scenarios.load``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from sim.clock import MIN_PER_DAY
from sim.registry import DISPATCH_POLICIES
from sim.scenarios.assumptions import Assumption, unwrap
from sim.scenarios.distributions import Dist
from sim.scenarios.frozen import FromFile, Frozen
from sim.scenarios.location import Location
from sim.scenarios.network_spec import NetworkSpec
from sim.scenarios.outcomes import Bulletins, CommunityWork, Escalation, Outcomes, Repeat
from sim.scenarios.patrol import Deterrence, HotSpots, Mode, OnView, Patrol

#: Assumption: calls lowest around 04:00-05:00 at about a quarter of the evening peak, high
#: from late morning to evening (US CAD data: 2.4 calls/h at 04:00 vs 8-10/h in daytime).
DEFAULT_HOURLY_PROFILE = (
    0.62, 0.50, 0.42, 0.36, 0.32, 0.33, 0.45, 0.70, 0.95, 1.10, 1.20, 1.25,
    1.25, 1.25, 1.25, 1.30, 1.35, 1.40, 1.45, 1.45, 1.40, 1.25, 1.00, 0.80,
)  # fmt: skip


class Area(Frozen):
    """A polygon as WKT, in ``crs`` (None: the network's own CRS); see ``place_files``."""

    wkt: str
    crs: str | None = None


class Community(Frozen):
    """A named area (社区 / grid cell) with a population; its anchor decides its nodes."""

    name: str
    population: int = Field(gt=0)
    at: Location | None = None  # None: a well-spread anchor is generated
    area: Area | None = None  # a GIS polygon: its nodes belong to it (by containment)


class Post(Frozen):
    """The station or a community office (警务室)."""

    name: str
    kind: Literal["station", "office"]
    community: str | None = None  # for offices: the community they serve
    at: Location | None = None  # None: offices sit at their community's anchor


class Crew(Frozen):
    """Who rides in one unit. Default: one officer and two auxiliaries (一警两辅, the source)."""

    officers: int = Field(default=1, ge=1)
    auxiliaries: int = Field(default=2, ge=0)


class Shift(Frozen):
    """A daily shift. Units off shift take no calls; a busy unit finishes its call first."""

    start_hour: float = Field(ge=0, lt=24)
    hours: float = Field(gt=0, le=24)


class OtherDuty(Frozen):
    """Blocks of other duties that take a unit away (unavailable), as a share of its time.

    Blocks start at random (Poisson) so that, with no calls, the unit spends ``share`` of
    its time on them; a block due while the unit is busy starts when it is next free.
    """

    share: float = Field(default=0.0, ge=0, lt=1)
    block_min: Dist = Field(default_factory=lambda: {"dist": "exponential", "mean": 120})


class UnitGroup(Frozen):
    """``count`` identical units based at one post."""

    post: str
    count: int = Field(default=1, ge=1)
    crew: Crew = Crew()
    tenure_years: float = Field(default=1.0, ge=0)
    shift: Shift | None = None  # None: staffed 24 h (by rotating crews)
    other_duty: OtherDuty = OtherDuty()
    vehicle: Mode = "car"  # how it answers calls (speed factor: MODE_SPEED_FACTOR)
    patrol: Patrol = Patrol()  # what it does when free (default: stays at its post)


class CallType(Frozen):
    """A kind of call with its own share, priority, on-scene time and outcome parameters."""

    name: str
    share: float = Field(gt=0)
    priority: int = Field(default=3, ge=1)
    service_min: Dist
    criminal: bool = False
    units_needed: int = Field(default=1, ge=1)  # crews sent (response: the first on scene)
    # officers the call needs on scene: units are sent until their crews' officers reach it
    # (so crew size matters: one 2-officer crew, or two 1-officer crews). 0: not used.
    officers_needed: int = Field(default=0, ge=0)
    label_zh: str | None = None  # for the weekly bulletin
    # Resolution at first attendance: p_unfamiliar + (p_familiar - p_unfamiliar) x familiarity
    p_familiar: float = Field(default=1.0, ge=0, le=1)
    p_unfamiliar: float = Field(default=1.0, ge=0, le=1)
    lateness: bool | None = None  # does lateness lower resolution? None: if criminal
    # share of these calls the command room resolves by phone, sending no unit (0: none)
    p_command_room: float = Field(default=0.0, ge=0, le=1)
    repeat: Repeat | None = None  # None: unresolved calls do not call again
    escalation: Escalation | None = None
    on_view: OnView | None = None  # None: only ever known from a call

    @model_validator(mode="before")
    @classmethod
    def _p_resolve_shorthand(cls, data):
        """``p_resolve: p`` sets both p_familiar and p_unfamiliar."""
        if isinstance(data, dict) and "p_resolve" in data:
            data = dict(data)
            p = data.pop("p_resolve")
            data.setdefault("p_familiar", p)
            data.setdefault("p_unfamiliar", p)
        return data

    @property
    def lateness_applies(self) -> bool:
        """Whether arriving late lowers this type's resolution."""
        return self.criminal if self.lateness is None else self.lateness


class Calls(Frozen):
    """The call stream: a non-homogeneous Poisson process and a mix of call types."""

    rate_per_hour: float | None = Field(default=None, ge=0)
    rate_per_1000_residents_per_week: float | None = Field(default=None, ge=0)
    hourly_profile: Literal["default", "flat"] | tuple[float, ...] = "default"
    day_of_week: tuple[float, ...] | None = None  # Monday first; None: every day alike
    types: tuple[CallType, ...] = Field(min_length=1)
    # Replay a calls table instead of generating calls (sim.calls.replay; relative paths
    # resolve against the scenario's folder). Its options: the time zone the simulation
    # clock runs in, the table's column names (ours -> theirs) and the moment of t = 0.
    trace: Path | None = None
    trace_timezone: str | None = None  # None: the table's own zone, else wall-clock as written
    trace_columns: dict[str, str] = Field(default_factory=dict)
    trace_start: str | None = None  # None: midnight before the first usable call
    # the export's layout (a shipped name or a file; None: detected from its header), its
    # call types mapped onto ours (theirs -> ours), its points' system and its date order
    trace_layout: str | None = None
    trace_types: dict[str, str] = Field(default_factory=dict)
    trace_crs: str | None = None
    trace_date_order: Literal["mdy", "dmy"] | None = None
    # callers hang up if no unit is sent within a drawn patience (None: nobody hangs up)
    patience_min: Dist | None = None

    @model_validator(mode="after")
    def _one_rate(self) -> Calls:
        both_none = self.rate_per_hour is None and self.rate_per_1000_residents_per_week is None
        if both_none and self.trace is not None:
            return self  # a replay needs no rate
        if (self.rate_per_hour is None) == (self.rate_per_1000_residents_per_week is None):
            raise ValueError("give exactly one of rate_per_hour, rate_per_1000_residents_per_week")
        return self

    @field_validator("hourly_profile")
    @classmethod
    def _profile_24(cls, value):
        if isinstance(value, tuple) and (len(value) != 24 or min(value) < 0 or sum(value) <= 0):
            raise ValueError("a list of 24 non-negative numbers, not all zero, was expected")
        return value

    @field_validator("day_of_week")
    @classmethod
    def _week_7(cls, value):
        if value is not None and (len(value) != 7 or min(value) < 0 or sum(value) <= 0):
            raise ValueError("a list of 7 non-negative numbers (Monday first) was expected")
        return value

    @field_validator("types")
    @classmethod
    def _unique_types(cls, value):
        names = [t.name for t in value]
        _require_unique(names, "call type")
        for i, t in enumerate(value):
            if t.escalation is not None and t.escalation.to not in names:
                raise ValueError(
                    f"{i}.escalation.to: unknown call type {t.escalation.to!r}; "
                    f"known: {', '.join(names)}"
                )
        return value

    def type_index(self, name: str) -> int:
        """Position of the call type called ``name``."""
        return [t.name for t in self.types].index(name)

    def hourly_factors(self) -> tuple[float, ...]:
        """The 24 hour-of-day multipliers, scaled to average 1."""
        raw = {"default": DEFAULT_HOURLY_PROFILE, "flat": (1.0,) * 24}.get(
            self.hourly_profile, self.hourly_profile
        )
        mean = sum(raw) / 24
        return tuple(v / mean for v in raw)

    def daily_factors(self) -> tuple[float, ...]:
        """The 7 day-of-week multipliers (Monday first), scaled to average 1."""
        raw = self.day_of_week or (1.0,) * 7
        mean = sum(raw) / 7
        return tuple(v / mean for v in raw)


class Dispatch(Frozen):
    """The command room (综合指挥室): dispatch delay, policy and its options."""

    policy: str = "nearest"
    # Where the command room thinks free units are when ranking them: 'avl' (live positions,
    # e.g. GPS) or 'post' (at their posts). The trip is always driven from the true position.
    locate: Literal["avl", "post"] = "avl"
    delay_min: Dist = 0.0
    mobilisation_min: Dist = 0.0  # from a post only; units already on the road are mobile
    borrow_after_min: float | None = Field(default=0.0, ge=0)  # community_first; None: never
    # calls of this priority or more urgent (lower number) may divert a unit from a less
    # urgent single-unit job, which waits again and resumes its scene (None: no pre-emption)
    preempt_priority: int | None = Field(default=None, ge=1)

    @field_validator("policy")
    @classmethod
    def _known_policy(cls, value):
        return DISPATCH_POLICIES.check(value)  # read when the check runs: any registered name


class TravelModel(Frozen):
    """Travel realism beyond free-flow speeds (``sim.travel.realistic_min``); off by default.

    ``accel_m_s2``: Kolesar et al. (1975) acceleration to ``cruise_kph`` (None: off);
    ``intersection_delay_s``: added for every intersection a trip passes. ASSUMPTIONS.
    """

    accel_m_s2: float | None = Field(default=None, gt=0)
    cruise_kph: float = Field(default=40.0, gt=0)
    intersection_delay_s: float = Field(default=0.0, ge=0)

    @property
    def enabled(self) -> bool:
        """Whether any of it is on."""
        return self.accel_m_s2 is not None or self.intersection_delay_s > 0


class Residents(Frozen):
    """Resident agents: each stands for a block of ``people_per_agent`` residents at a node."""

    people_per_agent: int = Field(default=100, ge=1)


class Scenario(FromFile):
    """A complete, validated scenario."""

    name: str
    description: str = ""
    days: float = Field(default=28, gt=0)
    warmup_days: float = Field(default=2, ge=0)
    seed: int = Field(default=1, ge=0)
    replications: int = Field(default=1, ge=1)
    network: NetworkSpec = Field(default_factory=lambda: {"kind": "synthetic"})
    snap_tolerance_m: float = Field(default=500.0, gt=0)  # posts/anchors farther: an error
    # 24 travel-time multipliers by hour of day (congestion; 1 = free flow). None: none.
    congestion_by_hour: tuple[float, ...] | None = None
    travel: TravelModel = TravelModel()
    communities: tuple[Community, ...] = Field(min_length=1)
    posts: tuple[Post, ...] = Field(min_length=1)
    units: tuple[UnitGroup, ...] = Field(min_length=1)
    residents: Residents = Residents()
    calls: Calls
    dispatch: Dispatch = Dispatch()
    outcomes: Outcomes = Outcomes()
    community_work: CommunityWork = CommunityWork()
    bulletins: Bulletins = Bulletins()
    hot_spots: HotSpots = HotSpots()
    deterrence: Deterrence = Deterrence()
    # numbers given as {value, range, source}, by dotted path (filled in by validation)
    assumptions: dict[str, Assumption] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _unwrap_assumptions(cls, data):
        """Numbers written ``{value, range, source}``: the value in place, the rest kept."""
        if not isinstance(data, dict):
            return data
        known = data.get("assumptions") or {}
        data, found = unwrap({k: v for k, v in data.items() if k != "assumptions"})
        return {**data, "assumptions": {**known, **found}} if (known or found) else data

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        communities = [c.name for c in self.communities]
        posts = [p.name for p in self.posts]
        _require_unique(communities, "community")
        _require_unique(posts, "post")
        for i, post in enumerate(self.posts):
            if post.community is not None and post.community not in communities:
                raise ValueError(
                    f"posts.{i}.community: unknown community {post.community!r}; "
                    f"known: {', '.join(communities)}"
                )
            if post.kind == "office" and post.community is None:
                raise ValueError(f"posts.{i}: an office needs its community")
        types = [t.name for t in self.calls.types]
        if self.community_work.enabled and self.community_work.call_type not in types:
            raise ValueError(
                f"community_work.call_type: unknown call type "
                f"{self.community_work.call_type!r}; known: {', '.join(types)}"
            )
        for name in self.bulletins.prevention:
            if name not in types:
                raise ValueError(f"bulletins.prevention: unknown call type {name!r}")
        total_units = sum(group.count for group in self.units)
        total_officers = sum(group.count * group.crew.officers for group in self.units)
        for i, call_type in enumerate(self.calls.types):
            if call_type.officers_needed > total_officers:
                raise ValueError(
                    f"calls.types.{i}.officers_needed: {call_type.officers_needed} officers "
                    f"needed but the scenario's units have {total_officers}"
                )
            if call_type.units_needed > total_units:
                raise ValueError(
                    f"calls.types.{i}.units_needed: {call_type.units_needed} units needed but "
                    f"the scenario has {total_units}"
                )
        for i, group in enumerate(self.units):
            if group.post not in posts:
                raise ValueError(
                    f"units.{i}.post: unknown post {group.post!r}; known: {', '.join(posts)}"
                )
        return self

    @field_validator("congestion_by_hour")
    @classmethod
    def _congestion_24(cls, value):
        if value is not None and (len(value) != 24 or min(value) <= 0):
            raise ValueError("a list of 24 positive travel-time multipliers was expected")
        return value

    @property
    def horizon_min(self) -> float:
        """Simulated minutes, warm-up included."""
        return (self.warmup_days + self.days) * MIN_PER_DAY

    @property
    def warmup_min(self) -> float:
        """Minutes of warm-up."""
        return self.warmup_days * MIN_PER_DAY

    def digest(self) -> str:
        """A stable hash of the resolved scenario.

        Keys left at their defaults do not count, so adding a key to the schema keeps the
        hashes of scenarios that do not use it.
        """
        text = json.dumps(self.model_dump(mode="json", exclude_defaults=True), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _require_unique(names: list[str], what: str) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what} name {name!r} is used twice")
        seen.add(name)

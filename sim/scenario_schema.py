"""The scenario schema: frozen, validated objects (DESIGN 4.1).

Unknown keys are errors (``extra="forbid"``); every default that is an assumption says so.
Loading files, ``extends`` and ``--set`` overrides live in ``sim.scenario``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from sim.distributions import Distribution, as_distribution_input
from sim.network import NetworkSpec
from sim.scenario_outcomes import Bulletins, CommunityWork, Escalation, Outcomes, Repeat

Dist = Annotated[Distribution, BeforeValidator(as_distribution_input)]

#: Assumption: calls lowest around 04:00-05:00 at about a quarter of the evening peak, high
#: from late morning to evening (US CAD data: 2.4 calls/h at 04:00 vs 8-10/h in daytime).
DEFAULT_HOURLY_PROFILE = (
    0.62, 0.50, 0.42, 0.36, 0.32, 0.33, 0.45, 0.70, 0.95, 1.10, 1.20, 1.25,
    1.25, 1.25, 1.25, 1.30, 1.35, 1.40, 1.45, 1.45, 1.40, 1.25, 1.00, 0.80,
)  # fmt: skip


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class Location(_Frozen):
    """A point: a node id, projected x/y in metres, or lat/lon."""

    node: int | str | None = None
    x: float | None = None
    y: float | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _one_form(self) -> Location:
        forms = [
            self.node is not None,
            self.x is not None or self.y is not None,
            self.lat is not None or self.lon is not None,
        ]
        if sum(forms) != 1:
            raise ValueError("give exactly one of {node}, {x, y} or {lat, lon}")
        if (self.x is None) != (self.y is None) or (self.lat is None) != (self.lon is None):
            raise ValueError("x needs y and lat needs lon")
        return self


class Area(_Frozen):
    """A polygon as WKT, in ``crs`` (None: the network's own CRS); see sim.inputs.gis_places."""

    wkt: str
    crs: str | None = None


class Community(_Frozen):
    """A named area (社区 / grid cell) with a population; its anchor decides its nodes."""

    name: str
    population: int = Field(gt=0)
    at: Location | None = None  # None: a well-spread anchor is generated
    area: Area | None = None  # a GIS polygon: its nodes belong to it (by containment)


class Post(_Frozen):
    """The station or a community office (警务室)."""

    name: str
    kind: Literal["station", "office"]
    community: str | None = None  # for offices: the community they serve
    at: Location | None = None  # None: offices sit at their community's anchor


class Crew(_Frozen):
    """Who rides in one unit. Default: one officer and two auxiliaries (一警两辅, the source)."""

    officers: int = Field(default=1, ge=1)
    auxiliaries: int = Field(default=2, ge=0)


class Shift(_Frozen):
    """A daily shift. Units off shift take no calls; a busy unit finishes its call first."""

    start_hour: float = Field(ge=0, lt=24)
    hours: float = Field(gt=0, le=24)


class OtherDuty(_Frozen):
    """Blocks of other duties that take a unit away (unavailable), as a share of its time.

    Blocks start at random (Poisson) so that, with no calls, the unit spends ``share`` of
    its time on them; a block due while the unit is busy starts when it is next free.
    """

    share: float = Field(default=0.0, ge=0, lt=1)
    block_min: Dist = Field(default_factory=lambda: {"dist": "exponential", "mean": 120})


class UnitGroup(_Frozen):
    """``count`` identical units based at one post."""

    post: str
    count: int = Field(default=1, ge=1)
    crew: Crew = Crew()
    tenure_years: float = Field(default=1.0, ge=0)
    shift: Shift | None = None  # None: staffed 24 h (by rotating crews)
    other_duty: OtherDuty = OtherDuty()


class CallType(_Frozen):
    """A kind of call with its own share, priority, on-scene time and outcome parameters."""

    name: str
    share: float = Field(gt=0)
    priority: int = Field(default=3, ge=1)
    service_min: Dist
    criminal: bool = False
    units_needed: int = Field(default=1, ge=1)  # crews sent (response: the first on scene)
    label_zh: str | None = None  # for the weekly bulletin
    # Resolution at first attendance: p_unfamiliar + (p_familiar - p_unfamiliar) x familiarity
    p_familiar: float = Field(default=1.0, ge=0, le=1)
    p_unfamiliar: float = Field(default=1.0, ge=0, le=1)
    lateness: bool | None = None  # does lateness lower resolution? None: if criminal
    repeat: Repeat | None = None  # None: unresolved calls do not call again
    escalation: Escalation | None = None

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


class Calls(_Frozen):
    """The call stream: a non-homogeneous Poisson process and a mix of call types."""

    rate_per_hour: float | None = Field(default=None, ge=0)
    rate_per_1000_residents_per_week: float | None = Field(default=None, ge=0)
    hourly_profile: Literal["default", "flat"] | tuple[float, ...] = "default"
    day_of_week: tuple[float, ...] | None = None  # Monday first; None: every day alike
    types: tuple[CallType, ...] = Field(min_length=1)
    # Replay a calls table instead of generating calls (sim.inputs.trace; relative paths
    # resolve against the scenario's folder). Its options: the time zone the simulation
    # clock runs in, the table's column names (ours -> theirs) and the moment of t = 0.
    trace: Path | None = None
    trace_timezone: str | None = None  # None: the table's own zone, else wall-clock time as written
    trace_columns: dict[str, str] = Field(default_factory=dict)
    trace_start: str | None = None  # None: midnight before the first usable call

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


class Dispatch(_Frozen):
    """The command room (综合指挥室): dispatch delay, policy and its options."""

    policy: str = "nearest"
    delay_min: Dist = 0.0
    mobilisation_min: Dist = 0.0  # from a post only; units already on the road are mobile
    borrow_after_min: float | None = Field(default=0.0, ge=0)  # community_first; None: never

    @field_validator("policy")
    @classmethod
    def _known_policy(cls, value):
        from sim.dispatch import POLICIES

        if value not in POLICIES:
            raise ValueError(f"unknown policy {value!r}; known: {', '.join(sorted(POLICIES))}")
        return value


class Residents(_Frozen):
    """Resident agents: each stands for a block of ``people_per_agent`` residents at a node."""

    people_per_agent: int = Field(default=100, ge=1)


class Scenario(_Frozen):
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
    communities: tuple[Community, ...] = Field(min_length=1)
    posts: tuple[Post, ...] = Field(min_length=1)
    units: tuple[UnitGroup, ...] = Field(min_length=1)
    residents: Residents = Residents()
    calls: Calls
    dispatch: Dispatch = Dispatch()
    outcomes: Outcomes = Outcomes()
    community_work: CommunityWork = CommunityWork()
    bulletins: Bulletins = Bulletins()

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
        for i, call_type in enumerate(self.calls.types):
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
        return (self.warmup_days + self.days) * 1440.0

    @property
    def warmup_min(self) -> float:
        """Minutes of warm-up."""
        return self.warmup_days * 1440.0

    def digest(self) -> str:
        """A stable hash of the resolved scenario (keys added later count only when set)."""
        data = self.model_dump(mode="json")
        for key in _LATER_CALLS_KEYS:
            if data["calls"][key] in (None, {}):
                del data["calls"][key]
        for community in data["communities"]:
            if community["area"] is None:
                del community["area"]
        text = json.dumps(data, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


#: Keys added after scenario hashes were first published: a scenario that leaves them unset
#: keeps its hash (sweep ledgers keyed by it still resume).
_LATER_CALLS_KEYS = ("trace", "trace_timezone", "trace_columns", "trace_start")


def _require_unique(names: list[str], what: str) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what} name {name!r} is used twice")
        seen.add(name)

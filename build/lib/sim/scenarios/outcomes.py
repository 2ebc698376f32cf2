"""Scenario keys for outcomes (DESIGN 3.6-3.8).

Resolution, familiarity, repeats, escalation, case work, community work and bulletins.

Every default here that is not from the source is an ASSUMPTION and says so.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from sim.registry import OUTCOME_RULES
from sim.scenarios.distributions import Dist
from sim.scenarios.frozen import Frozen


class Repeat(Frozen):
    """An unresolved problem makes the same household call again (a repeat, ``repeat_of``)."""

    probability: float = Field(default=0.7, ge=0, le=1)  # ASSUMPTION
    delay_days: Dist = Field(default_factory=lambda: {"dist": "exponential", "mean": 3.0})
    max_repeats: int = Field(default=2, ge=0)  # ASSUMPTION


class Escalation(Frozen):
    """A dispute that turns into ``to`` (e.g. assault) if no unit arrives before a drawn time.

    The source: a landlord threatened to beat his tenant; the police arrived first.
    """

    to: str
    probability: float = Field(default=0.2, ge=0, le=1)  # ASSUMPTION
    after_min: Dist = Field(
        default_factory=lambda: {"dist": "lognormal", "median": 15.0, "p90": 45.0}
    )  # ASSUMPTION
    probability_on_repeat: float | None = Field(default=None, ge=0, le=1)  # None: as first


class Familiarity(Frozen):
    """How well a unit knows a community (人熟、地熟、情况熟), in [0, 1].

    It grows towards 1 with each call handled there (``gain_per_call`` of the gap) and, for
    the community a unit is posted in, with every day posted there (``gain_per_day_posted``);
    elsewhere it decays (``decay_per_day``).

    ``start: steady_state`` (default): each unit starts where these dynamics would have
    taken it after ``tenure_years`` in its posting at the scenario's call rates (the
    derivation is in ``sim.outcomes.resolution.Familiarity.after_tenure``), so a run has no
    start-up bias. ``start: tenure``: the older rule, ``1 - exp(-tenure_years / tau_years)``
    in an office's own community, shared out equally over every community for station
    units; it then drifts up for months (time constant ~85 days for ``central``).
    All rates are ASSUMPTIONS; the source's officer had 3 years on the same beat.
    """

    start: Literal["steady_state", "tenure"] = "steady_state"
    tau_years: float = Field(default=1.5, gt=0)  # only for start: tenure
    gain_per_call: float = Field(default=0.02, ge=0, le=1)
    gain_per_day_posted: float = Field(default=0.002, ge=0, le=1)
    decay_per_day: float = Field(default=0.0005, ge=0, le=1)


class Lateness(Frozen):
    """Arriving later lowers the chance of a good outcome (criminal calls by default).

    A slope, not a bonus: a 10% longer response lowers the chance of clearing the crime by
    4.7 percentage points (Blanes i Vidal & Kirchmaier, "The Effect of Police Response Time on
    Crime Clearance Rates", Review of Economic Studies 85(2), 2018). That is a local
    estimate; its shape over 1-60 min is an ASSUMPTION (``shape``):

    - ``log_odds`` (default): the effect holds at ``reference_min`` and is carried to other
      response times on the log-odds scale (logistic in log response time), so the chance
      flattens as it nears 0 or 1 and never reaches either: with a chance of 0.35 at 10 min,
      0.95 at 2 min, 0.27 at 12, 0.11 at 20, 0.01 at 60
      (``sim.outcomes.resolution.lateness_probability``).
    - ``linear``: ``-pp_per_10pct / ln(1.1) * ln(response / reference_min)`` percentage
      points (-49.3 pp per unit of log time), the older rule: 0 from about 20 min on for
      that call (a floor no source gives).

    A response outside ``realistic_min`` counts as its nearer end. ``reference_min`` is the
    response time at which the call type's ``p_familiar`` / ``p_unfamiliar`` hold.
    """

    shape: Literal["log_odds", "linear"] = "log_odds"  # ASSUMPTION (see above)
    pp_per_10pct: float = Field(default=4.7, ge=0)
    reference_min: float = Field(default=10.0, gt=0)  # ASSUMPTION: where the base p's hold
    realistic_min: tuple[float, float] = (2.0, 60.0)  # ASSUMPTION: the slope holds in here
    max_pp: float | None = Field(default=None, ge=0)  # optional cap either way (None: none)

    @model_validator(mode="after")
    def _ordered(self) -> Lateness:
        lo, hi = self.realistic_min
        if not 0 < lo < hi:
            raise ValueError("realistic_min: [low, high] with 0 < low < high was expected")
        return self


class FollowThrough(Frozen):
    """一管到底: office-based units spend extra follow-up time for a better chance to solve."""

    enabled: bool = False
    extra_min: Dist = Field(
        default_factory=lambda: {"dist": "lognormal", "median": 20.0, "p90": 45.0}
    )  # ASSUMPTION
    p_boost: float = Field(default=0.10, ge=0, le=1)  # ASSUMPTION


class Outcomes(Frozen):
    """Resolution at first attendance, and what follows the scene."""

    familiarity: Familiarity = Familiarity()
    lateness: Lateness = Lateness()
    follow_through: FollowThrough = FollowThrough()
    # 案件办理队: with a case team, criminal case work is handed over and the unit returns;
    # without one, the responding unit spends ``case_work_min`` in follow_up (0: not modelled)
    case_team: bool = False
    case_work_min: Dist = 0.0
    # Outcome rules registered with ``sim.register_rule``, run with the shipped ones (which
    # always run), each where it was registered (``sim.outcomes.rules``).
    rules: tuple[str, ...] = ()

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, names):
        for name in names:
            OUTCOME_RULES.check(name)  # read when the check runs: any registered name
            if OUTCOME_RULES.entry(name).traits.get("shipped"):
                raise ValueError(f"outcome rule {name!r} always runs: leave it out")
        if len(set(names)) < len(names):
            raise ValueError("an outcome rule is named twice")
        return names


class CommunityWork(Frozen):
    """Latent problems (e.g. a failing elevator) and their detection by embedded units.

    A problem appears in a community, makes residents call (``call_type``) until fixed.
    Units based at that community's office detect it through their community work
    (residents' chat groups, visits) with ``p_detect_per_day``, or when they attend one of
    its calls (``p_detect_on_call``). Detected, it goes to a four-party meeting (四方会议:
    residents' committee, property management, owners' committee, housing bureau) and is
    fixed after ``meeting_days`` + ``repair_days`` (the source: about 3 weeks). Undetected
    problems are fixed anyway after ``undetected_fix_days``. Rates are ASSUMPTIONS.
    """

    enabled: bool = False
    problems_per_community_per_week: float = Field(default=0.3, ge=0)
    calls_per_problem_per_week: float = Field(default=1.0, ge=0)
    call_type: str = "facility_hazard"
    p_detect_per_day: float = Field(default=0.15, ge=0, le=1)
    p_detect_on_call: float = Field(default=0.8, ge=0, le=1)
    meeting_days: Dist = 5.0
    repair_days: Dist = Field(
        default_factory=lambda: {"dist": "lognormal", "median": 14.0, "p90": 24.0}
    )
    undetected_fix_days: Dist = Field(default_factory=lambda: {"dist": "exponential", "mean": 60.0})
    # Officer time (office units only; 0: community work costs no time, the older model).
    # Visits start at random (Poisson) while the unit is free at its post, so that an idle
    # unit spends ``visit_min_per_day`` on them; a visit due while it is busy is skipped.
    visit_min_per_day: float = Field(default=0.0, ge=0, lt=1440)  # ASSUMPTION
    visit_block_min: Dist = Field(default_factory=lambda: {"dist": "exponential", "mean": 60})
    meeting_min: float = Field(default=0.0, ge=0)  # officer time at the four-party meeting


class Bulletins(Frozen):
    """Weekly bulletins of each office (每周警情通报).

    ``prevention``: share of calls of a type prevented in communities whose office
    publishes bulletins, e.g. ``{fraud: 0.1}``. An explicit ASSUMPTION, off by default.
    """

    prevention: dict[str, float] = Field(default_factory=dict)

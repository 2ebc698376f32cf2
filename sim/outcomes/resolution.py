"""What attending a call achieves: resolution, familiarity, follow-up work, repeats.

Resolution at first attendance (DESIGN 3.6)::

    p = p_unfamiliar + (p_familiar - p_unfamiliar) * familiarity(unit, community)
    p = lateness_probability(p, response_min, lateness)   (criminal types by default)
        + follow-through boost (office-based units, when enabled)

clipped to [0, 1] and drawn with the call's own uniform (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from sim.calls.stream import call_rate
from sim.clock import MIN_PER_DAY
from sim.scenarios.outcomes import Familiarity as FamiliaritySpec
from sim.scenarios.outcomes import Lateness, Outcomes

if TYPE_CHECKING:
    from sim.agents.unit import Unit
    from sim.calls.call import Call
    from sim.scenarios.schema import CallType, Scenario


class OutcomeContext(Protocol):
    """What outcome rules read from the model."""

    time: float  # minutes
    scenario: Scenario
    call_types: Sequence[CallType]
    familiarity: Familiarity


_LN_1_1 = math.log(1.1)
DAYS_PER_YEAR = 365.25


class Familiarity:
    """Familiarity of every unit with every community, in [0, 1], updated lazily in time.

    Each (unit, community) value keeps the time it was last brought up to date; reading it
    first applies the growth (the unit's own community) or decay (elsewhere) since then.
    """

    def __init__(
        self,
        spec: FamiliaritySpec,
        units: list[Unit],
        n_communities: int,
        calls_per_day: Sequence[float] | None = None,
    ):
        """``calls_per_day``: expected calls per community (for the steady-state start)."""
        self.spec = spec
        self._log_grow = (
            math.log1p(-spec.gain_per_day_posted) if spec.gain_per_day_posted < 1 else -math.inf
        )
        self._log_decay = math.log1p(-spec.decay_per_day) if spec.decay_per_day < 1 else -math.inf
        self.home = [-1] * len(units)
        self._updated_min = [[0.0] * n_communities for _ in units]
        for i, unit in enumerate(units):
            if unit.post.kind == "office":
                self.home[i] = unit.post.community
        if spec.start == "steady_state" and calls_per_day is not None:
            rates = handled_per_day(units, calls_per_day)
            self._level = [
                [
                    self.after_tenure(u.group.tenure_years, r, c == self.home[i])
                    for c, r in enumerate(row)
                ]
                for i, (u, row) in enumerate(zip(units, rates, strict=True))
            ]
        else:
            self._level = [self._tenure_start(u, n_communities) for u in units]

    def _tenure_start(self, unit: Unit, n_communities: int) -> list[float]:
        """The older rule: ``1 - exp(-tenure / tau)`` at home, shared out for station units."""
        start = 1.0 - math.exp(-unit.group.tenure_years / self.spec.tau_years)
        if unit.post.kind == "office":
            level = [0.0] * n_communities
            level[unit.post.community] = start
            return level
        return [start / n_communities] * n_communities

    def after_tenure(self, tenure_years: float, calls_per_day: float, home: bool) -> float:
        """Expected familiarity after ``tenure_years`` of the dynamics, from 0.

        With calls handled there as a Poisson process of rate ``r`` a day, each closing
        ``g`` of the gap to 1, the expected gap closes at ``r g`` a day; posted there, also
        at ``k_d = -ln(1 - gain_per_day_posted)``; elsewhere the level fades at
        ``k_x = -ln(1 - decay_per_day)``. So ``df/dt = a (1 - f) - b f`` with
        ``a = r g (+ k_d at home)`` and ``b = k_x`` (0 at home), whose solution from 0 is
        ``f(T) = a / (a + b) * (1 - exp(-(a + b) T))``: the long-run value ``a / (a + b)``
        approached with time constant ``1 / (a + b)`` days.
        """
        a = calls_per_day * self.spec.gain_per_call + (-self._log_grow if home else 0.0)
        b = 0.0 if home else -self._log_decay
        if a + b <= 0 or not math.isfinite(a + b):
            return 0.0 if a <= 0 else 1.0
        return a / (a + b) * (1.0 - _exp(-(a + b) * tenure_years * DAYS_PER_YEAR))

    def of(self, unit_index: int, community: int, now_min: float) -> float:
        """Familiarity of a unit with a community now."""
        level = self._level[unit_index]
        days = (now_min - self._updated_min[unit_index][community]) / MIN_PER_DAY
        if days > 0:
            if community == self.home[unit_index]:  # posted there: the gap to 1 closes
                gap = (1.0 - level[community]) * _exp(days * self._log_grow)
                level[community] = 1.0 - gap
            else:  # elsewhere: it fades
                level[community] *= _exp(days * self._log_decay)
            self._updated_min[unit_index][community] = now_min
        return level[community]

    def handled_call(self, unit_index: int, community: int, now_min: float) -> None:
        """A call handled there closes ``gain_per_call`` of the gap to 1."""
        level = self.of(unit_index, community, now_min)
        self._level[unit_index][community] = level + self.spec.gain_per_call * (1.0 - level)


def handled_per_day(units: list[Unit], calls_per_day: Sequence[float]) -> list[list[float]]:
    """Expected calls a day each unit handles in each community (the steady-state start).

    A community's calls go to the units of its own office if it has any, else shared
    equally among units not based at an office (the station), else among all units.
    Repeats and latent-problem calls are left out (the base rate only).
    """
    n = len(calls_per_day)
    rates = [[0.0] * n for _ in units]
    unposted = [i for i, u in enumerate(units) if u.post.kind != "office"]
    for c, per_day in enumerate(calls_per_day):
        own = [i for i, u in enumerate(units) if u.post.kind == "office" and u.post.community == c]
        takers = own or unposted or list(range(len(units)))
        for i in takers:
            rates[i][c] = per_day / len(takers)
    return rates


def expected_calls_per_day(scenario: Scenario) -> list[float]:
    """Base calls a day in each community (call rate and populations, no repeats)."""
    calls, people = scenario.calls, [c.population for c in scenario.communities]
    if calls.rate_per_hour is None:  # a rate per resident: each community's own
        return [call_rate(calls, p, MIN_PER_DAY) for p in people]
    total = sum(people)  # a rate for everyone: shared by population
    return [call_rate(calls, total, MIN_PER_DAY) * p / total for p in people]


def _exp(x: float) -> float:
    return math.exp(x) if x > -745 else 0.0


def resolution_probability(model: OutcomeContext, call: Call, unit: Unit) -> float:
    """The chance that this unit solves this call at first attendance."""
    call_type = model.call_types[call.type_index]
    outcomes = model.scenario.outcomes
    familiarity = model.familiarity.of(unit.index, call.community, model.time)
    call.familiarity = familiarity
    p = call_type.p_unfamiliar + (call_type.p_familiar - call_type.p_unfamiliar) * familiarity
    if call_type.lateness_applies:
        p = lateness_probability(p, call.t_arrive - call.t_call, outcomes.lateness)
    if follows_through(outcomes, unit):
        p += outcomes.follow_through.p_boost
    return min(1.0, max(0.0, p))


def lateness_probability(p_reference: float, response_min: float, lateness: Lateness) -> float:
    """The chance of a good outcome after ``response_min``, given ``p_reference`` at the reference.

    A pure function of the response time. ``shape: log_odds`` (the default) moves the log-odds
    of the outcome linearly in log response time, with the slope that gives the published
    local effect at the reference time for this ``p_reference``:
    ``d p / d ln t = -pp_per_10pct / 100 / ln 1.1`` there, so
    ``logit p(t) = logit p_ref - pp_per_10pct / 100 / ln 1.1 / (p_ref (1 - p_ref)) ln(t / ref)``.
    It flattens where the chance is already low or high and never reaches 0 or 1 (a chance of
    exactly 0 or 1 stays so). ``shape: linear`` is the older rule, linear in percentage points
    (``-pp_per_10pct / ln 1.1 * ln(t / ref)``), which reaches 0 within minutes of the reference.
    Either way a response outside ``realistic_min`` counts as its nearer end.
    """
    if lateness.pp_per_10pct == 0:
        return p_reference
    lo, hi = lateness.realistic_min
    log_ratio = math.log(min(hi, max(lo, response_min)) / lateness.reference_min)
    slope = lateness.pp_per_10pct / 100.0 / _LN_1_1  # probability per unit of log time
    if lateness.shape == "linear":
        p = p_reference - slope * log_ratio
    elif 0.0 < p_reference < 1.0:
        logit = math.log(p_reference / (1.0 - p_reference))
        logit -= slope / (p_reference * (1.0 - p_reference)) * log_ratio
        p = 1.0 / (1.0 + math.exp(-logit)) if logit > -700 else 0.0
    else:
        p = p_reference
    if lateness.max_pp is not None:
        cap = lateness.max_pp / 100.0
        p = max(p_reference - cap, min(p_reference + cap, p))
    return min(1.0, max(0.0, p))


LATENESS_BANDS_MIN = ((1.0, 5.0), (5.0, 15.0), (15.0, 60.0))


def lateness_bands(p_reference: float, lateness: Lateness) -> dict[str, float]:
    """Mean slope of ``lateness_probability`` in pp per 10% longer response, by band.

    Bands of response time: 1-5, 5-15 and 15-60 minutes (a flat band shows as 0).
    """
    bands = {}
    for lo, hi in LATENESS_BANDS_MIN:
        change = lateness_probability(p_reference, hi, lateness)
        change -= lateness_probability(p_reference, lo, lateness)
        bands[f"{lo:g}-{hi:g}"] = 100.0 * change / (math.log(hi / lo) / _LN_1_1)
    return bands


def follows_through(outcomes: Outcomes, unit: Unit) -> bool:
    """Office-based units follow through (一管到底) when the scenario's ``outcomes`` enable it."""
    return outcomes.follow_through.enabled and unit.post.kind == "office"


def follow_up_min(
    model: OutcomeContext, call: Call, unit: Unit, u_case: float, u_follow: float
) -> float:
    """Minutes of follow-up after the scene: own case work and follow-through."""
    outcomes = model.scenario.outcomes
    minutes = 0.0
    if model.call_types[call.type_index].criminal and not outcomes.case_team:
        minutes += outcomes.case_work_min.quantile(u_case)
    if follows_through(outcomes, unit):
        minutes += outcomes.follow_through.extra_min.quantile(u_follow)
    return minutes


def repeat_delay_min(model: OutcomeContext, call: Call, rng: np.random.Generator) -> float | None:
    """When the household calls again about an unresolved problem (None: it does not)."""
    repeat = model.call_types[call.first_type].repeat
    if call.resolved or repeat is None or call.chain >= repeat.max_repeats:
        return None
    u_repeat, u_delay = rng.random(2)
    if u_repeat >= repeat.probability * call.repeat_factor:
        return None
    return repeat.delay_days.quantile(u_delay) * MIN_PER_DAY


def escalation_delay_min(model: OutcomeContext, call: Call, u_happens: float, u_time: float):
    """Minutes after the call when it escalates if nobody has arrived (None: it won't)."""
    escalation = model.call_types[call.type_index].escalation
    if escalation is None:
        return None
    p = escalation.probability
    if call.chain > 0 and escalation.probability_on_repeat is not None:
        p = escalation.probability_on_repeat
    return escalation.after_min.quantile(u_time) if u_happens < p else None

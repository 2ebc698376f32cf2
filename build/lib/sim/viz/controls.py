"""The page's controls, and how their values become validated scenarios.

Every bad value raises ``SimInputError`` with a message meant for the page (no traceback).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sim.errors import SimInputError
from sim.registry import DISPATCH_POLICIES
from sim.scenarios.load import available_scenarios, load_scenario
from sim.scenarios.schema import Scenario
from sim.viz.messages import t

NO_COMPARE = "(none)"
AS_SCENARIO = "(as in scenario)"
MAX_UNITS_PER_OFFICE = 10
RATE_RANGE = (0.1, 10.0)
START_HOUR = 9  # the model is run to this hour on Reset: calls are under way at once
#: Environment variable through which ``run_sim.py viz --scenario`` sets the first scenario.
SCENARIO_ENV = "PATROL_VIZ_SCENARIO"


@dataclass(frozen=True)
class Controls:
    """The values of the page's controls (as the widgets give them)."""

    scenario_name: str = "embedded"  # not 'scenario': Mesa's SolaraViz passes its own
    compare: str = NO_COMPARE
    policy: str = AS_SCENARIO
    units_per_office: int = 0  # 0: as the scenario says
    rate_multiplier: float = 1.0
    seed: str | int = "1"
    start_hour: int = START_HOUR


def default_controls() -> Controls:
    """The first values: the scenario from ``run_sim.py viz --scenario`` if given."""
    return Controls(scenario_name=os.environ.get(SCENARIO_ENV) or "embedded")


def listed_scenarios() -> list[str]:
    """The scenarios the page offers: the shipped ones and the one the server was started with.

    A name from the page is only ever looked up in this list, never opened as a path: a
    forged message cannot make the server read a file.
    """
    names = list(available_scenarios())
    first = os.environ.get(SCENARIO_ENV)
    if first and first not in names:
        names.append(first)  # a path given on the command line (trusted: the teacher's)
    return names


def model_params(first: Controls | None = None) -> dict[str, dict[str, Any]]:
    """SolaraViz ``model_params``: one input per control, starting at ``first``."""
    first = first or default_controls()
    names = listed_scenarios()
    return {
        "scenario_name": {
            "type": "Select",
            "value": first.scenario_name,
            "values": names,
            "label": "Scenario",
        },
        "compare": {
            "type": "Select",
            "value": first.compare,
            "values": [NO_COMPARE, *names],
            "label": "Before vs after: compare with",
        },
        "policy": {
            "type": "Select",
            "value": first.policy,
            "values": policy_choices(),
            "label": "Dispatch policy",
        },
        "units_per_office": {
            "type": "SliderInt",
            "value": first.units_per_office,
            "min": 0,
            "max": MAX_UNITS_PER_OFFICE,
            "step": 1,
            "label": "Units per office (0: as in scenario)",
        },
        "rate_multiplier": {
            "type": "SliderFloat",
            "value": first.rate_multiplier,
            "min": 0.25,
            "max": 6.0,
            "step": 0.25,
            "label": "Call-rate multiplier",
        },
        "seed": {"type": "InputText", "value": str(first.seed), "label": "Seed"},
        "start_hour": {
            "type": "SliderInt",
            "value": first.start_hour,
            "min": 0,
            "max": 23,
            "step": 1,
            "label": "Start at hour (the model runs to it on Reset)",
        },
    }


def policy_choices() -> list[str]:
    """The dispatch policy menu: as in the scenario, or any registered policy (read now)."""
    return [AS_SCENARIO, *DISPATCH_POLICIES.names()]


def parse_seed(value: str | int) -> int:
    """The seed as a whole number >= 0."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):  # '²' and '①' are digits to isdigit()
        raise SimInputError(t("err_seed", got=repr(text)))
    return int(text)


def build_scenarios(controls: Controls) -> list[Scenario]:
    """The scenario (and the one to compare with), with the controls applied."""
    seed = parse_seed(controls.seed)
    _check_ranges(controls)
    names = [controls.scenario_name]
    if controls.compare not in (NO_COMPARE, "", None):
        names.append(controls.compare)
    listed = listed_scenarios()
    for name in names:
        if name not in listed:
            shown = str(name)[:60]
            raise SimInputError(t("err_scenario", got=repr(shown), known=", ".join(listed)))
    return [_load(name, controls, seed) for name in names]


def _check_ranges(controls: Controls) -> None:
    if controls.policy not in policy_choices():
        known = ", ".join(DISPATCH_POLICIES.names())
        raise SimInputError(t("err_policy", got=repr(controls.policy), known=known))
    units = controls.units_per_office
    if not isinstance(units, int) or not 0 <= units <= MAX_UNITS_PER_OFFICE:
        raise SimInputError(t("err_units", most=MAX_UNITS_PER_OFFICE, got=repr(units)))
    low, high = RATE_RANGE
    rate = controls.rate_multiplier
    if not isinstance(rate, int | float) or not low <= rate <= high:
        raise SimInputError(t("err_rate", low=low, high=high, got=repr(rate)))
    hour = controls.start_hour
    if not isinstance(hour, int) or not 0 <= hour <= 23:
        raise SimInputError(t("err_hour", got=repr(hour)))


def _load(name: str, controls: Controls, seed: int) -> Scenario:
    """The scenario with the controls applied; no warm-up: the page counts from minute 0."""
    base = load_scenario(name)
    changes = {"warmup_days": 0, **_rate_change(base, controls.rate_multiplier)}
    if controls.policy != AS_SCENARIO:
        changes["dispatch.policy"] = controls.policy
    changes.update(_unit_changes(base, controls.units_per_office))
    return load_scenario(name, seed=seed, set=changes)


def _rate_change(base: Scenario, multiplier: float) -> dict[str, float]:
    if multiplier == 1.0:
        return {}
    calls = base.calls
    if calls.rate_per_hour is not None:
        return {"calls.rate_per_hour": calls.rate_per_hour * multiplier}
    rate = calls.rate_per_1000_residents_per_week * multiplier
    return {"calls.rate_per_1000_residents_per_week": rate}


def _unit_changes(base: Scenario, per_office: int) -> dict[str, int]:
    """``per_office`` units at every office; a station pools as many per community.

    So ``central`` (all at the station) and ``embedded`` (one per office) keep the same
    number of units for a fair comparison. 0 leaves the scenario's counts.
    """
    if per_office == 0:
        return {}
    kinds = {post.name: post.kind for post in base.posts}
    stations = [g for g in base.units if kinds[g.post] == "station"]
    pooled = per_office * len(base.communities)
    per_station_group = max(1, round(pooled / len(stations))) if stations else 0
    return {
        f"units.{i}.count": per_office if kinds[g.post] == "office" else per_station_group
        for i, g in enumerate(base.units)
    }

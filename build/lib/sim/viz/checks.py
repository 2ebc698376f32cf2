"""Warnings for combinations of settings that cannot work, in words for the page."""

from __future__ import annotations

from sim.registry import DISPATCH_POLICIES
from sim.scenarios.schema import Scenario
from sim.viz.messages import t


def warnings_for(scenario: Scenario) -> list[str]:
    """What in this scenario cannot work as the user probably expects (empty: nothing)."""
    kinds = {post.name: post.kind for post in scenario.posts}
    station_units = sum(g.count for g in scenario.units if kinds.get(g.post) == "station")
    total_units = sum(g.count for g in scenario.units)
    found = []
    if total_units == 0:
        found.append(t("warn_no_units", name=scenario.name))
    elif _station_bound(scenario.dispatch.policy) and station_units == 0:
        found.append(t("warn_station_only", name=scenario.name, policy=scenario.dispatch.policy))
    if scenario.calls.types and _rate(scenario) == 0:
        found.append(t("warn_no_calls", name=scenario.name))
    return found


def _station_bound(policy: str) -> bool:
    """Whether the policy sends only units based at a station (its ``office_units`` trait)."""
    return DISPATCH_POLICIES.entry(policy).traits.get("office_units") is False


def _rate(scenario: Scenario) -> float:
    calls = scenario.calls
    rate = calls.rate_per_hour
    return rate if rate is not None else (calls.rate_per_1000_residents_per_week or 0.0)

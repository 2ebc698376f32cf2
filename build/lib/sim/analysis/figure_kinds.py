"""Which printed figures the inputs put in, which an assumption sets, which the run finds.

A figure is an *input* when the scenario sets it (the call rate), *assumed* when an
``ASSUMPTION`` of the scenario sets it (the share of time on other duties), and *emergent*
when it comes out of the simulation (response times, resolution, queueing). An assumed
figure names its scenario key and the assumption's source, so a reader can tell a
difference the inputs put in from a finding.
"""

from __future__ import annotations

import re
from typing import Any

from sim.scenarios.schema import Scenario

KEY = (
    "kind: input = set in the scenario; assumed = set by an ASSUMPTION of the scenario "
    "(key and source in summary.json 'figure_kinds'); emergent = found by the simulation"
)

#: dotted summary key -> (kind, the scenario keys that set it: a regular expression over
#: the assumption paths, and the key as a reader finds it in the YAML file).
ASSUMED = {
    "time_budget.overall.patrol": (r"units\.\d+\.patrol\.share", "units.N.patrol.share"),
    "time_budget.overall.community_work": (
        r"community_work\.visit_min_per_day",
        "community_work.visit_min_per_day",
    ),
    "time_budget.overall.other_duties": (
        r"units\.\d+\.other_duty\.share",
        "units.N.other_duty.share",
    ),
}
INPUT = {
    "calls_per_week": "calls.rate_per_hour or calls.rate_per_1000_residents_per_week "
    "(repeats and problem calls, emergent, add to it)",
    "time_budget.overall.off_shift": "units.N.shift",
}


def figure_kind(key: str) -> str:
    """'input', 'assumed' or 'emergent' for a dotted summary key."""
    if key in INPUT:
        return "input"
    return "assumed" if key in ASSUMED else "emergent"


def figure_kinds(keys: list[str], scenarios: list[Scenario]) -> dict[str, dict[str, Any]]:
    """Per dotted key: its kind, and for an input or assumed one what sets it (and source)."""
    out: dict[str, dict[str, Any]] = {}
    for key in keys:
        kind = figure_kind(key)
        entry: dict[str, Any] = {"kind": kind}
        if kind == "input":
            entry["set_by"] = INPUT[key]
        elif kind == "assumed":
            pattern, shown = ASSUMED[key]
            entry["set_by"] = shown
            entry["source"] = _source(pattern, scenarios)
        out[key] = entry
    return out


def _source(pattern: str, scenarios: list[Scenario]) -> str:
    """The first matching assumption's source, else the scenario files' ASSUMPTION note."""
    for scenario in scenarios:
        for path, assumption in scenario.assumptions.items():
            if re.fullmatch(pattern, path) and assumption.source:
                return f"{scenario.name}: {assumption.source} (range {list(assumption.range)})"
    names = ", ".join(s.name for s in scenarios)
    return f"ASSUMPTION noted in the scenario files ({names}; sim/scenarios/*.yaml)"

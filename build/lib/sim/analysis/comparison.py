"""Scenarios side by side: a table of means with 95% CIs, and paired differences.

Scenarios run with the same seed face the same calls (common random numbers), so the
difference of a metric between two scenarios is taken replication by replication; its
interval covers Monte Carlo noise only, not uncertainty in the assumed parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.analysis.figure_kinds import figure_kind, figure_kinds
from sim.analysis.replications import RunResult
from sim.measures.censoring import overload_state
from sim.measures.metrics import NUMBER, flatten, mean_ci
from sim.scenarios.schema import Scenario


@dataclass
class Comparison:
    """Several scenarios run on the same calls: their results, table and paired differences."""

    results: list[RunResult]

    @property
    def table(self) -> pd.DataFrame:
        """Metrics by scenario, 'mean ± 95% CI half-width'."""
        return comparison_table(self.results)

    def differences(self, first: int = 0, second: int = 1) -> pd.DataFrame:
        """Scenario ``second`` minus scenario ``first``, paired by replication."""
        return paired_differences(self.results[first], self.results[second])

    def __getitem__(self, name: str) -> RunResult:
        for result in self.results:
            if result.scenario.name == name:
                return result
        raise KeyError(name)


#: Rows of the side-by-side table: (label, dotted key in the summary, format).
TABLE_ROWS = (
    ("calls per week", "calls_per_week", "{:.1f}"),
    ("response mean (min)", "response_min.mean", "{:.2f}"),
    ("response median (min)", "response_min.median", "{:.2f}"),
    ("response p90 (min)", "response_min.p90", "{:.2f}"),
    ("response median KM (min)", "response_km.median", "{:.2f}"),
    ("response p90 KM (min)", "response_km.p90", "{:.2f}"),
    ("unanswered at end", "unanswered_at_end", "{:.1f}"),
    ("offered load", "offered_load.all units", "{:.2f}"),
    ("overloaded", "overload_state", "{}"),
    ("within 3 min", "within_target.3", "{:.1%}"),
    ("within 5 min", "within_target.5", "{:.1%}"),
    ("within 10 min", "within_target.10", "{:.1%}"),
    ("within 15 min", "within_target.15", "{:.1%}"),
    ("travel mean (min)", "travel_min.mean", "{:.2f}"),
    ("queue mean (min)", "queue_min.mean", "{:.2f}"),
    ("p_queued", "p_queued", "{:.1%}"),
    ("resolution rate", "resolution_rate", "{:.1%}"),
    ("repeat rate", "repeat_rate", "{:.1%}"),
    ("escalations", "escalations", "{:.1f}"),
    ("problems fixed", "problems.fixed", "{:.1f}"),
    ("utilisation (committed to calls)", "utilization.mean", "{:.1%}"),
    ("time: committed to calls", "time_budget.overall.committed_to_calls", "{:.1%}"),
    ("time: patrol", "time_budget.overall.patrol", "{:.1%}"),
    ("time: community work", "time_budget.overall.community_work", "{:.1%}"),
    ("time: other duties", "time_budget.overall.other_duties", "{:.1%}"),
    ("time: returning", "time_budget.overall.returning", "{:.1%}"),
    ("time: available", "time_budget.overall.available", "{:.1%}"),
    ("time: off shift", "time_budget.overall.off_shift", "{:.1%}"),
)

#: What the intervals printed from replications cover (say it wherever one is printed).
NOISE_ONLY = "95% CI, random noise only"
WITH_PARAMETERS = "95% interval incl. parameter uncertainty"


def lookup(tree: dict, dotted: str) -> Any:
    """``tree['a']['b']`` for ``'a.b'`` (None when absent)."""
    node: Any = tree
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def with_rates(summary: dict) -> dict:
    """The summary with ``calls_per_week`` (and its CI) added."""
    out = dict(summary)
    weeks = summary["days"] / 7.0
    out["calls_per_week"] = summary["calls"] / weeks
    out["overload_state"] = overload_state(summary)
    ci = dict(summary.get("ci95", {}))
    if ci.get("calls") is not None:
        ci["calls_per_week"] = ci["calls"] / weeks
    out["ci95"] = ci
    return out


def cell(summary: dict, key: str, fmt: str) -> str:
    """'mean ± half-width' for one table cell."""
    value = lookup(summary, key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    half = lookup(summary.get("ci95", {}), key)
    text = fmt.format(value)
    if half is not None:
        text += " ± " + fmt.format(half).rstrip("%") + ("%" if fmt.endswith("%}") else "")
    return text


def comparison_table(results: list[RunResult]) -> pd.DataFrame:
    """Metrics by scenario, each cell 'mean ± 95% CI half-width'."""
    summaries = [with_rates(r.summary) for r in results]
    data = {
        r.scenario.name: [cell(s, key, fmt) for _, key, fmt in TABLE_ROWS]
        for r, s in zip(results, summaries, strict=True)
    }
    table = pd.DataFrame(data, index=[label for label, _, _ in TABLE_ROWS])
    table.loc["interval"] = [interval_kind(r) for r in results]
    table["kind"] = [figure_kind(key) for _, key, _ in TABLE_ROWS] + [""]
    return table


def with_kinds(summary: dict, scenario: Scenario) -> dict:
    """The summary with ``figure_kinds``: which table figures are input, assumed, emergent."""
    return {**summary, "figure_kinds": figure_kinds([k for _, k, _ in TABLE_ROWS], [scenario])}


def interval_kind(result: RunResult) -> str:
    """Which kind of interval a result's ± covers."""
    return WITH_PARAMETERS if result.summary.get("parameter_draws") else NOISE_ONLY


def paired_differences(first: RunResult, second: RunResult) -> pd.DataFrame:
    """Second − first per replication (common random numbers), mean and 95% CI."""
    rows = []
    for label, key, fmt in TABLE_ROWS:
        if key == "calls_per_week":
            continue
        diffs = []
        for a, b in zip(first.summaries, second.summaries, strict=True):
            va, vb = flatten(a).get(key), flatten(b).get(key)
            numbers = all(isinstance(v, NUMBER) and not isinstance(v, bool) for v in (va, vb))
            diffs.append(vb - va if numbers else None)
        mean, half = mean_ci(diffs)
        rows.append({"metric": label, "difference": mean, "ci95": half, "format": fmt})
    return pd.DataFrame(rows)


def format_table(table: pd.DataFrame) -> str:
    """A plain-text table for the terminal."""
    return table.to_string()

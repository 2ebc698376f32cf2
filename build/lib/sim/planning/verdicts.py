"""One line saying whether a plan did what it was for: met its targets, beat the layout.

A plan that misses its targets in simulation, or is worse than what the scenario has now,
looks as tidy in a table as one that works; these lines say which it is.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def staffing_verdict(check: pd.DataFrame, summary: dict[str, Any]) -> str:
    """Whether the simulated staffing plan met P(wait) <= wait and share within T, per hour."""
    wait, share, within = summary["wait"], summary["share"], summary["within_min"]
    hours = check[check["calls_simulated"] > 0]
    calls = hours["calls_simulated"].to_numpy()
    parts, missed = [], []
    for column, target, label, ok in (
        ("p_wait_simulated", wait, f"P(wait) <= {wait:g}", lambda v, t: v <= t),
        ("within_simulated", share, f"{share:.0%} within {within:g} min", lambda v, t: v >= t),
    ):
        values = hours[column].to_numpy()
        met = int(sum(ok(v, target) for v in values))
        overall = float((values * calls).sum() / calls.sum()) if calls.sum() else math.nan
        parts.append(
            f"{label}: met in {met} of {len(values)} hours (simulated {values.min():.2f}-"
            f"{values.max():.2f}, all calls {overall:.2f})"
        )
        if met < len(values):
            missed.append(label)
    verdict = (
        f"the plan does NOT meet {' and '.join(missed)} in every hour"
        if missed
        else "the plan meets both targets in every hour"
    )
    return f"targets in simulation: {'; '.join(parts)}: {verdict}"


def offices_verdict(summary: dict[str, Any]) -> str:
    """The planned offices against the current layout (travel from the nearest manned post)."""
    keys = [k.removeprefix("plan_") for k in summary if k.startswith("plan_")]
    worse, better, parts = [], [], []
    for key in keys:
        planned, current = summary[f"plan_{key}"], summary[f"current_{key}"]
        share = key.startswith("within")
        label = key.replace("_", " ") if share else key.removesuffix("_min").replace("_", " ")
        shown = (
            f"{planned:.0%} vs {current:.0%}" if share else f"{planned:.2f} vs {current:.2f} min"
        )
        parts.append(f"{label} {shown}")
        lower_is_better = not share
        gain = current - planned if lower_is_better else planned - current
        if gain < -1e-9:
            worse.append(label)
        elif gain > 1e-9:
            better.append(label)
    if worse:
        verdict = f"WORSE than the current layout on {', '.join(worse)}"
    elif better:
        verdict = "better than or equal to the current layout on every figure"
    else:
        verdict = "the same as the current layout"
    return f"plan vs current layout: {'; '.join(parts)}: the plan is {verdict}"

"""Foot, e-bike or car: the embedded office units patrolling their own community.

`embedded`'s five office units, one per community, spend half of their free time on random
preventive patrol of their community's streets on foot, e-bike or by car, or stay at their
office (as `central`'s cars do in the Kansas City study). A unit dispatched from patrol
answers on what it patrols with (the model's rule); from its office it takes its vehicle (a
car). Theft is marked on view in every arm.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from patrol_common import (
    ON_VIEW,
    bars,
    coverage_map,
    found_on_view,
    markdown,
    on_view_share,
    options,
    paired,
    parse,
    patrol_share,
    per_replication,
    response_mean,
    run_arms,
    save,
    within_10,
    write_tables,
)

NAME, SCENARIO, BASE = "foot_ebike_car", "embedded", "stay"
MODES = ["foot", "ebike", "car"]


def patrol(mode: str) -> dict:
    return {"policy": "random", "share": 0.5, "mode": mode, "beat": "community"}


ARMS = {BASE: {"units.*.patrol": {"policy": "stay"}, **ON_VIEW}} | {
    mode: {"units.*.patrol": patrol(mode), **ON_VIEW} for mode in MODES
}


def _patrol(key: str):
    def metric(summary: dict, records: pd.DataFrame) -> float | None:
        return (summary.get("patrol") or {}).get(key)

    return metric


def travel_mean(summary: dict, records: pd.DataFrame) -> float | None:
    return summary["travel_min"]["mean"]


METRICS = {
    "response mean (min)": response_mean, "travel mean (min)": travel_mean,
    "within 10 min": within_10, "patrol share of time": patrol_share,
    "street km per unit-hour": _patrol("street_km_per_unit_hour"),
    "segments passed per shift": _patrol("segments_passed_per_shift"),
    "min between passes": _patrol("min_between_passes"),
    "thefts found on view": found_on_view, "on-view share (theft)": on_view_share,
}  # fmt: skip
DIGITS = {"within 10 min": 3, "patrol share of time": 3, "segments passed per shift": 3,
          "min between passes": 0, "thefts found on view": 1, "on-view share (theft)": 3,
          "street km per unit-hour": 1}  # fmt: skip
PANELS = [("response mean (min)", "mean response (min)"),
          ("segments passed per shift", "share of segments passed per shift"),
          ("min between passes", "min between passes of a segment"),
          ("on-view share (theft)", "share of thefts found on view")]  # fmt: skip


def figures(summary: pd.DataFrame, args) -> None:
    fig, axes = plt.subplots(1, len(PANELS), figsize=(15, 3.6))
    for ax, (metric, label) in zip(axes, PANELS, strict=True):
        bars(ax, summary, metric, label)
    save(fig, summary, args.out, "foot_ebike_car")
    fig, axes = plt.subplots(1, len(MODES), figsize=(17, 4.6))
    maps = []
    for ax, mode in zip(axes, MODES, strict=True):
        maps.append(coverage_map(ax, SCENARIO, ARMS[mode], args.days).assign(mode=mode))
        ax.set_title(f"{mode}: passes per day (replication 0); ▲ posts")
    save(fig, pd.concat(maps, ignore_index=True), args.out, "coverage_maps")


def main(argv: list[str] | None = None) -> None:
    args = parse(options(NAME, days=56, reps=10), argv, NAME)
    results = run_arms(SCENARIO, ARMS, args)
    table = per_replication(results, METRICS)
    summary = paired(table, BASE)
    text = markdown(summary, BASE, DIGITS) + f"\n\n{args.reps} reps x {args.days:g} days."
    write_tables(summary, table, args.out, text)
    figures(summary, args)


if __name__ == "__main__":
    main()

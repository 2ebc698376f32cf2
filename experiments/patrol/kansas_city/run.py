"""Kansas City: reactive, normal and twice the preventive patrol by the station's cars.

`central`'s five station cars either stay at the station between calls (reactive), patrol
the whole district at random half of their free time (normal) or all of it (about twice the
patrol hours). Deterrence is off, so the calls residents make cannot depend on patrol (the
Kansas City null result holds by construction); theft is marked on view in every arm.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from patrol_common import (
    ON_VIEW,
    THEFT,
    bars,
    coverage_map,
    found_on_view,
    latin,
    markdown,
    on_view_share,
    options,
    paired,
    parse,
    patrol_share,
    per_replication,
    resident_calls,
    response_mean,
    run_arms,
    save,
    within_10,
    write_tables,
)

NAME, SCENARIO, BASE = "kansas_city", "central", "reactive"
CAR = {"mode": "car", "beat": "district"}
ARMS = {
    "reactive": {"units.*.patrol": {"policy": "stay"}, **ON_VIEW},
    "normal": {"units.*.patrol": {"policy": "random", "share": 0.5, **CAR}, **ON_VIEW},
    "twice": {"units.*.patrol": {"policy": "random", "share": 1.0, **CAR}, **ON_VIEW},
}


def first_calls(records: pd.DataFrame) -> set:
    """Residents' first calls of the types not on view: (time, type, node)."""
    first = records[(records["found_by"] == "call") & records["repeat_of"].isna()
                    & records["problem"].isna()]  # fmt: skip
    return set(zip(first["t_call"].round(9), first["first_type"], first["node"], strict=True))


def same_first_calls(results) -> list[bool]:
    """Per replication: do all arms face the same first calls (types not on view)?"""
    same = []
    for rep in range(len(results[BASE].summaries)):
        sets = [first_calls(r.records[r.records["replication"] == rep]) for r in results.values()]
        same.append(all(s == sets[0] for s in sets))
    return same


def travel_mean(summary: dict, records: pd.DataFrame) -> float | None:
    return summary["travel_min"]["mean"]


def theft_calls(summary: dict, records: pd.DataFrame) -> float:
    return float(((records["type"] == "theft") & (records["found_by"] != "patrol")).sum())


def first_call_count(summary: dict, records: pd.DataFrame) -> float:
    return float(len(first_calls(records)))


def all_calls(summary: dict, records: pd.DataFrame) -> float:
    return float(summary["calls"])


def min_between_passes(summary: dict, records: pd.DataFrame) -> float | None:
    return (summary.get("patrol") or {}).get("min_between_passes")


METRICS = {
    "response mean (min)": response_mean, "travel mean (min)": travel_mean,
    "within 10 min": within_10, "patrol share of time": patrol_share,
    "first calls, types not on view": first_call_count, "calls made by residents": resident_calls,
    "all calls (summary)": all_calls, "theft calls": theft_calls,
    "thefts found on view": found_on_view, "on-view share (theft)": on_view_share,
    "min between passes": min_between_passes,
}  # fmt: skip
DIGITS = {"within 10 min": 3, "patrol share of time": 3, "on-view share (theft)": 3,
          "first calls, types not on view": 1, "calls made by residents": 1,
          "all calls (summary)": 1, "theft calls": 1, "thefts found on view": 1,
          "min between passes": 0}  # fmt: skip


def by_community(results) -> pd.DataFrame:
    """Mean response per community, per arm and replication."""
    rows = []
    for arm, result in results.items():
        for rep, summary in enumerate(result.summaries):
            for community, figures in summary["by_community"].items():
                rows.append({"arm": arm, "replication": rep, "community": latin(community),
                             "response_min": figures["response_min"]["mean"]})  # fmt: skip
    return pd.DataFrame(rows)


def figures(summary: pd.DataFrame, communities: pd.DataFrame, args) -> None:
    panels = [("response mean (min)", "mean response (min)"),
              ("calls made by residents", "calls made by residents"),
              ("on-view share (theft)", "share of thefts found on view")]  # fmt: skip
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, (metric, label) in zip(axes, panels, strict=True):
        bars(ax, summary, metric, label)
    save(fig, summary, args.out, "kansas_city")
    table = communities.groupby(["community", "arm"], sort=False)["response_min"].mean()
    data = table.unstack("arm")[list(ARMS)].reset_index()
    fig, ax = plt.subplots(figsize=(8, 3.8))
    data.plot.bar(x="community", ax=ax, rot=15, ylabel="mean response (min)", xlabel="")
    save(fig, data, args.out, "response_by_community")
    fig, ax = plt.subplots(figsize=(6.5, 5))
    cover = coverage_map(ax, SCENARIO, ARMS["normal"], args.days)
    ax.set_title("normal patrol: passes per day (replication 0); ▲ station")
    save(fig, cover, args.out, "coverage_normal")


def main(argv: list[str] | None = None) -> None:
    args = parse(options(NAME, days=56, reps=10), argv, NAME)
    results = run_arms(SCENARIO, ARMS, args)
    table = per_replication(results, METRICS)
    summary = paired(table, BASE)
    same = same_first_calls(results)
    text = markdown(summary, BASE, DIGITS) + (
        f"\n\nFirst calls of the types not on view identical in every arm: {sum(same)} of "
        f"{len(same)} replications. ({args.reps} reps x {args.days:g} days, call type "
        f"{THEFT} on view)")  # fmt: skip
    write_tables(summary, table, args.out, text)
    figures(summary, by_community(results), args)


if __name__ == "__main__":
    main()

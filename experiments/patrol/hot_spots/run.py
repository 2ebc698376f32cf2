"""Hot spots: visits of 10-15 minutes to each community's busiest places, against staying.

`embedded`'s five office units either stay at their office between calls (control) or
spend half of their free time visiting the hot spots of their own community on e-bike (two
per community: the nodes with the most residents, so the most expected calls), dwelling
10-15 minutes at each (Koper 1995). Deterrence off, then on (Braga et al. 2019: a small
effect), then its residual period and effect size varied. No call type is on view here, so
calls at the spots change only through deterrence.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from patrol_common import (
    bars,
    markdown,
    options,
    paired,
    parse,
    patrol_share,
    per_replication,
    resident_calls,
    response_mean,
    run_arms,
    save,
    write_tables,
)

import sim

NAME, SCENARIO, BASE = "hot_spots", "embedded", "control"
PER_COMMUNITY = 2
#: ASSUMPTIONS (sim/scenarios/patrol.py, Deterrence): calls within 100 m of a unit that has
#: stayed at least 10 min are prevented with probability 0.1 (Braga et al. 2019: small
#: effect, range 0-0.25) while it stays and for 60 min after (Koper 1995, range 0-120).
DETERRENCE = {"enabled": True, "effect": 0.1, "residual_min": 60.0, "min_stay_min": 10.0,
              "radius_m": 100.0}  # fmt: skip
RESIDUALS = [0.0, 30.0, 60.0, 120.0]


def spots() -> list[int]:
    """Per community, the nodes (indices) with the most residents."""
    model = sim.PatrolModel(sim.load_scenario(SCENARIO))
    people = np.zeros(model.router.n_nodes)
    for resident in model.residents:
        people[resident.node] += resident.people
    community = model.world.community_of_node
    chosen = []
    for c in range(len(model.scenario.communities)):
        nodes = np.flatnonzero(community == c)
        chosen += nodes[np.argsort(-people[nodes], kind="stable")[:PER_COMMUNITY]].tolist()
    return chosen


def near_spots(chosen: list[int], radius_m: float) -> set[str]:
    """Ids of the nodes within ``radius_m`` of a spot (where deterrence acts)."""
    router = sim.PatrolModel(sim.load_scenario(SCENARIO)).router
    tree = cKDTree(np.c_[router.x, router.y])
    near = set()
    for spot in chosen:
        near |= set(tree.query_ball_point([router.x[spot], router.y[spot]], radius_m))
    return {str(router.node_ids[n]) for n in near}


def arms(chosen_ids: list) -> dict[str, dict]:
    patrol = {"policy": "hot_spots", "share": 0.5, "mode": "ebike", "beat": "community"}
    places = {"places": [{"node": n} for n in chosen_ids]}
    treated = {"units.*.patrol": patrol, "hot_spots": places}
    out = {BASE: {"units.*.patrol": {"policy": "stay"}}, "hot spots": treated}
    for residual in RESIDUALS:
        label = "deterrence" if residual == 60.0 else f"det. residual {residual:g}"
        out[label] = {**treated, "deterrence": {**DETERRENCE, "residual_min": residual}}
    out["det. effect 0.25"] = {**treated, "deterrence": {**DETERRENCE, "effect": 0.25}}
    return out


def metrics(at_spots: set[str]) -> dict:
    def first(records: pd.DataFrame) -> pd.DataFrame:
        mask = (records["found_by"] == "call") & records["repeat_of"].isna()
        return records[mask & records["problem"].isna()]

    def spot_calls(summary, records) -> float:
        return float(first(records)["node"].astype(str).isin(at_spots).sum())

    def other_calls(summary, records) -> float:
        return float((~first(records)["node"].astype(str).isin(at_spots)).sum())

    def spot_minutes(summary, records) -> float | None:
        minutes = (summary.get("patrol") or {}).get("hot_spot_min_per_day") or {}
        return float(np.mean(list(minutes.values()))) if minutes else None

    return {"first calls at treated spots": spot_calls, "first calls elsewhere": other_calls,
            "calls made by residents": resident_calls, "response mean (min)": response_mean,
            "patrol share of time": patrol_share,
            "min per day at each spot": spot_minutes}  # fmt: skip


DIGITS = {"first calls at treated spots": 1, "first calls elsewhere": 1,
          "calls made by residents": 1, "patrol share of time": 3,
          "min per day at each spot": 0}  # fmt: skip


def figures(summary: pd.DataFrame, args) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    bars(axes[0], summary, "first calls at treated spots", "first calls at the spots (per run)")
    rows = summary[summary["metric"] == "first calls at treated spots"].set_index("arm")
    residual = rows.loc[["hot spots", *[_label(r) for r in RESIDUALS]]]
    x = [None, *RESIDUALS]
    x[0] = -15.0  # deterrence off, drawn left of 0
    axes[1].errorbar(x, residual["diff"].astype(float), yerr=residual["diff_ci95"].astype(float),
                     marker="o", capsize=4)  # fmt: skip
    axes[1].axhline(0, color="grey", lw=0.5)
    axes[1].set(xlabel="residual period (min); leftmost: deterrence off",
                ylabel="hot spots - control (first calls at spots)")  # fmt: skip
    save(fig, residual.reset_index().assign(residual_min=x), args.out, "hot_spots")


def _label(residual: float) -> str:
    return "deterrence" if residual == 60.0 else f"det. residual {residual:g}"


def main(argv: list[str] | None = None) -> None:
    args = parse(options(NAME, days=56, reps=10), argv, NAME)
    chosen = spots()
    ids = [sim.PatrolModel(sim.load_scenario(SCENARIO)).router.node_ids[n] for n in chosen]
    at_spots = near_spots(chosen, DETERRENCE["radius_m"])
    results = run_arms(SCENARIO, arms(ids), args)
    table = per_replication(results, metrics(at_spots))
    summary = paired(table, BASE)
    text = markdown(summary, BASE, DIGITS) + (
        f"\n\nTreated spots (node ids): {ids}; {len(at_spots)} nodes within "
        f"{DETERRENCE['radius_m']:g} m of them. {args.reps} reps x {args.days:g} days."
    )
    write_tables(summary, table, args.out, text)
    figures(summary, args)


if __name__ == "__main__":
    main()

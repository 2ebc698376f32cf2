"""Where to put community offices: ``plan_offices`` (siting on a scenario's own streets).

The plan keeps the scenario's stations, replaces its offices by the chosen sites (each an
office of the community its node lies in), and shares the scenario's units out over them in
proportion to the demand nearest to each (at least one each). Dispatch, calls and outcomes
are the scenario's own (a policy that sends no office units, as ``station_only``, becomes
``nearest``: offices must be dispatched from).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.clock import MIN_PER_WEEK
from sim.planning.costs import (
    DEFAULT_DEMAND_POINTS,
    aggregate_demand,
    candidate_sites,
    demand_per_min,
    travel_min,
)
from sim.planning.plans import (
    Plan,
    load_base,
    portable_overlay,
    spread_units,
    stations,
    unit_template,
    world_of,
)
from sim.planning.siting import solve_siting
from sim.registry import DISPATCH_POLICIES
from sim.scenarios.schema import Scenario

WEEK_MIN = MIN_PER_WEEK
REPORTED_TARGETS_MIN = (3.0, 5.0)


def plan_offices(
    scenario: str | Path | Scenario,
    p: int | None = None,
    objective: str = "pmedian",
    within_min: float | None = None,
    candidates: int | Sequence | None = None,
    base_dir: Path | None = None,
    max_demand_points: int = DEFAULT_DEMAND_POINTS,
) -> Plan:
    """Site ``p`` offices (pmedian, mclp, pcenter) or the fewest covering all (lscp)."""
    base, base_path, base_dir = load_base(scenario, base_dir)
    world = world_of(base, base_dir)
    router = world.router
    demand = demand_per_min(base, world)
    sites = candidate_sites(router, candidates)
    points = aggregate_demand(router, demand, max_demand_points)
    rows = travel_min(router, sites)  # sites x all nodes
    chosen = sites[solve_siting(rows[:, points.nodes].T, points.weights, objective, p, within_min)]
    chosen_rows = rows[np.searchsorted(sites, chosen)]
    area, t_min = chosen_rows.argmin(axis=0), chosen_rows.min(axis=0)
    served = np.bincount(area, weights=demand, minlength=len(chosen))
    counts = spread_units(sum(g.count for g in base.units), served)
    overlay = _overlay(base, base_dir, world, chosen, counts)
    targets = sorted({*REPORTED_TARGETS_MIN, *([within_min] if within_min else [])})
    label = f"{objective}, {len(chosen)} offices" + (f", {within_min:g} min" if within_min else "")
    summary = {
        "objective": objective,
        "offices": len(chosen),
        "within_min": within_min,
        "candidates": len(sites),
        "demand_points": len(points.nodes),
        **_figures("plan", demand, t_min, targets),
        **_figures("current", demand, _current_times(base, world), targets),
    }
    return Plan(
        kind="offices",
        name=f"{base.name}_offices_{objective}_{len(chosen)}",
        description=f"{base.name}: offices placed by {label}",
        base=base,
        base_path=base_path,
        base_dir=base_dir,
        world=world,
        overlay=overlay,
        table=_table(base, world, chosen, counts, area, t_min, demand, targets),
        summary=summary,
        sites=chosen,
        area_of_node=area,
    )


def _overlay(base, base_dir, world, chosen, counts) -> dict:
    names = [c.name for c in base.communities]
    ids = world.router.node_ids
    offices = [
        {
            "name": f"Planned office {k + 1}",
            "kind": "office",
            "community": names[int(world.community_of_node[node])],
            "at": {"node": _plain(ids[node])},
        }
        for k, node in enumerate(chosen)
    ]
    template = unit_template(base)
    units = [
        {"post": office["name"], "count": int(n), **template}
        for office, n in zip(offices, counts, strict=True)
    ]
    overlay = {**portable_overlay(base, base_dir), "posts": stations(base) + offices}
    overlay["units"] = units
    policy = DISPATCH_POLICIES.entry(base.dispatch.policy)
    if not policy.trait("office_units", "Office planning"):
        overlay["dispatch"] = {"policy": "nearest"}
    return overlay


def _plain(node_id):
    """A node id as YAML writes it plainly (numpy ints become ints)."""
    return node_id.item() if isinstance(node_id, np.generic) else node_id


def _current_times(base: Scenario, world) -> np.ndarray:
    """Minutes from the nearest post that has units, for every node (the current plan)."""
    manned = {g.post for g in base.units}
    nodes = sorted({world.post_nodes[name] for name in manned})
    return np.min([world.router.times_from(n) for n in nodes], axis=0)


def _figures(prefix: str, demand: np.ndarray, t_min: np.ndarray, targets) -> dict:
    weights = demand / demand.sum()
    out = {
        f"{prefix}_mean_travel_min": float((weights * t_min).sum()),
        f"{prefix}_max_travel_min": float(t_min[demand > 0].max()),
    }
    for target in targets:
        out[f"{prefix}_within_{target:g}_min"] = float(weights[t_min <= target].sum())
    return out


def _table(base, world, chosen, counts, area, t_min, demand, targets) -> pd.DataFrame:
    names = [c.name for c in base.communities]
    router = world.router
    rows = []
    for k, node in enumerate(chosen):
        mine = area == k
        w = demand[mine]
        row = {
            "office": f"Planned office {k + 1}",
            "node": _plain(router.node_ids[node]),
            "x": round(float(router.x[node]), 1),
            "y": round(float(router.y[node]), 1),
            "community": names[int(world.community_of_node[node])],
            "units": int(counts[k]),
            "calls_per_week": float(w.sum() * WEEK_MIN),
            "mean_travel_min": float((w * t_min[mine]).sum() / w.sum()) if w.sum() else 0.0,
            "max_travel_min": float(t_min[mine & (demand > 0)].max(initial=0.0)),
        }
        for target in targets:
            inside = w[t_min[mine] <= target].sum()
            row[f"within_{target:g}_min"] = float(inside / w.sum()) if w.sum() else 1.0
        rows.append(row)
    return pd.DataFrame(rows)

"""Beats: contiguous areas of even expected workload, one office each.

Method (justified): the simulator gives every node to the community whose anchor reaches it
fastest, so the only beats a scenario can express are network Voronoi cells of anchor nodes.
Such cells are contiguous by construction (a node's fastest path from its anchor runs through
nodes of the same cell). So beats are drawn by choosing anchors: start from well-spread
anchors (seeded k-means), then a seeded local search moves one anchor at a time to a node of
its own or a neighbouring cell, keeping a move when it lowers the imbalance
max(workload) / mean(workload) - 1 (ties: the lower mean travel). A node's workload is its
call rate x (time on scene and follow-up + travel there and back from the beat's office).
spopt's regionalisation (SKATER, AZP, max-p) draws arbitrary node sets that a scenario could
not express, so it is not used here.

The plan replaces the communities by the beats (populations from the demand they hold, so the
call volume is kept; its spread over nodes within a beat becomes uniform), puts one office
per beat at its anchor and shares the scenario's units out by workload.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.clock import MIN_PER_WEEK
from sim.errors import SimInputError
from sim.network.places import generate_anchors
from sim.planning.costs import demand_per_min
from sim.planning.plans import (
    Plan,
    load_base,
    portable_overlay,
    spread_units,
    stations,
    unit_template,
    world_of,
)
from sim.planning.staffing import busy_min_per_call
from sim.scenarios.schema import Scenario

ROUNDS = 12
PROPOSALS = 8


def _cells(router, anchors, demand, scene_min):
    """(cell of every node, workload per cell, mean travel) for these anchors."""
    travel, which = router.nearest_anchor(list(anchors))
    load = demand * (scene_min + 2 * travel)
    work = np.bincount(which, weights=load, minlength=len(anchors))
    mean_travel = float((demand * travel).sum() / demand.sum())
    return which, work, mean_travel


def _score(work, mean_travel) -> tuple[float, float]:
    return (round(float(work.max() / work.mean() - 1), 6), mean_travel)


def balance(router, demand, n_beats, scene_min, seed=0) -> tuple[list[int], np.ndarray]:
    """Anchors whose network Voronoi cells have even workload, and the cell of every node."""
    if not 1 <= n_beats <= router.n_nodes:
        raise SimInputError(f"--beats {n_beats}: the network has {router.n_nodes} nodes")
    rng = np.random.default_rng(seed)
    anchors = list(generate_anchors(router, n_beats, seed=seed))
    which, work, travel = _cells(router, anchors, demand, scene_min)
    best = _score(work, travel)
    for _ in range(ROUNDS):
        improved = False
        for k in np.argsort(-work):  # heaviest beats first
            pool = np.flatnonzero(which == k)
            near = np.unique(which[router.forward[pool].indices]) if len(pool) else []
            pool = np.flatnonzero(np.isin(which, near))
            for node in rng.choice(pool, size=min(PROPOSALS, len(pool)), replace=False):
                if int(node) in anchors:
                    continue
                trial = anchors.copy()
                trial[k] = int(node)
                t_which, t_work, t_travel = _cells(router, trial, demand, scene_min)
                if _score(t_work, t_travel) < best:
                    anchors, which, work, best = trial, t_which, t_work, _score(t_work, t_travel)
                    improved = True
        if not improved:
            break
    return anchors, which


def plan_beats(
    scenario: str | Path | Scenario, beats: int, seed: int = 0, base_dir: Path | None = None
) -> Plan:
    """``beats`` contiguous beats with even workload, an office and units in each."""
    base, base_path, base_dir = load_base(scenario, base_dir)
    world = world_of(base, base_dir)
    router = world.router
    demand = demand_per_min(base, world)
    scene_min = busy_min_per_call(base, 0.0)
    before_which = world.community_of_node
    before = np.bincount(before_which, minlength=len(base.communities))
    anchors, which = balance(router, demand, beats, scene_min, seed)
    travel, _ = router.nearest_anchor(anchors)
    work = np.bincount(which, weights=demand * (scene_min + 2 * travel), minlength=beats)
    population = sum(c.population for c in base.communities)
    calls = np.bincount(which, weights=demand, minlength=beats)
    people = np.maximum(1, np.round(population * calls / calls.sum())).astype(int)
    counts = spread_units(sum(g.count for g in base.units), work)
    ids = router.node_ids
    names = [f"Beat {k + 1}" for k in range(beats)]
    communities = [
        {"name": n, "population": int(p), "at": {"node": _plain(ids[a])}}
        for n, p, a in zip(names, people, anchors, strict=True)
    ]
    offices = [{"name": f"{n} office", "kind": "office", "community": n} for n in names]
    template = unit_template(base)
    units = [
        {"post": o["name"], "count": int(c), **template}
        for o, c in zip(offices, counts, strict=True)
    ]
    overlay = {**portable_overlay(base, base_dir), "communities": communities}
    overlay.update(posts=stations(base) + offices, units=units)
    table = pd.DataFrame(
        {
            "beat": names,
            "node": [_plain(ids[a]) for a in anchors],
            "nodes": np.bincount(which, minlength=beats),
            "calls_per_week": calls * MIN_PER_WEEK,
            "workload_unit_hours_per_week": work * 7 * 24,
            "units": counts,
        }
    )
    summary = {
        "beats": beats,
        "imbalance": float(work.max() / work.mean() - 1),
        "current_communities": len(base.communities),
        "current_imbalance": _imbalance(before_which, demand, scene_min, world),
        "sizes_before": ", ".join(str(int(v)) for v in before),
    }
    return Plan(
        kind="beats",
        name=f"{base.name}_beats_{beats}",
        description=f"{base.name}: {beats} beats of even workload",
        base=base,
        base_path=base_path,
        base_dir=base_dir,
        world=world,
        overlay=overlay,
        table=table,
        summary=summary,
        sites=np.asarray(anchors, dtype=np.int64),
        area_of_node=which,
    )


def _imbalance(which, demand, scene_min, world) -> float:
    """The current communities' workload imbalance (travel from their anchors)."""
    travel, _ = world.router.nearest_anchor(list(dict.fromkeys(world.anchor_nodes)))
    k = int(which.max()) + 1
    work = np.bincount(which, weights=demand * (scene_min + 2 * travel), minlength=k)
    return float(work.max() / work.mean() - 1)


def _plain(node_id):
    return node_id.item() if isinstance(node_id, np.generic) else node_id

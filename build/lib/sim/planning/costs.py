"""Demand by node and travel-time cost matrices (minutes) from the exact router.

Demand is what the simulator draws calls from: residents are spread uniformly over their
community's nodes, so a node's expected call rate is its community's share of the population
divided by the community's node count. Costs are network travel times (free flow, minutes)
*from* a site *to* a demand node (the way a unit drives), one Dijkstra row per site: never an
all-pairs matrix, so a 10,000-node city with 200 candidate sites costs 200 rows.

Large networks are planned on aggregated demand: nodes are grouped around well-spread
representative nodes (k-means on coordinates, then each node to the representative that
reaches it fastest) and their demand summed there. Plans are always *evaluated* on every node.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.calls.stream import rate_per_min
from sim.errors import SimInputError
from sim.network.places import assign_communities, generate_anchors
from sim.network.routing import Router
from sim.network.world import World
from sim.scenarios.schema import Scenario

#: Up to this many nodes, every node is a candidate site and its own demand point.
ALL_NODES_UP_TO = 100
#: Otherwise: this many well-spread candidate sites and demand points. spopt's dense models
#: (a variable and a linking row per demand x site pair) take CBC ~2 s at 100 x 100, 25 s at
#: 100 x 270 and 86 s at 200 x 200 on the 270-node district here, so planning stays at about
#: 100 x 100 by default (ASSUMPTION: the aggregation error, a fraction of a minute of travel,
#: is small against the travel times that matter; every plan is evaluated on all nodes).
DEFAULT_CANDIDATES = 100
DEFAULT_DEMAND_POINTS = 100


def demand_per_min(scenario: Scenario, world: World) -> np.ndarray:
    """Expected base calls per minute at every node (repeats and latent problems excluded)."""
    population = sum(c.population for c in scenario.communities)
    total = rate_per_min(scenario.calls, population)
    demand = np.zeros(world.router.n_nodes)
    for c, community in enumerate(scenario.communities):
        nodes = world.community_nodes[c]
        if len(nodes) == 0:
            nodes = np.array([world.anchor_nodes[c]])
        demand[nodes] += total * community.population / population / len(nodes)
    return demand


def demand_from_records(records, router: Router) -> np.ndarray:
    """Calls per node counted in call records (a ``node`` column of graph node ids)."""
    counts = np.zeros(router.n_nodes)
    for node_id, n in records["node"].value_counts().items():
        if node_id in router.index:
            counts[router.index[node_id]] += n
    return counts


def travel_min(router: Router, sources: Sequence[int], targets: np.ndarray | None = None):
    """Minutes from each source (rows) to each target node index (columns; default all).

    One batched Dijkstra on the router's forward matrix (the same exact times as
    ``Router.times_from``, which keeps rows for posts only).
    """
    sources = np.asarray(sources, dtype=np.int64)
    if len(sources) == 0:
        return np.zeros((0, router.n_nodes if targets is None else len(targets)))
    rows = dijkstra(router.forward, indices=sources)
    rows = np.atleast_2d(rows)
    return rows if targets is None else rows[:, targets]


def candidate_sites(router: Router, candidates: int | Sequence | None = None) -> np.ndarray:
    """Node indices of candidate sites: all nodes (small networks), N spread ones, or a list.

    A list holds graph node ids; an unknown one is an error.
    """
    n = router.n_nodes
    if candidates is None:
        return np.arange(n) if n <= ALL_NODES_UP_TO else _spread(router, DEFAULT_CANDIDATES)
    if isinstance(candidates, int | np.integer):
        if not 1 <= candidates <= n:
            raise SimInputError(f"candidates: {candidates} sites asked on a {n}-node network")
        return np.arange(n) if candidates >= n else _spread(router, int(candidates))
    unknown = [c for c in candidates if c not in router.index]
    if unknown:
        raise SimInputError(f"candidate sites not in the network: {unknown[:5]}")
    return np.array(sorted({router.index[c] for c in candidates}), dtype=np.int64)


def _spread(router: Router, k: int) -> np.ndarray:
    return np.array(sorted(generate_anchors(router, k, seed=0)), dtype=np.int64)


@dataclass(frozen=True)
class Demand:
    """Demand points (node indices) and their weights; ``of_node`` maps nodes to points."""

    nodes: np.ndarray
    weights: np.ndarray
    of_node: np.ndarray  # for every network node, its demand point's position


def aggregate_demand(
    router: Router, weights: np.ndarray, max_points: int = DEFAULT_DEMAND_POINTS
) -> Demand:
    """Every node with demand as its own point, or grouped into ``max_points`` points."""
    n = router.n_nodes
    if n <= max_points:
        nodes = np.flatnonzero(weights > 0)
        of_node = np.full(n, -1)
        of_node[nodes] = np.arange(len(nodes))
        return Demand(nodes, weights[nodes], of_node)
    reps = np.asarray(generate_anchors(router, max_points, seed=0), dtype=np.int64)
    of_node = assign_communities(router, reps)
    summed = np.bincount(of_node, weights=weights, minlength=len(reps))
    keep = summed > 0
    remap = np.cumsum(keep) - 1
    return Demand(reps[keep], summed[keep], np.where(keep[of_node], remap[of_node], -1))

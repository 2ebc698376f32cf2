"""Beats: contiguous network Voronoi cells with evener workload than the communities."""

from __future__ import annotations

import networkx as nx
import numpy as np

from sim.planning import plan_beats, write_plan
from sim.scenarios.load import load_scenario


def test_beats_are_contiguous_even_and_written_as_a_scenario(tmp_path):
    plan = plan_beats("embedded", 5, seed=0)
    assert plan.summary["imbalance"] < plan.summary["current_imbalance"]
    assert plan.summary["imbalance"] < 0.10
    router = plan.world.router
    graph = nx.DiGraph()
    coo = router.forward.tocoo()
    graph.add_edges_from(zip(coo.row.tolist(), coo.col.tolist(), strict=True))
    for k in range(5):
        nodes = np.flatnonzero(plan.area_of_node == k).tolist()
        assert nodes and nx.is_weakly_connected(graph.subgraph(nodes)), f"beat {k + 1}"
    path, _, _ = write_plan(plan, tmp_path / "beats.yaml")
    planned = load_scenario(path)
    assert [c.name for c in planned.communities] == [f"Beat {k}" for k in range(1, 6)]
    total = sum(c.population for c in planned.communities)
    assert abs(total - 60000) <= 5  # the district's residents, kept
    assert sum(g.count for g in planned.units) == 5

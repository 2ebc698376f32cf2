"""The compiled covering steps give their references' numbers and optimum, to the last bit.

``network_simplex`` against ``networkx.network_simplex`` (the same flow on every edge, ties
included: small integer costs make many optima of equal cost), ``times_among`` against
scipy's Dijkstra (equal floats, inf where a target cannot be reached).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from sim.patrol.covering_kernel import network_simplex, times_among


def _random_flow_problem(rng: np.random.Generator) -> nx.MultiDiGraph:
    """A connected multigraph with demands, parallel edges, loops, capacities 0 to inf.

    Negative costs only where capacities are finite, as the covering flow's turns.
    """
    n = int(rng.integers(2, 25))
    graph = nx.MultiDiGraph()
    demands = rng.integers(-4, 5, n)
    demands[-1] -= demands.sum()
    for node in rng.permutation(n).tolist():  # nodes in an order of their own
        graph.add_node(node, demand=int(demands[node]))
    for node in range(n):  # a ring both ways, uncapacitated: always feasible
        graph.add_edge(node, (node + 1) % n, weight=int(rng.integers(0, 4)))
        graph.add_edge((node + 1) % n, node, weight=int(rng.integers(0, 4)))
    for _ in range(int(rng.integers(0, 4 * n))):
        a, b = rng.integers(0, n, 2).tolist()
        capacity = [0, 1, 2, 5, None][int(rng.integers(0, 5))]
        data = {"weight": int(rng.integers(0, 6))}  # no negative cycle of infinite capacity
        if capacity is not None:  # (networkx's simplex does not end on one)
            data |= {"capacity": capacity, "weight": int(rng.integers(-2, 6))}
        graph.add_edge(a, b, key=str(rng.integers(0, 3)), **data)
    return graph


def _kernel_flows(graph: nx.MultiDiGraph) -> dict | None:
    """The kernel's flow on every edge networkx solves (not loops nor capacity 0)."""
    index = {node: i for i, node in enumerate(graph)}
    edges = [(a, b, k, d) for a, b, k, d in graph.edges(keys=True, data=True)
             if a != b and d.get("capacity", np.inf) != 0]  # fmt: skip
    flow = network_simplex(
        np.array([graph.nodes[node]["demand"] for node in graph], dtype=np.int64),
        np.array([index[a] for a, *_ in edges], dtype=np.int64),
        np.array([index[b] for _, b, *_ in edges], dtype=np.int64),
        np.array([d.get("capacity", np.inf) for *_, d in edges], dtype=float),
        np.array([d["weight"] for *_, d in edges], dtype=float),
    )  # fmt: skip
    if flow is None:
        return None
    return {(a, b, k): int(x) for (a, b, k, _), x in zip(edges, flow, strict=True)}


@pytest.mark.parametrize("seed", range(300))
def test_the_compiled_simplex_finds_networkxs_optimum_edge_for_edge(seed):
    graph = _random_flow_problem(np.random.default_rng(seed))
    _, reference = nx.network_simplex(graph)
    flows = _kernel_flows(graph)
    assert flows is not None
    assert flows == {edge: reference[edge[0]][edge[1]][edge[2]] for edge in flows}


def test_the_compiled_simplex_says_when_no_flow_meets_the_demands():
    graph = nx.MultiDiGraph()
    graph.add_node(0, demand=-2)
    graph.add_node(1, demand=2)
    graph.add_edge(0, 1, weight=1, capacity=1)
    with pytest.raises(nx.NetworkXUnfeasible):
        nx.network_simplex(graph)
    assert _kernel_flows(graph) is None


@pytest.mark.parametrize("seed", range(20))
def test_searches_stopped_at_their_targets_give_scipys_times(seed):
    rng = np.random.default_rng(seed)
    n = 300
    tails, heads = rng.integers(0, n, 900), rng.integers(0, n, 900)
    minutes = rng.choice([0.5, 1.0, 0.1 + rng.random()], 900)  # ties and sums in any order
    keep = tails != heads
    graph = sp.csr_matrix((minutes[keep], (tails[keep], heads[keep])), shape=(n, n))
    sources = rng.choice(n, 15, replace=False)
    targets = rng.choice(n, 25, replace=False)
    full = dijkstra(graph, indices=sources)[:, targets]
    got = times_among(graph.indptr, graph.indices, graph.data, sources.astype(np.int64),
                      targets.astype(np.int64))  # fmt: skip
    assert np.isinf(full).any()  # some targets cannot be reached
    np.testing.assert_array_equal(got, full)

"""The compiled searches (``sim.network.search``) against scipy's, the reference."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.network.routing import Router


def random_graph(seed: int, n: int = 60, p: float = 0.06) -> nx.MultiDiGraph:
    """A random directed street graph with continuous edge times (seconds), maybe disconnected.

    Nodes have coordinates, so the searches are guided by their straight-line bound (A*).
    """
    rng = np.random.default_rng(seed)
    g = nx.MultiDiGraph()
    xy = rng.uniform(0, 1000, (n, 2))
    g.add_nodes_from((i, {"x": float(x), "y": float(y)}) for i, (x, y) in enumerate(xy))
    for u in range(n):
        for v in range(n):
            if u != v and rng.random() < p:
                g.add_edge(u, v, travel_time=float(rng.uniform(5, 120)))
    return g


def both(graph: nx.MultiDiGraph) -> tuple[Router, Router]:
    return Router(graph, kernel="numba"), Router(graph, kernel="scipy")


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_time_and_path_equal_scipy(seed):
    fast, ref = both(random_graph(seed))
    rng = np.random.default_rng(seed)
    for _ in range(30):
        s, t = (int(x) for x in rng.integers(0, fast.n_nodes, 2))
        expected = ref.time(s, t)
        assert fast.time(s, t) == expected  # to the last bit
        if math.isfinite(expected) and s != t:
            path = fast.path(s, t)
            assert path[0] == s and path[-1] == t
            assert fast.route(s, t, 0.0).cum_min[-1] == expected
            np.testing.assert_array_equal(fast.route(s, t, 0.0).cum_min,
                                          ref.cumulative_min(path))  # fmt: skip
            entries = fast.edge_entries(path)
            np.testing.assert_array_equal(entries, ref.edge_entries(path))
            assert fast.forward.indices[entries].tolist() == path[1:].tolist()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 6))
def test_nearest_equals_brute_force(seed, k):
    fast, ref = both(random_graph(seed))
    rng = np.random.default_rng(seed + 1)
    posts = [int(x) for x in rng.integers(0, fast.n_nodes, 2)]
    fast.precompute(posts)
    ref.precompute(posts)
    for _ in range(20):
        sources = [int(x) for x in rng.integers(0, fast.n_nodes, k)]
        if rng.random() < 0.5:
            sources[0] = posts[0]  # a source whose row is known bounds the search
        offsets = rng.uniform(0, 5, k).tolist()
        target = int(rng.integers(0, fast.n_nodes))
        brute = [ref.time(s, target) + o for s, o in zip(sources, offsets, strict=True)]
        best = min(brute)
        k_fast, minutes = fast.nearest(sources, target, offsets)
        assert (k_fast, minutes) == ref.nearest(sources, target, offsets)
        if math.isinf(best):
            assert k_fast == -1
        else:
            assert minutes == pytest.approx(best, rel=1e-12)
            assert brute[k_fast] == pytest.approx(best, rel=1e-12)  # a fastest source


def test_minutes_to_scales_and_stops_early():
    """Every source that can arrive first gets its exact time; the others may get inf."""
    fast, ref = both(random_graph(7, n=80))
    target = 3
    sources = list(range(10, 40))
    scales = np.linspace(0.5, 2.0, len(sources))
    offsets = np.linspace(0.0, 3.0, len(sources))
    got = fast.minutes_to(target, sources, scales, offsets)
    exact = ref.minutes_to(target, sources, scales, offsets)
    arrive = exact * scales + offsets
    best = arrive.min()
    winners = np.flatnonzero(arrive == best)
    np.testing.assert_array_equal(got[winners], exact[winners])
    known = np.isfinite(got)
    np.testing.assert_array_equal(got[known], exact[known])
    assert known.sum() < len(sources)  # it stopped early: some times were not needed
    assert (arrive[~known] >= best).all()


def test_grid_ties_keep_times():
    """On a grid of equal edges many paths tie: the path may differ from scipy's, not its time."""
    grid = nx.MultiDiGraph(nx.grid_2d_graph(8, 8).to_directed())
    grid = nx.convert_node_labels_to_integers(grid, label_attribute="ij")
    nx.set_edge_attributes(grid, 60.0, "travel_time")
    for _, data in grid.nodes(data=True):
        data["x"], data["y"] = 100.0 * data["ij"][0], 100.0 * data["ij"][1]
    fast, ref = both(grid)
    assert fast.landmarks[0].max() > 0  # guided
    for s, t in [(0, 63), (5, 40), (17, 17), (63, 0)]:
        assert fast.time(s, t) == ref.time(s, t)
        assert len(fast.path(s, t)) == len(ref.path(s, t))
    with pytest.raises(ValueError, match="kernel"):
        Router(grid, kernel="fortran")

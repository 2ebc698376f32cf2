"""Router against networkx: exact travel times, nearest sources, paths and routes."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from sim.network.routing import Route, Router
from sim.network.sources import WUHAN_OSM, OsmNetworkSpec, SyntheticNetworkSpec, load_network

WUHAN = WUHAN_OSM


@pytest.fixture(scope="module")
def synthetic():
    return load_network(SyntheticNetworkSpec(width_km=4, height_km=3, seed=3)).graph


@pytest.fixture(scope="module")
def wuhan():
    return load_network(OsmNetworkSpec(kind="osm", path=WUHAN)).graph


def nx_minutes_from(graph: nx.MultiDiGraph, node) -> dict:
    return {
        v: t / 60
        for v, t in nx.single_source_dijkstra_path_length(graph, node, weight="travel_time").items()
    }


def check_against_networkx(graph: nx.MultiDiGraph, pairs: int = 60, seed: int = 0) -> None:
    router = Router(graph)
    rng = np.random.default_rng(seed)
    ids = router.node_ids
    for s in rng.choice(len(ids), size=6, replace=False):
        truth = nx_minutes_from(graph, ids[s])
        for t in rng.choice(len(ids), size=pairs // 6, replace=False):
            expected = truth.get(ids[t], np.inf)
            assert router.time(int(s), int(t)) == pytest.approx(expected, rel=1e-9, abs=1e-9)
            assert router.times_to(int(t))[s] == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_router_equals_networkx_on_synthetic(synthetic):
    check_against_networkx(synthetic)


@pytest.mark.slow
def test_router_equals_networkx_on_wuhan(wuhan):
    check_against_networkx(wuhan)


@pytest.mark.parametrize("which", ["synthetic", "wuhan"])
def test_nearest_equals_brute_force(which, request):
    graph = request.getfixturevalue(which)
    router = Router(graph)
    rng = np.random.default_rng(1)
    reverse = graph.reverse(copy=False)
    for _ in range(15):
        sources = [int(s) for s in rng.choice(router.n_nodes, size=8, replace=False)]
        target = int(rng.integers(router.n_nodes))
        offsets = rng.uniform(0, 3, size=len(sources)).tolist()
        to_target = nx_minutes_from(reverse, router.node_ids[target])
        brute = [
            to_target.get(router.node_ids[s], np.inf) + o
            for s, o in zip(sources, offsets, strict=True)
        ]
        k, minutes = router.nearest(sources, target, offsets)
        assert minutes == pytest.approx(min(brute), rel=1e-9)
        assert brute[k] == pytest.approx(min(brute), rel=1e-9)


def test_precomputed_rows_equal_uncached(synthetic):
    cold, warm = Router(synthetic), Router(synthetic)
    rng = np.random.default_rng(2)
    posts = [int(p) for p in rng.choice(cold.n_nodes, size=5, replace=False)]
    warm.precompute(posts)
    for target in rng.choice(cold.n_nodes, size=20, replace=False):
        target = int(target)
        assert warm.nearest(posts, target) == pytest.approx(cold.nearest(posts, target))
        for p in posts:
            assert warm.time(p, target) == pytest.approx(cold.time(p, target))
            assert warm.time(target, p) == pytest.approx(cold.time(target, p))
            for a, b in ((p, target), (target, p)):
                assert path_minutes(warm, warm.path(a, b)) == pytest.approx(cold.time(a, b))


def path_minutes(router: Router, nodes: np.ndarray) -> float:
    if len(nodes) < 2:
        return 0.0
    return float(np.asarray(router.forward[nodes[:-1], nodes[1:]]).sum())


def test_path_is_valid_and_as_long_as_the_time(synthetic):
    router = Router(synthetic)
    rng = np.random.default_rng(4)
    router.precompute([0])
    for _ in range(20):
        s, t = (int(v) for v in rng.choice(router.n_nodes, size=2, replace=False))
        for a, b in ((s, t), (0, t), (s, 0)):
            nodes = router.path(a, b)
            assert nodes[0] == a and nodes[-1] == b
            for u, v in itertools.pairwise(nodes):
                assert synthetic.has_edge(router.node_ids[u], router.node_ids[v])
            assert path_minutes(router, nodes) == pytest.approx(router.time(a, b), rel=1e-9)


def hand_graph() -> nx.MultiDiGraph:
    """0 -> 1 by a slow (10 min) and a fast (2 min) parallel edge; 1 -> 2 one-way (3 min);
    2 -> 0 (4 min); 3 <-> 4 unreachable from the rest."""
    g = nx.MultiDiGraph(crs="EPSG:32650")
    for i, (x, y) in enumerate([(0, 0), (100, 0), (100, 100), (500, 500), (600, 500)]):
        g.add_node(i * 10, x=float(x), y=float(y))
    g.add_edge(0, 10, travel_time=600.0)
    g.add_edge(0, 10, travel_time=120.0)
    g.add_edge(10, 20, travel_time=180.0)
    g.add_edge(20, 0, travel_time=240.0)
    g.add_edge(30, 40, travel_time=60.0)
    g.add_edge(40, 30, travel_time=60.0)
    return g


def test_hand_built_graph_parallel_oneway_unreachable():
    router = Router(hand_graph())
    i = router.index
    assert router.time(i[0], i[10]) == pytest.approx(2.0)  # fastest parallel edge, not 12
    assert router.time(i[0], i[20]) == pytest.approx(5.0)
    assert router.time(i[20], i[10]) == pytest.approx(6.0)  # one-way: around via 0
    assert router.time(i[10], i[0]) == pytest.approx(7.0)
    assert router.time(i[0], i[30]) == np.inf
    assert router.nearest([i[30], i[40]], i[0]) == (-1, np.inf)
    assert router.nearest([i[30], i[20]], i[10]) == (1, pytest.approx(6.0))
    with pytest.raises(ValueError):
        router.path(i[0], i[30])
    route = router.route(i[20], i[10], t_depart_min=1.0)
    assert [router.node_ids[n] for n in route.nodes] == [20, 0, 10]
    assert route.t_arrive_min == pytest.approx(7.0)


@pytest.mark.parametrize("kernel", ["numba", "scipy"])
@pytest.mark.parametrize("posts", [False, True])
def test_nearest_of_one_source_at_the_target_is_its_offset(kernel, posts):
    """The one-source shortcut (source == target) answers what the general loop answers."""
    router = Router(hand_graph(), kernel=kernel)
    if posts:
        router.precompute([router.index[0], router.index[30]])
    for s in range(router.n_nodes):
        for offset in (0.0, 1.5, np.inf):
            shortcut = router.nearest([s], s, [offset])
            general = router.nearest([s, s], s, [offset, offset])  # two sources: the loop
            assert shortcut == general == ((0, offset) if offset < np.inf else (-1, np.inf))
        assert router.nearest([s], s) == (0, 0.0)


def test_nearest_anchor_on_hand_graph():
    router = Router(hand_graph())
    i = router.index
    dist, which = router.nearest_anchor([i[10], i[30]])
    assert list(which) == [0, 0, 0, 1, 1]
    assert dist[i[0]] == pytest.approx(7.0)


def test_route_xy_at_interpolates_on_a_line():
    x = np.array([0.0, 100.0, 300.0])
    y = np.zeros(3)
    route = Route(nodes=np.array([0, 1, 2]), cum_min=np.array([0.0, 1.0, 3.0]), t_depart_min=10.0)
    assert route.xy_at(9.0, x, y) == (0.0, 0.0)
    assert route.xy_at(10.5, x, y) == pytest.approx((50.0, 0.0))
    assert route.xy_at(11.0, x, y) == pytest.approx((100.0, 0.0))
    assert route.xy_at(12.0, x, y) == pytest.approx((200.0, 0.0))
    assert route.xy_at(20.0, x, y) == (300.0, 0.0)
    assert route.next_node_at(10.5) == (1, pytest.approx(0.5))
    single = Route(nodes=np.array([2]), cum_min=np.array([0.0]), t_depart_min=0.0)
    assert single.xy_at(5.0, x, y) == (300.0, 0.0)

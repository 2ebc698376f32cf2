"""Streets cut by an extract's edge (sim.network.boundary), snapping onto street segments
(sim.calls.snap) and balanced communities (sim.network.balanced)."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import osmnx as ox
import pytest

from sim.calls.snap import Snapper
from sim.network.balanced import balanced_communities, bisect
from sim.network.boundary import DETOUR, LINK_KPH, join_pieces
from sim.network.routing import Router
from sim.network.sources import GraphmlNetworkSpec, load_network


def cut_district() -> nx.MultiDiGraph:
    """A two-way square 0-1-2-3 (100 m sides); a one-way street leaving it (1 -> 4, 4 at
    the edge of the box) and one coming in (5 -> 2); an unconnected two-way pair 6-7."""
    g = nx.MultiDiGraph(crs="EPSG:32650")
    xy = {0: (0, 0), 1: (100, 0), 2: (100, 100), 3: (0, 100), 4: (300, 0), 5: (300, 100),
          6: (0, 400), 7: (100, 400)}  # fmt: skip
    for n, (x, y) in xy.items():
        g.add_node(n, x=float(x), y=float(y))

    def street(u, v, both=True):
        length = math.dist(xy[u], xy[v])
        for a, b in ((u, v), (v, u)) if both else ((u, v),):
            g.add_edge(a, b, length=length, speed_kph=36.0, travel_time=length / 10.0,
                       highway="residential")  # fmt: skip

    for u, v in ((0, 1), (1, 2), (2, 3), (3, 0)):
        street(u, v)
    street(1, 4, both=False)
    street(5, 2, both=False)
    street(6, 7)
    return g


def links_of(g: nx.MultiDiGraph) -> dict:
    return {(u, v): d["length"] for u, v, d in g.edges(data=True) if d.get("boundary_link")}


def test_cut_streets_are_joined_to_the_nearest_node_that_stays():
    g = cut_district()
    joined = join_pieces(g)
    assert nx.is_strongly_connected(g) and g.number_of_nodes() == 8
    # 4 (a dead end) -> nearest of the square: 1 (200 m); the square -> 5: from 2 (200 m);
    # the pair 6-7 both ways, from its node nearest the square (6 and 3: 300 m)
    assert links_of(g) == pytest.approx({(4, 1): 200 * DETOUR, (2, 5): 200 * DETOUR,
                                         (6, 3): 300 * DETOUR, (3, 6): 300 * DETOUR})  # fmt: skip
    assert joined.links == 4 and joined.nodes_joined == 4
    assert joined.link_km == pytest.approx((200 + 200 + 300 + 300) * DETOUR / 1000)
    data = g.get_edge_data(4, 1)[0]
    assert data["travel_time"] == pytest.approx(200 * DETOUR / (LINK_KPH / 3.6))


def test_routes_use_links_only_where_the_streets_are_cut():
    g = cut_district()
    join_pieces(g)
    router = Router(g)
    times = router.times_from(router.index[0])
    # 0 -> 2 on the square (200 m at 10 m/s), 0 -> 4 along the one-way street
    assert times[router.index[2]] == pytest.approx(20 / 60)
    assert times[router.index[4]] == pytest.approx(30 / 60)
    # 4 back to 0: the link to 1, then 1 -> 0
    back = router.times_from(router.index[4])[router.index[0]]
    assert back == pytest.approx(200 * DETOUR / (LINK_KPH / 3.6) / 60 + 10 / 60)


def test_a_map_network_keeps_every_node_unless_told_to_cut(tmp_path):
    g = cut_district()
    ox.save_graphml(g, tmp_path / "d.graphml")
    joined = load_network(GraphmlNetworkSpec(kind="graphml", path=tmp_path / "d.graphml"))
    assert joined.nodes == joined.nodes_loaded == 8 and joined.boundary_links == 4
    assert joined.km_of_road == pytest.approx(g.size(weight="length") / 1000)
    cut = load_network(
        GraphmlNetworkSpec(kind="graphml", path=tmp_path / "d.graphml", edge_streets="cut")
    )
    assert cut.nodes == 4 and cut.boundary_links == 0 and cut.kept_share == 0.5


class _Net:
    def __init__(self, graph):
        self.graph, self.georeferenced, self.kind = graph, True, "graphml"


def test_calls_snap_onto_the_nearest_street_segment_never_a_link():
    g = cut_district()
    join_pieces(g)
    router = Router(g)
    snap = Snapper(_Net(g), router, 50.0)
    # 10 m off the middle of the one-way street 1 -> 4 (200 m long): 10 m, its nearer end
    node, dist = snap.nearest(np.array([180.0, 260.0]), np.array([10.0, -10.0]))
    assert dist == pytest.approx([10.0, 10.0])
    assert [router.node_ids[i] for i in node] == [1, 4]
    # 5 m from the link 3 <-> 6 (x = 0, y 100..400), 150 m from the streets 3-2 and 6-7
    node, dist = snap.nearest(np.array([5.0]), np.array([250.0]))
    assert dist[0] == pytest.approx(150.0) and router.node_ids[node[0]] in (3, 6)


def grid(size: int) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph(crs="EPSG:32650")
    for i in range(size):
        for j in range(size):
            g.add_node(i * size + j, x=100.0 * j, y=100.0 * i)
    for i in range(size):
        for j in range(size):
            here = i * size + j
            for there in ([here + 1] if j + 1 < size else []) + (
                [here + size] if i + 1 < size else []
            ):
                g.add_edge(here, there, travel_time=10.0, length=100.0)
                g.add_edge(there, here, travel_time=10.0, length=100.0)
    return g


@pytest.mark.parametrize(("size", "k"), [(6, 4), (7, 3), (10, 6), (5, 5)])
def test_communities_are_balanced_and_connected(size, k):
    g = grid(size)
    router = Router(g)
    anchors, which = balanced_communities(router, k)
    sizes = np.bincount(which, minlength=k)
    assert sizes.sum() == size * size and sizes.max() - sizes.min() <= 1
    for c in range(k):
        members = [router.node_ids[i] for i in np.flatnonzero(which == c)]
        assert nx.is_weakly_connected(g.subgraph(members))
        assert which[anchors[c]] == c


def test_bisection_parts_differ_by_one_node_at_most():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1000, (101, 2))
    for k in range(1, 12):
        parts = bisect(xy, np.arange(101), k)
        sizes = [len(p) for p in parts]
        assert len(parts) == k and sum(sizes) == 101 and max(sizes) - min(sizes) <= 1
        assert sorted(np.concatenate(parts).tolist()) == list(range(101))


@pytest.mark.slow
def test_wuhan_every_drivable_node_routable_and_no_call_on_a_street_rejected():
    from pyproj import Transformer

    from sim.network.sources import WUHAN_OSM, OsmNetworkSpec, _filter_drivable, _read_osm_xml

    net = load_network(OsmNetworkSpec(kind="osm", path=WUHAN_OSM))
    assert net.nodes / net.nodes_loaded >= 0.99 and nx.is_strongly_connected(net.graph)
    raw = _filter_drivable(_read_osm_xml(WUHAN_OSM), WUHAN_OSM)  # every node of a road
    lon = np.array([d["x"] for _, d in raw.nodes(data=True)])
    lat = np.array([d["y"] for _, d in raw.nodes(data=True)])
    x, y = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True).transform(lon, lat)
    _, dist = Snapper(net, Router(net.graph), 300.0).nearest(np.asarray(x), np.asarray(y))
    assert len(dist) > 1000 and dist.max() < 1.0  # on its street: nothing rejected

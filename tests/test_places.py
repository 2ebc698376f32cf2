"""Snapping points to nodes, communities and their generated anchors."""

from __future__ import annotations

import networkx as nx
import numpy as np
import osmnx as ox
import pytest
from shapely.geometry import Point

from sim.errors import SimInputError
from sim.network.places import assign_communities, generate_anchors, snap_point, snap_points
from sim.network.routing import Router
from sim.network.sources import (
    WUHAN_OSM,
    OsmNetworkSpec,
    PointNetworkSpec,
    SyntheticNetworkSpec,
    load_network,
)

WUHAN = WUHAN_OSM


@pytest.fixture(scope="module")
def district():
    return load_network(SyntheticNetworkSpec(seed=2))


@pytest.fixture(scope="module")
def wuhan():
    return load_network(OsmNetworkSpec(kind="osm", path=WUHAN))


def brute_nearest_node(network, x: float, y: float):
    return min(
        network.graph.nodes(data=True), key=lambda nd: np.hypot(nd[1]["x"] - x, nd[1]["y"] - y)
    )[0]


def test_snap_xy_node_and_point_network(district):
    for x, y in [(0, 0), (1234.5, 987.6), (2900, 2400)]:
        assert snap_point(district, {"x": x, "y": y}) == brute_nearest_node(district, x, y)
    node = next(iter(district.graph.nodes))
    assert snap_point(district, {"node": node}) == node
    assert snap_point(district, {"node": str(node)}) == node
    point = load_network(PointNetworkSpec(kind="point"))
    assert snap_point(point, {"x": 10, "y": -20}) == 0


def test_snap_points_batch_equals_single(district):
    ats = [{"x": 100.0 * i, "y": 80.0 * i} for i in range(10)]
    assert snap_points(district, ats) == [snap_point(district, a) for a in ats]


@pytest.mark.slow
def test_snap_lat_lon_on_osm(wuhan):
    node = snap_point(wuhan, {"lat": 30.485, "lon": 114.52}, what="post 'Maodian'")
    data = wuhan.graph.nodes[node]
    point, _ = ox.projection.project_geometry(
        Point(data["x"], data["y"]), crs=wuhan.graph.graph["crs"], to_latlong=True
    )
    assert (point.y, point.x) == pytest.approx((30.485, 114.52), abs=0.004)


def test_snap_errors_name_the_point(district, wuhan):
    with pytest.raises(SimInputError, match=r"post 'Far'.* 10000 m from the nearest node"):
        snap_point(district, {"x": -10_000, "y": 1000}, what="post 'Far'")
    with pytest.raises(SimInputError, match=r"community 'A'.*lat/lon.*synthetic"):
        snap_point(district, {"lat": 30.5, "lon": 114.5}, what="community 'A'")
    with pytest.raises(SimInputError, match=r"post 'X': node -5 is not in the network"):
        snap_point(district, {"node": -5}, what="post 'X'")
    with pytest.raises(SimInputError, match=r"post 'Y'.*exactly"):
        snap_point(district, {"x": 1}, what="post 'Y'")
    with pytest.raises(SimInputError, match=r"post 'Z'.*from the nearest node"):
        snap_point(wuhan, {"lat": 30.60, "lon": 114.52}, what="post 'Z'")


def test_generated_anchors_are_spread_seeded_and_unique(district):
    router = Router(district.graph)
    anchors = generate_anchors(router, 6, seed=1)
    assert anchors == generate_anchors(router, 6, seed=1)
    assert len(set(anchors)) == 6
    xy = np.column_stack([router.x[anchors], router.y[anchors]])
    gaps = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    assert gaps[~np.eye(6, dtype=bool)].min() > 500  # a 3 x 2.5 km district in 6 parts
    with pytest.raises(SimInputError, match="cannot make 300 communities"):
        generate_anchors(router, 300)


def test_communities_cover_every_node_by_network_time(district):
    router = Router(district.graph)
    anchors = generate_anchors(router, 5, seed=0)
    which = assign_communities(router, anchors)
    assert which.shape == (router.n_nodes,) and set(which) == set(range(5))
    assert [which[a] for a in anchors] == list(range(5))
    times = np.array([router.times_from(a) for a in anchors])
    best = times.min(axis=0)
    assert np.allclose(times[which, np.arange(router.n_nodes)], best)
    ids = router.node_ids
    brute = nx.multi_source_dijkstra_path_length(
        district.graph, [ids[a] for a in anchors], weight="travel_time"
    )
    assert np.allclose([brute[ids[i]] / 60 for i in range(router.n_nodes)], best)


def test_unreachable_nodes_join_the_nearest_anchor_in_a_straight_line():
    g = nx.MultiDiGraph(crs="EPSG:32650")
    for i, x in enumerate([0, 100, 200, 1000, 1100]):
        g.add_node(i, x=float(x), y=0.0)
    for u, v, t_s in [(0, 1, 10), (1, 0, 10), (1, 2, 20), (2, 1, 20), (3, 4, 10)]:
        g.add_edge(u, v, travel_time=float(t_s))
    router = Router(g)
    which = assign_communities(router, [0, 2])
    assert list(which) == [0, 0, 1, 1, 1]  # 3 and 4 cannot be reached: straight line
    assert list(assign_communities(router, [2, 2, 0])) == [2, 2, 0, 0, 0]  # duplicate: first

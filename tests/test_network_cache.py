"""The file cache of loaded map networks, and snapping without osmnx (what it replaced)."""

from __future__ import annotations

import pickle
import shutil
import time

import numpy as np
import osmnx as ox
import pytest
from shapely.geometry import Point

import sim.network.cache as cache_module
import sim.network.sources as sources
from sim.errors import SimInputError
from sim.network.cache import CACHE_ENV, cache_folder
from sim.network.places import from_degrees, nearest_nodes, snap_point
from sim.network.sources import WUHAN_OSM, GraphmlNetworkSpec, OsmNetworkSpec, load_network


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


@pytest.fixture
def extract(tmp_path):
    path = tmp_path / "map" / WUHAN_OSM.name
    path.parent.mkdir()
    shutil.copyfile(WUHAN_OSM, path)
    return path


def same_graph(a, b) -> bool:
    return (
        a.graph == b.graph
        and list(a.nodes(data=True)) == list(b.nodes(data=True))
        and list(a.edges(keys=True, data=True)) == list(b.edges(keys=True, data=True))
    )


def no_parsing(monkeypatch):
    def fail(path):
        raise AssertionError(f"parsed {path} again")

    monkeypatch.setattr(sources, "_read_osm_xml", fail)


def test_a_second_load_reads_the_cache_and_gives_the_same_network(cache, extract, monkeypatch):
    spec = OsmNetworkSpec(kind="osm", path=extract)
    parsed = load_network(spec)
    assert len(list(cache.glob("*.pickle"))) == 1
    no_parsing(monkeypatch)
    cached = load_network(spec)
    assert same_graph(cached.graph, parsed.graph)
    assert {k: v for k, v in vars(cached).items() if k != "graph"} == {
        k: v for k, v in vars(parsed).items() if k != "graph"
    }


def test_another_file_or_spec_is_another_entry(cache, extract, monkeypatch):
    load_network(OsmNetworkSpec(kind="osm", path=extract))
    cut = load_network(OsmNetworkSpec(kind="osm", path=extract, edge_streets="cut"))
    assert cut.boundary_links == 0 and len(list(cache.glob("*.pickle"))) == 2
    extract.write_bytes(extract.read_bytes() + b"\n")  # same map, other bytes: parsed again
    calls = []
    real = sources._read_osm_xml
    monkeypatch.setattr(sources, "_read_osm_xml", lambda p: calls.append(p) or real(p))
    load_network(OsmNetworkSpec(kind="osm", path=extract))
    assert calls == [extract] and len(list(cache.glob("*.pickle"))) == 3


def test_a_corrupt_entry_is_rebuilt(cache, extract):
    spec = OsmNetworkSpec(kind="osm", path=extract)
    first = load_network(spec)
    (entry,) = cache.glob("*.pickle")
    entry.write_bytes(b"not a pickle")
    assert load_network(spec).digest == first.digest
    assert pickle.loads(entry.read_bytes()).digest == first.digest


def test_an_unwritable_cache_or_off_changes_nothing(tmp_path, extract, monkeypatch):
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "networks"))
    digest = load_network(OsmNetworkSpec(kind="osm", path=extract)).digest
    monkeypatch.setenv(CACHE_ENV, "off")
    assert cache_folder() is None
    assert load_network(OsmNetworkSpec(kind="osm", path=extract)).digest == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocked", "map"]


def test_the_folder_keeps_the_most_recently_used_entries(cache, extract, monkeypatch):
    monkeypatch.setattr(cache_module, "KEEP", 2)
    specs = [OsmNetworkSpec(kind="osm", path=extract, speed_factor=f) for f in (1.0, 0.9, 0.8)]
    load_network(specs[0])
    load_network(specs[1])
    time.sleep(0.05)
    load_network(specs[0])  # used again: the newest
    time.sleep(0.05)
    load_network(specs[2])  # a third entry: the least recently used (specs[1]) goes
    kept = {p.name for p in cache.glob("*.pickle")}
    names = {f"{extract.name}.{cache_module.cache_key(extract, s)}.pickle" for s in specs}
    assert kept == names - {f"{extract.name}.{cache_module.cache_key(extract, specs[1])}.pickle"}


def test_bad_files_still_fail_with_their_message(cache, tmp_path):
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node")
    with pytest.raises(SimInputError, match="cannot read OSM XML"):
        load_network(OsmNetworkSpec(kind="osm", path=bad))
    with pytest.raises(SimInputError, match="not found"):
        load_network(GraphmlNetworkSpec(kind="graphml", path=tmp_path / "nope.graphml"))
    assert not cache.exists() or not list(cache.glob("*.pickle"))


def test_graphml_is_cached_too(cache, tmp_path, monkeypatch):
    net = load_network(OsmNetworkSpec(kind="osm", path=WUHAN_OSM))
    path = tmp_path / "w.graphml"
    ox.save_graphml(net.graph, path)
    spec = GraphmlNetworkSpec(kind="graphml", path=path)
    first = load_network(spec)
    monkeypatch.setattr(sources, "_read_graphml", lambda p: pytest.fail("read again"))
    assert load_network(spec).digest == first.digest


# -- snapping without osmnx: the same answers as osmnx's ---------------------------------
@pytest.fixture(scope="module")
def wuhan():
    return load_network(OsmNetworkSpec(kind="osm", path=WUHAN_OSM))


def test_nearest_nodes_are_osmnx_nearest_nodes(wuhan):
    rng = np.random.default_rng(7)
    xy = np.array([(d["x"], d["y"]) for _, d in wuhan.graph.nodes(data=True)])
    lo, hi = xy.min(axis=0) - 300, xy.max(axis=0) + 300
    xs, ys = rng.uniform(lo[0], hi[0], 200), rng.uniform(lo[1], hi[1], 200)
    xs[:5], ys[:5] = xy[:5, 0], xy[:5, 1]  # on a node: distance 0
    found, dist_m = nearest_nodes(wuhan.graph, xs, ys)
    expected, expected_m = ox.distance.nearest_nodes(wuhan.graph, X=xs, Y=ys, return_dist=True)
    assert found == expected.tolist()
    assert np.array_equal(dist_m, expected_m)


def test_lat_lon_projects_as_osmnx_does(wuhan):
    crs = wuhan.graph.graph["crs"]
    for lat, lon in [(30.48321, 114.50395), (30.485, 114.52), (-33.9, 151.2), (0.0, 0.0)]:
        point, _ = ox.projection.project_geometry(Point(lon, lat), crs="EPSG:4326", to_crs=crs)
        assert from_degrees(crs, lon, lat) == (point.x, point.y)
    node = snap_point(wuhan, {"lat": 30.48321, "lon": 114.50395})
    point, _ = ox.projection.project_geometry(Point(114.50395, 30.48321), to_crs=crs)
    assert node == ox.distance.nearest_nodes(wuhan.graph, X=point.x, Y=point.y)

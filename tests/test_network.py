"""Network loading and generation, bad input, and the ``network`` command."""

from __future__ import annotations

import bz2
import json
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pytest
import requests
from pydantic import TypeAdapter, ValidationError

from sim.cli import main
from sim.errors import SimInputError
from sim.network.routing import Router
from sim.network.sources import (
    DEFAULT_SPEEDS_KPH,
    WUHAN_OSM,
    GraphmlNetworkSpec,
    NetworkSpec,
    OsmNetworkSpec,
    PlaceNetworkSpec,
    SyntheticNetworkSpec,
    load_network,
    network_digest,
    place_cache_path,
)

ROOT = Path(__file__).resolve().parents[1]
WUHAN = WUHAN_OSM


def edge_list(graph: nx.MultiDiGraph) -> list:
    return sorted((u, v, round(t, 6)) for u, v, t in graph.edges(data="travel_time"))


GRID = [  # ways of a 3 x 3 grid of nodes 1..9 (row by row)
    [1, 2, 3],
    [4, 5, 6],
    [7, 8, 9],
    [1, 4, 7],
    [2, 5, 8],
    [3, 6, 9],
]


def write_osm(path: Path, ways: list[tuple[list[int], dict[str, str]]], n_nodes: int = 9) -> Path:
    """A tiny OSM XML file: nodes on a ~100 m grid near Wuhan, ways with the given tags."""
    lat = [30.48 + 0.001 * (i // 3) for i in range(n_nodes)]
    lon = [114.50 + 0.001 * (i % 3) for i in range(n_nodes)]
    nodes = "\n".join(
        f'  <node id="{i + 1}" lat="{lat[i]:.4f}" lon="{lon[i]:.4f}"/>' for i in range(n_nodes)
    )
    body = []
    for w, (refs, tags) in enumerate(ways):
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        tag = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        body.append(f'  <way id="{100 + w}">{nds}{tag}</way>')
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n{nodes}\n'
        + "\n".join(body)
        + "\n</osm>\n",
        encoding="utf-8",
    )
    return path


# -- synthetic ---------------------------------------------------------------------------
def test_synthetic_same_seed_same_graph_other_seed_other_graph():
    a = load_network(SyntheticNetworkSpec(seed=5))
    b = load_network(SyntheticNetworkSpec(seed=5))
    c = load_network(SyntheticNetworkSpec(seed=6))
    assert a.digest == b.digest and edge_list(a.graph) == edge_list(b.graph)
    assert c.digest != a.digest and edge_list(c.graph) != edge_list(a.graph)


def test_synthetic_digest_is_the_same_in_another_process():
    code = (
        "from sim.network.sources import SyntheticNetworkSpec, load_network;"
        "print(load_network(SyntheticNetworkSpec(seed=5)).digest)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == load_network(SyntheticNetworkSpec(seed=5)).digest


def test_synthetic_is_a_plausible_osmnx_style_district():
    net = load_network(SyntheticNetworkSpec())
    g = net.graph
    assert isinstance(g, nx.MultiDiGraph) and nx.is_strongly_connected(g)
    assert ox.projection.is_projected(g.graph["crs"]) and g.graph["name"]
    assert net.kept_share > 0.95 and not net.is_osm_data and not net.georeferenced
    assert all({"x", "y"} <= set(d) for _, d in g.nodes(data=True))
    speeds: dict[str, set] = {}
    for *_, d in g.edges(data=True):
        assert {"length", "highway", "speed_kph", "travel_time", "oneway"} <= set(d)
        assert d["travel_time"] == pytest.approx(d["length"] / (d["speed_kph"] / 3.6))
        speeds.setdefault(d["highway"], set()).add(d["speed_kph"])
    assert len(speeds) >= 2 and len({s for v in speeds.values() for s in v}) >= 2
    oneway = [(u, v) for u, v, o in g.edges(data="oneway") if o]
    assert oneway and all(not g.has_edge(v, u) for u, v in oneway)
    lengths = [d for *_, d in g.edges(data="length")]
    assert 100 < np.median(lengths) < 250
    assert net.km_of_road == pytest.approx(sum(lengths) / 1000)


@pytest.mark.parametrize("side_km", [4.0, 8.0])
def test_synthetic_size_scales_with_area(side_km):
    n = load_network(SyntheticNetworkSpec(width_km=side_km, height_km=side_km)).nodes
    expected = (side_km * 1000 / 180 + 1) ** 2
    assert 0.9 * expected < n <= expected * 1.05


def test_synthetic_scales_to_fifty_thousand_nodes():
    # its speed (about 2 s) is measured by experiments/bench_model.py, not asserted here
    net = load_network(SyntheticNetworkSpec(width_km=40, height_km=40))
    assert 45_000 < net.nodes < 55_000


def test_speed_factor_scales_travel_times():
    base = load_network(SyntheticNetworkSpec())
    slow = load_network(SyntheticNetworkSpec(speed_factor=0.5))
    t_base = sum(t for *_, t in base.graph.edges(data="travel_time"))
    t_slow = sum(t for *_, t in slow.graph.edges(data="travel_time"))
    assert t_slow == pytest.approx(2 * t_base)


def test_point_network_has_one_node_and_zero_times():
    net = load_network(TypeAdapter(NetworkSpec).validate_python({"kind": "point"}))
    assert (net.nodes, net.edges, net.km_of_road) == (1, 0, 0.0)
    router = Router(net.graph)
    assert router.time(0, 0) == 0.0 and router.nearest([0, 0], 0) == (0, 0.0)


def test_spec_rejects_unknown_keys_and_kinds():
    adapter = TypeAdapter(NetworkSpec)
    for bad in ({"kind": "synthetic", "widht_km": 3}, {"kind": "moon"}, {"kind": "place"}):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)


# -- OSM ---------------------------------------------------------------------------------
def test_wuhan_extract_loads():
    net = load_network(OsmNetworkSpec(kind="osm", path=WUHAN))
    # the data README's 390 / 724 come from simplifying before dropping non-road ways;
    # filtering first (like an osmnx "drive" download) merges those extra nodes away.
    # Every drivable node is kept: streets cut by the extract's edge are joined by links.
    assert net.nodes == net.nodes_loaded == 437 and net.kept_share == 1.0
    assert net.edges == net.edges_loaded + net.boundary_links and net.boundary_links == 33
    cut = load_network(OsmNetworkSpec(kind="osm", path=WUHAN, edge_streets="cut"))
    assert cut.nodes == 356 and cut.boundary_links == 0 and 640 <= cut.edges <= 760
    assert net.is_osm_data and net.georeferenced and net.graph.graph["crs"] == "EPSG:32650"
    assert nx.is_strongly_connected(net.graph)
    for *_, d in net.graph.edges(data=True):
        assert d["speed_kph"] > 0 and d["travel_time"] > 0
    assert net.digest == load_network(OsmNetworkSpec(kind="osm", path=WUHAN)).digest


@pytest.mark.parametrize("hash_seed", ["1", "2", "3"])
def test_wuhan_network_is_the_same_in_every_process(hash_seed):
    """osmnx merges road classes through sets: their order must not leak into speeds."""
    code = (
        "from sim.network.sources import OsmNetworkSpec, WUHAN_OSM, load_network;"
        "print(load_network(OsmNetworkSpec(kind='osm', path=WUHAN_OSM)).digest)"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == load_network(OsmNetworkSpec(kind="osm", path=WUHAN)).digest


def test_wuhan_fifteen_hundred_metres_in_under_three_minutes():
    """The source: a dispute 1.5 km from the office was reached in under 3 minutes."""
    router = Router(load_network(OsmNetworkSpec(kind="osm", path=WUHAN)).graph)
    rng = np.random.default_rng(0)
    times = []
    for s in rng.choice(router.n_nodes, size=40, replace=False):
        d_m = np.hypot(router.x - router.x[s], router.y - router.y[s])
        ring = (d_m > 1400) & (d_m < 1600)
        times.extend(router.times_from(int(s))[ring])
    assert len(times) > 100
    assert np.median(times) < 3.0


def test_osm_without_maxspeed_gets_speeds_by_class(tmp_path):
    path = write_osm(
        tmp_path / "tiny.osm",
        [(w, {"highway": c}) for w, c in zip(GRID, ["primary", "residential"] * 3, strict=True)],
    )
    net = load_network(OsmNetworkSpec(kind="osm", path=path))
    assert net.nodes == 5 and net.edges == 16 and net.is_osm_data  # corners simplified away
    for *_, d in net.graph.edges(data=True):
        classes = d["highway"] if isinstance(d["highway"], list) else [d["highway"]]
        assert d["speed_kph"] in {DEFAULT_SPEEDS_KPH[c] for c in classes}
        assert d["travel_time"] == pytest.approx(d["length"] / d["speed_kph"] * 3.6, rel=1e-3)


def test_osm_bz2_loads_the_same(tmp_path):
    plain = write_osm(tmp_path / "g.osm", [(w, {"highway": "residential"}) for w in GRID])
    packed = tmp_path / "g.osm.bz2"
    packed.write_bytes(bz2.compress(plain.read_bytes()))
    a = load_network(OsmNetworkSpec(kind="osm", path=plain))
    b = load_network(OsmNetworkSpec(kind="osm", path=packed))
    assert a.digest == b.digest and a.nodes == 5


def test_relative_path_resolves_against_base_dir(tmp_path, monkeypatch):
    write_osm(tmp_path / "a.osm", [(w, {"highway": "residential"}) for w in GRID])
    monkeypatch.chdir(ROOT)
    net = load_network(OsmNetworkSpec(kind="osm", path="a.osm"), base_dir=tmp_path)
    assert net.source == str(tmp_path / "a.osm")


def test_graphml_round_trip(tmp_path):
    net = load_network(SyntheticNetworkSpec())
    ox.save_graphml(net.graph, tmp_path / "g.graphml")
    again = load_network(GraphmlNetworkSpec(kind="graphml", path=tmp_path / "g.graphml"))
    assert again.digest == net.digest and not again.is_osm_data and not again.georeferenced


def test_place_uses_the_cache_offline(tmp_path, monkeypatch):
    offline(monkeypatch)
    spec = PlaceNetworkSpec(kind="place", query="Tiny Town", cache_dir=tmp_path)
    tiny = write_osm(tmp_path / "t.osm", [(w, {"highway": "residential"}) for w in GRID])
    ox.save_graphml(ox.graph_from_xml(tiny), place_cache_path(spec))
    net = load_network(spec)
    assert net.nodes == 5 and net.is_osm_data and "cached" in net.source


def offline(monkeypatch) -> None:
    def no_internet(*args, **kwargs):
        raise requests.exceptions.ConnectionError("Failed to resolve 'nominatim.openstreetmap.org'")

    monkeypatch.setattr(ox, "graph_from_place", no_internet)
    monkeypatch.setattr(ox, "graph_from_bbox", no_internet)


# -- bad input ---------------------------------------------------------------------------
def bad_inputs(tmp_path: Path) -> dict[str, tuple[dict, str]]:
    corrupt = tmp_path / "corrupt.osm"
    corrupt.write_text('<?xml version="1.0"?><osm><node id="1" lat="30.4"', encoding="utf-8")
    paths = write_osm(tmp_path / "paths.osm", [([1, 2, 3], {"highway": "footway"})])
    (tmp_path / "roads.shp").write_text("x")
    return {
        "missing": ({"kind": "osm", "path": str(tmp_path / "nope.osm")}, "not found"),
        "corrupt": ({"kind": "osm", "path": str(corrupt)}, "cannot read OSM XML"),
        "footways": ({"kind": "osm", "path": str(paths)}, "no drivable roads"),
        "extension": ({"kind": "osm", "path": str(tmp_path / "roads.shp")}, "not an OSM XML"),
        "graphml": ({"kind": "graphml", "path": str(corrupt)}, "not a GraphML"),
        "offline": (
            {"kind": "place", "query": "Nowhere", "cache_dir": str(tmp_path / "c")},
            "no cached copy",
        ),
    }


@pytest.mark.parametrize(
    "case", ["missing", "corrupt", "footways", "extension", "graphml", "offline"]
)
def test_bad_input_raises_one_clear_error(case, tmp_path, monkeypatch):
    offline(monkeypatch)
    data, words = bad_inputs(tmp_path)[case]
    spec = TypeAdapter(NetworkSpec).validate_python(data)
    with pytest.raises(SimInputError, match=words) as info:
        load_network(spec)
    named = data.get("path") or data["query"]
    assert Path(named).name in str(info.value) or named in str(info.value)


@pytest.mark.parametrize("case", ["missing", "corrupt", "footways", "offline"])
def test_bad_input_via_cli_is_one_line_and_exit_2(case, tmp_path, monkeypatch, capsys):
    offline(monkeypatch)
    data, words = bad_inputs(tmp_path)[case]
    source = data.get("path") or f"place:{data['query']}"
    extra = ["--cache-dir", data["cache_dir"]] if "cache_dir" in data else []
    assert main(["network", source, *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and words in err
    assert "Traceback" not in err


# -- CLI ---------------------------------------------------------------------------------
def test_cli_synthetic_writes_json_and_map(tmp_path, capsys):
    out, png = tmp_path / "out" / "net.json", tmp_path / "net.png"
    argv = ["network", "synthetic", "--width-km", "2", "--height-km", "2", "--seed", "4"]
    assert main([*argv, "--communities", "3", "--json", str(out), "--map", str(png)]) == 0
    summary = json.loads(out.read_text())
    assert summary["kind"] == "synthetic" and summary["nodes"] > 100
    assert len(summary["communities"]) == 3
    sizes = [c["nodes"] for c in summary["communities"]]
    assert sum(sizes) == summary["nodes"] and max(sizes) - min(sizes) <= summary["nodes"] // 10
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.rglob("*.tmp"))
    assert "km" in capsys.readouterr().out


def test_cli_point(capsys):
    assert main(["network", "point"]) == 0
    assert "nodes       1 routable of 1 (100.0%)" in capsys.readouterr().out


def test_cli_wuhan_map_carries_attribution(tmp_path, capsys):
    png = tmp_path / "m.png"
    assert main(["network", str(WUHAN), "--map", str(png)]) == 0
    assert png.stat().st_size > 10_000
    assert "OpenStreetMap contributors, ODbL" in capsys.readouterr().out


def test_cli_rejects_synthetic_options_for_files(capsys):
    assert main(["network", "point", "--width-km", "3"]) == 2
    assert "--width-km" in capsys.readouterr().err


def test_digest_ignores_node_insertion_order():
    g = load_network(SyntheticNetworkSpec()).graph
    shuffled = nx.MultiDiGraph(**g.graph)
    shuffled.add_nodes_from(reversed(list(g.nodes(data=True))))
    shuffled.add_edges_from(reversed(list(g.edges(keys=True, data=True))))
    assert network_digest(shuffled) == network_digest(g)

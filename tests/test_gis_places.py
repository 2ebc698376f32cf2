"""Places from GIS files (sim.scenarios.place_files): polygons, points, any CRS, clear errors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from inputs_support import UTM_ORIGIN, small_raw, utm_network

from sim.analysis.replications import run_replications
from sim.errors import SimInputError
from sim.network.world import build_world
from sim.reporting.layers import write_layers
from sim.scenarios.load import load_scenario
from sim.scenarios.place_files import read_points

SPAN_M = 750.0  # the 6 x 6 grid of 150 m


def halves_utm() -> gpd.GeoDataFrame:
    """West and east halves of the UTM grid (the middle column of nodes goes west)."""
    x0, y0 = UTM_ORIGIN
    west = shapely.box(x0 - 50, y0 - 50, x0 + 400, y0 + SPAN_M + 50)
    east = shapely.box(x0 + 400, y0 - 50, x0 + SPAN_M + 50, y0 + SPAN_M + 50)
    return gpd.GeoDataFrame(
        {"NAME": ["West 西", "East 东"], "POP": [3000, 5000]},
        geometry=[west, east],
        crs="EPSG:32650",
    )


def write_scenario(folder, communities, posts, network) -> str:
    raw = small_raw()
    raw.update(name="gis", network=network, communities=communities, posts=posts)
    raw["units"] = [{"post": "Station"}, {"post": "West office"}]
    path = folder / "gis.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return str(path)


@pytest.fixture
def utm_folder(tmp_path):
    utm_network(tmp_path / "grid.graphml")
    halves_utm().to_crs("EPSG:3857").to_file(tmp_path / "areas.gpkg", layer="areas")
    x0, y0 = UTM_ORIGIN
    points = gpd.GeoDataFrame(
        {"name": ["Station", "West office"], "kind": ["station", "office"]},
        geometry=[shapely.Point(x0 + 600, y0 + 10), shapely.Point(x0 + 150, y0 + 300)],
        crs="EPSG:32650",
    ).to_crs("EPSG:4326")
    points.to_file(tmp_path / "posts.geojson", driver="GeoJSON")
    return tmp_path


def test_polygons_and_points_in_other_crs_are_reprojected(utm_folder):
    path = write_scenario(
        utm_folder,
        {"file": "areas.gpkg", "layer": "areas", "name": "NAME", "population": "POP"},
        {"file": "posts.geojson"},
        {"kind": "graphml", "path": "grid.graphml"},
    )
    scenario = load_scenario(path)
    assert [c.name for c in scenario.communities] == ["West 西", "East 东"]
    assert [c.population for c in scenario.communities] == [3000, 5000]
    assert scenario.communities[0].area.crs == "EPSG:4326"
    office = next(p for p in scenario.posts if p.kind == "office")
    assert office.community == "West 西"  # the area that contains it
    world = build_world(scenario)
    west = world.router.x < UTM_ORIGIN[0] + 400
    assert np.array_equal(world.community_of_node, np.where(west, 0, 1))
    assert world.post_community["West office"] == 0 and world.post_community["Station"] == 1
    station = world.post_nodes["Station"]
    assert world.router.x[station] == pytest.approx(UTM_ORIGIN[0] + 600)
    for c, anchor in enumerate(world.anchor_nodes):
        assert world.community_of_node[anchor] == c


def test_csv_points_and_wkt_in_the_networks_own_metres(tmp_path):
    pd.DataFrame(
        {
            "name": ["A", "B"],
            "population": [1000, 1500],
            "wkt": [
                "POLYGON ((-100 -100, 500 -100, 500 1100, -100 1100, -100 -100))",
                "POLYGON ((500 -100, 1100 -100, 1100 1100, 500 1100, 500 -100))",
            ],
        }
    ).to_csv(tmp_path / "areas.csv", index=False)
    posts = {"name": ["Station", "West office"], "kind": ["station", "office"]}
    posts |= {"x": [900.0, 200.0], "y": [500.0, 500.0]}
    pd.DataFrame(posts).to_csv(tmp_path / "posts.csv", index=False)
    path = write_scenario(
        tmp_path,
        {"file": "areas.csv"},
        {"file": "posts.csv"},
        small_raw()["network"],
    )
    scenario = load_scenario(path)
    assert scenario.communities[0].area.crs is None  # the network's own CRS
    world = build_world(scenario)
    west = world.router.x < 500
    assert np.array_equal(world.community_of_node, np.where(west, 0, 1))
    assert world.post_community["West office"] == 0


def test_layers_draw_the_given_areas(utm_folder, tmp_path):
    path = write_scenario(
        utm_folder,
        {"file": "areas.gpkg", "name": "NAME", "population": "POP"},
        {"file": "posts.geojson"},
        {"kind": "graphml", "path": "grid.graphml"},
    )
    scenario = load_scenario(path, ["days=2", "warmup_days=0"])
    result = run_replications(scenario, progress=False)
    out = write_layers([result], tmp_path / "out.gpkg")
    areas = gpd.read_file(out, layer="communities").to_crs("EPSG:32650")
    truth = halves_utm()
    for got, want in zip(areas.geometry, truth.geometry, strict=True):
        assert got.symmetric_difference(want).area < 1e-4 * want.area  # rounding, reprojection


def test_hot_spots_as_weighted_points(tmp_path):
    hot = {"name": ["market", "bar street"], "weight": [2.0, 1.0]}
    hot |= {"lon": [114.51, 114.52], "lat": [30.48, 30.49]}
    pd.DataFrame(hot).to_csv(tmp_path / "hot.csv", index=False)
    points = read_points({"file": "hot.csv"}, tmp_path, "hot_spots")
    assert points[0] == {"name": "market", "weight": 2.0, "lon": 114.51, "lat": 30.48,
                         "at": {"lat": 30.48, "lon": 114.51}}  # fmt: skip


@pytest.mark.parametrize(
    ("communities", "message"),
    [
        ({"file": "nowhere.gpkg"}, "communities.file: GIS file not found"),
        ({"file": "areas.gpkg", "population": "POP"}, "communities.name: no column 'name'"),
        ({"file": "posts.geojson", "name": "name"}, "every feature must be a polygon"),
    ],
)
def test_bad_files_name_the_key(utm_folder, communities, message):
    path = write_scenario(
        utm_folder,
        communities,
        {"file": "posts.geojson"},
        {"kind": "graphml", "path": "grid.graphml"},
    )
    with pytest.raises(SimInputError, match=message):
        load_scenario(path)


def test_an_area_with_no_street_node_and_degrees_on_a_synthetic_network(utm_folder, tmp_path):
    far = halves_utm().assign(geometry=lambda f: f.geometry.translate(50_000, 0))
    far.to_file(utm_folder / "far.gpkg")
    path = write_scenario(
        utm_folder,
        {"file": "far.gpkg", "name": "NAME", "population": "POP"},
        [{"name": "Station", "kind": "station", "at": {"node": 0}},
         {"name": "West office", "kind": "office", "community": "West 西", "at": {"node": 1}}],
        {"kind": "graphml", "path": "grid.graphml"},
    )  # fmt: skip
    scenario = load_scenario(path)
    with pytest.raises(SimInputError, match="its area holds no street node"):
        build_world(scenario)
    path = write_scenario(
        utm_folder,
        {"file": "areas.gpkg", "name": "NAME", "population": "POP"},
        [{"name": "Station", "kind": "station", "at": {"x": 10, "y": 10}},
         {"name": "West office", "kind": "office", "community": "West 西"}],
        small_raw()["network"],
    )  # fmt: skip
    scenario = load_scenario(path)
    with pytest.raises(SimInputError, match="has no geographic position"):
        build_world(scenario)

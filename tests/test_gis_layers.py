"""GIS layers out (sim.reporting.layers): every layer read back with geopandas."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from inputs_support import small_raw

import sim
from sim.analysis.replications import run_replications
from sim.cli import main
from sim.errors import SimInputError
from sim.network.world import build_world
from sim.reporting.layers import ISOCHRONE_MIN, write_layers
from sim.scenarios.load import validate

EXPECTED = {
    "streets": {"LineString"},
    "nodes": {"Point"},
    "posts": {"Point"},
    "calls": {"Point"},
    "communities": {"Polygon", "MultiPolygon"},
    "isochrones": {"Polygon", "MultiPolygon"},
}


@pytest.fixture(scope="module")
def result():
    raw = small_raw()
    raw["replications"] = 2
    return run_replications(validate(raw, "<test>"), progress=False)


@pytest.mark.slow
def test_every_layer_reads_back_in_wgs84(result, tmp_path):
    path = write_layers([result], tmp_path / "out.gpkg")
    assert {name for name, _ in pyogrio.list_layers(path)} == set(EXPECTED)
    world = build_world(result.scenario)
    layers = {name: gpd.read_file(path, layer=name) for name in EXPECTED}
    for name, layer in layers.items():
        assert layer.crs.to_epsg() == 4326, name
        assert set(layer.geom_type) <= EXPECTED[name], (name, set(layer.geom_type))
        assert (layer["scenario"] == "small").all()
        assert layer.is_valid.all(), name
    assert len(layers["streets"]) == world.network.edges
    assert len(layers["nodes"]) == world.router.n_nodes
    assert len(layers["posts"]) == 2 and len(layers["communities"]) == 2
    counted = result.records[~result.records["in_warmup"]]
    assert len(layers["calls"]) == (counted["replication"] == 0).sum()
    assert layers["nodes"]["calls"].sum() == pytest.approx(len(counted) / 2)
    first = counted[counted["replication"] == 0].iloc[0]
    call = layers["calls"].set_index("id").loc[first["id"]]
    assert call["response_min"] == pytest.approx(first["response_min"])
    assert call["outcome"] in {"resolved", "unresolved", "not reached"}


def test_the_streets_layer_holds_patrol_passes_and_time_since_the_last(tmp_path):
    raw = small_raw()
    raw["units"][0]["patrol"] = {"policy": "random", "share": 1.0, "stint_min": 1e9}
    patrolling = run_replications(validate(raw, "<patrol>"), progress=False)
    path = write_layers([patrolling], tmp_path / "patrol.gpkg")
    streets = gpd.read_file(path, layer="streets")
    model = sim.PatrolModel(patrolling.scenario, replication=0)
    model.run()
    cover = model.patroller.count_to_now()
    passes, _ = cover.passes_and_shifts()
    days = (model.time - model.warmup_min) / 1440.0
    index = model.router.index
    for row in streets.head(40).itertuples():
        a, b = index[int(row.u)], index[int(row.v)]
        segment = cover.segment_of[cover.entry(a, b)]
        assert row.patrol_passes_per_day == pytest.approx(passes[segment] / days)
        last = cover.last_pass_min()[segment]
        assert row.patrol_min_since_last_pass == pytest.approx(model.time - last, nan_ok=True)
    assert (streets["patrol_passes_per_day"] > 0).any()
    quiet = gpd.read_file(write_layers([patrolling.__class__(
        validate(small_raw(), "<stay>"), patrolling.records, [], {})], tmp_path / "q.gpkg"),
        layer="streets")  # fmt: skip
    assert quiet["patrol_passes_per_day"].isna().all()


@pytest.mark.slow
def test_isochrones_grow_with_time_and_hold_their_post(result, tmp_path):
    path = write_layers([result], tmp_path / "out.gpkg")
    iso = gpd.read_file(path, layer="isochrones")
    posts = gpd.read_file(path, layer="posts").set_index("name")
    assert len(iso) == 2 * len(ISOCHRONE_MIN)
    for post, rows in iso.groupby("post"):
        rows = rows.sort_values("minutes")
        assert np.all(np.diff(rows["area_km2"]) >= 0)
        assert np.all(np.diff(rows["nodes_reached"]) >= 0)
        assert rows.geometry.iloc[0].contains(posts.loc[post, "geometry"])
        assert rows.geometry.iloc[-1].contains(rows.geometry.iloc[0].buffer(-1e-6))


def test_communities_cover_their_nodes(result, tmp_path):
    path = write_layers([result], tmp_path / "out.gpkg")
    communities = gpd.read_file(path, layer="communities").set_index("name")
    nodes = gpd.read_file(path, layer="nodes")
    for name, members in nodes.groupby("community"):
        area = communities.loc[name, "geometry"].buffer(1e-7)
        assert members.within(area).all(), name
    assert communities["calls_per_1000_per_week"].gt(0).all()


def test_gis_option_on_compare(tmp_path, capsys):
    import yaml

    first, second = tmp_path / "small.yaml", tmp_path / "other.yaml"
    first.write_text(yaml.safe_dump(small_raw()), encoding="utf-8")
    second.write_text(yaml.safe_dump({**small_raw(), "name": "other"}), encoding="utf-8")
    out = tmp_path / "both.gpkg"
    argv = ["compare", str(first), str(second), "--days", "2", "--reps", "1", "--quiet",
            "--out", str(tmp_path / "res"), "--gis", str(out)]  # fmt: skip
    assert main(argv) == 0
    streets = gpd.read_file(out, layer="streets")
    assert len(streets) == 2 * build_world(validate(small_raw(), "<t>")).network.edges
    assert set(streets["scenario"]) == {"small", "other"}


def test_bad_gis_path_is_a_clear_error(result, tmp_path):
    with pytest.raises(SimInputError, match=r"\.gpkg"):
        write_layers([result], tmp_path / "out.shp")

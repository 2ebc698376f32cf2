"""``run_sim.py district`` (sim.planning.district): a before/after pair for any network."""

from __future__ import annotations

import numpy as np
import yaml
from test_inputs_layouts import CITIES, city_network, truth, type_map, write_export

from sim.cli import main
from sim.network.world import build_world
from sim.scenarios.load import load_scenario


def test_district_writes_a_pair_that_compare_runs(tmp_path, capsys):
    crs, lon, lat = CITIES["seattle"]
    city_network(tmp_path / "grid.graphml", crs, lon, lat, size=8)
    out = tmp_path / "d"
    assert main(["district", str(tmp_path / "grid.graphml"), "--out", str(out)]) == 0
    assert "next: python run_sim.py compare" in capsys.readouterr().out
    before, after = load_scenario(out / "before.yaml"), load_scenario(out / "after.yaml")
    assert [p.kind for p in before.posts] == ["station"] + ["office"] * 4
    assert [(u.post, u.count) for u in before.units] == [("Station", 4)]
    assert [u.post for u in after.units] == [f"C{i} office" for i in range(1, 5)]
    assert before.dispatch.policy == "nearest" and after.dispatch.policy == "community_first"
    sizes = np.bincount(build_world(after).community_of_node)
    assert sizes.tolist() == [16, 16, 16, 16]  # 64 nodes in four balanced areas
    argv = ["compare", str(out / "before.yaml"), str(out / "after.yaml"), "--days", "2",
            "--reps", "1", "--out", str(tmp_path / "cmp")]  # fmt: skip
    assert main(argv) == 0


def test_district_fits_the_calls_of_a_table(tmp_path, capsys):
    crs, lon, lat = CITIES["china_110"]
    city_network(tmp_path / "grid.graphml", crs, lon, lat)
    raw_world = build_world(
        load_scenario_from(tmp_path, {"kind": "graphml", "path": "grid.graphml"})
    )
    write_export("china_110", truth(raw_world, "china_110"), tmp_path / "calls.csv")
    (tmp_path / "map.yaml").write_text(
        yaml.safe_dump({**type_map("china_110"), "盗窃": "theft", "纠纷": "tenancy_dispute"},
                       allow_unicode=True), "utf-8")  # fmt: skip
    out = tmp_path / "d"
    argv = ["district", str(tmp_path / "grid.graphml"), "--out", str(out),
            "--communities", "2", "--calls", str(tmp_path / "calls.csv"),
            "--types", str(tmp_path / "map.yaml")]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "calls.csv (layout china_110)" in printed and "calls fitted:" in printed
    before, after = load_scenario(out / "before.yaml"), load_scenario(out / "after.yaml")
    assert before.calls.rate_per_hour == after.calls.rate_per_hour > 0
    assert [c.population for c in before.communities] == [c.population for c in after.communities]


def load_scenario_from(folder, network):
    from inputs_support import small_raw

    raw = small_raw()
    raw["network"] = network
    (folder / "base.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    return load_scenario(folder / "base.yaml")


def test_district_bad_network_writes_nothing(tmp_path, capsys):
    out = tmp_path / "d"
    assert main(["district", str(tmp_path / "none.osm"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: district: network file not found: {tmp_path / 'none.osm'}"
    assert not out.exists()

"""Dispatch exports as they come (sim.calls.layouts): New Orleans, Seattle, Detroit, a Chinese
110 export in GCJ-02, each made here in its own layout and read, fitted and replayed as is."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import prcoords
import pytest
import yaml
from inputs_support import small_raw
from pyproj import Transformer

from sim.calls.layouts import choose_layout
from sim.calls.table import ReadOptions, Snapper, read_calls_table
from sim.cli import main
from sim.errors import SimInputError
from sim.network.world import build_world
from sim.scenarios.load import load_scenario

N = 60
START = pd.Timestamp("2025-04-02 00:00")  # a Wednesday, no clock change within 6 days
CITIES = {  # layout: (UTM zone of the test grid, lon, lat of its corner)
    "new_orleans": ("EPSG:32615", -90.07, 29.95),
    "seattle": ("EPSG:32610", -122.33, 47.61),
    "detroit": ("EPSG:32617", -83.05, 42.33),
    "china_110": ("EPSG:32650", 114.52, 30.48),
}
THEIR_TYPES = {  # the export's names: ours (None: not in the map, to be rejected)
    "new_orleans": {"DISTURBANCE (DOMESTIC)": "dispute", "THEFT ": "theft", "UFO SIGHTING": None},
    "seattle": {"--DISTURBANCE - OTHER": "dispute", "theft": "theft", "--PARKING": None},
    "detroit": {"FAMILY TROUBLE": "dispute", "Theft": "theft", "ANIMAL COMPLAINT": None},
    "china_110": {"纠纷": "dispute", "盗窃": "theft", "其他": None},
}


def city_network(path, crs: str, lon: float, lat: float, size: int = 6, spacing_m=150.0):
    """A two-way grid in ``crs`` (UTM) with its corner at lon/lat, as osmnx GraphML."""
    import osmnx as ox

    x0, y0 = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    graph = nx.MultiDiGraph(crs=crs)
    for i in range(size):
        for j in range(size):
            graph.add_node(i * size + j, x=x0 + j * spacing_m, y=y0 + i * spacing_m)
    for i in range(size):
        for j in range(size):
            here = i * size + j
            near = ([here + 1] if j + 1 < size else []) + ([here + size] if i + 1 < size else [])
            for there in near:
                for u, v in ((here, there), (there, here)):
                    graph.add_edge(u, v, length=spacing_m, speed_kph=30.0, travel_time=18.0)
    ox.save_graphml(graph, path)


@pytest.fixture(params=list(CITIES))
def city(request, tmp_path):
    return make_city(request.param, tmp_path)


def make_city(name, tmp_path):
    """The city's grid, a base scenario on it, and its world."""
    crs, lon, lat = CITIES[name]
    city_network(tmp_path / "grid.graphml", crs, lon, lat)
    raw = small_raw()
    raw["network"] = {"kind": "graphml", "path": "grid.graphml"}
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    scenario = load_scenario(tmp_path / "base.yaml")
    return name, tmp_path, scenario, build_world(scenario)


def truth(world, name: str, seed: int = 5) -> pd.DataFrame:
    """What the export records, in our terms: node, times, type, priority, self-initiated."""
    rng = np.random.default_rng(seed)
    nodes = rng.integers(0, world.router.n_nodes, N)
    minutes = np.sort(rng.uniform(0, 6 * 1440, N)).round()
    their = list(THEIR_TYPES[name])
    scale = {"new_orleans": ["3", "2A", "2C", "1A", "0"], "seattle": ["1", "2", "5", "9"],
             "detroit": ["1", "2", "3", "5"], "china_110": ["1", "2", "3", "4"]}[name]  # fmt: skip
    most = {"new_orleans": 3, "seattle": 1, "detroit": 1, "china_110": 1}[name]
    codes = rng.choice(scale, N)
    numbers = np.array([int(c[0]) for c in codes])
    x, y = world.router.x[nodes], world.router.y[nodes]
    lon, lat = Transformer.from_crs(world.network.crs, "EPSG:4326", always_xy=True).transform(x, y)
    frame = pd.DataFrame(
        {
            "node": nodes,
            "time": START + pd.to_timedelta(minutes, unit="min"),
            "type": rng.choice(their, N, p=[0.5, 0.35, 0.15]),
            "code": codes,
            "priority": 1 + np.abs(numbers - most),
            "self": rng.random(N) < 0.15,
            "dispatch_min": rng.integers(1, 10, N).astype(float),
            "travel_min": rng.integers(2, 15, N).astype(float),
            "on_scene_min": rng.integers(5, 90, N).astype(float),
            "lon": lon,
            "lat": lat,
        }
    )
    return frame


def _stamp(times: pd.Series, fmt: str) -> list[str]:
    return [t.strftime(fmt) for t in times]


def write_export(name: str, t: pd.DataFrame, path) -> dict[int, str]:
    """The export in its own layout; a few rows spoiled. Returns {row: reason kind}."""
    arrive = t["time"] + pd.to_timedelta(t["dispatch_min"] + t["travel_min"], unit="min")
    dispatch = t["time"] + pd.to_timedelta(t["dispatch_min"], unit="min")
    close = arrive + pd.to_timedelta(t["on_scene_min"], unit="min")
    ids = [f"X{1000 + i}" for i in range(N)]
    if name == "new_orleans":
        us = "%m/%d/%Y %I:%M:%S %p"
        feet = Transformer.from_crs("EPSG:4326", "EPSG:3452", always_xy=True)
        map_x, map_y = feet.transform(t["lon"].to_numpy(), t["lat"].to_numpy())
        point = [f"POINT ({a:.7f} {b:.7f})" for a, b in zip(t["lon"], t["lat"], strict=True)]
        point = [p if i % 3 else "" for i, p in enumerate(point)]  # every third: MapX/MapY only
        table = pd.DataFrame({
            "NOPD_Item": ids, "Type": "21", "TypeText": t["type"], "Priority": t["code"],
            "InitialType": "21", "MapX": np.round(map_x, 3), "MapY": np.round(map_y, 3),
            "TimeCreate": _stamp(t["time"], us), "TimeDispatch": _stamp(dispatch, us),
            "TimeArrive": _stamp(arrive, us), "TimeClosed": _stamp(close, us),
            "Disposition": "RTF", "SelfInitiated": np.where(t["self"], "Y", "N"),
            "Beat": "1A01", "BLOCK_ADDRESS": "001XX Canal St", "Zip": "70112",
            "PoliceDistrict": "1", "Location": point,
        })  # fmt: skip
        time_col, priority_col, bad_priority = "TimeCreate", "Priority", "5B"
        table.loc[9, "TimeArrive"] = _stamp(t["time"] - pd.Timedelta(minutes=60), us)[9]
    elif name == "seattle":
        us = "%m/%d/%Y %I:%M:%S %p"
        table = pd.DataFrame({
            "CAD Event Number": ids, "Event Clearance Description": "REPORT WRITTEN",
            "Call Type": np.where(t["self"], "ONVIEW", "911"), "Priority": t["code"],
            "Initial Call Type": t["type"], "Final Call Type": t["type"],
            "Original Time Queued": _stamp(t["time"], us), "Arrived Time": _stamp(arrive, us),
            "Precinct": "W", "Sector": "D", "Beat": "D1",
            "Blurred_Longitude": t["lon"].round(7), "Blurred_Latitude": t["lat"].round(7),
        })  # fmt: skip
        time_col, priority_col, bad_priority = "Original Time Queued", "Priority", "12"
        table.loc[9, "Arrived Time"] = _stamp(t["time"] - pd.Timedelta(minutes=60), us)[9]
    elif name == "detroit":
        utc = t["time"].dt.tz_localize("America/Detroit").dt.tz_convert("UTC")
        table = pd.DataFrame({
            "incident_id": ids, "agency": "DPD", "incident_address": "1 Woodward Ave",
            "zip_code": "48226", "priority": t["code"], "callcode": "3411",
            "calldescription": t["type"], "category": "X", "call_timestamp":
            _stamp(utc, "%Y/%m/%d %H:%M:%S+00"), "precinct_sca": "3",
            "respondingunit": "3-1", "officerinitiated": np.where(t["self"], "Yes", "No"),
            "intaketime": 1.0, "dispatchtime": t["dispatch_min"], "traveltime": t["travel_min"],
            "totalresponsetime": t["dispatch_min"] + t["travel_min"],
            "time_on_scene": t["on_scene_min"], "totaltime": 0.0,
            "longitude": t["lon"].round(7), "latitude": t["lat"].round(7),
        })  # fmt: skip
        time_col, priority_col, bad_priority = "call_timestamp", "priority", "7"
        table.loc[9, "time_on_scene"] = -3.0
    else:
        iso = "%Y-%m-%d %H:%M:%S"
        gcj = [prcoords.wgs_gcj((b, a)) for a, b in zip(t["lon"], t["lat"], strict=True)]
        table = pd.DataFrame({
            "接警单号": ids, "接警时间": _stamp(t["time"], iso), "派警时间": _stamp(dispatch, iso),
            "到达现场时间": _stamp(arrive, iso), "处警结束时间": _stamp(close, iso),
            "警情类别": t["type"], "警情级别": t["code"],
            "经度": [round(g.lon, 7) for g in gcj], "纬度": [round(g.lat, 7) for g in gcj],
            "警情来源": np.where(t["self"], "巡逻发现", "110报警"),
        })  # fmt: skip
        time_col, priority_col, bad_priority = "接警时间", "警情级别", "6"
        table.loc[9, "处警结束时间"] = _stamp(arrive - pd.Timedelta(hours=30), iso)[9]
    table.loc[4, time_col] = "yesterday-ish"
    table.loc[14, priority_col] = bad_priority
    table.to_csv(path, index=False, encoding="utf-8")
    return {5: "unparseable time", 10: "duration", 15: "priority off the layout's scale"}


def type_map(name: str) -> dict[str, str]:
    """The map a planner writes: only the names that differ from ours beyond case and spacing."""
    return {k.strip(): v for k, v in THEIR_TYPES[name].items()
            if v is not None and k.strip().lower() != v}  # fmt: skip


def test_each_export_is_read_as_it_comes(city):
    name, folder, scenario, world = city
    t = truth(world, name)
    spoiled = write_export(name, t, folder / "calls.csv")
    snap = Snapper(world.network, world.router, scenario.snap_tolerance_m)
    table = read_calls_table(folder / "calls.csv", types=["dispute", "theft"], snap=snap,
                             options=ReadOptions(type_map=type_map(name)))  # fmt: skip
    assert table.layout == name
    rows = np.arange(1, N + 1)
    unmapped = t["type"].map(THEIR_TYPES[name]).isna().to_numpy()
    bad = np.isin(rows, list(spoiled))
    # every bad row rejected with its reason, no good row lost
    reasons = dict(zip(table.rejects["row"], table.rejects["reason"], strict=True))
    for row, kind in spoiled.items():
        assert kind in reasons[row], (row, reasons[row])
    for row in rows[unmapped & ~bad]:
        assert reasons[row].startswith("unknown call type")
    assert set(reasons) == set(rows[unmapped | bad])
    own = t["self"].to_numpy()
    good = ~unmapped & ~bad
    assert table.calls["row"].tolist() == rows[good & ~own].tolist()
    assert table.on_view["row"].tolist() == rows[good & own].tolist()
    expect = t[good & ~own]
    calls = table.calls
    assert calls["id"].tolist() == [f"X{999 + r}" for r in calls["row"]]
    assert calls["node"].tolist() == expect["node"].tolist()
    assert calls["snap_m"].max() < 0.5  # state-plane feet, POINT text, GCJ-02: all exact
    assert calls["priority"].tolist() == expect["priority"].astype(float).tolist()
    assert calls["type"].tolist() == expect["type"].map(THEIR_TYPES[name]).tolist()
    assert calls["time"].tolist() == expect["time"].tolist()  # local wall-clock time
    if name == "seattle":  # its export has no closing time
        assert calls["on_scene_min"].isna().all()
    else:
        assert np.allclose(calls["on_scene_min"], expect["on_scene_min"])
    assert np.allclose(calls["response_min"], expect["dispatch_min"] + expect["travel_min"])
    assert table.unmapped.to_dict() == {
        k.strip(): int((t["type"] == k)[~bad].sum()) for k, v in THEIR_TYPES[name].items()
        if v is None
    }  # fmt: skip


def test_each_export_is_fitted_and_replayed_with_no_preparation(city, capsys):
    name, folder, _, world = city
    t = truth(world, name)
    write_export(name, t, folder / "calls.csv")
    (folder / "map.yaml").write_text(yaml.safe_dump(type_map(name), allow_unicode=True), "utf-8")
    out = folder / "fitted.yaml"
    argv = ["fit", str(folder / "calls.csv"), "--scenario", str(folder / "base.yaml"),
            "--out", str(out), "--types", str(folder / "map.yaml")]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert f"calls.csv (layout {name}): {N} rows" in printed
    assert "kept as on-view incidents" in printed
    assert load_scenario(out).calls.rate_per_hour > 0
    new_types = yaml.safe_load((folder / "fitted_types.yaml").read_text(encoding="utf-8"))
    assert list(new_types) == [k.strip() for k, v in THEIR_TYPES[name].items() if v is None]
    raw = small_raw(trace="calls.csv", trace_types=type_map(name))
    raw["network"] = {"kind": "graphml", "path": "grid.graphml"}
    (folder / "replay.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    argv = ["run", "--scenario", str(folder / "replay.yaml"), "--quiet", "--out",
            str(folder / "res")]  # fmt: skip
    assert main(argv) == 0
    printed, err = capsys.readouterr()
    assert f"replaying calls.csv (layout {name})" in err
    calibration = pd.read_csv(folder / "res" / "calibration_small.csv", index_col=0)
    assert "priority 1: median (min)" in calibration.index
    assert "priority 1: within 10 min" in calibration.index


def test_priority_codes_with_letters_zero_and_a_reversed_scale(tmp_path):
    from sim.calls.layouts import load_layout, place
    from sim.calls.prepare import priorities

    raw = pd.DataFrame({"TimeCreate": ["x"] * 6, "TypeText": "t", "Location": "",
                        "Priority": ["3", "2A", "1C", "0", "0A", "4"]})  # fmt: skip
    reasons = pd.Series(pd.NA, index=raw.index, dtype="string")
    placement = place(load_layout("new_orleans"), raw.columns)
    got = priorities(raw, placement, reasons)
    assert got[:5].tolist() == [1.0, 2.0, 3.0, 4.0, 4.0] and np.isnan(got[5])
    assert reasons.isna().tolist() == [True] * 5 + [False]
    assert "priority off the layout's scale: 4 (most urgent 3, least urgent 0)" == reasons[5]


def test_an_unknown_header_names_what_it_could_not_place(tmp_path, capsys):
    with pytest.raises(SimInputError) as err:
        choose_layout(["when", "what", "Blurred_Latitude"], None, "x.csv")
    text = str(err.value)
    assert "no layout recognised; columns not placed: when, what;" in text
    for name in ("own", "new_orleans", "seattle", "detroit", "china_110"):
        assert f"{name} lacks" in text
    assert "\n" not in text


def _wuhan_table(folder, system: str) -> None:
    crs, lon, lat = CITIES["china_110"]
    city_network(folder / "grid.graphml", crs, lon, lat)
    raw = small_raw()
    raw["network"] = {"kind": "graphml", "path": "grid.graphml"}
    raw["snap_tolerance_m"] = 100.0
    (folder / "base.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    world = build_world(load_scenario(folder / "base.yaml"))
    x, y = world.router.x[:20], world.router.y[:20]
    lon_, lat_ = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
    convert = prcoords.wgs_bd if system == "bd09" else prcoords.wgs_gcj
    shifted = [convert((b, a)) for a, b in zip(lon_, lat_, strict=True)]
    pd.DataFrame({
        "接警时间": [f"2025-03-05 0{i % 10}:00:00" for i in range(20)], "警情类别": "纠纷",
        "经度": [s.lon for s in shifted], "纬度": [s.lat for s in shifted],
    }).to_csv(folder / "calls.csv", index=False)  # fmt: skip


def _fails(capsys, argv, *texts) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for text in texts:
        assert text in err, err
    return err


def test_points_in_the_wrong_system_say_which_one_places_them(tmp_path, capsys):
    _wuhan_table(tmp_path, "bd09")
    out = tmp_path / "new.yaml"
    argv = ["fit", str(tmp_path / "calls.csv"), "--scenario", str(tmp_path / "base.yaml"),
            "--out", str(out), "--types", str(tmp_path / "m.yaml")]  # fmt: skip
    (tmp_path / "m.yaml").write_text("纠纷: dispute\n", encoding="utf-8")
    _fails(
        capsys,
        argv,
        "of 20 points are off the map read as gcj02; read as bd09 20 fall on it",
        "--crs bd09",
    )
    assert not out.exists() and not (tmp_path / "new_types.yaml").exists()
    assert main([*argv, "--crs", "bd09"]) == 0


def test_ambiguous_dates_say_the_order_and_how_to_force_the_other(tmp_path, capsys):
    _wuhan_table(tmp_path, "gcj02")
    table = pd.read_csv(tmp_path / "calls.csv")
    table["接警时间"] = [f"0{1 + i % 9}/03/2025 08:00" for i in range(20)]
    table.to_csv(tmp_path / "calls.csv", index=False)
    (tmp_path / "m.yaml").write_text("纠纷: dispute\n", encoding="utf-8")
    out = tmp_path / "new.yaml"
    argv = ["fit", str(tmp_path / "calls.csv"), "--scenario", str(tmp_path / "base.yaml"),
            "--out", str(out), "--types", str(tmp_path / "m.yaml"), "--layout", "own",
            "--columns", "time=接警时间", "--columns", "type=警情类别", "--columns", "lon=经度",
            "--columns", "lat=纬度", "--crs", "gcj02"]  # fmt: skip
    _fails(capsys, argv, "01/03/2025 read both month-first (2025-01-03) and day-first "
           "(2025-03-01); month-first would be chosen", "--date-order dmy")  # fmt: skip
    assert not out.exists()
    assert main([*argv, "--date-order", "dmy"]) == 0
    assert "9 days from 2025-03-01" in load_scenario(out).description


def test_an_impossible_zoned_first_time_is_a_reject_not_a_traceback(tmp_path):
    from sim.calls.times import parse_times

    times, zone = parse_times(pd.Series(["2025/02/30 08:15:00+00", "2025/03/01 09:00:00+00"]),
                              None)  # fmt: skip
    assert zone == "UTC" and pd.isna(times[0]) and str(times[1]) == "2025-03-01 09:00:00"
    times, zone = parse_times(pd.Series(["2025/02/30 08:15:00+00"]), None)
    assert pd.isna(times[0]) and zone == "wall-clock time as written"


def test_split_fits_both_periods_and_reports_them_as_recorded(tmp_path, capsys):
    name, folder, _, world = make_city("china_110", tmp_path)
    t = truth(world, name)
    split = START + pd.Timedelta(days=3)
    after = (t["time"] >= split).to_numpy()
    t.loc[after, "travel_min"] = t.loc[after, "travel_min"] / 2  # the reform: nearer units
    spoiled = write_export(name, t, folder / "calls.csv")
    (folder / "map.yaml").write_text(yaml.safe_dump(type_map(name), allow_unicode=True), "utf-8")
    out = folder / "new.yaml"
    argv = ["fit", str(folder / "calls.csv"), "--scenario", str(folder / "base.yaml"),
            "--out", str(out), "--types", str(folder / "map.yaml"),
            "--split", f"{split:%Y-%m-%d}"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert f"before and after {split:%Y-%m-%d}, as recorded:" in printed
    report = pd.read_csv(folder / "new_split.csv").set_index("figure")
    rows = np.arange(1, N + 1)
    good = ~t["type"].map(THEIR_TYPES[name]).isna().to_numpy() & ~np.isin(rows, list(spoiled))
    residents = good & ~t["self"].to_numpy()
    for side, mask in (("before", ~after), ("after", after)):
        part = t[residents & mask]
        assert report.loc["calls", side] == len(part)
        own = int((good & mask & t["self"].to_numpy()).sum())
        assert report.loc["self-initiated share", side] == pytest.approx(
            own / (own + len(part)), abs=5e-4)  # fmt: skip
        share = (part["type"].map(THEIR_TYPES[name]) == "dispute").mean()
        assert report.loc["share dispute", side] == pytest.approx(share, abs=5e-4)
        for p, group in part.groupby("priority"):
            response = group["dispatch_min"] + group["travel_min"]
            mean = report.loc[f"priority {p}: response mean (min)", side]
            assert mean == pytest.approx(response.mean(), abs=5e-4)
            assert report.loc[f"priority {p}: within 10 min", side] == pytest.approx(
                (response <= 10).mean(), abs=5e-4)  # fmt: skip
        scenario = load_scenario(folder / f"new_{side}.yaml")
        delay = part["dispatch_min"].to_numpy(float)
        assert scenario.dispatch.delay_min.median == pytest.approx(
            np.exp(np.log(delay).mean()), abs=0.006)  # fmt: skip
        fit_report = pd.read_csv(folder / f"new_{side}_fit.csv")
        travel = fit_report[(fit_report["kind"] == "recorded_travel_median_min")
                            & (fit_report["key"] == "type dispute")]["observed"]  # fmt: skip
        disputes = part[part["type"].map(THEIR_TYPES[name]) == "dispute"]
        assert travel.item() == pytest.approx(disputes["travel_min"].median())
    assert not (folder / "new.yaml").exists()


def test_split_outside_the_calls_is_one_clear_error(tmp_path, capsys):
    name, folder, _, world = make_city("china_110", tmp_path)
    write_export(name, truth(world, name), folder / "calls.csv")
    (folder / "map.yaml").write_text(yaml.safe_dump(type_map(name), allow_unicode=True), "utf-8")
    out = folder / "new.yaml"
    argv = ["fit", str(folder / "calls.csv"), "--scenario", str(folder / "base.yaml"),
            "--out", str(out), "--types", str(folder / "map.yaml"),
            "--split", "2030-01-01"]  # fmt: skip
    _fails(capsys, argv, "--split 2030-01-01: no usable call after it")
    assert not list(folder.glob("new*"))


def test_replay_uses_each_rows_priority_and_time_on_scene(tmp_path):
    from sim.calls.replay import load_trace
    from sim.measures.records import call_records
    from sim.model import PatrolModel
    from sim.reporting.layers import calls as calls_layer

    name, folder, _, world = make_city("china_110", tmp_path)
    t = truth(world, name)
    write_export(name, t, folder / "calls.csv")
    raw = small_raw(trace="calls.csv", trace_types=type_map(name))
    raw["network"] = {"kind": "graphml", "path": "grid.graphml"}
    raw["units"] = [{"post": "office A", "count": 20}, {"post": "office B", "count": 20}]
    (folder / "replay.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    scenario = load_scenario(folder / "replay.yaml")
    model = PatrolModel(scenario)
    model.run()
    records = call_records(model)
    trace = load_trace(scenario, model.world)
    replayed = trace.table.calls
    base = records[records["repeat_of"].isna() & records["problem"].isna()]
    assert len(base) == len(replayed)
    # types map to priority 3 in the scenario; the rows' own (1-4) are kept
    assert base["priority"].tolist() == replayed["priority"].astype(int).tolist()
    on_scene = (base["t_clear"] - base["t_arrive"]).to_numpy()
    assert np.allclose(on_scene, replayed["on_scene_min"].to_numpy())
    layer = calls_layer(model.world, records, scenario)
    first = layer[layer["id"] == base["id"].iloc[0]].iloc[0]
    assert first["source_row"] == replayed["row"].iloc[0]
    assert first["source_id"] == replayed["id"].iloc[0]
    assert first["snap_m"] == pytest.approx(replayed["snap_m"].iloc[0]) and first["snap_m"] < 0.5
    assert first["wall_clock"] == f"{replayed['time'].iloc[0]:%Y-%m-%d %H:%M:%S}"
    assert layer.loc[layer["is_repeat"], "source_row"].isna().all()

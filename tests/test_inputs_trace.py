"""Calls tables and replay (sim.inputs.calls_table, sim.inputs.trace) on a small network."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from sim.errors import SimInputError
from sim.inputs.calls_table import read_calls_table
from sim.inputs.trace import load_trace
from sim.model import PatrolModel
from sim.records import call_records
from sim.scenario import validate
from sim.world import build_world

START = pd.Timestamp("2025-03-05 00:00")  # a Wednesday


def small_raw(trace=None, **calls) -> dict:
    """Two communities with an office each on a 1 km x 1 km synthetic district."""
    raw = {
        "name": "small",
        "days": 5,
        "warmup_days": 1,
        "seed": 3,
        "network": {"kind": "synthetic", "width_km": 1.0, "height_km": 1.0, "seed": 1},
        "communities": [{"name": "A", "population": 1000}, {"name": "B", "population": 1500}],
        "posts": [
            {"name": "office A", "kind": "office", "community": "A"},
            {"name": "office B", "kind": "office", "community": "B"},
        ],
        "units": [{"post": "office A"}, {"post": "office B"}],
        "community_work": {"enabled": False},
        "calls": {
            "rate_per_hour": 1.0,
            "types": [
                {"name": "dispute", "share": 1, "service_min": 20},
                {"name": "theft", "share": 1, "service_min": {"dist": "exponential", "mean": 30}},
            ],
            **calls,
        },
    }
    if trace is not None:
        raw["calls"]["trace"] = str(trace)
    return raw


def make_table(world, n: int = 200, seed: int = 0, days: float = 6.0) -> pd.DataFrame:
    """Good rows at random nodes (a few metres off), in time order, with response times."""
    rng = np.random.default_rng(seed)
    nodes = rng.integers(0, world.router.n_nodes, n)
    minutes = np.sort(rng.uniform(0, days * 1440, n))
    return pd.DataFrame(
        {
            "time": (START + pd.to_timedelta(minutes, unit="min")).strftime("%Y-%m-%d %H:%M:%S"),
            "x": world.router.x[nodes] + 3.0,
            "y": world.router.y[nodes] - 2.0,
            "type": rng.choice(["dispute", "theft"], n),
            "response_min": rng.gamma(3.0, 2.0, n).round(2),
        }
    )


def spoil(table: pd.DataFrame) -> dict[int, str]:
    """Make four rows bad, one of each kind; return their row numbers and reasons."""
    table.loc[3, "time"] = "yesterday-ish"
    table.loc[7, "x"] = 50_000.0
    table.loc[11, "type"] = "ufo"
    table.loc[15, "time"] = "2025-04-30 12:00:00"
    return {
        4: "unparseable time",
        8: "beyond snapping tolerance",
        12: "unknown call type",
        16: "outside the horizon",
    }


@pytest.fixture
def world():
    return build_world(validate(small_raw(), "<test>"))


def test_replay_makes_exactly_the_usable_calls_in_the_horizon(world, tmp_path):
    table = make_table(world)
    bad = spoil(table)
    path = tmp_path / "calls.csv"
    table.to_csv(path, index=False)
    scenario = validate(small_raw(trace="calls.csv"), "<test>")
    model = PatrolModel(scenario, base_dir=tmp_path)
    model.run()
    records = call_records(model)
    base = records[records["repeat_of"].isna() & records["problem"].isna()]
    trace = load_trace(scenario, model.world, tmp_path)
    usable = trace.table.calls
    # the table starts on day 0 and spans 6 days = the horizon; the spoiled rows are out
    assert len(usable) == len(table) - len(bad)
    assert len(base) == len(usable)
    assert np.allclose(base["t_call"].to_numpy(), usable["t_min"].to_numpy())
    assert base["type"].tolist() == usable["type"].tolist()
    nodes = [str(world.router.node_ids[i]) for i in usable["node"]]
    assert base["node"].tolist() == nodes
    expected_t = (pd.to_datetime(table.drop(index=[r - 1 for r in bad])["time"]) - START)
    assert np.allclose(usable["t_min"], expected_t.dt.total_seconds() / 60)


def test_rejects_carry_row_numbers_and_reasons(world, tmp_path):
    table = make_table(world)
    bad = spoil(table)
    path = tmp_path / "calls.csv"
    table.to_csv(path, index=False)
    scenario = validate(small_raw(trace=path), "<test>")
    trace = load_trace(scenario, world)
    rejects = trace.table.rejects
    assert rejects["row"].tolist() == sorted(bad)
    for row, reason in bad.items():
        (text,) = rejects.loc[rejects["row"] == row, "reason"]
        assert text.startswith(reason), text
    assert rejects.loc[rejects["row"] == 12, "type"].item() == "ufo"  # the original values
    assert "known: dispute, theft" in rejects.loc[rejects["row"] == 12, "reason"].item()
    assert "4 rejected" in trace.table.summary()


def test_two_scenarios_replaying_one_file_stay_paired(world, tmp_path):
    make_table(world).to_csv(tmp_path / "calls.csv", index=False)
    first = validate(small_raw(trace=tmp_path / "calls.csv"), "<test>")
    raw = small_raw(trace=tmp_path / "calls.csv")
    raw["units"] = [{"post": "office A", "count": 3}]
    raw["snap_tolerance_m"] = 400  # another usable set would not shift anyone's draws
    second = validate(raw, "<test>")
    a, b = PatrolModel(first), PatrolModel(second)
    assert np.array_equal(a._stream.t_call_min, b._stream.t_call_min)
    assert np.array_equal(a._stream.draws, b._stream.draws)
    other_seed = PatrolModel(first, seed=99)
    assert not np.array_equal(a._stream.draws, other_seed._stream.draws)


def test_time_zones_are_converted_to_the_stated_zone(world, tmp_path):
    table = pd.DataFrame(
        {
            "time": ["2025-03-05T08:00:00+08:00", "2025-03-05T01:30:00Z", "2025-03-05 10:00"],
            "x": world.router.x[:3],
            "y": world.router.y[:3],
            "type": "theft",
        }
    )
    path = tmp_path / "calls.csv"
    table.to_csv(path, index=False)
    own = read_calls_table(path)
    assert own.timezone == "UTC+08:00"  # the first zone the table gives
    assert own.calls["time"].dt.hour.tolist() == [8, 9, 10]
    utc = read_calls_table(path, timezone="UTC")
    assert utc.calls["time"].dt.strftime("%H:%M").tolist() == ["00:00", "01:30", "10:00"]
    with pytest.raises(SimInputError, match="unknown time zone 'Mars/Olympus'"):
        read_calls_table(path, timezone="Mars/Olympus")


def test_parquet_with_other_column_names(world, tmp_path):
    table = make_table(world, n=30).rename(columns={"time": "接警时间", "type": "警情类别"})
    table["接警时间"] = pd.to_datetime(table["接警时间"]).dt.tz_localize("Asia/Shanghai")
    path = tmp_path / "calls.parquet"
    table.to_parquet(path)
    scenario = validate(
        small_raw(trace=path, trace_columns={"time": "接警时间", "type": "警情类别"}), "<test>"
    )
    trace = load_trace(scenario, world)
    assert len(trace.table.calls) == 30 and trace.table.timezone == "Asia/Shanghai"


def test_no_usable_row_is_one_clear_error(world, tmp_path):
    table = make_table(world, n=5).assign(type="ufo")
    table.to_csv(tmp_path / "calls.csv", index=False)
    scenario = validate(small_raw(trace=tmp_path / "calls.csv"), "<test>")
    with pytest.raises(SimInputError, match=r"none of its 5 rows is usable \(5 unknown call type"):
        load_trace(scenario, world)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"when": "x"}, "unknown column"),
        ({"time": "Zeit"}, "no column 'Zeit'"),
    ],
)
def test_bad_column_mapping(world, tmp_path, columns, message):
    make_table(world, n=5).to_csv(tmp_path / "calls.csv", index=False)
    with pytest.raises(SimInputError, match=message):
        read_calls_table(tmp_path / "calls.csv", columns=columns)


def test_lat_lon_on_a_synthetic_network_says_what_to_give(world, tmp_path):
    table = pd.DataFrame({"time": ["2025-03-05 10:00"], "lat": [30.5], "lon": [114.5], "type": "theft"})
    table.to_csv(tmp_path / "calls.csv", index=False)
    scenario = validate(small_raw(trace=tmp_path / "calls.csv"), "<test>")
    with pytest.raises(SimInputError, match="give x/y in metres"):
        load_trace(scenario, world)


def test_missing_file_and_no_rate_needed(tmp_path):
    raw = small_raw(trace="nowhere.csv")
    del raw["calls"]["rate_per_hour"]
    scenario = validate(copy.deepcopy(raw), "<test>")  # a replay needs no rate
    with pytest.raises(SimInputError, match="calls.trace: calls table not found"):
        PatrolModel(scenario, base_dir=tmp_path)

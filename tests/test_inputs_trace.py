"""Calls tables and replay (sim.calls.table, sim.calls.replay) on a small network."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from inputs_support import START, make_table, small_raw, spoil

from sim.calls.replay import load_trace
from sim.calls.table import read_calls_table
from sim.errors import SimInputError
from sim.measures.records import call_records
from sim.model import PatrolModel
from sim.network.world import build_world
from sim.scenarios.load import validate


@pytest.fixture
def world():
    return build_world(validate(small_raw(), "<test>"))


def test_replay_makes_exactly_the_usable_calls_in_the_horizon(world, tmp_path):
    table = make_table(world)
    bad = spoil(table)
    path = tmp_path / "calls.csv"
    table.to_csv(path, index=False)
    scenario = validate(small_raw(trace="calls.csv"), "<test>")
    model = PatrolModel(scenario.located(tmp_path))
    model.run()
    records = call_records(model)
    base = records[records["repeat_of"].isna() & records["problem"].isna()]
    trace = load_trace(model.scenario, model.world)
    usable = trace.table.calls
    # the table starts on day 0 and spans 6 days = the horizon; the spoiled rows are out
    assert len(usable) == len(table) - len(bad)
    assert len(base) == len(usable)
    assert np.allclose(base["t_call"].to_numpy(), usable["t_min"].to_numpy())
    assert base["type"].tolist() == usable["type"].tolist()
    nodes = [str(world.router.node_ids[i]) for i in usable["node"]]
    assert base["node"].tolist() == nodes
    expected_t = pd.to_datetime(table.drop(index=[r - 1 for r in bad])["time"]) - START
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
    assert np.array_equal(a.call_stream.t_call_min, b.call_stream.t_call_min)
    assert np.array_equal(a.call_stream.draws, b.call_stream.draws)
    other_seed = PatrolModel(first, seed=99)
    assert not np.array_equal(a.call_stream.draws, other_seed.call_stream.draws)


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
    table = pd.DataFrame(
        {"time": ["2025-03-05 10:00"], "lat": [30.5], "lon": [114.5], "type": "theft"}
    )
    table.to_csv(tmp_path / "calls.csv", index=False)
    scenario = validate(small_raw(trace=tmp_path / "calls.csv"), "<test>")
    with pytest.raises(SimInputError, match="give x/y in metres"):
        load_trace(scenario, world)


def test_missing_file_and_no_rate_needed(tmp_path):
    raw = small_raw(trace="nowhere.csv")
    del raw["calls"]["rate_per_hour"]
    scenario = validate(copy.deepcopy(raw), "<test>")  # a replay needs no rate
    with pytest.raises(SimInputError, match=r"calls\.trace: calls table not found"):
        PatrolModel(scenario.located(tmp_path))


@pytest.mark.parametrize(
    ("text", "in_shanghai"),
    [
        ("2025-03-03T08:15:00Z", "2025-03-03 16:15:00"),
        ("2025-03-03T08:15:00.5-0500", "2025-03-03 21:15:00.500000"),
        ("2025-03-03 08:15+08", "2025-03-03 08:15:00"),
        ("2025-03-03 08:15", "2025-03-03 08:15:00"),  # no zone: already Shanghai time
        ("2025-03-03", "2025-03-03 00:00:00"),  # a date alone is not an offset
        ("2025/03/04 23:59:59", "2025-03-04 23:59:59"),
    ],
)
def test_time_formats(text, in_shanghai):
    from sim.calls.table import parse_times

    times, zone = parse_times(pd.Series([text]), "Asia/Shanghai")
    assert zone == "Asia/Shanghai" and str(times.iloc[0]) == in_shanghai


def test_run_command_says_what_it_rejects_and_checks_calibration(world, tmp_path, capsys):
    import yaml

    from sim.cli import main

    table = make_table(world)
    bad = spoil(table)
    table.to_csv(tmp_path / "calls.csv", index=False)
    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump(small_raw(trace="calls.csv")), encoding="utf-8")
    out = tmp_path / "res"
    argv = ["run", "--scenario", str(scenario), "--reps", "2", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    printed, err = capsys.readouterr()
    assert "small: replaying calls.csv: 200 rows, 196 usable, 4 rejected" in err
    assert "t = 0 at 2025-03-05 00:00" in err
    assert "observed against simulated response (calibration check)" in printed
    rejects = pd.read_csv(out / "trace_rejects_small.csv", encoding="utf-8-sig")
    assert rejects["row"].tolist() == sorted(bad)
    calibration = pd.read_csv(out / "calibration_small.csv", index_col=0)
    usable = table.drop(index=[row - 1 for row in bad])
    after_warmup = pd.to_datetime(usable["time"]) >= START + pd.Timedelta(days=1)
    observed = calibration.loc["calls with a response time (per replication)", "observed"]
    assert observed == after_warmup.sum()
    assert calibration.loc["mean (min)", "observed"] == pytest.approx(
        usable.loc[after_warmup, "response_min"].mean()
    )

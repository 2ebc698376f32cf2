"""The shipped example dispatch export (sim/examples/wuhan_calls.csv) and its walk-through."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calls.table import read_calls_table
from sim.cli import main
from sim.errors import SimInputError
from sim.measures.records import call_records
from sim.model import PatrolModel
from sim.network.world import build_world
from sim.scenarios.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "sim" / "examples" / "wuhan_calls.csv"


def _wuhan_missing() -> bool:
    """Whether the Wuhan scenarios' street network cannot be found (then skip)."""
    from sim.network.sources import resolve_path

    scenario = load_scenario("optics_valley_east")
    try:
        resolve_path(scenario.network.path, scenario.source_dir, "OSM file")
    except SimInputError:
        return True
    return False


needs_wuhan = pytest.mark.skipif(_wuhan_missing(), reason="the Wuhan extract is not found")


def _script():
    spec = importlib.util.spec_from_file_location(
        "make", ROOT / "experiments" / "make_example_calls.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_is_small_and_its_bad_rows_are_rejected_with_reasons():
    assert EXAMPLE.stat().st_size < 300_000
    scenario = load_scenario("optics_valley_east")
    table = read_calls_table(EXAMPLE, types=[t.name for t in scenario.calls.types])
    reasons = table.rejects["reason"].str.split(":").str[0].tolist()
    # without a network nothing is snapped: the point in Beijing and the late call pass here
    assert reasons == ["unparseable time", "no time", "unknown call type", "no call type"]
    assert table.timezone == "UTC+08:00"
    assert len(table.calls) + len(table.rejects) == table.rows_read


@needs_wuhan
@pytest.mark.slow
def test_the_walk_through_fits_back_the_truth_and_replays_every_usable_row(tmp_path, capsys):
    truth = _script()
    out = tmp_path / "fitted.yaml"
    argv = ["fit", str(EXAMPLE), "--scenario", "optics_valley_east", "--days", "56",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "6 rejected" in printed and "beyond snapping tolerance" in printed
    report = pd.read_csv(tmp_path / "fitted_fit.csv")
    rate = report[report["kind"] == "rate"].iloc[0]
    assert rate["ci95_low"] <= truth.RATE_PER_HOUR <= rate["ci95_high"]
    days = report[report["kind"] == "day_of_week"]
    daily = np.asarray(truth.DAILY) / np.mean(truth.DAILY)
    assert ((days["ci95_low"] <= daily) & (daily <= days["ci95_high"])).all()
    fitted = load_scenario(out)
    assert fitted.calls.rate_per_hour == pytest.approx(truth.RATE_PER_HOUR, rel=0.1)
    assert build_world(fitted).network.is_osm_data  # its base's network is found

    scenario = load_scenario(
        "optics_valley_east", [f"calls.trace={EXAMPLE}", "days=54", "warmup_days=2"]
    )
    model = PatrolModel(scenario)
    model.run()
    records = call_records(model)
    replayed = records[records["repeat_of"].isna() & records["problem"].isna()]
    assert len(replayed) == 804 - 6  # every usable row in the 56 days, nothing else

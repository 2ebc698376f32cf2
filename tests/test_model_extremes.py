"""Extreme parameters: no queueing with very many units, no calls, overload."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from sim.analysis.replications import run_once, run_replications
from sim.measures.records import COLUMNS
from sim.reporting.folders import write_json
from sim.scenarios.load import load_scenario


def test_very_many_units_never_queue():
    sc = load_scenario("erlang_c", ["units.0.count=60", "days=60"])
    _, records, summary = run_once(sc)
    counted = records[~records["in_warmup"]]
    assert len(counted) > 2500
    assert summary["p_queued"] == 0
    assert not records["queued"].any()
    assert (records["t_assigned"] == records["t_ready"]).all()
    assert summary["queue_min"] == {"mean": 0.0, "median": 0.0, "p90": 0.0, "max": 0.0}
    # ... and the busy share is the offered load spread over 60 units
    assert summary["utilization"]["mean"] == pytest.approx(2 / 60 * 45 / 60, rel=0.05)


def test_zero_call_rate_gives_empty_results(tmp_path):
    sc = load_scenario("erlang_c", ["calls.rate_per_hour=0", "days=3", "replications=2"])
    model, records, summary = run_once(sc)
    assert model.calls == [] and len(records) == 0
    assert list(records.columns) == list(COLUMNS)
    assert {c: str(t) for c, t in records.dtypes.items()} == COLUMNS
    assert summary["calls"] == 0 and summary["answered"] == 0
    assert summary["p_queued"] is None and summary["response_min"]["mean"] is None
    assert summary["utilization"]["mean"] == 0.0
    result = run_replications(sc, progress=False)
    assert result.summary["calls"] == 0 and len(result.records) == 0
    write_json(result.summary, tmp_path / "s.json")  # serialisable, no NaN
    assert json.loads((tmp_path / "s.json").read_text())["calls"] == 0


def test_overload_queue_grows_with_the_horizon():
    """rho = 5/h x 45 min / 3 = 1.25: waits keep growing, roughly linearly in time."""
    sc = load_scenario("erlang_c", ["calls.rate_per_hour=5", "days=20", "warmup_days=0"])
    _, records, summary = run_once(sc)
    waits = (records["t_assigned"] - records["t_ready"]).to_numpy()
    day = (records["t_call"] // 1440).to_numpy()
    daily = pd.Series(waits).groupby(day).mean()  # calls never answered are left out: lower bound
    assert summary["p_queued"] > 0.95
    assert daily.iloc[-5:].mean() > 3 * daily.iloc[:5].mean()
    means = [daily.iloc[k : k + 5].mean() for k in range(0, 20, 5)]
    assert all(b > a for a, b in itertools.pairwise(means)), means
    # the backlog after t minutes is about (lambda - c/S) t
    backlog = int(records["t_assigned"].isna().sum())
    expected = (5 / 60 - 3 / 45) * 20 * 1440
    assert backlog == pytest.approx(expected, rel=0.35)
    # utilisation saturates at 1
    assert summary["utilization"]["mean"] > 0.99
    assert np.isfinite(summary["response_min"]["max"])

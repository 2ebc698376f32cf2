"""Sensitivity analysis: Sobol and Morris indices on analytic functions and on a tiny sweep."""

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.sweeps.designs import unit_sample
from sim.sweeps.sensitivity import indices

NAMES = ["linear", "square", "dummy"]


def model(x: np.ndarray) -> np.ndarray:
    """4 x0 + x1^2 (x2 does nothing): S1 = ST = 0.9375, 0.0625, 0 analytically."""
    return 4 * x[:, 0] + x[:, 1] ** 2


def test_sobol_indices_match_the_analytic_values():
    x = unit_sample("sobol", 3, 512, 4, seed=1)
    frame = indices("sobol", NAMES, model(x), seed=1)
    expected = {"linear": 0.9375, "square": 0.0625, "dummy": 0.0}
    for name, value in expected.items():
        row = frame.loc[name]
        for column in ("S1", "ST"):
            assert -0.02 <= row[column] <= 1.02
            assert abs(row[column] - value) <= max(row[f"{column}_conf"], 0.02), (name, column)
    assert abs(frame.loc["dummy", "ST"]) < 0.01


def test_morris_finds_the_dummy_and_the_slope():
    x = unit_sample("morris", 3, 20, 4, seed=2)
    frame = indices("morris", NAMES, model(x), x, levels=4, seed=2)
    assert frame.loc["dummy", "mu_star"] == pytest.approx(0, abs=1e-12)
    assert frame.loc["linear", "mu_star"] == pytest.approx(4)
    assert 0 < frame.loc["square", "mu_star"] < 2  # 2x + delta on average


def test_constant_output_gives_undefined_indices_without_warnings():
    frame = indices("sobol", NAMES, np.ones(8 * 5))
    assert frame.isna().all().all()


def test_tiny_sobol_sweep_with_analyze(tmp_path, capsys):
    spec = {
        "name": "tiny-sobol",
        "scenario": "erlang_c",
        "set": {"days": 1, "warmup_days": 0},
        "design": "sobol",
        "samples": 4,
        "parameters": {
            "calls.rate_per_hour": {"low": 1, "high": 4},
            "residents.people_per_agent": {"low": 50, "high": 200, "integer": True},
        },
        "metrics": ["calls", "utilization.mean"],
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    out = tmp_path / "out"
    args = ["sweep", str(path), "--out", str(out), "--executor", "inline", "--quiet", "--analyze"]
    assert main(args) == 0
    assert "S1" in capsys.readouterr().out
    assert (out / "sensitivity.png").stat().st_size > 1000
    table = pd.read_csv(out / "sensitivity.csv").set_index(["metric", "parameter"])
    idle = table.loc[("calls", "residents.people_per_agent")]
    assert idle["S1"] == pytest.approx(0, abs=1e-9) and idle["ST"] == pytest.approx(0, abs=1e-9)
    assert table.loc[("calls", "calls.rate_per_hour"), "ST"] > 0.5
    assert main(["analyze", str(out), "--metric", "p_queued"]) == 0
    assert main(["analyze", str(out), "--metric", "no_such_metric"]) == 2

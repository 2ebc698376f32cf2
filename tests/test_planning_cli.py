"""The planning commands: files written, bad input as one message and exit code 2."""

from __future__ import annotations

import pytest

from sim.cli import main


@pytest.mark.slow
def test_plan_offices_command_writes_plan_table_and_map(tmp_path, capsys):
    out = tmp_path / "plan.yaml"
    code = main(["plan", "offices", "erlang_c", "--p", "1", "--out", str(out)])
    assert code == 0
    assert out.is_file() and out.with_suffix(".csv").is_file() and out.with_suffix(".png").is_file()
    assert "Planned office 1" in capsys.readouterr().out


def test_infeasible_plan_is_one_clear_message(tmp_path, capsys):
    code = main(["plan", "offices", "erlang_c", "--p", "3", "--out", str(tmp_path / "x.yaml")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --p 3: there are 1 candidate sites")
    assert not (tmp_path / "x.yaml").exists()


def test_hypercube_command_prints_the_analytic_side(capsys):
    assert main(["hypercube", "erlang_c", "--no-sim"]) == 0
    out = capsys.readouterr().out
    assert "P(wait)" in out and "23.7%" in out

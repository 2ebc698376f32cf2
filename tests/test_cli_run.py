"""The command line's run commands: bad input, smoke runs of every shipped scenario, results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim.reporting.folders
from sim.cli import main
from sim.measures.records import COLUMNS
from sim.network.sources import WUHAN_OSM
from sim.scenarios.load import available_scenarios

WUHAN = WUHAN_OSM
ROOT = Path(__file__).resolve().parents[1]


def _fails_cleanly(capsys, argv: list[str], *expected: str, max_lines: int = 5) -> list[str]:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.strip().splitlines()
    assert 1 <= len(lines) <= max_lines, err
    for text in expected:
        assert text in err, err
    return lines


@pytest.fixture
def scenario_file(tmp_path):
    def write(text: str) -> str:
        path = tmp_path / "bad.yaml"
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def test_unknown_scenario_name(capsys):
    (line,) = _fails_cleanly(capsys, ["run", "--scenario", "no_such_scenario"], "no_such_scenario")
    assert "erlang_c" in line  # says what is shipped


def test_scenario_file_not_found(capsys, tmp_path):
    missing = tmp_path / "nope.yaml"
    _fails_cleanly(capsys, ["run", "--scenario", str(missing)], "not found", str(missing))


@pytest.mark.parametrize(
    ("yaml_text", "key_path"),
    [
        ("extends: erlang_c\nname: bad\ndayz: 3\n", "dayz"),
        ("extends: erlang_c\nname: bad\ndispatch: {polcy: nearest}\n", "dispatch.polcy"),
        ("extends: erlang_c\nname: bad\ndays: lots\n", "days"),
        ("extends: erlang_c\nname: bad\ncalls: {rate_per_hour: -2}\n", "calls.rate_per_hour"),
        ("extends: erlang_c\nname: bad\nunits: [{post: post, count: 0}]\n", "units.0.count"),
        ("extends: erlang_c\nname: bad\nunits: []\n", "units"),
    ],
)
def test_bad_scenario_file(capsys, scenario_file, yaml_text, key_path):
    path = scenario_file(yaml_text)
    lines = _fails_cleanly(capsys, ["run", "--scenario", path, "--quiet"])
    assert all(path in line for line in lines if not line.startswith("...")), lines
    assert any(f": {key_path}:" in line for line in lines), lines


def test_not_yaml(capsys, scenario_file):
    """PyYAML's message points at the place with a caret over a few lines: allowed."""
    path = scenario_file("name: [unclosed\n")
    lines = _fails_cleanly(capsys, ["run", "--scenario", path], "YAML", "line 2", max_lines=10)
    assert path in lines[0]


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (["--set", "units.5.count=2"], "units.5"),
        (["--set", "days.x=1"], "days"),
        (["--set", "no_equals_sign"], "no_equals_sign"),
        (["--set", "calls.rate_per_hour=-1"], "calls.rate_per_hour"),
        (["--set", "units.0.count=0"], "units.0.count"),
        (["--set", "units=[]"], "units"),
        (["--set", "nonsense_key=1"], "nonsense_key"),
        (["--reps", "0"], "--reps"),
    ],
)
def test_bad_options(capsys, tmp_path, option, expected):
    out = tmp_path / "out"
    _fails_cleanly(capsys, ["run", "--scenario", "erlang_c", "--out", str(out), *option], expected)
    assert not out.exists()


@pytest.mark.slow
def test_bad_input_in_a_real_process_has_no_traceback():
    proc = subprocess.run(
        [sys.executable, "run_sim.py", "run", "--scenario", "erlang_c", "--set", "units.0.count=0"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert "units.0.count" in lines[0] and 1 <= len(lines) <= 3
    assert all("erlang_c.yaml: units" in line for line in lines)


@pytest.mark.parametrize("name", sorted(available_scenarios()))
@pytest.mark.slow
def test_every_shipped_scenario_smoke_runs(capsys, tmp_path, name):
    out, summary_json = tmp_path / "results", tmp_path / "summary.json"
    argv = ["run", "--scenario", name, "--days", "2", "--reps", "2", "--quiet"]
    code = main([*argv, "--out", str(out), "--json", str(summary_json)])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err
    assert {"records.parquet", "summary.json", "response_cdf.png"} <= {
        p.name for p in out.iterdir()
    }
    records = pd.read_parquet(out / "records.parquet")
    assert list(records.columns)[: len(COLUMNS)] == list(COLUMNS)
    assert set(records["replication"]) <= {0, 1} and set(records["scenario"]) == {name}
    assert (out / "response_cdf.png").stat().st_size > 1000
    summary = json.loads(summary_json.read_text())
    assert summary["scenario"] == name and summary["replications"] == 2 and summary["days"] == 2
    assert "ci95" in summary
    assert set(json.loads((out / "summary.json").read_text())) == {name}
    assert "response" in stdout  # the table


def test_set_count_works_on_the_command_line(capsys, tmp_path):
    summary_json = tmp_path / "s.json"
    argv = ["run", "--scenario", "erlang_c", "--days", "3", "--reps", "1", "--quiet",
            "--set", "units.0.count=5", "--out", str(tmp_path / "o"),
            "--json", str(summary_json)]  # fmt: skip
    assert main(argv) == 0
    capsys.readouterr()
    summary = json.loads(summary_json.read_text())
    # five units at 2/h x 45 min: offered load 1.5, so 30% busy
    assert summary["utilization"]["mean"] == pytest.approx(0.3, abs=0.08)
    assert summary["p_queued"] < 0.05


def test_a_failed_run_keeps_the_existing_results_folder(
    capsys, tmp_path, monkeypatch, scenario_file
):
    out = tmp_path / "results"
    out.mkdir()
    (out / "keep.txt").write_text("earlier results")
    (out / "summary.json").write_text("{}")  # an earlier results folder: it may be replaced
    # 1. fails at loading the network, before any writing
    bad = scenario_file(
        "extends: erlang_c\nname: bad\nnetwork: {kind: graphml, path: missing.graphml}\n"
    )
    _fails_cleanly(
        capsys, ["run", "--scenario", bad, "--out", str(out), "--quiet"], "missing.graphml"
    )

    # 2. fails half way through writing the results
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sim.reporting.folders, "write_bulletins", broken)  # the last thing written
    with pytest.raises(RuntimeError, match="disk full"):
        main(
            [
                "run",
                "--scenario",
                "erlang_c",
                "--days",
                "1",
                "--reps",
                "1",
                "--quiet",
                "--out",
                str(out),
            ]
        )
    capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt", "summary.json"]
    assert (out / "keep.txt").read_text() == "earlier results"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no debris
    # 3. a run that succeeds replaces it whole
    monkeypatch.undo()
    assert (
        main(
            [
                "run",
                "--scenario",
                "erlang_c",
                "--days",
                "1",
                "--reps",
                "1",
                "--quiet",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert not (out / "keep.txt").exists() and (out / "records.parquet").exists()


def test_the_wuhan_scenario_without_its_file_says_how_to_point_at_one(capsys):
    code = main(["run", "--scenario", "optics_valley_east", "--days", "1", "--quiet",
                 "--set", "network.path=/nowhere/extract.osm"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "/nowhere/extract.osm" in err and "--set network.path=FILE" in err

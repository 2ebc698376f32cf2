"""The ledger and driver: resume, failures with tracebacks, retries, the exported table."""

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.errors import SimInputError
from sim.sweeps.driver import run_sweep
from sim.sweeps.executors import execute_run, open_pool
from sim.sweeps.ledger import Ledger
from sim.sweeps.spec import check_points, make_plan, parse_spec

SPEC = {
    "name": "tiny",
    "scenario": "erlang_c",
    "set": {"days": 1, "warmup_days": 0},
    "design": "list",
    "parameters": {"units.0.count": [2, 0, 3]},  # 0 units fails validation: one bad point
    "replications": 2,
}


def inline():
    return open_pool("inline")


def plan_of(tmp_path: Path, **kw):
    return make_plan(parse_spec({**SPEC, **kw}).located(tmp_path))


def test_failures_are_recorded_with_traceback_and_the_rest_finish(tmp_path):
    plan = plan_of(tmp_path)
    assert len(check_points(plan)) == 1  # one bad point: a warning, not a spec error
    stats = run_sweep(plan, tmp_path / "out", inline, progress=False)
    assert (stats.done, stats.failed) == (4, 2)
    table = pd.read_parquet(stats.table)
    assert len(table) == 6 and table["key"].is_unique
    bad = table[table["param.units.0.count"] == 0]
    assert set(bad["status"]) == {"failed"} and bad["calls"].isna().all()
    assert bad["error"].str.contains("SimInputError").all()
    good = table[table["status"] == "done"]
    assert (good["calls"] > 0).all() and good["response_min.mean"].notna().all()
    with Ledger(tmp_path / "out", lock=False) as ledger:
        failures = ledger.failures()
    assert len(failures) == 2
    assert "Traceback (most recent call last)" in failures["traceback"].iloc[0]
    assert "units.0.count" in failures["traceback"].iloc[0]


def test_rerun_resumes_with_zero_new_runs_and_retries_only_on_request(tmp_path):
    out = tmp_path / "out"
    run_sweep(plan_of(tmp_path), out, inline, progress=False)
    before = pd.read_parquet(out / "runs.parquet")

    def no_pool():
        raise AssertionError("nothing should run")

    again = run_sweep(plan_of(tmp_path), out, no_pool, progress=False)
    assert (again.todo, again.skipped) == (0, 6)
    after = pd.read_parquet(out / "runs.parquet")
    pd.testing.assert_frame_equal(before, after)

    retried = run_sweep(plan_of(tmp_path), out, inline, retry_failed=True, progress=False)
    assert (retried.todo, retried.failed) == (2, 2)
    with Ledger(out, lock=False) as ledger:
        assert set(ledger.failures()["attempts"]) == {2}


class FailFirstTime:
    """A run function that fails each run once (marker files), then runs it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, task):
        marker = self.folder / task.key
        if not marker.exists():
            marker.touch()
            raise RuntimeError("transient trouble")
        return execute_run(task)


def test_a_fixed_failure_succeeds_on_retry(tmp_path):
    out = tmp_path / "out"
    plan = plan_of(tmp_path, parameters={"units.0.count": [2, 3]})
    flaky = FailFirstTime(tmp_path)
    first = run_sweep(plan, out, inline, run_fn=flaky, progress=False, max_attempts=1)
    assert first.failed == 4
    second = run_sweep(plan, out, inline, run_fn=flaky, progress=False)
    assert second.todo == 0
    third = run_sweep(plan, out, inline, run_fn=flaky, retry_failed=True, progress=False)
    assert (third.done, third.failed) == (4, 0)
    assert set(pd.read_parquet(out / "runs.parquet")["status"]) == {"done"}


def test_more_replications_reuse_finished_runs(tmp_path):
    out = tmp_path / "out"
    run_sweep(plan_of(tmp_path, replications=1), out, inline, progress=False)
    stats = run_sweep(plan_of(tmp_path, replications=2), out, inline, progress=False)
    assert (stats.skipped, stats.todo) == (3, 3)


def test_identical_points_share_one_run_but_each_has_its_row(tmp_path):
    plan = plan_of(tmp_path, parameters={"units.0.count": [2, 2]}, replications=1)
    stats = run_sweep(plan, tmp_path / "out", inline, progress=False)
    assert stats.todo == 1
    table = pd.read_parquet(stats.table)
    assert list(table["point"]) == [0, 1] and table["calls"].nunique() == 1


def test_ledger_is_wal_and_single_writer(tmp_path):
    with Ledger(tmp_path) as ledger:
        mode = ledger.db.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
        with pytest.raises(SimInputError, match="another sweep is writing"):
            Ledger(tmp_path)
    db = sqlite3.connect(tmp_path / "ledger.sqlite")
    assert db.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    db.close()


def test_cli_sweep_reports_and_exits_1_on_failures(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    args = ["sweep", str(spec), "--out", str(tmp_path / "out"), "--executor", "inline", "--quiet"]
    assert main(args) == 1
    text = capsys.readouterr().out
    assert "4 of 6 runs done, 2 failed" in text and "first failure: point 1" in text
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({**SPEC, "parameters": {"units.0.count": [2]}}), "utf-8")
    assert main([*args[:1], str(good), *args[2:], "--set", "days=0.5", "--reps", "1"]) == 0
    assert "1 of 1 runs done, 0 failed" in capsys.readouterr().out
    assert main(["sweep", str(tmp_path / "nope.yaml")]) == 2
    assert "cannot read sweep spec" in capsys.readouterr().err
    assert main(["analyze", str(tmp_path / "out")]) == 2  # a list is not a sobol design
    assert "needs a sobol or morris design" in capsys.readouterr().err

"""Faults: a worker killed (local pool and Dask), the driver killed, local vs Dask results."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.sweeps.driver import run_sweep
from sim.sweeps.executors import execute_run, open_pool
from sim.sweeps.ledger import Ledger
from sim.sweeps.spec import make_plan, parse_spec

ROOT = Path(__file__).resolve().parents[1]
SPEC = {
    "name": "faults",
    "scenario": "erlang_c",
    "set": {"days": 1, "warmup_days": 0},
    "parameters": {"calls.rate_per_hour": [1, 2, 3, 4]},
    "replications": 3,
}


class CrashOnce:
    """Kill the worker process running ``key`` the first time (a marker file remembers)."""

    def __init__(self, key: str, marker: Path) -> None:
        self.key, self.marker = key, str(marker)

    def __call__(self, task):
        if task.key == self.key and not os.path.exists(self.marker):
            Path(self.marker).touch()
            os._exit(13)  # no cleanup, no exception: as if killed
        return execute_run(task)


def plan_of(tmp_path: Path):
    return make_plan(parse_spec(SPEC).located(tmp_path))


def metrics_by_key(table: pd.DataFrame) -> dict[str, dict]:
    skip = {"worker", "seconds", "finished_at", "attempts"}
    return {row["key"]: {k: v for k, v in row.items() if k not in skip} for _, row in
            table.iterrows()}  # fmt: skip


@pytest.mark.slow
def test_local_worker_killed_loses_nothing(tmp_path):
    plan = plan_of(tmp_path)
    victim = plan.tasks[5].key
    crash = CrashOnce(victim, tmp_path / "crashed")
    finished_before_crash = []

    def watch(task, outcome):
        if not (tmp_path / "crashed").exists():
            finished_before_crash.append(task.key)

    stats = run_sweep(plan, tmp_path / "out", lambda: open_pool("local", 2), run_fn=crash,
                      progress=False, on_outcome=watch)  # fmt: skip
    assert (tmp_path / "crashed").exists() and stats.lost >= 1
    assert (stats.done, stats.failed) == (12, 0)
    table = pd.read_parquet(stats.table)
    assert len(table) == 12 and table["key"].is_unique and set(table["status"]) == {"done"}
    with Ledger(tmp_path / "out", lock=False) as ledger:
        attempts = dict(ledger.db.execute("SELECT key, attempts FROM runs"))
    assert all(attempts[k] == 1 for k in finished_before_crash)  # nothing recomputed


class CrashAlways(CrashOnce):
    """Kill the worker every time it runs ``key``."""

    def __call__(self, task):
        if task.key == self.key:
            os._exit(13)
        return execute_run(task)


@pytest.mark.slow
def test_a_run_that_always_kills_its_worker_ends_failed_alone(tmp_path):
    plan = plan_of(tmp_path)
    plan.tasks[:] = plan.tasks[:6]
    stats = run_sweep(plan, tmp_path / "out", lambda: open_pool("local", 2),
                      run_fn=CrashAlways(plan.tasks[1].key, tmp_path / "m"), progress=False,
                      max_attempts=2)  # fmt: skip
    assert (stats.done, stats.failed) == (5, 1)
    table = pd.read_parquet(stats.table).set_index("key")
    assert table.loc[plan.tasks[1].key, "status"] == "failed"
    assert "worker lost 2 times" in table.loc[plan.tasks[1].key, "error"]


def _ledger_count(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT count(*) FROM runs WHERE status='done'").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_driver_killed_then_rerun_gives_every_run_exactly_once(tmp_path):
    spec = {**SPEC, "set": {"days": 4, "warmup_days": 0}, "replications": 10}
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    out = tmp_path / "out"
    command = [sys.executable, str(ROOT / "run_sim.py"), "sweep", str(spec_path), "--out",
               str(out), "--workers", "2", "--quiet"]  # fmt: skip
    driver = subprocess.Popen(command, cwd=ROOT, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while _ledger_count(out / "ledger.sqlite") < 4 and time.monotonic() < deadline:
            assert driver.poll() is None, driver.stderr.read().decode()
            time.sleep(0.05)
        driver.send_signal(signal.SIGKILL)  # the driver only: its workers are orphaned
        driver.wait(10)
        killed_at = _ledger_count(out / "ledger.sqlite")
        assert 4 <= killed_at < 40
        assert not (out / "runs.parquet").exists()
        rerun = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert "40 of 40 runs done, 0 failed" in rerun.stdout
    finally:
        try:
            os.killpg(driver.pid, signal.SIGKILL)  # any orphan left (they also exit on their own)
        except ProcessLookupError:
            pass
        driver.stderr.close()
    table = pd.read_parquet(out / "runs.parquet")
    assert len(table) == 40 and table["key"].is_unique and set(table["status"]) == {"done"}
    assert sorted(zip(table["point"], table["replication"], strict=True)) == [
        (p, r) for p in range(4) for r in range(10)
    ]


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    import logging

    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=logging.CRITICAL,
    )  # fmt: skip
    yield cluster.scheduler_address
    cluster.close()


@pytest.mark.slow
def test_local_and_dask_give_identical_results_per_key(tmp_path, dask_cluster):
    plan = plan_of(tmp_path)
    local = run_sweep(plan, tmp_path / "local", lambda: open_pool("local", 2), progress=False)
    dask = run_sweep(plan, tmp_path / "dask", lambda: open_pool("dask", scheduler=dask_cluster),
                     progress=False)  # fmt: skip
    by_local = metrics_by_key(pd.read_parquet(local.table))
    by_dask = metrics_by_key(pd.read_parquet(dask.table))
    assert len(by_local) == 12 and by_local.keys() == by_dask.keys()
    for key, row in by_local.items():
        assert json.dumps(row, default=str) == json.dumps(by_dask[key], default=str), key


@pytest.mark.slow
def test_dask_worker_killed_loses_nothing(tmp_path, dask_cluster):
    plan = plan_of(tmp_path)
    crash = CrashOnce(plan.tasks[3].key, tmp_path / "crashed")
    stats = run_sweep(plan, tmp_path / "out", lambda: open_pool("dask", scheduler=dask_cluster),
                      run_fn=crash, progress=False)  # fmt: skip
    assert (tmp_path / "crashed").exists()
    assert (stats.done, stats.failed) == (12, 0)
    table = pd.read_parquet(stats.table)
    assert len(table) == 12 and table["key"].is_unique and set(table["status"]) == {"done"}

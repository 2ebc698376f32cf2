"""Replications in a pool of processes: the same results, byte for byte, as in one process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.analysis.pool import available_cores, start_server
from sim.analysis.replications import policy_modules, run_tasks
from sim.cli import main
from sim.dispatch.policies import POLICIES, nearest, register_policy

ROOT = Path(__file__).resolve().parents[1]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_one_and_two_workers_write_the_same_files_byte_for_byte(capsys, tmp_path):
    outputs = {}
    for workers in (1, 2):
        out, summary = tmp_path / f"w{workers}", tmp_path / f"w{workers}.json"
        argv = ["compare", "erlang_c", "embedded", "--days", "7", "--reps", "3", "--quiet",
                "--workers", str(workers), "--out", str(out), "--json", str(summary)]  # fmt: skip
        assert main(argv) == 0
        err = capsys.readouterr().err
        assert "6 replications in" in err and f"({workers} worker(s))" in err
        outputs[workers] = _files(out), summary.read_bytes()
    files_1, json_1 = outputs[1]
    files_2, json_2 = outputs[2]
    assert len(files_1) > 10 and "records.parquet" in files_1
    assert files_1.keys() == files_2.keys()
    assert [name for name in files_1 if files_1[name] != files_2[name]] == []
    assert json_1 == json_2


def test_sim_compare_in_a_pool_equals_in_process():
    one = sim.compare("central", "embedded", reps=3, days=5, workers=1)
    two = sim.compare("central", "embedded", reps=3, days=5, workers=2)
    for a, b in zip(one.results, two.results, strict=True):
        assert list(a.records["replication"].unique()) == [0, 1, 2]
        pd.testing.assert_frame_equal(a.records, b.records)
        assert a.summaries == b.summaries
        assert a.summary["response_min"] == b.summary["response_min"]
    pd.testing.assert_frame_equal(one.table, two.table)


def test_sim_run_uses_every_core_by_default_with_the_same_result():
    pooled = sim.run("erlang_c", reps=3, days=3, workers=None)  # every core
    alone = sim.run("erlang_c", reps=3, days=3, workers=1)
    pd.testing.assert_frame_equal(pooled.records, alone.records)
    assert list(pooled.records["replication"].drop_duplicates()) == [0, 1, 2]
    assert len({s["calls"] for s in pooled.summaries}) > 1  # three different replications
    assert pooled.summary == alone.summary


def test_records_made_in_worker_processes_equal_those_made_here():
    sc = sim.load_scenario("embedded", days=5)
    tasks = [(sc, rep) for rep in range(3)]
    here = run_tasks(tasks, workers=1, progress=False)
    elsewhere = run_tasks(tasks, workers=2, progress=False, here=False)  # pool only
    for (a, summary_a), (b, summary_b) in zip(here, elsewhere, strict=True):
        pd.testing.assert_frame_equal(a, b)
        assert summary_a == summary_b
    assert [int(a["replication"].iloc[0]) for a, _ in elsewhere] == [0, 1, 2]


@pytest.mark.parametrize("workers", [0, -2])
def test_bad_workers_fail_cleanly(capsys, tmp_path, workers):
    out = tmp_path / "o"
    code = main(["run", "--scenario", "erlang_c", "--workers", str(workers), "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines() == [f"error: --workers {workers}: at least 1 worker is needed"]
    assert not out.exists()
    with pytest.raises(sim.SimInputError, match="at least 1 worker"):
        sim.run("erlang_c", days=1, workers=workers)


def test_a_policy_a_worker_cannot_import_runs_in_process():
    def nearest_here(model, call, candidates):
        return nearest(model, call, candidates)

    nearest_here.__module__ = "__main__"  # as if defined in a script: not importable
    register_policy("nearest_here", pools="shared")(nearest_here)
    try:
        sc = sim.load_scenario("erlang_c", days=1, set={"dispatch.policy": "nearest_here"})
        assert policy_modules([sc]) is None
        with pytest.warns(UserWarning, match="running in this process"):  # said, not silent
            result = sim.run(sc, reps=2, workers=2)  # would fail in a worker
        assert result.summary["calls"] > 0
    finally:
        POLICIES.unregister("nearest_here")
    assert policy_modules([sim.load_scenario("embedded")]) == []


def _group(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc")
@pytest.mark.parametrize("started", [4, 2], ids=["pool running", "pool starting"])
def test_ctrl_c_stops_the_workers_and_leaves_no_orphans(tmp_path, started):
    proc = subprocess.Popen(
        [sys.executable, "run_sim.py", "run", "--scenario", "embedded", "--days", "400",
         "--reps", "4", "--workers", "2", "--quiet", "--out", str(tmp_path / "o")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(_group(proc.pid)) < started and time.monotonic() < deadline:  # 4: the worker
            time.sleep(0.02)  # 2: the fork server is still loading; 4: tracker, server, worker
        assert len(_group(proc.pid)) >= started, "the pool never started"
        time.sleep(1.0 if started == 4 else 0.0)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    deadline = time.monotonic() + 10
    while _group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _group(proc.pid) == []
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "argv",
    [["run", "--workers", "1"], ["compare", "a", "b", "--reps=1"], ["run", "--help"]],
)
def test_no_pool_server_is_started_for_a_run_without_a_pool(argv):
    assert start_server(argv) is False


def test_the_pool_server_starts_before_the_command_loads():
    if available_cores() < 2:
        pytest.skip("one core: no pool")
    assert start_server(["run", "--scenario", "embedded", "--reps", "4"]) is True
    from multiprocessing import forkserver

    assert forkserver._forkserver._forkserver_pid is not None  # running

"""Replication workers that die (killed, out of memory): retried once, then one clear line."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sim.analysis.pool import process_pool
from sim.analysis.sharing import SharedTasks, spilled, unspilled
from sim.errors import WorkerLostError

ROOT = Path(__file__).resolve().parents[1]
VICTIM = 3


def flaky(index: int, folder: str, mode: str) -> int:
    """A task; task VICTIM's worker dies (once, or every time), as if killed."""
    marker = Path(folder) / f"died-{index}"
    if index == VICTIM and os.getpid() != int(Path(folder, "driver").read_text()):
        if mode == "always" or (mode == "once" and not marker.exists()):
            marker.touch()
            os._exit(9)
    if mode == "slow_here" and os.getpid() == int(Path(folder, "driver").read_text()):
        until = time.monotonic() + 120
        while time.monotonic() < until:  # Python at work, as a model run is
            pass
    return index * index


def big_then_dies(index: int, folder: str, delay_s: str) -> bytes | int:
    """Task VICTIM's worker dies ``delay_s`` after its 40 MB outcome starts on its way back."""
    if index == VICTIM and os.getpid() != int(Path(folder, "driver").read_text()):
        threading.Timer(float(delay_s), os._exit, (9,)).start()
        return b"x" * 40_000_000
    return index * index


def warm(task: tuple[int, str, str]) -> None:
    """A worker's start; it dies there (once, or every time) in the start modes."""
    _, folder, mode = task
    marker = Path(folder) / "died-at-start"
    if mode == "start_always" or (mode == "start_once" and not marker.exists()):
        marker.touch()
        os._exit(9)


def shared(tmp_path: Path, mode: str, n: int = 8, workers: int = 2) -> tuple[SharedTasks, list]:
    Path(tmp_path, "driver").write_text(str(os.getpid()))
    told: list[str] = []
    tasks = [(i, str(tmp_path), mode) for i in range(n)]
    names = [f"task {i}" for i in range(n)]
    return SharedTasks(tasks, flaky, warm, lambda: process_pool(workers, modules=()),
                       names, tell=told.append), told  # fmt: skip


def stop(shared_tasks: SharedTasks) -> None:
    for pool in shared_tasks.pools:
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["once", "start_once"])
def test_a_worker_dying_once_costs_one_retry_and_nothing_else(tmp_path, mode):
    workers = 1 if mode.startswith("start") else 2  # 2: another worker may lose a task too
    tasks, told = shared(tmp_path, mode, workers=workers)
    try:
        assert tasks.run(workers, here=False) == [i * i for i in range(8)]
    finally:
        stop(tasks)
    assert len(tasks.pools) == 2  # started again once
    if mode == "once":
        assert len(told) == 1 and told[0].startswith("task 3")  # (and another in flight)
        assert "lost with a worker process that died (killed, or out of memory?)" in told[0]
        assert told[0].endswith("once")
    else:
        assert told == ["a worker process died while starting (killed, or out of memory?); "
                        "starting the pool again"]  # fmt: skip


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["always", "start_always"])
def test_a_second_death_ends_the_run_naming_the_task(tmp_path, mode):
    workers = 1 if mode.startswith("start") else 2
    tasks, told = shared(tmp_path, mode, workers=workers)
    started = time.monotonic()
    try:
        with pytest.raises(WorkerLostError) as caught:
            tasks.run(workers, here=False)
    finally:
        stop(tasks)
    assert time.monotonic() - started < 60
    assert len(told) == 1
    # task 3 kills its worker each time; a task in flight on the pool's other worker is lost
    # with it (and named after it) when the pool breaks: that depends on timing
    expected = (
        r"task 3(, task \d+)*: lost with" if mode == "always" else "a worker process died while"
    )
    assert re.match(expected, str(caught.value)), str(caught.value)
    assert "died" in str(caught.value) and "--workers 1" in str(caught.value)
    if mode == "always":  # what finished is kept
        assert [tasks.outcomes[i] for i in (0, 1, 2)] == [0, 1, 4]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("delay_s", ["0.01", "0.03", "0.05", "0.08", "0.12"])
def test_a_worker_killed_while_sending_its_outcome_does_not_hang_the_run(tmp_path, delay_s):
    # Sent through the pool's pipe, half a 40 MB outcome left CPython's pool waiting for the
    # rest forever (at 0.05 s on this machine); outcomes now come back through files.
    tasks, _ = shared(tmp_path, delay_s, workers=1)
    tasks.work = big_then_dies
    started = time.monotonic()
    try:  # it dies with its task 3 every time, or (when the outcome came back first) after
        outcomes = tasks.run(1, here=False)
    except WorkerLostError as error:
        assert "died" in str(error), str(error)
    else:
        assert outcomes[3] == b"x" * 40_000_000
    finally:
        stop(tasks)
    assert time.monotonic() - started < 60
    assert [tasks.outcomes[i] for i in (0, 1, 2)] == [0, 1, 4]
    assert not Path(tasks.folder).exists()  # the outcomes' folder is gone


class FullDisk:
    def __reduce__(self):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_an_outcome_comes_back_through_a_file_that_is_then_gone(tmp_path):
    path = spilled(lambda a, b: {"sum": a + b}, str(tmp_path), 7, 2, 3)
    assert path == str(tmp_path / "7.pickle")
    assert unspilled(path) == {"sum": 5}
    assert not Path(path).exists()


def test_a_full_disk_while_a_worker_keeps_its_outcome_names_the_file(tmp_path):
    with pytest.raises(OSError) as caught:  # (the CLI prints it as one line, with the file)
        spilled(FullDisk, str(tmp_path), 7)
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == str(tmp_path / "7.pickle")


@pytest.mark.timeout(120)
def test_a_second_death_stops_the_task_running_here_within_seconds(tmp_path):
    tasks, _ = shared(tmp_path, "always", workers=1)
    tasks.tasks = [(i, str(tmp_path), "slow_here" if i == 0 else "always") for i in range(8)]
    started = time.monotonic()
    try:
        with pytest.raises(WorkerLostError, match="task 3"):
            tasks.run(1, here=True)  # this process is busy with task 0 for 2 minutes
    finally:
        stop(tasks)
    assert time.monotonic() - started < 60


# -- through the command line, with real kills ------------------------------------------
def _children(pid: int) -> list[int]:
    """Child pids of ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _workers(driver: int) -> list[int]:
    """The pool's worker processes: children of the fork server, a child of the driver."""
    return [w for server in _children(driver) for w in _children(server)]


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run(tmp_path: Path, kill_after_cpu_s: float, kills: int) -> tuple[int, str, float]:
    """``run`` of central with 2 workers; SIGKILL workers (after some CPU time) ``kills`` times.

    24 replications (about 0.8 s of CPU each) leave the restarted pool enough work to reach
    the CPU time of a second kill; with 10, a fast machine could finish first.
    """
    argv = [sys.executable, "run_sim.py", "run", "--scenario", "central", "--days", "365",
            "--reps", "24", "--workers", "2", "--quiet", "--out", str(tmp_path / "o"),
            "--json", str(tmp_path / "s.json")]  # fmt: skip
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, env=env)  # fmt: skip
    started, killed, spared = time.monotonic(), set(), set()
    try:
        while proc.poll() is None and len(killed) < kills and time.monotonic() - started < 180:
            alive = set(_workers(proc.pid))
            for worker in alive - killed - spared:
                if _cpu_s(worker) >= kill_after_cpu_s:
                    os.kill(worker, signal.SIGKILL)
                    killed.add(worker)
                    # One death per pool: its other workers go down with it, so a second
                    # kill among them would not be a second death of the run. (Those seen
                    # before the kill: a list taken after it may hold the next pool's.)
                    spared |= alive - killed
                    break
            time.sleep(0.02)
        last_kill = time.monotonic()
        try:
            _, err = proc.communicate(timeout=240)
        except subprocess.TimeoutExpired:  # hung: every thread's stack, for the failure
            os.kill(proc.pid, signal.SIGABRT)  # (faulthandler is on: PYTHONFAULTHANDLER)
            _, err = proc.communicate(timeout=30)
            pytest.fail(f"no end 240 s after the last kill; the driver's threads:\n{err}")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert len(killed) == kills, err
    return proc.returncode, err, time.monotonic() - last_kill


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc")
@pytest.mark.timeout(300)
@pytest.mark.parametrize("when_cpu_s", [0.0, 1.5], ids=["while starting", "mid-replication"])
def test_killed_worker_is_retried_once_and_the_run_completes(tmp_path, when_cpu_s):
    code, err, _ = _run(tmp_path, when_cpu_s, kills=1)
    assert code == 0, err
    assert "Traceback" not in err
    assert ("retrying it once" in err) or ("starting the pool again" in err)
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["replications"] == 24


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc")
@pytest.mark.timeout(300)
@pytest.mark.parametrize("when_cpu_s", [0.0, 1.5], ids=["while starting", "mid-replication"])
def test_killed_twice_ends_run_with_one_line_in_seconds(tmp_path, when_cpu_s):
    code, err, after_s = _run(tmp_path, when_cpu_s, kills=2)
    assert code == 1, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "died" in lines[0] and "(killed, or out of memory?)" in lines[0], err
    assert after_s < 15
    assert not (tmp_path / "o").exists()

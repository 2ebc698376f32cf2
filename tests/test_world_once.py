"""The world (network, router, tables) is built once per worker process, not once per task."""

from __future__ import annotations

import os
from pathlib import Path

from sim.analysis.pool import process_pool
from sim.network.world import build_world
from sim.scenarios.load import validate
from sim.sweeps.executors import execute_run
from sim.sweeps.spec import make_plan, parse_spec

SPEC = {
    "name": "world_once",
    "scenario": "embedded",
    "set": {"days": 1, "warmup_days": 0},
    "parameters": {"dispatch.delay_min.median": [1.0, 2.0], "units.*.count": [1, 2]},
    "replications": 2,
}


_KEPT: list = []  # the worlds seen in this (worker) process, so that no id() is reused


def run_and_world(task) -> tuple[int, int, str]:
    """Run a sweep task; this process's id, the id of the world it used, and its status."""
    outcome = execute_run(task)
    world = build_world(validate(task.raw, task.source).located(task.base_dir))
    _KEPT.append(world)
    return os.getpid(), id(world), outcome["status"]


def test_sweep_tasks_in_one_worker_process_share_one_world(tmp_path: Path):
    plan = make_plan(parse_spec(SPEC).located(tmp_path))
    assert len(plan.tasks) == 8
    pool = process_pool(1, modules=())
    try:
        seen = [pool.submit(run_and_world, task).result() for task in plan.tasks]
    finally:
        pool.shutdown(wait=True)
    assert {status for _, _, status in seen} == {"done"}
    assert len({pid for pid, _, _ in seen}) == 1  # one worker process
    assert len({world for _, world, _ in seen}) == 1  # built once, for all 8 tasks
    assert seen[0][0] != os.getpid()

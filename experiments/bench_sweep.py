"""Sweep throughput (runs/min) and per-run overhead of each executor.

Runs the same small sweep (the embedded district, a few days per run) in this process
(the baseline), on the local process pool with 1 and 2 workers, and on a local Dask cluster,
each into a fresh ledger. Reports: wall time with start-up, steady throughput (between the
first and the last result), and the per-run overhead = workers x steady time per run minus
the in-process time per run.

    .venv/bin/python experiments/bench_sweep.py [--runs 48] [--days 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sim.sweeps.driver import run_sweep
from sim.sweeps.executors import open_pool
from sim.sweeps.spec import make_plan, parse_spec


def plan_for(runs: int, days: float):
    spec = parse_spec(
        {
            "name": "bench",
            "scenario": "embedded",
            "set": {"days": days, "warmup_days": 0},
            "parameters": {"dispatch.borrow_after_min": [0, 5]},
            "replications": max(1, runs // 2),
        }
    )
    return make_plan(spec.located(Path.cwd()))


def measure(plan, kind: str, workers: int | None) -> dict[str, float]:
    """Wall time including start-up, and the steady time between first and last result."""
    stamps: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        stats = run_sweep(
            plan,
            folder,
            lambda: open_pool(kind, workers),
            progress=False,
            on_outcome=lambda task, outcome: stamps.append(time.perf_counter()),
        )
        wall = time.perf_counter() - started
    assert stats.done == len(plan.tasks), stats
    steady = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
    return {"wall_s": wall, "steady_s_per_run": steady, "workers": workers or 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=48)
    parser.add_argument("--days", type=float, default=3)
    parser.add_argument("--workers", type=int, default=2, help="workers of the Dask cluster")
    args = parser.parse_args()
    plan = plan_for(args.runs, args.days)
    n = len(plan.tasks)
    print(f"sweep: {n} runs of the embedded district, {args.days:g} days each\n")
    cases = [("in-process", "inline", None), ("local x1", "local", 1), ("local x2", "local", 2),
             (f"dask local x{args.workers}", "dask", args.workers)]  # fmt: skip
    results = {name: measure(plan, kind, workers) for name, kind, workers in cases}
    base = results["in-process"]["steady_s_per_run"]
    print(f"{'executor':<18}{'wall s':>8}{'runs/min':>10}{'steady runs/min':>17}"
          f"{'overhead ms/run':>17}")  # fmt: skip
    for name, r in results.items():
        overhead = (r["workers"] * r["steady_s_per_run"] - base) * 1000
        print(f"{name:<18}{r['wall_s']:>8.1f}{60 * n / r['wall_s']:>10.0f}"
              f"{60 / r['steady_s_per_run']:>17.0f}{overhead:>17.1f}")  # fmt: skip
    print(f"\nin-process time per run: {base * 1000:.1f} ms")


if __name__ == "__main__":
    main()

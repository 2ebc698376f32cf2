"""The floor of ``bench_model.py``'s ``patrol_cost``: what no change to the Python side can cut.

The patrolling city year, run once with its compiled kernels timed (every call of each is
wrapped, which adds well under a microsecond a call):

- the searches from live positions: the dispatched unit's time from where it is (one
  source), the ranking of units on patrol (many sources), the paths driven (to the scene,
  back to the tour);
- the covering walks of the 40 beats (built once a run);
- the laps: a random Euler circuit drawn for each lap, its arrays, and legs joined across
  two laps;
- the passes folded into coverage by shift.

Their sum (less what the run without patrol spends in them too), added to that run, is the
least the patrolling run could cost were every Python line of patrol free (the event loop,
legs, positions, coverage bookkeeping): the figure that says whether ``PATROL_COST_TARGET``
is within reach of the Python side.

    python experiments/bench_patrol_floor.py [--calls 100000]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any


def _timed(spent: dict[str, list[float]], kind: str, function: Callable) -> Callable:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = function(*args, **kwargs)
        spent.setdefault(kind, []).append(time.perf_counter() - started)
        return result

    return wrapper


def _search_kind(args: tuple) -> str:
    return "search: nearest, 1 source" if len(args[4]) == 1 else "search: ranking, many sources"


def _timed_searches(spent: dict[str, list[float]]) -> None:
    from sim.network import search

    nearest = search.nearest_minutes

    def ranked(*args: Any) -> Any:
        return _timed(spent, _search_kind(args), nearest)(*args)

    search.nearest_minutes = ranked
    search.path_between = _timed(spent, "search: path", search.path_between)
    search.time_between = _timed(spent, "search: time", search.time_between)


def _timed_patrol_kernels(spent: dict[str, list[float]]) -> None:
    from sim.patrol import circuits, pass_kernel, tours

    tours.covering_multiset = _timed(spent, "covering walks", tours.covering_multiset)
    circuits.Circuits.draw = _timed(spent, "laps: circuit drawn", circuits.Circuits.draw)
    tours.Tour.arrays_of = _timed(spent, "laps: arrays", tours.Tour.arrays_of)
    tours.across_laps = _timed(spent, "legs across two laps", tours.across_laps)
    pass_kernel.fold = _timed(spent, "passes folded", pass_kernel.fold)


def _run_s(case: str, calls: int) -> tuple[float, int]:
    from bench_model import SCENARIOS

    from sim.model import PatrolModel
    from sim.network.world import build_world
    from sim.scenarios.load import validate

    scenario = validate(SCENARIOS[case](calls), f"<bench {case}>")
    model = PatrolModel(scenario, 0, build_world(scenario), keep_calls=False)
    started = time.perf_counter()
    model.run()
    return time.perf_counter() - started, model.calls_made


def patrol_floor(calls: int) -> dict:
    """The city year without patrol, then with patrol, kernels timed in both (this process).

    A kernel's time in the patrolling run, less its time in the other (the searches the run
    without patrol makes too), is what patrol adds.
    """
    spent: dict[str, list[float]] = {}
    _timed_searches(spent)
    _timed_patrol_kernels(spent)
    without_s, _ = _run_s("city", calls)
    before = {kind: (len(times), sum(times)) for kind, times in spent.items()}
    spent.clear()
    with_s, calls_made = _run_s("city_patrol", calls)
    kernels = {
        kind: {"count": len(times) - before.get(kind, (0, 0.0))[0],
               "seconds": sum(times) - before.get(kind, (0, 0.0))[1]}
        for kind, times in spent.items()
    }  # fmt: skip
    return {"without_s": without_s, "with_s": with_s, "calls": calls_made, "kernels": kernels}


def report_floor(floor: dict, target: float) -> None:
    """Print each kernel's time and the least ratio the Python side could reach."""
    kernels = floor["kernels"]
    without_s = floor["without_s"]
    print(
        f"\npatrol floor: what patrol adds in compiled kernels, timed ({floor['calls']} "
        f"calls; {floor['with_s']:.2f} s with the timers, {without_s:.2f} s without patrol)"
    )
    for kind, k in sorted(kernels.items()):
        print(
            f"  {kind:<32}{k['count']:>9} calls {k['seconds']:7.2f} s "
            f"{1e6 * k['seconds'] / max(k['count'], 1):8.1f} us each"
        )
    kernels_s = sum(k["seconds"] for k in kernels.values())
    searches_s = sum(k["seconds"] for kind, k in kernels.items() if kind.startswith("search"))
    budget_s = (target - 1.0) * without_s
    print(
        f"  budget for all of patrol at {target}x: {budget_s:.2f} s; the searches from live "
        f"positions alone take {searches_s:.2f} s, all kernels {kernels_s:.2f} s"
    )
    print(f"  were every Python line of patrol free, the run would still be "
          f"{(without_s + kernels_s) / without_s:.2f}x "
          f"({(without_s + searches_s) / without_s:.2f}x from the searches alone)")  # fmt: skip


def main() -> None:
    """Measure and print the floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    args = parser.parse_args()
    floor = patrol_floor(args.calls)
    if args.json:
        print(json.dumps(floor))
    else:
        from bench_model import PATROL_COST_TARGET

        report_floor(floor, PATROL_COST_TARGET)


if __name__ == "__main__":
    main()

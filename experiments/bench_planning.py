"""Planning benchmark: p-median with 200 candidate sites and 10 offices on the 10k-node city,
and the exact hypercube for 10 units. Prints medians of a few repeats.

    .venv/bin/python experiments/bench_planning.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from sim.network.routing import Router
from sim.network.sources import SyntheticNetworkSpec, load_network
from sim.planning.costs import aggregate_demand, candidate_sites, travel_min
from sim.planning.hypercube import System, exact
from sim.planning.siting import solve_siting

SIDE_KM = 18.0  # as experiments/bench_routing.py ("10k"): 18 x 18 km at 180 m spacing


def bench_pmedian(router: Router, demand_points: int) -> dict:
    started = time.perf_counter()
    sites = candidate_sites(router, 200)
    rng = np.random.default_rng(0)
    weights = rng.random(router.n_nodes)  # demand on every node
    points = aggregate_demand(router, weights, demand_points)
    rows = travel_min(router, sites)
    prepared = time.perf_counter()
    chosen = solve_siting(rows[:, points.nodes].T, points.weights, "pmedian", 10)
    solved = time.perf_counter()
    assert len(chosen) == 10
    return {
        "prepare_s": prepared - started,
        "solve_s": solved - prepared,
        "total_s": solved - started,
    }


def bench_hypercube(units: int = 10, atoms: int = 500) -> float:
    rng = np.random.default_rng(1)
    unit_xy, atom_xy = rng.random((units, 2)), rng.random((atoms, 2))
    prefs = np.argsort(np.linalg.norm(atom_xy[:, None] - unit_xy[None], axis=2), axis=1)
    rates = rng.random(atoms)
    system = System(rates / rates.sum() * 0.5 * units / 30.0, prefs, 30.0)
    started = time.perf_counter()
    exact(system)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--demand-points", type=int, default=100)
    args = parser.parse_args()
    net = load_network(SyntheticNetworkSpec(width_km=SIDE_KM, height_km=SIDE_KM, seed=0))
    router = Router(net.graph)
    print(f"city: {router.n_nodes} nodes; p-median 200 sites x {args.demand_points} demand "
          "points, 10 offices (spopt + CBC)")  # fmt: skip
    runs = [bench_pmedian(router, args.demand_points) for _ in range(args.repeats)]
    for key in ("prepare_s", "solve_s", "total_s"):
        print(f"  p-median {key:<10} median {statistics.median(r[key] for r in runs):.2f} s")
    times = [bench_hypercube() for _ in range(args.repeats)]
    print(f"exact hypercube, 10 units, 500 atoms: median {statistics.median(times):.3f} s")


if __name__ == "__main__":
    main()

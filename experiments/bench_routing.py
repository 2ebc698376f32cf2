"""Routing benchmark: nearest of 20 units to a call on synthetic districts of 2.5k-50k nodes.

Measures, per network size, in one run:
- the Router's build time (CSR matrices from the graph);
- a nearest-of-20 query uncached (20 random source nodes without precomputed rows, a fresh
  random target each time: the expanding reverse search);
- the same from precomputed post rows (after ``router.precompute(sources)``);
- the same with networkx (``nx.multi_source_dijkstra`` from the 20 sources to the target,
  stopping at the target), for the ratio.

Usage: ``python experiments/bench_routing.py [--queries N] [--sizes 2.5k,10k,50k]``.
Targets (DESIGN 7) at 10k nodes: uncached <= 0.3 ms, from rows <= 20 us, >= 50x networkx;
build at 50k <= 3 s.
"""

from __future__ import annotations

import argparse
import statistics
import time

import networkx as nx
import numpy as np

from sim.network.routing import Router
from sim.network.sources import SyntheticNetworkSpec, load_network

SIZES_KM = {"2.5k": 9.0, "10k": 18.0, "50k": 40.0}  # square side at 180 m spacing
K_SOURCES = 20


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def bench_size(label: str, side_km: float, queries: int, seed: int = 0) -> dict:
    net = load_network(SyntheticNetworkSpec(width_km=side_km, height_km=side_km, seed=seed))
    graph = net.graph
    builds = [timed(Router, graph)[0] for _ in range(3)]
    router = Router(graph)
    rng = np.random.default_rng(seed)
    n = router.n_nodes
    targets = rng.choice(n, size=queries, replace=False).tolist()
    source_sets = [rng.choice(n, size=K_SOURCES, replace=False).tolist() for _ in range(queries)]

    uncached, answers = [], []
    for sources, target in zip(source_sets, targets, strict=True):
        dt, ans = timed(router.nearest, sources, target)
        uncached.append(dt)
        answers.append(ans)

    posts = source_sets[0]
    router.precompute(posts)
    rows = [timed(router.nearest, posts, t)[0] for t in targets]

    ids = router.node_ids
    nx_times = []
    for sources, target, (_, minutes) in list(zip(source_sets, targets, answers, strict=True))[
        : max(10, queries // 5)
    ]:
        dt, (dist_s, _) = timed(
            nx.multi_source_dijkstra,
            graph,
            {ids[s] for s in sources},
            target=ids[target],
            weight="travel_time",
        )
        nx_times.append(dt)
        assert abs(dist_s / 60 - minutes) < 1e-6, "router and networkx disagree"
    med = statistics.median
    return {
        "size": label,
        "nodes": n,
        "edges": graph.number_of_edges(),
        "build_s": med(builds),
        "uncached_ms": med(uncached) * 1e3,
        "rows_us": med(rows) * 1e6,
        "nx_ms": med(nx_times) * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--sizes", default=",".join(SIZES_KM))
    args = parser.parse_args()
    header = (
        f"{'size':>5} {'nodes':>7} {'edges':>8} {'build s':>8} {'uncached ms':>12} "
        f"{'rows us':>8} {'networkx ms':>12} {'nx/uncached':>12} {'nx/rows':>8}"
    )
    print(f"nearest of {K_SOURCES} sources, median of {args.queries} queries per size")
    print(header)
    for label in args.sizes.split(","):
        r = bench_size(label, SIZES_KM[label], args.queries)
        print(
            f"{r['size']:>5} {r['nodes']:>7,} {r['edges']:>8,} {r['build_s']:>8.3f} "
            f"{r['uncached_ms']:>12.3f} {r['rows_us']:>8.1f} {r['nx_ms']:>12.2f} "
            f"{r['nx_ms'] / r['uncached_ms']:>11.0f}x {r['nx_ms'] * 1e3 / r['rows_us']:>7.0f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()

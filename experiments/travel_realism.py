"""Recheck the source's "1.5 km in under 3 minutes" on the Wuhan extract, with and without
travel realism (Kolesar et al. 1975 acceleration; a delay per intersection).

    python experiments/travel_realism.py [--pairs 400] [--accel 2.0] [--cruise 40] [--delay 6]

Pairs of nodes whose shortest road distance is 1.4-1.6 km; for each, the fastest path's
free-flow time at the extract's imputed speeds, and that time with the realism added.
"""

from __future__ import annotations

import argparse

import numpy as np


def one_point_five_km(pairs: int, accel: float, cruise: float, delay_s: float, seed: int = 1):
    """Free-flow and realistic minutes for node pairs ~1.5 km apart on the Wuhan extract."""
    import sim
    from sim.network.routing import Router
    from sim.network.world import build_world
    from sim.scenarios.schema import TravelModel
    from sim.travel import realistic_min

    world = build_world(sim.load_scenario("optics_valley_east"))
    router = world.router
    metres = Router(world.network.graph, weight="length")  # its "minutes" are metres / 60
    rng = np.random.default_rng(seed)  # a local generator: an experiment, not the model
    spec = TravelModel(accel_m_s2=accel, cruise_kph=cruise, intersection_delay_s=delay_s)
    free, real = [], []
    for source in rng.choice(router.n_nodes, size=min(pairs * 4, router.n_nodes), replace=False):
        dist = metres.times_from(int(source)) * 60.0
        targets = np.flatnonzero((dist >= 1400) & (dist <= 1600))
        if len(targets) == 0:
            continue
        target = int(rng.choice(targets))
        t = router.time(int(source), target)
        inner = len(router.path(int(source), target)) - 2
        free.append(t)
        real.append(realistic_min(spec, t, inner))
        if len(free) >= pairs:
            break
    return np.array(free), np.array(real)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=400)
    parser.add_argument("--accel", type=float, default=2.0, help="m/s^2")
    parser.add_argument("--cruise", type=float, default=40.0, help="km/h")
    parser.add_argument("--delay", type=float, default=6.0, help="seconds per intersection")
    args = parser.parse_args()
    free, real = one_point_five_km(args.pairs, args.accel, args.cruise, args.delay)
    for label, minutes in (("free flow", free), ("with realism", real)):
        q = np.percentile(minutes, [10, 50, 90])
        print(
            f"{label:>13}: {len(minutes)} pairs 1.4-1.6 km apart, minutes p10 {q[0]:.2f} "
            f"median {q[1]:.2f} p90 {q[2]:.2f}; under 3 min: {np.mean(minutes < 3):.0%}"
        )


if __name__ == "__main__":
    main()

"""Benchmark of the patrol model: simulated calls per wall-second and peak memory.

Cases, each measured in a fresh subprocess (so peak RSS is the case's own), repeated and
reported as medians:

- ``erlang_c``: the shipped M/M/3 queue run long enough for ~100,000 calls;
- ``ciw``: the Ciw library simulating the same M/M/3 queue for the same number of customers;
- ``city``: a large synthetic city (~10,000 nodes), 40 community offices with a unit each,
  community_first dispatch, one simulated year, ~100,000 calls.

Targets: erlang_c at least as many calls/s as Ciw; city >= 10,000 calls/s and <= 1.5 GB peak.

    python experiments/bench_model.py [--repeats 3] [--calls 100000] [--profile city]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CALLS_PER_DAY_ERLANG = 48.0  # 2 per hour


def city_scenario(calls: int) -> dict:
    """~10,000-node synthetic city, 40 offices with one unit each, community_first, a year."""
    n = 40
    days = 365
    return {
        "name": "bench_city",
        "days": days,
        "warmup_days": 0,
        "seed": 1,
        "network": {"kind": "synthetic", "width_km": 20.0, "height_km": 16.0, "seed": 5},
        "communities": [{"name": f"c{i:02d}", "population": 25000} for i in range(n)],
        "posts": [
            {"name": f"office {i:02d}", "kind": "office", "community": f"c{i:02d}"}
            for i in range(n)
        ],
        "units": [{"post": f"office {i:02d}", "count": 1, "tenure_years": 3.0} for i in range(n)],
        "calls": {
            "rate_per_hour": calls / (days * 24.0),
            "hourly_profile": "default",
            "types": [
                {"name": "dispute", "share": 0.5, "priority": 2,
                 "service_min": {"dist": "lognormal", "median": 30, "p90": 80}},
                {"name": "help", "share": 0.5, "priority": 3,
                 "service_min": {"dist": "lognormal", "median": 20, "p90": 50}},
            ],
        },
        "dispatch": {
            "policy": "community_first",
            "borrow_after_min": 0,
            "delay_min": {"dist": "lognormal", "median": 1.5, "p90": 3.0},
            "mobilisation_min": {"dist": "lognormal", "median": 1.0, "p90": 2.0},
        },
    }  # fmt: skip


def city_patrol_scenario(calls: int) -> dict:
    """The city with every unit on random preventive patrol of its community when free."""
    raw = city_scenario(calls)
    raw["name"] = "bench_city_patrol"
    for group in raw["units"]:
        group["patrol"] = {"policy": "random", "share": 1.0, "stint_min": 480}  # a shift
    return raw


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def child(case: str, calls: int, profile: bool) -> dict:
    """Run one case in this process; return its measurements."""
    if case == "ciw":
        import ciw

        ciw.seed(1)
        network = ciw.create_network(
            arrival_distributions=[ciw.dists.Exponential(rate=2 / 60)],
            service_distributions=[ciw.dists.Exponential(rate=1 / 45)],
            number_of_servers=[3],
        )
        started = time.perf_counter()
        sim = ciw.Simulation(network)
        sim.simulate_until_max_customers(calls, method="Arrive")
        n = len(sim.get_all_records())
        seconds = time.perf_counter() - started
        return {"case": case, "calls": n, "seconds": seconds, "build_s": 0.0, "peak_mb": _peak_mb()}

    from sim.measures.records import call_records
    from sim.model import PatrolModel
    from sim.network.world import build_world
    from sim.scenarios.load import load_scenario, validate

    if case == "erlang_c":
        days = calls / CALLS_PER_DAY_ERLANG
        sc = load_scenario("erlang_c", [f"days={days:.3f}", "warmup_days=0"])
    elif case == "city":
        sc = validate(city_scenario(calls), "<bench city>")
    elif case == "city_patrol":
        sc = validate(city_patrol_scenario(calls), "<bench city with patrol>")
    else:
        raise SystemExit(f"unknown case {case}")
    t0 = time.perf_counter()
    world = build_world(sc)
    t1 = time.perf_counter()
    model = PatrolModel(sc, 0, world)
    if profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.runcall(model.run)
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(18)
    else:
        model.run()
    records = call_records(model)
    t2 = time.perf_counter()
    return {
        "case": case,
        "calls": len(records),
        "nodes": world.router.n_nodes,
        "units": len(model.units),
        "seconds": t2 - t1,  # model set-up, run and records (the world is built once per sweep)
        "build_s": t1 - t0,
        "peak_mb": _peak_mb(),
        "events_per_call": model.events.scheduled / max(len(records), 1),
    }


def run_case(case: str, calls: int, repeats: int) -> list[dict]:
    out = []
    for _ in range(repeats):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", case, "--calls", str(calls)],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--profile", help="profile one case (cProfile, top functions)")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.calls, profile=False)))
        return
    if args.profile:
        print(json.dumps(child(args.profile, args.calls, profile=True)))
        return

    rows = {}
    for case in ("erlang_c", "ciw", "city"):
        runs = run_case(case, args.calls, args.repeats)
        med = {
            k: statistics.median(r[k] for r in runs)
            for k in ("calls", "seconds", "build_s", "peak_mb")
        }
        med["calls_per_s"] = statistics.median(r["calls"] / r["seconds"] for r in runs)
        med["extra"] = {k: runs[0][k] for k in ("nodes", "units") if k in runs[0]}
        rows[case] = med
    print(
        f"median of {args.repeats} runs, each in a fresh process (peak = max RSS of that process)"
    )
    print(f"{'case':<10}{'calls':>9}{'run s':>9}{'build s':>9}{'calls/s':>11}{'peak MB':>9}  notes")
    for case, m in rows.items():
        extra = ", ".join(f"{k} {v}" for k, v in m["extra"].items())
        print(
            f"{case:<10}{m['calls']:>9.0f}{m['seconds']:>9.2f}{m['build_s']:>9.2f}"
            f"{m['calls_per_s']:>11,.0f}{m['peak_mb']:>9.0f}  {extra}"
        )
    ratio = rows["erlang_c"]["calls_per_s"] / rows["ciw"]["calls_per_s"]
    city = rows["city"]
    print(f"\n(a) erlang_c / Ciw calls per second: {ratio:.2f}x  (target >= 1): "
          f"{'met' if ratio >= 1 else 'MISSED'}")  # fmt: skip
    print(f"(b) city: {city['calls_per_s']:,.0f} calls/s (target >= 10,000): "
          f"{'met' if city['calls_per_s'] >= 10_000 else 'MISSED'}; peak {city['peak_mb']:.0f} MB "
          f"(target <= 1536): {'met' if city['peak_mb'] <= 1536 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()

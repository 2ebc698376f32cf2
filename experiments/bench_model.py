"""Benchmark of the patrol model against Ciw: simulated calls per wall-second and peak memory.

Cases, each run in fresh processes (so peak RSS is the case's own), repeated, as medians:

- ``ciw``: the Ciw library simulating an M/M/3 queue (2 calls/h, 45 min service), N customers;
- ``erlang_c``: the shipped M/M/3 scenario through the command line, ~N calls;
- ``city``: a ~10,000-node synthetic city, 40 community offices with a unit each,
  community_first dispatch, one simulated year, ~N calls, through the command line;
- ``city_patrol``: the same city with every unit on random patrol of its community when free;
- ``metro``: a ~100,000-node synthetic metropolitan district, 100 offices with 4 units each
  (400 units), community_first, one year, ~10 N calls, through the command line;
- ``patrol_cost``: in one process, the model runs (no command line, no results folder) of
  ``city`` and ``city_patrol``, one after the other on the same calls: seconds, events per call;
  then, once, the floor of that ratio: the patrolling run's compiled kernels timed
  (``bench_patrol_floor.py``);
- ``ceiling``, ``reps``, ``sweep``, ``pool``, ``startup``: scale-out and start-up, whole
  commands (see ``bench_scaleout.py``).

Command-line cases run ``run_sim.py run ... --reps 1 --quiet --out DIR --json F`` in a child
process that times the command itself: a long run minus a short one (a few hours of
simulated time), so imports, loading and building the network (start-up) are left out, while
running, the records and the results folder are counted. Ratios are against Ciw's calls per
second measured in the same session. Targets (issue 21): erlang_c >= 1.0x Ciw; metro peak
below 2 GB (and >= 0.25x, issue 15); with patrol at most 1.5x the time without; run --reps 20
on 2 workers >= 1.8x, a Dask sweep on 2 >= 1.7x; start-up <= 2.5x ``import mesa``.

    python experiments/bench_model.py [--repeats 3] [--calls 100000] [--cases city,ciw]
    python experiments/bench_model.py --profile city [--calls 20000] [--cumulative]  # cProfile
    python experiments/bench_model.py --searches city_patrol   # compiled searches: count, time
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from bench_patrol_floor import report_floor
from bench_scaleout import CASES as SCALEOUT
from bench_scaleout import report as report_scaleout

ROOT = Path(__file__).resolve().parents[1]
CALLS_PER_DAY_ERLANG = 48.0  # 2 per hour
SHORT_DAYS = 0.125  # the short run whose time is start-up
CASES = ("ciw", "erlang_c", "city", "city_patrol", "metro", "patrol_cost", *SCALEOUT)
TARGETS = {"erlang_c": 1.0, "metro": 0.25}  # x Ciw's calls per second (issues 15, 21)
PATROL_COST_TARGET = 1.5  # issue 21: seconds with patrol at most 1.5x without, in one process
METRO_PEAK_MB = 2048


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


def metro_scenario(calls: int) -> dict:
    """~100,000-node district, 100 offices with 4 units each (400 units), a year, ``calls``."""
    raw = city_scenario(calls)
    n = 100
    raw["name"] = "bench_metro"
    raw["network"] = {"kind": "synthetic", "width_km": 64.0, "height_km": 50.0, "seed": 5}
    raw["communities"] = [{"name": f"c{i:03d}", "population": 100000} for i in range(n)]
    raw["posts"] = [
        {"name": f"office {i:03d}", "kind": "office", "community": f"c{i:03d}"} for i in range(n)
    ]
    raw["units"] = [{"post": f"office {i:03d}", "count": 4, "tenure_years": 3.0} for i in range(n)]
    return raw


SCENARIOS = {"city": city_scenario, "city_patrol": city_patrol_scenario, "metro": metro_scenario}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def ciw_child(calls: int) -> dict:
    """Ciw's M/M/3 queue for ``calls`` customers, timed in this process."""
    import ciw

    ciw.seed(1)
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=2 / 60)],
        service_distributions=[ciw.dists.Exponential(rate=1 / 45)],
        number_of_servers=[3],
    )
    started, cpu = time.perf_counter(), time.process_time()
    sim = ciw.Simulation(network)
    sim.simulate_until_max_customers(calls, method="Arrive")
    n = len(sim.get_all_records())
    return {"calls": n, "seconds": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu, "peak_mb": _peak_mb()}  # fmt: skip


def patrol_cost_child(calls: int) -> dict:
    """Model runs of the city without and with patrol, in this process: seconds, events."""
    from sim.model import PatrolModel
    from sim.network.world import build_world
    from sim.scenarios.load import validate

    figures = {}
    for case in ("city", "city_patrol"):
        scenario = validate(SCENARIOS[case](calls), f"<bench {case}>")
        model = PatrolModel(scenario, 0, build_world(scenario), keep_calls=False)
        started = time.perf_counter()
        model.run()
        figures[case] = {
            "seconds": time.perf_counter() - started,
            "calls": model.calls_made,
            "events_per_call": model.events.scheduled / max(model.calls_made, 1),
        }
    return figures


def report_patrol_cost(runs: list[dict]) -> None:
    """Print issue 21's ratio: seconds with patrol over seconds without (medians)."""
    ratio = statistics.median(
        (r["city_patrol"]["seconds"] / r["city_patrol"]["calls"])
        / (r["city"]["seconds"] / r["city"]["calls"])
        for r in runs
    )
    verdict = "met" if ratio <= PATROL_COST_TARGET else "MISSED"
    print(f"\npatrol_cost: model runs in one process, median of {len(runs)}")
    for case in ("city", "city_patrol"):
        seconds = statistics.median(r[case]["seconds"] for r in runs)
        rate = statistics.median(r[case]["calls"] / r[case]["seconds"] for r in runs)
        events = runs[0][case]["events_per_call"]
        print(f"  {case:<12} {seconds:6.2f} s {rate:>9,.0f} calls/s "
              f"{events:5.2f} events per call")  # fmt: skip
    print(f"  time with patrol / without: {ratio:.2f}x (<= {PATROL_COST_TARGET}x: {verdict})")


def cli_child(argv: list[str]) -> dict:
    """Run one ``run_sim.py`` command in this process; its wall time, calls and peak RSS."""
    started, cpu = time.perf_counter(), time.process_time()
    from sim.cli import main

    code = main(argv)
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    out = Path(argv[argv.index("--json") + 1])
    summary = json.loads(out.read_text())
    return {"code": code, "calls": summary["calls"], "seconds": seconds, "cpu_s": cpu_s,
            "peak_mb": _peak_mb()}  # fmt: skip


def cli_args(case: str, calls: int, days: float | None, folder: Path) -> list[str]:
    """The command line of a case; ``days`` None: the case's full length."""
    if case == "erlang_c":
        scenario = "erlang_c"
        days = days if days is not None else calls / CALLS_PER_DAY_ERLANG
    else:
        scenario = str(folder / f"{case}.yaml")
        raw = SCENARIOS[case](calls * 10 if case == "metro" else calls)
        Path(scenario).write_text(yaml.safe_dump(raw, sort_keys=False))
        days = days if days is not None else raw["days"]
    out = folder / f"out-{days:g}"
    return ["run", "--scenario", scenario, "--days", f"{days:g}", "--reps", "1",
            "--set", "warmup_days=0", "--quiet", "--out", str(out),
            "--json", str(folder / f"summary-{days:g}.json")]  # fmt: skip


def _child(args: list[str]) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, *args], cwd=ROOT, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(case: str, calls: int) -> dict:
    """One repeat of a case: calls, seconds (start-up excluded), peak MB."""
    if case == "ciw":
        return _child(["--ciw", str(calls)])
    with tempfile.TemporaryDirectory() as tmp:
        short = _child(["--cli", "--", *cli_args(case, calls, SHORT_DAYS, Path(tmp))])
        full = _child(["--cli", "--", *cli_args(case, calls, None, Path(tmp))])
    return {
        "calls": full["calls"] - short["calls"],
        "seconds": full["seconds"] - short["seconds"],
        "cpu_s": full["cpu_s"] - short["cpu_s"],
        "startup_s": short["seconds"],
        "peak_mb": full["peak_mb"],
    }


def profile(case: str, calls: int, cumulative: bool = False) -> None:
    """cProfile of one case's model run, in this process (no results folder).

    The functions with the most time of their own, or with ``cumulative`` the most in all.
    """
    import cProfile
    import pstats

    from sim.model import PatrolModel
    from sim.network.world import build_world
    from sim.scenarios.load import load_scenario, validate

    if case == "erlang_c":
        days = calls / CALLS_PER_DAY_ERLANG
        sc = load_scenario("erlang_c", [f"days={days:.3f}", "warmup_days=0"])
    else:
        sc = validate(SCENARIOS[case](calls), f"<bench {case}>")
    world = build_world(sc)
    model = PatrolModel(sc, 0, world)
    prof = cProfile.Profile()
    prof.runcall(model.run)
    order, lines = ("cumulative", 60) if cumulative else ("tottime", 25)
    pstats.Stats(prof, stream=sys.stderr).sort_stats(order).print_stats(lines)
    print(f"events per call: {model.events.scheduled / max(model.calls_made, 1):.2f}")


def count_searches(case: str, calls: int) -> None:
    """Run one case's model with the compiled searches timed: how many, how long, by kind."""
    from sim.model import PatrolModel
    from sim.network import search
    from sim.network.world import build_world
    from sim.scenarios.load import validate

    spent: dict[str, list[float]] = {}

    def timed(kind_of, function):
        def wrapper(*args):
            started = time.perf_counter()
            result = function(*args)
            spent.setdefault(kind_of(args), []).append(time.perf_counter() - started)
            return result

        return wrapper

    def nearest_kind(args) -> str:
        k = len(args[4])
        return "nearest, 1 source" if k == 1 else f"nearest, {'2-16' if k <= 16 else '>16'} sources"

    search.nearest_minutes = timed(nearest_kind, search.nearest_minutes)
    search.path_between = timed(lambda args: "path", search.path_between)
    search.time_between = timed(lambda args: "time", search.time_between)
    scenario = validate(SCENARIOS[case](calls), f"<bench {case}>")
    model = PatrolModel(scenario, 0, build_world(scenario), keep_calls=False)
    started = time.perf_counter()
    model.run()
    total = time.perf_counter() - started
    print(f"{case}: {model.calls_made} calls, run {total:.2f} s (searches timed, so slower)")
    for kind, times in sorted(spent.items()):
        print(f"  {kind:<22}{len(times):>8} searches {sum(times):7.2f} s "
              f"{1e6 * sum(times) / len(times):7.1f} us each")  # fmt: skip
    print(f"  all searches {sum(map(sum, spent.values())):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calls", type=int, default=100_000, help="per case (metro: 10x)")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--profile", help="profile one case's model run (cProfile)")
    parser.add_argument(
        "--cumulative", action="store_true", help="with --profile: sort by cumulative time"
    )
    parser.add_argument("--searches", help="count and time one case's compiled searches")
    parser.add_argument("--ciw", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--patrol-cost", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cli", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ciw:
        print(json.dumps(ciw_child(args.ciw)))
        return
    if args.cli:
        print(json.dumps(cli_child(args.rest)))
        return
    if args.patrol_cost:
        print(json.dumps(patrol_cost_child(args.patrol_cost)))
        return
    if args.profile:
        profile(args.profile, args.calls, args.cumulative)
        return
    if args.searches:
        count_searches(args.searches, args.calls)
        return
    cases = args.cases.split(",")
    costed = "patrol_cost" in cases
    scaled = [c for c in cases if c in SCALEOUT]
    cases = [c for c in cases if c != "patrol_cost" and c not in SCALEOUT]
    runs: dict[str, list[dict]] = {case: [] for case in cases}
    scale: dict[str, list[dict]] = {case: [] for case in scaled}
    costs = []
    for _ in range(args.repeats):  # interleaved, so a slow spell hits every case alike
        for case in cases:
            runs[case].append(measure(case, args.calls))
        if costed:
            costs.append(_child(["--patrol-cost", str(args.calls)]))
        for case in scaled:
            scale[case].append(SCALEOUT[case]())
    if runs:
        report(runs, args.repeats)
    if costs:
        report_patrol_cost(costs)
        floor = subprocess.run(
            [sys.executable, str(ROOT / "experiments" / "bench_patrol_floor.py"), "--json",
             "--calls", str(args.calls)], cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        report_floor(json.loads(floor.stdout.strip().splitlines()[-1]), PATROL_COST_TARGET)
    if scale:
        report_scaleout(scale)


def report(runs: dict[str, list[dict]], repeats: int) -> None:
    """Print medians, ratios to Ciw and the targets."""
    print(f"median of {repeats} runs, each in fresh processes; start-up excluded "
          "(a short run's time subtracted); peak = max RSS of the full run's process; "
          "x Ciw by wall time, and by CPU time (steadier on a shared machine)")  # fmt: skip
    print(f"{'case':<13}{'calls':>10}{'run s':>9}{'start s':>9}{'calls/s':>11}"
          f"{'peak MB':>9}{'x Ciw':>8}{'cpu x':>7}  target")  # fmt: skip
    ciw = statistics.median(r["calls"] / r["seconds"] for r in runs["ciw"]) if "ciw" in runs else 0
    ciw_cpu = statistics.median(r["calls"] / r["cpu_s"] for r in runs["ciw"]) if ciw else 0
    for case, rs in runs.items():
        rate = statistics.median(r["calls"] / r["seconds"] for r in rs)
        ratio = rate / ciw if ciw else float("nan")
        cpu_ratio = statistics.median(r["calls"] / r["cpu_s"] for r in rs) / ciw_cpu if ciw else 0
        target = TARGETS.get(case)
        verdict = ""
        if target is not None:
            verdict = f">= {target}x: {'met' if ratio >= target else 'MISSED'}"
        peak = statistics.median(r["peak_mb"] for r in rs)
        if case == "metro":
            verdict += f"; peak < {METRO_PEAK_MB} MB: {'met' if peak < METRO_PEAK_MB else 'MISSED'}"
        start = statistics.median(r.get("startup_s", 0.0) for r in rs)
        print(f"{case:<13}{statistics.median(r['calls'] for r in rs):>10.0f}"
              f"{statistics.median(r['seconds'] for r in rs):>9.2f}{start:>9.2f}{rate:>11,.0f}"
              f"{peak:>9.0f}{ratio:>8.2f}{cpu_ratio:>7.2f}  {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()

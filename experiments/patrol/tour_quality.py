"""How well random patrol covers a beat: tour length, evenness, convoys, and the lateness curve.

For the bare 8x8 two-way grid (112 segments of 20 s, share 1, no calls) and for the Wuhan
extract (``optics_valley_east``, its four community beats, share 1, no calls, car speed),
with K units on each beat, it prints: each beat's tour length in edges against the short
closed walk covering it and a lower bound on any covering walk (when the code has
``sim.patrol.covering``); the
coefficient of variation of passes per segment; the gaps between passes at a segment
(median against lap/K, share under 1 min); and the lateness curve of a criminal call type
by band of response time. Passes are counted here by walking every patrol leg edge by edge,
independently of ``Coverage``, so the script measures old and new code alike::

    .venv/bin/python experiments/patrol/tour_quality.py [--days 8] [--k 2] [--only grid]

``--only shipped``: the patrol figures of ``embedded`` and ``optics_valley_east`` as shipped
(28 days): share of segments passed per shift, mean minutes between passes, on-view share,
and the gaps between passes (median, share under 1 min).
"""

from __future__ import annotations

import argparse
import math
import tempfile
from collections import defaultdict
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox

import sim
from sim.patrol.patroller import Patroller
from sim.scenarios.load import validate

BLOCK_S = 20.0  # seconds per grid block
BANDS = ((1.0, 5.0), (5.0, 15.0), (15.0, 60.0))  # response-time bands, minutes


def grid_graphml(folder: Path, side: int = 8) -> Path:
    """A bare side x side two-way grid of 200 m blocks driven in ``BLOCK_S`` seconds."""
    graph = nx.MultiDiGraph(crs="EPSG:32650", synthetic=True)
    for r in range(side):
        for c in range(side):
            graph.add_node(r * side + c, x=200.0 * c, y=200.0 * r)
    for r in range(side):
        for c in range(side):
            here = r * side + c
            for there in ([here + 1] if c + 1 < side else []) + (
                [here + side] if r + 1 < side else []
            ):
                for u, v in ((here, there), (there, here)):
                    graph.add_edge(u, v, length=200.0, travel_time=BLOCK_S, speed_kph=36.0,
                                   highway="residential")  # fmt: skip
    path = folder / "grid8.graphml"
    ox.save_graphml(graph, path)
    return path


def grid_scenario(network: Path, units: int, days: float) -> sim.Scenario:
    """K units patrolling the whole grid all the time, no calls."""
    raw = {
        "name": "grid8",
        "days": days,
        "warmup_days": 1,
        "network": {"kind": "graphml", "path": str(network)},
        "communities": [{"name": "all", "population": 1000}],
        "posts": [{"name": "station", "kind": "station", "at": {"node": 0}}],
        "units": [
            {
                "post": "station",
                "count": units,
                "patrol": {"policy": "random", "share": 1.0, "stint_min": 1e9},
            }
        ],
        "calls": {"rate_per_hour": 0, "types": [{"name": "t", "share": 1, "service_min": 10}]},
    }
    return validate(raw, "<grid8>")


def wuhan_scenario(units: int, days: float) -> sim.Scenario:
    """The Wuhan extract's four office beats, K car units each patrolling all the time."""
    always = {"policy": "random", "share": 1.0, "stint_min": 1e9, "mode": "car"}
    changes = {"units.*.patrol": always, "units.*.count": units, "warmup_days": 1,
               "calls.rate_per_1000_residents_per_week": 0.0,
               "community_work.enabled": False}  # fmt: skip
    return sim.load_scenario("optics_valley_east", days=days, set=changes)


def run_logged(scenario: sim.Scenario):
    """Run a scenario, logging every patrol leg a unit starts and when it left it."""
    legs = []  # (unit index, leg)
    cuts = defaultdict(list)  # unit index -> times it left its patrol
    next_leg, interrupted = Patroller.next_leg, Patroller.interrupted

    def logged_next_leg(self, unit):
        before = unit.leg
        next_leg(self, unit)
        if unit.leg is not None and unit.leg is not before:
            legs.append((unit.index, unit.leg))

    def logged_interrupted(self, unit):
        cuts[unit.index].append(self.host.time)
        interrupted(self, unit)

    Patroller.next_leg, Patroller.interrupted = logged_next_leg, logged_interrupted
    try:
        model = sim.PatrolModel(scenario)
        model.run()
    finally:
        Patroller.next_leg, Patroller.interrupted = next_leg, interrupted
    return model, legs, cuts


def pass_times(model, legs, cuts) -> dict[int, list[float]]:
    """Segment -> times of its passes after the warm-up, walking every leg edge by edge."""
    coverage = model.patroller.coverage
    horizon, warmup = model.time, model.warmup_min
    times = defaultdict(list)
    for unit, leg in legs:
        t0 = leg.route.t_depart_min
        stop = min([horizon, *(t for t in cuts[unit] if t > t0)])
        for i, entry in enumerate(leg.entries.tolist()):
            t = t0 + float(leg.route.cum_min[i + 1])
            if t > stop:
                break
            if t >= warmup:
                times[int(coverage.segment_of[entry])].append(t)
    return times


def beat_figures(model, times, segments: np.ndarray, units: int, lap_min: float) -> dict:
    """CV of passes per segment and the gaps between passes, over ``segments``."""
    passes = np.array([len(times.get(int(s), [])) for s in segments])
    gaps = np.concatenate([np.diff(sorted(times[int(s)])) for s in segments if int(s) in times])
    return {
        "passes_min": int(passes.min()),
        "passes_max": int(passes.max()),
        "cv": float(passes.std() / passes.mean()),
        "gap_median_min": float(np.median(gaps)),
        "lap_over_k_min": lap_min / units,
        "gap_share_under_1_min": float(np.mean(gaps < 1.0)),
    }


def covering_walk(model, unit) -> str:
    """The covering walk of the unit's beat: edges and minutes, against a lower bound."""
    try:
        from sim.patrol.covering import covering_multiset, lower_bound_min
    except ImportError:
        return "n/a (code before issue 24)"
    patroller = model.patroller
    cover, router, beat = patroller.coverage, patroller.router, patroller.beat_of(unit)
    walk = covering_multiset(cover, router, beat)
    bound = lower_bound_min(cover, router, beat)
    walk_min = float(np.sum(cover.edge_min[walk]))
    return f"{len(walk)} edges ({walk_min:.1f} min; lower bound {bound:.1f} min)"


def measure(name: str, scenario: sim.Scenario, units: int) -> None:
    """Print the tour and coverage figures of every beat of a scenario."""
    model, legs, cuts = run_logged(scenario)
    times = pass_times(model, legs, cuts)
    patroller, coverage = model.patroller, model.patroller.coverage
    seen = set()
    for unit in model.units:
        in_beat = patroller.beat_of(unit)
        if id(in_beat) in seen:
            continue
        seen.add(id(in_beat))
        tour = patroller.tour_of(unit)
        inside = np.asarray(in_beat)
        segments = np.flatnonzero(inside[coverage.segment_tail] & inside[coverage.segment_head]
                                  & (coverage.segment_tail != coverage.segment_head))  # fmt: skip
        figures = beat_figures(model, times, segments, units, tour.lap_min)
        print(f"{name} beat of {unit.post.name}: {len(segments)} segments, tour {tour.length} "
              f"edges ({tour.lap_min:.1f} min), covering walk {covering_walk(model, unit)}; "
              + ", ".join(f"{k} {v:.4g}" for k, v in figures.items()))  # fmt: skip


def shipped(name: str, days: float) -> None:
    """Patrol figures of a shipped scenario as it is: coverage, on-view share, median gap."""
    model, legs, cuts = run_logged(sim.load_scenario(name, days=days))
    patrol = model.summary()["patrol"]
    times = pass_times(model, legs, cuts)
    gaps = np.concatenate([np.diff(sorted(t)) for t in times.values() if len(t) > 1])
    print(f"{name} ({days:g} days): segments passed per shift "
          f"{patrol['segments_passed_per_shift']:.3f}, min between passes "
          f"{patrol['min_between_passes']:.1f}, on-view share "
          f"{patrol['on_view']['share_on_view']:.3f} of {patrol['on_view']['incidents']}, "
          f"median gap {np.median(gaps):.2f} min, under 1 min {np.mean(gaps < 1):.3f}")  # fmt: skip


def lateness_bands(p_base: float = 0.35) -> None:
    """Resolution of a criminal call over 1-60 min and its slope in pp per 10% by band."""
    from sim.outcomes import resolution
    from sim.scenarios.outcomes import Lateness

    spec = Lateness()
    if hasattr(resolution, "lateness_probability"):
        p_at = lambda t: resolution.lateness_probability(p_base, t, spec)  # noqa: E731
    else:  # the code before issue 24 (pp linear in log time)
        adjust = getattr(resolution, "lateness_adjustment")  # noqa: B009
        p_at = lambda t: min(1, max(0, p_base + adjust(t, spec)))  # noqa: E731
    curve = {t: p_at(t) for t in (1, 2, 3, 5, 10, 12, 15, 20, 30, 45, 60)}
    print("lateness p(resolved) at p_base", p_base, {t: round(p, 3) for t, p in curve.items()})
    for lo, hi in BANDS:
        slope = (p_at(hi) - p_at(lo)) / (math.log(hi / lo) / math.log(1.1)) * 100
        print(f"  band {lo:g}-{hi:g} min: {slope:+.2f} pp per 10% longer response")


def main(argv: list[str] | None = None) -> None:
    """Measure the grid and the Wuhan extract."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=8.0, help="simulated days (1 warm-up)")
    parser.add_argument("--k", type=int, nargs="+", default=[2], help="units per beat")
    parser.add_argument("--only", choices=["grid", "wuhan", "lateness", "shipped"], default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        network = grid_graphml(Path(folder))
        for k in args.k:
            if args.only in (None, "grid"):
                measure(f"grid8 K={k}", grid_scenario(network, k, args.days), k)
            if args.only in (None, "wuhan"):
                measure(f"wuhan K={k}", wuhan_scenario(k, args.days), k)
    if args.only in (None, "lateness"):
        lateness_bands()
    if args.only in (None, "shipped"):
        for name in ("embedded", "optics_valley_east"):
            shipped(name, 28.0)


if __name__ == "__main__":
    main()

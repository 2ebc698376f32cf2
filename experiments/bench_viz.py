"""Benchmark the browser app: one step (one simulated minute) plus a full redraw.

A frame = ``AppModel.step()`` then a Solara re-render of the whole main view (clock and
status texts, map with its markers, charts), done with ``solara.render`` exactly as the
server does on each step, minus the websocket. Target: median <= 150 ms.

Run: ``.venv/bin/python experiments/bench_viz.py [--frames N] [--warmup-min M]``.
The Wuhan cases need ``../shared/data/optics_valley_east.osm``; they are skipped without it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import ipywidgets
import solara
from mesa.visualization.utils import force_update

from sim.viz.app import MainView
from sim.viz.appmodel import AppModel

ROOT = Path(__file__).resolve().parents[1]
WUHAN = ROOT.parent / "shared" / "data" / "optics_valley_east.osm"
TARGET_MS = 150.0
CASES = (  # (label, AppModel keyword arguments, needs the Wuhan extract)
    ("district: embedded", {"scenario_name": "embedded"}, False),
    ("district: central vs embedded", {"scenario_name": "central", "compare": "embedded"}, False),
    ("Wuhan: optics_valley_east", {"scenario_name": "optics_valley_east"}, True),
    (
        "Wuhan: before vs after",
        {"scenario_name": "optics_valley_east_central", "compare": "optics_valley_east"},
        True,
    ),
)


def bench(kwargs: dict, frames: int, warmup_min: int) -> dict[str, float]:
    """Median / p90 / max ms of step + re-render, and the first render's ms."""
    model = AppModel(**kwargs)
    if model.error:
        raise SystemExit(f"cannot build {kwargs}: {model.error}")
    for _ in range(warmup_min):  # calls under way, charts with data
        model.step()
    started = time.perf_counter()
    _, rc = solara.render(MainView(model), handle_error=False)
    first_ms = (time.perf_counter() - started) * 1000
    images = rc.find(ipywidgets.Image)
    before = [w.value for w in images.widgets]
    times = []
    for _ in range(frames):
        started = time.perf_counter()
        model.step()
        force_update()  # what SolaraViz does after each step: every panel re-renders
        times.append((time.perf_counter() - started) * 1000)
    assert [w.value for w in rc.find(ipywidgets.Image).widgets] != before, "nothing redrawn"
    rc.close()  # else the next case's steps would re-render this view too
    times.sort()
    return {
        "median": statistics.median(times),
        "p90": times[int(0.9 * (len(times) - 1))],
        "max": times[-1],
        "first": first_ms,
        "sim_day": model.now_min / 1440,
    }


def main() -> None:
    """Run every case and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300, help="measured frames per case")
    parser.add_argument("--warmup-min", type=int, default=1440, help="minutes run before")
    args = parser.parse_args()
    print(f"{'case':34} {'median':>8} {'p90':>8} {'max':>8} {'first':>8}   (ms per frame)")
    worst = 0.0
    for label, kwargs, needs_wuhan in CASES:
        if needs_wuhan and not WUHAN.is_file():
            print(f"{label:34} skipped: {WUHAN} is absent")
            continue
        r = bench(kwargs, args.frames, args.warmup_min)
        worst = max(worst, r["median"])
        print(f"{label:34} {r['median']:8.1f} {r['p90']:8.1f} {r['max']:8.1f} {r['first']:8.1f}")
    verdict = "meets" if worst <= TARGET_MS else "MISSES"
    print(f"worst median {worst:.1f} ms: {verdict} the {TARGET_MS:g} ms target")


if __name__ == "__main__":
    main()

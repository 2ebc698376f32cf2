"""Benchmark the browser app: server-side frame cost, frames delivered to a browser, series cost.

1. ``server``: a frame = ``AppModel.advance(minutes)`` then a re-render of the page's main view
   (clock, scenario panels with maps and numbers, charts, follow panel) with ``solara.render``,
   as the server does on each frame, minus the websocket. Target: median <= 100 ms. Also the
   maps' data as JSON: sent once (the streets) and per frame (overlay and street paths).
2. ``browser`` (``--browser``): the app served on a loopback port, headless Chromium at
   1400x1000 pressing Play on "central vs embedded" (both panels) at the page's default
   speed; over ``--seconds``, the frames the first map receives from the server and paints
   (its motion canvas's ``patrolFrames`` and ``patrolPainted``), and the step per painted
   frame: the farthest any marker of a map moved between two painted frames (median over the
   painted frames where one moved, and the largest; both maps). Targets: at least 10 painted
   frames per second, no step over 50 m.
3. ``collector`` (``--collector``): the cost per frame of keeping the chart series with Mesa's
   ``DataCollector`` (what the app does) against appending to plain lists.

``--coverage`` ticks the page's patrol coverage layer first (server table and browser).

4. ``sessions`` (``--sessions 1,6,30``): that many pages at 1280x720, each its own browser
   session. All pages are opened first and waited for together (pages whose map never came
   are reported); then Play is pressed on each and each page's answer awaited: playing, told
   the server is busy, or no answer. Over ``--seconds`` for the pages playing: frames per
   second the server SENT each (``/debugz?players``: its re-render handed to the websocket),
   frames each page RECEIVED and PAINTED (its map's canvas), the step per painted frame, the
   server's CPU, and pages told during the window that they fell behind. Sent against
   received tells a starved browser from a starved server. The browsers run on the server's
   machine; ``--pin`` puts the server on CPU 0 and the browsers on CPU 1, as close as one
   machine comes to a class whose browsers run on the students' machines. ``--root DIR``
   serves another checkout's code (e.g. main's, from ``git archive``) with this interpreter.

5. ``clients`` (``--clients 1,6,30``): that many sessions WITHOUT browsers
   (``viz_clients.py``: the page's websocket protocol, each frame confirmed at once), Play
   pressed on each (``--retries N``: those told busy press it again, 5 s apart); over
   ``--seconds``: sessions let play, told busy, told later, starved (under 1.8 frames per
   second and not told), frames per second sent (``/debugz?players``) and received, and the
   server's CPU. ``--compare A,B`` plays both panels; ``--pin`` and ``--root`` as above.

Run: ``.venv/bin/python experiments/bench_viz.py [--frames N] [--browser] [--collector]
[--coverage] [--sessions 1,6,30 [--root DIR] [--pin]] [--clients 1,6,30 [--compare A,B]
[--retries N] [--root DIR] [--pin]]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import ipyvuetify
import solara

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.viz.app import COVERAGE_TOGGLE, MainView  # noqa: E402
from sim.viz.appmodel import AppModel  # noqa: E402
from sim.viz.controls import Controls  # noqa: E402
from sim.viz.mapwidget import StreetMapWidget  # noqa: E402

sys.path.insert(0, str(ROOT / "experiments"))
from bench_viz_sessions import (  # noqa: E402
    CHROMIUM,
    COUNT_FRAMES_JS,
    READ_FRAMES_JS,
    clients_fps,
    sessions_fps,
    step_figures,
    wait_up,
)

TARGET_MS = 100.0
TARGET_FPS = 10.0
TARGET_STEP_M = 50.0
MINUTES_PER_FRAME = 10
CASES = (  # (label, controls)
    ("district: embedded", Controls(scenario_name="embedded")),
    ("district: central vs embedded", Controls(scenario_name="central", compare="embedded")),
    ("Wuhan: optics_valley_east", Controls(scenario_name="optics_valley_east")),
    (
        "Wuhan: before vs after",
        Controls(scenario_name="optics_valley_east_central", compare="optics_valley_east"),
    ),
)


# -- 1. server side ------------------------------------------------------------------------
def bench_server(controls: Controls, frames: int, coverage: bool = False) -> dict[str, float]:
    """Median / p90 / max ms of advance + re-render, and the first render's ms."""
    model = AppModel(controls)
    if model.error:
        raise SystemExit(f"cannot build {controls}: {model.error}")
    frame = solara.reactive(0)
    followed = solara.reactive("")
    holder = type("Ref", (), {"current": None})()  # the page's player ref: not playing
    started = time.perf_counter()
    _, rc = solara.render(MainView(model, frame, False, None, followed, holder), handle_error=False)
    first_ms = (time.perf_counter() - started) * 1000
    if coverage:
        rc.find(ipyvuetify.Checkbox, label=COVERAGE_TOGGLE).widget.v_model = True
        notes = (
            rc.find(class_="patrol-coverage-note").widgets
            + rc.find(class_="patrol-no-patrol").widgets
        )
        assert len(notes) == len(model.sims), "the coverage layer did not come on"
    maps = rc.find(StreetMapWidget).widgets
    once_kb = sum(len(json.dumps(w.streets)) for w in maps) / 1000
    times, frame_kb = [], []
    for _ in range(frames):
        started = time.perf_counter()
        model.advance(MINUTES_PER_FRAME)
        frame.value += 1  # what the play loop does after each step
        times.append((time.perf_counter() - started) * 1000)
        frame_kb.append(sum(len(json.dumps([w.overlay, w.motion])) for w in maps) / 1000)
    rc.close()
    times.sort()
    return {
        "median": statistics.median(times),
        "p90": times[int(0.9 * (len(times) - 1))],
        "max": times[-1],
        "first": first_ms,
        "once_kb": once_kb,
        "frame_kb": statistics.median(frame_kb),
    }


def run_server_cases(frames: int, coverage: bool = False) -> None:
    """Print the server-side table."""
    layer = " (coverage layer on)" if coverage else ""
    print(f"{'case':34} {'median':>8} {'p90':>8} {'max':>8} {'first':>8}   (ms per frame){layer}"
          f"  map sent once, per frame (kB)")  # fmt: skip
    worst = 0.0
    for label, controls in CASES:
        r = bench_server(controls, frames, coverage)
        worst = max(worst, r["median"])
        print(f"{label:34} {r['median']:8.1f} {r['p90']:8.1f} {r['max']:8.1f} {r['first']:8.1f}"
              f"  {r['once_kb']:8.1f} {r['frame_kb']:8.1f}")  # fmt: skip
    verdict = "meets" if worst <= TARGET_MS else "MISSES"
    print(f"worst median {worst:.1f} ms: {verdict} the {TARGET_MS:g} ms target")


# -- 2. frames delivered to the browser ----------------------------------------------------
def browser_fps(seconds: float, port: int = 8766, coverage: bool = False) -> dict[str, float]:
    """Frames per second the first map receives and paints, and its steps (both panels)."""
    from playwright.sync_api import sync_playwright

    from sim.cli.viz import server_command, server_env

    env = server_env()
    env["SOLARA_ASSETS_CDN"] = "http://127.0.0.1:9/"
    server = subprocess.Popen(
        server_command("127.0.0.1", port), env=env, stdout=subprocess.DEVNULL, stderr=sys.stderr
    )
    try:
        wait_up(f"http://127.0.0.1:{port}/")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator(".patrol-map").first.wait_for(timeout=60_000)
            _compare_central_embedded(page)
            if coverage:
                page.get_by_text(COVERAGE_TOGGLE).click()
                page.locator(".patrol-coverage-note").wait_for(timeout=30_000)
            page.get_by_role("button", name="Play").click()
            time.sleep(3.0)  # under way
            page.evaluate(COUNT_FRAMES_JS)
            time.sleep(seconds)
            seen = page.evaluate(READ_FRAMES_JS)
            print("page says:", page.locator(".patrol-clock").text_content())
            page.get_by_role("button", name="Pause").click()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=15)
    median_m, max_m = step_figures(seen["steps"])
    return {"received": seen["received"] / seconds, "painted": seen["painted"] / seconds,
            "median_step_m": median_m, "max_step_m": max_m}  # fmt: skip


def _compare_central_embedded(page) -> None:
    import re

    settings = page.get_by_role("button", name="Settings", exact=True)
    if settings.count():  # the settings side bar (closed at first) of the newer page
        settings.click()
        page.locator(".patrol-sidebar").wait_for(timeout=60_000)
    for label, option in (("Scenario", "central"), ("Before vs after", "embedded")):
        menu = page.locator(".menuable__content__active")
        page.locator(".v-select").filter(
            has=page.locator("label", has_text=re.compile(f"^{re.escape(label)}"))
        ).last.click()
        menu.locator(".v-list-item", has_text=re.compile(f"^{option}$")).click()
        page.wait_for_timeout(800)
    page.get_by_role("button", name="Reset").click()
    page.locator(".patrol-map").nth(1).wait_for(timeout=60_000)


# -- 3. DataCollector against plain lists --------------------------------------------------
class _Lists:
    """Stands in for the DataCollector: appends each reporter's value to a list."""

    def __init__(self, reporters: dict):
        self.reporters = reporters
        self.model_vars = {name: [] for name in reporters}

    def collect(self, _model) -> None:
        for name, reporter in self.reporters.items():
            self.model_vars[name].append(reporter())


def collector_cost(frames: int) -> tuple[float, float]:
    """ms per frame (10 simulated minutes, both scenarios) with DataCollector, with lists."""
    results = []
    for plain in (False, True):
        model = AppModel(Controls(scenario_name="central", compare="embedded", start_hour=0))
        if plain:
            for tracker in model.trackers:
                tracker.collector = _Lists(tracker.collector.model_reporters)
        model.advance(2 * 1440)  # two days of calls under way
        spent = 0.0
        for _ in range(frames):
            started = time.perf_counter()
            for tracker in model.trackers:  # what a frame's samples cost, twice per frame
                for _ in range(MINUTES_PER_FRAME // 5):
                    tracker._last_sample -= 5.0  # noqa: SLF001  (force a sample: benchmark)
                    tracker.sample()
            spent += time.perf_counter() - started
        results.append(spent / frames * 1000)
    return results[0], results[1]


def main() -> None:
    """Run the chosen measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200, help="measured frames per case")
    parser.add_argument("--browser", action="store_true", help="frames delivered to Chromium")
    parser.add_argument("--seconds", type=float, default=20.0, help="browser measurement")
    parser.add_argument("--collector", action="store_true", help="DataCollector cost")
    parser.add_argument("--no-server", action="store_true", help="skip the server table")
    parser.add_argument("--coverage", action="store_true", help="patrol coverage layer on")
    parser.add_argument("--sessions", help="pages at once, e.g. 1,6,30 (each count in turn)")
    parser.add_argument("--clients", help="websocket sessions at once (no browser), e.g. 1,6,30")
    parser.add_argument("--compare", help="clients: both panels, e.g. central,embedded")
    parser.add_argument("--retries", type=int, default=0, help="clients: Play again if busy")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose app is served")
    parser.add_argument(
        "--pin", action="store_true", help="sessions: server on CPU 0, browsers on CPU 1"
    )
    parser.add_argument("--port", type=int, help="loopback port (8766 browser, 8767 sessions)")
    args = parser.parse_args()
    if args.clients:
        counts = [int(n) for n in args.clients.split(",")]
        compare = tuple(args.compare.split(",", 1)) if args.compare else None
        clients_fps(
            args.root.resolve(), counts, args.seconds, args.port or 8768, args.pin, compare,
            args.retries,
        )  # fmt: skip
        return
    if args.sessions:
        counts = [int(n) for n in args.sessions.split(",")]
        sessions_fps(args.root.resolve(), counts, args.seconds, args.port or 8767, args.pin)
        return
    if not args.no_server:
        run_server_cases(args.frames, args.coverage)
    if args.collector:
        with_dc, with_lists = collector_cost(args.frames)
        print(
            f"chart series per frame: DataCollector {with_dc:.3f} ms, plain lists "
            f"{with_lists:.3f} ms (difference {with_dc - with_lists:+.3f} ms)"
        )
    if args.browser:
        seen = browser_fps(args.seconds, args.port or 8766, coverage=args.coverage)
        fps_ok = "meets" if seen["painted"] >= TARGET_FPS else "MISSES"
        step_ok = "meets" if seen["max_step_m"] <= TARGET_STEP_M else "MISSES"
        layer = ", coverage layer on" if args.coverage else ""
        print(
            f"browser, central vs embedded at 1400x1000, default speed{layer}: "
            f"{seen['received']:.1f} frames/s received, {seen['painted']:.1f} painted "
            f"({fps_ok} the {TARGET_FPS:g}/s target); step per painted frame: median "
            f"{seen['median_step_m']:.1f} m, largest {seen['max_step_m']:.1f} m ({step_ok} "
            f"the {TARGET_STEP_M:g} m target)"
        )


if __name__ == "__main__":
    main()

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

Run: ``.venv/bin/python experiments/bench_viz.py [--frames N] [--browser] [--collector]
[--coverage] [--sessions 1,6,30 [--root DIR] [--pin]]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import ipyvuetify
import solara

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.viz.app import COVERAGE_TOGGLE, MainView  # noqa: E402
from sim.viz.appmodel import AppModel  # noqa: E402
from sim.viz.controls import Controls  # noqa: E402
from sim.viz.mapwidget import StreetMapWidget  # noqa: E402

TARGET_MS = 100.0
TARGET_FPS = 10.0
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
CHROMIUM = "/usr/bin/chromium"
TARGET_STEP_M = 50.0
#: clients: a session playing under this many frames per second and not told is starved
#: (the play loop's own bound: ``MIN_FPS`` x ``BEHIND_RATIO``)
STARVED_FPS = 1.8
BUSY_TEXT = "The server is busy"  # the page's notice when Play is refused (max playing)
COUNT_FRAMES_JS = """
() => {
  // painted: frames the first map's motion canvas painted (a new marker list each);
  // received: frames it got from the server (an old checkout's: new map images); steps: per
  // painted frame of each map, the farthest a marker moved (m). Canvases are looked up at
  // each animation frame: a page re-rendered after a reconnect counts on.
  window.__painted = 0;
  window.__received = 0;
  window.__steps = [];
  const img = document.querySelector('img.patrol-map');
  if (img) new MutationObserver((list) => { window.__received += list.length; })
    .observe(img, {attributes: true, attributeFilter: ['src']});
  const prev = [];
  let frames = null;
  const tick = () => {
    const all = [...document.querySelectorAll('canvas.patrol-motion')];
    all.forEach((canvas, k) => {
      const now = canvas.patrolMarkers, before = prev[k];
      if (now && before && now !== before && now.length === before.length) {
        window.__steps.push(Math.max(0, ...now.map(
          (m, i) => Math.hypot(m[0] - before[i][0], m[1] - before[i][1]))));
      }
      if (k === 0 && now && now !== before) window.__painted += 1;
      prev[k] = now;
    });
    const got = all.length ? all[0].patrolFrames || 0 : null;
    if (!img && got !== null && frames !== null) {
      window.__received += got >= frames ? got - frames : got;
    }
    frames = got;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}
"""
READ_FRAMES_JS = (
    "() => ({painted: window.__painted, received: window.__received, steps: window.__steps})"
)


def step_figures(steps: list[float]) -> tuple[float, float]:
    """Median step of the painted frames where a marker moved, and the largest step (m)."""
    moving = [s for s in steps if s > 0]
    return (statistics.median(moving) if moving else 0.0), max(steps, default=0.0)


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
        _wait_up(f"http://127.0.0.1:{port}/")
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


def _wait_up(url: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the app did not answer at {url}")


# -- 4. many sessions at once -------------------------------------------------------------
def _proc_cpu_s(pid: int) -> float:
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _players(port: int) -> list[dict] | None:
    """Frames sent so far to each page playing (``/debugz?players``), None if not served."""
    url = f"http://127.0.0.1:{port}/debugz?players"
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read()).get("players")


def _sent_fps(before: list[dict], after: list[dict], seconds: float) -> list[float]:
    """Frames per second the server sent each page playing at the window's start.

    A page stopped during the window (told it fell behind) counts none.
    """
    now = {p["id"]: p["frames"] for p in after}
    return [(now.get(p["id"], p["frames"]) - p["frames"]) / seconds for p in before]


def _pin(cpu: int) -> None:
    """Run this process (and what it starts from now on) on one CPU only."""
    import os

    os.sched_setaffinity(0, {cpu})


def _load_pages(browser, port: int, count: int, timeout_s: float) -> tuple[list, float]:
    """Open ``count`` pages, each its own browser session; those whose map came, and seconds."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    started = time.monotonic()
    pages = []
    for _ in range(count):
        page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        page.goto(f"http://127.0.0.1:{port}/", wait_until="commit", timeout=timeout_s * 1000)
        pages.append(page)
    loaded = []
    for page in pages:  # one deadline for all: every page loads at the same time
        left_ms = max(1.0, timeout_s - (time.monotonic() - started)) * 1000
        try:
            page.locator("canvas.patrol-motion").first.wait_for(timeout=left_ms)
            page.get_by_role("button", name="Play").wait_for(timeout=left_ms)
            loaded.append(page)
        except PlaywrightTimeout:  # a page that never loads is counted, not fatal
            pass
    return loaded, time.monotonic() - started


def _answer(page) -> str:
    """What a page shows after Play: ``playing``, ``busy`` (told so) or ``none`` yet."""
    if page.get_by_text(BUSY_TEXT).count():
        return "busy"
    if page.get_by_role("button", name="Pause").count():
        return "playing"
    return "none"


def _press_play(pages: list, timeout_s: float) -> dict:
    """Press Play on every page, then wait until each shows it plays or is told busy."""
    for page in pages:
        page.get_by_role("button", name="Play").click(timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    answers = {}
    while time.monotonic() < deadline:
        answers = {id(p): _answer(p) for p in pages}
        if "none" not in answers.values():
            break
        time.sleep(0.5)
    return answers


@contextlib.contextmanager
def _served(root: Path, port: int, pin: bool, log: Path):
    """The app of ``root`` served on ``port`` with ``--debug`` (its process), then stopped.

    With ``pin``, the server runs on CPU 0 and this process (and what it starts) on CPU 1.
    """
    import os

    env = dict(os.environ, PYTHONPATH=str(root), SOLARA_ASSETS_CDN="http://127.0.0.1:9/")
    command = [sys.executable, str(root / "run_sim.py"), "viz", "--port", str(port), "--debug"]
    with log.open("w") as out:  # the server's log: why a play loop stopped
        server = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=out,
                                  preexec_fn=(lambda: _pin(0)) if pin else None)  # fmt: skip
    try:
        _wait_up(f"http://127.0.0.1:{port}/")
        if pin:
            _pin(1)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


def sessions_fps(
    root: Path, counts: list[int], seconds: float, port: int = 8767, pin: bool = False
) -> None:
    """Print, per count of pages: loaded, answers to Play, frames sent, received, painted, CPU."""
    from playwright.sync_api import sync_playwright

    where = "server on CPU 0, browsers on CPU 1" if pin else "server and browsers on all CPUs"
    print(f"serving {root} (its code, this interpreter); {where}")
    print(f"{'pages':>5} {'loaded':>6} {'load s':>6} {'busy':>4} {'playing':>7} "
          f"{'no answer':>9} {'stopped':>7} | {'sent/s med':>10} {'lowest':>6} | "
          f"{'recv/s med':>10} {'lowest':>6} {'painted':>7} {'step':>7} {'largest':>7} | "
          f"{'server CPU':>10}")  # fmt: skip
    for count in counts:
        log = Path(tempfile.gettempdir()) / f"bench_viz_server_{count}.log"
        with _served(root, port, pin, log) as server:
            print(f"  ({count} pages: server log {log})", file=sys.stderr)
            with sync_playwright() as playwright:
                row = _one_class(playwright, server.pid, port, count, seconds)
        print(row, flush=True)


def clients_fps(
    root: Path, counts: list[int], seconds: float, port: int = 8768, pin: bool = False,
    compare: tuple[str, str] | None = None, retries: int = 0,
) -> None:  # fmt: skip
    """Print, per count of websocket clients (no browser): admitted, told busy, frames, CPU."""
    from viz_clients import play_class

    where = "server on CPU 0, clients on CPU 1" if pin else "server and clients on all CPUs"
    panels = f"{compare[0]} vs {compare[1]}" if compare else "the first page"
    print(f"serving {root} (its code, this interpreter); {where}; {panels}; {seconds:g} s; "
          f"{retries} retries of Play by those told busy")  # fmt: skip
    print(f"{'sessions':>8} {'loaded':>6} {'admitted':>8} {'told busy':>9} {'no answer':>9} "
          f"{'told later':>10} {'starved':>7} | {'sent/s med':>10} {'min':>5} | "
          f"{'recv/s med':>10} {'min':>5} | {'server CPU':>10}")  # fmt: skip
    for count in counts:
        log = Path(tempfile.gettempdir()) / f"bench_viz_clients_{count}.log"
        with _served(root, port, pin, log) as server:
            marks = {}

            def window(when: str, pid: int = server.pid, marks: dict = marks) -> None:
                marks[when] = (time.monotonic(), _proc_cpu_s(pid), _players(port))

            url = f"http://127.0.0.1:{port}/"
            result = play_class(url, count, seconds, compare, retries, window)
        (t0, cpu0, before), (t1, cpu1, after) = marks["start"], marks["end"]
        still = {p["id"] for p in after}  # pages told during the window are left out
        sent = _sent_fps([p for p in before if p["id"] in still], after, t1 - t0)
        told = result.answers
        print(f"{count:8d} {result.loaded:6d} {told.count('playing'):8d} {told.count('busy'):9d} "
              f"{told.count('none'):9d} {sum(result.told):10d} {result.starved(STARVED_FPS):7d} | "
              f"{_med_min(sent)} | {_med_min(result.fps)} | "
              f"{(cpu1 - cpu0) / (t1 - t0):10.0%}", flush=True)  # fmt: skip
        for line in result.details:
            print("   ", line, file=sys.stderr)


def _med_min(values: list[float]) -> str:
    if not values:
        return f"{'n/a':>10} {'n/a':>5}"
    return f"{statistics.median(values):10.2f} {min(values):5.2f}"


def _one_class(playwright, server_pid: int, port: int, count: int, seconds: float) -> str:
    """One line of the sessions table: ``count`` pages loaded, played and measured."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
    )
    try:
        pages, load_s = _load_pages(browser, port, count, timeout_s=180)
        answers = _press_play(pages, timeout_s=60)
        playing = [p for p in pages if answers[id(p)] == "playing"]
        time.sleep(3.0)  # every loop under way
        for page in playing:
            page.evaluate(COUNT_FRAMES_JS)
        before = _players(port)
        cpu0 = _proc_cpu_s(server_pid)
        time.sleep(seconds)
        cpu = _proc_cpu_s(server_pid) - cpu0
        after = _players(port) if before is not None else None
        seen = [p.evaluate(READ_FRAMES_JS) for p in playing]
        stopped = sum(_answer(p) != "playing" for p in playing)  # told during the window
    finally:
        browser.close()
    sent = sorted(_sent_fps(before, after, seconds)) if before is not None else []
    got = sorted(s["received"] / seconds for s in seen) or [0.0]
    fps = [s["painted"] / seconds for s in seen] or [0.0]
    median_m, largest_m = step_figures([x for s in seen for x in s["steps"]])
    told = list(answers.values())
    sent_text = (f"{statistics.median(sent):10.1f} {sent[0]:6.1f}" if sent
                 else f"{'n/a':>10} {'n/a':>6}")  # fmt: skip
    return (f"{count:5d} {len(pages):6d} {load_s:6.0f} {told.count('busy'):4d} "
            f"{told.count('playing'):7d} {told.count('none'):9d} {stopped:7d} | {sent_text} | "
            f"{statistics.median(got):10.1f} {got[0]:6.1f} {statistics.median(fps):7.1f} "
            f"{median_m:5.1f} m {largest_m:5.0f} m | {cpu / seconds:10.0%}")  # fmt: skip


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

"""Benchmark many sessions of the browser app at once: real Chromium pages, or websocket clients.

Run through ``experiments/bench_viz.py --sessions 1,6,30`` (real pages) or ``--clients
1,6,30`` (``viz_clients.py``: no browser); its docstring says what each reports. Also the
browser helpers ``bench_viz.py --browser`` shares (the page's frame counters).
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
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


def wait_up(url: str, timeout_s: float = 90) -> None:
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
    env = dict(os.environ, PYTHONPATH=str(root), SOLARA_ASSETS_CDN="http://127.0.0.1:9/")
    command = [sys.executable, str(root / "run_sim.py"), "viz", "--port", str(port), "--debug"]
    with log.open("w") as out:  # the server's log: why a play loop stopped
        server = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=out,
                                  preexec_fn=(lambda: _pin(0)) if pin else None)  # fmt: skip
    try:
        wait_up(f"http://127.0.0.1:{port}/")
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
        for line, fps, told in zip(result.details, result.fps, result.told, strict=True):
            if told or fps < STARVED_FPS:  # what each session told or starved saw
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

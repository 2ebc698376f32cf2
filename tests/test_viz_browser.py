"""End to end in real headless Chromium: the app on a loopback port, driven like a student.

Needs Debian's chromium (/usr/bin/chromium; ``.ci/run`` installs it): without it these tests
skip, except under CI (``CI`` set), where they fail. Screenshots and the server's log go to
test-artifacts/viz/ (the path is printed).
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("solara", reason="the browser app needs the 'viz' extras")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extras")

from viz_support import ARTIFACTS, Server, start_server  # noqa: E402

from sim.viz.app import BUSY_EVENING, COVERAGE_TOGGLE  # noqa: E402
from sim.viz.appmodel import AppModel  # noqa: E402
from sim.viz.controls import default_controls  # noqa: E402
from sim.viz.coverage_layer import COVERAGE_COLORS  # noqa: E402
from sim.viz.janitor import TICK_S  # noqa: E402
from sim.viz.mapview import street_segments  # noqa: E402
from sim.viz.messages import catalogue  # noqa: E402
from sim.viz.readouts import rows  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
expect = sync_api.expect
ANYIO_IDLE_S = 10.0  # anyio stops a worker thread idle this long, at the pool's next use
expect.set_options(timeout=20_000)  # the machine may be loaded (2 cores, other jobs)


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is absent (Debian package 'chromium'; .ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """The app on a free loopback port; a missing front-end file fails instead of downloading."""
    _require_chromium()
    print(f"\nbrowser test artifacts: {ARTIFACTS}")
    running = start_server("server.log")
    try:
        yield running
    finally:
        running.stop()
    assert running.cdn.connections == 0, "the server tried to fetch from the 'CDN'"


@pytest.fixture(scope="module")
def browser(server):
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _local(url: str) -> bool:
    """True for loopback hosts and in-page data (data:, blob: of this page's origin)."""
    parsed = urlparse(url)
    if parsed.scheme == "data":
        return True
    if parsed.scheme == "blob":
        return _local(url.removeprefix("blob:"))
    return parsed.hostname in LOOPBACK


DRAWN_JS = """() => {
  const s = document.querySelector('canvas.patrol-streets');
  const m = document.querySelector('canvas.patrol-motion');
  return s && s.patrolSegments > 0 && m && m.patrolPainted > 0;
}"""


class Watched:
    """A page with every request and console error recorded."""

    def __init__(self, context, url: str):
        self.page = context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("websocket", lambda ws: self.requests.append(ws.url))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url, timeout=120_000)  # a loaded 2-core machine is slow to start
        expect(self.page.locator(".patrol-map").first).to_be_visible(timeout=60_000)
        self.page.wait_for_function(DRAWN_JS, timeout=60_000)

    @property
    def clock(self):
        return self.page.locator(".patrol-clock")

    def button(self, name: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).click()

    def choose(self, label: str, option: str, exact: bool = True) -> None:
        menu = self.page.locator(".menuable__content__active")  # the open menu (Vuetify 2)
        expect(menu).to_have_count(0)
        select = self.page.locator(".v-select").filter(
            has=self.page.locator("label", has_text=re.compile(f"^{re.escape(label)}"))
        )
        expect(select).to_have_count(1)  # a re-rendered select may linger while it fades
        select.click()
        end = "$" if exact else ""
        menu.locator(
            ".v-list-item", has_text=re.compile(f"^{re.escape(option)}{end}")
        ).first.click()
        expect(menu).to_have_count(0)

    def open_settings(self) -> None:
        """Open the settings side bar (closed when the page loads)."""
        if not self.page.locator(".patrol-sidebar").is_visible():
            self.button("Settings")
        expect(self.page.locator(".patrol-sidebar")).to_be_visible()

    def follow(self, panel: int, unit: str) -> None:
        """Pick a unit in the follow list of the ``panel``-th scenario panel."""
        menu = self.page.locator(".menuable__content__active")
        self.page.locator(".patrol-follow").nth(panel).click()
        menu.locator(".v-list-item", has_text=re.compile(f"^{re.escape(unit)}")).first.click()
        expect(menu).to_have_count(0)

    def set_seed(self, text: str) -> None:
        seed = self.page.get_by_label("Seed")
        seed.fill(text)
        seed.press("Enter")

    def positions(self) -> str:
        return self.page.locator(".patrol-positions").text_content()

    def shot(self, name: str) -> None:
        self.page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)

    def count_frames(self) -> None:
        """Count from now the frames the first map receives."""
        self.page.evaluate(
            "() => { const c = document.querySelector('canvas.patrol-motion');"
            " window.__frames0 = c.patrolFrames || 0; }"
        )

    def frames(self) -> int:
        return self.page.evaluate(
            "() => (document.querySelector('canvas.patrol-motion').patrolFrames || 0)"
            " - window.__frames0"
        )

    def check_no_traceback(self) -> None:
        body = self.page.locator("body").inner_text()
        assert "Traceback" not in body and "could not be shown" not in body, body[:2000]

    def check_clean(self) -> None:
        self.check_no_traceback()
        assert not self.errors, f"browser console errors: {self.errors}"
        outside = sorted({u for u in self.requests if not _local(u)})
        assert not outside, f"requests left the machine: {outside}"


@pytest.mark.slow
def test_watch_step_play_switch_and_reset(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = Watched(context, server.url)
    page.shot("01-loaded")
    expect(page.clock).to_have_text(re.compile(r"^Day 1, 09:00"))  # starts at a busy hour
    page.button("Step +10 min")
    expect(page.clock).to_have_text(re.compile(r"^Day 1, 09:10"))
    same = AppModel(default_controls())  # the same seed and settings: the same run
    same.advance(10)
    summary = same.sims[0].summary()
    shown = page.page.locator(".patrol-numbers").inner_text()
    for label, value in rows(same.readouts()[0]):
        assert f"{label}\t{value}" in shown, (label, value, shown)
    assert f"{summary['calls']} (" in shown
    assert f"{summary['response_min']['mean']:.1f} min" in shown
    before = page.positions()
    page.button("Play")
    page.page.wait_for_function(  # a unit's marker moves (it is dispatched, then drives)
        "(b) => document.querySelector('.patrol-positions').textContent !== b",
        arg=before,
        timeout=60_000,
    )
    page.button("Pause")
    assert not page.clock.text_content().startswith("Day 1, 09:10")
    expect(page.page.locator(".patrol-numbers")).to_contain_text("mean response")
    page.shot("02-played")

    page.open_settings()
    page.choose("Scenario", "central")
    page.choose("Before vs after", "embedded")
    expect(page.page.get_by_text("changed: press Reset to apply")).to_have_count(2)
    page.button("Reset")
    expect(page.clock).to_have_text(re.compile(r"^Day 1, 09:00"))
    titles = page.page.locator(".patrol-title")
    expect(titles).to_have_text(["Before: central station (central)",
                                 "After: community offices (embedded)"])  # fmt: skip
    expect(page.page.get_by_text("changed: press Reset to apply")).to_have_count(0)
    page.follow(0, "Maodian station")
    expect(page.page.locator(".patrol-unit").first).to_contain_text("state:")
    page.button("中文")
    expect(page.page.locator(".patrol-info")).to_contain_text("你看到的是什么")
    expect(page.page.locator(".patrol-title").first).to_contain_text("改革前")
    page.shot("03-before-vs-after")
    page.button("English")
    expect(page.page.locator(".patrol-title").first).to_contain_text("Before")

    page.set_seed("①")
    expect(page.page.get_by_text("Seed: a whole number").first).to_be_visible()
    page.button("Reset")
    expect(page.page.locator(".patrol-error")).to_contain_text("Seed: a whole number")
    page.shot("04-bad-value")
    page.set_seed("2")
    page.choose("Scenario", "embedded")
    page.choose("Before vs after", "(none)")
    page.choose("Dispatch policy", "station_only")
    page.button("Reset")
    expect(page.page.locator(".patrol-warning")).to_contain_text("no unit can ever be sent")
    page.shot("05-warning")
    page.check_clean()
    context.close()


LONELY_MARKER_JS = """() => {
  const c = document.querySelector('canvas.patrol-motion');
  const px = c.patrolMarkers.map(([x, y]) => c.patrolToPx(x, y));
  const far = (p, k) => px.every((q, j) => j === k || Math.hypot(p[0] - q[0], p[1] - q[1]) > 30);
  const i = px.findIndex(far);
  return i < 0 ? null : [i, px[i][0], px[i][1], c.clientWidth, c.clientHeight];
}"""


@pytest.mark.slow
def test_click_a_unit_on_the_map_to_follow_it(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = Watched(context, server.url)
    page.button("Step +10 min")
    expect(page.clock).to_have_text(re.compile(r"^Day 1, 09:10"))
    page.page.wait_for_timeout(3_000)  # the step replayed to its end
    labels = [u.label for u in AppModel(default_controls()).sims[0].units]
    found = page.page.evaluate(LONELY_MARKER_JS)
    assert found is not None, "every unit stands near another"
    index, px, py, _, height = found
    themap = page.page.locator(".patrol-map").first
    themap.click(position={"x": 3, "y": height - 3})  # a corner far from every unit
    page.page.wait_for_timeout(500)
    expect(page.page.locator(".patrol-unit")).to_contain_text("click one on the map")
    themap.click(position={"x": px + 3, "y": py - 2})  # a few pixels off the marker's centre
    expect(page.page.locator(".patrol-unit")).to_contain_text(labels[index])
    expect(page.page.locator(".patrol-unit")).to_contain_text("state:")
    select = page.page.locator(".patrol-follow").first
    expect(select).to_contain_text(labels[index])  # the list beside the map shows it
    page.shot("10-followed-by-click")
    page.check_clean()
    context.close()


def _coverage_pixels(png: bytes, path: Path) -> int:
    """Pixels of the map within a few levels of the darker coverage colours.

    (The two lightest also come out of tinted streets blended with white.)
    """
    path.write_bytes(png)
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=int)
    colours = [tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in COVERAGE_COLORS[2:]]
    near = [np.abs(rgb - np.array(c)).max(axis=2) <= 12 for c in colours]
    return int(np.logical_or.reduce(near).sum())


@pytest.mark.slow
def test_coverage_layer_colours_the_streets_and_the_legend_explains_it(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = Watched(context, server.url)
    legend = page.page.locator(".patrol-legend")
    image = page.page.locator(".patrol-map").first
    expect(legend).not_to_contain_text("Patrol coverage")
    page.page.wait_for_timeout(500)
    before = image.screenshot()
    toggle = page.page.get_by_label(COVERAGE_TOGGLE)
    expect(toggle).not_to_be_checked()  # off by default
    page.page.get_by_text(COVERAGE_TOGGLE).click()
    expect(toggle).to_be_checked()
    expect(legend).to_contain_text("Patrol coverage (street colours): passes per day so far")
    expect(legend).to_contain_text("20 or more")
    expect(legend).to_contain_text("not passed yet")
    expect(page.page.locator(".patrol-coverage-note")).to_contain_text(
        re.compile(r"Patrol coverage: \d+% of the streets passed so far")
    )
    page.page.wait_for_function(  # the new frame has reached the page
        "() => document.querySelector('.patrol-legend').textContent.includes('Patrol')"
    )
    page.page.wait_for_timeout(500)
    after = image.screenshot()
    assert after != before
    plain = _coverage_pixels(before, ARTIFACTS / "11-coverage-off.png")
    coloured = _coverage_pixels(after, ARTIFACTS / "12-coverage-on.png")
    assert plain < 50 and coloured > 2000, (plain, coloured)
    page.open_settings()
    page.choose("Scenario", "central")
    page.choose("Before vs after", "embedded")
    page.button("Reset")
    expect(page.page.locator(".patrol-map")).to_have_count(2)
    expect(toggle).to_be_checked()  # kept over Reset
    notes = page.page.locator(".patrol-no-patrol")
    expect(notes).to_have_count(1)  # central's units stay at the station; embedded's patrol
    expect(notes).to_have_text("Patrol coverage: no unit patrols in this scenario.")
    expect(legend).to_contain_text("central: no unit patrols in this scenario")
    page.shot("13-coverage-before-vs-after")
    page.page.get_by_text(COVERAGE_TOGGLE).click()
    expect(legend).not_to_contain_text("Patrol coverage")
    expect(notes).to_have_count(0)
    page.check_clean()
    context.close()


@pytest.mark.slow
def test_two_sessions_have_their_own_models(browser, server):
    first_context = browser.new_context()
    second_context = browser.new_context(viewport={"width": 800, "height": 700})  # a small screen
    first, second = Watched(first_context, server.url), Watched(second_context, server.url)
    for _ in range(3):
        first.button("Step +10 min")
    expect(first.clock).to_have_text(re.compile(r"^Day 1, 09:30"))
    expect(second.clock).to_have_text(re.compile(r"^Day 1, 09:00"))
    second.button("Step +10 min")
    second.open_settings()
    second.choose("Scenario", "central")
    second.button("Reset")
    expect(second.page.locator(".patrol-title")).to_have_text(re.compile("^central"))
    first.page.wait_for_timeout(500)
    expect(first.clock).to_have_text(re.compile(r"^Day 1, 09:30"))
    expect(first.page.locator(".patrol-title")).to_have_text(re.compile("^embedded"))
    first.shot("06-session-a")
    second.shot("07-session-b-800-px")
    controls = second.page.locator(".patrol-run").bounding_box()
    shown = second.page.locator(".patrol-map").bounding_box()
    assert (
        controls["y"] + controls["height"] <= shown["y"]
        or controls["x"] + controls["width"] <= shown["x"]
    ), "the controls cover the map on a small screen"
    first.check_clean()
    second.check_clean()
    first_context.close()
    second_context.close()


@pytest.mark.slow
def test_play_at_the_fastest_for_30_s_without_a_traceback(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = Watched(context, server.url)
    page.open_settings()
    page.choose("Scenario", "central")
    page.choose("Before vs after", "embedded")
    page.button("Reset")
    expect(page.page.locator(".patrol-map")).to_have_count(2)
    page.choose("Speed", "600 simulated min per second")  # frames per second at its top
    page.count_frames()
    page.button("Play")
    for _ in range(6):
        page.page.wait_for_timeout(5_000)
        page.check_no_traceback()
    frames = page.frames()
    page.button("Pause")
    page.shot("08-played-30-s-fastest")
    page.page.locator("img.patrol-charts").scroll_into_view_if_needed()
    page.shot("09-charts")
    print(f"\nframes delivered to the page in 30 s: {frames} ({frames / 30:.1f}/s)")
    assert frames >= 30  # under load too; experiments/bench_viz.py measures the rate
    assert re.match(r"^Day [3-9]|^Day \d\d", page.clock.text_content())
    page.check_clean()
    context.close()


@pytest.mark.slow
def test_closing_the_page_stops_the_play_loop(browser, server):
    context = browser.new_context()
    page = Watched(context, server.url)
    page.button("Play")
    page.page.wait_for_timeout(2_000)
    stopped_before = server.log_text().count("play loop stopped (page gone)")
    context.close()  # the tab goes away while playing
    deadline = time.monotonic() + 20
    while server.log_text().count("play loop stopped (page gone)") == stopped_before:
        assert time.monotonic() < deadline, "the play loop kept running:\n" + server.log_text()
        time.sleep(0.5)
    started = server.cpu_s()
    time.sleep(3.0)
    busy = (server.cpu_s() - started) / 3.0
    assert busy < 0.2, f"the idle server still uses {busy:.0%} of a core"


# -- a class on a projector: layout, sliders, languages, the busy evening ------------------
VISIBLE_TEXT_JS = """
() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    const el = node.parentElement;
    if (!text || !el || el.closest('script, style, .patrol-positions')) continue;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') continue;
    if (el.closest('[aria-hidden="true"]')) continue;
    out.push(text);
  }
  return out;
}
"""


RESTYLED_JS = """() => [...document.querySelectorAll('.v-btn')]
  .filter((b) => b.offsetWidth && b.innerText.trim() !== b.textContent.replace(/\\s+/g, ' ').trim())
  .map((b) => b.innerText)"""  # innerText shows CSS text-transform; textContent the catalogue's
CLIPPED_JS = """() => [...document.querySelectorAll('.patrol-headline-values')].flatMap((v) => {
  const card = v.closest('.patrol-headline-card').getBoundingClientRect();
  const cut = v.scrollWidth > v.clientWidth + 1 ||
    [...v.children].some((s) => s.getBoundingClientRect().right > card.right + 0.5);
  return cut ? [v.innerText] : [];
})"""


def _inside(box: dict, width: int, height: int) -> bool:
    return (
        box["x"] >= -0.5
        and box["y"] >= -0.5
        and box["x"] + box["width"] <= width + 0.5
        and box["y"] + box["height"] <= height + 0.5
    )


def _busy_evening(page: Watched) -> None:
    page.button("Busy evening")
    expect(page.page.locator(".patrol-map")).to_have_count(2, timeout=60_000)
    expect(page.clock).to_have_text(re.compile(r"^Day 1, 17:00"))


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_before_and_after_side_by_side_on_a_projector(browser, server, size):
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height})
    page = Watched(context, server.url)
    _busy_evening(page)
    page.page.wait_for_timeout(500)
    page.shot(f"20-projector-{width}x{height}")
    parts = [".patrol-headline-card", ".patrol-map", ".patrol-numbers", ".patrol-follow"]
    for css in parts:
        found = page.page.locator(css)
        assert found.count() >= 2, css
        for i in range(found.count()):
            box = found.nth(i).bounding_box()
            assert _inside(box, width, height), (css, i, box)
    maps = [page.page.locator(".patrol-map").nth(i).bounding_box() for i in range(2)]
    assert maps[0]["x"] + maps[0]["width"] <= maps[1]["x"]  # side by side, not stacked
    follow = page.page.locator(".patrol-follow").nth(1).bounding_box()
    assert follow["x"] >= maps[1]["x"] + maps[1]["width"] - 1  # beside its own map
    legend = page.page.locator(".patrol-legend")
    covered = legend.evaluate(
        """(legend) => {
          const box = legend.getBoundingClientRect(); const hits = [];
          for (const fx of [0.02, 0.25, 0.5, 0.75, 0.98]) for (const fy of [0.2, 0.5, 0.8]) {
            const x = box.left + fx * box.width, y = box.top + fy * box.height;
            if (y > innerHeight || x > innerWidth) continue;
            const top = document.elementFromPoint(x, y);
            if (top && !legend.contains(top)) hits.push(top.outerHTML.slice(0, 80));
          }
          return hits;
        }"""
    )
    assert not covered, f"elements over the legend: {covered}"
    expect(page.page.get_by_text("This website runs on")).to_have_count(0)  # no badge
    page.check_clean()
    context.close()


def test_every_slider_is_wide_enough_and_moves_when_dragged(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = Watched(context, server.url)
    page.open_settings()
    sliders = page.page.locator(".patrol-slider")
    assert sliders.count() == 4  # frames per second, units, call rate, start hour
    for i in range(sliders.count()):
        slider = sliders.nth(i)
        slider.scroll_into_view_if_needed()
        track = slider.locator(".v-slider").bounding_box()
        assert track["width"] >= 120, (i, track)
        label = slider.locator(".v-label").text_content()
        thumb = slider.locator(".v-slider__thumb-container").bounding_box()
        y = thumb["y"] + thumb["height"] / 2
        target = (
            track["x"]
            + (0.3 if thumb["x"] > track["x"] + track["width"] / 2 else 0.7) * (track["width"])
        )
        page.page.mouse.move(thumb["x"] + thumb["width"] / 2, y)
        page.page.mouse.down()
        page.page.mouse.move(target, y, steps=8)
        page.page.mouse.up()
        expect(slider.locator(".v-label")).not_to_have_text(label)
    page.check_clean()
    context.close()


def test_busy_evening_shows_calls_waiting_in_central_within_the_first_hour(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = Watched(context, server.url)
    _busy_evening(page)
    queue = page.page.locator(".patrol-queue")
    expect(queue).to_contain_text(re.compile(r"^\d+ waiting, longest \d+ min"))
    titles = page.page.locator(".patrol-title")
    expect(titles.first).to_contain_text("Before: central station")
    numbers = page.page.locator(".patrol-numbers").first.inner_text()
    waiting = int(re.search(r"(\d+) waiting", numbers).group(1))
    assert waiting >= 1, numbers
    page.check_clean()
    context.close()


def _catalogue_patterns(lang: str) -> tuple[list[re.Pattern], str]:
    """Each message as a pattern (its fields: anything), and all messages' literal text."""
    patterns, literal = [], []
    for template in catalogue(lang).values():
        plain = re.sub(r"\s+", " ", template.replace("**", "").replace("*", "")).strip()
        parts = re.split(r"\{[a-z_]+\}", plain)
        patterns.append(re.compile(".*?".join(re.escape(p) for p in parts), re.S))
        literal.extend(p for part in parts for p in re.split(r"^- | - ", part))
    return patterns, "\n".join(literal)


def _proper_names(model: AppModel) -> set[str]:
    names = {"English", "中文", "OpenStreetMap"}
    for sim in model.sims:
        names |= {sim.scenario.name, sim.scenario.description or ""}
        names |= {c.name for c in sim.scenario.communities} | {p for p in sim.posts}
        names |= {u.label for u in sim.units} | {t.name.replace("_", " ") for t in sim.call_types}
        names |= {t.label_zh or "" for t in sim.call_types}  # the scenario's own Chinese names
    return {n for n in names if n}


NUMBERS = re.compile(r"^[\d\s.,:;%×x+\-−–→·()#/■▲]*$")


def _unexplained(texts: list[str], lang: str, names: set[str]) -> list[str]:
    """The texts that are not a catalogue message (or a list of them), a name or a number."""
    patterns, literal = _catalogue_patterns(lang)
    folded = literal.lower()

    def explained(text: str) -> bool:
        rest = text
        for name in sorted(names, key=len, reverse=True):
            rest = rest.replace(name, " ")
        rest = rest.strip(" ;,:·")
        if NUMBERS.match(rest):
            return True
        bare = re.sub(r"\s*[\d.]+%?\s*", " ", rest).strip()  # 'idle 31%' -> 'idle'
        for candidate in {text.strip(" ;,:·"), rest, bare}:
            if candidate in literal or (lang == "en" and candidate.lower() in folded):
                return True  # (buttons show their text in upper case)
            if any(p.fullmatch(candidate) for p in patterns):
                return True
        return False

    left = []
    for text in texts:
        pieces = [p for p in re.split(r",\s|,|;\s|■|▲", text) if p.strip(" ;,:·")]
        if not explained(text) and not all(explained(p) for p in pieces):
            left.append(text)
    return left


def test_every_visible_string_comes_from_the_catalogue_in_both_languages(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = Watched(context, server.url)
    _busy_evening(page)
    page.open_settings()
    page.follow(0, "Maodian station")
    names = _proper_names(AppModel(BUSY_EVENING))
    shown = page.page.evaluate(VISIBLE_TEXT_JS)
    assert len(shown) > 60
    left = _unexplained(shown, "en", names)
    assert not left, "\n".join(left)
    assert not page.page.evaluate(RESTYLED_JS), "a button's text is not shown as written"
    assert not page.page.evaluate(CLIPPED_JS), "a headline figure is cut"
    page.button("中文")
    expect(page.page.locator(".patrol-info")).to_contain_text("你看到的是什么")
    expect(page.clock).to_have_text(re.compile(r"^第 1 天 17:00"))
    page.page.wait_for_timeout(500)
    page.shot("21-chinese-1280x720")
    assert not page.page.evaluate(RESTYLED_JS), "a button's text is not shown as written"
    expect(page.page.locator(".patrol-step")).to_have_text(re.compile(r"\+10 min$"))
    assert not page.page.evaluate(CLIPPED_JS), "a headline figure is cut (中文, settings open)"
    chinese = page.page.evaluate(VISIBLE_TEXT_JS)
    left = _unexplained(chinese, "zh", names)
    assert not left, "\n".join(left)
    units = {"min", "h", "m", "km", "pts"}
    english = []
    for text in chinese:
        rest = text
        for name in sorted(names, key=len, reverse=True):
            rest = rest.replace(name, " ")
        words = [w for w in re.findall(r"[A-Za-z]{2,}", rest) if w not in units]
        if words:
            english.append(text)
    assert not english, f"English left in 中文 mode: {english}"
    page.check_clean()
    context.close()


# -- sessions that end leave nothing behind -------------------------------------------------
def _session_round(browser, server: Server, pages: int, play_s: float) -> float:
    """Open ``pages`` sessions, play them ``play_s`` s, close them; seconds until all freed.

    Returns once the server has settled: the janitor has pruned idle worker threads (anyio
    stops one idle ``ANYIO_IDLE_S``, the janitor looks every ``TICK_S``) and given memory back.
    """
    closed_before = server.log_text().count("session closed")
    contexts = [browser.new_context(viewport={"width": 1280, "height": 720}) for _ in range(pages)]
    for context in contexts:
        Watched(context, server.url).button("Play")
    time.sleep(play_s)
    for context in contexts:
        context.close()
    closed_at = time.monotonic()
    while server.log_text().count("session closed") < closed_before + pages:
        assert time.monotonic() - closed_at < 90, "sessions kept:\n" + server.log_text()[-3000:]
        time.sleep(0.5)
    freed_s = time.monotonic() - closed_at
    time.sleep(ANYIO_IDLE_S + TICK_S + 2.0)
    return freed_s


def _sessions_server() -> Server:
    from sim.viz.admission import MAX_PLAYING_ENV

    return start_server("server-sessions.log", env={MAX_PLAYING_ENV: "6"})


def _measure_rounds(browser, rounds: int, play_s: float) -> list[tuple[int, float, float]]:
    """(threads, MB, seconds to free) after a warm-up and after each round of 6 pages."""
    server = _sessions_server()
    try:
        _session_round(browser, server, 1, 5.0)  # one-time costs out of the baseline
        found = [(server.threads(), server.rss_mb(), 0.0)]
        for _ in range(rounds):
            freed_s = _session_round(browser, server, 6, play_s)
            found.append((server.threads(), server.rss_mb(), freed_s))
            print(f"\n(threads, MB, s to free) before and after each round: {found}", flush=True)
        return found
    finally:
        server.stop()


def test_six_sessions_that_end_leave_nothing_behind(browser):
    # issue 26 item 6: 6 pages played 60 s and closed: freed within a minute, the server's
    # threads back to their count before them, its memory within 100 MB of its value before
    (threads0, mb0, _), (threads, mb, freed_s) = _measure_rounds(browser, 1, 60.0)
    assert freed_s < 60, f"sessions freed after {freed_s:.0f} s"
    assert threads <= threads0, f"threads {threads0} -> {threads}"
    assert mb - mb0 <= 100, f"memory {mb0:.0f} -> {mb:.0f} MB"


@pytest.mark.benchmark
@pytest.mark.timeout(1500)  # five rounds take 10 to 12 minutes on a loaded 2-core machine
def test_five_rounds_of_six_sessions_do_not_grow_the_server(browser):
    # the same, five rounds in a row (about 8 minutes: out of the default run)
    found = _measure_rounds(browser, 5, 60.0)
    threads0, mb0, _ = found[0]
    assert all(threads <= threads0 for threads, _, _ in found), found
    assert all(mb - mb0 <= 100 for _, mb, _ in found), found
    assert found[-1][1] - found[1][1] <= 30, found  # no growth from round to round


# -- units move along the streets ----------------------------------------------------------
SAMPLE_MARKERS_JS = """
(ms) => new Promise((done) => {
  const canvas = document.querySelector('canvas.patrol-motion');
  const seen = []; const end = performance.now() + ms;
  const tick = (now) => {
    if (canvas.patrolMarkers) seen.push(canvas.patrolMarkers.map((m) => [m[0], m[1]]));
    if (now < end) requestAnimationFrame(tick); else done(seen);
  };
  requestAnimationFrame(tick);
})
"""


def _distance_to_streets_m(points: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Each point's distance (metres) to the nearest street segment."""
    a, b = segments[:, 0, :], segments[:, 1, :]
    ab = b - a
    ap = points[:, None, :] - a[None, :, :]
    share = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0.0, 1.0)
    nearest = a[None, :, :] + share[..., None] * ab[None, :, :]
    return np.hypot(*(points[:, None, :] - nearest).transpose(2, 0, 1)).min(axis=1)


def test_markers_move_along_the_streets_at_most_50_m_per_painted_frame(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = Watched(context, server.url)
    page.button("Play")  # at the default speed
    page.page.wait_for_timeout(3_000)  # dispatched units under way
    frames = page.page.evaluate(SAMPLE_MARKERS_JS, 2_000)
    page.button("Pause")
    assert len(frames) >= 20, f"{len(frames)} painted frames in 2 s"
    points = np.array([p for frame in frames for p in frame], dtype=float)
    segments, _ = street_segments(AppModel(default_controls()).sims[0])
    off = _distance_to_streets_m(points, segments)
    steps = [
        np.hypot(*(np.array(b) - np.array(a)).T).max()
        for a, b in itertools.pairwise(frames)
        if len(a) == len(b) and a
    ]
    moving = [s for s in steps if s > 0]
    print(
        f"\n{len(frames)} painted frames in 2 s; farthest from a street {off.max():.1f} m; "
        f"largest step between painted frames {max(steps):.1f} m (median of moving "
        f"frames {np.median(moving or [0]):.1f} m)"
    )
    assert len(moving) >= 5, "no marker moved"
    assert off.max() <= 15.0, f"a marker {off.max():.0f} m from any street"
    assert max(steps) <= 50.0, f"a marker moved {max(steps):.0f} m between painted frames"
    page.check_clean()
    context.close()


STREET_CANVAS_JS = """() => {
  const s = document.querySelector('canvas.patrol-streets');
  return {segments: s.patrolSegments, names: s.patrolNames, width: s.width,
          height: s.height, cssWidth: s.clientWidth, cssHeight: s.clientHeight};
}"""


def _overlapping(a: list[float], b: list[float]) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def test_streets_are_drawn_from_vectors_crisp_at_a_device_pixel_ratio_of_2(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=2)
    page = Watched(context, server.url)
    drawn = page.page.evaluate(STREET_CANVAS_JS)
    sim = AppModel(default_controls()).sims[0]
    assert drawn["segments"] == len(street_segments(sim)[0])  # every street, as a vector
    assert drawn["width"] == round(2 * drawn["cssWidth"]) > 400  # 2 backing pixels per CSS px
    assert drawn["height"] == round(2 * drawn["cssHeight"])
    names = drawn["names"]
    assert len(names) == len(sim.scenario.communities)
    assert not [(a, b) for a, b in itertools.combinations(names, 2) if _overlapping(a, b)], (
        "place names overlap"
    )
    for box in names:
        assert 0 <= box[0] and box[2] <= drawn["cssWidth"] and 0 <= box[1], box
    page.page.set_viewport_size({"width": 1920, "height": 1080})  # redrawn at the new size
    page.page.wait_for_function(
        "(w) => { const s = document.querySelector('canvas.patrol-streets');"
        " return s.width !== w && s.width === Math.round(2 * s.clientWidth); }",
        arg=drawn["width"],
    )
    page.shot("30-vectors-dpr-2")
    page.check_clean()
    context.close()


COUNTS_JS = """(ms) => new Promise((done) => {
  const m = document.querySelector('canvas.patrol-motion');
  const names = document.querySelector('canvas.patrol-streets').patrolNames;
  const seen = []; const end = performance.now() + ms;
  const tick = (now) => {
    seen.push(...(m.patrolCounts || []));
    if (now < end) requestAnimationFrame(tick); else done({counts: seen, names});
  };
  requestAnimationFrame(tick);
})"""


def test_count_labels_never_cover_a_place_name(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = Watched(context, server.url)
    _busy_evening(page)  # central's units stand together at the station
    page.button("Play")
    found = page.page.evaluate(COUNTS_JS, 2_000)
    page.button("Pause")
    assert found["counts"], "no count label drawn"
    covering = [c for c in found["counts"] for n in found["names"] if _overlapping(c, n)]
    assert not covering, covering
    page.check_clean()
    context.close()


NAMES_READABLE_JS = """(ms) => new Promise((done) => {
  // every 4th animation frame, each map as seen (streets under motion): of the pixels of its
  // names' glyphs (the names drawn alone) under a marker's disc, the share still dark
  const statics = [...document.querySelectorAll('canvas.patrol-streets')];
  const maps = [...document.querySelectorAll('canvas.patrol-motion')].map((m, k) => {
    const W = m.width, H = m.height, seen = document.createElement('canvas');
    seen.width = W; seen.height = H;
    return {m, s: statics[k], W, H, seen, mask: null};
  });
  const dpr = devicePixelRatio, R = 5 * dpr, shares = [];
  const glyphs = (map) => {
    const alone = document.createElement('canvas'), m = map.m;
    alone.width = map.W; alone.height = map.H;
    const a = alone.getContext('2d');
    a.setTransform(dpr, 0, 0, dpr, 0, 0);
    a.font = m.patrolFont; a.textAlign = 'left'; a.textBaseline = 'top'; a.fillStyle = '#111';
    for (const [text, x, y] of m.patrolLabels) a.fillText(text, x, y);
    return a.getImageData(0, 0, map.W, map.H).data;
  };
  const look = (map) => {
    const {m, s, W, H} = map;
    if (!m.patrolLabels || !m.patrolMarkers) return;
    map.mask = map.mask || glyphs(map);
    const c = map.seen.getContext('2d');
    c.clearRect(0, 0, W, H); c.drawImage(s, 0, 0); c.drawImage(m, 0, 0);
    const px = c.getImageData(0, 0, W, H).data;
    for (const [x, y] of m.patrolMarkers.map(([x, y]) => m.patrolToPx(x, y))) {
      let glyph = 0, dark = 0;
      for (let j = Math.floor(y * dpr - R); j <= y * dpr + R; j++) {
        for (let i = Math.floor(x * dpr - R); i <= x * dpr + R; i++) {
          if (i < 0 || j < 0 || i >= W || j >= H) continue;
          if (Math.hypot(i - x * dpr, j - y * dpr) > R) continue;
          const k = 4 * (j * W + i);
          if (map.mask[k + 3] < 220) continue;  // the glyphs' cores, not their soft edges
          glyph += 1;
          if (px[k] < 100 && px[k + 1] < 100 && px[k + 2] < 100) dark += 1;
        }
      }
      if (glyph >= 2) shares.push(dark / glyph);
    }
  };
  let frames = 0;
  const end = performance.now() + ms;
  const tick = (now) => {
    if (++frames % 4 === 0) maps.forEach(look);
    if (now < end) requestAnimationFrame(tick); else done(shares);
  };
  requestAnimationFrame(tick);
})"""


def test_place_names_stay_readable_where_units_pass_over_them(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = Watched(context, server.url)
    _busy_evening(page)
    page.open_settings()  # the maps at their smallest: long names, many units driving
    page.button("Play")
    shares = page.page.evaluate(NAMES_READABLE_JS, 8_000)
    page.button("Pause")
    page.shot("31-names-over-markers")
    assert len(shares) >= 3, "no unit passed over a place name: nothing was tested"
    assert min(shares) >= 0.8, sorted(shares)[:5]  # a name's glyphs stay dark over a marker
    page.check_clean()
    context.close()

"""The browser app's parts that need no browser: controls, the app model, map and charts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("solara", reason="the browser app needs the 'viz' extras")
pytest.importorskip("mesa.visualization", reason="the browser app needs the 'viz' extras")

import asyncio
import json
import re
import string
import threading
import time
from collections import Counter
from dataclasses import replace
from enum import IntEnum

import ipyvuetify as vuetify
import solara

from sim.agents.unit import UnitState
from sim.cli import main as cli_main
from sim.cli.viz import server_command, server_env
from sim.errors import SimInputError
from sim.network.sources import WUHAN_OSM
from sim.reporting import maps
from sim.scenarios.load import load_scenario
from sim.viz.app import BUSY_EVENING, Guarded, Page, Playback
from sim.viz.appmodel import AppModel, clock_text
from sim.viz.charts import ChartRenderer
from sim.viz.checks import warnings_for
from sim.viz.controls import (
    SCENARIO_ENV,
    Controls,
    build_scenarios,
    default_controls,
    model_params,
    parse_seed,
)
from sim.viz.coverage_layer import (
    CHECK_EVERY_FRAMES,
    COVERAGE_COLORS,
    NOT_PASSED_COLOR,
    bin_colors,
    bin_labels,
    coverage_bins,
    passes_per_day,
)
from sim.viz.headline import comparisons
from sim.viz.mapview import OSM_ATTRIBUTION, street_segments
from sim.viz.mapwidget import StreetMapWidget
from sim.viz.messages import catalogue, speaking
from sim.viz.panels import coverage_legend, panel_title
from sim.viz.player import (
    DEFAULT_SPEED,
    MIN_INTERVAL_MS,
    STEP_MIN,
    Player,
    kernel_alive_check,
    minutes_per_frame,
    playing_now,
)
from sim.viz.readouts import readout, rows
from sim.viz.series import SERIES
from sim.viz.serve import settings_env
from sim.viz.streetmap import (
    CoverageColours,
    frame_overlay,
    map_ratio,
    picked_unit,
    street_map,
)
from sim.viz.style import SCENARIO_COLORS, STATE_COLORS, TYPE_COLORS, state_color

ROOT = Path(__file__).resolve().parents[1]
WUHAN = WUHAN_OSM
PNG = b"\x89PNG\r\n\x1a\n"
SHIPPED_MAPS = ("central", "embedded", "optics_valley_east")


# -- controls -> scenarios ---------------------------------------------------------------
def test_default_controls_give_one_scenario_with_the_seed():
    [scenario] = build_scenarios(Controls(scenario_name="embedded", seed="7"))
    assert scenario.name == "embedded" and scenario.seed == 7 and scenario.source_dir.is_dir()
    assert scenario.warmup_days == 0  # the page counts from minute 0, as the summary does


def test_compare_gives_both_scenarios_on_the_same_seed():
    loaded = build_scenarios(Controls(scenario_name="central", compare="embedded", seed=3))
    assert [s.name for s in loaded] == ["central", "embedded"]
    assert {s.seed for s in loaded} == {3}


def test_rate_multiplier_and_policy_are_applied():
    [base] = build_scenarios(Controls(scenario_name="embedded"))
    [scenario] = build_scenarios(
        Controls(scenario_name="embedded", rate_multiplier=2.0, policy="nearest")
    )
    rate = scenario.calls.rate_per_1000_residents_per_week
    assert rate == pytest.approx(2 * base.calls.rate_per_1000_residents_per_week)
    assert scenario.dispatch.policy == "nearest"


def test_units_per_office_keeps_before_and_after_fair():
    central, embedded = build_scenarios(
        Controls(scenario_name="central", compare="embedded", units_per_office=2)
    )
    assert [g.count for g in embedded.units] == [2] * len(embedded.units)
    assert sum(g.count for g in central.units) == 2 * len(central.communities)


@pytest.mark.parametrize(
    ("controls", "message"),
    [
        (Controls(seed="abc"), "Seed"),
        (Controls(seed="-1"), "Seed"),
        (Controls(seed="²"), "Seed"),
        (Controls(seed="①"), "Seed"),
        (Controls(policy="fastest"), "Dispatch policy"),
        (Controls(units_per_office=99), "Units per office"),
        (Controls(rate_multiplier=0.0), "Call-rate multiplier"),
        (Controls(start_hour=24), "Start at hour"),
        (Controls(scenario_name="no_such_scenario"), "Scenario: 'no_such_scenario' is not one"),
        (Controls(compare="no_such_scenario"), "Scenario: 'no_such_scenario' is not one"),
    ],
)
def test_bad_values_raise_a_message(controls, message):
    with pytest.raises(SimInputError, match=message):
        build_scenarios(controls)


def test_a_scenario_from_the_page_is_a_listed_name_never_a_path(monkeypatch, tmp_path):
    """A forged message naming a file gets the same answer whether the file exists or not."""
    opened: list[str] = []
    monkeypatch.setattr("sim.viz.controls.load_scenario", lambda name, **_: opened.append(name))
    shipped = str(Path(__file__).resolve().parents[1] / "sim" / "scenarios" / "central.yaml")
    answers = []
    for name in (shipped, str(tmp_path / "absent.yaml"), "/etc/passwd", "../central"):
        with pytest.raises(SimInputError, match="is not one of") as refused:
            build_scenarios(Controls(scenario_name=name))
        answers.append(str(refused.value).replace(name[:60], "NAME"))
        with pytest.raises(SimInputError, match="is not one of"):
            build_scenarios(Controls(compare=name))
    assert len(set(answers)) == 1  # nothing tells whether a file exists
    assert opened == []  # nothing was opened


def test_the_scenario_the_server_was_started_with_is_listed(monkeypatch):
    path = str(Path(__file__).resolve().parents[1] / "sim" / "scenarios" / "central.yaml")
    monkeypatch.setenv(SCENARIO_ENV, path)
    [scenario] = build_scenarios(Controls(scenario_name=path))
    assert scenario.name == "central"
    assert path in model_params(default_controls())["scenario_name"]["values"]


def test_parse_seed_accepts_text_and_numbers():
    assert parse_seed(" 12 ") == 12 and parse_seed(5) == 5


def test_model_params_cover_every_control():
    params = model_params(Controls())
    assert set(params) == set(Controls.__dataclass_fields__)
    assert "central" in params["scenario_name"]["values"]
    values = Controls(**{k: v["value"] for k, v in params.items()})
    assert AppModel(values).error is None


def test_a_policy_that_can_send_no_unit_is_warned_about():
    [scenario] = build_scenarios(Controls(scenario_name="embedded", policy="station_only"))
    [warning] = warnings_for(scenario)
    assert "no unit can ever be sent" in warning
    [central] = build_scenarios(Controls(scenario_name="central", policy="station_only"))
    assert warnings_for(central) == []
    assert AppModel(Controls(policy="station_only")).warnings == [warning]


# -- the app model ----------------------------------------------------------------------
def test_bad_values_give_a_message_not_an_exception():
    model = AppModel(Controls(seed="①"))
    assert model.error.startswith("Seed") and not model.sims and model.finished
    assert model.advance(10)  # harmless
    assert model.now_min == 0.0


def test_the_model_starts_at_the_busy_hour_and_advances_by_the_minutes_asked():
    model = AppModel(Controls(scenario_name="embedded", start_hour=9))
    assert model.now_min == 9 * 60
    assert any(sim.calls for sim in model.sims)  # calls already made before 09:00
    model.advance(10)
    assert model.now_min == 9 * 60 + 10
    series = model.trackers[0].snapshot()
    assert series["t_min"][0] == 0.0 and series["t_min"][-1] == 550.0
    assert np.all(np.diff(series["t_min"]) == 5.0)  # sampled on the way to 09:00
    assert series["state_shares"].sum() == pytest.approx(1.0)


def test_the_run_ends_at_the_horizon_and_says_so():
    model = AppModel(Controls(scenario_name="embedded", start_hour=0))
    horizon = model.horizon_min
    assert not model.advance(int(horizon) - 5)
    assert model.advance(60) and model.finished and model.now_min == horizon


def test_side_by_side_models_face_the_same_calls():
    model = AppModel(Controls(scenario_name="central", compare="embedded", seed="4"))
    model.advance(1440)
    central, embedded = model.sims
    # base calls (not repeats, nor calls of latent problems, which embedded units may have
    # fixed before the run starts: problems have a pre-history)
    first = [(c.t_call, c.node, c.type_index) for c in central.calls
             if c.repeat_of == -1 and c.problem == -1][:10]  # fmt: skip
    second = [(c.t_call, c.node, c.type_index) for c in embedded.calls
              if c.repeat_of == -1 and c.problem == -1][:10]  # fmt: skip
    assert len(first) == 10 and first == second


def test_clock_text():
    assert clock_text(0) == "Day 1, 00:00"
    assert clock_text(1440 + 14 * 60 + 5.7) == "Day 2, 14:05"


# -- readouts: the model's summary at the same time ---------------------------------------
@pytest.mark.parametrize("minutes", [0, 180, 2 * 1440 + 17])
def test_readouts_match_the_summary_at_the_same_time(minutes):
    model = AppModel(Controls(scenario_name="central", compare="embedded", seed="3"))
    model.advance(minutes)
    for shown, sim in zip(model.readouts(), model.sims, strict=True):
        summary = sim.summary()  # books closed up to now by the readout
        assert shown.calls == summary["calls"] and shown.answered == summary["answered"]
        assert shown.response_mean == pytest.approx(summary["response_min"]["mean"])
        assert shown.response_p90 == pytest.approx(summary["response_min"]["p90"])
        assert shown.within_3 == pytest.approx(summary["within_target"]["3"])
        assert shown.within_5 == pytest.approx(summary["within_target"]["5"])
        assert shown.resolution == pytest.approx(summary["resolution_rate"])
        assert shown.budget == pytest.approx(summary["utilization"]["by_state"])
        assert sum(shown.budget.values()) == pytest.approx(1.0)


def test_cached_readouts_equal_fresh_ones_while_playing():
    model = AppModel(Controls(scenario_name="central", seed="5"))
    for _ in range(30):
        model.advance(10)
        [cached] = model.readouts()
        assert cached == readout(model.sims[0])


# -- the play loop ------------------------------------------------------------------------
def _player(model, **kwargs) -> tuple[Player, list[str], list[int]]:
    stops, frames = [], []
    options = {"minutes": lambda: 10, "interval_ms": lambda: 0, **kwargs}
    player = Player(model, lambda: frames.append(1), stops.append, **options)
    return player, stops, frames


def test_play_interval_has_a_floor():
    assert minutes_per_frame(120, 1) == minutes_per_frame(120, MIN_INTERVAL_MS)
    assert Playback(speed_min_per_s=120, frames_per_s=1000).interval_ms == MIN_INTERVAL_MS
    assert Playback(speed_min_per_s=120, frames_per_s=12).minutes == 10


def test_slow_speeds_send_a_minute_per_frame_and_step_stays_ten_minutes():
    slow = Playback(speed_min_per_s=DEFAULT_SPEED, frames_per_s=12)
    assert slow.minutes == 1 and slow.interval_ms == pytest.approx(1000 / DEFAULT_SPEED)
    assert slow.step_minutes == STEP_MIN == 10
    assert Playback(speed_min_per_s=4).interval_ms == 250
    assert Playback(speed_min_per_s=600, frames_per_s=12).step_minutes == 50
    # the default: 60 km/h (1000 m per simulated minute) at 60 painted frames per second
    assert 1000 * DEFAULT_SPEED / 60 <= 45
    model = AppModel(Controls(scenario_name="embedded"))
    player, stops, frames = _player(model)
    player.start()
    time.sleep(1.0)
    player.stop()
    player.thread.join(5)
    assert stops == ["paused"] and 5 <= len(frames) <= 1000 / MIN_INTERVAL_MS + 2


def test_play_loop_stops_on_an_error_with_a_message(monkeypatch):
    model = AppModel(Controls(scenario_name="embedded"))

    def broken(minutes: int) -> bool:
        raise ValueError("shape mismatch")

    monkeypatch.setattr(model, "advance", broken)
    player, stops, _ = _player(model)
    player.start()
    player.thread.join(5)
    assert stops == ["error"] and "shape mismatch" in player.error


def test_play_loop_stops_when_the_page_is_gone():
    model = AppModel(Controls(scenario_name="embedded"))
    alive = threading.Event()
    alive.set()
    player, stops, frames = _player(model, page_alive=alive.is_set)
    player.start()
    time.sleep(0.3)
    alive.clear()
    player.thread.join(2)
    assert not player.running and stops == ["page gone"] and frames


def test_a_page_is_gone_when_its_kernel_closes_or_it_stays_disconnected(monkeypatch):
    class Status:
        def __init__(self, value: str):
            self.value = value

    class Kernel:
        def __init__(self):
            self.closed_event = threading.Event()
            self.page_status = {"p1": Status("connected")}

    kernel = Kernel()
    monkeypatch.setattr("sim.viz.player.GONE_AFTER_S", 0.2)
    alive = kernel_alive_check(kernel)
    assert alive()
    kernel.page_status["p1"] = Status("disconnected")  # a reconnect may follow: a grace
    assert alive()
    time.sleep(0.3)
    assert not alive()
    kernel.page_status["p1"] = Status("connected")
    assert alive()
    kernel.page_status["p1"] = Status("closed")
    assert not alive()
    kernel.page_status["p1"] = Status("connected")
    kernel.closed_event.set()
    assert not alive()
    assert kernel_alive_check(None)()  # outside a server: always there


def test_play_loop_stops_at_the_end_of_the_run():
    model = AppModel(Controls(scenario_name="embedded"))
    player, stops, _ = _player(model, minutes=lambda: 10 * 1440)
    player.start()
    player.thread.join(10)
    assert stops == ["end of run"] and model.finished


# -- the page, rendered without a browser -----------------------------------------------
def _texts(rc, css_class: str) -> list[str]:
    return [
        str(w.children[0]) for w in rc.find(vuetify.Html, class_=css_class).widgets if w.children
    ]


def _html(rc, css_class: str) -> list[str]:
    """The inner HTML of every ``solara.HTML`` with ``css_class``."""
    found = rc.find(solara.widgets.HTML).widgets
    return [w.unsafe_innerHTML for w in found if css_class in w.attributes.get("class", "")]


def _button(rc, text: str):
    return rc.find(vuetify.Btn, children=[text]).widget


def test_page_steps_by_the_stated_size_and_plays():
    _, rc = solara.render(Page(), handle_error=False)
    assert _texts(rc, "patrol-clock")[0].startswith("Day 1, 09:00")
    _button(rc, "Step +10 min").fire_event("click", {})
    assert _texts(rc, "patrol-clock")[0].startswith("Day 1, 09:10")
    _button(rc, "Play").fire_event("click", {})
    time.sleep(0.8)
    _button(rc, "Pause").fire_event("click", {})
    assert not _texts(rc, "patrol-clock")[0].startswith("Day 1, 09:10")
    alerts = [str(a.children) for a in rc.find(vuetify.Alert).widgets]
    assert not [a for a in alerts if "could not be shown" in a], alerts
    rc.close()


def test_a_failing_part_of_the_page_shows_a_message():
    @solara.component
    def Broken():
        raise ValueError("boom")

    @solara.component
    def Wrapped():
        Guarded(lambda: Broken(), "simulation_view")

    _, rc = solara.render(Wrapped(), handle_error=False)
    [alert] = rc.find(vuetify.Alert).widgets
    assert "The simulation view could not be shown: boom" in str(alert.children)
    with speaking("zh"):
        assert "模拟视图无法显示:boom" in str(rc.find(vuetify.Alert).widget.children)
    rc.close()


# -- palettes and legends -----------------------------------------------------------------
def test_palettes_share_no_colour():
    states, types, scenarios = set(STATE_COLORS.values()), set(TYPE_COLORS), set(SCENARIO_COLORS)
    assert not states & types and not states & scenarios and not types & scenarios
    coverage = {*COVERAGE_COLORS, NOT_PASSED_COLOR}
    assert len(coverage) == len(COVERAGE_COLORS) + 1
    assert not coverage & (states | types | scenarios)


def test_any_unit_state_gets_a_colour():
    class Future(IntEnum):
        IDLE = 0
        PATROL = 7
        SOMETHING_NEW = 8

    assert state_color(Future.IDLE) == STATE_COLORS["IDLE"]
    assert state_color(Future.PATROL) == STATE_COLORS["PATROL"]
    assert state_color(Future.SOMETHING_NEW).startswith("#")


def test_panel_titles_explain_before_and_after():
    central, embedded = build_scenarios(Controls(scenario_name="central", compare="embedded"))
    assert panel_title(central, True) == "Before: central station (central)"
    assert panel_title(embedded, True) == "After: community offices (embedded)"


# -- map and charts ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def played():
    model = AppModel(Controls(scenario_name="central", compare="embedded"))
    model.advance(600)
    return model


def _segments_of(flat: list[float]) -> np.ndarray:
    return np.asarray(flat, dtype=float).reshape(-1, 2, 2)


def test_the_street_map_is_vectors_in_metres(played):
    sim = played.sims[0]
    sent = street_map(sim)
    segments, tails = street_segments(sim)
    assert len(segments) == len(tails) > 100
    assert np.abs(_segments_of(sent["streets"]) - segments).max() <= 0.05  # 0.1 m rounding
    assert len(sent["tint"]) == len(segments) and max(sent["tint"]) < len(sent["palette"])
    assert [n[0] for n in sent["names"]] == [c.name for c in sim.scenario.communities]
    x0, x1, y0, y1 = sent["limits"]
    for x, y, kind in sent["posts"]:
        assert kind in ("station", "office") and x0 < x < x1 and y0 < y < y1
    assert sent["credit"] == "" and not sim.world.network.is_osm_data
    assert sent["cover"] == []  # central: nobody patrols
    assert len(json.dumps(sent)) < 100_000  # sent once, but small all the same
    assert 1 / 1.5 <= map_ratio(sent["limits"]) <= 1 / 0.55


def test_the_page_sends_the_streets_once_and_each_frame_only_what_changes():
    _, rc = solara.render(Page(), handle_error=False)
    widget = rc.find(StreetMapWidget).widget
    sent: dict[str, int] = {}
    widget.observe(lambda change: sent.update({change.name: sent.get(change.name, 0) + 1}))
    streets = widget.streets
    for _ in range(3):
        _button(rc, "Step +10 min").fire_event("click", {})
    assert widget.streets == streets and "streets" not in sent  # never sent again
    assert sent["motion"] == 3 and sent["overlay"] == 3  # the clock changes each frame
    assert widget.overlay["clock"].startswith("Day 1, 09:30")
    assert widget.motion["t1"] - widget.motion["t0"] == 10
    rc.close()


def test_stacked_units_are_sent_where_they_stand():
    model = AppModel(Controls(scenario_name="central", start_hour=0))
    frame = model.motions[0].frame()
    where = Counter(tuple(u["p"][-1][:2]) for u in frame["units"])
    assert max(where.values()) == 5  # five units wait at the station: the page shows 'x5'


def test_followed_unit_gets_its_route_and_calls_their_wait():
    model = AppModel(Controls(scenario_name="central", seed="2"))
    sim = model.sims[0]
    for _ in range(300):
        moving = [u for u in sim.units if u.state.name == "EN_ROUTE"]
        if moving:
            break
        model.advance(1)
    overlay = frame_overlay(sim, moving[0].label)
    assert sim.units[overlay["followed"]] is moving[0]
    route = np.asarray(overlay["route"]).reshape(-1, 2)
    assert len(route) >= 2
    assert route[0] == pytest.approx(moving[0].xy(sim.time), abs=0.05)  # from where it is
    call = moving[0].call
    assert route[-1] == pytest.approx((sim.router.x[call.node], sim.router.y[call.node]), abs=0.05)
    waits = {round(c[3], 1) for c in overlay["calls"]}
    assert round(sim.time - call.t_call, 1) in waits
    assert frame_overlay(sim, None)["followed"] == -1 and frame_overlay(sim, None)["route"] == []


def test_charts_render_png_and_redraw_axes_only_when_limits_grow(played):
    renderer = ChartRenderer(played.trackers)
    assert renderer.render().startswith(PNG)
    renderer.render()
    assert renderer.full_redraws == 1
    played.advance(1440)
    renderer.render()
    assert renderer.full_redraws >= 2  # a new day on the time axis


def test_chart_series_come_from_mesa_datacollector(played):
    tracker = played.trackers[1]
    assert set(SERIES) <= set(tracker.collector.model_vars)
    series = tracker.snapshot()
    assert len({len(series[name]) for name in SERIES}) == 1
    assert np.all(np.diff(series["t_min"]) > 0)


def test_point_network_map_is_sent():
    model = AppModel(Controls(scenario_name="erlang_c"))
    model.advance(1)
    sent = street_map(model.sims[0])
    assert json.loads(json.dumps(sent)) == sent


def test_osm_map_carries_the_attribution():
    model = AppModel(Controls(scenario_name="optics_valley_east"))
    assert model.error is None, model.error
    assert street_map(model.sims[0])["credit"] == OSM_ATTRIBUTION  # drawn once by the page


def test_labels_drop_chinese_without_a_cjk_font(monkeypatch):
    monkeypatch.setattr(maps, "cjk_font", lambda: None)
    assert maps.label_text("Dangdai 当代") == "Dangdai"
    monkeypatch.setattr(maps, "cjk_font", lambda: "WenQuanYi Micro Hei")
    assert maps.label_text("Dangdai 当代") == "Dangdai 当代"


# -- command line, assets, layering -----------------------------------------------------
# -- follow a unit by clicking it ---------------------------------------------------------
def test_a_pick_from_the_page_is_a_valid_unit_index_or_nothing():
    assert picked_unit({"unit": 2}, 5) == 2
    for bad in ({"unit": 5}, {"unit": -1}, {"unit": "2"}, {"unit": True}, {}, None, [2]):
        assert picked_unit(bad, 5) is None, bad


def test_a_click_on_the_page_follows_the_unit():
    _, rc = solara.render(Page(), handle_error=False)
    label = AppModel(default_controls()).sims[0].units[1].label
    widget = rc.find(StreetMapWidget).widget
    widget.vue_clicked({"unit": 1})
    [text] = _html(rc, "patrol-unit")
    assert f"<strong>{label}</strong>" in text and "state:" in text
    widget = rc.find(StreetMapWidget).widget
    assert widget.overlay["followed"] == 1
    widget.vue_clicked({"unit": 99})  # a forged index: ignored
    assert f"<strong>{label}</strong>" in _html(rc, "patrol-unit")[0]
    rc.close()


# -- the patrol coverage layer ------------------------------------------------------------
def test_coverage_is_passes_per_day_in_bins():
    model = AppModel(Controls(scenario_name="embedded"))
    sim = model.sims[0]
    passes, _ = sim.patroller.coverage.passes_and_shifts()
    days = (sim.time - sim.warmup_min) / 1440
    assert passes_per_day(sim) == pytest.approx(passes / days)
    assert passes.sum() > 0
    per_day = np.array([0.0, 0.5, 2.0, 7.0, 19.9, 25.0])
    assert coverage_bins(per_day).tolist() == [-1, 0, 1, 2, 3, 4]
    assert bin_colors(np.array([-1, 0, 4])) == [NOT_PASSED_COLOR, *COVERAGE_COLORS[::4]]
    assert bin_labels() == ["under 2", "2–5", "5–10", "10–20", "20 or more"]


def test_coverage_colours_are_looked_at_only_when_due_and_resent_only_when_changed():
    model = AppModel(Controls(scenario_name="embedded"))
    sim = model.sims[0]
    colours = CoverageColours(sim)
    first = colours.now()
    assert len(first) == len(_segments_of(street_map(sim)["cover"])) > 0
    assert first == bin_colors(coverage_bins(passes_per_day(sim)))
    assert colours.now() is first and colours.looks == 1  # not looked at again yet
    for _ in range(3 * CHECK_EVERY_FRAMES):
        model.advance(10)
        colours.now()
    assert colours.looks == 1 + 3
    assert colours.now() != first  # passes per day moved


def test_scenarios_without_patrol_say_so():
    model = AppModel(Controls(scenario_name="central", compare="embedded"))
    assert CoverageColours(model.sims[0]).now() == []
    assert street_map(model.sims[0])["cover"] == []
    legend = coverage_legend(model)
    assert "central: no unit patrols in this scenario" in legend
    assert "embedded: no unit" not in legend
    for label in bin_labels():
        assert label in legend


def test_viz_unknown_scenario_is_one_line_and_exit_2(capsys):
    assert cli_main(["viz", "--scenario", "no_such_scenario"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown scenario") and "\n" not in err


def test_server_command_is_local_and_quiet():
    command = server_command("127.0.0.1", 8765)
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert command[1:3] == ["-m", "sim.viz.serve"]  # Solara behind the gate
    assert "--behind-proxy" not in command and "--debug" not in command
    assert server_command("0.0.0.0", 80, behind_proxy=True, debug=True)[-2:] == [
        "--behind-proxy",
        "--debug",
    ]
    assert settings_env("0.0.0.0", 80)["SOLARA_MODE"] == "production"
    assert settings_env("0.0.0.0", 80)["SOLARA_KERNEL_CULL_TIMEOUT"] == "30s"
    assert server_env("central")["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"


def test_asset_list_follows_the_installed_solara():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import install_solara_assets as assets
    finally:
        sys.path.pop(0)
    solara_dir, cache = assets.solara_dirs()
    wanted = assets.wanted_packages(solara_dir)
    assert {"@widgetti/solara-vuetify-app", "requirejs", "font-awesome"} <= set(wanted)
    assert cache.name == "cdn"


@pytest.mark.slow
def test_core_and_cli_do_not_import_the_app():
    code = (
        "import sys, sim.model, sim.analysis.replications, sim.cli; sim.cli.build_parser(); "
        "app = ('sim.viz', 'solara', 'mesa.visualization'); "
        "bad = [m for m in sys.modules if m.startswith(app)]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


# -- headline, busy evening, message catalogue ---------------------------------------------
def test_headline_differences_and_which_way_is_better():
    def readout_with(mean, within, solved):
        return replace(
            readout(AppModel(Controls()).sims[0]),
            response_mean=mean,
            within_5=within,
            resolution=solved,
        )

    before, after = readout_with(11.4, 0.18, 0.68), readout_with(5.8, 0.55, 0.60)
    mean, within, solved = comparisons([before, after])
    assert mean.difference == pytest.approx(-5.6) and mean.better() is True
    assert mean.difference_text() == "−5.6 min"
    assert within.difference == pytest.approx(0.37) and within.better() is True
    assert within.difference_text() == "+37 pts"
    assert solved.better() is False and solved.difference_text() == "−8 pts"
    [alone] = comparisons([before])[:1]
    assert alone.difference is None and alone.difference_text() == ""
    assert comparisons([readout_with(None, None, None)])[0].value_text(None) == "–"


def test_busy_evening_queues_in_central_within_the_first_hour_while_embedded_keeps_up():
    model = AppModel(BUSY_EVENING)
    assert model.names == ["central", "embedded"] and model.now_min == 17 * 60
    most = [0, 0]
    for _ in range(60):  # the first simulated hour, minute by minute
        model.advance(1)
        for i, r in enumerate(model.readouts()):
            most[i] = max(most[i], r.waiting)
    central, embedded = model.readouts()
    assert most[0] >= 5 and most[1] <= 1, most
    assert central.longest_wait_min > 30 and central.waiting == len(model.sims[0].queue)
    assert embedded.longest_wait_min is None or embedded.longest_wait_min < central.longest_wait_min


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_catalogues_have_the_same_keys_and_placeholders():
    english, chinese = catalogue("en"), catalogue("zh")
    assert set(english) == set(chinese)
    for key, text in english.items():
        assert _placeholders(text) == _placeholders(chinese[key]), key


def test_every_message_the_code_asks_for_is_in_the_catalogue():
    source = "\n".join(p.read_text() for p in (ROOT / "sim" / "viz").glob("*.py"))
    keys = set(re.findall(r"\bt\(\s*[\"']([a-z0-9_]+)[\"']", source))
    assert len(keys) > 60
    assert keys <= set(catalogue("en")), keys - set(catalogue("en"))
    dynamic = [f"param_{name}" for name in Controls.__dataclass_fields__]
    dynamic += [f"state_{s.name.lower()}" for s in UnitState]
    assert set(dynamic) <= set(catalogue("en"))


def test_the_page_speaks_chinese_when_switched():
    with speaking("zh"):
        assert clock_text(9 * 60) == "第 1 天 09:00"
        labels = [label for label, _ in rows(readout(AppModel(Controls()).sims[0]))]
        assert labels[0] == "迄今警情" and all(not label.isascii() for label in labels)
        assert "改革前" in panel_title(load_scenario("central"), compared=True)
    assert clock_text(9 * 60) == "Day 1, 09:00"


def test_play_is_refused_with_a_message_when_the_server_is_busy(monkeypatch):
    monkeypatch.setenv("PATROL_VIZ_MAX_PLAYING", "1")
    deadline = time.monotonic() + 20
    while playing_now() and time.monotonic() < deadline:  # earlier tests' loops wind down
        time.sleep(0.1)
    first, _, _ = _player(AppModel(Controls(scenario_name="embedded")), minutes=lambda: 1)
    second, _, _ = _player(AppModel(Controls(scenario_name="embedded")), minutes=lambda: 1)
    assert first.start()
    try:
        assert playing_now() == 1
        assert not second.start() and not second.running  # refused, nothing started
    finally:
        first.stop()
        first.thread.join(10)
    assert playing_now() == 0
    assert second.start()  # free again
    second.stop()
    second.thread.join(10)
    with speaking("zh"):
        assert all(
            "服务器繁忙" in catalogue("zh")[f"server_busy_{why}"]
            for why in ("cap", "cpu", "behind")
        )


def test_motion_paths_follow_the_streets_in_time_order():
    model = AppModel(Controls(scenario_name="central", compare="embedded", seed="2"))
    segments = [street_segments(sim)[0] for sim in model.sims]
    moved = 0
    for _ in range(6):
        model.advance(10)
        for motion, streets in zip(model.motions, segments, strict=True):
            frame = motion.frame()
            assert frame["t1"] - frame["t0"] == 10
            for unit in frame["units"]:
                points = np.array(unit["p"], dtype=float)
                assert np.all(np.diff(points[:, 2]) >= -1e-9)  # in time order
                a, b = streets[:, 0, :], streets[:, 1, :]
                ab, ap = b - a, points[:, None, :2] - a[None]
                share = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0, 1)
                gap = np.hypot(*(ap - share[..., None] * ab[None]).transpose(2, 0, 1)).min(1)
                assert gap.max() < 1.0, gap.max()  # every point on a street
                moved += len(points) > 2
    assert moved >= 5  # some units drove during these frames


# -- closed sessions give back their threads and memory (issue 26 item 6) ---------------------
def test_give_back_memory_returns_freed_heap_to_the_system():
    from sim.viz.diagnose import rss_mb
    from sim.viz.janitor import give_back_memory

    chunks = [bytearray(64 * 1024) for _ in range(1600)]  # 100 MB inside malloc's heap
    top = chunks[-1]  # the heap's top stays in use: glibc does not shrink it by itself
    del chunks
    freed_mb = rss_mb()
    assert give_back_memory()
    assert freed_mb - rss_mb() > 60, f"{freed_mb:.0f} -> {rss_mb():.0f} MB"
    assert len(top) == 64 * 1024


def _anyio_workers() -> int:
    return sum(t.name == "AnyIO worker thread" for t in threading.enumerate())


def test_janitor_prunes_idle_worker_threads_and_gives_memory_back_when_sessions_close(
    monkeypatch,
):
    import anyio.to_thread
    from anyio._backends._asyncio import WorkerThread

    from sim.viz import janitor

    monkeypatch.setattr(WorkerThread, "MAX_IDLE_TIME", 0.3)  # anyio's 10 s, shortened
    sessions = iter([3, 3, 1, 1, 1, 1, 1, 1, 1, 1])  # two pages close at the second look
    monkeypatch.setattr(janitor, "open_sessions", lambda: next(sessions, 1))
    gave_back: list[float] = []
    monkeypatch.setattr(janitor, "give_back_memory", lambda: gave_back.append(time.monotonic()))

    async def scenario() -> tuple[int, int]:
        await asyncio.gather(*(anyio.to_thread.run_sync(time.sleep, 0.2) for _ in range(5)))
        busy = _anyio_workers()
        task = asyncio.create_task(janitor.janitor(tick_s=0.2))
        await asyncio.sleep(1.5)
        task.cancel()
        return busy, _anyio_workers()

    before = _anyio_workers()
    busy, after = asyncio.run(scenario())
    assert busy >= before + 5
    assert after <= before + 1  # only the worker the janitor itself last used
    assert len(gave_back) == 1  # once: when the session count fell

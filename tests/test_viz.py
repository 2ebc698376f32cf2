"""The browser app's parts that need no browser: controls, the app model, map and charts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("solara", reason="the browser app needs the 'viz' extras")
pytest.importorskip("mesa.visualization", reason="the browser app needs the 'viz' extras")

from sim.cli import main as cli_main
from sim.cli.viz import server_command, server_env
from sim.errors import SimInputError
from sim.network.sources import WUHAN_OSM
from sim.reporting import maps
from sim.viz.appmodel import AppModel, clock_text
from sim.viz.charts import ChartRenderer
from sim.viz.controls import Controls, build_scenarios, model_params, parse_seed
from sim.viz.mapview import MapRenderer, street_segments

ROOT = Path(__file__).resolve().parents[1]
WUHAN = WUHAN_OSM
PNG = b"\x89PNG\r\n\x1a\n"


# -- controls -> scenarios ---------------------------------------------------------------
def test_default_controls_give_one_scenario_with_the_seed():
    [scenario] = build_scenarios(Controls(scenario_name="embedded", seed="7"))
    assert scenario.name == "embedded" and scenario.seed == 7 and scenario.source_dir.is_dir()


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
        (Controls(policy="fastest"), "Dispatch policy"),
        (Controls(units_per_office=99), "Units per office"),
        (Controls(rate_multiplier=0.0), "Call-rate multiplier"),
        (Controls(scenario_name="no_such_scenario"), "unknown scenario"),
        (Controls(compare="no_such_scenario"), "unknown scenario"),
    ],
)
def test_bad_values_raise_a_message(controls, message):
    with pytest.raises(SimInputError, match=message):
        build_scenarios(controls)


def test_parse_seed_accepts_text_and_numbers():
    assert parse_seed(" 12 ") == 12 and parse_seed(5) == 5


def test_model_params_match_the_app_model():
    params = model_params(Controls())
    assert set(params) == set(Controls.__dataclass_fields__)
    assert "central" in params["scenario_name"]["values"]
    AppModel(**{k: v["value"] for k, v in params.items()})  # SolaraViz's way of building it


# -- the app model ----------------------------------------------------------------------
def test_bad_values_give_a_message_not_an_exception():
    model = AppModel(seed="abc")
    assert model.error.startswith("Seed") and not model.sims and not model.running
    model.step()  # harmless
    assert model.now_min == 0.0


def test_step_advances_one_minute_and_tracks():
    model = AppModel(scenario_name="embedded")
    for _ in range(60):
        model.step()
    assert model.now_min == 60.0
    tracker = model.trackers[0]
    assert tracker.t_min[0] == 0.0 and tracker.t_min[-1] == 60.0
    assert tracker.state_shares().sum() == pytest.approx(1.0)


def test_side_by_side_models_face_the_same_calls():
    model = AppModel(scenario_name="central", compare="embedded", seed="4")
    for _ in range(1440):
        model.step()
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


# -- map and charts ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def played():
    model = AppModel(scenario_name="central", compare="embedded")
    for _ in range(600):
        model.step()
    return model


def test_map_renders_png_with_streets_drawn_once(played):
    renderer = MapRenderer(played.sims, ["central", "embedded"])
    first, second = renderer.render(), renderer.render()
    assert first.startswith(PNG) and first == second
    played.step()
    assert renderer.render().startswith(PNG)
    segments, tails = street_segments(played.sims[0])
    assert segments.shape[1:] == (2, 2) and len(segments) == len(tails) > 100
    assert not played.sims[0].world.network.is_osm_data
    assert not _texts(renderer.figure, "OpenStreetMap")


def test_charts_render_png_and_redraw_axes_only_when_limits_grow(played):
    renderer = ChartRenderer(played.trackers, ["central", "embedded"])
    assert renderer.render().startswith(PNG)
    renderer.render()
    assert renderer.full_redraws == 1
    for _ in range(1440):
        played.step()
    renderer.render()
    assert renderer.full_redraws >= 2  # a new day on the time axis


def test_point_network_map_renders():
    model = AppModel(scenario_name="erlang_c")
    model.step()
    assert MapRenderer(model.sims, ["erlang_c"]).render().startswith(PNG)


def test_osm_map_carries_the_attribution():
    model = AppModel(scenario_name="optics_valley_east")
    assert model.error is None, model.error
    renderer = MapRenderer(model.sims, ["optics_valley_east"])
    assert renderer.render().startswith(PNG)
    assert _texts(renderer.figure, "OpenStreetMap contributors, ODbL")


def test_labels_drop_chinese_without_a_cjk_font(monkeypatch):
    monkeypatch.setattr(maps, "cjk_font", lambda: None)
    assert maps.label_text("Dangdai 当代") == "Dangdai"
    monkeypatch.setattr(maps, "cjk_font", lambda: "WenQuanYi Micro Hei")
    assert maps.label_text("Dangdai 当代") == "Dangdai 当代"


def _texts(figure, needle: str) -> list[str]:
    return [
        t.get_text()
        for t in figure.findobj(lambda a: hasattr(a, "get_text"))
        if needle in str(t.get_text())
    ]


# -- command line, assets, layering -----------------------------------------------------
def test_viz_unknown_scenario_is_one_line_and_exit_2(capsys):
    assert cli_main(["viz", "--scenario", "no_such_scenario"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown scenario") and "\n" not in err


def test_server_command_is_local_and_quiet():
    command = server_command("127.0.0.1", 8765)
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert "--production" in command  # no call-home check, minified front-end
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


def test_core_and_cli_do_not_import_the_app():
    code = (
        "import sys, sim.model, sim.analysis.replications, sim.cli; sim.cli.build_parser(); "
        "app = ('sim.viz', 'solara', 'mesa.visualization'); "
        "bad = [m for m in sys.modules if m.startswith(app)]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sample_series_have_equal_lengths(played):
    tracker = played.trackers[1]
    lengths = {
        len(getattr(tracker, a))
        for a in ("t_min", "response_min", "within_share", "resolution_rate", "queue_len")
    }
    assert len(lengths) == 1
    assert np.all(np.diff(tracker.t_min) > 0)

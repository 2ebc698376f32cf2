"""The Solara page: Mesa's SolaraViz with our map and chart panels.

Run it with ``python run_sim.py viz`` (or ``solara run sim/viz/app.py``). Each browser
session gets its own ``AppModel`` (made in ``Page`` with ``solara.use_memo``, never at module
level), so one student's Reset never touches another's. SolaraViz gives the controls: play,
pause, step (one simulated minute per step, "Render Interval" steps per frame), Reset (builds
a new model from the model parameters), play interval.
"""

from __future__ import annotations

from dataclasses import asdict

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.agents.unit import UnitState
from sim.viz.appmodel import AppModel, clock_text
from sim.viz.charts import ChartRenderer
from sim.viz.controls import default_controls, model_params
from sim.viz.mapview import OSM_ATTRIBUTION, MapRenderer

TITLE = "Community patrol simulator"


def _names(model: AppModel) -> list[str]:
    return [sim.scenario.name for sim in model.sims]


def _make_map(model: AppModel) -> MapRenderer | None:
    return MapRenderer(model.sims, _names(model)) if model.sims else None


def _make_charts(model: AppModel) -> ChartRenderer | None:
    return ChartRenderer(model.trackers, _names(model)) if model.sims else None


@solara.component
def MapPanel(model: AppModel):
    """Clock, state counts and the map(s); or the message when the controls were bad."""
    update_counter.get()  # re-render on every step
    renderer = solara.use_memo(lambda: _make_map(model), [model])
    with solara.Column(classes=["patrol-map-panel"], style={"padding": "4px"}):
        if model.error:
            solara.Error(model.error, classes=["patrol-error"])
            solara.Text("Fix the value in the sidebar and press Reset.")
            return
        solara.Text(
            f"{clock_text(model.now_min)} — {' vs '.join(_names(model))}",
            classes=["patrol-clock"],
            style={"font-weight": "bold"},
        )
        solara.Text(model.settings_text(), style={"font-size": "0.85em"})
        solara.Text(_status(model), classes=["patrol-status"], style={"font-size": "0.85em"})
        solara.Image(renderer.render(), format="png", width="100%", classes=["patrol-map"])
        if any(sim.world.network.is_osm_data for sim in model.sims):
            solara.Text(OSM_ATTRIBUTION, style={"font-size": "0.75em"})
        # positions for tests and screen readers; not shown
        solara.Text(_positions(model), classes=["patrol-positions"], style={"display": "none"})


@solara.component
def ChartsPanel(model: AppModel):
    """The live charts."""
    update_counter.get()
    renderer = solara.use_memo(lambda: _make_charts(model), [model])
    if renderer is None:
        return
    solara.Image(renderer.render(), format="png", width="100%", classes=["patrol-charts"])


def _status(model: AppModel) -> str:
    parts = []
    for sim in model.sims:
        counts = [sum(u.state == s for u in sim.units) for s in UnitState]
        states = ", ".join(
            f"{n} {s.name.lower().replace('_', ' ')}"
            for s, n in zip(UnitState, counts, strict=True)
            if n
        )
        parts.append(
            f"{sim.scenario.name}: {len(sim.open_calls)} open calls, {len(sim.queue)} queued; "
            f"units {states}"
        )
    return " | ".join(parts)


def _positions(model: AppModel) -> str:
    sim = model.sims[0]
    return "; ".join(f"{u.label}={x:.1f},{y:.1f}" for u in sim.units for x, y in [u.xy(sim.time)])


@solara.component
def MainView(model: AppModel):
    """Map beside charts; in before-vs-after mode the two maps span the width, charts below."""
    if len(model.sims) > 1:
        MapPanel(model)
        with solara.Div(style={"max-width": "720px"}):
            ChartsPanel(model)
        return
    with solara.Columns([1, 1]):
        MapPanel(model)
        ChartsPanel(model)


@solara.component
def Page():
    """The page: one model per browser session, never one at module level."""
    first = solara.use_memo(default_controls, [])
    initial = solara.use_memo(lambda: AppModel(**asdict(first)), [])
    model = solara.use_reactive(initial)  # SolaraViz's Reset replaces its value
    params = solara.use_memo(lambda: model_params(first), [])
    # components=[]: Mesa's draggable grid fixes every panel at half width; MainView lays
    # out the panels itself, and SolaraViz gives the sidebar (controls) and the app bar.
    SolaraViz(model, components=[], model_params=params, name=TITLE, play_interval=100)
    MainView(model.value)

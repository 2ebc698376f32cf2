"""The page's parts that show the simulation: clock, scenario panels, legend, charts, follow.

Components that change with the model take ``tick`` (the page's frame counter): Solara
re-renders a child only when one of its arguments changes.

Each reads the models under ``AppModel.lock`` (the play loop advances them under it), so a
frame is drawn from one consistent moment.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import markdown
import numpy as np
import solara

from sim.agents.unit import UnitState
from sim.reporting.maps import OSM_ATTRIBUTION
from sim.scenarios.schema import Scenario
from sim.viz.appmodel import AppModel, clock_text
from sim.viz.charts import ChartRenderer
from sim.viz.clickable import Click, ClickableImage
from sim.viz.coverage_layer import (
    CHECK_EVERY_FRAMES,
    COVERAGE_COLORS,
    NOT_PASSED_COLOR,
    bin_labels,
    patrols,
    share_passed,
)
from sim.viz.mapview import MAP_WIDTH_IN, PAIR_WIDTH_IN, WAIT_ALERT_MIN, MapRenderer
from sim.viz.readouts import budget_text, rows
from sim.viz.style import scenario_color, state_color, state_label, type_color


@solara.component
def ClockLine(model: AppModel, playing: bool, player, tick: int) -> None:
    """'Day 1, 09:40 - playing at ... (measured)'."""
    text = clock_text(model.now_min)
    if playing and player is not None:
        fps = player.frames_per_s()
        text += f" — playing, {fps:.1f} frames/s (measured on the server)"
    solara.Text(text, classes=["patrol-clock"], style={"font-weight": "bold", "font-size": "1.1em"})
    solara.Text(model.settings_text(), style={"font-size": "0.85em"})


def where_units(scenario: Scenario) -> str:
    """Where the scenario's units are based: 'central station', 'community offices', ..."""
    kinds = {post.name: post.kind for post in scenario.posts}
    based = {kinds.get(group.post) for group in scenario.units}
    if based == {"station"}:
        return "central station"
    if based == {"office"}:
        return "community offices"
    return "station and offices"


def panel_title(scenario: Scenario, compared: bool) -> str:
    """'Before: central station' / 'After: community offices' when two are compared."""
    where = where_units(scenario)
    if not compared:
        return f"{scenario.name}: units at the {where}"
    role = {"central station": "Before", "community offices": "After"}.get(where, scenario.name)
    return f"{role}: {where} ({scenario.name})"


NO_PATROL = "no unit patrols in this scenario"


@solara.component
def ScenarioPanels(
    model: AppModel,
    followed: str,
    tick: int,
    coverage: bool = False,
    on_follow: Callable[[str], None] | None = None,
) -> None:
    """One panel per scenario: a title in its colour, its map, its numbers.

    ``coverage``: streets coloured by patrol passes; ``on_follow(choice)``: a unit was
    clicked on a map (``choice`` as in the follow list: 'scenario: unit').
    """
    readouts = model.readouts()
    compared = len(model.sims) > 1
    with solara.Div(classes=["patrol-row"]):
        for i, (sim, readout) in enumerate(zip(model.sims, readouts, strict=True)):
            color = scenario_color(i)
            with solara.Div(classes=["patrol-panel"], style={"border-top-color": color}):
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=html.escape(panel_title(sim.scenario, compared)),
                    classes=["patrol-title"],
                    style={"color": color, "font-weight": "bold", "font-size": "1.15em"},
                )
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=html.escape(sim.scenario.description or ""),
                    style={"font-size": "0.8em"},
                )
                if coverage:
                    CoverageNote(model, sim, tick)
                with solara.Div(classes=["patrol-row"]):
                    with solara.Div(style={"flex": "3 1 440px", "min-width": "0"}):
                        MapImage(model, i, followed, tick, coverage, on_follow)
                    solara.HTML(
                        tag="div",
                        unsafe_innerHTML=_table(rows(readout)),
                        classes=["patrol-numbers"],
                        style={"flex": "1 1 220px", "min-width": "0"},
                    )


@solara.component
def CoverageNote(model: AppModel, sim, tick: int) -> None:
    """One line over the map: how much of the streets patrols have passed, or that none do."""
    if not patrols(sim):
        solara.Text(f"Patrol coverage: {NO_PATROL}.", classes=["patrol-no-patrol"])
        return
    with model.lock:
        share = share_passed(sim)
    solara.Text(f"Patrol coverage: {share:.0%} of the streets passed so far.",
                classes=["patrol-coverage-note"])  # fmt: skip


def _table(pairs: list[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><td>{html.escape(k)}</td><td><b>{html.escape(v)}</b></td></tr>" for k, v in pairs
    )
    return f'<table class="patrol-readouts">{cells}</table>'


@solara.component
def MapImage(
    model: AppModel,
    index: int,
    followed: str,
    tick: int,
    coverage: bool = False,
    on_follow: Callable[[str], None] | None = None,
) -> None:
    """The map of one scenario, with the followed unit's route; a click on a unit follows it."""
    sim = model.sims[index]
    width_in = PAIR_WIDTH_IN if len(model.sims) > 1 else MAP_WIDTH_IN
    renderer = solara.use_memo(lambda: MapRenderer(sim, width_in), [sim])
    renderer.followed = _unit_label(followed, sim.scenario.name)
    renderer.show_coverage = coverage
    with model.lock:
        png = renderer.render()

    def clicked(click: Click) -> None:
        with model.lock:  # the units as drawn in the last frame
            label = renderer.unit_at(*click.to_image_px(*renderer.size_px()))
        if label is not None and on_follow is not None:
            on_follow(f"{sim.scenario.name}: {label}")

    ClickableImage(png, clicked, classes=["patrol-map"])


def _unit_label(followed: str, name: str) -> str | None:
    prefix = f"{name}: "
    return followed.removeprefix(prefix) if followed.startswith(prefix) else None


@solara.component
def Legend(model: AppModel, coverage: bool = False) -> None:
    """What each colour and marker means, built from the enum and the scenario."""
    states = "".join(_swatch(state_color(s), state_label(s), "50%") for s in UnitState)
    types = "".join(
        _swatch(type_color(i), t.name.replace("_", " "), "0", rotate=True)
        for i, t in enumerate(model.sims[0].call_types)
    )
    scenarios = "".join(
        _swatch(scenario_color(i), sim.scenario.name, "0") for i, sim in enumerate(model.sims)
    )
    osm = any(sim.world.network.is_osm_data for sim in model.sims)
    credit = f"<div>{html.escape(OSM_ATTRIBUTION)}</div>" if osm else ""
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<div><b>Units (circles):</b>{states} &nbsp; ■ station &nbsp; ▲ office</div>"
            f"<div><b>Calls (diamonds):</b>{types}; red ring: waiting over "
            f"{WAIT_ALERT_MIN:g} min</div><div><b>Scenarios (lines, titles):</b>{scenarios}</div>"
            f"{coverage_legend(model) if coverage else ''}{credit}"
        ),
        classes=["patrol-legend"],
        style={"font-size": "0.85em"},
    )


def coverage_legend(model: AppModel) -> str:
    """The coverage layer's colours in words, and the scenarios where no unit patrols."""
    bins = "".join(
        _swatch(color, label, "0")
        for color, label in zip(COVERAGE_COLORS, bin_labels(), strict=True)
    )
    idle = [sim.scenario.name for sim in model.sims if not patrols(sim)]
    none = "".join(f"; {html.escape(name)}: {NO_PATROL}" for name in idle)
    return (
        f'<div class="patrol-coverage-legend"><b>Patrol coverage (street colours):</b> '
        f"passes per day so far{bins}{_swatch(NOT_PASSED_COLOR, 'not passed yet', '0')} "
        f"(both directions together; updated every {CHECK_EVERY_FRAMES} frames at most)"
        f"{none}</div>"
    )


def _swatch(color: str, label: str, radius: str, rotate: bool = False) -> str:
    turn = "transform: rotate(45deg) scale(0.8);" if rotate else ""
    style = f"background:{color}; border-radius:{radius}; {turn}"
    return f'<span class="patrol-swatch" style="{style}"></span>{html.escape(label)}'


@solara.component
def Charts(model: AppModel, tick: int) -> None:
    """The live charts, one line per scenario in its panel's colour."""
    renderer = solara.use_memo(lambda: ChartRenderer(model.trackers), [model])
    solara.Image(renderer.render(), format="png", width="100%", classes=["patrol-charts"])


@solara.component
def FollowUnit(model: AppModel, followed: solara.Reactive, tick: int) -> None:
    """Pick a unit: its route is drawn on the map; its state, call and time budget here."""
    choices = [""] + [f"{sim.scenario.name}: {u.label}" for sim in model.sims for u in sim.units]
    with solara.Card("Follow a unit", margin=0):
        solara.Select(
            "Unit",
            value=followed.value if followed.value in choices else "",
            values=choices,
            on_value=followed.set,
        )
        text = _unit_text(model, followed.value)
        hint = "Pick a unit, or click one on the map: its route is drawn as a dashed line, ringed."
        Prose(text or hint, "patrol-unit")


def _unit_text(model: AppModel, choice: str) -> str:
    for sim in model.sims:
        label = _unit_label(choice, sim.scenario.name)
        unit = next((u for u in sim.units if u.label == label), None)
        if unit is None:
            continue
        with model.lock:
            unit.close_books(sim.time)
            minutes = unit.state_min
            call = unit.call
            lines = [
                f"**{unit.label}** (post: {unit.post.name})",
                f"- state: **{state_label(unit.state)}**",
                f"- call: {_call_text(call, sim) if call is not None else 'none'}",
                f"- time: {budget_text(_shares(minutes))}",
                f"- calls attended: {unit.calls_attended}",
            ]
        return "\n".join(lines)
    return ""


def _call_text(call, sim) -> str:
    kind = sim.call_types[call.type_index].name.replace("_", " ")
    community = sim.scenario.communities[call.community].name
    waited = sim.time - call.t_call
    return f"#{call.id} {kind} in {community}, received {waited:.0f} min ago"


def _shares(minutes: np.ndarray) -> dict[str, float | None]:
    total = float(minutes.sum())
    return {s.name.lower(): (minutes[s] / total if total > 0 else None) for s in UnitState}


@solara.component
def Prose(text: str, css_class: str) -> None:
    """Markdown as HTML (solara.Markdown would fetch mermaid from a CDN: not offline)."""
    solara.HTML(tag="div", unsafe_innerHTML=markdown.markdown(text), classes=[css_class])


@solara.component
def Positions(model: AppModel, tick: int) -> None:
    """Unit positions of the first scenario, for tests and screen readers; not shown."""
    sim = model.sims[0]
    with model.lock:
        text = "; ".join(
            f"{u.label}={x:.1f},{y:.1f}" for u in sim.units for x, y in [u.xy(sim.time)]
        )
    solara.Text(text, classes=["patrol-positions"], style={"display": "none"})

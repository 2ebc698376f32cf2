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
from sim.scenarios.schema import Scenario
from sim.viz.appmodel import AppModel, clock_text
from sim.viz.charts import ChartRenderer
from sim.viz.coverage_layer import (
    CHECK_EVERY_FRAMES,
    COVERAGE_COLORS,
    NOT_PASSED_COLOR,
    bin_labels,
    patrols,
    share_passed,
)
from sim.viz.mapview import WAIT_ALERT_MIN
from sim.viz.mapwidget import StreetMap
from sim.viz.messages import language, t
from sim.viz.readouts import budget_text, rows
from sim.viz.streetmap import CoverageColours, frame_overlay, map_ratio, street_map
from sim.viz.style import scenario_color, state_color, state_name, type_color

PANEL_CHROME_PX = 340  # page height above and around a map at 1280x720 (strip, headline...)


@solara.component
def ClockLine(model: AppModel, playing: bool, player, tick: int) -> None:
    """'Day 1, 09:40 - playing at ... (measured)'."""
    text = clock_text(model.now_min)
    if playing and player is not None:
        text += t("playing_fps", fps=f"{player.frames_per_s():.1f}")
    with solara.Row(style={"align-items": "baseline", "gap": "12px", "flex-wrap": "wrap"}):
        solara.Text(text, classes=["patrol-clock"],
                    style={"font-weight": "bold", "font-size": "1.1em"})  # fmt: skip
        solara.Text(model.settings_text(), style={"font-size": "0.8em"})


def where_units(scenario: Scenario) -> str:
    """Where the scenario's units are based: 'central station', 'community offices', ..."""
    kinds = {post.name: post.kind for post in scenario.posts}
    based = {kinds.get(group.post) for group in scenario.units}
    if based == {"station"}:
        return t("where_station")
    if based == {"office"}:
        return t("where_offices")
    return t("where_both")


def panel_title(scenario: Scenario, compared: bool) -> str:
    """'Before: central station' / 'After: community offices' when two are compared."""
    where = where_units(scenario)
    if not compared:
        return t("title_alone", name=scenario.name, where=where)
    roles = {t("where_station"): t("before"), t("where_offices"): t("after")}
    return t("title_compared", role=roles.get(where, scenario.name), where=where,
             name=scenario.name)  # fmt: skip


@solara.component
def ScenarioPanels(
    model: AppModel, followed: solara.Reactive, tick: int, coverage: bool = False
) -> None:
    """One panel per scenario, side by side: a title in its colour, its map, its numbers.

    Beside each map: its numbers and the unit followed in it (picked from the list, or by a
    click on a unit). ``coverage``: streets coloured by patrol passes.
    """
    readouts = model.readouts()
    compared = len(model.sims) > 1
    with solara.Div(classes=["patrol-row"], style={"--panels": str(len(model.sims))}):
        for i, (sim, readout) in enumerate(zip(model.sims, readouts, strict=True)):
            color = scenario_color(i)
            with solara.Div(classes=["patrol-panel"], style={"border-top-color": color}):
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=html.escape(panel_title(sim.scenario, compared)),
                    classes=["patrol-title", "patrol-panel-title"],
                    style={"color": color},
                    attributes={"title": sim.scenario.description or ""},
                )
                if coverage:
                    CoverageNote(model, sim, tick)
                with solara.Div(classes=["patrol-panel-body"]):
                    MapImage(model, i, followed.value, tick, coverage, followed.set)
                    with solara.Div(classes=["patrol-side"]):
                        solara.HTML(
                            tag="div",
                            unsafe_innerHTML=_table(rows(readout)),
                            classes=["patrol-numbers"],
                        )
                        FollowUnit(model, i, followed, tick)


@solara.component
def CoverageNote(model: AppModel, sim, tick: int) -> None:
    """One line over the map: how much of the streets patrols have passed, or that none do."""
    if not patrols(sim):
        solara.Text(t("coverage_none"), classes=["patrol-no-patrol"])
        return
    with model.lock:
        share = share_passed(sim)
    solara.Text(t("coverage_note", share=f"{share:.0%}"), classes=["patrol-coverage-note"])


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
    """The map of one scenario, with the followed unit's route; a click on a unit follows it.

    The streets go to the browser once (``street_map``); each frame sends the overlay and
    the units' street paths only.
    """
    sim = model.sims[index]
    streets = solara.use_memo(lambda: street_map(sim), [sim])
    colours = solara.use_memo(lambda: CoverageColours(sim), [sim])
    with model.lock:
        overlay = frame_overlay(sim, _unit_label(followed, sim.scenario.name))
        motion = model.motions[index].frame() if model.motions else {}
        cover = colours.now() if coverage else []

    def picked(unit: int) -> None:
        if on_follow is not None and unit < len(sim.units):
            on_follow(f"{sim.scenario.name}: {sim.units[unit].label}")

    ratio = map_ratio(streets["limits"])
    limit = f"calc((100vh - {PANEL_CHROME_PX}px) * {ratio:.4f})"  # fits the height
    seen = model.confirm_frame if index == 0 else None  # the first map paces the play loop
    with solara.Div(classes=["patrol-map-box"], style={"max-width": limit}):
        StreetMap(streets, overlay, motion, cover, ratio, picked, seen)


def _unit_label(followed: str, name: str) -> str | None:
    prefix = f"{name}: "
    return followed.removeprefix(prefix) if followed.startswith(prefix) else None


@solara.component
def Legend(model: AppModel, coverage: bool = False) -> None:
    """What each colour and marker means, built from the enum and the scenario."""
    states = "".join(_swatch(state_color(s), state_name(s), "50%") for s in UnitState)
    types = "".join(
        _swatch(type_color(i), call_type_name(kind), "0", rotate=True)
        for i, kind in enumerate(model.sims[0].call_types)
    )
    scenarios = "".join(
        _swatch(scenario_color(i), sim.scenario.name, "0") for i, sim in enumerate(model.sims)
    )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<div><b>{_e(t('legend_units'))}</b>{states} &nbsp; ■ {_e(t('station'))} &nbsp; "
            f"▲ {_e(t('office'))}</div><div><b>{_e(t('legend_calls'))}</b>{types}; "
            f"{_e(t('red_ring', minutes=f'{WAIT_ALERT_MIN:g}'))}</div>"
            f"<div><b>{_e(t('legend_scenarios'))}</b>{scenarios}</div>"
            f"{coverage_legend(model) if coverage else ''}"
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
    none = "".join(f"; {_e(name)}: {_e(t('no_patrol'))}" for name in idle)
    return (
        f'<div class="patrol-coverage-legend"><b>{_e(t("coverage_legend"))}</b> '
        f"{_e(t('passes_per_day'))}{bins}{_swatch(NOT_PASSED_COLOR, t('not_passed'), '0')} "
        f"{_e(t('coverage_how', frames=CHECK_EVERY_FRAMES))}{none}</div>"
    )


def _e(text: str) -> str:
    return html.escape(text)


def call_type_name(kind) -> str:
    """A call type's name in the page's language (the scenario's label_zh in Chinese)."""
    if language.value == "zh" and getattr(kind, "label_zh", None):
        return kind.label_zh
    return kind.name.replace("_", " ")


def _swatch(color: str, label: str, radius: str, rotate: bool = False) -> str:
    turn = "transform: rotate(45deg) scale(0.8);" if rotate else ""
    style = f"background:{color}; border-radius:{radius}; {turn}"
    return f'<span class="patrol-swatch" style="{style}"></span>{html.escape(label)}'


@solara.component
def Charts(model: AppModel, tick: int) -> None:
    """The live charts, one line per scenario in its panel's colour."""
    lang = language.value  # titles in the page's language: a new renderer when it changes
    renderer = solara.use_memo(lambda: ChartRenderer(model.trackers), [model, lang])
    solara.Image(renderer.render(), format="png", width="100%", classes=["patrol-charts"])


@solara.component
def FollowUnit(model: AppModel, index: int, followed: solara.Reactive, tick: int) -> None:
    """Pick a unit of this panel's scenario: its route on the map; its state, call, time here."""
    sim = model.sims[index]
    name = sim.scenario.name
    options = {"": t("nobody")} | {f"{name}: {u.label}": u.label for u in sim.units}
    value = followed.value if followed.value in options else ""
    solara.v.Select(
        label=t("follow_unit"),
        v_model=value,
        items=[{"text": text, "value": key} for key, text in options.items()],
        on_v_model=lambda chosen: followed.set(chosen if chosen in options else ""),
        dense=True,
        hide_details=True,
        class_="patrol-follow",
    )
    text = _unit_text(model, value) if value else ""
    Prose(text or t("follow_hint"), "patrol-unit")


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
            call_text = _call_text(call, sim) if call is not None else t("no_call")
            lines = [
                f"**{unit.label}** ({t('labelled', label=t('post'), value=unit.post.name)})",
                "- " + t("labelled", label=t("state"), value=f"**{state_name(unit.state)}**"),
                "- " + t("labelled", label=t("call"), value=call_text),
                "- " + t("labelled", label=t("time"), value=budget_text(_shares(minutes))),
                "- " + t("labelled", label=t("calls_attended"), value=unit.calls_attended),
            ]
        return "\n".join(lines)
    return ""


def _call_text(call, sim) -> str:
    kind = call_type_name(sim.call_types[call.type_index])
    community = sim.scenario.communities[call.community].name
    waited = sim.time - call.t_call
    return t("call_text", id=call.id, kind=kind, community=community, minutes=f"{waited:.0f}")


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

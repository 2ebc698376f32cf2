"""The Solara page: controls, one panel per scenario (map and numbers), charts, legend.

Run it with ``python run_sim.py viz`` (or ``solara run sim/viz/app.py``). Each browser
session gets its own ``AppModel`` (made in ``Page`` with ``solara.use_memo``, never at module
level), so one student's Reset never touches another's. The page is built from Solara
components directly, with the model in Mesa: Mesa's ``SolaraViz`` controller is not used,
because its play loop has no floor on the interval, keeps stepping after the page is gone,
and shows internals (Use Threads, Time) a student cannot use. Every part of the page is
wrapped so that an error shows as a message, never as a traceback page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import solara

from sim.clock import MIN_PER_DAY
from sim.errors import SimInputError
from sim.viz import panels
from sim.viz.appmodel import AppModel, clock_text
from sim.viz.controls import Controls, default_controls, model_params, parse_seed
from sim.viz.info import LANGUAGES, what_you_see
from sim.viz.player import (
    DEFAULT_SPEED,
    MIN_INTERVAL_MS,
    SPEEDS_MIN_PER_S,
    Player,
    current_kernel,
    kernel_alive_check,
    minutes_per_frame,
)

log = logging.getLogger(__name__)
TITLE = "Community patrol simulator"
MAX_FPS = 1000 // MIN_INTERVAL_MS
COVERAGE_TOGGLE = "Colour streets by patrol coverage (passes per day so far)"
CSS = """
.patrol-row { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.patrol-grid { display: grid; gap: 12px; align-items: start;
  grid-template-columns: 300px minmax(0, 1fr); grid-template-rows: auto 1fr;
  grid-template-areas: "run main" "settings main"; }
.patrol-run { grid-area: run; } .patrol-settings { grid-area: settings; }
.patrol-main { grid-area: main; min-width: 0; }
@media (max-width: 900px) {  /* small screens: Play above the map, settings below it */
  .patrol-grid { grid-template-columns: minmax(0, 1fr); grid-template-rows: auto;
    grid-template-areas: "run" "main" "settings"; }
}
.patrol-panel { flex: 1 1 480px; min-width: 0; border-top: 6px solid; padding: 4px; }
.patrol-readouts td { padding: 1px 8px 1px 0; vertical-align: top; }
.patrol-readouts td:first-child { white-space: nowrap; }
.patrol-readouts { font-size: 0.95em; border-collapse: collapse; }
.patrol-swatch { display: inline-block; width: 12px; height: 12px; margin: 0 3px 0 10px;
  border: 1px solid #333; vertical-align: middle; }
.patrol-changed { color: #b35900; font-size: 0.8em; }
"""


@dataclass(frozen=True)
class Playback:
    """Speed settings of one page (not model settings: they apply at once)."""

    speed_min_per_s: int = DEFAULT_SPEED
    frames_per_s: int = MAX_FPS

    @property
    def interval_ms(self) -> float:
        """Milliseconds between frames (never below the floor)."""
        return max(1000 / max(self.frames_per_s, 1), MIN_INTERVAL_MS)

    @property
    def minutes(self) -> int:
        """Simulated minutes per frame (and per press of Step)."""
        return minutes_per_frame(self.speed_min_per_s, self.interval_ms)


@solara.component
def Guarded(render: Callable[[], None], where: str):
    """Renders ``render()``; an error in it shows as a message with a retry button."""
    error, clear = solara.use_exception()
    if error is not None:
        log.error("the %s failed: %r", where, error)
        with solara.Column(classes=["patrol-crash"]):
            solara.Error(f"The {where} could not be shown: {error}", classes=["patrol-error"])
            solara.Button("Try again", on_click=clear)
        return
    render()


def _safe(action: Callable[[], None], notice: solara.Reactive) -> Callable[[], None]:
    """An event handler that turns any error into a message on the page."""

    def handler(*_args) -> None:
        try:
            action()
        except Exception as exc:
            log.exception("a control failed")
            notice.set(f"That did not work: {exc}")

    return handler


@solara.component
def Page():
    """The page: one model per browser session, never one at module level."""
    first = solara.use_memo(default_controls, [])
    model = solara.use_reactive(solara.use_memo(lambda: AppModel(first), []))
    pending = solara.use_reactive(first)  # the controls as set, applied on Reset
    playback = solara.use_reactive(Playback())
    frame = solara.use_memo(lambda: solara.reactive(0), [])  # bumped after each frame
    playing = solara.use_reactive(False)
    notice = solara.use_reactive(None)  # a message from the play loop or a control
    language = solara.use_reactive("en")
    followed = solara.use_reactive("")
    player = solara.use_ref(None)

    def stop_player(why: str = "paused") -> None:
        if player.current is not None:
            player.current.stop(why)
            player.current = None

    def on_page_gone() -> Callable[[], None]:
        return lambda: stop_player("page gone")

    solara.use_effect(on_page_gone, [])  # the page goes away (kernel closed): the loop stops

    def on_stop(reason: str) -> None:
        current = player.current
        if current is not None and current.error:
            notice.set(current.error)
        playing.set(False)
        frame.set(frame.value + 1)

    def play() -> None:
        if playing.value:
            stop_player()
            playing.set(False)
            return
        if model.value.error or model.value.finished:
            return
        context = current_kernel()
        current = Player(
            model.value,
            on_frame=lambda: frame.set(frame.value + 1),
            on_stop=on_stop,
            minutes=lambda: playback.value.minutes,
            interval_ms=lambda: playback.value.interval_ms,
            page_alive=kernel_alive_check(context),
            context=context,
        )
        player.current = current
        notice.set(None)
        playing.set(True)
        current.start()

    def step() -> None:
        model.value.advance(playback.value.minutes)
        frame.set(frame.value + 1)

    def reset() -> None:
        stop_player()
        playing.set(False)
        notice.set(None)
        followed.set("")
        model.set(AppModel(pending.value))

    solara.Style(CSS)
    with solara.Column(style={"padding": "8px"}):
        with solara.Row(style={"align-items": "center"}):
            solara.Text(TITLE, style={"font-size": "1.4em", "font-weight": "bold"})
            solara.ToggleButtonsSingle(
                value=next(k for k, v in LANGUAGES.items() if v == language.value),
                values=list(LANGUAGES),
                on_value=lambda k: language.set(LANGUAGES[k]),
            )
        with solara.Div(classes=["patrol-grid"]):
            with solara.Div(classes=["patrol-run"]):
                Guarded(
                    lambda: RunCard(
                        model.value,
                        playback,
                        playing.value,
                        _safe(play, notice),
                        _safe(step, notice),
                        _safe(reset, notice),
                    ),
                    "controls",
                )
            with solara.Div(classes=["patrol-main"]):
                Guarded(
                    lambda: MainView(
                        model.value, frame, playing.value, notice.value, followed, player
                    ),
                    "simulation view",
                )
                Guarded(lambda: panels.Prose(what_you_see(language.value), "patrol-info"), "help")
            with solara.Div(classes=["patrol-settings"]):
                with solara.Card("Settings", subtitle="Press Reset to apply them.", margin=0):
                    Guarded(lambda: SettingsInputs(pending, model.value.controls), "settings")


@solara.component
def RunCard(
    model: AppModel,
    playback: solara.Reactive,
    playing: bool,
    play: Callable,
    step: Callable,
    reset: Callable,
):
    """Play / Step / Reset and the speed (applied at once)."""
    pb: Playback = playback.value
    with solara.Card("Run", margin=0):
        with solara.Row(style={"flex-wrap": "wrap", "row-gap": "6px"}):
            solara.Button(
                "Pause" if playing else "Play",
                color="primary",
                on_click=play,
                disabled=bool(model.error) or model.finished,
                classes=["patrol-play"],
            )
            solara.Button(
                f"Step +{pb.minutes} min",
                on_click=step,
                disabled=playing or bool(model.error) or model.finished,
                classes=["patrol-step"],
            )
            solara.Button("Reset", on_click=reset, classes=["patrol-reset"])
        speeds = [f"{s} simulated min per second" for s in SPEEDS_MIN_PER_S]
        solara.Select(
            "Speed",
            value=f"{pb.speed_min_per_s} simulated min per second",
            values=speeds,
            on_value=lambda v: playback.set(replace(pb, speed_min_per_s=int(v.split()[0]))),
        )
        solara.SliderInt(
            f"Frames per second: {pb.frames_per_s}",
            value=pb.frames_per_s,
            min=1,
            max=MAX_FPS,
            on_value=lambda v: playback.set(replace(pb, frames_per_s=int(v))),
            thumb_label=True,
        )
        solara.Text(
            f"A frame every {pb.interval_ms:.0f} ms; each frame and each Step: "
            f"+{pb.minutes} simulated min.",
            style={"font-size": "0.85em"},
        )


@solara.component
def SettingsInputs(pending: solara.Reactive, applied: Controls):
    """One input per model setting, its value in its label, marked when not yet applied."""
    specs = model_params(pending.value)
    current = pending.value
    for name, spec in specs.items():
        value = getattr(current, name)
        changed = value != getattr(applied, name)
        label = spec["label"]

        def set_value(v, name=name) -> None:
            pending.set(replace(pending.value, **{name: v}))

        if spec["type"] == "Select":
            solara.Select(label, value=value, values=spec["values"], on_value=set_value)
        elif spec["type"] in ("SliderInt", "SliderFloat"):
            slider = solara.SliderInt if spec["type"] == "SliderInt" else solara.SliderFloat
            slider(
                f"{label}: {value:g}",
                value=value,
                min=spec["min"],
                max=spec["max"],
                step=spec["step"],
                on_value=set_value,
                thumb_label=True,
            )
        else:
            solara.InputText(
                label,
                value=str(value),
                on_value=set_value,
                error=_seed_error(str(value)) or False,
            )
        # always there (empty when applied): a shifting layout would make new widgets
        solara.Text("changed: press Reset to apply" if changed else "", classes=["patrol-changed"])


def _seed_error(text: str) -> str | None:
    try:
        parse_seed(text)
    except SimInputError as exc:
        return str(exc)
    return None


@solara.component
def MainView(
    model: AppModel,
    frame: solara.Reactive,
    playing: bool,
    notice: str | None,
    followed: solara.Reactive,
    player,
):
    """Messages, clock, one panel per scenario, the charts, the legend, follow a unit."""
    tick = frame.value  # passed on: a child re-renders only when an argument changes
    coverage = solara.use_reactive(False)  # the patrol coverage layer (kept over Reset)
    if model.error:
        solara.Error(model.error, classes=["patrol-error"])
        solara.Text("Fix the value under Settings and press Reset.")
        return
    for warning in model.warnings:
        solara.Warning(warning, classes=["patrol-warning"])
    if notice:
        solara.Error(notice, classes=["patrol-error"])
    if model.finished:
        solara.Success(
            f"The run is over: {clock_text(model.horizon_min)}, the end of the scenario's "
            f"{model.horizon_min / MIN_PER_DAY:g} days. Press Reset to start again.",
            classes=["patrol-end"],
        )
    panels.ClockLine(model, playing, player.current, tick)
    with solara.Div(classes=["patrol-coverage-toggle"]):
        solara.Checkbox(label=COVERAGE_TOGGLE, value=coverage)
    panels.ScenarioPanels(model, followed.value, tick, coverage.value, followed.set)
    panels.Legend(model, coverage.value)
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        with solara.Div(style={"flex": "1 1 520px", "min-width": "0"}):
            panels.Charts(model, tick // 2 if playing else tick)  # 6 a second are enough
        with solara.Div(style={"flex": "1 1 300px", "min-width": "0"}):
            panels.FollowUnit(model, followed, tick)
    panels.Positions(model, tick)

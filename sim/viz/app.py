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
import solara.lab

from sim.clock import MIN_PER_DAY
from sim.errors import SimInputError
from sim.viz import panels
from sim.viz.appmodel import AppModel, clock_text
from sim.viz.controls import (
    AS_SCENARIO,
    NO_COMPARE,
    Controls,
    default_controls,
    model_params,
    parse_seed,
)
from sim.viz.headline import Headline
from sim.viz.info import what_you_see
from sim.viz.messages import LANGUAGES, catalogue, language, t
from sim.viz.player import (
    BEHIND,
    DEFAULT_SPEED,
    MIN_INTERVAL_MS,
    SPEEDS_MIN_PER_S,
    STEP_MIN,
    Player,
    current_kernel,
    frame_interval_ms,
    kernel_alive_check,
    minutes_per_frame,
    playing_now,
)

log = logging.getLogger(__name__)
MAX_FPS = 1000 // MIN_INTERVAL_MS
COVERAGE_TOGGLE = catalogue("en")["coverage_toggle"]  # the tick box, in English
#: The one-click busy evening: central (before) against embedded (after) at five times the
#: calls, from 17:00. On this seed central already holds calls waiting at 17:00 and builds
#: to 10 within the hour while embedded has at most 1 (tests/test_viz.py checks it).
BUSY_EVENING = Controls(
    scenario_name="central", compare="embedded", rate_multiplier=5.0, seed="7", start_hour=17
)
CSS = """
.patrol-strip { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 12px;
  padding: 2px 4px; border-bottom: 1px solid #ddd; }
.patrol-strip .v-input { margin-top: 0; padding-top: 0; flex: 0 0 auto; }
.patrol-strip-group { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 10px; }
.patrol-strip .patrol-speed { width: 235px; } .patrol-strip .patrol-fps { width: 170px; }
.patrol-slider .v-input__slot { flex-wrap: wrap; }  /* the label above, the slider full width */
.patrol-slider .v-input__slot > .v-label { flex: 1 0 100%; max-width: 100%; font-size: 0.85em;
  height: auto; margin: 0; }
.patrol-slider .v-slider { min-width: 120px; margin: 0 8px; }
.patrol-strip .v-input__slot { margin-bottom: 0; } .patrol-strip .v-messages { display: none; }
.patrol-title-text { font-size: 1.1em; font-weight: bold; }
.patrol-strip .v-btn { height: 32px !important; }
.patrol-strip .v-btn-toggle { flex: 0 0 auto; }
.patrol-body { display: grid; gap: 10px; grid-template-columns: minmax(0, 1fr);
  align-items: start; }
.patrol-body.open { grid-template-columns: 300px minmax(0, 1fr); }
.patrol-main { min-width: 0; }
.patrol-messages:empty { display: none; }
.patrol-headline-cards { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr));
  gap: 8px; }
.patrol-headline-card { border: 1px solid #ccc; border-radius: 6px; padding: 2px 10px;
  container-type: inline-size; }
.patrol-headline-label { font-size: 0.95em; color: #444; }
/* large type that shrinks with its card (the side bar open, long units), never clipped: a
   difference that still does not fit goes under the values */
.patrol-headline-values { font-size: clamp(1.05rem, 7cqi, 1.75rem); font-weight: bold;
  line-height: 1.2; }
.patrol-headline-pair, .patrol-diff { white-space: nowrap; display: inline-block; }
.patrol-diff { font-size: 0.8em; margin-left: 6px; }
.v-application .v-btn { text-transform: none; }  /* catalogue strings as written: "+10 min" */
.patrol-queue { font-size: 1.05em; font-weight: bold; margin: 2px 0; }
.patrol-clock-row { display: flex; flex-wrap: wrap; align-items: center; gap: 0 16px; }
.patrol-clock-row .v-input { margin-top: 0; padding-top: 0; }
.patrol-clock-row .v-messages { display: none; }
.patrol-row { display: grid; gap: 10px;
  grid-template-columns: repeat(var(--panels, 1), minmax(0, 1fr)); }
@media (max-width: 900px) {  /* small screens: one column, settings under the page */
  .patrol-body.open { grid-template-columns: minmax(0, 1fr); }
  .patrol-row { grid-template-columns: minmax(0, 1fr); }
  .patrol-headline-cards { grid-template-columns: minmax(0, 1fr); }
}
.patrol-panel { min-width: 0; border-top: 6px solid; padding: 2px; }
.patrol-panel-title { font-weight: bold; font-size: 1.05em; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.patrol-panel-body { display: flex; gap: 8px; align-items: flex-start; }
.patrol-map-box { flex: 1 1 auto; min-width: 200px; }
.patrol-side { flex: 0 0 230px; min-width: 0; font-size: 0.8em; line-height: 1.25; }
.patrol-side .v-input { font-size: 0.95em; }
.patrol-readouts td { padding: 0 6px 0 0; vertical-align: top; }
.patrol-readouts td:first-child { white-space: nowrap; }
.patrol-readouts { border-collapse: collapse; }
.patrol-swatch { display: inline-block; width: 12px; height: 12px; margin: 0 3px 0 10px;
  border: 1px solid #333; vertical-align: middle; }
.patrol-changed { color: #b35900; font-size: 0.8em; }
"""


def _session_started() -> Callable[[], None]:
    """Log each browser session's start and end (the server's log shows none is kept)."""
    log.warning("session opened")
    return lambda: log.warning("session closed")


solara.lab.on_kernel_start(_session_started)


@dataclass(frozen=True)
class Playback:
    """Speed settings of one page (not model settings: they apply at once)."""

    speed_min_per_s: int = DEFAULT_SPEED
    frames_per_s: int = MAX_FPS

    @property
    def interval_ms(self) -> float:
        """Milliseconds between frames (never below the floor; a minute each at slow speeds)."""
        return frame_interval_ms(self.speed_min_per_s, self.frames_per_s)

    @property
    def minutes(self) -> int:
        """Simulated minutes per frame."""
        return minutes_per_frame(self.speed_min_per_s, self.interval_ms)

    @property
    def step_minutes(self) -> int:
        """Simulated minutes per press of Step (a frame's, at least ``STEP_MIN``)."""
        return max(self.minutes, STEP_MIN)


@solara.component
def Guarded(render: Callable[[], None], where: str):
    """Renders ``render()``; an error in it shows as a message with a retry button."""
    error, clear = solara.use_exception()
    if error is not None:
        log.error("the %s failed: %r", where, error)
        with solara.Column(classes=["patrol-crash"]):
            solara.Error(t("could_not_show", where=t(where), error=error),
                         classes=["patrol-error"])  # fmt: skip
            solara.Button(t("try_again"), on_click=clear)
        return
    render()


def _safe(action: Callable[[], None], notice: solara.Reactive) -> Callable[[], None]:
    """An event handler that turns any error into a message on the page."""

    def handler(*_args) -> None:
        try:
            action()
        except Exception as exc:
            log.exception("a control failed")
            notice.set(t("did_not_work", error=exc))

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
    sidebar = solara.use_reactive(False)  # the settings side bar, closed at first
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
        elif current is not None and reason == BEHIND:
            fps = f"{current.frames_per_s():.1f}"
            notice.set(t("fell_behind", fps=fps, target=f"{current.target_fps():g}"))
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
            confirmed=lambda: model.value.seen_seq,
        )
        if not current.start():
            notice.set(t(f"server_busy_{current.refused}", playing=playing_now()))
            return
        player.current = current
        notice.set(None)
        playing.set(True)

    def step() -> None:
        model.value.advance(playback.value.step_minutes)
        frame.set(frame.value + 1)

    def reset() -> None:
        stop_player()
        playing.set(False)
        notice.set(None)
        followed.set("")
        model.set(AppModel(pending.value))

    def busy_evening() -> None:
        pending.set(BUSY_EVENING)
        reset()

    solara.Style(CSS)
    with solara.Column(style={"padding": "4px 8px", "gap": "6px"}):
        with solara.Div(classes=["patrol-strip", "patrol-run"]):
            solara.Text(t("title"), classes=["patrol-title-text"])
            Guarded(
                lambda: RunStrip(
                    model.value,
                    playback,
                    playing.value,
                    _safe(play, notice),
                    _safe(step, notice),
                    _safe(reset, notice),
                ),
                "controls",
            )
            solara.Button(t("busy_evening"), on_click=_safe(busy_evening, notice),
                          outlined=True, classes=["patrol-busy"])  # fmt: skip
            solara.Button(
                t("hide_settings") if sidebar.value else t("settings"),
                on_click=lambda: sidebar.set(not sidebar.value),
                outlined=True,
                classes=["patrol-settings-toggle"],
            )
            solara.ToggleButtonsSingle(
                value=next(k for k, v in LANGUAGES.items() if v == language.value),
                values=list(LANGUAGES),
                on_value=lambda k: language.set(LANGUAGES[k]),
            )
        with solara.Div(classes=["patrol-body", "open"] if sidebar.value else ["patrol-body"]):
            # always there, hidden when closed: the page's parts keep their state when it opens
            shown = {} if sidebar.value else {"display": "none"}
            with solara.Div(classes=["patrol-sidebar", "patrol-settings"], style=shown):
                with solara.Card(t("settings"), subtitle=t("press_reset"), margin=0):
                    Guarded(lambda: SettingsInputs(pending, model.value.controls), "settings")
            with solara.Div(classes=["patrol-main"]):
                Guarded(
                    lambda: MainView(
                        model.value, frame, playing.value, notice.value, followed, player
                    ),
                    "simulation_view",
                )
                Guarded(lambda: panels.Prose(what_you_see(language.value), "patrol-info"), "help")


@solara.component
def RunStrip(
    model: AppModel,
    playback: solara.Reactive,
    playing: bool,
    play: Callable,
    step: Callable,
    reset: Callable,
):
    """Play / Step / Reset and the speed (applied at once), in the top strip."""
    pb: Playback = playback.value
    with solara.Div(classes=["patrol-strip-group"]):
        _run_buttons(model, pb, playing, play, step, reset)
        speeds = {s: t("speed_value", minutes=s) for s in SPEEDS_MIN_PER_S}
        Choice(
            t("speed"),
            pb.speed_min_per_s,
            speeds,
            lambda v: playback.set(replace(pb, speed_min_per_s=int(v))),
            "patrol-speed",
        )
        with solara.Div(classes=["patrol-fps", "patrol-slider"]):
            solara.SliderInt(
                t("fps", fps=pb.frames_per_s),
                value=pb.frames_per_s,
                min=1,
                max=MAX_FPS,
                on_value=lambda v: playback.set(replace(pb, frames_per_s=int(v))),
                thumb_label=True,
            )


def _run_buttons(model: AppModel, pb: Playback, playing: bool, play, step, reset) -> None:
    solara.Button(
        t("pause") if playing else t("play"),
        color="primary",
        on_click=play,
        disabled=bool(model.error) or model.finished,
        classes=["patrol-play"],
    )
    solara.Button(
        t("step", minutes=pb.step_minutes),
        on_click=step,
        disabled=playing or bool(model.error) or model.finished,
        classes=["patrol-step"],
    )
    solara.Button(t("reset"), on_click=reset, classes=["patrol-reset"])


@solara.component
def Choice(label: str, value, options: dict, on_value: Callable, css_class: str = ""):
    """A drop-down list showing ``options``' texts (in the page's language) for their values."""
    items = [{"text": text, "value": key} for key, text in options.items()]

    def changed(chosen) -> None:
        if chosen in options:
            on_value(chosen)

    solara.v.Select(
        label=label,
        v_model=value,
        items=items,
        on_v_model=changed,
        dense=True,
        hide_details=True,
        class_=f"patrol-choice {css_class}".strip(),
    )


@solara.component
def SettingsInputs(pending: solara.Reactive, applied: Controls):
    """One input per model setting, its value in its label, marked when not yet applied."""
    specs = model_params(pending.value)
    current = pending.value
    for name, spec in specs.items():
        value = getattr(current, name)
        changed = value != getattr(applied, name)
        label = t(f"param_{name}")

        def set_value(v, name=name) -> None:
            pending.set(replace(pending.value, **{name: v}))

        if spec["type"] == "Select":
            options = {v: choice_text(v) for v in spec["values"]}
            Choice(label, value, options, set_value, f"patrol-{name}")
        elif spec["type"] in ("SliderInt", "SliderFloat"):
            slider = solara.SliderInt if spec["type"] == "SliderInt" else solara.SliderFloat
            with solara.Div(classes=["patrol-slider", f"patrol-{name}"]):
                slider(
                    t("labelled", label=label, value=f"{value:g}"),
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
        solara.Text(t("changed") if changed else "", classes=["patrol-changed"])


def choice_text(value: str) -> str:
    """How a settings value is shown: scenario names as they are, the rest in words."""
    key = CHOICE_KEYS.get(value)
    return t(key) if key else value


CHOICE_KEYS = {
    NO_COMPARE: "choice_none",
    AS_SCENARIO: "choice_as_scenario",
    "nearest": "policy_nearest",
    "community_first": "policy_community_first",
    "station_only": "policy_station_only",
}


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
    """Messages, headline, clock, one panel per scenario, legend, charts."""
    tick = frame.value  # passed on: a child re-renders only when an argument changes
    coverage = solara.use_reactive(False)  # the patrol coverage layer (kept over Reset)
    if model.error:
        solara.Error(model.error, classes=["patrol-error"])
        solara.Text(t("fix_value"))
        return
    with solara.Div(classes=["patrol-messages"]):  # always there: a message that comes
        for warning in model.warnings:  # or goes must not rebuild the maps and charts below
            solara.Warning(warning, classes=["patrol-warning"])
        if notice:
            solara.Error(notice, classes=["patrol-error"])
        if model.finished:
            solara.Success(
                t("run_over", clock=clock_text(model.horizon_min),
                  days=f"{model.horizon_min / MIN_PER_DAY:g}"),
                classes=["patrol-end"],
            )  # fmt: skip
    Headline(model.readouts())
    with solara.Div(classes=["patrol-clock-row"]):
        panels.ClockLine(model, playing, player.current, tick)
        with solara.Div(classes=["patrol-coverage-toggle"]):
            solara.Checkbox(label=t("coverage_toggle"), value=coverage)
    panels.ScenarioPanels(model, followed, tick, coverage.value)
    panels.Legend(model, coverage.value)
    panels.Charts(model, tick // 2 if playing else tick)  # 6 a second are enough
    panels.Positions(model, tick)

"""Colours and names shared by the map, the charts and the page.

Three palettes that share no colour: unit states (markers and the time-budget bars), call
types (diamonds on the map) and scenarios (chart lines, panel titles and frames). Unit
states are looked up by name with a fallback, so a state added to ``UnitState`` later (such
as ``PATROL``) is drawn and listed without a change here.
"""

from __future__ import annotations

from enum import Enum

STATE_COLORS = {  # by UnitState name
    "IDLE": "#4daf4a",
    "EN_ROUTE": "#e41a1c",
    "ON_SCENE": "#ff7f00",
    "RETURNING": "#377eb8",
    "FOLLOW_UP": "#984ea3",
    "OTHER_DUTY": "#a65628",
    "OFF_SHIFT": "#c8c8c8",
    "PATROL": "#17becf",
    "COMMUNITY_WORK": "#bc80bd",
}
STATE_FALLBACK = ("#e6ab02", "#666666", "#fdbf6f", "#b15928")
#: States in which a unit moves along the streets (drawn with a route when followed).
MOVING_STATES = ("EN_ROUTE", "RETURNING", "PATROL")
TYPE_COLORS = (  # call types: none of the state or scenario colours
    "#f0e442",
    "#cc79a7",
    "#56b4e9",
    "#009e73",
    "#8c6d31",
    "#e7969c",
    "#393b79",
    "#bcbd22",
    "#9edae5",
    "#637939",
)
SCENARIO_COLORS = ("#222222", "#d6007e", "#0a7d8c", "#7b4f00")  # black, magenta, teal, brown


def state_color(state: Enum) -> str:
    """The colour of a unit state; states without one get a fallback by position."""
    return STATE_COLORS.get(state.name) or STATE_FALLBACK[state.value % len(STATE_FALLBACK)]


def state_label(state: Enum) -> str:
    """'en route' for ``EN_ROUTE``."""
    return state.name.lower().replace("_", " ")


def is_moving(state: Enum) -> bool:
    """True for states drawn moving along the streets (en route, returning, patrol)."""
    return state.name in MOVING_STATES


def type_color(index: int) -> str:
    """The colour of call type ``index``."""
    return TYPE_COLORS[index % len(TYPE_COLORS)]


def scenario_color(index: int) -> str:
    """The colour of the ``index``-th scenario on the page (0: the first, 'before')."""
    return SCENARIO_COLORS[index % len(SCENARIO_COLORS)]


def state_name(state: Enum) -> str:
    """A unit state's name in the page's language ('en route'; a new state: its own name)."""
    from sim.viz.messages import catalogue, t

    key = f"state_{state.name.lower()}"
    return t(key) if key in catalogue("en") else state_label(state)

"""The one place that relies on Mesa internals (checked against ``CHECKED_MESA``).

The model keeps its own event queue (``sim.events``) and lets Mesa keep only what a user
schedules through ``model.schedule_event``. Four things need Mesa's private state, and only
here: stopping Mesa's default one-step-per-time-unit schedule (the model jumps from event to
event instead), peeking at Mesa's next event, running Mesa's events due at an instant, and
setting the clock quickly when nobody observes it.
A Mesa version that changed them fails with a clear message at model creation, and
``tests/test_mesa_adapter.py`` says which versions were checked, so the pin can be widened
after running that test.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import mesa
from mesa.experimental.mesa_signals import ObservableSignals

CHECKED_MESA = ("3.5",)


class MesaVersionError(RuntimeError):
    """The installed Mesa does not have the internals this adapter was checked against."""


def check(model: mesa.Model) -> None:
    """Fail clearly when the installed Mesa lacks what the adapter uses."""
    needed = ("_default_schedule", "_event_list", "_time", "_has_subscribers")
    missing = [a for a in needed if not hasattr(model, a)]
    if missing:
        raise MesaVersionError(
            f"Mesa {mesa.__version__} has no {', '.join(missing)}; sim.mesa_adapter was checked "
            f"against Mesa {', '.join(CHECKED_MESA)}.x: pin mesa to those or update the adapter"
        )


def take_over_time(model: mesa.Model) -> None:
    """Stop Mesa's per-unit step schedule; ``model.step`` becomes the class's own ``step``."""
    check(model)
    model._default_schedule.stop()
    model.step = type(model).step.__get__(model)  # Mesa wrapped it to advance its clock


def next_event_min(model: mesa.Model) -> float:
    """When the next event scheduled through Mesa is due (infinity when none is)."""
    events = model._event_list
    if events.is_empty():
        return math.inf
    ahead = events.peek_ahead(1)
    return ahead[0].time if ahead else math.inf


def run_events_until(model: mesa.Model, until_min: float) -> None:
    """Run Mesa's events due up to ``until_min`` in time order, with ``model.time`` set."""
    events = model._event_list
    while next_event_min(model) <= until_min:
        event = events.pop_event()
        model.time = event.time
        event.execute()


def clock_setter(model: mesa.Model) -> Callable[[float], None]:
    """A quick setter of ``model.time`` for the event loop (one call per event).

    ``model.time`` is a Mesa observable whose setter costs about a microsecond even when
    nobody listens; with no subscriber to its changes this writes Mesa's storage of it
    directly (what that setter does then), else it is the observable's own setter.
    """
    if model._has_subscribers("time", ObservableSignals.CHANGED):
        return partial(setattr, model, "time")
    return partial(setattr, model, "_time")

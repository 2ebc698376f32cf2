"""The unit's life between calls: sent to a call, done with a job, home again.

Each handler asks ``sim.agents.unit.Unit.set_state`` for the change (which checks it against
the one table of allowed changes) and schedules the unit's next event.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Protocol

from sim.agents.unit import Unit, UnitState
from sim.events import EventQueue, Priority
from sim.scenarios.patrol import MODE_SPEED_FACTOR

if TYPE_CHECKING:
    from collections.abc import Callable

    from sim.agents.roster import Roster
    from sim.calls.call import Call
    from sim.dispatch.dispatcher import Dispatcher
    from sim.patrol.patroller import Patroller
    from sim.travel import Travel


class UnitHost(Protocol):
    """What the unit's life uses of the model."""

    time: float  # minutes
    events: EventQueue
    travel: Travel
    dispatcher: Dispatcher
    patroller: Patroller
    roster: Roster


class UnitLife:
    """Moves of units: to a call, back to their post, into what waits for them there."""

    def __init__(self, model: UnitHost):
        """Act for ``model``; the call's life sets ``on_arrive`` (arrival at a scene)."""
        self.model = model
        self.on_arrive: Callable[[tuple[Unit, int]], None] | None = None

    def assign(self, call: Call, unit: Unit) -> None:
        """Send ``unit`` to ``call`` now (the dispatcher's choice)."""
        model = self.model
        now = model.time
        if unit.state == UnitState.PATROL:
            model.patroller.interrupted(unit)
        if not call.units:
            if math.isnan(call.t_assigned):  # (a pre-empted call keeps its first)
                call.t_assigned = now
            call.unit = unit
        call.units.append(unit)
        plan = model.travel.trip(unit, call, now)
        t_arrive = unit.start_trip(
            call.node,
            now,
            plan.free_flow_min,
            plan.mobilise_min,
            plan.slowdown,
            (plan.source, plan.lead_min),
        )
        unit.call = call
        unit.set_state(UnitState.EN_ROUTE, now)
        model.events.schedule(t_arrive, Priority.UNIT, self.on_arrive, (unit, unit.trip_id))

    def done(self, unit: Unit) -> None:
        """A unit finished a job: pending duty or shift end first, then the queue, then home."""
        now = self.model.time
        at_post = unit.node == unit.post.node
        if unit.pending:
            if at_post:
                self.arrive_home(unit)
            else:
                self.go_home(unit)
            return
        unit.trip = None  # free: serve the queue from here, else patrol on, else go home
        unit.set_state(UnitState.IDLE if at_post else UnitState.RETURNING, now)
        patroller = self.model.patroller  # (asked only when some unit patrols)
        if self.model.dispatcher.serve_queue(unit) or (patroller.active and patroller.resume(unit)):
            return
        if at_post:
            if patroller.active:
                patroller.on_idle(unit)
        else:
            self.go_home(unit)

    def now_idle(self, unit: Unit) -> None:
        """The unit is free at its post: the queue first, else (a break, then) patrol."""
        if not self.model.dispatcher.serve_queue(unit) and self.model.patroller.active:
            self.model.patroller.on_idle(unit)

    def recall(self, unit: Unit) -> None:
        """A duty block or the end of its shift calls a patrolling unit back to its post."""
        self.model.patroller.interrupted(unit)
        unit.patrol_until = -math.inf
        self.go_home(unit)

    def go_home(self, unit: Unit) -> None:
        """Drive back to the post from where the unit is."""
        model = self.model
        now = model.time
        travel_min = model.travel.home_min(unit)
        slowdown = model.travel.slowdown_of(unit, now)
        t_home = unit.start_trip(unit.post.node, now, travel_min, slowdown=slowdown)
        unit.set_state(UnitState.RETURNING, now)
        model.events.schedule(t_home, Priority.UNIT, self._on_home, (unit, unit.trip_id))

    def _on_home(self, arg: tuple[Unit, int]) -> None:
        unit, trip_id = arg
        if trip_id != unit.trip_id or unit.state != UnitState.RETURNING:
            return  # re-dispatched from the road meanwhile
        self.arrive_home(unit)

    def arrive_home(self, unit: Unit) -> None:
        """At its post: off shift, or to a pending duty block, or idle (and then free)."""
        unit.trip = None
        unit.speed_factor = MODE_SPEED_FACTOR[unit.group.vehicle]  # back to its vehicle
        now = self.model.time
        if unit.off_shift_pending:
            unit.off_shift_pending = False
            unit.set_state(UnitState.OFF_SHIFT, now)
        elif unit.duty_pending:
            self.model.roster.start_duty(unit)
        else:
            unit.set_state(UnitState.IDLE, now)
            self.now_idle(unit)

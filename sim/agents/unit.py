"""A police unit: the dispatchable crew, with an explicit state and time kept per state."""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import IntEnum
from typing import TYPE_CHECKING, Protocol

import mesa
import numpy as np

from sim.network.routing import Route
from sim.scenarios.patrol import MODE_SPEED_FACTOR

if TYPE_CHECKING:
    from sim.agents.post import PostAgent
    from sim.calls.call import Call
    from sim.network.routing import Router
    from sim.scenarios.schema import UnitGroup


class UnitState(IntEnum):
    """What a unit is doing."""

    IDLE = 0  # at its post, free
    EN_ROUTE = 1  # travelling to a call (mobilising included)
    ON_SCENE = 2
    RETURNING = 3  # driving back to its post, free to be re-dispatched from the road
    FOLLOW_UP = 4  # case or problem work after the scene, unavailable
    OTHER_DUTY = 5  # pulled away to other duties, unavailable
    OFF_SHIFT = 6
    PATROL = 7  # free and dispatchable, moving along its beat (or dwelling at a hot spot)
    COMMUNITY_WORK = 8  # visits, chat-group work, four-party meetings: unavailable


_S = UnitState
#: The changes of state a unit may make (staying in a state is always allowed). The one
#: place that says what a unit may do next; ``Unit.set_state`` enforces it.
TRANSITIONS: dict[UnitState, frozenset[UnitState]] = {
    _S.IDLE: frozenset({_S.EN_ROUTE, _S.PATROL, _S.OTHER_DUTY, _S.OFF_SHIFT, _S.COMMUNITY_WORK}),
    _S.EN_ROUTE: frozenset({_S.ON_SCENE, _S.RETURNING}),  # returning: pre-empted
    _S.ON_SCENE: frozenset({_S.FOLLOW_UP, _S.IDLE, _S.RETURNING, _S.OTHER_DUTY, _S.OFF_SHIFT}),
    _S.FOLLOW_UP: frozenset({_S.IDLE, _S.RETURNING, _S.OTHER_DUTY, _S.OFF_SHIFT}),
    _S.RETURNING: frozenset({_S.EN_ROUTE, _S.IDLE, _S.PATROL, _S.OTHER_DUTY, _S.OFF_SHIFT}),
    _S.OTHER_DUTY: frozenset({_S.IDLE, _S.OFF_SHIFT}),
    _S.OFF_SHIFT: frozenset({_S.IDLE, _S.OTHER_DUTY}),
    _S.PATROL: frozenset({_S.EN_ROUTE, _S.RETURNING}),
    _S.COMMUNITY_WORK: frozenset({_S.IDLE}),
}
STATE_NAMES = tuple(s.name.lower() for s in UnitState)
FREE_STATES = (UnitState.IDLE, UnitState.RETURNING, UnitState.PATROL)
MOVING_STATES = (UnitState.EN_ROUTE, UnitState.RETURNING, UnitState.PATROL)
_FREE = tuple(s in FREE_STATES for s in UnitState)  # by state: one of FREE_STATES
_ROUTED = (UnitState.RETURNING, UnitState.PATROL)  # free on the road: routed from its next node


class IllegalTransition(RuntimeError):
    """A unit was told to change state in a way ``TRANSITIONS`` does not allow (a bug)."""


class Availability(Protocol):
    """What keeps track of free units (``sim.agents.availability.FreeUnits``)."""

    def update(self, unit: Unit) -> None:
        """Note whether ``unit`` is free now."""


class Trip:
    """A journey: leave ``source`` at ``t_start_min`` along ``route`` (computed on demand).

    ``lead`` is the previous route while the unit still finishes the edge it was on. A plain
    class: one is made per trip, and Python makes it a third quicker than a dataclass.
    """

    def __init__(
        self,
        source: int,
        target: int,
        t_start_min: float,
        t_arrive_min: float,
        lead: Route | None = None,
        route: Route | None = None,
        slowdown: float = 1.0,  # travel time over free-flow time (congestion)
    ):
        self.source, self.target = source, target
        self.t_start_min, self.t_arrive_min = t_start_min, t_arrive_min
        self.lead, self.route, self.slowdown = lead, route, slowdown

    def __repr__(self) -> str:
        return (f"Trip({self.source} -> {self.target}, minute {self.t_start_min:g} to "
                f"{self.t_arrive_min:g})")  # fmt: skip


class Unit(mesa.Agent):
    """One crew (default one officer and two auxiliaries) based at a post."""

    def __init__(
        self,
        model: mesa.Model,
        post: PostAgent,
        group: UnitGroup,
        label: str,
        router: Router,
        warmup_min: float = 0.0,
        state_log: list | None = None,
    ):
        """Based at ``post``; routes on ``router``; counts time per state after warm-up.

        ``state_log``: a list to append ``(minute, unit, old state, new state, call id)``
        to on every change of state (None: no log).
        """
        super().__init__(model)
        self.router = router
        self.state_log = state_log
        self.label = label
        self.post = post
        self.group = group
        self.officers = group.crew.officers
        self.auxiliaries = group.crew.auxiliaries
        self.state = UnitState.IDLE
        self.node = post.node  # where it is, or the last node of its trip
        self.trip: Trip | None = None
        self.trip_id = 0  # bumps on every new trip, so stale arrival events are ignored
        self.call: Call | None = None  # the call it is assigned to
        self.on_shift = True
        self.availability: Availability | None = None  # told when it may have become free
        self._duty_pending = False
        self._off_shift_pending = False
        self._minutes = [0.0] * len(UnitState)  # time per state after warm-up
        self._warmup_min = warmup_min
        self._since_min = 0.0
        self.calls_attended = 0
        # its speed over a car's: its vehicle's at the post, its patrol mode's from a patrol
        # (it answers calls and comes back on what it patrols with) until it is home again
        self.speed_factor = MODE_SPEED_FACTOR[group.vehicle]
        self.patrol_until = -math.inf  # end of the current patrol stint
        self.patrol_token = 0  # bumps when a planned patrol step becomes stale
        self.patrol_rest_until = -math.inf  # no stint before (its policy had nothing to do)
        self.leg = None  # the patrol leg under way (sim.patrol.legs.Leg)

    @property
    def duty_pending(self) -> bool:
        """An other-duty block waits for the unit to be free."""
        return self._duty_pending

    @duty_pending.setter
    def duty_pending(self, value: bool) -> None:
        self._duty_pending = value
        if self.availability is not None:
            self.availability.update(self)

    @property
    def off_shift_pending(self) -> bool:
        """Its shift ended while it was busy."""
        return self._off_shift_pending

    @off_shift_pending.setter
    def off_shift_pending(self, value: bool) -> None:
        self._off_shift_pending = value
        if self.availability is not None:
            self.availability.update(self)

    @property
    def pending(self) -> bool:
        """An other-duty block or the end of its shift waits for the unit to be free."""
        return self._duty_pending or self._off_shift_pending

    @property
    def is_free(self) -> bool:
        """Free to take a call (at its post, or on the road back) with nothing pending."""
        return self.state in FREE_STATES and not (self._duty_pending or self._off_shift_pending)

    @property
    def state_min(self) -> np.ndarray:
        """Minutes spent in each state after warm-up (indexed by ``UnitState``)."""
        return np.array(self._minutes)

    def set_state(self, state: UnitState, now_min: float) -> None:
        """The one way a unit changes state: count the time spent in the old one.

        Raises ``IllegalTransition`` for a change ``TRANSITIONS`` does not allow.
        """
        old = self.state
        if state is not old and state not in TRANSITIONS[old]:
            raise IllegalTransition(
                f"unit {self.label}: {old.name.lower()} -> {state.name.lower()} "
                f"is not an allowed change of state (minute {now_min:.3f})"
            )
        start = self._since_min
        if start < self._warmup_min:
            start = self._warmup_min
        if now_min > start:
            self._minutes[old] += now_min - start
        self._since_min = now_min
        if self.state_log is not None and state != old:
            call_id = self.call.id if self.call is not None else -1
            self.state_log.append((now_min, self, old, state, call_id))
        self.state = state
        if _FREE[old] is not _FREE[state] and self.availability is not None:
            self.availability.update(self)

    def close_books(self, now_min: float) -> None:
        """Count time up to ``now_min`` in the current state (at the end of a run)."""
        self.set_state(self.state, now_min)

    def start_trip(
        self,
        target: int,
        now_min: float,
        travel_min: float,
        delay_min: float = 0.0,
        slowdown: float = 1.0,
        position: tuple[int, float] | None = None,
    ) -> float:
        """Leave for ``target``; return the arrival time.

        A unit on the road first finishes its edge (``position_source``), so ``travel_min``
        (free-flow, stretched by ``slowdown``) counts from that node; ``delay_min`` (e.g.
        mobilisation) is added before leaving. ``position``: ``position_source(now_min)`` if
        the caller has it already.
        """
        source, lead_min = position or self.position_source(now_min)
        lead = self.trip.route if lead_min > 0 and self.trip is not None else None
        self.trip_id += 1
        t_start = now_min + lead_min + delay_min
        t_arrive = t_start + travel_min * slowdown
        self.trip = Trip(source, target, t_start, t_arrive, lead, None, slowdown)
        self.node = target
        return t_arrive

    def start_leg(self, route: Route) -> float:
        """Set off (from the node it is at) along a planned patrol leg; return its end time."""
        self.trip_id += 1
        target = int(route.nodes[-1])
        self.trip = Trip(int(route.nodes[0]), target, route.t_depart_min, route.t_arrive_min,
                         route=route)  # fmt: skip
        self.node = target
        return route.t_arrive_min

    def stop_at(self, node: int) -> None:
        """Stand still at ``node`` (a patrol cut short, a dwell): no trip under way."""
        self.trip_id += 1
        self.trip = None
        self.node = node

    def route(self) -> Route:
        """The current trip's route, computed the first time it is needed."""
        trip = self.trip
        if trip.route is None:
            route = self.router.route(trip.source, trip.target, trip.t_start_min)
            if trip.slowdown != 1.0:
                route = Route(route.nodes, route.cum_min * trip.slowdown, route.t_depart_min)
            trip.route = route
        return trip.route

    def position_source(self, now_min: float) -> tuple[int, float]:
        """(node it can be routed from, minutes until it is there) for dispatch."""
        if self.trip is None or self.state not in _ROUTED:
            return self.node, 0.0
        return self.route().next_node_at(now_min)

    def xy(self, now_min: float) -> tuple[float, float]:
        """Map position at ``now_min``, interpolated along the route."""
        router = self.router
        trip = self.trip
        moving = self.state in MOVING_STATES
        if not moving or trip is None:
            return float(router.x[self.node]), float(router.y[self.node])
        if trip.lead is not None and now_min < trip.t_start_min:
            return trip.lead.xy_at(now_min, router.x, router.y)
        return self.route().xy_at(now_min, router.x, router.y)


def build_units(
    model: mesa.Model,
    posts: dict[str, PostAgent],
    groups: Sequence[UnitGroup],
    router: Router,
    warmup_min: float = 0.0,
    state_log: list | None = None,
) -> list[Unit]:
    """Every group's units, labelled ``post#k`` and numbered (``index``) in order."""
    units: list[Unit] = []
    for group in groups:
        for k in range(group.count):
            post, label = posts[group.post], f"{group.post}#{k + 1}"
            unit = Unit(model, post, group, label, router, warmup_min, state_log)
            unit.index = len(units)
            units.append(unit)
    return units

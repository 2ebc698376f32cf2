"""Patrol policies, in a registry chosen by name per unit group (``patrol.policy``).

A patrol policy is ``policy(patroller, unit, now_min) -> Leg | None``: the next leg of a
unit on patrol (None: it has nothing to do and goes back to its post). ``stay`` never
patrols. Register new ones with ``@register_patrol("name")``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from sim.patrol.coverage import Coverage
from sim.patrol.legs import Leg, approach_only, joined, tour_leg
from sim.registry import PATROL_POLICIES

if TYPE_CHECKING:
    from sim.agents.unit import Unit
    from sim.patrol.tours import Tour


@dataclass
class PatrolState:
    """Where one unit is in its patrol policy's plan."""

    route_stop: int = 0  # 'route' patrols: the stop it heads for
    riding: Leg | None = None  # 'random' patrols: its last leg along its beat's tour, if on it
    dwell_since: float = math.nan  # when it began to stay at a hot spot (nan: it is not)


class Patroller(Protocol):
    """What a patrol policy may use (``sim.patrol.patroller.Patroller``)."""

    coverage: Coverage
    rng: np.random.Generator

    def state_of(self, unit: Unit) -> PatrolState:
        """Where the unit is in its policy's plan (``route_stop``, ``riding``)."""

    def beat_of(self, unit: Unit) -> list[bool]:
        """Which nodes the unit patrols (its community, or every node)."""

    def tour_of(self, unit: Unit) -> Tour | None:
        """The tour of the unit's beat (None: its beat has no street)."""

    def slowdown(self, unit: Unit, t_min: float) -> float:
        """Patrol time over car free-flow time."""

    def leg_until(self, unit: Unit, now_min: float) -> float:
        """When a tour leg planned now ends at the latest."""

    def next_hot_spot(self, unit: Unit) -> int:
        """The hot spot the unit should visit next (-1: none)."""

    def route_of(self, unit: Unit) -> tuple[int, ...]:
        """The stops of the unit's route."""

    def riding_position(self, unit: Unit, tour: Tour) -> int:
        """Where on ``tour`` the unit goes on from (-1: it must join)."""

    def join_position(self, tour: Tour, unit: Unit, now_min: float) -> int:
        """Where a unit joining ``tour`` enters it."""

    def mark(self, unit: Unit, leg: Leg) -> None:
        """The unit is on (or on its way to) a tour with this leg."""

    def path_to(self, unit: Unit, target: int, now_min: float, dwell_min: float = 0.0) -> Leg:
        """The fastest path of the unit to ``target`` (then a dwell)."""


PatrolPolicy = Callable[[Patroller, "Unit", float], "Leg | None"]


def register_patrol(name: str) -> Callable[[PatrolPolicy], PatrolPolicy]:
    """Register a patrol policy under ``name`` (a decorator; the one registry, ``sim.registry``)."""
    return PATROL_POLICIES.register(name)


@register_patrol("stay")
def stay(patroller: Patroller, unit: Unit, now_min: float) -> Leg | None:
    """Stay at the post (the default): no patrol."""
    return None


@register_patrol("random")
def random_patrol(patroller: Patroller, unit: Unit, now_min: float) -> Leg | None:
    """Preventive patrol of the beat's streets along its tour, units spread along it."""
    tour = patroller.tour_of(unit)
    if tour is None:
        return None
    position = patroller.riding_position(unit, tour)  # where its last stretch ended ...
    approach = None
    if position < 0:  # ... unless it is not on the tour: it joins in the largest gap
        position = patroller.join_position(tour, unit, now_min)
        if tour.node_at(position) != unit.node:
            approach = patroller.path_to(unit, tour.node_at(position), now_min)
    until = patroller.leg_until(unit, now_min)
    t_on_tour = now_min if approach is None else approach.route.t_arrive_min
    if approach is not None and t_on_tour >= until:  # the stint ends on the way: the path
        leg = approach_only(approach, tour, position)
    else:
        slowdown = patroller.slowdown(unit, now_min)
        leg = tour_leg(tour, position, t_on_tour, until - t_on_tour, slowdown)
        if approach is not None:  # the path to the tour, then along it: one leg, one event
            leg = joined(approach, leg)
    patroller.mark(unit, leg)
    return leg


@register_patrol("hot_spots")
def hot_spots(patroller: Patroller, unit: Unit, now_min: float) -> Leg | None:
    """To the beat's hot spot visited least recently, then a dwell there (Koper)."""
    spot = patroller.next_hot_spot(unit)
    if spot < 0:
        return None
    dwell = unit.group.patrol.dwell_min.quantile(patroller.rng.random())
    return patroller.path_to(unit, spot, now_min, dwell)


@register_patrol("route")
def route_patrol(patroller: Patroller, unit: Unit, now_min: float) -> Leg | None:
    """A fixed loop of places, in order."""
    stops, state = patroller.route_of(unit), patroller.state_of(unit)
    if unit.node == stops[state.route_stop]:  # there: on to the next stop
        state.route_stop = (state.route_stop + 1) % len(stops)
    return patroller.path_to(unit, stops[state.route_stop], now_min)

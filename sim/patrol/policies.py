"""Patrol policies, in a registry chosen by name per unit group (``patrol.policy``).

A patrol policy is ``policy(patroller, unit, now_min) -> Leg | None``: the next leg of a
unit on patrol (None: it has nothing to do and goes back to its post). ``stay`` never
patrols. Register new ones with ``@register_patrol("name")``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from sim.patrol.coverage import Coverage, Leg, Tour
from sim.patrol.legs import joined, tour_leg
from sim.registry import PATROL_POLICIES

if TYPE_CHECKING:
    from sim.agents.unit import Unit


@dataclass
class PatrolState:
    """Where one unit is in its patrol policy's plan."""

    route_stop: int = 0  # 'route' patrols: the stop it heads for
    tour_position: int = 0  # 'random' patrols: where on its beat's tour it is
    dwell_since: float = math.nan  # when it began to stay at a hot spot (nan: it is not)


class Patroller(Protocol):
    """What a patrol policy may use (``sim.patrol.patroller.Patroller``)."""

    coverage: Coverage
    rng: np.random.Generator

    def state_of(self, unit: Unit) -> PatrolState:
        """Where the unit is in its policy's plan (``route_stop``, ``tour_position``)."""

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

    def join_position(self, tour: Tour) -> int:
        """Where a unit joining ``tour`` starts."""

    def mark(self, leg: Leg) -> None:
        """Note when a tour leg will pass each position."""

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
    """Preventive patrol of the beat's streets, least recently covered first."""
    tour = patroller.tour_of(unit)
    if tour is None:
        return None
    # where its last stretch ended ...
    position = patroller.state_of(unit).tour_position % tour.length
    approach = None
    if tour.nodes[position] != unit.node:  # ... unless it left the tour since: it joins
        position = patroller.join_position(tour)  # where the tour was covered least recently
        if tour.nodes[position] != unit.node:
            approach = patroller.path_to(unit, int(tour.nodes[position]), now_min)
    until = patroller.leg_until(unit, now_min)
    t_on_tour = now_min if approach is None else approach.route.t_arrive_min
    if approach is not None and t_on_tour >= until:  # the stint ends on the way: the path
        return replace(approach, joins=position)
    slowdown = patroller.slowdown(unit, now_min)
    leg = tour_leg(tour, position, t_on_tour, until - t_on_tour, slowdown)
    if approach is not None:  # the path to the tour, then along it: one leg, one event
        leg = joined(approach, leg)
    patroller.mark(leg)
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

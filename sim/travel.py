"""The one place that turns where units are into when they arrive.

A unit at its post first mobilises (the call's own mobilisation time); a unit on the road
first finishes the edge it is on. Then it drives the fastest path, stretched by the
congestion multiplier of the hour it sets off (``congestion_by_hour``) and divided by its
speed factor (a unit on foot or e-bike is slower than a car on the same streets).
With ``dispatch.locate: post`` the command room ranks free units as if they were at their
posts (no live positions); the chosen unit still drives from where it really is. Dispatch policies
rank units with ``Travel.fastest``; the model plans the chosen unit's trip with
``Travel.trip``, which reuses the ranking's exact figure, so a policy cannot change a travel
time, only choose who goes. Optional travel realism (``scenario.travel``: acceleration after
Kolesar et al. 1975, a delay per intersection; off by default) is added to the chosen unit's
trip only; the ranking stays on free-flow times, and map positions along the route too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from sim.agents.availability import FreeView
from sim.agents.unit import UnitState
from sim.clock import HOURS_PER_DAY, MIN_PER_HOUR, hour_of_day

if TYPE_CHECKING:
    from sim.agents.unit import Unit
    from sim.calls.call import Call
    from sim.network.routing import Router
    from sim.scenarios.schema import Scenario, TravelModel, UnitGroup


class TripPlan(NamedTuple):
    """A trip as the model starts it: from ``source`` after ``lead_min`` and ``mobilise_min``.

    A named tuple: one is made per dispatch, and a frozen dataclass costs twice as much.
    """

    source: int  # node the path starts from
    lead_min: float  # finishing the current edge first (units on the road)
    mobilise_min: float  # leaving the post (units at their post)
    free_flow_min: float  # the path's time without congestion
    slowdown: float  # congestion multiplier at departure


class Travel:
    """Arrival times of units at calls, on one router and one congestion profile."""

    def __init__(
        self,
        router: Router,
        congestion_by_hour: Sequence[float] | None = None,
        locate: str = "avl",
        realism: TravelModel | None = None,
        all_cars: bool = True,
    ):
        """Arrival times on ``router``.

        ``locate``: 'post' ranks units as if at their posts; ``realism``: acceleration and
        intersection delays for trips (None or off: none); ``all_cars``: every unit always
        moves at car speed (no unit's speed factor ever differs from 1).
        """
        self.router = router
        self.congestion_by_hour = congestion_by_hour
        self.at_posts = locate == "post"
        self.all_cars = all_cars
        self.realism = realism if realism is not None and realism.enabled else None
        self._ranked: tuple[int, float, Unit, float] | None = None  # (call id, t, unit, min)

    @classmethod
    def of_scenario(cls, router: Router, scenario: Scenario) -> Travel:
        """Arrival times as ``scenario`` has them (congestion, locating, realism, vehicles)."""
        return cls(
            router,
            scenario.congestion_by_hour,
            scenario.dispatch.locate,
            scenario.travel,
            all_cars=all(_car_only(group) for group in scenario.units),
        )

    def slowdown_at(self, t_min: float) -> float:
        """Travel time over free-flow time for a trip starting at ``t_min``.

        The dispatcher ranks by free-flow time stretched alike for every unit setting off at
        the same moment, so the ranking of units at posts does not depend on congestion.
        """
        hourly = self.congestion_by_hour
        return 1.0 if hourly is None else hourly[hour_of_day(t_min)]

    def slowdown_steady_until(self, t_min: float) -> float:
        """When the slowdown next differs from the one at ``t_min`` (inf: never)."""
        hourly = self.congestion_by_hour
        if hourly is None:
            return math.inf
        hour = hour_of_day(t_min)
        start = math.floor(t_min / MIN_PER_HOUR) * MIN_PER_HOUR
        for ahead in range(1, HOURS_PER_DAY):
            if hourly[(hour + ahead) % HOURS_PER_DAY] != hourly[hour]:
                return start + ahead * MIN_PER_HOUR
        return math.inf

    def slowdown_of(self, unit: Unit, t_min: float) -> float:
        """Travel time over free-flow car time for ``unit`` setting off at ``t_min``."""
        return self.slowdown_at(t_min) / unit.speed_factor

    @staticmethod
    def mobilise_min(unit: Unit, call: Call) -> float:
        """Minutes before ``unit`` leaves for ``call``: the call's mobilisation, from a post."""
        return call.mobilise_min if unit.state == UnitState.IDLE else 0.0

    def fastest(self, units: Sequence[Unit], call: Call, now_min: float) -> Unit | None:
        """The unit that reaches ``call`` first (exact; ties to the first listed), or None."""
        if isinstance(units, FreeView):
            units = units.units  # read as a plain list below
        if not units:
            return None
        if self.at_posts or not (self.all_cars or all(u.speed_factor == 1.0 for u in units)):
            return self._fastest_by_row(units, call, now_min)
        slowdown = self.slowdown_at(now_min)
        mobilise = call.mobilise_min
        at_post = mobilise / slowdown  # the offset of an idle unit (it leaves its post)
        idle = UnitState.IDLE
        if _idle_at_one_node(units):  # all tie: the first listed, from one look-up
            k, minutes = self.router.nearest([units[0].node], call.node, [at_post])
            if k < 0:
                return None
            self._ranked = (call.id, now_min, units[0], minutes * slowdown)
            return units[0]
        nodes, offsets = [], []
        for unit in units:
            if unit.state == idle:
                nodes.append(unit.node)
                offsets.append(at_post)
                continue
            node, lead = unit.position_source(now_min)
            nodes.append(node)
            offsets.append(lead / slowdown)
        k, minutes = self.router.nearest(nodes, call.node, offsets)
        if k < 0:
            return None
        self._ranked = (call.id, now_min, units[k], minutes * slowdown)
        return units[k]

    def _fastest_by_row(self, units: Sequence[Unit], call: Call, now_min: float) -> Unit | None:
        """Rank with each unit's own speed, or as if at posts: one reverse search to the call."""
        if self.at_posts:  # the command room assumes each is at its post, ready to leave
            sources = [(u.post.node, 0.0) for u in units]
        else:
            sources = [u.position_source(now_min) for u in units]
        scales = [self.slowdown_of(u, now_min) for u in units]
        offsets = [
            lead + (call.mobilise_min if self.at_posts else self.mobilise_min(u, call))
            for u, (_, lead) in zip(units, sources, strict=True)
        ]
        to_call = self.router.minutes_to(call.node, [n for n, _ in sources], scales, offsets)
        best_k, best = -1, float("inf")
        for k, unit in enumerate(units):
            if self.at_posts:
                minutes = to_call[k] * scales[k]
                minutes += call.mobilise_min
            else:
                minutes = to_call[k] * scales[k] + sources[k][1]
                minutes += self.mobilise_min(unit, call)
            if minutes < best:
                best_k, best = k, float(minutes)
        if best_k < 0:
            return None
        if not self.at_posts:  # the ranking's figure is the trip's: keep it for ``trip``
            self._ranked = (call.id, now_min, units[best_k], best)
        return units[best_k]

    def arrival_min(self, unit: Unit, call: Call, now_min: float) -> float:
        """Minutes until ``unit`` would reach ``call`` if sent now (inf if it cannot)."""
        ranked = self._ranked
        if ranked is not None and ranked[0] == call.id and ranked[1] == now_min:
            if ranked[2] is unit:
                return ranked[3]
        node, lead = unit.position_source(now_min)
        if unit.speed_factor != 1.0:
            minutes = self.router.time(node, call.node) * self.slowdown_of(unit, now_min)
            return minutes + lead + self.mobilise_min(unit, call)
        slowdown = self.slowdown_at(now_min)
        offset = (lead + self.mobilise_min(unit, call)) / slowdown
        return self.router.nearest([node], call.node, [offset])[1] * slowdown

    def trip(self, unit: Unit, call: Call, now_min: float) -> TripPlan:
        """The trip ``unit`` makes to ``call`` when sent now."""
        total_min = self.arrival_min(unit, call, now_min)
        source, lead_min = unit.position_source(now_min)
        mobilise = self.mobilise_min(unit, call)
        slowdown = self.slowdown_of(unit, now_min)
        free_flow_min = (total_min - lead_min - mobilise) / slowdown
        if self.realism is not None:
            inner = len(self.router.path(source, call.node)) - 2
            free_flow_min = realistic_min(self.realism, free_flow_min, inner)
        return TripPlan(source, lead_min, mobilise, free_flow_min, slowdown)

    def home_min(self, unit: Unit) -> float:
        """Free-flow car minutes from where ``unit`` is (its last node) back to its post."""
        return self.router.time(unit.node, unit.post.node)


def _idle_at_one_node(units: Sequence[Unit]) -> bool:
    """Whether every unit is idle at the same node (as the units of one post are).

    They are then all the same distance from any call, with the same offset (the call's
    mobilisation): the ranking's tie goes to the first listed, which needs no ranking.
    """
    node, idle = units[0].node, UnitState.IDLE
    for unit in units:
        if unit.state != idle or unit.node != node:
            return False
    return True


# -- travel realism (optional) -------------------------------------------------------
# Travel realism beyond free-flow speeds, optional (``travel:`` in a scenario; off by default).
#
# Kolesar et al. (1975, "A model for predicting average fire engine travel times", Operations
# Research 23(4)) found that a vehicle accelerating at ``a`` to a cruising speed ``v`` covers a
# distance ``D`` in ``2 sqrt(D / a)`` below the critical distance ``v^2 / a`` and in
# ``D / v + v / a`` above it: a square root for short trips, linear for long ones. Here ``D`` is
# taken as ``v`` times the path's free-flow time (so the network's own speeds decide the linear
# part), and a fixed delay is added for every intersection passed (the path's inner nodes).
#
# Dispatch still ranks units by free-flow time; the chosen unit's trip gets the realism.
def _car_only(group: UnitGroup) -> bool:
    """Whether a unit group always moves at car speed (vehicle and patrol mode)."""
    patrol = group.patrol
    return group.vehicle == "car" and (not patrol.patrols or patrol.mode == "car")


def kolesar_min(free_flow_min: float, cruise_kph: float, accel_m_s2: float) -> float:
    """Minutes for a trip of free-flow ``free_flow_min`` with acceleration (Kolesar 1975)."""
    v = cruise_kph / 3.6  # m/s
    distance_m = v * free_flow_min * 60.0
    if distance_m <= v * v / accel_m_s2:
        return 2.0 * math.sqrt(distance_m / accel_m_s2) / 60.0
    return free_flow_min + v / accel_m_s2 / 60.0


def realistic_min(spec: TravelModel, free_flow_min: float, inner_nodes: int) -> float:
    """Free-flow minutes turned into minutes with acceleration and intersection delays."""
    minutes = free_flow_min
    if spec.accel_m_s2 is not None and free_flow_min > 0:
        minutes = kolesar_min(free_flow_min, spec.cruise_kph, spec.accel_m_s2)
    return minutes + spec.intersection_delay_s * max(inner_nodes, 0) / 60.0

"""The patrol of every unit: stints, legs, dwells, and what happens when one is cut short.

A unit whose group patrols (``patrol.policy`` other than ``stay``) alternates, while free,
between a break at its post and a patrol stint: breaks last on average ``stint * (1 - share)
/ share`` (exponential), so that it patrols ``share`` of its free time. On a stint it
drives leg after leg (the policy's); one event ends each leg. Dispatched, recalled to other
duties or at the end of its shift, it stops where it is; after a call during a stint it
patrols on from the scene, after the stint it goes back to its post. A unit with ``share``
1 has no breaks: its stints follow one another where it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sim.agents.unit import Unit, UnitState
from sim.clock import MIN_PER_DAY, MIN_PER_HOUR
from sim.events import Priority
from sim.patrol.coverage import Coverage, coverage_figures
from sim.patrol.legs import Leg, path_leg
from sim.patrol.lookout import Lookout
from sim.patrol.on_view import OnViewIncidents
from sim.patrol.policies import PATROL_POLICIES, PatrolState
from sim.scenarios.patrol import MODE_SPEED_FACTOR

if TYPE_CHECKING:
    from sim.agents.resident import Resident
    from sim.network.world import World
    from sim.patrol.tours import Tour
    from sim.scenarios.schema import Scenario
    from sim.streams import Streams
    from sim.travel import Travel


NO_INCIDENTS = {"incidents": 0, "found_on_view": 0, "reported": 0, "never_known": 0,
                "share_on_view": 0.0}  # fmt: skip


class PatrolHost(Protocol):
    """What patrol needs from the model."""

    time: float
    scenario: Scenario
    world: World
    travel: Travel
    streams: Streams
    warmup_min: float
    units: Sequence[Unit]
    residents: Sequence[Resident]
    schedule: Callable[[float, Priority, Callable[[Any], None], Any], None]


class Patroller:
    """Patrol stints and legs of every unit, and the coverage they give."""

    def __init__(
        self,
        host: PatrolHost,
        go_home: Callable[[Unit], None],
        take_incident: Callable[[Unit, int], None] | None = None,
        incidents: OnViewIncidents | None = None,
        on_stay: Callable[[int, float, float], None] | None = None,
    ):
        """Patrol for ``host`` (the model).

        ``go_home(unit)``: the model sends a free unit back to its post;
        ``take_incident(unit, k)``: the unit takes on-view incident ``k`` where it is;
        ``on_stay(place, start, end)``: a unit stays at a place (deterrence).
        """
        self.host = host
        self.go_home = go_home
        self.incidents = incidents if incidents is not None and incidents.any else None
        self.on_stay = on_stay
        self.router = host.world.router
        self.active = any(g.patrol.patrols for g in host.scenario.units)
        self.rng = host.streams.generator("patrol")
        self.lookout = (
            Lookout(host, self.incidents, self.rng, take_incident, self.interrupted)
            if self.incidents is not None and take_incident is not None
            else None
        )
        self._coverage: Coverage | None = None
        self._beats: dict[int, list[bool]] = {}
        self._tours: dict[tuple[int, bool], Tour | None] = {}  # (beat, redraw) -> its tour
        self._top: dict[int, tuple[int, ...]] = {}  # beat -> its top nodes by residents
        self._states: dict[Unit, PatrolState] = {}

    def state_of(self, unit: Unit) -> PatrolState:
        """The unit's place in its patrol policy's plan (made on first use)."""
        state = self._states.get(unit)
        if state is None:
            state = self._states[unit] = PatrolState()
        return state

    # -- what the policies use ---------------------------------------------------------
    @property
    def coverage(self) -> Coverage:
        """Passes per street segment (built on first use)."""
        if self._coverage is None:
            world = self.host.world
            self._coverage = Coverage(
                self.router, world.network.graph, world.community_of_node, self.host.warmup_min
            )
        return self._coverage

    def slowdown(self, unit: Unit, t_min: float) -> float:
        """Patrol time over car free-flow time: congestion over the patrol mode's speed."""
        return self.host.travel.slowdown_at(t_min) / MODE_SPEED_FACTOR[unit.group.patrol.mode]

    def leg_until(self, unit: Unit, now_min: float) -> float:
        """When a tour leg planned now ends at the latest.

        At the end of the stint, when the traffic changes (``congestion_by_hour``), or after
        ``leg_min`` if the group sets it. Nothing is decided along a tour leg, so it needs
        no event before then (a call, a recall or an incident seen cuts it short).
        """
        cap = unit.group.patrol.leg_min
        end = min(unit.patrol_until, self.host.travel.slowdown_steady_until(now_min))
        return end if cap is None else min(end, now_min + cap)

    def beat_of(self, unit: Unit) -> list[bool]:
        """Which nodes the unit patrols: its community (offices) or every node (stations)."""
        beat = unit.group.patrol.beat
        if beat == "auto":
            beat = "community" if unit.post.kind == "office" else "district"
        key = unit.post.community if beat == "community" else -1
        if key not in self._beats:
            world = self.host.world
            self._beats[key] = (
                [True] * self.router.n_nodes
                if key < 0
                else (world.community_of_node == key).tolist()
            )
        return self._beats[key]

    def tour_of(self, unit: Unit) -> Tour | None:
        """The tour of the unit's beat (built the first time a unit needs it)."""
        in_beat = self.beat_of(unit)
        redraw = unit.group.patrol.redraw_each_lap
        key = (id(in_beat), redraw)
        if key not in self._tours:
            from sim.patrol.tours import build_tour  # (numba loads only when a unit patrols)

            tour = build_tour(self.coverage, self.router, in_beat, self.rng, unit.post.node, redraw)
            if tour is not None:
                tour.live_from = lambda: self.first_live_position(tour)
            self._tours[key] = tour
        return self._tours[key]

    def first_live_position(self, tour: Tour) -> int:
        """The first position of ``tour`` still in use: a leg's start on it, or its frontier.

        The frontier only while no unit rides it: the last to leave sets it where it leaves
        (at or after its leg's start), and only a unit joining an empty tour goes there.
        """
        starts = [s.riding.start for s in self._states.values()
                  if s.riding is not None and s.riding.tour is tour]  # fmt: skip
        return min(starts) if starts else tour.frontier

    def riding_position(self, unit: Unit, tour: Tour) -> int:
        """Where on ``tour`` the unit goes on from (-1: it is not on it, it must join)."""
        leg = self.state_of(unit).riding
        if leg is None or leg.tour is not tour:
            return -1
        position = leg.start + leg.tour_edges
        return position if tour.node_at(position) == unit.node else -1

    def join_position(self, tour: Tour, unit: Unit, now_min: float) -> int:
        """Where a unit joining ``tour`` enters it: the middle of the largest gap.

        Between the units already on it, whatever their post (``Tour.join_position``).
        """
        others = [
            leg.minutes_along_tour(now_min)
            for other, state in self._states.items()
            if (leg := state.riding) is not None and leg.tour is tour and other is not unit
        ]
        return tour.join_position(others, self.router.times_from(unit.node) if others else None)

    def mark(self, unit: Unit, leg: Leg) -> None:
        """The unit is on (or on its way to) a tour with this leg."""
        self.state_of(unit).riding = leg

    def left_tour(self, unit: Unit, now_min: float) -> None:
        """The unit leaves its tour (if on one): it stops at the position it reached."""
        state = self.state_of(unit)
        leg, state.riding = state.riding, None
        if leg is not None:
            done = max(0, min(leg.edges_done(now_min), len(leg.entries)) - leg.tour_from)
            leg.tour.frontier = leg.start + done

    def path_to(self, unit: Unit, target: int, now_min: float, dwell_min: float = 0.0) -> Leg:
        """The fastest path of ``unit`` to ``target`` at its patrol pace (then a dwell)."""
        slowdown = self.slowdown(unit, now_min)
        return path_leg(self.router, self.coverage, unit.node, target, now_min, slowdown,
                        dwell_min)  # fmt: skip

    def hot_spots(self, in_beat: list[bool] | None = None) -> tuple[int, ...]:
        """The listed hot spots, else the ``top_k`` nodes with the most residents.

        Residents stand for expected calls; the top nodes are the whole district's or,
        given ``in_beat``, that beat's.
        """
        listed = self.host.world.hot_spot_nodes
        if listed:
            return listed
        key = -1 if in_beat is None else id(in_beat)
        if key not in self._top:
            people = np.zeros(self.router.n_nodes)
            for resident in self.host.residents:
                people[resident.node] += resident.people
            if in_beat is not None:
                people[~np.asarray(in_beat)] = 0.0
            top = np.argsort(-people, kind="stable")[: self.host.scenario.hot_spots.top_k]
            self._top[key] = tuple(int(n) for n in top if people[n] > 0)
        return self._top[key]

    def next_hot_spot(self, unit: Unit) -> int:
        """The unit's beat's hot spot visited least recently (-1: none).

        Listed spots outside the beat are visited only when none is inside; without a list,
        each beat has its own ``top_k``.
        """
        in_beat = self.beat_of(unit)
        listed = self.host.world.hot_spot_nodes
        if listed:
            spots = [s for s in listed if in_beat[s]] or list(listed)
        else:
            spots = list(self.hot_spots(in_beat))
        if not spots:
            return -1
        visited = self.coverage.last_visit
        return min(spots, key=lambda s: (visited.get(s, -math.inf), s))

    def route_of(self, unit: Unit) -> tuple[int, ...]:
        """The stops of the unit's group's 'route' patrol."""
        return self.host.world.route_nodes[self.host.scenario.units.index(unit.group)]

    # -- stints ------------------------------------------------------------------------
    def on_idle(self, unit: Unit) -> None:
        """The unit is free at its post: plan its next stint after a break."""
        patrol = unit.group.patrol
        if not patrol.patrols or not unit.on_shift:
            return
        unit.patrol_token += 1
        mean_break = patrol.stint_min.mean_value * (1 - patrol.share) / patrol.share
        due = self.host.time + (self.rng.exponential(mean_break) if mean_break > 0 else 0.0)
        due = max(due, unit.patrol_rest_until)
        self.host.schedule(due, Priority.UNIT, self._on_stint_due, (unit, unit.patrol_token))

    def _on_stint_due(self, arg: tuple[Unit, int]) -> None:
        unit, token = arg
        if token != unit.patrol_token or unit.state != UnitState.IDLE or not unit.is_free:
            return
        now = self.host.time
        unit.patrol_until = now + unit.group.patrol.stint_min.quantile(self.rng.random())
        unit.speed_factor = MODE_SPEED_FACTOR[unit.group.patrol.mode]  # it leaves on that
        unit.set_state(UnitState.PATROL, now)
        self.next_leg(unit)

    def _stint_goes_on(self, unit: Unit) -> bool:
        """Whether the unit's stint goes on now.

        A unit that patrols all its free time (``share`` 1: no break) starts its next stint
        where it is, rather than driving to its post to leave again at once.
        """
        now = self.host.time
        if now < unit.patrol_until:
            return True
        patrol = unit.group.patrol
        if patrol.share < 1 or not unit.on_shift or now < unit.patrol_rest_until:
            return False
        unit.patrol_until = now + patrol.stint_min.quantile(self.rng.random())
        return now < unit.patrol_until

    def resume(self, unit: Unit) -> bool:
        """After a call: patrol on from the scene if its stint goes on (True if so)."""
        if not unit.group.patrol.patrols or not self._stint_goes_on(unit):
            return False
        unit.set_state(UnitState.PATROL, self.host.time)
        self.next_leg(unit)
        return True

    def next_leg(self, unit: Unit) -> None:
        """Start the unit's next leg, or end its stint (back to its post)."""
        now = self.host.time
        policy = PATROL_POLICIES[unit.group.patrol.policy]
        leg = policy(self, unit, now) if self._stint_goes_on(unit) else None
        if leg is not None and len(leg.entries) == 0 and leg.dwell_min <= 0:
            leg = None  # nowhere to go: the stint is over
        if leg is None:
            self.left_tour(unit, now)
            if now < unit.patrol_until:  # the policy has nothing to patrol: rest a stint
                unit.patrol_rest_until = now + unit.group.patrol.stint_min.mean_value
            unit.patrol_until = -math.inf
            self.go_home(unit)
            return
        unit.patrol_token += 1
        if len(leg.entries) == 0:  # already there: dwell
            self._dwell(unit, leg)
            return
        t_end = unit.start_leg(leg.route)
        unit.leg = leg
        self.host.schedule(t_end, Priority.UNIT, self._on_leg_end, (unit, unit.trip_id, leg))
        if self.lookout is not None:
            self.lookout.along(unit, leg)

    def _on_leg_end(self, arg: tuple[Unit, int, Leg]) -> None:
        unit, trip_id, leg = arg
        if trip_id != unit.trip_id or unit.state != UnitState.PATROL:
            return  # dispatched or recalled meanwhile
        now = self.host.time
        leg.count(self.coverage, len(leg.entries))
        unit.leg = None
        unit.stop_at(int(leg.route.nodes[-1]))
        if self.lookout is not None and self.lookout.on_arrival(unit, unit.node):
            return
        if leg.dwell_min > 0 and now < unit.patrol_until:
            self._dwell(unit, leg)
        else:
            self.next_leg(unit)

    def _dwell(self, unit: Unit, leg: Leg) -> None:
        now = self.host.time
        node = int(leg.route.nodes[-1])
        unit.stop_at(node)
        self.state_of(unit).dwell_since = now
        self.coverage.last_visit[node] = now
        end = min(now + leg.dwell_min, max(now, unit.patrol_until))
        self.host.schedule(end, Priority.UNIT, self._on_dwell_end, (unit, unit.patrol_token))
        if self.on_stay is not None:
            self.on_stay(node, now, end)
        if self.lookout is not None:
            self.lookout.during(unit, node, now, end)

    def _on_dwell_end(self, arg: tuple[Unit, int]) -> None:
        unit, token = arg
        if token != unit.patrol_token or unit.state != UnitState.PATROL:
            return
        self.coverage.stayed(unit.node, self.state_of(unit).dwell_since, self.host.time)
        self.state_of(unit).dwell_since = math.nan
        self.next_leg(unit)

    def interrupted(self, unit: Unit) -> None:
        """The unit leaves its patrol now (dispatched, recalled): count what it did."""
        now = self.host.time
        unit.patrol_token += 1
        if unit.leg is not None:
            unit.leg.count(self.coverage, unit.leg.edges_done(now))
            unit.leg = None
        self.left_tour(unit, now)
        if not math.isnan(self.state_of(unit).dwell_since):
            self.coverage.stayed(unit.node, self.state_of(unit).dwell_since, now)
            if self.on_stay is not None:
                self.on_stay(unit.node, self.state_of(unit).dwell_since, now)
            self.state_of(unit).dwell_since = math.nan

    # -- results -----------------------------------------------------------------------
    def count_to_now(self) -> Coverage:
        """The coverage with the legs under way counted up to now (the horizon)."""
        now = self.host.time
        for unit in self.host.units:
            if unit.leg is not None:
                unit.leg.count(self.coverage, unit.leg.edges_done(now))
        return self.coverage

    def summary(self) -> dict[str, Any]:
        """The summary's ``patrol`` figures: coverage, hot spots, incidents seen on view."""
        host = self.host
        names = [c.name for c in host.scenario.communities]
        observed_min = max(0.0, host.time - host.warmup_min)
        on_view = self.incidents.summary() if self.incidents is not None else NO_INCIDENTS
        patrol_min = np.zeros(len(names) + 1)  # by the community of the unit's post; last: all
        for unit in host.units:
            minutes = float(unit.state_min[UnitState.PATROL])
            patrol_min[-1] += minutes
            if unit.post.kind == "office":
                patrol_min[unit.post.community] += minutes
        figures = {
            "units_patrolling": sum(g.count for g in host.scenario.units if g.patrol.patrols),
            "unit_hours": patrol_min[-1] / MIN_PER_HOUR,
            "on_view": on_view,
        }
        if not self.active:
            return {**figures, **coverage_figures(None, observed_min, patrol_min[-1])}
        cover = self.count_to_now()
        figures.update(coverage_figures(cover, observed_min, patrol_min[-1]))
        ids = self.router.node_ids
        days = observed_min / MIN_PER_DAY
        figures["hot_spot_min_per_day"] = {
            str(ids[node]): minutes / days if days else None
            for node, minutes in sorted(cover.presence_min.items())
        }
        figures["by_community"] = {
            name: coverage_figures(cover, observed_min, patrol_min[c], community=c)
            for c, name in enumerate(names)
        }
        return figures

"""The patrol model: a Mesa model driven by its own event queue, time in minutes.

Events sit in a heap ordered by (time, priority, sequence), so runs are deterministic and
arrival times exact. ``model.step()`` advances one simulated minute (for the browser app);
``model.run_until(t)`` and ``model.run()`` jump from event to event. Mesa's own per-step
schedule is switched off: the heap replaces it (``_advance_time`` is the one seam, and it
still hands over to Mesa for any event a user schedules with ``schedule_event``).

One handler per event kind: it checks its precondition, changes state, records, schedules.
"""

from __future__ import annotations

import bisect
import gc
import heapq
import itertools
import math
from contextlib import contextmanager
from pathlib import Path

import mesa
import numpy as np

from sim.agents.places import PostAgent, Resident
from sim.agents.unit import Unit, UnitState
from sim.calls import DRAWS, Call, generate_calls
from sim.dispatch import POLICIES
from sim.duties import DutiesAndShifts
from sim.outcomes import (
    Familiarity,
    escalation_delay_min,
    follow_up_min,
    repeat_delay_min,
    resolution_probability,
)
from sim.problems import CommunityWork
from sim.scenario import Scenario
from sim.streams import Streams
from sim.world import World, build_world

_UNIT_EVENT, _CALL_EVENT = 0, 1  # at equal times, units free up before calls dispatch
_D = {name: i for i, name in enumerate(DRAWS)}


@contextmanager
def _gc_paused():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class PatrolModel(DutiesAndShifts, mesa.Model):
    """Residents call, the command room dispatches, units travel, attend and return."""

    def __init__(
        self,
        scenario: Scenario,
        replication: int = 0,
        world: World | None = None,
        seed: int | None = None,
        base_dir: Path | None = None,
    ):
        """``world`` defaults to the scenario's (cached); ``base_dir`` resolves its files."""
        self.config = scenario
        self.seed_value = scenario.seed if seed is None else seed
        self.replication = replication
        self.streams = Streams(self.seed_value, replication)
        super().__init__(rng=self.streams.generator("mesa"))
        self._default_schedule.stop()  # the event heap below drives time
        self.world = world if world is not None else build_world(scenario, base_dir)
        self.router = self.world.router
        self.now_min = 0.0
        self.warmup_min = scenario.warmup_min
        self.horizon_min = scenario.horizon_min
        self.policy = POLICIES[scenario.dispatch.policy]
        self._events: list = []
        self._prevention = any(scenario.bulletins.prevention.values())
        self._seq = itertools.count()
        self.calls: list[Call] = []
        self.queue: list[Call] = []
        self.open_calls: dict[int, Call] = {}
        self._build_agents()
        if scenario.calls.trace is not None:  # replay a calls table (sim.inputs.trace)
            from sim.inputs.trace import replay_stream

            self._stream = replay_stream(self, base_dir)
        else:
            self._stream = generate_calls(
                scenario.calls,
                np.array([r.people for r in self.residents], dtype=float),
                self.horizon_min,
                self.streams.generator("call_times"),
                self.streams.generator("call_what"),
            )
        # plain Python values: quicker to compare in the heap and to index one by one
        self._base_times = self._stream.t_call_min.tolist()
        self._base_calls = list(
            zip(
                self._stream.type_index.tolist(),
                self._stream.resident_index.tolist(),
                self._stream.draws.tolist(),
                strict=True,
            )
        )
        self._base_times.append(math.inf)  # a sentinel: no more base calls
        self._next_base = 0
        self._duty_rng = self.streams.generator("other_duty")
        self._repeat_rng = self.streams.generator("repeats")
        for unit in self.units:
            self._start_unit_timers(unit)
        self.familiarity = Familiarity(
            scenario.outcomes.familiarity, self.units, len(scenario.communities)
        )
        self.community_work = CommunityWork(self)

    # -- set-up -------------------------------------------------------------------------
    def _build_agents(self) -> None:
        world, sc = self.world, self.config
        self.posts = {
            p.name: PostAgent(
                self, p.name, p.kind, world.post_nodes[p.name], world.post_community[p.name]
            )
            for p in sc.posts
        }
        self.units: list[Unit] = []
        for group in sc.units:
            for k in range(group.count):
                label = f"{group.post}#{k + 1}"
                unit = Unit(self, self.posts[group.post], group, label)
                unit.index = len(self.units)
                self.units.append(unit)
        self.residents = self._place_residents()
        self.call_types = sc.calls.types

    def _place_residents(self) -> list[Resident]:
        rng = self.streams.generator("residents")
        size = self.config.residents.people_per_agent
        residents = []
        for c, community in enumerate(self.config.communities):
            nodes = self.world.community_nodes[c]
            if len(nodes) == 0:  # e.g. several communities on a one-node network
                nodes = np.array([self.world.anchor_nodes[c]])
            blocks = max(1, math.ceil(community.population / size))
            people = np.full(blocks, community.population // blocks)
            people[: community.population % blocks] += 1
            for node, n_people in zip(rng.choice(nodes, size=blocks), people, strict=True):
                residents.append(Resident(self, int(node), c, int(n_people)))
        return residents

    # -- event queue --------------------------------------------------------------------
    def _schedule(self, t_min: float, priority: int, handler, arg) -> None:
        heapq.heappush(self._events, (t_min, priority, next(self._seq), handler, arg))

    def _advance_time(self, until: float) -> None:
        """Process every event up to ``until`` (minutes) in time order, Mesa's too."""
        while (t_mesa := self._next_mesa_event_min()) <= until:
            self._run_own_events(t_mesa)  # ours first at equal times
            if t_mesa > self.time:
                super()._advance_time(t_mesa)  # runs Mesa's events at t_mesa
            else:  # an event Mesa holds for the current instant
                self._event_list.pop_event().execute()
        self._run_own_events(until)
        self.now_min = until
        if until > self.time:
            super()._advance_time(until)

    def _run_own_events(self, until: float) -> None:
        """Run the heap's events and the base calls (kept out of the heap) in time order."""
        events, base_times = self._events, self._base_times
        while True:
            t_base = base_times[self._next_base]
            if events and events[0][0] <= t_base:  # at equal times, the heap's events first
                if events[0][0] > until:
                    break
                t, _, _, handler, arg = heapq.heappop(events)
                self.now_min = t
                handler(arg)
            elif t_base <= until:
                self.now_min = t_base
                self._on_base_call(self._next_base)
            else:
                break
        self.now_min = until

    def _next_mesa_event_min(self) -> float:
        """When the next event scheduled through Mesa (``schedule_event``) is due."""
        if self._event_list.is_empty():
            return math.inf
        ahead = self._event_list.peek_ahead(1)
        return ahead[0].time if ahead else math.inf

    def run(self) -> None:
        """Run to the end of the horizon and close the books.

        Python's cyclic garbage collector is paused meanwhile: a run makes many long-lived
        objects and almost no cyclic garbage, and the collector's repeated scans of the
        growing call list cost 10-20% of the run time (measured on erlang_c).
        """
        with _gc_paused():
            self.run_until(self.horizon_min)
        for unit in self.units:
            unit.close_books(self.horizon_min)
        self.running = False

    # -- calls --------------------------------------------------------------------------
    def _on_base_call(self, k: int) -> None:
        type_index, resident_index, draws = self._base_calls[k]
        resident = self.residents[resident_index]
        self._next_base = k + 1
        if not (self._prevention and self._prevented(type_index, resident, draws)):
            self.receive_call(type_index, resident, draws)

    def _prevented(self, type_index: int, resident: Resident, draws: list[float]) -> bool:
        """Bulletins' prevention effect (an assumption, off by default), from week 2 on."""
        share = self.config.bulletins.prevention.get(self.call_types[type_index].name, 0.0)
        if share == 0.0 or self.now_min < 7 * 1440.0:
            return False
        has_office = any(
            p.kind == "office" and p.community == resident.community for p in self.posts.values()
        )
        return has_office and draws[_D["prevention"]] < share

    def receive_call(
        self,
        type_index: int,
        resident: Resident,
        draws: list[float],
        repeat_of: Call | None = None,
        problem: int = -1,
    ) -> Call:
        """A resident's call reaches the command room now."""
        call = Call(
            id=len(self.calls),
            type_index=type_index,
            priority=self.call_types[type_index].priority,
            community=resident.community,
            node=resident.node,
            resident=resident,
            t_call=self.now_min,
            draws=draws,
            first_type=type_index,
            problem=problem,
            units_needed=self.call_types[type_index].units_needed,
        )
        if repeat_of is not None:
            first = repeat_of if repeat_of.repeat_of < 0 else self.calls[repeat_of.repeat_of]
            call.repeat_of, call.chain = first.id, repeat_of.chain + 1
        resident.calls_made += 1
        self.calls.append(call)
        self.open_calls[call.id] = call
        dispatch = self.config.dispatch
        call.mobilise_min = dispatch.mobilisation_min.quantile(draws[_D["mobilisation"]])
        delay = dispatch.delay_min.quantile(draws[_D["dispatch_delay"]])
        self._schedule(self.now_min + delay, _CALL_EVENT, self._on_ready, call)
        if self.call_types[type_index].escalation is not None:
            escalate_after = escalation_delay_min(
                self, call, draws[_D["escalation"]], draws[_D["escalation_time"]]
            )
            if escalate_after is not None:
                t_escalate = self.now_min + escalate_after
                self._schedule(t_escalate, _CALL_EVENT, self._on_escalate, call)
        return call

    def _on_escalate(self, call: Call) -> None:
        """Nobody arrived in time: the dispute escalates (e.g. to assault)."""
        if not math.isnan(call.t_arrive):
            return
        new_type = self.config.calls.type_index(self.call_types[call.type_index].escalation.to)
        call.type_index = new_type
        call.priority = self.call_types[new_type].priority
        call.escalated = True
        call.units_needed = max(call.units_needed, self.call_types[new_type].units_needed)
        if math.isnan(call.t_ready):
            return  # not yet with the dispatcher, who will see its new type
        if call in self.queue:  # its priority changed: take its new place
            self.queue.remove(call)
        elif call.missing_units > 0:  # it now needs more units than it has
            self._dispatch(call, self.free_units())
        if call.missing_units > 0:
            bisect.insort(self.queue, call, key=lambda c: c.queue_key)

    def _on_ready(self, call: Call) -> None:
        call.t_ready = self.now_min
        self._dispatch(call, self.free_units())
        if call.missing_units == 0:
            return
        call.queued = True  # some unit it needs was not free
        bisect.insort(self.queue, call, key=lambda c: c.queue_key)
        threshold = self.config.dispatch.borrow_after_min
        if self.config.dispatch.policy == "community_first" and threshold:
            self._schedule(self.now_min + threshold, _CALL_EVENT, self._on_borrow_due, call)

    def _dispatch(self, call: Call, candidates: list[Unit]) -> None:
        """Assign units the policy picks among ``candidates`` until the call has enough."""
        while call.missing_units > 0:
            choice = self.policy(self, call, candidates)
            if choice is None:
                return
            self._assign(call, *choice)
            if call.missing_units > 0:
                candidates = [u for u in candidates if u is not choice[0]]

    def _on_borrow_due(self, call: Call) -> None:
        call.may_borrow = True
        if call in self.queue:
            self._dispatch(call, self.free_units())
            if call.missing_units == 0:
                self.queue.remove(call)

    def slowdown_at(self, t_min: float) -> float:
        """Travel time over free-flow time for a trip starting at ``t_min`` (congestion).

        The dispatcher ranks units by free-flow time; every trip starting at the same moment
        is stretched alike, so the ranking of units at posts is unchanged.
        """
        hourly = self.config.congestion_by_hour
        return 1.0 if hourly is None else hourly[int(t_min // 60) % 24]

    def mobilisation_min(self, call: Call) -> float:
        """Minutes a unit at its post needs before it leaves for this call."""
        return call.mobilise_min

    def free_units(self) -> list[Unit]:
        """Units that can take a call now, in a fixed order."""
        return [u for u in self.units if u.is_free]

    def _assign(self, call: Call, unit: Unit, total_min: float) -> None:
        now = self.now_min
        if not call.units:
            call.t_assigned = now
            call.unit = unit
        call.units.append(unit)
        position = unit.position_source(now)
        mobilise = call.mobilise_min if unit.state == UnitState.IDLE else 0.0
        slowdown = self.slowdown_at(now)
        free_flow_min = (total_min - position[1] - mobilise) / slowdown
        t_arrive = unit.start_trip(call.node, now, free_flow_min, mobilise, slowdown, position)
        unit.call = call
        unit.set_state(UnitState.EN_ROUTE, now)
        self._schedule(t_arrive, _UNIT_EVENT, self._on_arrive, (unit, unit.trip_id))

    # -- unit events --------------------------------------------------------------------
    def _on_arrive(self, arg: tuple[Unit, int]) -> None:
        unit, trip_id = arg
        assert trip_id == unit.trip_id and unit.state == UnitState.EN_ROUTE
        call, now = unit.call, self.now_min
        if math.isnan(call.t_arrive):  # the first unit on scene leads it, for service_min
            call.t_arrive = now
            call.unit = unit
            self.open_calls.pop(call.id, None)
            draw = call.draws[_D["service"]]
            call.clear_due = now + self.call_types[call.type_index].service_min.quantile(draw)
        unit.set_state(UnitState.ON_SCENE, now)
        self._schedule(max(now, call.clear_due), _UNIT_EVENT, self._on_clear, unit)

    def _on_clear(self, unit: Unit) -> None:
        assert unit.state == UnitState.ON_SCENE
        call = unit.call
        now = self.now_min
        if unit is not call.unit:  # a backup unit leaves; the lead unit decides the outcome
            self.familiarity.handled_call(unit.index, call.community, now)
            unit.call = None
            unit.calls_attended += 1
            self._unit_done(unit)
            return
        call.t_clear = now
        if call in self.queue:  # backups still awaited are no longer needed
            self.queue.remove(call)
            call.units_needed = len(call.units)
        p = resolution_probability(self, call, unit)
        call.resolved = bool(call.draws[_D["resolution"]] < p)
        self.familiarity.handled_call(unit.index, call.community, now)
        if call.problem >= 0:
            self.community_work.attended(call, unit)
        unit.call = None
        unit.calls_attended += 1
        if not call.resolved and self.call_types[call.first_type].repeat is not None:
            delay = repeat_delay_min(self, call, self._repeat_rng)
            if delay is not None and now + delay < self.horizon_min:
                self._schedule(now + delay, _CALL_EVENT, self._on_repeat_call, call)
        follow_up = follow_up_min(
            self, call, unit, call.draws[_D["case_work"]], call.draws[_D["follow_through"]]
        )
        if follow_up > 0:
            unit.set_state(UnitState.FOLLOW_UP, now)
            self._schedule(now + follow_up, _UNIT_EVENT, self._unit_done, unit)
        else:
            self._unit_done(unit)

    def _on_repeat_call(self, previous: Call) -> None:
        """The same household calls again about the same unresolved problem."""
        if self.community_work.is_fixed(previous.problem):
            return  # the latent problem behind it was fixed meanwhile
        draws = self._repeat_rng.random(len(DRAWS)).tolist()
        self.receive_call(previous.first_type, previous.resident, draws, previous, previous.problem)

    def _unit_done(self, unit: Unit) -> None:
        """A unit finished a job: pending duty or shift end first, then the queue, then home."""
        now = self.now_min
        at_post = unit.node == unit.post.node
        if unit.duty_pending or unit.off_shift_pending:
            if at_post:
                self._arrive_home(unit)
            else:
                self._go_home(unit, now)
            return
        unit.trip = None  # free: serve the queue from here, else go home
        unit.set_state(UnitState.IDLE if at_post else UnitState.RETURNING, now)
        if not self._serve_queue(unit) and not at_post:
            self._go_home(unit, now)

    def _go_home(self, unit: Unit, now: float) -> None:
        travel = self.router.time(unit.node, unit.post.node)
        t_home = unit.start_trip(unit.post.node, now, travel, slowdown=self.slowdown_at(now))
        unit.set_state(UnitState.RETURNING, now)
        self._schedule(t_home, _UNIT_EVENT, self._on_home, (unit, unit.trip_id))

    def _serve_queue(self, unit: Unit) -> bool:
        for call in self.queue:
            if unit in call.units:
                continue  # already on it (as primary or backup)
            choice = self.policy(self, call, [unit])
            if choice is not None:
                self._assign(call, *choice)
                if call.missing_units == 0:
                    self.queue.remove(call)
                return True
        return False

    def _on_home(self, arg: tuple[Unit, int]) -> None:
        unit, trip_id = arg
        if trip_id != unit.trip_id or unit.state != UnitState.RETURNING:
            return  # re-dispatched from the road meanwhile
        self._arrive_home(unit)

    def _arrive_home(self, unit: Unit) -> None:
        unit.trip = None
        if unit.off_shift_pending:
            unit.off_shift_pending = False
            unit.set_state(UnitState.OFF_SHIFT, self.now_min)
        elif unit.duty_pending:
            self._start_duty(unit)
        else:
            unit.set_state(UnitState.IDLE, self.now_min)
            self._serve_queue(unit)

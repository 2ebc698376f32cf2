"""The patrol model: a Mesa model driven by its own event queue, time in minutes.

Events sit in ``sim.events.EventQueue``, ordered by (time, priority, sequence), so runs are
deterministic and arrival times exact; base calls (drawn before the run) are merged in
without entering the heap. ``model.time`` is the simulated minute in every handler.
``model.step()`` advances one minute (for the browser app); ``model.run_until(t)`` and
``model.run()`` jump from event to event. Events a user schedules through Mesa
(``schedule_event``) run in time order with the model's own (``sim.mesa_adapter``).

One handler per event kind: it checks its precondition, changes state, records, schedules.
"""

from __future__ import annotations

import gc
import math
from array import array
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim import mesa_adapter
from sim.agents.availability import FreeUnits
from sim.agents.post import PostAgent
from sim.agents.resident import Resident
from sim.agents.roster import Roster
from sim.agents.unit import Unit, UnitState
from sim.calls.call import Call
from sim.calls.stream import DRAWS, CallStream, generate_calls
from sim.clock import MIN_PER_WEEK
from sim.dispatch.dispatcher import Dispatcher
from sim.dispatch.policies import POLICIES
from sim.events import EventQueue, Priority
from sim.measures.health import health
from sim.measures.metrics import summarize
from sim.measures.records import RecordSpool, call_records
from sim.network.world import World, build_world
from sim.outcomes.community_work import CommunityWork
from sim.outcomes.resolution import (
    Familiarity,
    escalation_delay_min,
    expected_calls_per_day,
    follow_up_min,
    repeat_delay_min,
    resolution_probability,
)
from sim.patrol.deterrence import Deterrence
from sim.patrol.on_view import OnViewIncidents
from sim.patrol.patroller import Patroller
from sim.scenarios.patrol import MODE_SPEED_FACTOR
from sim.scenarios.schema import Scenario
from sim.streams import Streams
from sim.travel import Travel

_D = {name: i for i, name in enumerate(DRAWS)}


def _car_only(group) -> bool:
    """Whether a unit group always moves at car speed (vehicle and patrol mode)."""
    patrol = group.patrol
    return group.vehicle == "car" and (not patrol.patrols or patrol.mode == "car")


@contextmanager
def _gc_paused():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class PatrolModel(mesa.Model):
    """Residents call, the command room dispatches, units travel, attend and return.

    ``PatrolModel(scenario, seed=3).run()``, then ``records()`` (one row per call) and
    ``summary()`` (the figures of the summary JSON). Units, posts and residents are Mesa
    agents (``model.agents_by_type[Unit]``). ``world`` (network, router, places) is shared
    between models of the same scenario, in threads too.
    """

    def __init__(
        self,
        scenario: Scenario,
        replication: int = 0,
        world: World | None = None,
        seed: int | None = None,
        log_states: bool = False,
        keep_calls: bool = True,
    ):
        """``seed`` defaults to the scenario's; ``world`` to the scenario's (cached).

        ``log_states``: keep ``state_log``, every unit's changes of state as
        ``(minute, unit, old state, new state, call id)`` (for traces and teaching).
        ``keep_calls=False``: finished calls become records as the run goes and leave
        ``calls`` (``spool``); ``records()`` is the same table, a long run needs less memory.
        """
        self.seed_value = scenario.seed if seed is None else seed
        self.replication = replication
        self.streams = Streams(self.seed_value, replication)
        super().__init__(rng=self.streams.generator("mesa"))
        mesa_adapter.take_over_time(self)
        self.scenario = scenario
        self.world = world if world is not None else build_world(scenario)
        self.router = self.world.router
        self.travel = Travel(
            self.router,
            scenario.congestion_by_hour,
            scenario.dispatch.locate,
            scenario.travel,
            all_cars=all(_car_only(group) for group in scenario.units),
        )
        self.warmup_min = scenario.warmup_min
        self.horizon_min = scenario.horizon_min
        self.events = EventQueue()
        self.state_log: list | None = [] if log_states else None
        self.dispatcher = Dispatcher(
            self, POLICIES[scenario.dispatch.policy], self._assign, self._schedule_borrow
        )
        self._prevention = any(scenario.bulletins.prevention.values())
        self.calls: list[Call] = []  # every call made (only the unfinished without keep_calls)
        self.calls_made = 0
        self.spool = None if keep_calls else RecordSpool()
        self.open_calls: dict[int, Call] = {}
        self.call_types = scenario.calls.types
        self._build_agents()
        self._load_base_calls()
        self._repeat_rng = self.streams.generator("repeats")
        self._patience_rng = self.streams.generator("patience")  # new streams shift no other
        self._phone_rng = self.streams.generator("command_room")
        self.roster = Roster(
            self,
            self.schedule,
            self.streams.generator("other_duty"),
            on_free=self._now_idle,
            on_shift_start=self._arrive_home,
            on_recall=self._recall,
        )
        self.incidents = self._on_view_incidents()
        self.deterrence = (
            Deterrence(scenario.deterrence, self.router, len(self._base_types),
                       self.streams.generator("deterrence"))
            if scenario.deterrence.enabled
            else None
        )  # fmt: skip
        self.patroller = Patroller(
            self,
            go_home=self._send_home,
            take_incident=self._take_on_view,
            incidents=self.incidents,
            on_stay=self.deterrence.stay if self.deterrence is not None else None,
        )
        for unit in self.units:
            self.roster.start(unit)
        for unit in self.units:
            if unit.state == UnitState.IDLE:
                self.patroller.on_idle(unit)
        self.familiarity = Familiarity(
            scenario.outcomes.familiarity,
            self.units,
            len(scenario.communities),
            expected_calls_per_day(scenario),
        )
        self.community_work = CommunityWork(self)

    @property
    def scenario(self) -> Scenario:
        """The scenario this model runs (the project's, in place of Mesa's parameter object)."""
        return self._scenario

    @scenario.setter
    def scenario(self, scenario: Scenario) -> None:
        self._scenario = scenario  # Mesa's setter would write into a frozen scenario

    # -- set-up -------------------------------------------------------------------------
    def _build_agents(self) -> None:
        world, sc = self.world, self.scenario
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
                unit = Unit(
                    self,
                    self.posts[group.post],
                    group,
                    label,
                    self.router,
                    self.warmup_min,
                    self.state_log,
                )
                unit.index = len(self.units)
                self.units.append(unit)
        self.availability = FreeUnits(self.units)
        for unit in self.units:
            unit.availability = self.availability
        self.residents = self._place_residents()

    def _place_residents(self) -> list[Resident]:
        rng = self.streams.generator("residents")
        size = self.scenario.residents.people_per_agent
        residents = []
        for c, community in enumerate(self.scenario.communities):
            nodes = self.world.community_nodes[c]
            if len(nodes) == 0:  # e.g. several communities on a one-node network
                nodes = np.array([self.world.anchor_nodes[c]])
            blocks = max(1, math.ceil(community.population / size))
            people = np.full(blocks, community.population // blocks)
            people[: community.population % blocks] += 1
            for node, n_people in zip(rng.choice(nodes, size=blocks), people, strict=True):
                residents.append(Resident(self, int(node), c, int(n_people)))
        return residents

    def _load_base_calls(self) -> None:
        """Draw the call stream; times and types as plain Python values (quicker one by one).

        A call's draws are packed when it is made (``_base_call``, 8 bytes a draw): as lists
        made up front they would hold ~0.5 KB per call for the whole run.
        """
        if self.scenario.calls.trace is not None:
            stream = self._replayed_calls()
        else:
            stream = generate_calls(
                self.scenario.calls,
                np.array([r.people for r in self.residents], dtype=float),
                self.horizon_min,
                self.streams.generator("call_times"),
                self.streams.generator("call_what"),
            )
        self.call_stream = stream  # the base calls, as drawn (or replayed) before the run
        self._base_times = stream.t_call_min.tolist()
        self._base_types = stream.type_index.tolist()
        self._base_residents = stream.resident_index.tolist()
        self._base_draws = stream.draws
        self._base_recorded = (stream.priority, stream.service_min)  # replays: as recorded
        self._base_times.append(math.inf)  # a sentinel: no more base calls
        self._next_base = 0

    def _on_view_incidents(self) -> OnViewIncidents | None:
        """The base calls that are on-view incidents (None when no call type is)."""
        if not any(t.on_view is not None for t in self.call_types):
            return None
        return OnViewIncidents(
            self.call_types,
            self._base_times[:-1],
            self._base_types,
            [self.residents[r].node for r in self._base_residents],
            self.streams.generator("on_view"),
            self.warmup_min,
        )

    def _replayed_calls(self) -> CallStream:
        """The calls of the scenario's calls table; a resident (no population) at each node."""
        from sim.calls.replay import load_trace, replay_stream

        trace = load_trace(self.scenario, self.world)
        rng = self.streams.generator("call_what")
        stream, nodes = replay_stream(trace, self.scenario, rng, len(self.residents))
        community = self.world.community_of_node
        for node in nodes.tolist():
            self.residents.append(Resident(self, node, int(community[node]), 0))
        return stream

    # -- time ---------------------------------------------------------------------------
    def schedule(
        self, t_min: float, priority: Priority, handler: Callable[[Any], None], arg: Any
    ) -> None:
        """Call ``handler(arg)`` at minute ``t_min`` (for the model's parts and extensions)."""
        self.events.schedule(t_min, priority, handler, arg)

    def step(self) -> None:
        """Advance one simulated minute."""
        self.steps += 1
        self.run_until(self.time + 1.0)

    def run_for(self, duration_min: float) -> None:
        """Advance ``duration_min`` simulated minutes."""
        self.run_until(self.time + duration_min)

    def run_until(self, end_min: float) -> None:
        """Process every event up to ``end_min`` in time order, Mesa's too (ours first)."""
        while (t_mesa := mesa_adapter.next_event_min(self)) <= end_min:
            self._run_own_events(t_mesa)
            mesa_adapter.run_events_until(self, t_mesa)
        self._run_own_events(end_min)
        self.time = max(self.time, end_min)

    def _run_own_events(self, until_min: float) -> None:
        """Run the queue's events and the base calls (kept out of it) in time order."""
        heap, base_times, pop = self.events.heap, self._base_times, self.events.pop
        set_time = mesa_adapter.clock_setter(self)
        while True:
            t_base = base_times[self._next_base]
            if heap and heap[0][0] <= t_base:  # at equal times, the queue's events first
                if heap[0][0] > until_min:
                    break
                t, handler, arg = pop()
                set_time(t)
                handler(arg)
            elif t_base <= until_min:
                set_time(t_base)
                self._on_base_call(self._next_base)
            else:
                break

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

    # -- results ------------------------------------------------------------------------
    def records(self) -> pd.DataFrame:
        """One typed row per call so far (``sim.measures.records.COLUMNS``)."""
        return call_records(self)

    def summary(self, records: pd.DataFrame | None = None) -> dict[str, Any]:
        """The figures of the summary JSON (DESIGN 4.3) for this run so far.

        ``records``: this model's records, if already made (they are made otherwise).
        """
        scenario = self.scenario
        records = call_records(self) if records is None else records
        meta = {
            "scenario": scenario.name,
            "seed": self.seed_value,
            "replication": self.replication,
            "days": scenario.days,
            "replications": 1,
            "scenario_hash": scenario.digest(),
            "network_hash": self.world.network.digest,
        }
        state_min = np.array([u.state_min for u in self.units])
        summary = summarize(
            records,
            state_min,
            [c.name for c in scenario.communities],
            [t.name for t in scenario.calls.types],
            meta,
        )
        summary["problems"] = self.community_work.summary()
        summary["patrol"] = self.patroller.summary()
        summary.update(health(self, records, state_min))
        return summary

    # -- calls --------------------------------------------------------------------------
    @property
    def queue(self):
        """Calls waiting for a unit, in dispatch order."""
        return self.dispatcher.queue

    def _base_call(self, k: int) -> tuple[int, int, array]:
        """Base call ``k``: its type, its caller (resident index) and its draws."""
        draws = array("d", self._base_draws[k].tobytes())
        return self._base_types[k], self._base_residents[k], draws

    def _on_base_call(self, k: int) -> None:
        type_index, resident_index, draws = self._base_call(k)
        resident = self.residents[resident_index]
        self._next_base = k + 1
        if self._prevention and self._prevented(type_index, resident, draws):
            return
        if self.deterrence is not None and self.deterrence.prevents(k, resident.node, self.time):
            return
        if self.incidents is not None and self.incidents.is_incident(k):
            t_report = self.incidents.begin(k)  # seen by a patrol, or reported later, or not
            if t_report < math.inf:
                self.events.schedule(t_report, Priority.CALL, self._on_incident_report, k)
            return
        call = self.receive_call(type_index, resident, draws)
        priority, service_min = self._base_recorded
        if priority is not None and not math.isnan(priority[k]):
            call.priority = int(priority[k])
        if service_min is not None:
            call.recorded_service_min = float(service_min[k])

    def _on_incident_report(self, k: int) -> None:
        """Nobody on patrol saw on-view incident ``k``: someone reports it now."""
        if self.incidents.report(k):
            type_index, resident_index, draws = self._base_call(k)
            self.receive_call(type_index, self.residents[resident_index], draws, found_by="report")

    def _take_on_view(self, unit: Unit, k: int) -> None:
        """A patrolling unit noticed on-view incident ``k`` where it is: it takes it at once."""
        type_index, resident_index, draws = self._base_call(k)
        resident = self.residents[resident_index]
        call = self.receive_call(type_index, resident, draws, found_by="patrol", dispatch_it=False)
        now = self.time
        call.t_ready = call.t_assigned = now
        call.unit = unit
        call.units.append(unit)
        unit.call = call
        unit.set_state(UnitState.EN_ROUTE, now)  # no trip: it is there
        self._on_arrive((unit, unit.trip_id))
        if call.missing_units > 0:  # backups are dispatched as for a call
            self.dispatcher.ready(call, self.free_units())

    def _prevented(self, type_index: int, resident: Resident, draws: Sequence[float]) -> bool:
        """Bulletins' prevention effect (an assumption, off by default), from week 2 on."""
        share = self.scenario.bulletins.prevention.get(self.call_types[type_index].name, 0.0)
        if share == 0.0 or self.time < MIN_PER_WEEK:
            return False
        has_office = any(
            p.kind == "office" and p.community == resident.community for p in self.posts.values()
        )
        return has_office and draws[_D["prevention"]] < share

    def receive_call(
        self,
        type_index: int,
        resident: Resident,
        draws: Sequence[float],
        repeat_of: Call | None = None,
        problem: int = -1,
        found_by: str = "call",
        dispatch_it: bool = True,
    ) -> Call:
        """A resident's call reaches the command room now.

        ``found_by`` says how it became known (call, patrol, report); ``dispatch_it=False``:
        a job a unit found itself, on view, with no dispatch.
        """
        now = self.time
        call = Call(
            id=self.calls_made,
            type_index=type_index,
            priority=self.call_types[type_index].priority,
            community=resident.community,
            node=resident.node,
            resident=resident,
            t_call=now,
            draws=draws,
            first_type=type_index,
            problem=problem,
            units_needed=self.call_types[type_index].units_needed,
            found_by=found_by,
            officers_needed=self.call_types[type_index].officers_needed,
        )
        if repeat_of is not None:
            first_id = repeat_of.id if repeat_of.repeat_of < 0 else repeat_of.repeat_of
            call.repeat_of, call.chain = first_id, repeat_of.chain + 1
        resident.calls_made += 1
        self.calls.append(call)
        self.calls_made += 1
        if self.spool is not None and len(self.calls) >= self.spool.due_at:
            self.calls = self.spool.take_finished(self)
        self.open_calls[call.id] = call
        dispatch = self.scenario.dispatch
        call.mobilise_min = dispatch.mobilisation_min.quantile(draws[_D["mobilisation"]])
        delay = dispatch.delay_min.quantile(draws[_D["dispatch_delay"]])
        if dispatch_it:
            self.events.schedule(now + delay, Priority.CALL, self._on_ready, call)
            if self.scenario.calls.patience_min is not None:
                self._schedule_patience(call)
        if self.call_types[type_index].escalation is not None:
            escalate_after = escalation_delay_min(
                self, call, draws[_D["escalation"]], draws[_D["escalation_time"]]
            )
            if escalate_after is not None:
                self.events.schedule(now + escalate_after, Priority.CALL, self._on_escalate, call)
        return call

    def _on_escalate(self, call: Call) -> None:
        """Nobody arrived in time: the dispute escalates (e.g. to assault)."""
        if not math.isnan(call.t_arrive) or call.abandoned or call.by_phone:
            return
        new_type = self.scenario.calls.type_index(self.call_types[call.type_index].escalation.to)
        call.type_index = new_type
        call.priority = self.call_types[new_type].priority
        call.escalated = True
        call.units_needed = max(call.units_needed, self.call_types[new_type].units_needed)
        call.officers_needed = max(call.officers_needed, self.call_types[new_type].officers_needed)
        if math.isnan(call.t_ready):
            return  # not yet with the dispatcher, who will see its new type
        self.dispatcher.reprioritise(call, self.free_units())

    def _on_ready(self, call: Call) -> None:
        if call.abandoned:
            return
        call.t_ready = self.time
        if self.call_types[call.type_index].p_command_room > 0 and self._by_phone(call):
            return
        self.dispatcher.ready(call, self.free_units())
        if call.missing_units > 0 and self.scenario.dispatch.preempt_priority is not None:
            self._preempt_for(call)

    def _schedule_borrow(self, call: Call, after_min: float) -> None:
        self.events.schedule(self.time + after_min, Priority.CALL, self._on_borrow_due, call)

    def _on_borrow_due(self, call: Call) -> None:
        self.dispatcher.borrow_due(call, self.free_units())

    def free_units(self) -> Sequence[Unit]:
        """Units that can take a call now, in a fixed order (read before any changes)."""
        return self.availability.view()

    def _assign(self, call: Call, unit: Unit) -> None:
        """Send ``unit`` to ``call`` now (the dispatcher's choice)."""
        now = self.time
        if unit.state == UnitState.PATROL:
            self.patroller.interrupted(unit)
        if not call.units:
            if math.isnan(call.t_assigned):  # (a pre-empted call keeps its first)
                call.t_assigned = now
            call.unit = unit
        call.units.append(unit)
        plan = self.travel.trip(unit, call, now)
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
        self.events.schedule(t_arrive, Priority.UNIT, self._on_arrive, (unit, unit.trip_id))

    # -- queue realism (issue 11; each off by default) --------------------------------------
    def _schedule_patience(self, call: Call) -> None:
        """The caller hangs up after a patience drawn now (stream ``patience``)."""
        patience = self.scenario.calls.patience_min.quantile(self._patience_rng.random())
        self.events.schedule(self.time + patience, Priority.CALL, self._on_patience_out, call)

    def _on_patience_out(self, call: Call) -> None:
        if call.units or call.by_phone or not math.isnan(call.t_arrive):
            return  # a unit is on its way (or the call is closed): nobody hangs up
        call.abandoned = True
        self.dispatcher.queue.discard(call)
        self.open_calls.pop(call.id, None)

    def _by_phone(self, call: Call) -> bool:
        """The command room resolves the call by phone (stream ``command_room``)."""
        if self._phone_rng.random() >= self.call_types[call.type_index].p_command_room:
            return False
        call.by_phone = call.resolved = True
        call.t_clear = self.time
        self.open_calls.pop(call.id, None)
        return True

    def _preempt_for(self, call: Call) -> None:
        """Divert a unit from the least urgent single-unit job to this urgent call."""
        if call.priority > self.scenario.dispatch.preempt_priority:
            return
        busy = (UnitState.EN_ROUTE, UnitState.ON_SCENE)
        victims = [
            u for u in self.units
            if u.state in busy and u.call.priority > call.priority
            and len(u.call.units) == 1 and u.call.missing_units == 0  # one unit, not waiting
        ]  # fmt: skip
        if not victims:
            return
        unit = max(victims, key=lambda u: (u.call.priority, u.call.t_ready))
        old, now = unit.call, self.time
        if unit.state == UnitState.ON_SCENE:
            old.remaining_min = max(0.0, old.clear_due - now)
        old.units.remove(unit)
        unit.call = None
        self.dispatcher.queue.add(old)  # it waits again, in its place
        unit.set_state(UnitState.RETURNING, now)  # zero time: routed from where it is
        self.dispatcher.queue.discard(call)
        self._assign(call, unit)
        if call.missing_units > 0:
            self.dispatcher.queue.add(call)

    # -- unit events --------------------------------------------------------------------
    def _on_arrive(self, arg: tuple[Unit, int]) -> None:
        unit, trip_id = arg
        if trip_id != unit.trip_id or unit.state != UnitState.EN_ROUTE:
            return  # diverted meanwhile (pre-emption)
        call, now = unit.call, self.time
        if math.isnan(call.t_arrive):  # the first unit on scene leads it, for service_min
            call.t_arrive = now
            call.unit = unit
            self.open_calls.pop(call.id, None)
            service = call.recorded_service_min
            if math.isnan(service):
                draw = call.draws[_D["service"]]
                service = self.call_types[call.type_index].service_min.quantile(draw)
            call.clear_due = now + service
        elif not math.isnan(call.remaining_min):  # a pre-empted scene resumes
            call.clear_due, call.remaining_min = now + call.remaining_min, math.nan
        unit.set_state(UnitState.ON_SCENE, now)
        self.events.schedule(max(now, call.clear_due), Priority.UNIT, self._on_clear, unit)

    def _on_clear(self, unit: Unit) -> None:
        call = unit.call
        now = self.time
        if unit.state != UnitState.ON_SCENE or now < call.clear_due:
            return  # pre-empted meanwhile: this clearing is stale
        if unit is not call.unit:  # a backup unit leaves; the lead unit decides the outcome
            self.familiarity.handled_call(unit.index, call.community, now)
            unit.call = None
            unit.calls_attended += 1
            self._unit_done(unit)
            return
        call.t_clear = now
        if self.dispatcher.queue.discard(call):  # backups still awaited are not needed now
            call.units_needed, call.officers_needed = len(call.units), 0
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
                self.events.schedule(now + delay, Priority.CALL, self._on_repeat_call, call)
        follow_up = follow_up_min(
            self, call, unit, call.draws[_D["case_work"]], call.draws[_D["follow_through"]]
        )
        if follow_up > 0:
            unit.set_state(UnitState.FOLLOW_UP, now)
            self.events.schedule(now + follow_up, Priority.UNIT, self._unit_done, unit)
        else:
            self._unit_done(unit)

    def _on_repeat_call(self, previous: Call) -> None:
        """The same household calls again about the same unresolved problem."""
        if self.community_work.is_fixed(previous.problem):
            return  # the latent problem behind it was fixed meanwhile
        draws = array("d", self._repeat_rng.random(len(DRAWS)).tobytes())
        self.receive_call(previous.first_type, previous.resident, draws, previous, previous.problem)

    def _unit_done(self, unit: Unit) -> None:
        """A unit finished a job: pending duty or shift end first, then the queue, then home."""
        now = self.time
        at_post = unit.node == unit.post.node
        if unit.duty_pending or unit.off_shift_pending:
            if at_post:
                self._arrive_home(unit)
            else:
                self._go_home(unit, now)
            return
        unit.trip = None  # free: serve the queue from here, else patrol on, else go home
        unit.set_state(UnitState.IDLE if at_post else UnitState.RETURNING, now)
        if self._serve_queue(unit) or self.patroller.resume(unit):
            return
        if at_post:
            self.patroller.on_idle(unit)
        else:
            self._go_home(unit, now)

    def _serve_queue(self, unit: Unit) -> bool:
        return self.dispatcher.serve_queue(unit)

    def _now_idle(self, unit: Unit) -> None:
        """The unit is free at its post: the queue first, else (a break, then) patrol."""
        if not self._serve_queue(unit):
            self.patroller.on_idle(unit)

    def _send_home(self, unit: Unit) -> None:
        self._go_home(unit, self.time)

    def _recall(self, unit: Unit) -> None:
        """A duty block or the end of its shift calls a patrolling unit back to its post."""
        self.patroller.interrupted(unit)
        unit.patrol_until = -math.inf
        self._go_home(unit, self.time)

    def _go_home(self, unit: Unit, now: float) -> None:
        travel_min = self.travel.home_min(unit)
        slowdown = self.travel.slowdown_of(unit, now)
        t_home = unit.start_trip(unit.post.node, now, travel_min, slowdown=slowdown)
        unit.set_state(UnitState.RETURNING, now)
        self.events.schedule(t_home, Priority.UNIT, self._on_home, (unit, unit.trip_id))

    def _on_home(self, arg: tuple[Unit, int]) -> None:
        unit, trip_id = arg
        if trip_id != unit.trip_id or unit.state != UnitState.RETURNING:
            return  # re-dispatched from the road meanwhile
        self._arrive_home(unit)

    def unit_available(self, unit: Unit) -> None:
        """A unit at its post is done with other work (e.g. community work): as if home."""
        self._arrive_home(unit)

    def _arrive_home(self, unit: Unit) -> None:
        unit.trip = None
        unit.speed_factor = MODE_SPEED_FACTOR[unit.group.vehicle]  # back to its vehicle
        if unit.off_shift_pending:
            unit.off_shift_pending = False
            unit.set_state(UnitState.OFF_SHIFT, self.time)
        elif unit.duty_pending:
            self.roster.start_duty(unit)
        else:
            unit.set_state(UnitState.IDLE, self.time)
            self._now_idle(unit)

"""The call's life: made, ready, dispatched (or by phone, or hung up), reached, cleared.

Base calls are drawn before the run (``sim.calls.stream``) and arrive here one by one;
repeats, escalations and problem calls come from the outcome rules and community work.
What a call achieves is the outcome rules' business (``sim.outcomes.rules``): this module
calls them when a call is made and when its scene is cleared.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from sim.agents.resident import Resident
from sim.agents.unit import Unit, UnitState
from sim.calls.call import Call
from sim.calls.stream import DRAWS, CallStream, generate_calls
from sim.clock import MIN_PER_WEEK
from sim.events import EventQueue, Priority
from sim.lifecycle.units import UnitLife
from sim.patrol.on_view import OnViewIncidents

if TYPE_CHECKING:
    from sim.agents.post import PostAgent
    from sim.dispatch.dispatcher import Dispatcher
    from sim.measures.records import RecordSpool
    from sim.network.world import World
    from sim.outcomes.rules import Rules
    from sim.patrol.deterrence import Deterrence
    from sim.scenarios.schema import Scenario
    from sim.streams import Streams

_D = {name: i for i, name in enumerate(DRAWS)}
_MOBILISATION, _DISPATCH_DELAY, _SERVICE = _D["mobilisation"], _D["dispatch_delay"], _D["service"]


class CallHost(Protocol):
    """What the call's life uses of the model (and keeps there, for records and the app)."""

    time: float  # minutes
    horizon_min: float
    warmup_min: float
    scenario: Scenario
    world: World
    streams: Streams
    events: EventQueue
    residents: list[Resident]
    posts: dict[str, PostAgent]
    units: list[Unit]
    calls: list[Call]
    calls_made: int
    open_calls: dict[int, Call]
    spool: RecordSpool | None
    dispatcher: Dispatcher
    rules: Rules
    incidents: OnViewIncidents | None
    deterrence: Deterrence | None

    def free_units(self) -> Sequence[Unit]:
        """Units that can take a call now."""


class CallLife:
    """One handler per event of a call's life, acting for the model."""

    def __init__(self, model: CallHost, units: UnitLife):
        """Act for ``model``, moving units through ``units``; draw the base calls now."""
        self.model = model
        self.units = units
        units.on_arrive = self.on_arrive  # a unit sent to a call arrives here
        self.call_types = types = model.scenario.calls.types
        # what every call reads of its type, as plain values (a model's scenario is frozen)
        self._needs = [(t.priority, t.units_needed, t.officers_needed) for t in types]
        self._p_phone = [t.p_command_room for t in types]
        self._service_min = [t.service_min.quantile for t in types]
        dispatch = model.scenario.dispatch
        self._mobilise_min = dispatch.mobilisation_min.quantile
        self._delay_min = dispatch.delay_min.quantile
        self._preempt = dispatch.preempt_priority is not None
        self._patience = model.scenario.calls.patience_min is not None
        # no dispatch delay ever (a delay is never negative: a zero mean is zero always) and
        # no patience: a base call's ready event would be due at once (see ``on_base_call``)
        self._ready_at_once = dispatch.delay_min.mean_value == 0 and not self._patience
        self._prevention = any(model.scenario.bulletins.prevention.values())
        self._patience_rng = model.streams.generator("patience")  # new streams shift no other
        self._phone_rng = model.streams.generator("command_room")
        self.stream = self._base_stream()  # the base calls, as drawn (or replayed)
        self.base_times = self.stream.t_call_min.tolist()  # plain values: quicker one by one
        self.base_types = self.stream.type_index.tolist()
        self.base_residents = self.stream.resident_index.tolist()
        self.base_times.append(math.inf)  # a sentinel: no more base calls
        self.next_base = 0

    def _base_stream(self) -> CallStream:
        model = self.model
        if model.scenario.calls.trace is not None:
            return self._replayed_calls()
        return generate_calls(
            model.scenario.calls,
            np.array([r.people for r in model.residents], dtype=float),
            model.horizon_min,
            model.streams.generator("call_times"),
            model.streams.generator("call_what"),
        )

    def _replayed_calls(self) -> CallStream:
        """The calls of the scenario's calls table; a resident (no population) at each node."""
        from sim.calls.replay import load_trace, replay_stream

        model = self.model
        trace = load_trace(model.scenario, model.world)
        rng = model.streams.generator("call_what")
        stream, nodes = replay_stream(trace, model.scenario, rng, len(model.residents))
        community = model.world.community_of_node
        for node in nodes.tolist():
            model.residents.append(Resident(model, node, int(community[node]), 0))
        return stream

    # -- base calls, on view ----------------------------------------------------------------
    def on_view_incidents(self) -> OnViewIncidents | None:
        """The base calls that are on-view incidents (None when no call type is)."""
        model = self.model
        if not any(t.on_view is not None for t in self.call_types):
            return None
        return OnViewIncidents(
            self.call_types,
            self.base_times[:-1],
            self.base_types,
            [model.residents[r].node for r in self.base_residents],
            model.streams.generator("on_view"),
            model.warmup_min,
        )

    def base_call(self, k: int) -> tuple[int, int, array]:
        """Base call ``k``: its type, its caller (resident index) and its draws.

        Draws are packed when the call is made (8 bytes a draw): as lists made up front
        they would hold ~0.5 KB per call for the whole run.
        """
        draws = array("d", self.stream.draws[k].tobytes())
        return self.base_types[k], self.base_residents[k], draws

    def on_base_call(self, k: int) -> None:
        """Base call ``k`` is due now (unless prevented, deterred, or an on-view incident)."""
        model = self.model
        type_index, resident_index, draws = self.base_call(k)
        resident = model.residents[resident_index]
        self.next_base = k + 1
        if self._prevention and self._prevented(type_index, resident, draws):
            return
        if model.deterrence is not None and model.deterrence.prevents(k, resident.node, model.time):
            return
        if model.incidents is not None and model.incidents.is_incident(k):
            t_report = model.incidents.begin(k)  # seen by a patrol, or reported later, or not
            if t_report < math.inf:
                model.events.schedule(t_report, Priority.CALL, self._on_incident_report, k)
            return
        # Ready at once rather than by an event due now: the loop runs a base call only when
        # no event is due by then, and ``receive`` schedules nothing else, so that event would
        # run next; a rule with an ``on_call`` hook might schedule one (then: the event)
        at_once = self._ready_at_once and not model.rules.acts_on_call
        call = self.receive(type_index, resident, draws, dispatch_it=not at_once)
        priority, service_min = self.stream.priority, self.stream.service_min
        if priority is not None and not math.isnan(priority[k]):  # a replay, as recorded
            call.priority = int(priority[k])
        if service_min is not None:
            call.recorded_service_min = float(service_min[k])
        if at_once:
            self._on_ready(call)

    def _on_incident_report(self, k: int) -> None:
        """Nobody on patrol saw on-view incident ``k``: someone reports it now."""
        if self.model.incidents.report(k):
            type_index, resident_index, draws = self.base_call(k)
            resident = self.model.residents[resident_index]
            self.receive(type_index, resident, draws, found_by="report")

    def take_on_view(self, unit: Unit, k: int) -> None:
        """A patrolling unit noticed on-view incident ``k`` where it is: it takes it at once."""
        model = self.model
        type_index, resident_index, draws = self.base_call(k)
        resident = model.residents[resident_index]
        call = self.receive(type_index, resident, draws, found_by="patrol", dispatch_it=False)
        now = model.time
        call.t_ready = call.t_assigned = now
        call.unit = unit
        call.units.append(unit)
        unit.call = call
        unit.set_state(UnitState.EN_ROUTE, now)  # no trip: it is there
        self.on_arrive((unit, unit.trip_id))
        if call.missing_units > 0:  # backups are dispatched as for a call
            model.dispatcher.ready(call, model.free_units())

    def _prevented(self, type_index: int, resident: Resident, draws: Sequence[float]) -> bool:
        """Bulletins' prevention effect (an assumption, off by default), from week 2 on."""
        model = self.model
        share = model.scenario.bulletins.prevention.get(self.call_types[type_index].name, 0.0)
        if share == 0.0 or model.time < MIN_PER_WEEK:
            return False
        has_office = any(
            p.kind == "office" and p.community == resident.community for p in model.posts.values()
        )
        return has_office and draws[_D["prevention"]] < share

    # -- the command room -------------------------------------------------------------------
    def receive(
        self,
        type_index: int,
        resident: Resident,
        draws: Sequence[float],
        repeat_of: Call | None = None,
        problem: int = -1,
        found_by: str = "call",
        dispatch_it: bool = True,
    ) -> Call:
        """A resident's call reaches the command room now (``PatrolModel.receive_call``).

        ``dispatch_it=False``: no ready event (nobody dispatches it, or the caller does).
        """
        model = self.model
        now = model.time
        priority, units_needed, officers_needed = self._needs[type_index]
        call = Call(  # by position, the rest set after: keywords cost a third more (measured)
            model.calls_made, type_index, priority, resident.community, resident.node,
            resident, now, draws,
        )  # fmt: skip
        call.first_type, call.problem, call.found_by = type_index, problem, found_by
        call.units_needed, call.officers_needed = units_needed, officers_needed
        if repeat_of is not None:
            first_id = repeat_of.id if repeat_of.repeat_of < 0 else repeat_of.repeat_of
            call.repeat_of, call.chain = first_id, repeat_of.chain + 1
        resident.calls_made += 1
        model.calls.append(call)
        model.calls_made += 1
        if model.spool is not None and len(model.calls) >= model.spool.due_at:
            model.calls = model.spool.take_finished(model)
        model.open_calls[call.id] = call
        call.mobilise_min = self._mobilise_min(draws[_MOBILISATION])
        delay = self._delay_min(draws[_DISPATCH_DELAY])
        if dispatch_it:
            model.events.schedule(now + delay, Priority.CALL, self._on_ready, call)
            if self._patience:
                self._schedule_patience(call)
        model.rules.on_call(call)
        return call

    def escalated(self, call: Call) -> None:
        """The call's type changed (escalation): the dispatcher sees its new priority."""
        if not math.isnan(call.t_ready):  # (not yet with the dispatcher: it will see it)
            self.model.dispatcher.reprioritise(call, self.model.free_units())

    def _on_ready(self, call: Call) -> None:
        if call.abandoned:
            return
        model = self.model
        call.t_ready = model.time
        if self._p_phone[call.type_index] > 0 and self._by_phone(call):
            return
        model.dispatcher.ready(call, model.free_units())
        if self._preempt and call.missing_units > 0:
            self._preempt_for(call)

    def schedule_borrow(self, call: Call, after_min: float) -> None:
        """Offer ``call`` to every free unit again ``after_min`` from now."""
        self.model.events.schedule(
            self.model.time + after_min, Priority.CALL, self._on_borrow_due, call
        )

    def _on_borrow_due(self, call: Call) -> None:
        self.model.dispatcher.borrow_due(call, self.model.free_units())

    # -- queue realism (issue 11; each off by default) --------------------------------------
    def _schedule_patience(self, call: Call) -> None:
        """The caller hangs up after a patience drawn now (stream ``patience``)."""
        model = self.model
        patience = model.scenario.calls.patience_min.quantile(self._patience_rng.random())
        model.events.schedule(model.time + patience, Priority.CALL, self._on_patience_out, call)

    def _on_patience_out(self, call: Call) -> None:
        if call.units or call.by_phone or not math.isnan(call.t_arrive):
            return  # a unit is on its way (or the call is closed): nobody hangs up
        call.abandoned = True
        self.model.dispatcher.queue.discard(call)
        self.model.open_calls.pop(call.id, None)

    def _by_phone(self, call: Call) -> bool:
        """The command room resolves the call by phone (stream ``command_room``)."""
        if self._phone_rng.random() >= self.call_types[call.type_index].p_command_room:
            return False
        call.by_phone = call.resolved = True
        call.t_clear = self.model.time
        self.model.open_calls.pop(call.id, None)
        return True

    def _preempt_for(self, call: Call) -> None:
        """Divert a unit from the least urgent single-unit job to this urgent call."""
        model = self.model
        if call.priority > model.scenario.dispatch.preempt_priority:
            return
        busy = (UnitState.EN_ROUTE, UnitState.ON_SCENE)
        victims = [
            u for u in model.units
            if u.state in busy and u.call.priority > call.priority
            and len(u.call.units) == 1 and u.call.missing_units == 0  # one unit, not waiting
        ]  # fmt: skip
        if not victims:
            return
        unit = max(victims, key=lambda u: (u.call.priority, u.call.t_ready))
        old, now = unit.call, model.time
        if unit.state == UnitState.ON_SCENE:
            old.remaining_min = max(0.0, old.clear_due - now)
        old.units.remove(unit)
        unit.call = None
        queue = model.dispatcher.queue
        queue.add(old)  # it waits again, in its place
        unit.set_state(UnitState.RETURNING, now)  # zero time: routed from where it is
        queue.discard(call)
        self.units.assign(call, unit)
        if call.missing_units > 0:
            queue.add(call)

    # -- at the scene -----------------------------------------------------------------------
    def on_arrive(self, arg: tuple[Unit, int]) -> None:
        """A unit reaches the scene (unless diverted meanwhile)."""
        unit, trip_id = arg
        if trip_id != unit.trip_id or unit.state != UnitState.EN_ROUTE:
            return  # diverted meanwhile (pre-emption)
        call, now = unit.call, self.model.time
        if math.isnan(call.t_arrive):  # the first unit on scene leads it, for service_min
            call.t_arrive = now
            call.unit = unit
            self.model.open_calls.pop(call.id, None)
            service = call.recorded_service_min
            if math.isnan(service):
                draw = call.draws[_SERVICE]
                service = self._service_min[call.type_index](draw)
            call.clear_due = now + service
        elif not math.isnan(call.remaining_min):  # a pre-empted scene resumes
            call.clear_due, call.remaining_min = now + call.remaining_min, math.nan
        unit.set_state(UnitState.ON_SCENE, now)
        self.model.events.schedule(max(now, call.clear_due), Priority.UNIT, self._on_clear, unit)

    def _on_clear(self, unit: Unit) -> None:
        call = unit.call
        model = self.model
        now = model.time
        if unit.state != UnitState.ON_SCENE or now < call.clear_due:
            return  # pre-empted meanwhile: this clearing is stale
        if unit is not call.unit:  # a backup unit leaves; the lead unit decides the outcome
            model.rules.on_unit_clear(call, unit)
            unit.call = None
            unit.calls_attended += 1
            self.units.done(unit)
            return
        call.t_clear = now
        if model.dispatcher.queue.discard(call):  # backups still awaited are not needed now
            call.units_needed, call.officers_needed = len(call.units), 0
        follow_up = model.rules.on_clear(call, unit)
        unit.call = None
        unit.calls_attended += 1
        if follow_up > 0:
            unit.set_state(UnitState.FOLLOW_UP, now)
            model.events.schedule(now + follow_up, Priority.UNIT, self.units.done, unit)
        else:
            self.units.done(unit)

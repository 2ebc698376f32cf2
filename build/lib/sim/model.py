"""The patrol model: a Mesa model driven by its own event queue, time in minutes.

Set-up, the event loop and results. The call's life and the unit's life are handlers in
``sim.lifecycle`` (one per event kind: it checks its precondition, changes state, records,
schedules); what a call achieves is decided by the outcome rules (``sim.outcomes.rules``).

Events sit in ``sim.events.EventQueue``, ordered by (time, priority, sequence), so runs are
deterministic and arrival times exact; base calls (drawn before the run) are merged in
without entering the heap. ``model.time`` is the simulated minute in every handler.
``model.step()`` advances one minute (for the browser app); ``model.run_until(t)`` and
``model.run()`` jump from event to event. Events a user schedules through Mesa
(``schedule_event``) run in time order with the model's own (``sim.mesa_adapter``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim import mesa_adapter
from sim.agents.availability import FreeUnits
from sim.agents.post import PostAgent
from sim.agents.resident import Resident, place_residents
from sim.agents.roster import Roster
from sim.agents.unit import Unit, UnitState, build_units
from sim.calls.call import Call
from sim.dispatch.dispatcher import Dispatcher
from sim.events import EventQueue, Priority, gc_paused
from sim.lifecycle.calls import CallLife
from sim.lifecycle.units import UnitLife
from sim.measures.health import health
from sim.measures.metrics import summarize
from sim.measures.records import RecordSpool, call_records
from sim.network.world import World, build_world
from sim.outcomes.community_work import CommunityWork
from sim.outcomes.resolution import Familiarity, expected_calls_per_day
from sim.outcomes.rules import Rules
from sim.patrol.deterrence import Deterrence
from sim.patrol.patroller import Patroller
from sim.registry import DISPATCH_POLICIES
from sim.scenarios.schema import Scenario
from sim.streams import Streams
from sim.travel import Travel


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
        self.travel = Travel.of_scenario(self.router, scenario)
        self.warmup_min = scenario.warmup_min
        self.horizon_min = scenario.horizon_min
        self.events = EventQueue()
        self.state_log: list | None = [] if log_states else None
        self.calls: list[Call] = []  # every call made (only the unfinished without keep_calls)
        self.calls_made = 0
        self.spool = None if keep_calls else RecordSpool()
        self.open_calls: dict[int, Call] = {}
        self.call_types = scenario.calls.types
        self._build_agents()
        self.unit_life = UnitLife(self)
        self.call_life = CallLife(self, self.unit_life)
        self.call_stream = self.call_life.stream  # the base calls, as drawn (or replayed)
        policy = DISPATCH_POLICIES[scenario.dispatch.policy]
        life = self.call_life
        self.dispatcher = Dispatcher(self, policy, self.unit_life.assign, life.schedule_borrow)
        self._build_parts()
        self.familiarity = Familiarity(
            scenario.outcomes.familiarity,
            self.units,
            len(scenario.communities),
            expected_calls_per_day(scenario),
        )
        self.community_work = CommunityWork(self)
        self.rules = Rules(self, scenario.outcomes.rules)

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
        self.units: list[Unit] = build_units(
            self, self.posts, sc.units, self.router, self.warmup_min, self.state_log
        )
        self.availability = FreeUnits(self.units)
        for unit in self.units:
            unit.availability = self.availability
        self.residents: list[Resident] = place_residents(
            self,
            [c.population for c in sc.communities],
            world.community_nodes,
            world.anchor_nodes,
            sc.residents.people_per_agent,
            self.streams.generator("residents"),
        )

    def _build_parts(self) -> None:
        """Shifts and duties, on-view incidents, deterrence and patrol; units start."""
        unit_life, streams = self.unit_life, self.streams
        self.roster = Roster(
            self,
            self.schedule,
            streams.generator("other_duty"),
            on_free=unit_life.now_idle,
            on_shift_start=unit_life.arrive_home,
            on_recall=unit_life.recall,
        )
        self.incidents = self.call_life.on_view_incidents()
        self.deterrence = (
            Deterrence(self.scenario.deterrence, self.router, len(self.call_life.base_types),
                       streams.generator("deterrence"))
            if self.scenario.deterrence.enabled
            else None
        )  # fmt: skip
        self.patroller = Patroller(
            self,
            go_home=unit_life.go_home,
            take_incident=self.call_life.take_on_view,
            incidents=self.incidents,
            on_stay=self.deterrence.stay if self.deterrence is not None else None,
        )
        for unit in self.units:
            self.roster.start(unit)
        for unit in self.units:
            if unit.state == UnitState.IDLE:
                self.patroller.on_idle(unit)

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
        heap, pop = self.events.heap, self.events.pop
        life = self.call_life
        base_times, on_base_call = life.base_times, life.on_base_call
        set_time = mesa_adapter.clock_setter(self)
        while True:
            t_base = base_times[life.next_base]
            if heap and heap[0][0] <= t_base:  # at equal times, the queue's events first
                if heap[0][0] > until_min:
                    break
                t, handler, arg = pop()
                set_time(t)
                handler(arg)
            elif t_base <= until_min:
                set_time(t_base)
                on_base_call(life.next_base)
            else:
                break

    def run(self) -> None:
        """Run to the end of the horizon and close the books.

        Python's cyclic garbage collector is paused meanwhile: a run makes many long-lived
        objects and almost no cyclic garbage, and the collector's repeated scans of the
        growing call list cost 10-20% of the run time (measured on erlang_c).
        """
        with gc_paused():
            self.run_until(self.horizon_min)
        for unit in self.units:
            unit.close_books(self.horizon_min)
        self.running = False

    # -- what the parts and extensions use ------------------------------------------------
    @property
    def queue(self):
        """Calls waiting for a unit, in dispatch order."""
        return self.dispatcher.queue

    def free_units(self) -> Sequence[Unit]:
        """Units that can take a call now, in a fixed order (read before any changes)."""
        return self.availability.view()

    def receive_call(self, type_index: int, resident: Resident, draws: Sequence[float],
                     repeat_of: Call | None = None, problem: int = -1, found_by: str = "call",
                     dispatch_it: bool = True) -> Call:  # fmt: skip
        """A resident's call reaches the command room now.

        ``found_by`` says how it became known (call, patrol, report); ``dispatch_it=False``:
        a job a unit found itself, on view, with no dispatch.
        """
        return self.call_life.receive(
            type_index, resident, draws, repeat_of, problem, found_by, dispatch_it
        )

    def escalated(self, call: Call) -> None:
        """The call's type changed (escalation): the dispatcher sees its new priority."""
        self.call_life.escalated(call)

    def unit_available(self, unit: Unit) -> None:
        """A unit at its post is done with other work (e.g. community work): as if home."""
        self.unit_life.arrive_home(unit)

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

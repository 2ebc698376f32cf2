"""The model is an honest Mesa model; the one adapter to Mesa internals says what it was checked on.

If this file fails after a Mesa upgrade, run it: the first test names the version, and the
others show whether the adapter (sim/mesa_adapter.py) still works; then widen CHECKED_MESA.
"""

from __future__ import annotations

import threading

import mesa
import pandas as pd
from mesa.experimental.mesa_signals import ObservableSignals, computed_property

import sim
from sim import mesa_adapter
from sim.agents.resident import Resident
from sim.agents.unit import Unit
from sim.events import Priority
from sim.network.world import build_world


def test_the_installed_mesa_is_one_the_adapter_was_checked_against():
    version = mesa.__version__
    assert version.startswith(mesa_adapter.CHECKED_MESA), (
        f"Mesa {version} is not among the versions sim/mesa_adapter.py was checked against "
        f"({mesa_adapter.CHECKED_MESA}): run tests/test_mesa_adapter.py and "
        "tests/test_model_trace.py, and add the version to CHECKED_MESA if they pass"
    )


class _Clock:
    def __init__(self, model):
        self.model, self.seen = model, []

    def handler(self, _):
        self.seen.append(self.model.time)

    def mesa_event(self):
        self.seen.append(("mesa", self.model.time))


def test_model_time_is_the_simulated_minute_in_every_handler():
    model = sim.PatrolModel(sim.load_scenario("erlang_c", days=1, reps=1))
    clock = _Clock(model)
    for t in (0.5, 7.25, 61.0):
        model.schedule(t, Priority.CALL, clock.handler, None)
    model.schedule_event(clock.mesa_event, at=30.0)  # Mesa's own scheduling works alongside
    model.run_until(100.0)
    assert clock.seen == [0.5, 7.25, ("mesa", 30.0), 61.0]
    assert model.time == 100.0
    model.step()
    assert model.time == 101.0 and model.steps == 1


def test_observers_of_the_clock_see_every_event_time():
    """With a subscriber, the event loop sets ``model.time`` through Mesa's observable."""
    model = sim.PatrolModel(sim.load_scenario("erlang_c", days=1, reps=1))
    seen = []

    def note(signal):  # Mesa keeps a weak reference to it: a named function stays alive
        seen.append(signal.additional_kwargs["new"])

    model.observe("time", ObservableSignals.CHANGED, note)
    for t in (0.5, 7.25):
        model.schedule(t, Priority.CALL, lambda _: None, None)
    model.run_until(10.0)
    assert [0.5, 7.25] == [t for t in seen if t in (0.5, 7.25)]
    assert seen[-1] == 10.0
    unobserved = sim.PatrolModel(sim.load_scenario("erlang_c", days=1, reps=1))
    clock = _Clock(unobserved)
    unobserved.schedule(3.5, Priority.CALL, clock.handler, None)
    unobserved.run_until(5.0)  # the quick setter: the same time in handlers, and after
    assert clock.seen == [3.5] and unobserved.time == 5.0


class _HourModel(sim.PatrolModel):
    @computed_property
    def hour(self):
        return int(self.time // 60)


def test_a_computed_property_of_the_clock_follows_it():
    """The quick clock reader hands over to Mesa's inside a computed property (dependency)."""
    model = _HourModel(sim.load_scenario("erlang_c", days=1, reps=1))
    assert model.hour == 0
    model.run_until(130.0)
    assert model.time == 130.0 and model.hour == 2
    model.time = 200.0  # set from outside: Mesa's setter, so the property is recomputed
    assert model.hour == 3


def test_agents_are_reachable_the_mesa_way_and_scenario_is_the_projects():
    model = sim.PatrolModel(sim.load_scenario("embedded", days=1))
    assert list(model.agents_by_type[Unit]) == model.units
    assert len(model.agents_by_type[Resident]) == len(model.residents)
    assert isinstance(model.scenario, sim.Scenario) and model.scenario.name == "embedded"


def test_two_models_in_two_threads_on_one_world_match_running_them_in_turn():
    """A world (network, router and its caches) is shared safely between models."""
    scenario = sim.load_scenario("central", days=7)
    world = build_world(scenario)
    alone = []
    for rep in (0, 1):
        model = sim.PatrolModel(scenario, replication=rep, world=world)
        model.run()
        alone.append(model.records())
    together: dict[int, pd.DataFrame] = {}

    def run(rep: int) -> None:
        model = sim.PatrolModel(scenario, replication=rep, world=world)
        model.run()
        together[rep] = model.records()

    threads = [threading.Thread(target=run, args=(rep,)) for rep in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for rep in (0, 1):
        pd.testing.assert_frame_equal(together[rep], alone[rep])

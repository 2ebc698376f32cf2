"""The small core's seams: one registry, outcome rules as plug-ins, one table of unit states."""

from __future__ import annotations

import pytest
from model_support import point_raw

import sim
from sim.agents.unit import TRANSITIONS, IllegalTransition, UnitState
from sim.calls.stream import rate_per_min
from sim.dispatch.policies import nearest, register_policy
from sim.errors import SimInputError
from sim.measures.censoring import unit_pools
from sim.model import PatrolModel
from sim.outcomes.resolution import expected_calls_per_day
from sim.outcomes.rules import OutcomeRule, register_rule, rule_order, shipped_rules
from sim.planning.hypercube import hypercube
from sim.registry import DISPATCH_POLICIES, OUTCOME_RULES, PATROL_POLICIES
from sim.scenarios.load import load_scenario, validate


@pytest.fixture
def registered():
    """Forget whatever a test registers."""
    before = {reg: set(reg.names()) for reg in (DISPATCH_POLICIES, PATROL_POLICIES, OUTCOME_RULES)}
    yield
    for reg, names in before.items():
        for name in set(reg.names()) - names:
            reg.unregister(name)


# -- one registry, read when a scenario is checked ---------------------------------------------
def test_a_scenario_may_name_a_policy_registered_after_the_schema_was_imported(registered):
    with pytest.raises(sim.SimInputError, match="unknown dispatch policy 'later'"):
        load_scenario("erlang_c", days=1, set={"dispatch.policy": "later"})
    register_policy("later", order="travel", pools="shared", office_units=True)(nearest)
    sc = load_scenario("erlang_c", days=1, set={"dispatch.policy": "later"})
    assert sc.dispatch.policy == "later"
    DISPATCH_POLICIES.unregister("later")
    with pytest.raises(sim.SimInputError, match="known: community_first, nearest, station_only"):
        load_scenario("erlang_c", days=1, set={"dispatch.policy": "later"})


def test_unknown_patrol_policies_and_rules_are_named_with_the_known_ones():
    with pytest.raises(sim.SimInputError, match=r"unknown patrol policy 'zigzag'.*hot_spots"):
        load_scenario("embedded", set={"units.0.patrol.policy": "zigzag"})
    with pytest.raises(sim.SimInputError, match="unknown outcome rule 'luck'"):
        load_scenario("embedded", set={"outcomes.rules": ["luck"]})
    with pytest.raises(sim.SimInputError, match="'repeats' always runs"):
        load_scenario("embedded", set={"outcomes.rules": ["repeats"]})


def test_planners_stop_on_a_policy_that_does_not_say_how_to_model_it(registered):
    register_policy("mystery")(nearest)
    sc = load_scenario("embedded", days=1, set={"dispatch.policy": "mystery"})
    with pytest.raises(SimInputError, match="hypercube cannot model dispatch policy 'mystery'"):
        hypercube(sc)
    with pytest.raises(SimInputError, match=r"offered load cannot model .* 'mystery'.*pools"):
        unit_pools(sc)


def test_policy_traits_give_the_pools_and_orders_the_shipped_names_had():
    sc = load_scenario("embedded")
    dispatch = sc.dispatch.model_copy(update={"borrow_after_min": None})
    never_borrows = sc.model_copy(update={"dispatch": dispatch})
    assert set(unit_pools(never_borrows)) == {g.post for g in never_borrows.units}  # offices
    assert list(unit_pools(load_scenario("embedded"))) == ["all units"]
    assert list(unit_pools(load_scenario("central"))) == ["all units"]
    assert DISPATCH_POLICIES.entry("station_only").traits["office_units"] is False


# -- one owner of unit states ------------------------------------------------------------------
def test_every_state_has_a_row_and_a_wrong_change_names_unit_states_and_minute():
    assert set(TRANSITIONS) == set(UnitState)
    model = PatrolModel(validate(point_raw(units=1, days=1)))
    unit = model.units[0]
    assert unit.state == UnitState.IDLE
    with pytest.raises(IllegalTransition, match=r"unit post#1: idle -> on_scene .*minute 12\.500"):
        unit.set_state(UnitState.ON_SCENE, 12.5)
    unit.set_state(UnitState.IDLE, 13.0)  # staying is always allowed
    unit.set_state(UnitState.EN_ROUTE, 13.0)


def test_runs_make_only_allowed_changes_and_the_log_shows_them():
    sc = load_scenario("central", days=2, set={"warmup_days": 0, "dispatch.preempt_priority": 1})
    model = PatrolModel(sc, log_states=True)
    model.run()  # set_state raises on any change the table does not allow
    seen = {(old, new) for _, _, old, new, _ in model.state_log}
    assert (UnitState.EN_ROUTE, UnitState.ON_SCENE) in seen
    assert all(new in TRANSITIONS[old] for old, new in seen)


def test_patrol_plans_live_with_the_patroller_not_the_unit():
    model = PatrolModel(load_scenario("embedded", days=1))
    model.run()
    unit = model.units[0]
    assert not hasattr(unit, "route_stop") and not hasattr(unit, "tour_position")
    riding = model.patroller.state_of(unit).riding  # its leg along its tour, if on it
    left_at = model.patroller.tour_of(unit).frontier  # where the last unit left the tour
    assert (riding is not None and riding.start > 0) or left_at > 0  # it patrolled its tour


# -- outcome rules -----------------------------------------------------------------------------
def test_the_shipped_rules_run_in_order_and_a_new_one_goes_where_it_asks(registered):
    assert shipped_rules() == (
        "escalation", "resolution", "community_work", "repeats", "familiarity", "follow_up",
    )  # fmt: skip

    @register_rule("early", before="repeats")
    class Early(OutcomeRule):
        pass

    @register_rule("late")
    class Late(OutcomeRule):
        pass

    assert rule_order(["late", "early"]) == [
        "escalation", "resolution", "community_work", "early", "repeats", "familiarity",
        "follow_up", "late",
    ]  # fmt: skip


def test_a_new_rule_drawing_from_its_own_stream_shifts_no_other(registered):
    drawn = []

    @register_rule("coin")
    class Coin(OutcomeRule):
        def on_clear(self, call, unit):
            drawn.append(self.rng.random())

    base = sim.PatrolModel(load_scenario("central", days=3))
    base.run()
    with_rule = sim.PatrolModel(load_scenario("central", days=3, set={"outcomes.rules": ["coin"]}))
    with_rule.run()
    assert len(drawn) > 50 and len(set(drawn)) == len(drawn)
    assert with_rule.records().equals(base.records())


def test_a_rule_that_lowers_the_repeat_chance_lowers_repeats_and_nothing_else(registered):
    @register_rule("no_repeats_after_a_solved_call", before="repeats")
    class Calm(OutcomeRule):
        def on_clear(self, call, unit):
            call.repeat_factor = 0.0

    def run(rules):
        sc = load_scenario("central", days=14, set={"outcomes.rules": rules})
        model = sim.PatrolModel(sc)
        model.run()
        return model.records()

    before, after = run([]), run(["no_repeats_after_a_solved_call"])
    assert (before["repeat_of"] >= 0).sum() > 10
    assert (after["repeat_of"] >= 0).sum() == 0
    first = after[after["t_call"] < before.loc[before["repeat_of"] >= 0, "t_call"].min()]
    assert first.equals(before.iloc[: len(first)])  # the same run up to the first repeat
    columns = ["t_call", "type", "node"]  # the base calls stay the same calls
    firsts = before.loc[before["repeat_of"].isna(), columns].reset_index(drop=True)
    assert after[columns].reset_index(drop=True).equals(firsts)


@pytest.mark.parametrize("network", ["point", "synthetic"])
def test_calls_ready_at_once_are_dispatched_as_by_their_ready_event(registered, network):
    """No dispatch delay: a base call is dispatched at once, not by an event due that minute.

    A rule with an ``on_call`` hook sends every call through its event again: the records
    are the same, call for call (a busy queue, two-unit calls, units sent from the road).
    """
    noted = []

    @register_rule("noted")
    class Noted(OutcomeRule):
        def on_call(self, call):
            noted.append(call.id)

    raw = point_raw(units=3, rate_per_hour=3.5, days=20, warmup_days=1, replications=1)
    raw["calls"]["types"].append(
        {"name": "pair", "share": 0.3, "priority": 2, "service_min": 30, "units_needed": 2}
    )
    if network == "synthetic":
        raw["network"] = {"kind": "synthetic", "width_km": 2.0, "height_km": 2.0, "seed": 1}
        raw["communities"] = [{"name": c, "population": 5000} for c in "AB"]
        raw["posts"] = [{"name": c, "kind": "office", "community": c} for c in "AB"]
        raw["units"] = [{"post": c, "count": 2} for c in "AB"]
    at_once = PatrolModel(validate(raw, "<at once>"))
    at_once.run()
    raw["outcomes"] = {"rules": ["noted"]}
    by_event = PatrolModel(validate(raw, "<by event>"))
    by_event.run()
    assert len(noted) == by_event.calls_made > 500  # every call made by the rule's model
    assert by_event.events.scheduled - at_once.events.scheduled == len(noted)  # one event each
    assert at_once.records().equals(by_event.records())


# -- one call-rate conversion ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["central", "erlang_c"])
def test_familiarity_expects_the_calls_the_stream_makes(name):
    sc = load_scenario(name)
    people = [c.population for c in sc.communities]
    per_day = expected_calls_per_day(sc)
    assert sum(per_day) == pytest.approx(rate_per_min(sc.calls, sum(people)) * 1440, rel=1e-12)
    weekly = sc.calls.rate_per_1000_residents_per_week
    if weekly is not None:  # as familiarity's own formula had it, to the last bit
        assert per_day == [weekly * p / 1000 / 7 for p in people]

"""Invariants on small random scenarios (hypothesis)."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sim.agents.unit import UnitState
from sim.calls.stream import DRAWS
from sim.model import PatrolModel
from sim.scenarios.load import validate

_D = {name: i for i, name in enumerate(DRAWS)}
POLICIES_IN_ORDER = ("nearest", "station_only")  # + community_first with borrow 0


@st.composite
def scenarios(draw, backups: bool = False):
    n_comm = draw(st.integers(1, 3))
    names = [f"c{i}" for i in range(n_comm)]
    policy = draw(st.sampled_from(["nearest", "community_first", "station_only"]))
    borrow = draw(st.sampled_from([0.0, 4.0, None])) if policy == "community_first" else 0.0
    offices = draw(st.booleans()) or policy == "community_first"
    posts = [{"name": "station", "kind": "station", "at": {"x": 0, "y": 0}}]
    if offices:
        posts += [{"name": f"office {n}", "kind": "office", "community": n} for n in names]
    units = []
    for post in posts:
        count = draw(st.integers(0 if len(posts) > 1 else 1, 2))
        if count == 0:
            continue
        group = {"post": post["name"], "count": count}
        if draw(st.booleans()):
            group["other_duty"] = {
                "share": draw(st.sampled_from([0.2, 0.5])),
                "block_min": {"dist": "exponential", "mean": draw(st.sampled_from([30, 120]))},
            }
        if draw(st.booleans()):
            group["shift"] = {
                "start_hour": draw(st.sampled_from([0, 6.5, 20])),
                "hours": draw(st.sampled_from([8, 12])),
            }
        units.append(group)
    if not units:
        units = [{"post": "station", "count": 1}]
    services = [
        {"dist": "exponential", "mean": 30},
        {"dist": "lognormal", "median": 20, "p90": 60},
        {"dist": "fixed", "value": 25},
    ]
    types = [
        {
            "name": f"t{k}",
            "share": draw(st.sampled_from([1, 2, 3])),
            "priority": draw(st.integers(1, 3)),
            "service_min": draw(st.sampled_from(services)),
        }
        for k in range(draw(st.integers(1, 3)))
    ]
    if backups and sum(u["count"] for u in units) >= 2 and draw(st.booleans()):
        types[-1]["units_needed"] = 2  # a backup unit too
    if draw(st.booleans()):  # outcomes: resolution, repeats, escalation, case work
        for t in types:
            t["p_familiar"], t["p_unfamiliar"] = 0.8, 0.3
            t["criminal"] = draw(st.booleans())
            t["repeat"] = {"probability": 0.8, "delay_days": {"dist": "fixed", "value": 0.2}}
        types[0]["escalation"] = {"to": types[-1]["name"], "probability": 0.5,
                                  "after_min": {"dist": "fixed", "value": 3}}  # fmt: skip
    return {
        "name": "random",
        "days": draw(st.sampled_from([1, 2, 3])),
        "warmup_days": draw(st.sampled_from([0, 0.5])),
        "seed": draw(st.integers(0, 2**31)),
        "network": {
            "kind": "synthetic",
            "width_km": draw(st.sampled_from([0.6, 1.0])),
            "height_km": draw(st.sampled_from([0.5, 0.8])),
            "seed": draw(st.integers(0, 3)),
        },
        "communities": [{"name": n, "population": draw(st.integers(500, 5000))} for n in names],
        "posts": posts,
        "units": units,
        "calls": {
            "rate_per_hour": draw(st.sampled_from([0.5, 3.0, 8.0])),
            "hourly_profile": draw(st.sampled_from(["flat", "default"])),
            "types": types,
        },
        "dispatch": {
            "policy": policy,
            "borrow_after_min": borrow,
            "delay_min": draw(st.sampled_from([0, {"dist": "uniform", "low": 0.5, "high": 2}])),
            "mobilisation_min": draw(st.sampled_from([0, 1])),
        },
    }


def _run(raw: dict) -> tuple[PatrolModel, Counter, Counter, dict]:
    """Run, then read every assignment, arrival and clearance per unit from the state log."""
    model = PatrolModel(validate(raw, "<hypothesis>"), log_states=True)
    model.run()
    assigned, arrived, log = Counter(), Counter(), {}
    on_scene: dict = {}  # unit -> the call it is on scene for
    for t, unit, old, new, call_id in model.state_log:
        if new == UnitState.EN_ROUTE:
            assigned[call_id] += 1
            log.setdefault(unit, []).append(("assign", call_id, t))
        elif new == UnitState.ON_SCENE:
            arrived[call_id] += 1
            on_scene[unit] = call_id
            log.setdefault(unit, []).append(("arrive", call_id, t))
        if old == UnitState.ON_SCENE and new != UnitState.ON_SCENE:
            log.setdefault(unit, []).append(("clear", on_scene.pop(unit), t))
    return model, assigned, arrived, log


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # the same examples every run (CI must not flake)
)
@given(scenarios())
def test_invariants(raw):
    check_invariants(raw)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(scenarios(backups=True))
def test_invariants_with_backup_units(raw):
    check_invariants(raw)


def check_invariants(raw: dict) -> None:
    model, assigned, arrived, log = _run(raw)
    sc = model.scenario
    calls = model.calls
    event(f"calls: {'>=100' if len(calls) >= 100 else '<100'}")
    event(f"queued calls: {'>=10' if sum(c.queued for c in calls) >= 10 else '<10'}")
    event(f"policy: {sc.dispatch.policy}")
    # repeats follow an unanswered-or-unresolved first call; escalations only before arrival
    for c in calls:
        if c.repeat_of >= 0:
            first = calls[c.repeat_of]
            assert first.repeat_of < 0 and first.t_call < c.t_call and not first.resolved
        if c.escalated:
            assert model.call_types[c.first_type].escalation is not None
    # every call is answered at most once: at most one unit each (or units_needed)
    for c in calls:
        assert assigned[c.id] == len(c.units) <= c.units_needed
        assert arrived[c.id] <= len(c.units) and len(set(map(id, c.units))) == len(c.units)
        assert (arrived[c.id] > 0) == (not math.isnan(c.t_arrive))
        if c.units:
            assert any(c.unit is u for u in c.units)  # the lead: first assigned, then on scene

    # no unit attends two calls at overlapping times: assign, arrive, clear, then the next
    for events in log.values():
        times = [t for *_, t in events]
        assert times == sorted(times)
        for k, (kind, call_id, _) in enumerate(events):
            assert kind == ("assign", "arrive", "clear")[k % 3], events
            assert call_id == events[k - k % 3][1]

    for c in calls:
        ct = model.call_types[c.type_index]
        if not math.isnan(c.t_ready):
            delay = sc.dispatch.delay_min.quantile(c.draws[_D["dispatch_delay"]])
            assert c.t_ready == c.t_call + delay
        if not math.isnan(c.t_assigned):
            assert c.t_assigned >= c.t_ready >= c.t_call
            assert c.unit is not None
            if not c.queued:
                assert c.t_assigned == c.t_ready
        else:
            assert c.unit is None and math.isnan(c.t_arrive)
        if not math.isnan(c.t_arrive):
            assert c.t_arrive >= c.t_assigned
        if not math.isnan(c.t_clear):
            service = ct.service_min.quantile(c.draws[_D["service"]])  # of the final type
            assert math.isclose(c.t_clear - c.t_arrive, service, rel_tol=1e-9, abs_tol=1e-9)
        assert c.t_call < model.horizon_min

    # and, per lead unit that was also the first assigned (so t_assigned is its own), its
    # jobs follow one another in the records too
    by_unit: dict[int, list] = {}
    for c in calls:
        if c.unit is not None and c.unit is c.units[0]:
            by_unit.setdefault(id(c.unit), []).append(c)
    for jobs in by_unit.values():
        jobs.sort(key=lambda c: c.t_assigned)
        for prev, nxt in itertools.pairwise(jobs):
            assert not math.isnan(prev.t_clear), "re-assigned before clearing its call"
            assert nxt.t_assigned >= prev.t_clear

    # time per state sums to the simulated (post warm-up) time
    for unit in model.units:
        assert unit.state_min.min() >= 0
        assert math.isclose(unit.state_min.sum(), sc.days * 1440.0, rel_tol=1e-9)
        if unit.group.shift is None:
            assert unit.state_min[UnitState.OFF_SHIFT] == 0
        if unit.group.other_duty.share == 0:
            assert unit.state_min[UnitState.OTHER_DUTY] == 0
        if not any(t.criminal for t in sc.calls.types):
            assert unit.state_min[UnitState.FOLLOW_UP] == 0

    # calls waiting together are answered in priority order, then first come first served,
    # whenever any freed unit may take any waiting call (not so for community_first with a
    # borrowing threshold, where a unit may only take its own community's calls)
    ordered = sc.dispatch.policy in POLICIES_IN_ORDER or sc.dispatch.borrow_after_min == 0
    if ordered:
        waited = [c for c in calls if c.queued and not c.escalated]  # same priority throughout
        for a in waited:
            for b in waited:
                if a.queue_key >= b.queue_key:
                    continue
                a_end = a.t_assigned if not math.isnan(a.t_assigned) else math.inf
                b_end = b.t_assigned if not math.isnan(b.t_assigned) else math.inf
                if max(a.t_ready, b.t_ready) < min(a_end, b_end):  # both waiting at once
                    assert a_end <= b_end, (a.queue_key, a_end, b.queue_key, b_end)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(scenarios())
def test_no_call_waits_while_a_unit_that_may_take_it_is_free(raw):
    """Work conservation, checked after every event time (nearest: any free unit will do)."""
    raw["dispatch"]["policy"] = "nearest"
    model = PatrolModel(validate(raw, "<hypothesis>"))
    while (t_next := model.events.next_time_min()) <= model.horizon_min:
        model.run_until(t_next)
        if model.queue:
            assert list(model.free_units()) == [], (model.time, [u.state for u in model.units])
    assert np.all(np.isfinite([c.t_call for c in model.calls]))

"""Exact event traces on a hand-built five-node network, every time computed by hand.

Network (node ids; edge times in seconds; ``->`` one-way)::

    10 ==> 11   two parallel edges, 120 s and 60 s (the router must take 60 s)
    11 --> 10   60 s
    11 --> 12   60 s, one-way: there is no 12 -> 11
    12 --> 13   90 s
    13 --> 11   90 s   (so 12 -> 11 goes round by 13: 3 min)
    12 <-> 14   240 s each way

Travel times in minutes: 10->12 2, 12->10 4, 10->13 3.5, 14->12 4, 14->13 5.5, 13->14 6.5,
12->10 4, 14->11 7, 10->11 1, 11->10 1, 14->10 8, 10->14 6, 11->14 5.

Unit A is based at 10, unit B at 14. Calls are forced at chosen times with
``model.receive_call``; dispatch delay 1 min, mobilisation 0.5 min (from a post only),
on-scene time 10 min.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from model_support import save_graph

from sim.agents.unit import UnitState
from sim.calls.stream import DRAWS as CALL_DRAWS
from sim.events import Priority
from sim.measures.records import call_records
from sim.model import PatrolModel
from sim.network.world import build_world
from sim.scenarios.load import validate

IDS = [10, 11, 12, 13, 14]
COORDS = {10: (0, 0), 11: (600, 0), 12: (1200, 0), 13: (900, 500), 14: (2400, 0)}
EDGES = [
    (10, 11, 120.0),
    (10, 11, 60.0),
    (11, 10, 60.0),
    (11, 12, 60.0),
    (12, 13, 90.0),
    (13, 11, 90.0),
    (12, 14, 240.0),
    (14, 12, 240.0),
]
DRAWS = np.full(len(CALL_DRAWS), 0.5)  # fixed distributions ignore them; all resolved


@pytest.fixture(scope="module")
def network_path(tmp_path_factory):
    return save_graph(tmp_path_factory.mktemp("trace") / "five.graphml", COORDS, EDGES)


def trace_raw(network_path, **dispatch) -> dict:
    return {
        "name": "trace",
        "days": 0.1,  # 144 minutes
        "warmup_days": 0,
        "seed": 3,
        "network": {"kind": "graphml", "path": str(network_path)},
        "communities": [{"name": f"n{i}", "population": 100, "at": {"node": i}} for i in IDS],
        "posts": [
            {"name": "A", "kind": "station", "at": {"node": 10}},
            {"name": "B", "kind": "station", "at": {"node": 14}},
        ],
        "units": [{"post": "A"}, {"post": "B"}],
        "calls": {
            "rate_per_hour": 0,  # no calls of its own: the test makes them
            "hourly_profile": "flat",
            "types": [
                {"name": "routine", "share": 1, "priority": 2, "service_min": 10},
                {"name": "urgent", "share": 1, "priority": 1, "service_min": 10},
            ],
        },
        "dispatch": {"policy": "nearest", "delay_min": 1, "mobilisation_min": 0.5, **dispatch},
    }


def call_at(model: PatrolModel, t: float, node: int, type_index: int = 0):
    model.run_until(t)
    assert model.time == t
    resident = next(r for r in model.residents if model.router.node_ids[r.node] == node)
    return model.receive_call(type_index, resident, DRAWS.copy())


def test_router_on_the_hand_built_network(network_path):
    world = build_world(validate(trace_raw(network_path), "<trace>"))
    r = world.router
    i = r.index
    expected = {
        (10, 11): 1, (11, 10): 1, (10, 12): 2, (12, 10): 4, (12, 11): 3, (10, 13): 3.5,
        (14, 12): 4, (14, 13): 5.5, (13, 14): 6.5, (14, 11): 7, (14, 10): 8, (10, 14): 6,
        (11, 14): 5, (13, 10): 2.5,
    }  # fmt: skip
    for (a, b), minutes in expected.items():
        assert r.time(i[a], i[b]) == pytest.approx(minutes), (a, b)
    assert [r.node_ids[n] for n in r.path(i[12], i[10])] == [12, 13, 11, 10]
    # every node is its own community, and posts sit where they were put
    assert [r.node_ids[a] for a in world.anchor_nodes] == IDS
    assert {k: r.node_ids[v] for k, v in world.post_nodes.items()} == {"A": 10, "B": 14}


def test_exact_trace(network_path):
    model = PatrolModel(validate(trace_raw(network_path), "<trace>"))
    assert model.calls == [] and len(model.events) == 0
    a, b = model.units
    assert (a.label, b.label) == ("A#1", "B#1")
    ids = model.router.node_ids

    model.step()  # one minute, nothing happens
    assert model.time == 1.0 and model.steps == 1
    assert a.state == b.state == UnitState.IDLE

    c0 = call_at(model, 10.0, 12)  # A: 2 min (+0.5 mobilising) beats B: 4 min
    model.run_until(24.0)
    # A cleared at 23.5 and drives home 12 -> 13 -> 11 -> 10 (one-way street), home at 27.5
    assert a.state == UnitState.RETURNING
    assert [ids[n] for n in a.route().nodes] == [12, 13, 11, 10]
    assert a.trip.t_arrive_min == pytest.approx(27.5)
    c1 = call_at(model, 24.2, 11)  # ready at 25.2
    model.run_until(25.1)  # 1.6 min into the drive: 0.1 min along the 1.5-min edge 13 -> 11
    assert a.state == UnitState.RETURNING and c1.unit is None
    frac = 0.1 / 1.5
    assert a.xy(25.1) == pytest.approx((900 + frac * (600 - 900), 500 + frac * (0 - 500)))
    # at 25.2 A is 0.2 min along 13 -> 11 with 1.3 min to go, then 0 travel; B needs 7 min.
    # A is re-dispatched from the road: it finishes its edge, no mobilisation, arrives 26.5.
    model.run_until(25.2)
    assert c1.unit is a and not c1.queued and a.state == UnitState.EN_ROUTE
    assert c1.t_assigned == pytest.approx(25.2)
    assert a.trip.t_arrive_min == pytest.approx(26.5)
    # while it finishes that edge, its position is still interpolated along the old route
    frac = 0.3 / 1.5
    assert a.xy(25.3) == pytest.approx((900 + frac * (600 - 900), 500 + frac * (0 - 500)))

    c2 = call_at(model, 40.0, 13)  # A (home at 37.5): 3.5 min; B: 5.5 -> A
    c3 = call_at(model, 41.5, 12)  # only B is free: 4 min
    c4 = call_at(model, 43.0, 10)  # ready 44: nobody free, queued
    c5 = call_at(model, 50.0, 14, type_index=1)  # urgent, ready 51: queued ahead of c4
    c6 = call_at(model, 52.0, 11)  # routine, ready 53: queued behind c4
    model.run_until(54.0)
    assert [c.id for c in model.queue] == [c5.id, c4.id, c6.id]
    model.run()

    expected = {
        # call: (t_call, t_ready, t_assigned, t_arrive, t_clear, unit, queued)
        c0.id: (10.0, 11.0, 11.0, 13.5, 23.5, "A#1", False),
        c1.id: (24.2, 25.2, 25.2, 26.5, 36.5, "A#1", False),
        c2.id: (40.0, 41.0, 41.0, 45.0, 55.0, "A#1", False),
        c3.id: (41.5, 42.5, 42.5, 47.0, 57.0, "B#1", False),
        # A clears c2 at 13 at 55.0 and takes the urgent c5 from there: 13 -> 14, 6.5 min
        c5.id: (50.0, 51.0, 55.0, 61.5, 71.5, "A#1", True),
        # B clears c3 at 12 at 57.0 and takes c4: 12 -> 10, 4 min
        c4.id: (43.0, 44.0, 57.0, 61.0, 71.0, "B#1", True),
        # B clears c4 at 10 at 71.0 (before A at 71.5) and takes c6: 10 -> 11, 1 min
        c6.id: (52.0, 53.0, 71.0, 72.0, 82.0, "B#1", True),
    }
    records = call_records(model).set_index("id")
    assert sorted(records.index) == sorted(expected)
    for cid, (t_call, t_ready, t_assigned, t_arrive, t_clear, unit, queued) in expected.items():
        row = records.loc[cid]
        got = (row.t_call, row.t_ready, row.t_assigned, row.t_arrive, row.t_clear)
        assert got == pytest.approx((t_call, t_ready, t_assigned, t_arrive, t_clear)), cid
        assert (row.unit, bool(row.queued)) == (unit, queued), cid
        assert row.travel_min == pytest.approx(t_arrive - t_assigned)
        assert row.response_min == pytest.approx(t_arrive - t_call)
        assert row.unit_post == unit[0]
        assert bool(row.resolved)
    assert records.loc[c5.id, "priority"] == 1 and records.loc[c4.id, "type"] == "routine"
    assert records.loc[c5.id, "node"] == "14"

    # A drives home from 14 after c5 (71.5 + 8 = 79.5); B from 11 (82 + 5 = 87)
    assert a.state == b.state == UnitState.IDLE
    assert a.node == a.post.node and b.node == b.post.node
    # time per state, by hand (minutes): A and B over the 144-minute horizon
    s = UnitState
    want_a = {s.IDLE: 11 + 3.5 + 64.5, s.EN_ROUTE: 2.5 + 1.3 + 4 + 6.5, s.ON_SCENE: 40,
              s.RETURNING: 1.7 + 1 + 8}  # fmt: skip
    want_b = {s.IDLE: 42.5 + 57, s.EN_ROUTE: 4.5 + 4 + 1, s.ON_SCENE: 30, s.RETURNING: 5}
    for unit, want in [(a, want_a), (b, want_b)]:
        got = {st: unit.state_min[st] for st in want}
        assert got == pytest.approx(want), unit.label
        assert unit.state_min.sum() == pytest.approx(144.0)
        assert unit.calls_attended == (4 if unit is a else 3)


@pytest.mark.parametrize(
    ("threshold", "t_call"),
    [
        (2.5, 8.0),  # (t + 2.5) - t == 2.5 exactly in floating point
        (2.1, 10.0),  # (10 + 2.1) - 10 == 2.0999999999999996 < 2.1: borrowed all the same
    ],
)
def test_community_first_borrows_after_the_threshold(network_path, threshold, t_call):
    """Own unit busy, the other unit idle: the call waits exactly ``borrow_after_min``."""
    raw = trace_raw(network_path, policy="community_first", borrow_after_min=threshold)
    raw["posts"] = [
        {"name": "A", "kind": "office", "community": "n10", "at": {"node": 10}},
        {"name": "B", "kind": "office", "community": "n14", "at": {"node": 14}},
    ]
    raw["dispatch"]["delay_min"] = 0
    model = PatrolModel(validate(raw, "<trace>"))
    a, b = model.units
    first = call_at(model, 5.0, 10)  # A's own community: A, 0 min + 0.5 mobilising
    model.run_until(5.0)
    assert first.unit is a and a.trip.t_arrive_min == pytest.approx(5.5)  # clears at 15.5
    second = call_at(model, t_call, 10)  # A is busy until 15.5: wait for it, or borrow B
    model.run_until(t_call)
    assert second.queued and second.unit is None and b.state == UnitState.IDLE
    model.run_until(t_call + threshold + 1.0)
    assert second.unit is b
    assert second.t_assigned == pytest.approx(t_call + threshold)
    model.run_until(t_call + threshold + 9.0)
    assert second.t_arrive == pytest.approx(t_call + threshold + 0.5 + 8.0)  # 14 -> 10: 8 min


def test_community_first_never_borrows_with_null_threshold(network_path):
    raw = trace_raw(network_path, policy="community_first", borrow_after_min=None)
    raw["posts"] = [
        {"name": "A", "kind": "office", "community": "n10", "at": {"node": 10}},
        {"name": "B", "kind": "office", "community": "n14", "at": {"node": 14}},
    ]
    model = PatrolModel(validate(raw, "<trace>"))
    a, b = model.units
    first = call_at(model, 5.0, 10)  # ready 6, A arrives 6.5, clears 16.5
    # ready 8; B idle all along, never borrowed. A clears at its own post, so it is idle
    # there and mobilises again (0.5 min): on scene at 17.0
    second = call_at(model, 7.0, 10)
    orphan = call_at(model, 8.0, 12)  # community n12 has no unit of its own: never answered
    model.run()
    assert first.unit is a and second.unit is a
    assert second.t_assigned == pytest.approx(16.5) and second.t_arrive == pytest.approx(17.0)
    assert orphan.unit is None and orphan.queued and math.isnan(orphan.t_assigned)
    assert b.state_min[UnitState.IDLE] == pytest.approx(144.0)


def test_nearest_counts_mobilisation_when_ranking(network_path):
    """DESIGN 3.5: travel time = network time + mobilisation, so a unit already on the road
    (no mobilisation) beats an idle unit whose network time is shorter but which must first
    mobilise."""
    raw = trace_raw(network_path)
    raw["dispatch"]["mobilisation_min"] = 3.0
    model = PatrolModel(validate(raw, "<trace>"))
    a, b = model.units
    call_at(model, 0.0, 10)  # ready 1: A, 0 min + 3 mobilising: on scene 4..14
    c_b = call_at(model, 0.5, 13)  # ready 1.5: only B: 5.5 + 3 -> on scene 10..20
    model.run_until(19.2)
    assert c_b.unit is b and c_b.t_arrive == pytest.approx(10.0)  # clears at 20.0
    assert a.state == UnitState.IDLE  # home since 14.0
    c = call_at(model, 19.2, 12)  # ready 20.2
    # B drives home 13 -> 11 -> 12 -> 14; at 20.2 it is 1.3 min from 11, then 1 min to 12:
    # on scene at 22.5. A: 2 min away but 3 to mobilise: on scene at 25.2.
    model.run_until(30.0)
    assert c.unit is b
    assert c.t_arrive == pytest.approx(22.5)


class _Probe:
    def __init__(self, model):
        self.model, self.seen = model, []

    def fire(self):
        self.seen.append((self.model.time, len(self.model.calls)))


def test_user_scheduled_mesa_events_run_in_time_order(network_path):
    model = PatrolModel(validate(trace_raw(network_path), "<trace>"))
    probe = _Probe(model)
    model.schedule_event(probe.fire, at=30.0)
    model.schedule(20.0, Priority.CALL, lambda _: model.calls.append(None), None)  # at 20
    model.schedule(35.0, Priority.CALL, lambda _: model.calls.append(None), None)  # and 35
    model.run_until(40.0)
    assert probe.seen == [(30.0, 1)]  # at 30: after the event at 20, before 35
    assert model.time == 40.0


def test_a_unit_is_not_sent_twice_to_the_same_call(network_path):
    raw = trace_raw(network_path)
    raw["calls"]["types"] += [
        {"name": "big", "share": 1, "priority": 1, "service_min": 10, "units_needed": 2},
        {"name": "long", "share": 1, "priority": 3, "service_min": 30},
    ]
    model = PatrolModel(validate(raw, "<trace>"))
    a, b = model.units
    long_call = call_at(model, 0.0, 14, type_index=3)  # B: on scene 1.5 .. 31.5
    big = call_at(model, 0.5, 10, type_index=2)  # ready 1.5: A on scene 2.0; B busy
    model.run_until(12.5)  # A cleared the big call at 12.0, at its own post
    assert long_call.unit is b and big.unit is a and big.queued
    assert big.t_clear == pytest.approx(12.0)
    model.run()
    assert len({id(u) for u in big.units}) == len(big.units), "the same unit sent twice"
    assert big.t_clear == pytest.approx(12.0)  # not cleared a second time
    assert a.calls_attended == 1

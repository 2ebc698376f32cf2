"""Patrol: exact traces, closed forms and the Kansas City null result (DESIGN 3.9)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from model_support import save_graph

import sim
from sim.agents.unit import UnitState
from sim.scenarios.load import validate


def _run(raw: dict) -> sim.PatrolModel:
    model = sim.PatrolModel(validate(raw, "<patrol test>"))
    model.run()
    return model


# -- random patrol on a regular grid: Larson's patrol frequency ---------------------------
def _torus(tmp_path, side: int, seconds: float):
    nodes = {r * side + c: (c * 200.0, r * 200.0) for r in range(side) for c in range(side)}
    edges = []
    for r in range(side):
        for c in range(side):
            here, right, down = r * side + c, r * side + (c + 1) % side, ((r + 1) % side) * side + c
            edges += [(here, right, seconds), (right, here, seconds)]
            edges += [(here, down, seconds), (down, here, seconds)]
    return save_graph(tmp_path / "torus.graphml", nodes, edges), 2 * side * side


def _patrol_only(network, units: int, patrol: dict, days: float = 8) -> dict:
    return {
        "name": "patrol",
        "days": days,
        "warmup_days": 1,
        "network": {"kind": "graphml", "path": str(network)},
        "communities": [{"name": "all", "population": 1000}],
        "posts": [{"name": "station", "kind": "station", "at": {"node": 0}}],
        "units": [{"post": "station", "count": units, "patrol": patrol}],
        "calls": {"rate_per_hour": 0, "types": [{"name": "t", "share": 1, "service_min": 10}]},
    }


@pytest.mark.parametrize("units", [1, 3])
def test_mean_time_between_passes_is_m_tau_over_k(tmp_path, units):
    network, segments = _torus(tmp_path, side=6, seconds=60.0)  # tau = 1 minute
    always = {"policy": "random", "share": 1.0, "stint_min": 1e9}
    patrol = _run(_patrol_only(network, units, always)).summary()["patrol"]
    expected = segments * 1.0 / units
    assert patrol["min_between_passes"] == pytest.approx(expected, rel=0.002)
    assert patrol["units_patrolling"] == units


def test_the_tour_covers_every_street_alike(tmp_path):
    network, segments = _torus(tmp_path, side=6, seconds=60.0)
    model = _run(_patrol_only(network, 1, {"policy": "random", "share": 1.0, "stint_min": 1e9}))
    passes, _ = model.patroller.coverage.passes_and_shifts()
    assert len(passes) == segments and passes.min() > 0
    assert passes.max() <= 2 * passes.min()  # a lap passes every street once, a few twice
    # one unit passes 480 streets in an 8-hour shift: every one of the 72, every shift
    assert model.summary()["patrol"]["segments_passed_per_shift"] == pytest.approx(1.0, abs=0.02)


def test_a_patrolling_unit_spends_its_share_of_free_time_on_patrol(tmp_path):
    network, _ = _torus(tmp_path, side=4, seconds=60.0)
    half = {"policy": "random", "share": 0.5, "stint_min": {"dist": "exponential", "mean": 60}}
    model = _run(_patrol_only(network, 2, half, days=30))
    by_state = model.summary()["utilization"]["by_state"]
    assert by_state["patrol"] == pytest.approx(0.5, abs=0.03)
    assert by_state["patrol"] + by_state["idle"] + by_state["returning"] == pytest.approx(1.0)


# -- on view: a loop of length T and incidents lasting D < T -----------------------------
@pytest.mark.slow
def test_share_noticed_on_a_loop_is_p_d_over_t(tmp_path):
    n, p, duration = 20, 0.5, 10.0  # T = 20 one-minute edges
    nodes = {i: (100.0 * math.cos(2 * math.pi * i / n), 100.0 * math.sin(2 * math.pi * i / n))
             for i in range(n)}  # fmt: skip
    edges = [(i, (i + 1) % n, 60.0) for i in range(n)] + [((i + 1) % n, i, 60.0) for i in range(n)]
    network = save_graph(tmp_path / "ring.graphml", nodes, edges)
    loop = {"policy": "route", "share": 1.0, "stint_min": 1e9,
            "route": [{"node": i} for i in range(n)]}  # fmt: skip
    raw = _patrol_only(network, 1, loop, days=40)
    raw["calls"] = {
        "rate_per_hour": 6,
        "hourly_profile": "flat",
        "types": [{"name": "theft", "share": 1, "service_min": 0, "on_view": {
            "duration_min": duration, "p_notice": p, "report_share": 0}}],
    }  # fmt: skip
    raw["residents"] = {"people_per_agent": 10}
    seen = _run(raw).summary()["patrol"]["on_view"]
    share, total = seen["share_on_view"], seen["incidents"]
    expected = p * duration / n
    assert total > 4000 and seen["reported"] == 0
    assert abs(share - expected) < 3 * math.sqrt(expected * (1 - expected) / total), share


# -- the Kansas City null result, and deterrence as thinning -----------------------------
def _first_calls(model) -> set:
    records = model.records()
    first = records[records["repeat_of"].isna() & records["problem"].isna()]
    return set(zip(first["t_call"].round(9), first["first_type"], first["node"], strict=True))


def test_without_deterrence_patrol_cannot_change_the_calls_residents_make():
    base = {"days": 14}
    stay = sim.PatrolModel(sim.load_scenario("central", set=base))
    stay.run()
    patrolling = sim.load_scenario("central", set={**base, "units.*.patrol": {
        "policy": "random", "share": 0.8}})  # fmt: skip
    patrol = sim.PatrolModel(patrolling)
    patrol.run()
    assert patrol.summary()["patrol"]["units_patrolling"] > 0
    assert _first_calls(stay) == _first_calls(patrol)


@pytest.mark.slow
def test_deterrence_only_removes_calls_near_where_units_stay():
    spots = {"top_k": 3}
    stay = sim.PatrolModel(sim.load_scenario("embedded", days=28))
    stay.run()
    changes = {
        "units.*.patrol": {"policy": "hot_spots", "share": 1.0, "mode": "foot"},
        "hot_spots": spots,
        "deterrence": {"enabled": True, "effect": 1.0, "radius_m": 1},
    }
    scenario = sim.load_scenario("embedded", days=28, set=changes)
    deterred = sim.PatrolModel(scenario)
    deterred.run()
    before, after = _first_calls(stay), _first_calls(deterred)
    assert after < before  # a strict subset: thinned, never added
    patroller = deterred.patroller
    spots = {n for u in deterred.units for n in patroller.hot_spots(patroller.beat_of(u))}
    spots_at = {str(deterred.router.node_ids[n]) for n in spots}
    assert {node for _, _, node in before - after} <= spots_at


# -- AVL against post-based ranking: an exact trace --------------------------------------
COORDS = {10: (0, 0), 11: (600, 0), 12: (1200, 0), 13: (900, 500), 14: (2400, 0)}
EDGES = [(10, 11, 60.0), (11, 10, 60.0), (11, 12, 60.0), (12, 13, 90.0), (13, 11, 90.0),
         (12, 14, 240.0), (14, 12, 240.0)]  # fmt: skip


@pytest.mark.parametrize(("locate", "sent", "t_arrive"), [("avl", "B#1", 21.0),
                                                           ("post", "A#1", 22.5)])  # fmt: skip
def test_avl_and_post_based_ranking_send_different_units(tmp_path, locate, sent, t_arrive):
    network = save_graph(tmp_path / "five.graphml", COORDS, EDGES)
    raw = {
        "name": "avl",
        "days": 0.1,
        "warmup_days": 0,
        "network": {"kind": "graphml", "path": str(network)},
        "communities": [{"name": f"n{i}", "population": 100, "at": {"node": i}} for i in COORDS],
        "posts": [{"name": "A", "kind": "station", "at": {"node": 10}},
                  {"name": "B", "kind": "station", "at": {"node": 14}}],
        "units": [{"post": "A"}, {"post": "B", "patrol": {
            "policy": "hot_spots", "share": 1.0, "stint_min": 1e6, "dwell_min": 1e6}}],
        "hot_spots": {"places": [{"name": "market", "node": 11}]},
        "calls": {"rate_per_hour": 0, "types": [{"name": "t", "share": 1, "service_min": 10}]},
        "dispatch": {"policy": "nearest", "delay_min": 1, "mobilisation_min": 0.5,
                     "locate": locate},
    }  # fmt: skip
    model = sim.PatrolModel(validate(raw, "<avl>"))
    a, b = model.units
    model.run_until(20.0)
    # B drove 14 -> 12 -> 13 -> 11 (7 min) and stays at the market; A waits at its post
    assert b.state == UnitState.PATROL and model.router.node_ids[b.node] == 11
    assert a.state == UnitState.IDLE
    resident = next(r for r in model.residents if model.router.node_ids[r.node] == 11)
    call = model.receive_call(0, resident, np.full(9, 0.5).tolist())
    model.run_until(30.0)
    # AVL: B is there (0 min, no mobilisation on patrol). Post-based: A (1 + 0.5 min) looks
    # nearer than B at its post (7 + 0.5): A is sent and drives from its post.
    assert call.unit.label == sent
    assert call.t_arrive == pytest.approx(t_arrive)

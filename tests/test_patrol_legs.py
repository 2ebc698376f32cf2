"""Patrol legs and their bookkeeping, against brute force (coverage, joining, stints).

A tour leg is one event, however long; these tests check that what it stands for (a pass
of every edge at its own time) is counted as if each pass were an event of its own.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_patrol import _patrol_only, _run, _torus

import sim
from sim.agents.unit import UnitState
from sim.patrol.coverage import SHIFT_MIN
from sim.patrol.legs import joined, path_leg, tour_leg
from sim.scenarios.load import validate
from sim.travel import Travel

WARMUP_MIN = 1440.0  # the torus scenario's one warm-up day


@pytest.fixture(scope="module")
def torus_model(tmp_path_factory):
    network, _ = _torus(tmp_path_factory.mktemp("torus"), side=5, seconds=90.0)
    raw = _patrol_only(network, 1, {"policy": "random", "share": 1.0, "stint_min": 1e9})
    return sim.PatrolModel(validate(raw, "<legs test>"))


def _brute_force(coverage, legs) -> tuple[np.ndarray, np.ndarray]:
    """Passes and shifts passed per segment, one edge at a time up to when each leg stopped."""
    passes = np.zeros(coverage.n_segments, dtype=np.int64)
    shifts = defaultdict(set)
    for leg, until in legs:
        for i in range(len(leg.entries)):
            t = leg.route.t_depart_min + leg.route.cum_min[i + 1]
            if t > until:
                break
            if t >= WARMUP_MIN:
                segment = coverage.segment_of[leg.entries[i]]
                passes[segment] += 1
                shifts[segment].add((t - WARMUP_MIN) // SHIFT_MIN)
    return passes, np.array([len(shifts[s]) for s in range(coverage.n_segments)])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["tour", "path", "joined"]),  # a path to the tour, then along it
            st.integers(0, 10_000),  # where on the tour it starts / path ends
            st.floats(WARMUP_MIN - 600, WARMUP_MIN + 3 * SHIFT_MIN),  # when it leaves
            st.floats(1.0, 400.0),  # how long it is planned for
            st.floats(0.0, 1.2),  # the share of it driven before it ends or is cut
            st.sampled_from([1.0, 2.5]),  # slowdown
        ),
        min_size=1,
        max_size=6,
    )
)
def test_coverage_counts_every_pass_in_its_own_shift(torus_model, plans):
    patroller = torus_model.patroller
    unit = torus_model.units[0]
    tour = patroller.tour_of(unit)
    coverage = type(patroller.coverage)(
        patroller.router, torus_model.world.network.graph,
        torus_model.world.community_of_node, WARMUP_MIN,
    )  # fmt: skip
    legs = []
    for kind, where, t0, duration, driven, slowdown in plans:
        if kind == "tour":
            leg = tour_leg(tour, where, t0, duration, slowdown)
        elif kind == "path":
            target = where % patroller.router.n_nodes
            leg = path_leg(patroller.router, coverage, 0, target, t0, slowdown)
        else:
            position = where
            approach = path_leg(patroller.router, coverage, 7, tour.node_at(position), t0, 1.0)
            t1 = approach.route.t_arrive_min
            leg = joined(approach, tour_leg(tour, position, t1, duration, slowdown))
        until = t0 + driven * float(leg.route.cum_min[-1])
        if driven >= 1.0:  # ended: at its last node, exactly when the leg's event says
            until = leg.route.t_arrive_min
        leg.count(coverage, leg.edges_done(until / 2 + t0 / 2))  # part way, then on
        leg.count(coverage, leg.edges_done(until))
        legs.append((leg, until))
    passes, shifts = coverage.passes_and_shifts()
    expected_passes, expected_shifts = _brute_force(coverage, legs)
    np.testing.assert_array_equal(passes, expected_passes)
    np.testing.assert_array_equal(shifts, expected_shifts)


def test_a_tour_leg_is_one_lap_at_most_and_one_edge_at_least(torus_model):
    tour = torus_model.patroller.tour_of(torus_model.units[0])
    long = tour_leg(tour, 3, 0.0, 1e9, 1.0)
    assert len(long.entries) == tour.length
    assert long.route.nodes.tolist() == [tour.node_at(p) for p in range(3, 4 + tour.length)]
    short = tour_leg(tour, 3, 0.0, 1e-9, 1.0)
    assert len(short.entries) == 1
    half = tour_leg(tour, 3, 0.0, tour.lap_min, 2.0)  # half a lap at half speed
    assert float(half.route.cum_min[-1]) == pytest.approx(tour.lap_min, abs=3.0)
    across = tour_leg(tour, 2 * tour.length - 5, 0.0, 1e9, 1.0)  # from lap 1 into lap 2
    np.testing.assert_array_equal(across.entries[:5], tour.lap(1)[0][-5:])
    np.testing.assert_array_equal(across.entries[5:], tour.lap(2)[0][:-5])


def test_a_joined_leg_follows_its_path_then_the_tour(tmp_path):
    network, _ = _torus(tmp_path, side=5, seconds=90.0)
    raw = _patrol_only(network, 1, {"policy": "random", "share": 1.0, "stint_min": 1e9})
    patroller = sim.PatrolModel(validate(raw, "<legs test>")).patroller
    tour = patroller.tour_of(patroller.host.units[0])
    source = next(n for n in range(25) if n != tour.node_at(0))
    approach = path_leg(patroller.router, patroller.coverage, source, tour.node_at(0), 300, 1)
    t1 = approach.route.t_arrive_min
    leg = joined(approach, tour_leg(tour, 0, t1, 1e9, 1.0))  # to the tour, then a whole lap
    assert leg.tour_from == len(approach.entries) > 0 and leg.tour_edges == tour.length
    assert leg.route.nodes[leg.tour_from] == tour.node_at(0)
    assert leg.route.t_arrive_min == pytest.approx(t1 + tour.lap_min)


def test_a_unit_patrolling_all_its_free_time_never_goes_back_to_its_post(tmp_path):
    network, _ = _torus(tmp_path, side=4, seconds=60.0)
    always = {"policy": "random", "share": 1.0, "stint_min": {"dist": "exponential", "mean": 30}}
    model = _run(_patrol_only(network, 2, always, days=5))
    by_state = model.summary()["utilization"]["by_state"]
    assert by_state["patrol"] == pytest.approx(1.0)
    assert all(u.state == UnitState.PATROL for u in model.units)


def test_legs_end_when_the_traffic_changes():
    flat = Travel(router=None)
    assert flat.slowdown_steady_until(100.0) == float("inf")
    rush = [1.0] * 7 + [1.5] * 3 + [1.0] * 14  # 07:00-10:00 slower
    travel = Travel(router=None, congestion_by_hour=rush)
    assert travel.slowdown_steady_until(30.0) == 7 * 60.0
    assert travel.slowdown_steady_until(7 * 60.0) == 10 * 60.0
    assert travel.slowdown_steady_until(11 * 60.0 + 5) == 24 * 60.0 + 7 * 60.0
    steady = Travel(router=None, congestion_by_hour=[1.3] * 24)
    assert steady.slowdown_steady_until(5.0) == float("inf")

"""Tours: the shortest covering walk, Euler circuits without U-turns, units spread on a beat.

On the bare 8x8 two-way grid (112 segments of 20 s; 24 border nodes of odd degree, paired
by 12 border blocks) the shortest closed walk covering every street is 124 edges and
passes 12 segments twice, so even a perfect tour gives a coefficient of variation of
passes per segment of 0.28 (100 segments once, 12 twice: computed below from the walk).
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx
import numpy as np
import pytest
from model_support import save_graph
from test_patrol import _patrol_only, _torus

import sim
from sim.patrol.circuits import Circuits
from sim.patrol.covering import beat_segments, covering_multiset, lower_bound_min
from sim.patrol.patroller import Patroller
from sim.scenarios.load import validate

BLOCK_S = 20.0


def _grid(tmp_path, side: int = 8, seconds: float = BLOCK_S, one_way=()):
    """A side x side grid; ``one_way``: (u, v) blocks driven only u -> v."""
    nodes = {r * side + c: (200.0 * c, 200.0 * r) for r in range(side) for c in range(side)}
    edges = []
    for r in range(side):
        for c in range(side):
            here = r * side + c
            for there in ([here + 1] if c + 1 < side else []) + (
                [here + side] if r + 1 < side else []
            ):
                if (here, there) in one_way:
                    edges.append((here, there, seconds))
                elif (there, here) in one_way:
                    edges.append((there, here, seconds))
                else:
                    edges += [(here, there, seconds), (there, here, seconds)]
    return save_graph(tmp_path / f"grid{side}.graphml", nodes, edges)


def _model(network, units: int = 1, days: float = 0.05, **patrol) -> sim.PatrolModel:
    always = {"policy": "random", "share": 1.0, "stint_min": 1e9, **patrol}
    return sim.PatrolModel(validate(_patrol_only(network, units, always, days), "<tours>"))


def _walk(model) -> tuple[np.ndarray, object]:
    patroller = model.patroller
    beat = patroller.beat_of(model.units[0])
    return covering_multiset(patroller.coverage, patroller.router, beat), patroller.coverage


def _u_turns(coverage, entries: np.ndarray) -> int:
    tails = np.searchsorted(coverage.indptr, entries, side="right") - 1
    heads = coverage.heads[entries]
    segment = coverage.segment_of[entries]
    following = np.roll(np.arange(len(entries)), -1)
    return int(np.sum((segment == segment[following]) & (tails == heads[following])))


def _is_closed_walk(coverage, entries: np.ndarray) -> bool:
    tails = np.searchsorted(coverage.indptr, entries, side="right") - 1
    heads = coverage.heads[entries]
    return bool(np.all(heads == np.roll(tails, -1)))


# -- the covering walk ---------------------------------------------------------------------
def test_the_grid_walk_is_the_chinese_postman_tour_of_124_edges(tmp_path):
    model = _model(_grid(tmp_path))
    walk, coverage = _walk(model)
    assert len(walk) == 124
    bound = lower_bound_min(coverage, model.router, [True] * 64)
    assert bound == pytest.approx(124 * BLOCK_S / 60) == float(np.sum(coverage.edge_min[walk]))
    counts = np.bincount(coverage.segment_of[walk], minlength=coverage.n_segments)
    assert counts.min() == 1 and np.sum(counts == 2) == 12 and counts.max() == 2


def test_an_eulerian_beat_is_driven_once_each(tmp_path):
    network, segments = _torus(tmp_path, side=6, seconds=60.0)
    walk, coverage = _walk(_model(network))
    assert len(walk) == segments  # every torus node has degree 4: no street twice
    assert np.all(np.bincount(coverage.segment_of[walk]) == 1)


def test_one_way_streets_are_driven_their_way_and_the_walk_balances(tmp_path):
    one_way = {(0, 1), (1, 2), (2, 3), (11, 10), (27, 19), (36, 44)}
    model = _model(_grid(tmp_path, one_way=one_way))
    walk, coverage = _walk(model)
    tails = np.searchsorted(coverage.indptr, walk, side="right") - 1
    heads = coverage.heads[walk]
    index = model.router.index
    driven = set(zip(tails.tolist(), heads.tolist(), strict=True))
    for u, v in one_way:
        assert (index[v], index[u]) not in driven
    assert np.array_equal(np.bincount(tails, minlength=64), np.bincount(heads, minlength=64))
    covered = set(coverage.segment_of[walk].tolist())
    assert covered == set(beat_segments(coverage, [True] * 64).tolist())
    # never shorter than the two-way walk (a relaxation), here as short: turning the
    # two-way streets round absorbs these one-way blocks
    assert 124 <= len(walk) <= 1.2 * 124
    bound = lower_bound_min(coverage, model.router, [True] * 64)
    assert bound <= float(np.sum(coverage.edge_min[walk])) <= 1.05 * bound
    tour = model.patroller.tour_of(model.units[0])
    assert _is_closed_walk(coverage, tour.lap(0)[0]) and _u_turns(coverage, tour.lap(0)[0]) == 0


def test_on_one_way_streets_the_walk_is_the_directed_chinese_postman_tour(tmp_path):
    # Manhattan: rows run east and west in turn, columns south and north in turn
    side = 6
    one_way = set()
    for r in range(side):
        for c in range(side - 1):
            a, b = r * side + c, r * side + c + 1
            one_way.add((a, b) if r % 2 == 0 else (b, a))
    for c in range(side):
        for r in range(side - 1):
            a, b = r * side + c, (r + 1) * side + c
            one_way.add((b, a) if c % 2 == 0 else (a, b))
    model = _model(_grid(tmp_path, side=side, one_way=one_way))
    walk, coverage = _walk(model)
    every = [True] * side * side
    bound = lower_bound_min(coverage, model.router, every)  # exact when all are one-way
    assert float(np.sum(coverage.edge_min[walk])) == pytest.approx(bound)
    assert len(walk) > 2 * side * (side - 1)  # the imbalance is paid for with repeats
    tour = model.patroller.tour_of(model.units[0])
    assert _is_closed_walk(coverage, tour.lap(0)[0])


def test_a_beat_in_two_pieces_is_joined_there_and_back(tmp_path):
    nodes = {i: (100.0 * i, 0.0) for i in range(6)}
    edges = [(i, i + 1, 30.0) for i in range(5)] + [(i + 1, i, 30.0) for i in range(5)]
    network = save_graph(tmp_path / "line.graphml", nodes, edges)
    raw = _patrol_only(network, 1, {"policy": "random", "share": 1.0, "stint_min": 1e9}, 0.05)
    raw["communities"] = [{"name": "ends", "population": 10, "at": {"node": 0}},
                          {"name": "middle", "population": 10, "at": {"node": 3}}]  # fmt: skip
    model = sim.PatrolModel(validate(raw, "<pieces>"))
    coverage, patroller = model.patroller.coverage, model.patroller
    beat = (model.world.community_of_node == model.world.community_of_node[0]).tolist()
    walk = covering_multiset(coverage, patroller.router, beat)
    tails = np.searchsorted(coverage.indptr, walk, side="right") - 1
    assert np.array_equal(np.bincount(tails, minlength=6),
                          np.bincount(coverage.heads[walk], minlength=6))  # fmt: skip
    assert set(beat_segments(coverage, beat).tolist()) <= set(coverage.segment_of[walk].tolist())


# -- circuits ------------------------------------------------------------------------------
def test_laps_drive_the_same_streets_in_a_new_order_with_no_u_turn(tmp_path):
    model = _model(_grid(tmp_path))
    walk, coverage = _walk(model)
    tour = model.patroller.tour_of(model.units[0])
    laps = [tour.lap(k)[0] for k in range(30)]
    for lap in laps:
        assert np.array_equal(np.sort(lap), np.sort(walk))  # same streets, same counts
        assert _is_closed_walk(coverage, lap)
        assert _u_turns(coverage, lap) == 0
    assert len({lap.tobytes() for lap in laps}) == 30  # a new order every lap
    joined = np.concatenate(laps)  # from one lap into the next: no U-turn either
    assert _u_turns(coverage, joined[:-1]) == _u_turns(coverage, joined) == 0
    kept = _model(_grid(tmp_path), redraw_each_lap=False).patroller
    tour = kept.tour_of(kept.host.units[0])
    assert np.array_equal(tour.lap(0)[0], tour.lap(5)[0])


def test_plain_hierholzer_makes_u_turns_where_these_circuits_make_none(tmp_path):
    walk, coverage = _walk(_model(_grid(tmp_path)))
    tails = np.searchsorted(coverage.indptr, walk, side="right") - 1
    graph = nx.MultiDiGraph()
    ends = zip(tails.tolist(), coverage.heads[walk].tolist(), walk.tolist(), strict=True)
    graph.add_edges_from((t, h, {"entry": e}) for t, h, e in ends)
    plain = [graph[u][v][k]["entry"] for u, v, k in nx.eulerian_circuit(graph, keys=True)]
    assert _u_turns(coverage, np.array(plain)) > 0  # what the U-turn count would catch


def test_a_dead_end_is_the_only_u_turn():
    # a one-way square 0 -> 1 -> 2 -> 3 -> 0, two loops round it, and a two-way spur 3-4
    tails = np.array([0, 1, 2, 3, 0, 1, 2, 3, 3, 4])
    heads = np.array([1, 2, 3, 0, 1, 2, 3, 0, 4, 3])
    segments = np.array([0, 1, 2, 3, 0, 1, 2, 3, 4, 4])
    circuits = Circuits(tails, heads, segments, start=0)
    rng = np.random.default_rng(3)
    for _ in range(50):
        order = circuits.draw(rng).tolist()
        assert sorted(order) == list(range(10))
        turns = [(a, b) for a, b in zip(order, order[1:] + order[:1], strict=True)
                 if circuits.u_turn(a, b)]  # fmt: skip
        assert turns == [(8, 9)]


def _dead_ends() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two one-way loops round a square, two-way spurs to dead ends at 4 and 5, a lollipop."""
    ends = [(0, 1, 0), (1, 2, 1), (2, 3, 2), (3, 0, 3), (0, 1, 0), (1, 2, 1), (2, 3, 2),
            (3, 0, 3), (3, 4, 4), (4, 3, 4), (1, 5, 5), (5, 1, 5), (5, 6, 6), (6, 7, 7),
            (7, 5, 8), (2, 0, 9), (0, 2, 9)]  # fmt: skip
    return tuple(np.array(column) for column in zip(*ends, strict=True))


def _tour_edges(tmp_path, **grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    walk, coverage = _walk(_model(_grid(tmp_path, **grid)))
    tails = np.searchsorted(coverage.indptr, walk, side="right") - 1
    return tails, coverage.heads[walk], coverage.segment_of[walk]


@pytest.mark.parametrize("graph", ["grid", "one_way_grid", "dead_ends"])
def test_the_compiled_draw_returns_the_reference_circuit(tmp_path, graph):
    one_way = {(0, 1), (1, 2), (2, 3), (11, 10), (27, 19), (36, 44), (9, 17), (50, 51)}
    edges = {"grid": lambda: _tour_edges(tmp_path),
             "one_way_grid": lambda: _tour_edges(tmp_path, one_way=one_way),
             "dead_ends": _dead_ends}[graph]()  # fmt: skip
    tails = edges[0]
    for start in sorted(set(tails.tolist()))[:3]:
        compiled = Circuits(*edges, start=start)
        plain = Circuits(*edges, start=start, kernel="python")
        for seed in range(40):
            rng_compiled, rng_plain = np.random.default_rng(seed), np.random.default_rng(seed)
            after = -1
            for _ in range(3):  # laps in a row, each after the last edge of the one before
                got = compiled.draw(rng_compiled, after)
                want = plain.draw(rng_plain, after)
                assert got.dtype == want.dtype == np.int64
                assert np.array_equal(got, want)
                assert np.array_equal(np.sort(got), np.arange(len(tails)))
                after = int(got[-1])
            assert rng_compiled.random() == rng_plain.random()  # the same draws consumed


def test_an_unknown_kernel_is_named():
    with pytest.raises(ValueError, match="kernel 'fortran'"):
        Circuits(*_dead_ends(), start=0, kernel="fortran")


# -- units on a beat -----------------------------------------------------------------------
def _gaps(model) -> tuple[np.ndarray, np.ndarray]:
    segments, times = model.patroller.count_to_now().pass_times()
    by_segment = defaultdict(list)
    for segment, t in zip(segments.tolist(), times.tolist(), strict=True):
        by_segment[segment].append(t)
    gaps = np.concatenate([np.diff(sorted(t)) for t in by_segment.values()])
    passes = np.bincount(segments, minlength=model.patroller.coverage.n_segments)
    return gaps, passes


@pytest.fixture(scope="module")
def grid8(tmp_path_factory):
    return _grid(tmp_path_factory.mktemp("grid8"))


@pytest.mark.parametrize(("units", "redraw", "share_under_1"),
                         [(1, True, None), (2, True, 0.05), (2, False, 0.02),
                          (4, True, 0.05), (4, False, 0.02)])  # fmt: skip
def test_units_spread_on_the_grid(grid8, units, redraw, share_under_1):
    days = 1 + 4.5 / units  # every segment passed 100 times at least
    model = _model(grid8, units, days, redraw_each_lap=redraw)
    model.run()
    figures = model.summary()["patrol"]
    walk, coverage = _walk(model)
    tau_min = BLOCK_S / 60
    assert figures["min_between_passes"] == pytest.approx(112 * tau_min / units, rel=0.01)
    gaps, passes = _gaps(model)
    assert passes.min() >= 100
    multiplicity = np.bincount(coverage.segment_of[walk], minlength=112)
    walk_cv = multiplicity.std() / multiplicity.mean()
    assert walk_cv == pytest.approx(0.28, abs=0.005)
    assert passes.std() / passes.mean() == pytest.approx(walk_cv, abs=0.03)
    if units > 1:
        lap_min = 124 * tau_min
        assert np.median(gaps) == pytest.approx(lap_min / units, rel=0.05)
        assert np.mean(gaps < 1.0) <= share_under_1


def test_a_route_over_the_walk_counts_every_pass(grid8):
    model = _model(grid8)
    tour = model.patroller.tour_of(model.units[0])
    ids = model.router.node_ids
    stops = [{"node": int(ids[tour.node_at(p)])} for p in range(tour.length)]
    raw = _patrol_only(grid8, 1, {"policy": "route", "share": 1.0, "stint_min": 1e9,
                                  "route": stops}, days=3)  # fmt: skip
    route = sim.PatrolModel(validate(raw, "<route>"))
    route.run()
    figures = route.summary()["patrol"]
    assert figures["min_between_passes"] == pytest.approx(112 * BLOCK_S / 60, rel=0.01)


def test_a_unit_joins_in_the_middle_of_the_largest_gap(tmp_path):
    # two stations on one district beat: units are spread by beat, whatever their post
    network = _grid(tmp_path)
    raw = _patrol_only(network, 1, {"policy": "random", "share": 1.0, "stint_min": 1e9}, 1)
    raw["posts"].append({"name": "east", "kind": "station", "at": {"node": 63}})
    raw["units"].append({"post": "east", "patrol": raw["units"][0]["patrol"]})
    model = sim.PatrolModel(validate(raw, "<join>"))
    model.run_until(120.0)
    patroller = model.patroller
    tour = patroller.tour_of(model.units[0])
    a, b = (patroller.state_of(u).riding.minutes_along_tour(120.0) for u in model.units)
    assert abs(a - b) % tour.lap_min == pytest.approx(tour.lap_min / 2, abs=0.5)


# -- counting ------------------------------------------------------------------------------
def _logged_run(scenario):
    legs, cuts = [], defaultdict(list)
    next_leg, interrupted = Patroller.next_leg, Patroller.interrupted

    def log_leg(self, unit):
        before = unit.leg
        next_leg(self, unit)
        if unit.leg is not None and unit.leg is not before:
            legs.append((unit.index, unit.leg))

    def log_cut(self, unit):
        cuts[unit.index].append(self.host.time)
        interrupted(self, unit)

    Patroller.next_leg, Patroller.interrupted = log_leg, log_cut
    try:
        model = sim.PatrolModel(scenario)
        model.run()
    finally:
        Patroller.next_leg, Patroller.interrupted = next_leg, interrupted
    return model, legs, cuts


@pytest.mark.parametrize("policy", ["random", "route"])
def test_a_brute_force_walk_of_every_leg_agrees_with_coverage(grid8, policy):
    patrol = {"policy": policy, "share": 0.7, "stint_min": {"dist": "exponential", "mean": 50},
              "leg_min": 7.0, "route": [{"node": 0}, {"node": 7}, {"node": 63}]}  # fmt: skip
    raw = _patrol_only(grid8, 3, patrol, days=1.6)
    raw["calls"]["rate_per_hour"] = 2.0  # calls cut legs short
    raw["days"] = 1.55  # the horizon falls inside legs
    model, legs, cuts = _logged_run(validate(raw, "<oracle>"))
    coverage = model.patroller.coverage
    passes = np.zeros(coverage.n_segments, dtype=np.int64)
    for unit, leg in legs:
        t0 = leg.route.t_depart_min
        stop = min([model.time, *(t for t in cuts[unit] if t >= t0)])
        for i, entry in enumerate(leg.entries.tolist()):
            t = t0 + leg.route.cum_min[i + 1]
            if t > stop:
                break
            if t >= model.warmup_min:
                passes[coverage.segment_of[entry]] += 1
    assert len(cuts) > 0 and passes.sum() > 1000
    counted, _ = model.patroller.count_to_now().passes_and_shifts()
    np.testing.assert_array_equal(counted, passes)

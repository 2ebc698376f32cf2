"""What makes patrol cheap changes nothing it computes.

Covering walks are kept per router and searched near the beat (``times_among``); laps no
position uses any more are forgotten. Each is checked against the plain computation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_patrol_tours import _grid

import sim
import sim.patrol.tours as tours
from sim.network.world import build_world
from sim.patrol.covering import covering_multiset, times_among
from sim.scenarios.load import validate


def _mixed(network, days: float, calls_per_hour: float = 0.5) -> dict:
    """Cars and a foot unit on one beat, with calls that take them off it and back."""
    patrol = {"policy": "random", "share": 1.0, "stint_min": 1e9}
    return {
        "name": "mixed patrol",
        "days": days,
        "warmup_days": 1,
        "seed": 3,
        "network": {"kind": "graphml", "path": str(network)},
        "communities": [{"name": "all", "population": 1000}],
        "posts": [{"name": "station", "kind": "station", "at": {"node": 0}}],
        "units": [
            {"post": "station", "count": 2, "patrol": patrol},
            {"post": "station", "count": 1, "patrol": {**patrol, "mode": "foot"}},
        ],
        "calls": {"rate_per_hour": calls_per_hour,
                  "types": [{"name": "t", "share": 1, "service_min": 20}]},
    }  # fmt: skip


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    return _grid(tmp_path_factory.mktemp("speed"), one_way=[(9, 10), (27, 19), (44, 45)])


def test_searches_near_the_beat_give_the_full_searches_numbers(grid):
    model = sim.PatrolModel(validate(_mixed(grid, days=0.1), "<speed>"))
    router = model.router
    rng = np.random.default_rng(5)
    for _ in range(5):
        sources = rng.choice(router.n_nodes, 7, replace=False).tolist()
        targets = rng.choice(router.n_nodes, 9, replace=False).tolist()
        full = np.array([router.times_from(s)[targets] for s in sources])
        np.testing.assert_array_equal(times_among(router, sources, targets), full)
    assert times_among(router, [], [3]).shape == (0, 1)


def test_a_covering_walk_is_built_once_per_router_and_cannot_be_changed(grid):
    scenario = validate(_mixed(grid, days=0.1), "<speed>")
    world = build_world(scenario)
    walks = []
    for replication in range(2):
        patroller = sim.PatrolModel(scenario, replication, world).patroller
        beat = patroller.beat_of(patroller.host.units[0])
        walks.append(covering_multiset(patroller.coverage, patroller.router, beat))
    assert walks[0] is walks[1]
    with pytest.raises(ValueError, match="read-only"):
        walks[0][0] = 0


def _run(scenario) -> tuple[pd.DataFrame, dict, object]:
    model = sim.PatrolModel(scenario)
    model.run()
    return model.records(), model.summary(), model.patroller.tour_of(model.units[0])


def test_forgetting_old_laps_changes_no_record(grid, monkeypatch):
    """Cars lap a foot unit on one beat for 6 days: only laps in use are kept."""
    scenario = validate(_mixed(grid, days=6.0), "<speed>")
    records, summary, tour = _run(scenario)
    monkeypatch.setattr(tours, "KEPT_LAPS", 10**9)  # every lap kept
    all_records, all_summary, all_tour = _run(scenario)
    assert all_tour.laps_kept >= 40 > tour.laps_kept * 2
    pd.testing.assert_frame_equal(records, all_records)
    assert summary == all_summary


def test_a_long_run_folds_its_passes_into_the_same_figures(grid, monkeypatch):
    """Past ``FOLD_PASSES`` the pass log is folded into per-segment sums: same figures."""
    import sim.patrol.coverage as coverage

    scenario = validate(_mixed(grid, days=3.0), "<speed>")
    kept = sim.PatrolModel(scenario)
    kept.run()
    whole = kept.patroller.count_to_now()
    segments, _ = whole.pass_times()
    figures = (*whole.passes_and_shifts(), whole.last_pass_min(), kept.summary())
    monkeypatch.setattr(coverage, "FOLD_PASSES", 300)  # folded many times over
    folded = sim.PatrolModel(scenario)
    folded.run()
    parts = folded.patroller.count_to_now()
    assert len(segments) > 20 * 300
    for mine, theirs in zip((*parts.passes_and_shifts(), parts.last_pass_min()), figures[:3],
                            strict=True):  # fmt: skip
        np.testing.assert_array_equal(mine, theirs)
    assert folded.summary() == figures[3]
    with pytest.raises(RuntimeError, match="pass times are kept for runs of up to 300 passes"):
        parts.pass_times()


@pytest.mark.parametrize("warmup_min", [0.0, 1440.0, 333.3])
def test_compiled_pass_sums_equal_the_plain_reference(warmup_min):
    """Passes folded by the compiled loop: the same counts, last times and shifts as numpy.

    Times include each shift's boundary and the doubles just either side of it.
    """
    from sim.patrol.pass_sums import SHIFT_MIN, PassSums

    rng = np.random.default_rng(7)
    edges = warmup_min + SHIFT_MIN * np.arange(0, 12)
    near = np.concatenate([edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf)])
    times = np.concatenate([rng.uniform(warmup_min, warmup_min + 11 * SHIFT_MIN, 5000), near])
    times = rng.permutation(times)  # in no particular order
    segments = rng.integers(0, 50, len(times))
    compiled, plain = PassSums(50), PassSums(50)
    for part in np.array_split(np.arange(len(times)), 3):  # folded in three goes
        compiled.add(segments[part], times[part], warmup_min)
        plain.add_plain(segments[part], times[part], warmup_min)
    np.testing.assert_array_equal(compiled.passes, plain.passes)
    np.testing.assert_array_equal(compiled.last_min, plain.last_min)
    assert compiled.shifts.keys() == plain.shifts.keys()
    for k in plain.shifts:
        np.testing.assert_array_equal(compiled.shifts[k], plain.shifts[k])


def test_compiled_lap_arrays_equal_the_plain_reference(grid):
    """A lap's entries, minutes and nodes: the compiled loop gives numpy's very numbers."""
    scenario = validate(_mixed(grid, days=1.0), "<speed>")
    model = sim.PatrolModel(scenario)
    tour = model.patroller.tour_of(model.units[0])
    rng = np.random.default_rng(3)
    for _ in range(5):
        order = rng.permutation(tour.length)
        compiled, plain = tour.arrays_of(order), tour.arrays_of_plain(order)
        for mine, theirs in zip(compiled, plain, strict=True):
            np.testing.assert_array_equal(mine, theirs)
            assert mine.dtype == theirs.dtype


def test_compiled_stretches_equal_the_plain_reference(grid):
    """Stretches within a lap and across two: the compiled join gives numpy's very numbers."""
    scenario = validate(_mixed(grid, days=1.0), "<speed>")
    model = sim.PatrolModel(scenario)
    tour = model.patroller.tour_of(model.units[0])
    n = tour.length
    cases = [(0, 1), (3, n - 3), (3, n - 2), (n - 1, 1), (n - 1, 2), (n + 5, n), (2 * n - 1, n)]
    for position, count in cases:
        compiled, plain = tour.stretch(position, count), tour.stretch(position, count, plain=True)
        for mine, theirs in zip(compiled, plain, strict=True):
            np.testing.assert_array_equal(mine, theirs)
            assert mine.dtype == theirs.dtype

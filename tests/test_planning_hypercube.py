"""Larson's hypercube: exact chain against queueing theory and the simulator; approximation
against the exact chain."""

from __future__ import annotations

import numpy as np
import pytest
from model_support import erlang_c, save_graph

from sim.errors import SimInputError
from sim.planning import hypercube
from sim.planning.hypercube import System, approximate, exact, simulated
from sim.scenarios.load import validate

NODES = [100, 101, 102, 103, 104]
EDGE_S = {(100, 101): 0.01, (101, 102): 0.02, (102, 103): 0.015, (103, 104): 0.025}
POSTS = [100, 102, 104]
POPULATION = [4000, 3000, 1000, 1000, 1000]


def test_exact_chain_with_identical_units_is_erlang_c():
    system = System(np.array([1.0, 1.0]) / 60, np.array([[0, 1, 2], [2, 1, 0]]), 45.0)
    solution = exact(system)
    p_wait, wait_min = erlang_c(3, 2 / 60, 45.0)
    assert solution.p_wait == pytest.approx(p_wait, rel=1e-9)
    assert solution.wait_mean_min == pytest.approx(wait_min, rel=1e-9)
    assert solution.workload.sum() == pytest.approx(1.5, rel=1e-9)
    assert solution.dispatch.sum() == pytest.approx(1.0, rel=1e-9)
    assert solution.workload[0] == pytest.approx(solution.workload[2], rel=1e-9)


def random_system(rng: np.random.Generator) -> System:
    """Units and atoms scattered on a square, preferences by distance (as on streets)."""
    n, atoms = int(rng.integers(2, 7)), int(rng.integers(5, 30))
    units_xy, atoms_xy = rng.random((n, 2)), rng.random((atoms, 2))
    distance = np.linalg.norm(atoms_xy[:, None, :] - units_xy[None, :, :], axis=2)
    rates = rng.random(atoms)
    rho = rng.uniform(0.1, 0.6)
    return System(rates / rates.sum() * rho * n / 30.0, np.argsort(distance, axis=1), 30.0)


def test_approximation_within_two_points_of_exact_on_random_systems():
    rng = np.random.default_rng(2024)
    worst_mean, worst_max = 0.0, 0.0
    for _ in range(60):
        system = random_system(rng)
        gap = np.abs(approximate(system).workload - exact(system).workload)
        worst_mean, worst_max = max(worst_mean, gap.mean()), max(worst_max, gap.max())
    # Larson (1975) reports workload errors of about 1-2 points; measured here: mean over a
    # system's units <= 0.02, the single worst unit <= 0.03
    assert worst_mean <= 0.02
    assert worst_max <= 0.03


def test_exact_ten_units_and_unstable_load_is_refused():
    rng = np.random.default_rng(3)
    prefs = np.array([rng.permutation(10) for _ in range(200)])
    rates = rng.random(200)
    solution = exact(System(rates / rates.sum() * 5 / 30, prefs, 30.0))  # about 0.2 s
    assert solution.workload.sum() == pytest.approx(5.0, rel=1e-9)
    with pytest.raises(SimInputError, match="cannot keep up"):
        exact(System(np.array([1.0]), np.array([[0, 1]]), 30.0))


@pytest.fixture(scope="module")
def line_scenario(tmp_path_factory):
    coords = {node: (100.0 * k, 0.0) for k, node in enumerate(NODES)}
    edges = [(u, v, s) for (u, v), s in EDGE_S.items()]
    edges += [(v, u, s) for (u, v), s in EDGE_S.items()]
    path = save_graph(tmp_path_factory.mktemp("cube") / "line.graphml", coords, edges)
    raw = {
        "name": "line",
        "days": 150,
        "warmup_days": 3,
        "seed": 11,
        "replications": 10,
        "network": {"kind": "graphml", "path": str(path)},
        "communities": [
            {"name": f"n{node}", "population": pop, "at": {"node": node}}
            for node, pop in zip(NODES, POPULATION, strict=True)
        ],
        "posts": [
            {"name": f"post{n}", "kind": "office", "community": f"n{n}", "at": {"node": n}}
            for n in POSTS
        ],
        "units": [{"post": f"post{node}", "count": 1} for node in POSTS],
        "calls": {
            "rate_per_hour": 3.0,
            "hourly_profile": "flat",
            "types": [
                {"name": "call", "share": 1, "service_min": {"dist": "exponential", "mean": 30}}
            ],
        },
        "dispatch": {"policy": "nearest", "delay_min": 0},
    }
    return validate(raw, "<line>")


@pytest.mark.slow
def test_exact_hypercube_matches_the_simulator(line_scenario):
    """Travel takes hundredths of a second, so the simulator is the hypercube's system."""
    result = hypercube(line_scenario, method="exact")
    sim = simulated(line_scenario)
    assert result.workload.sum() == pytest.approx(1.5, rel=1e-4)
    for k, (mean, half) in enumerate(sim["workload"]):
        assert abs(mean - result.workload[k]) <= half + 1e-3, (k, mean, half, result.workload)
    for key, value in (("cross", result.cross_beat_share), ("p_wait", result.p_wait)):
        mean, half = sim[key]
        assert abs(mean - value) <= half + 1e-3, (key, mean, half, value)
    approx = hypercube(line_scenario, method="approximate")
    assert np.abs(approx.workload - result.workload).max() < 0.02

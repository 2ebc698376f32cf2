"""Office siting against brute-force oracles on a tiny street network, and its plans."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from model_support import save_graph

from sim.errors import SimInputError
from sim.network.world import build_world
from sim.planning import plan_offices, write_plan
from sim.planning.costs import demand_per_min, travel_min
from sim.planning.siting import solve_siting
from sim.scenarios.load import load_scenario, validate

GRID = 4  # 4 x 3 nodes, 200 m apart, edge times drawn once


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    rng = np.random.default_rng(5)
    coords = {10 * r + c: (200.0 * c, 200.0 * r) for r in range(3) for c in range(GRID)}
    edges = []
    for (r, c), (dr, dc) in itertools.product(
        itertools.product(range(3), range(GRID)), ((0, 1), (1, 0))
    ):
        if r + dr < 3 and c + dc < GRID:
            a, b = 10 * r + c, 10 * (r + dr) + c + dc
            seconds = float(rng.uniform(20, 60))
            edges += [(a, b, seconds), (b, a, seconds * float(rng.uniform(0.9, 1.3)))]
    path = save_graph(tmp_path_factory.mktemp("siting") / "grid.graphml", coords, edges)
    raw = {
        "name": "tiny",
        "days": 5,
        "warmup_days": 0,
        "network": {"kind": "graphml", "path": str(path)},
        "communities": [
            {"name": "west", "population": 3000, "at": {"node": 0}},
            {"name": "east", "population": 1000, "at": {"node": 23}},
        ],
        "posts": [{"name": "station", "kind": "station", "at": {"node": 0}}],
        "units": [{"post": "station", "count": 3}],
        "calls": {
            "rate_per_hour": 1.0,
            "types": [{"name": "call", "share": 1, "service_min": 30}],
        },
    }
    scenario = validate(raw, "<tiny>")
    world = build_world(scenario)
    cost = travel_min(world.router, np.arange(world.router.n_nodes)).T  # demand x sites
    return scenario, world, cost, demand_per_min(scenario, world)


def brute(cost, weights, p, score):
    """The best score over every p-subset of sites (lower is better)."""
    return min(score(cost[:, list(s)]) for s in itertools.combinations(range(cost.shape[1]), p))


@pytest.mark.parametrize("p", [1, 2, 3])
def test_pmedian_and_pcenter_match_brute_force(tiny, p):
    _, _, cost, w = tiny

    def weighted(sub):
        return float((w * sub.min(axis=1)).sum())

    def worst(sub):
        return float(sub.min(axis=1).max())

    chosen = solve_siting(cost, w, "pmedian", p)
    assert len(chosen) == p
    assert weighted(cost[:, chosen]) == pytest.approx(brute(cost, w, p, weighted), rel=1e-9)
    chosen = solve_siting(cost, w, "pcenter", p)
    assert worst(cost[:, chosen]) == pytest.approx(brute(cost, w, p, worst), rel=1e-9)


@pytest.mark.parametrize(("p", "within_min"), [(1, 1.0), (2, 1.0), (2, 1.5)])
def test_mclp_covers_as_much_as_the_best_subset(tiny, p, within_min):
    _, _, cost, w = tiny

    def uncovered(sub):  # computed independently of the model: demand farther than T
        return float(w[sub.min(axis=1) > within_min].sum())

    chosen = solve_siting(cost, w, "mclp", p, within_min)
    best = brute(cost, w, p, uncovered)
    assert uncovered(cost[:, chosen]) == pytest.approx(best, abs=1e-12)

    def travel_among_best(sub):  # ties broken by the least weighted travel
        return float((w * sub.min(axis=1)).sum()) if uncovered(sub) <= best + 1e-12 else np.inf

    travel = float((w * cost[:, chosen].min(axis=1)).sum())
    assert travel == pytest.approx(brute(cost, w, p, travel_among_best), rel=1e-9)


def test_lscp_is_the_smallest_full_cover(tiny):
    _, _, cost, w = tiny
    within_min = 1.2
    chosen = solve_siting(cost, w, "lscp", within_min=within_min)
    assert (cost[:, chosen].min(axis=1) <= within_min).all()
    smaller = len(chosen) - 1
    assert all(
        (cost[:, list(s)].min(axis=1) > within_min).any()
        for s in itertools.combinations(range(cost.shape[1]), smaller)
    )


def test_infeasible_requests_say_what_cannot_be_met(tiny):
    _, _, cost, w = tiny
    with pytest.raises(SimInputError, match="smallest target any cover can meet"):
        solve_siting(cost[:, :2], w, "lscp", within_min=0.5)  # two sites, far from most
    with pytest.raises(SimInputError, match="12 candidate sites"):
        solve_siting(cost, w, "pmedian", p=13)
    with pytest.raises(SimInputError, match=r"needs \d+ offices, more than --p 1; the best 1"):
        solve_siting(cost, w, "lscp", p=1, within_min=1.0)
    with pytest.raises(SimInputError, match="--within"):
        solve_siting(cost, w, "mclp", p=2)
    with pytest.raises(SimInputError, match="no candidate site can reach"):
        solve_siting(np.full((2, 3), np.inf), np.ones(2), "pmedian", p=1)


def test_plan_offices_writes_a_scenario_that_extends_the_input(tiny, tmp_path):
    scenario, world, cost, w = tiny
    base = tmp_path / "tiny.yaml"
    import yaml

    base.write_text(yaml.safe_dump(scenario.model_dump(mode="json")), encoding="utf-8")
    plan = plan_offices(base, p=2, objective="pmedian")
    written = write_plan(plan, tmp_path / "plans" / "two.yaml")
    assert [p.suffix for p in written] == [".yaml", ".csv", ".png"]
    assert all(p.stat().st_size > 0 for p in written)
    assert "extends:" in written[0].read_text(encoding="utf-8")
    planned = load_scenario(written[0])
    offices = [p for p in planned.posts if p.kind == "office"]
    assert len(offices) == 2
    assert [p.name for p in planned.posts if p.kind == "station"] == ["station"]
    assert sum(g.count for g in planned.units) == 3  # the scenario's units, shared out
    chosen = sorted(world.router.index[p.at.node] for p in offices)
    best = brute(cost, w, 2, lambda sub: float((w * sub.min(axis=1)).sum()))
    assert float((w * cost[:, chosen].min(axis=1)).sum()) == pytest.approx(best, rel=1e-9)
    assert plan.summary["plan_mean_travel_min"] <= plan.summary["current_mean_travel_min"]
    assert plan.table["units"].sum() == 3

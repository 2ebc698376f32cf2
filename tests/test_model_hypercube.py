"""Larson's hypercube model: exact unit workloads of a 3-unit system with fixed preferences.

The network is a line of five nodes, ``100 - 101 - 102 - 103 - 104``, with units based at 100,
102 and 104 and one community (so one call node) at every node. Each node's dispatch
preference order (nearest free unit) is fixed by the travel times from the three posts, and
they differ from node to node, so the three units carry very different workloads.

The simulator is compared with a continuous-time Markov chain: states are the set of busy
units plus, when all are busy, the queue length (truncated at ``QUEUE_CAP``, whose
probability mass is checked to be negligible); a call at node j goes to the first free unit
in j's order; a unit that finishes takes the oldest queued call, else becomes free at its post.

**The approximation.** In the simulator a unit is busy for travel + service + the drive back,
and while driving back it is free but not at its post. The edges take 0.01-0.025 *seconds*, so
the longest trip is ``T_MAX = 0.07 s`` against a mean service of 30 min: every call adds at
most ``2 T_MAX`` of busy time, so travel changes a unit's utilisation by at most
``lambda_total * 2 * T_MAX`` (0.00012, asserted against the measured travel share below),
and a unit is off its post (where its position could change a preference) for the same
negligible share of time. Both are far below the CI half-widths (~0.003-0.005).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from model_support import save_graph
from scipy import linalg

from sim.agents.unit import UnitState
from sim.analysis.replications import run_once
from sim.measures.metrics import mean_ci
from sim.scenarios.load import validate

NODES = [100, 101, 102, 103, 104]
EDGE_S = {(100, 101): 0.01, (101, 102): 0.02, (102, 103): 0.015, (103, 104): 0.025}
POSTS = [100, 102, 104]
POPULATION = [4000, 3000, 1000, 1000, 1000]  # call shares by node
RATE_PER_HOUR = 3.0
SERVICE_MIN = 30.0
QUEUE_CAP = 60
REPLICATIONS = 12


def travel_s(a: int, b: int) -> float:
    lo, hi = sorted((NODES.index(a), NODES.index(b)))
    return sum(EDGE_S[(NODES[i], NODES[i + 1])] for i in range(lo, hi))


def preferences() -> list[list[int]]:
    """For each call node, the units (by index) in order of travel time from their post."""
    orders = []
    for node in NODES:
        times = [travel_s(p, node) for p in POSTS]
        assert len(set(times)) == len(times), "ties would make the preference ambiguous"
        orders.append(sorted(range(len(POSTS)), key=times.__getitem__))
    return orders


def hypercube_utilisation(lam: np.ndarray, mu: float, prefs: list[list[int]]) -> np.ndarray:
    """Steady-state busy probability of each unit (hypercube with an infinite FCFS queue)."""
    n = len(prefs[0])
    full = (1 << n) - 1
    states = [(b, 0) for b in range(full)] + [(full, q) for q in range(QUEUE_CAP + 1)]
    index = {s: i for i, s in enumerate(states)}
    gen = np.zeros((len(states), len(states)))

    def add(src, dst, rate):
        gen[index[src], index[dst]] += rate
        gen[index[src], index[src]] -= rate

    for b, q in states:
        if b != full:
            for j, rate in enumerate(lam):
                unit = next(u for u in prefs[j] if not b >> u & 1)
                nb = b | 1 << unit
                add((b, q), (nb, 0), rate)
            for u in range(n):
                if b >> u & 1:
                    add((b, q), (b & ~(1 << u), 0), mu)
        else:
            if q < QUEUE_CAP:
                add((b, q), (b, q + 1), lam.sum())
            if q > 0:
                add((b, q), (b, q - 1), n * mu)  # whoever frees takes the oldest call
            else:
                for u in range(n):
                    add((b, q), (full & ~(1 << u), 0), mu)
    # pi Q = 0, sum pi = 1
    a = np.vstack([gen.T, np.ones(len(states))])
    rhs = np.zeros(len(states) + 1)
    rhs[-1] = 1.0
    pi = linalg.lstsq(a, rhs)[0]
    assert pi.min() > -1e-12
    assert pi[index[(full, QUEUE_CAP)]] < 1e-12, "queue truncation matters"
    busy = np.zeros(n)
    for (b, _), p in zip(states, pi, strict=True):
        for u in range(n):
            if b >> u & 1:
                busy[u] += p
    return busy


def test_hypercube_solver_on_symmetric_case():
    """Sanity of the solver: with identical units it is M/M/3, utilisation a/3 each."""
    lam = np.array([1.0, 1.0]) / 60
    busy = hypercube_utilisation(lam, 1 / 45, [[0, 1, 2], [2, 1, 0]])
    assert busy.sum() == pytest.approx(lam.sum() * 45, rel=1e-9)  # offered load a = 1.5
    # node 0 prefers unit 0 and node 1 unit 2 symmetrically: units 0 and 2 equal
    assert busy[0] == pytest.approx(busy[2], rel=1e-9)
    assert busy[1] < busy[0]


@pytest.fixture(scope="module")
def line_scenario(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hypercube")
    coords = {node: (100.0 * k, 0.0) for k, node in enumerate(NODES)}
    edges = [(u, v, s) for (u, v), s in EDGE_S.items()] + [
        (v, u, s) for (u, v), s in EDGE_S.items()
    ]
    path = save_graph(folder / "line.graphml", coords, edges)
    raw = {
        "name": "hypercube",
        "days": 250,
        "warmup_days": 5,
        "seed": 99,
        "replications": REPLICATIONS,
        "network": {"kind": "graphml", "path": str(path)},
        "communities": [
            {"name": f"n{node}", "population": pop, "at": {"node": node}}
            for node, pop in zip(NODES, POPULATION, strict=True)
        ],
        "posts": [
            {"name": f"post{node}", "kind": "station", "at": {"node": node}} for node in POSTS
        ],
        "units": [{"post": f"post{node}", "count": 1} for node in POSTS],
        "calls": {
            "rate_per_hour": RATE_PER_HOUR,
            "hourly_profile": "flat",
            "types": [
                {
                    "name": "call",
                    "share": 1,
                    "service_min": {"dist": "exponential", "mean": SERVICE_MIN},
                }
            ],
        },
        "dispatch": {"policy": "nearest", "delay_min": 0},
    }
    return validate(raw, "<hypercube>")


@pytest.mark.slow
def test_utilisations_match_the_hypercube_model(line_scenario):
    lam = RATE_PER_HOUR / 60 * np.array(POPULATION) / sum(POPULATION)
    exact = hypercube_utilisation(lam, 1 / SERVICE_MIN, preferences())
    assert exact.sum() == pytest.approx(RATE_PER_HOUR / 60 * SERVICE_MIN, rel=1e-9)

    per_rep, travel_share = [], []
    for rep in range(REPLICATIONS):
        model, _, _ = run_once(line_scenario, rep)
        # every call node is its own community: the world is what the test assumes
        assert [model.router.node_ids[a] for a in model.world.anchor_nodes] == NODES
        assert [model.router.node_ids[u.post.node] for u in model.units] == POSTS
        state = np.array([u.state_min for u in model.units])
        total = state.sum(axis=1)
        assert total == pytest.approx(line_scenario.days * 1440.0)
        per_rep.append(1 - state[:, UnitState.IDLE] / total)
        travel = state[:, UnitState.EN_ROUTE] + state[:, UnitState.RETURNING]
        travel_share.append(travel / total)
    per_rep = np.array(per_rep)

    t_max_min = max(travel_s(a, b) for a, b in itertools.permutations(NODES, 2)) / 60
    bound = RATE_PER_HOUR / 60 * 2 * t_max_min
    assert bound < 2e-4
    assert np.max(travel_share) <= bound  # the approximation, measured

    halves = []
    for u in range(len(POSTS)):
        mean, half = mean_ci(per_rep[:, u].tolist())
        halves.append(half)
        assert half < 0.01, f"unit {u}: CI ±{half} too wide"
        assert abs(mean - exact[u]) <= half + bound, (
            f"unit at {POSTS[u]}: simulated {mean:.4f} ± {half:.4f}, hypercube {exact[u]:.4f}"
        )
    # the preferences matter: units' exact workloads are far apart compared with the CIs
    gaps = np.abs(exact[:, None] - exact[None, :])[np.triu_indices(3, 1)]
    assert gaps.min() > 4 * max(halves), (exact, halves)

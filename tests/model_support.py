"""Helpers shared by the model tests (tests/test_model_*.py, test_scenario, test_cli_run).

A plain module, not a conftest: nothing here runs unless a test imports it.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox

from sim.measures.metrics import mean_ci
from sim.network.synthetic import SYNTHETIC_CRS
from sim.scenarios.load import validate
from sim.scenarios.schema import Scenario


# -- queueing theory -----------------------------------------------------------------------
def erlang_c(c: int, lam_per_min: float, service_min: float) -> tuple[float, float]:
    """Return (P(wait), mean wait in minutes) of an M/M/c queue (DESIGN 6)."""
    a = lam_per_min * service_min
    rho = a / c
    assert rho < 1, "unstable queue"
    tail = a**c / math.factorial(c) / (1 - rho)
    p_wait = tail / (sum(a**k / math.factorial(k) for k in range(c)) + tail)
    return p_wait, p_wait * service_min / (c - a)


def ci_covers(values, truth: float) -> tuple[float, float, bool]:
    """(mean, 95% half-width, whether the CI covers ``truth``) of per-replication values."""
    mean, half = mean_ci(list(values))
    return mean, half, abs(mean - truth) <= half


# -- scenarios -------------------------------------------------------------------------------
def point_raw(
    units: int = 3,
    rate_per_hour: float = 2.0,
    service_mean_min: float = 45.0,
    days: float = 365,
    warmup_days: float = 5,
    replications: int = 5,
    seed: int = 1,
) -> dict:
    """A raw M/M/c scenario on the point network (the shape of the shipped ``erlang_c``)."""
    return {
        "name": "mmc",
        "days": days,
        "warmup_days": warmup_days,
        "seed": seed,
        "replications": replications,
        "network": {"kind": "point"},
        "communities": [{"name": "everyone", "population": 10000}],
        "posts": [{"name": "post", "kind": "station"}],
        "units": [{"post": "post", "count": units}],
        "calls": {
            "rate_per_hour": rate_per_hour,
            "hourly_profile": "flat",
            "types": [
                {
                    "name": "call",
                    "share": 1,
                    "priority": 1,
                    "service_min": {"dist": "exponential", "mean": service_mean_min},
                }
            ],
        },
        "dispatch": {"policy": "nearest", "delay_min": 0},
    }


def scenario(raw: dict, **changes) -> Scenario:
    """Validate a copy of ``raw`` with top-level keys replaced."""
    data = copy.deepcopy(raw)
    data.update(changes)
    return validate(data, "<test>")


# -- hand-built networks ---------------------------------------------------------------------
def save_graph(
    path: Path,
    nodes: dict[int, tuple[float, float]],
    edges: list[tuple[int, int, float]],
) -> Path:
    """Write an osmnx GraphML network: ``nodes`` id -> (x, y) m, ``edges`` (u, v, seconds).

    Several edges between the same pair become parallel edges (keys 0, 1, ...). Lengths are
    the straight-line distance (at least 1 m); speeds follow from length and time.
    """
    graph = nx.MultiDiGraph(crs=SYNTHETIC_CRS, synthetic=True)
    for node, (x, y) in nodes.items():
        graph.add_node(node, x=float(x), y=float(y))
    for u, v, seconds in edges:
        (x0, y0), (x1, y1) = nodes[u], nodes[v]
        length = max(1.0, float(np.hypot(x1 - x0, y1 - y0)))
        graph.add_edge(
            u,
            v,
            length=length,
            travel_time=float(seconds),
            speed_kph=length / seconds * 3.6,
            highway="residential",
        )
    ox.save_graphml(graph, path)
    return path

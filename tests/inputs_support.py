"""Helpers shared by tests/test_inputs_*.py and tests/test_gis_*.py (a plain module)."""

from __future__ import annotations

import numpy as np
import pandas as pd

START = pd.Timestamp("2025-03-05 00:00")  # a Wednesday


def small_raw(trace=None, **calls) -> dict:
    """Two communities with an office each on a 1 km x 1 km synthetic district."""
    raw = {
        "name": "small",
        "days": 5,
        "warmup_days": 1,
        "seed": 3,
        "network": {"kind": "synthetic", "width_km": 1.0, "height_km": 1.0, "seed": 1},
        "communities": [{"name": "A", "population": 1000}, {"name": "B", "population": 1500}],
        "posts": [
            {"name": "office A", "kind": "office", "community": "A"},
            {"name": "office B", "kind": "office", "community": "B"},
        ],
        "units": [{"post": "office A"}, {"post": "office B"}],
        "community_work": {"enabled": False},
        "calls": {
            "rate_per_hour": 1.0,
            "types": [
                {"name": "dispute", "share": 1, "service_min": 20},
                {"name": "theft", "share": 1, "service_min": {"dist": "exponential", "mean": 30}},
            ],
            **calls,
        },
    }
    if trace is not None:
        raw["calls"]["trace"] = str(trace)
    return raw


def make_table(world, n: int = 200, seed: int = 0, days: float = 6.0) -> pd.DataFrame:
    """Good rows at random nodes (a few metres off), in time order, with response times."""
    rng = np.random.default_rng(seed)
    nodes = rng.integers(0, world.router.n_nodes, n)
    minutes = np.sort(rng.uniform(0, days * 1440, n))
    return pd.DataFrame(
        {
            "time": (START + pd.to_timedelta(minutes, unit="min")).strftime("%Y-%m-%d %H:%M:%S"),
            "x": world.router.x[nodes] + 3.0,
            "y": world.router.y[nodes] - 2.0,
            "type": rng.choice(["dispute", "theft"], n),
            "response_min": rng.gamma(3.0, 2.0, n).round(2),
        }
    )


def spoil(table: pd.DataFrame) -> dict[int, str]:
    """Make four rows bad, one of each kind; return their row numbers and reasons."""
    table.loc[3, "time"] = "yesterday-ish"
    table.loc[7, "x"] = 50_000.0
    table.loc[11, "type"] = "ufo"
    table.loc[15, "time"] = "2025-04-30 12:00:00"
    return {
        4: "unparseable time",
        8: "beyond snapping tolerance",
        12: "unknown call type",
        16: "outside the horizon",
    }


UTM_ORIGIN = (540_000.0, 3_372_000.0)  # metres in EPSG:32650 (UTM 50N), near Wuhan


def utm_network(path, size: int = 6, spacing_m: float = 150.0):
    """A georeferenced size x size two-way grid in EPSG:32650 as osmnx GraphML (30 km/h)."""
    import networkx as nx
    import osmnx as ox

    graph = nx.MultiDiGraph(crs="EPSG:32650")
    x0, y0 = UTM_ORIGIN
    for i in range(size):
        for j in range(size):
            graph.add_node(i * size + j, x=x0 + j * spacing_m, y=y0 + i * spacing_m)
    for i in range(size):
        for j in range(size):
            here = i * size + j
            for there in ([here + 1] if j + 1 < size else []) + (
                [here + size] if i + 1 < size else []
            ):
                for u, v in ((here, there), (there, here)):
                    seconds = spacing_m / (30 / 3.6)
                    graph.add_edge(u, v, length=spacing_m, speed_kph=30.0, travel_time=seconds)
    ox.save_graphml(graph, path)
    return path

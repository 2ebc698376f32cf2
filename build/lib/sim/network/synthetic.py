"""A seeded, deterministic generator of a plausible urban street network (osmnx conventions).

The district is a jittered grid: local streets every ``local_spacing_m`` (class
``residential``), and every k-th line an arterial (k = arterial / local spacing, rounded),
alternately ``primary`` and ``secondary``. Arterials run straight (nodes on them are jittered
only along them); a share of local links is missing; a share of local street stretches
(between two arterials) is one-way, alternating direction street by street as in real grids.

Coordinates are metres from the district's south-west corner, in a notional local transverse
Mercator CRS (``SYNTHETIC_CRS``, at 0°N 0°E): the district has no geographic position.
Edge lists are built with numpy; 50,000 nodes take about a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

SYNTHETIC_CRS = "+proj=tmerc +lat_0=0 +lon_0=0 +k=1 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"

_CLASSES = ("residential", "secondary", "primary")  # codes 0, 1, 2


@dataclass(frozen=True)
class GridParams:
    """Parameters of the generator (meanings: ``sim.scenarios.network_spec``)."""

    width_km: float
    height_km: float
    local_spacing_m: float
    arterial_spacing_m: float
    jitter_m: float
    drop_share: float
    oneway_share: float
    local_kph: float
    secondary_kph: float
    primary_kph: float
    seed: int
    name: str = "synthetic district"


def synthetic_graph(p: GridParams) -> nx.MultiDiGraph:
    """Generate the street network; the same parameters always give the same graph."""
    rng = np.random.default_rng(p.seed)
    n_cols = max(2, round(p.width_km * 1000 / p.local_spacing_m) + 1)
    n_rows = max(2, round(p.height_km * 1000 / p.local_spacing_m) + 1)
    k = max(1, round(p.arterial_spacing_m / p.local_spacing_m))
    x, y = _node_positions(p, rng, n_cols, n_rows, k)
    u, v, cls, oneway = _street_links(p, rng, n_cols, n_rows, k)
    speeds = np.array([p.local_kph, p.secondary_kph, p.primary_kph])[cls]
    length_m = np.hypot(x[v] - x[u], y[v] - y[u])
    travel_s = length_m / (speeds / 3.6)
    graph = nx.MultiDiGraph(crs=SYNTHETIC_CRS, name=p.name, synthetic=True)
    graph.add_nodes_from(
        (i, {"x": xi, "y": yi})
        for i, (xi, yi) in enumerate(zip(x.tolist(), y.tolist(), strict=True))
    )
    names = np.asarray(_CLASSES)[cls].tolist()
    graph.add_edges_from(
        (a, b, 0, {"highway": h, "oneway": o, "length": ln, "speed_kph": s, "travel_time": t})
        for a, b, h, o, ln, s, t in zip(
            u.tolist(),
            v.tolist(),
            names,
            oneway.tolist(),
            length_m.tolist(),
            speeds.tolist(),
            travel_s.tolist(),
            strict=True,
        )
    )
    return graph


def _node_positions(
    p: GridParams, rng: np.random.Generator, n_cols: int, n_rows: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Jittered grid coordinates (m), row-major: node id = row * n_cols + col."""
    cols, rows = np.meshgrid(np.arange(n_cols), np.arange(n_rows))
    cols, rows = cols.ravel(), rows.ravel()
    dx = rng.uniform(-p.jitter_m, p.jitter_m, cols.size)
    dy = rng.uniform(-p.jitter_m, p.jitter_m, rows.size)
    dx[cols % k == 0] = 0.0  # on a north-south arterial: stay on its line
    dy[rows % k == 0] = 0.0
    return cols * p.local_spacing_m + dx, rows * p.local_spacing_m + dy


def _street_links(
    p: GridParams, rng: np.random.Generator, n_cols: int, n_rows: int, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Directed links (tail, head, class code, one-way flag) of the grid."""
    parts = []
    for horizontal in (True, False):
        # a line runs along `pos` (col for horizontal streets); `line` is its row (or col)
        n_pos, n_line = (n_cols, n_rows) if horizontal else (n_rows, n_cols)
        pos, line = np.meshgrid(np.arange(n_pos - 1), np.arange(n_line))
        pos, line = pos.ravel(), line.ravel()
        a = line * n_cols + pos if horizontal else pos * n_cols + line
        b = a + (1 if horizontal else n_cols)
        arterial = line % k == 0
        cls = np.where(arterial, np.where((line // k) % 2 == 0, 2, 1), 0)
        keep = arterial | (rng.random(a.size) >= p.drop_share)
        n_stretch = (n_pos - 2) // k + 1
        one_stretch = rng.random((n_line, n_stretch)) < p.oneway_share
        oneway = ~arterial & one_stretch[line, pos // k]
        backwards = oneway & (line % 2 == 0)  # alternate directions street by street
        a, b = np.where(backwards, b, a), np.where(backwards, a, b)
        parts.append((a[keep], b[keep], cls[keep], oneway[keep]))
    u = np.concatenate([q[0] for q in parts])
    v = np.concatenate([q[1] for q in parts])
    cls = np.concatenate([q[2] for q in parts])
    oneway = np.concatenate([q[3] for q in parts])
    two = ~oneway
    return (
        np.concatenate([u, v[two]]),
        np.concatenate([v, u[two]]),
        np.concatenate([cls, cls[two]]),
        np.concatenate([oneway, oneway[two]]),
    )

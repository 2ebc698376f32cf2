"""Snapping a call's point onto the street network: the nearest drivable street segment.

A point is placed on the street segment (edge, with its curved geometry when the network
has one) nearest to it, and the call is made at that segment's end nearer along it (the
model places calls on nodes); ``snap_m`` is the distance from the point to the segment.
Boundary links (``sim.network.boundary``) are not streets: nothing snaps onto them. A network
without edges falls back to its nearest node.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.errors import SimInputError


class Snapper:
    """Snaps points to the nearest street segment of a network (a shapely STRtree)."""

    def __init__(self, network, router, tolerance_m: float):
        from scipy.spatial import cKDTree

        self.network, self.router, self.tolerance_m = network, router, tolerance_m
        self._tree = cKDTree(np.column_stack([router.x, router.y]))
        self._segments = _segments(network.graph, router)

    def project(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Degrees to the network's CRS (metres)."""
        if not self.network.georeferenced:
            raise SimInputError(
                f"calls table: points are given by lat/lon, but the {self.network.kind} network "
                "has no geographic position; give x/y in metres instead"
            )
        from pyproj import Transformer

        to_net = Transformer.from_crs("EPSG:4326", self.network.crs, always_xy=True)
        return to_net.transform(lon, lat)

    def nearest(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The node each point (network metres) is placed at and its distance to the street."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if self._segments is None:
            dist, node = self._tree.query(np.column_stack([x, y]))
            return node, dist
        import shapely

        tree, geoms, ends = self._segments
        points = shapely.points(x, y)
        (which, edge), dist = tree.query_nearest(points, return_distance=True, all_matches=False)
        order = np.argsort(which, kind="stable")
        edge, dist = edge[order], dist[order]
        along = shapely.line_locate_point(geoms[edge], points, normalized=True)
        node = np.where(along < 0.5, ends[edge, 0], ends[edge, 1])
        return node.astype(np.int64), dist.astype(float)

    def apply(
        self, calls: pd.DataFrame, ok: np.ndarray, geographic: bool
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """``calls`` with x_m, y_m, node and snap_m set where ``ok``; which are too far."""
        calls = calls.copy()
        x, y = np.array(calls["x_m"], dtype=float), np.array(calls["y_m"], dtype=float)
        if self.router.n_nodes == 1:  # a point network: every call is at its one node
            calls["node"], calls["snap_m"] = 0, 0.0
            return calls, np.zeros(len(calls), dtype=bool)
        if geographic and ok.any():
            x[ok], y[ok] = self.project(x[ok], y[ok])
        calls["x_m"], calls["y_m"] = x, y
        dist = np.full(len(calls), np.nan)
        node = np.full(len(calls), -1, dtype=np.int64)
        if ok.any():
            node[ok], dist[ok] = self.nearest(x[ok], y[ok])
        calls["snap_m"], calls["node"] = dist, node
        return calls, ok & ~(dist <= self.tolerance_m)


def _segments(graph, router):
    """(STRtree, geometries, (u, v) router indices) of the street edges; None without any."""
    import shapely

    geoms, ends = [], []
    for u, v, data in graph.edges(data=True):
        if data.get("boundary_link"):
            continue
        i, j = router.index[u], router.index[v]
        line = data.get("geometry")
        if line is None or isinstance(line, str):
            line = shapely.LineString([(router.x[i], router.y[i]), (router.x[j], router.y[j])])
        geoms.append(line)
        ends.append((i, j))
    if not geoms:
        return None
    geoms = np.array(geoms, dtype=object)
    return shapely.STRtree(geoms), geoms, np.array(ends, dtype=np.int64)

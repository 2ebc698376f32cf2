"""Places on a network: snapping points to nodes, communities and their anchors.

A point (``at``) is given as a node id (``{node: 123}``), projected metres (``{x:, y:}``, in
the network's CRS) or geographic degrees (``{lat:, lon:}``, only on georeferenced networks).
Communities are the areas nearest (by network travel time) to their anchor nodes.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pyproj import Transformer
from scipy.spatial import cKDTree

from sim.errors import SimInputError
from sim.network.routing import Router
from sim.network.sources import Network

DEFAULT_TOLERANCE_M = 250.0


def snap_point(
    network: Network,
    at: Any,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    what: str = "point",
) -> Any:
    """Return the node id nearest to ``at``; ``what`` names the point in error messages."""
    return snap_points(network, [at], tolerance_m, [what])[0]


def snap_points(
    network: Network,
    ats: Sequence[Any],
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    whats: Sequence[str] | None = None,
) -> list:
    """Snap many points at once (one nearest-node search); see ``snap_point``."""
    whats = list(whats) if whats is not None else [f"point {i + 1}" for i in range(len(ats))]
    graph = network.graph
    result: list = [None] * len(ats)
    xs, ys, todo = [], [], []
    for i, (at, what) in enumerate(zip(ats, whats, strict=True)):
        spec = _as_dict(at, what)
        if "node" in spec:
            result[i] = _known_node(network, spec["node"], what)
            continue
        x, y = _projected_xy(network, spec, what)
        xs.append(x)
        ys.append(y)
        todo.append(i)
    if todo:
        found, dist_m = nearest_nodes(graph, xs, ys)
        for i, node, d_m, x, y in zip(todo, found, dist_m, xs, ys, strict=True):
            if not d_m <= tolerance_m:
                raise SimInputError(
                    f"{whats[i]}: ({x:.0f}, {y:.0f}) m is {d_m:.0f} m from the nearest node "
                    f"of the network (tolerance {tolerance_m:g} m)"
                )
            result[i] = node.item() if isinstance(node, np.generic) else node
    return result


def _as_dict(at: Any, what: str) -> dict:
    if hasattr(at, "model_dump"):
        at = at.model_dump(exclude_none=True)
    if not isinstance(at, Mapping):
        raise SimInputError(
            f"{what}: 'at' must be {{node: ..}}, {{x: .., y: ..}} or {{lat:, lon:}}"
        )
    keys = set(at)
    if keys not in ({"node"}, {"x", "y"}, {"lat", "lon"}):
        raise SimInputError(
            f"{what}: 'at' must have exactly node, or x and y, or lat and lon; got {sorted(keys)}"
        )
    return dict(at)


def _known_node(network: Network, node: Any, what: str) -> Any:
    if node in network.graph:
        return node
    if isinstance(node, str) and node.strip().lstrip("-").isdigit() and int(node) in network.graph:
        return int(node)
    raise SimInputError(
        f"{what}: node {node!r} is not in the network (or not in its largest strongly "
        "connected part)"
    )


def _projected_xy(network: Network, spec: dict, what: str) -> tuple[float, float]:
    """Return the point's coordinates in the network's CRS (metres)."""
    if "x" in spec:
        return _number(spec["x"], what, "x"), _number(spec["y"], what, "y")
    lat, lon = _number(spec["lat"], what, "lat"), _number(spec["lon"], what, "lon")
    if not network.georeferenced:
        raise SimInputError(
            f"{what}: given by lat/lon, but the {network.kind} network has no geographic "
            "position; give x/y in metres or a node"
        )
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise SimInputError(f"{what}: lat {lat} / lon {lon} are not valid degrees")
    return from_degrees(network.graph.graph["crs"], lon, lat)


def from_degrees(crs: Any, lon: float, lat: float) -> tuple[float, float]:
    """(x, y) in ``crs`` of a point in degrees (as osmnx's ``project_geometry``, no osmnx)."""
    x, y = _transformer(crs).transform(lon, lat)
    return float(x), float(y)


@functools.cache
def _transformer(crs: Any) -> Transformer:
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def nearest_nodes(graph: Any, xs: Sequence[float], ys: Sequence[float]) -> tuple[list, np.ndarray]:
    """The node nearest each (x, y) of a projected graph and its distance in metres.

    What osmnx's ``distance.nearest_nodes`` does for a projected graph (a k-d tree of the
    nodes' x, y in graph order), without importing osmnx (and scikit-learn with it: 1.3 s).
    """
    nodes = list(graph.nodes)
    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)
    dist_m, pos = cKDTree(xy).query(np.column_stack([xs, ys]), k=1)
    return [nodes[i] for i in pos], dist_m


def _number(value: Any, what: str, key: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SimInputError(f"{what}: '{key}' must be a number, got {value!r}") from None
    if not np.isfinite(number):
        raise SimInputError(f"{what}: '{key}' must be finite, got {value!r}")
    return number


def assign_communities(router: Router, anchors: Sequence[int]) -> np.ndarray:
    """Return, for every node index, the position in ``anchors`` of its community.

    A node belongs to the anchor that reaches it fastest (network travel time from the
    anchor); a node no anchor reaches goes to the nearest anchor in a straight line.
    ``anchors`` are node indices of ``router``; communities sharing an anchor node get
    nothing but the first of them.
    """
    anchors = [int(a) for a in anchors]
    if not anchors:
        raise ValueError("no community anchors")
    unique = list(dict.fromkeys(anchors))
    _, which_unique = router.nearest_anchor(unique)
    first = np.array([anchors.index(a) for a in unique] + [-1], dtype=np.int64)
    which = first[np.asarray(which_unique, dtype=np.int64)]  # -1 (unreached) stays -1
    lost = np.flatnonzero(which < 0)
    if lost.size:
        tree = cKDTree(np.column_stack([router.x[anchors], router.y[anchors]]))
        _, nearest = tree.query(np.column_stack([router.x[lost], router.y[lost]]))
        which[lost] = nearest
    return which


def generate_anchors(router: Router, k: int, seed: int = 0, iterations: int = 30) -> list[int]:
    """Return ``k`` well-spread node indices: seeded k-means on coordinates, snapped to nodes.

    Ordered north-west to south-east (rows of about the community size), so numbering reads
    like a map.
    """
    n = router.n_nodes
    if not 1 <= k <= n:
        raise SimInputError(f"cannot make {k} communities on a network of {n} nodes")
    xy = np.column_stack([router.x, router.y])
    rng = np.random.default_rng(seed)
    centres = _kmeans_pp(xy, k, rng)
    for _ in range(iterations):
        label = _closest(xy, centres)
        for c in range(k):
            members = xy[label == c]
            if len(members):
                centres[c] = members.mean(axis=0)
    tree = cKDTree(xy)
    chosen: list[int] = []
    for centre in centres:
        _, near = tree.query(centre, k=min(n, k + 1))
        chosen.append(next(int(i) for i in np.atleast_1d(near) if int(i) not in chosen))
    cell_m = np.sqrt(np.ptp(xy[:, 0]) * np.ptp(xy[:, 1]) / k) or 1.0
    return sorted(chosen, key=lambda i: (-round(router.y[i] / cell_m), router.x[i]))


def _kmeans_pp(xy: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Return k-means++ initial centres."""
    centres = [xy[rng.integers(len(xy))]]
    d2 = ((xy - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = d2.sum()
        i = rng.choice(len(xy), p=d2 / total) if total > 0 else rng.integers(len(xy))
        centres.append(xy[i])
        d2 = np.minimum(d2, ((xy - xy[i]) ** 2).sum(axis=1))
    return np.array(centres, dtype=float)


def _closest(xy: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Return the index of the closest centre to each point."""
    _, label = cKDTree(centres).query(xy)
    return label

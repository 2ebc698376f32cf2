"""Communities drawn as balanced areas of a street network (``network --communities K``).

Anchors are spread by ``generate_anchors`` (k-means on coordinates). Each community then grows
from its anchor along the streets, claiming the nodes its anchor reaches soonest (network
travel time), until it holds its quota of ``ceil(n / k)`` nodes: a capacitated multi-source
Dijkstra, so every area is connected through its own streets and no area is larger than the
quota. Nodes no area with room left can reach (an area closed in by full ones) go to the
anchor that reaches them fastest. Each anchor then moves to its area's medoid by travel time
from the area's nodes' centre (the node nearest the mean of its members), and the areas are
grown again, a few rounds.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
from scipy.spatial import cKDTree

from sim.network.places import assign_communities


def balanced_communities(router, k: int, seed: int = 0) -> tuple[list[int], np.ndarray]:
    """Anchors (node indices) and, for every node, its community (0..k-1), of balanced size."""
    del seed  # the partition is deterministic; kept for the callers' signature
    xy = np.column_stack([router.x, router.y])
    parts = bisect(xy, np.arange(router.n_nodes), k)
    which_parts = np.empty(router.n_nodes, dtype=np.int64)
    anchors = []
    for c, members in enumerate(parts):
        which_parts[members] = c
        centre = xy[members].mean(axis=0)
        anchors.append(int(members[cKDTree(xy[members]).query(centre)[1]]))
    grown = grow(router, anchors)
    if _spread(grown, k) <= _spread(which_parts, k) + max(1, router.n_nodes // (10 * k)):
        return anchors, grown
    return anchors, which_parts


def bisect(xy: np.ndarray, nodes: np.ndarray, k: int) -> list[np.ndarray]:
    """``k`` parts of ``nodes`` of sizes within one node of each other.

    Recursive coordinate bisection: each cut across the longer side, its two sides sized in
    proportion to the parts they will hold; parts are ordered north-west to south-east.
    """
    if k == 1:
        return [nodes]
    left_k = k // 2
    points = xy[nodes]
    axis = int(np.argmax(np.ptp(points, axis=0)))
    order = nodes[np.lexsort((points[:, 1 - axis], points[:, axis]))]
    if axis == 1:
        order = order[::-1]  # north first
    cut = round(len(nodes) * left_k / k)
    return bisect(xy, order[:cut], left_k) + bisect(xy, order[cut:], k - left_k)


def _spread(which: np.ndarray, k: int) -> int:
    """The largest area's nodes minus the smallest's."""
    sizes = np.bincount(which, minlength=k)
    return int(sizes.max() - sizes.min())


def grow(router, anchors: list[int]) -> np.ndarray:
    """Grow an area from each anchor to at most ``ceil(n / k)`` nodes (see the docstring)."""
    n, k = router.n_nodes, len(anchors)
    quota = math.ceil(n / k)
    which = np.full(n, -1, dtype=np.int64)
    size = np.zeros(k, dtype=np.int64)
    heap = [(0.0, c, a) for c, a in enumerate(anchors)]
    heapq.heapify(heap)
    indptr, indices, weights = _adjacency(router)
    while heap:
        t, c, node = heapq.heappop(heap)
        if which[node] >= 0 or size[c] >= quota:
            continue
        which[node] = c
        size[c] += 1
        for j in range(indptr[node], indptr[node + 1]):
            if which[indices[j]] < 0:
                heapq.heappush(heap, (t + weights[j], c, int(indices[j])))
    _fill(which, size, indptr, indices)
    left = np.flatnonzero(which < 0)
    if left.size:  # not connected to any area at all
        which[left] = assign_communities(router, anchors)[left]
    return which


def _fill(which: np.ndarray, size: np.ndarray, indptr, indices) -> None:
    """Give nodes closed in by full areas to the smallest area next to them, ring by ring."""
    while True:
        left = np.flatnonzero(which < 0)
        changed = False
        for node in left.tolist():
            near = {int(which[j]) for j in indices[indptr[node] : indptr[node + 1]]} - {-1}
            if near:
                c = min(near, key=lambda a: (size[a], a))
                which[node] = c
                size[c] += 1
                changed = True
        if not changed:
            return


def _adjacency(router):
    """CSR arrays of the streets both ways (an area grows along a street either way)."""
    both = _both(router)
    return both.indptr, both.indices, both.data


def _both(router):
    """Forward and reverse edges in one CSR matrix, the faster of each pair kept."""
    from scipy.sparse import csr_array

    fwd, rev = router.forward.tocoo(), router.reverse.tocoo()
    rows = np.concatenate([fwd.row, rev.row])
    cols = np.concatenate([fwd.col, rev.col])
    data = np.concatenate([fwd.data, rev.data])
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    n = router.n_nodes
    return csr_array((data[first], (rows[first], cols[first])), shape=(n, n))

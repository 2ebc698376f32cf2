"""Bounded A* searches on CSR arrays, compiled with numba: one path, or the nearest source.

scipy's ``dijkstra`` settles every node it can reach (within ``limit``) and checks its
input on each call, which costs a tenth of a millisecond or more even when the answer lies
a few streets away. Dispatching and patrolling ask many such small questions: the time and
path between two nodes, and which of a few units on the road reaches a call first. These
searches stop as soon as the answer is known and touch only the nodes they settle, on
scratch arrays kept per thread and reset after each search.

They are guided by landmark bounds (ALT: Goldberg and Harrelson 2005, "Computing the
shortest path: A* search meets graph theory"): with the travel times from and to a few
landmarks chosen far apart, the triangle inequality gives ``d(v, t) >= d(L, t) - d(L, v)``
and ``d(v, t) >= d(v, L) - d(t, L)``, a consistent lower bound, so every node is settled
with its exact time. On street networks it is much tighter than a straight line at the
fastest speed, and a search settles about half the nodes.

They compute the same recursion as scipy's (``dist[v] = dist[u] + w`` in order of settling),
so times are equal to the last bit; ``tests/test_search.py`` compares them with scipy on
random networks. ``Router(kernel="scipy")`` keeps scipy for every query, as the reference.
"""

from __future__ import annotations

import threading

import numpy as np
from numba import njit
from scipy.sparse.csgraph import dijkstra

_INF = np.inf
_MARGIN = 1.0 + 1e-12  # stop a nearest search only this far beyond the best ...
_TINY_MIN = 1e-12  # ... and this many minutes (ties survive sums taken in another order)
_A_STAR_SOURCES = 16  # nearest searches for more sources are plain Dijkstra
_BOUND_SLACK_MIN = 1e-9  # landmark bounds are lowered by this, to stay below float sums
LANDMARKS = 8  # how many landmarks guide the searches
_NO_NODES = np.empty(0, dtype=np.int32)
_NO_SOURCES = np.empty(0, dtype=np.int32)  # a nearest search with no bound to guide it


@njit(cache=True, inline="always")
def _push(keys, nodes, size, key, node):
    """Add (key, node) to the binary heap of ``size`` items; return the new size."""
    i = size
    keys[i] = key
    nodes[i] = node
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= keys[i]:
            break
        keys[i], keys[parent] = keys[parent], keys[i]
        nodes[i], nodes[parent] = nodes[parent], nodes[i]
        i = parent
    return size + 1


@njit(cache=True, inline="always")
def _pop(keys, nodes, size):
    """Remove the smallest item; return (key, node, new size)."""
    key, node = keys[0], nodes[0]
    size -= 1
    keys[0], nodes[0] = keys[size], nodes[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and keys[left + 1] < keys[left]:
            child = left + 1
        if keys[i] <= keys[child]:
            break
        keys[i], keys[child] = keys[child], keys[i]
        nodes[i], nodes[child] = nodes[child], nodes[i]
        i = child
    return key, node, size


@njit(cache=True, inline="always")
def _bound(from_lm, to_lm, a, b):
    """A lower bound of the minutes from node ``a`` to node ``b`` (landmarks, triangle)."""
    h = 0.0
    for k in range(from_lm.shape[1]):
        ahead = from_lm[b, k] - from_lm[a, k]  # d(L, b) - d(L, a)
        behind = to_lm[a, k] - to_lm[b, k]  # d(a, L) - d(b, L)
        if ahead > h:
            h = ahead
        if behind > h:
            h = behind
    return h - _BOUND_SLACK_MIN if h > _BOUND_SLACK_MIN else 0.0


@njit(cache=True, inline="always")
def _relax(
    indptr, indices, data, from_lm, to_lm, u, d, target, sources,
    dist, pred, done, touched, count, keys, nodes, size,
):  # fmt: skip
    """Relax the edges out of ``u``, just settled at ``d``; return (touched count, heap size).

    Each node reached sooner is pushed keyed by its time plus a lower bound of what is left:
    to ``target`` (a path search), else from the closest of ``sources`` (a nearest search
    on the reverse graph; none: no bound, plain Dijkstra).
    """
    for e in range(indptr[u], indptr[u + 1]):
        v = indices[e]
        if done[v]:
            continue
        nd = d + data[e]
        if nd < dist[v]:
            if dist[v] == _INF:
                touched[count] = v
                count += 1
            dist[v] = nd
            pred[v] = u
            h = _bound(from_lm, to_lm, v, target) if target >= 0 else 0.0
            if len(sources) > 0:
                h = _INF
                for k in range(len(sources)):
                    h = min(h, _bound(from_lm, to_lm, sources[k], v))
            size = _push(keys, nodes, size, nd + h, v)
    return count, size


@njit(cache=True)
def _reset(dist, pred, done, touched, count):
    for j in range(count):
        v = touched[j]
        dist[v] = _INF
        pred[v] = -1
        done[v] = False


@njit(cache=True)
def path_search(
    indptr, indices, data, from_lm, to_lm, source, target,
    dist, pred, done, touched, keys, nodes,
):  # fmt: skip
    """Fastest time from ``source`` to ``target`` (inf: none); ``pred`` holds the path.

    A* with the landmark lower bound (``from_lm``, ``to_lm``: minutes from and to each
    landmark, one row per node). Returns (time, number of touched nodes); the caller reads
    ``pred`` and then resets.
    """
    count = 0
    dist[source] = 0.0
    touched[count] = source
    count += 1
    size = _push(keys, nodes, 0, 0.0, source)
    while size > 0:
        _, u, size = _pop(keys, nodes, size)
        if done[u]:
            continue
        done[u] = True
        d = dist[u]
        if u == target:
            return d, count
        count, size = _relax(
            indptr, indices, data, from_lm, to_lm, u, d, target, _NO_SOURCES,
            dist, pred, done, touched, count, keys, nodes, size,
        )  # fmt: skip
    return _INF, count


@njit(cache=True)
def nearest_search(
    indptr, indices, data, from_lm, to_lm, target, sources, scales, offsets, bound,
    dist, pred, done, touched, keys, nodes, waiting,
):  # fmt: skip
    """Minutes from each source to ``target``, for the sources that can arrive first.

    Source k arrives after ``minutes * scales[k] + offsets[k]``. A search backwards from
    ``target`` on the reverse graph, stopped once no source left can arrive in ``bound`` or
    less (the best time already known elsewhere) nor beat a source found. Sources not
    reached by then get inf: they cannot be the fastest. Ties are kept (with a margin of a
    few ulps, so the caller may sum in its own order). With up to ``_A_STAR_SOURCES``
    sources it is an A* search, the lower bound being the landmarks' to the closest source
    (``from_lm``, ``to_lm`` are the forward graph's: the search runs on the reverse one).
    """
    k_all = len(sources)
    minutes = np.full(k_all, _INF)
    if k_all == 0:
        return minutes, 0
    min_scale, min_off = scales[0], offsets[0]
    for k in range(k_all):
        waiting[sources[k]] += 1
        min_scale = min(min_scale, scales[k])
        min_off = min(min_off, offsets[k])
    left = k_all
    best = bound
    count = 0
    dist[target] = 0.0
    touched[count] = target
    count += 1
    guided = k_all <= _A_STAR_SOURCES
    size = _push(keys, nodes, 0, 0.0, target)
    while size > 0 and left > 0:
        key, u, size = _pop(keys, nodes, size)
        if done[u]:
            continue
        if key * min_scale + min_off > best * _MARGIN + _TINY_MIN:
            break  # every source still unreached arrives later than the best
        done[u] = True
        d = dist[u]
        if waiting[u] > 0:
            for k in range(k_all):
                if sources[k] == u:
                    minutes[k] = d
                    best = min(best, d * scales[k] + offsets[k])
                    left -= 1
        count, size = _relax(
            indptr, indices, data, from_lm, to_lm, u, d, -1, sources if guided else _NO_SOURCES,
            dist, pred, done, touched, count, keys, nodes, size,
        )  # fmt: skip
    for k in range(k_all):
        waiting[sources[k]] = 0
    return minutes, count


@njit(cache=True)
def walk_back(pred, start, stop, reverse):
    """Nodes from ``start`` to ``stop`` following ``pred`` (empty: ``stop`` is not reached).

    ``reverse``: in the opposite order, ``stop`` first (the path a search from ``stop`` found).
    """
    length, v = 1, start
    while v != stop:
        v = pred[v]
        if v < 0 or length >= len(pred):
            return np.empty(0, dtype=np.int32)
        length += 1
    out = np.empty(length, dtype=np.int32)
    v = start
    for i in range(length):
        out[length - 1 - i if reverse else i] = v
        if i + 1 < length:
            v = pred[v]
    return out


@njit(cache=True)
def cumulative_minutes(indptr, indices, data, path):
    """Minutes from the path's first node to each of its nodes (edge by edge, in order)."""
    cum = np.zeros(len(path))
    total = 0.0
    for i in range(len(path) - 1):
        u, v = path[i], path[i + 1]
        w = _INF
        for e in range(indptr[u], indptr[u + 1]):
            if indices[e] == v:
                w = data[e]
                break
        total += w
        cum[i + 1] = total
    return cum


@njit(cache=True)
def path_entries(indptr, indices, path):
    """The CSR entry of each edge along the path (-1 where two nodes are not joined)."""
    out = np.full(max(len(path) - 1, 0), -1, dtype=np.int64)
    for i in range(len(path) - 1):
        u, v = path[i], path[i + 1]
        for e in range(indptr[u], indptr[u + 1]):
            if indices[e] == v:
                out[i] = e
                break
    return out


def landmark_rows(forward, reverse, count: int = LANDMARKS) -> tuple[np.ndarray, np.ndarray]:
    """Minutes from and to ``count`` landmarks, one row per node: ``(from_lm, to_lm)``.

    Landmarks are chosen farthest first (Goldberg and Harrelson 2005): the first is node
    0's farthest node there and back, each next one the node farthest from those chosen.
    ``forward`` and ``reverse`` are CSR arrays of edge minutes. Unreachable pairs are inf,
    which the bound reads correctly (inf - finite: unreachable; inf - inf: no bound).
    """
    n = forward.shape[0]
    count = min(count, n)
    from_rows, to_rows = np.empty((count, n)), np.empty((count, n))
    far = dijkstra(forward, indices=0) + dijkstra(reverse, indices=0)  # there and back
    closest = np.full(n, _INF)  # there and back to the closest landmark chosen
    for k in range(count):
        node = int(np.argmax(np.where(np.isfinite(far), far, -1.0)))
        from_rows[k] = dijkstra(forward, indices=node)
        to_rows[k] = dijkstra(reverse, indices=node)
        closest = far = np.minimum(closest, from_rows[k] + to_rows[k])
    return np.ascontiguousarray(from_rows.T), np.ascontiguousarray(to_rows.T)


class Scratch(threading.local):
    """Per-thread work arrays for searches on a graph of ``n`` nodes and ``m`` edges."""

    def __init__(self, n: int, m: int):
        self.dist = np.full(n, _INF)
        self.pred = np.full(n, -1, dtype=np.int32)
        self.done = np.zeros(n, dtype=np.bool_)
        self.waiting = np.zeros(n, dtype=np.int32)
        self.touched = np.zeros(n, dtype=np.int32)
        self.keys = np.zeros(m + 1)
        self.nodes = np.zeros(m + 1, dtype=np.int32)

    def reset(self, count: int) -> None:
        """Make the arrays clean again after a search that touched ``count`` nodes."""
        _reset(self.dist, self.pred, self.done, self.touched, count)


def path_between(
    graph, landmarks: tuple[np.ndarray, np.ndarray], scratch: Scratch, source: int, target: int
) -> tuple[float, np.ndarray]:
    """(minutes, node indices source..target) of the fastest path; (inf, empty) if none.

    ``graph`` is a CSR array of edge minutes (forward); ``landmarks`` its ``landmark_rows``.
    """
    minutes, count = path_search(
        graph.indptr, graph.indices, graph.data, *landmarks, source, target,
        scratch.dist, scratch.pred, scratch.done, scratch.touched, scratch.keys, scratch.nodes,
    )  # fmt: skip
    nodes = walk_back(scratch.pred, target, source, True) if minutes < _INF else _NO_NODES
    scratch.reset(count)
    return float(minutes), nodes


def time_between(
    graph, landmarks: tuple[np.ndarray, np.ndarray], scratch: Scratch, source: int, target: int
) -> float:
    """Minutes of the fastest path from ``source`` to ``target`` (inf: none), path unread."""
    minutes, count = path_search(
        graph.indptr, graph.indices, graph.data, *landmarks, source, target,
        scratch.dist, scratch.pred, scratch.done, scratch.touched, scratch.keys, scratch.nodes,
    )  # fmt: skip
    scratch.reset(count)
    return float(minutes)


def nearest_minutes(
    reverse, landmarks, scratch: Scratch, target: int, sources, scales, offsets, bound: float
) -> np.ndarray:
    """Minutes from each source to ``target``, inf for those that cannot arrive first.

    ``reverse`` is the CSR array of the reversed graph, ``landmarks`` the forward graph's
    ``landmark_rows``; see ``nearest_search``.
    """
    minutes, count = nearest_search(
        reverse.indptr, reverse.indices, reverse.data, *landmarks, target,
        np.asarray(sources, dtype=np.int32), np.asarray(scales, dtype=float),
        np.asarray(offsets, dtype=float), float(bound),
        scratch.dist, scratch.pred, scratch.done, scratch.touched, scratch.keys, scratch.nodes,
        scratch.waiting,
    )  # fmt: skip
    scratch.reset(count)
    return minutes

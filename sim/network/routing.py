"""Exact shortest travel times on a street network, with scipy.sparse.csgraph.

The graph is turned once into two CSR matrices of travel times in minutes (forward and
reverse), keeping the fastest of parallel edges (``networkx.to_scipy_sparse_array`` would add
them). Queries work on integer node indices (``Router.index`` maps graph node ids to them):

- one-to-all rows from a node (``times_from``) and all-to-one rows to a node (``times_to``),
  kept in a small LRU cache;
- rows precomputed for posts (``precompute``), with predecessors so paths to and from posts
  cost no search;
- the nearest of K sources to a target (``nearest``): lookups in precomputed rows, and for the
  other sources a reverse Dijkstra from the target with an expanding limit;
- the path itself (``path``) and positions along it (``Route``).

Searches between nodes that are not posts use the compiled searches of
``sim.network.search``, which stop as soon as the answer is known; ``kernel="scipy"`` keeps
scipy's full searches instead (the reference that tests compare against). networkx is only
read at construction, never in queries.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from sim.clock import SECONDS_PER_MIN

_ROW_CACHE_BYTES = 256 * 2**20  # memory for cached one-to-all rows (both directions)
_FIRST_LIMIT_MIN = 4.0  # first radius of the expanding reverse search (scipy kernel)
KERNELS = ("numba", "scipy")
_FEW_SOURCES = 4  # nearest: above this many sources, read the post rows' column at once
_PRECOMPUTE_CHUNK = 8  # post rows searched at once


def edge_arrays(
    graph: nx.MultiDiGraph, weight: str = "travel_time"
) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
    """Return (node ids, tail index, head index, weight in minutes), fastest parallel edge only.

    Self-loops are dropped (they never shorten a path). ``weight`` is in seconds (osmnx).
    """
    nodes = list(graph.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    triples = [(index[u], index[v], w) for u, v, w in graph.edges(data=weight) if u != v]
    if not triples:
        empty = np.zeros(0, dtype=np.int64)
        return nodes, empty, empty, np.zeros(0)
    tails, heads, seconds = (np.asarray(col) for col in zip(*triples, strict=True))
    if seconds.dtype == object or np.any(~np.isfinite(seconds.astype(float))):
        raise ValueError(f"edge attribute {weight!r} is missing or not a finite number")
    minutes = seconds.astype(float) / SECONDS_PER_MIN
    order = np.lexsort((minutes, heads, tails))  # by tail, head, then fastest first
    tails, heads, minutes = tails[order], heads[order], minutes[order]
    first = np.ones(len(tails), dtype=bool)
    first[1:] = (tails[1:] != tails[:-1]) | (heads[1:] != heads[:-1])
    return nodes, tails[first], heads[first], minutes[first]


@dataclass(slots=True)
class Route:
    """A path through node indices, left at ``t_depart_min``, with cumulative times."""

    nodes: np.ndarray  # node indices, origin first
    cum_min: np.ndarray  # time from the origin to each node
    t_depart_min: float

    @property
    def t_arrive_min(self) -> float:
        """Arrival time at the last node."""
        return self.t_depart_min + float(self.cum_min[-1])

    def leg_at(self, t_min: float) -> tuple[int, float]:
        """Return (leg k, fraction along it) at time t: between nodes[k] and nodes[k + 1]."""
        elapsed = t_min - self.t_depart_min
        if elapsed <= 0 or len(self.nodes) == 1:
            return 0, 0.0
        if elapsed >= self.cum_min[-1]:
            return len(self.nodes) - 2, 1.0
        k = bisect.bisect_right(self.cum_min, elapsed) - 1  # (quicker than numpy for one)
        span = self.cum_min[k + 1] - self.cum_min[k]
        return k, float((elapsed - self.cum_min[k]) / span) if span > 0 else 1.0

    def next_node_at(self, t_min: float) -> tuple[int, float]:
        """Return (the first node not yet passed at time t, minutes until it is reached)."""
        elapsed = t_min - self.t_depart_min
        k = bisect.bisect_left(self.cum_min, elapsed)
        k = min(k, len(self.nodes) - 1)
        return int(self.nodes[k]), max(0.0, float(self.cum_min[k] - elapsed))

    def xy_at(self, t_min: float, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """Straight-line interpolated coordinates at time t (edge geometry is not used)."""
        if len(self.nodes) == 1:
            return float(x[self.nodes[0]]), float(y[self.nodes[0]])
        k, frac = self.leg_at(t_min)
        a, b = self.nodes[k], self.nodes[k + 1]
        return float(x[a] + frac * (x[b] - x[a])), float(y[a] + frac * (y[b] - y[a]))


class _LRU(OrderedDict):
    """A least-recently-used cache that models in several threads may share (one lock)."""

    def __init__(self, capacity: int):
        super().__init__()
        self.capacity = capacity
        self._lock = threading.Lock()

    def get_or(self, key, compute):
        with self._lock:
            if key in self:
                self.move_to_end(key)
                return self[key]
            value = compute()
            self[key] = value
            if len(self) > self.capacity:
                self.popitem(last=False)
            return value


class Router:
    """Exact shortest travel times (minutes) between nodes of one network."""

    def __init__(self, graph: nx.MultiDiGraph, weight: str = "travel_time", kernel: str = "numba"):
        """Travel times on ``graph`` (edge ``weight`` in seconds); ``kernel``: see KERNELS."""
        if kernel not in KERNELS:
            raise ValueError(f"kernel {kernel!r}: one of {', '.join(KERNELS)}")
        self.kernel = kernel
        nodes, tails, heads, minutes = edge_arrays(graph, weight)
        n = len(nodes)
        self.node_ids: list = nodes
        self.index: dict = {node: i for i, node in enumerate(nodes)}
        self.n_nodes = n
        self.x = np.array([graph.nodes[v].get("x", 0.0) for v in nodes], dtype=float)
        self.y = np.array([graph.nodes[v].get("y", 0.0) for v in nodes], dtype=float)
        # 32-bit indices: scipy's csgraph would convert 64-bit ones on every search
        tails, heads = tails.astype(np.int32), heads.astype(np.int32)
        self.forward = csr_array((minutes, (tails, heads)), shape=(n, n))
        self.reverse = csr_array((minutes, (heads, tails)), shape=(n, n))
        capacity = max(8, _ROW_CACHE_BYTES // (16 * max(n, 1)))
        self._from_cache = _LRU(capacity)
        self._to_cache = _LRU(capacity)
        self._post_slot: dict[int, int] = {}
        self._post_from = np.zeros((0, n))
        self._post_from_rows: list[np.ndarray] = []
        self._post_to = np.zeros((0, n))
        self._post_from_pred = np.zeros((0, n), dtype=np.int32)
        self._post_to_pred = np.zeros((0, n), dtype=np.int32)
        self._scratch = None  # per-thread work arrays of the compiled searches
        self._landmarks = None  # minutes from and to the landmarks guiding them

    @property
    def compiled(self):
        """The compiled searches (``sim.network.search``, loaded on first use); None: scipy's."""
        return _compiled_searches() if self.kernel == "numba" else None

    @property
    def scratch(self):
        """The compiled searches' work arrays (per thread; made on first use)."""
        if self._scratch is None:
            self._scratch = self.compiled.Scratch(self.n_nodes, self.forward.nnz)
        return self._scratch

    @property
    def landmarks(self) -> tuple[np.ndarray, np.ndarray]:
        """Minutes from and to the landmarks that guide the compiled searches (first use)."""
        if self._landmarks is None:
            self._landmarks = self.compiled.landmark_rows(self.forward, self.reverse)
        return self._landmarks

    # -- rows ---------------------------------------------------------------------------
    def precompute(self, sources: list[int]) -> None:
        """Compute and keep rows (and predecessors) to and from these nodes, e.g. posts.

        Rows are searched a few sources at a time into arrays of their final size, so peak
        memory stays near what the rows themselves take.
        """
        new = [s for s in dict.fromkeys(sources) if s not in self._post_slot]
        if not new:
            return
        old, total = len(self._post_slot), len(self._post_slot) + len(new)
        d_from, d_to = (_grown(a, total) for a in (self._post_from, self._post_to))
        p_from, p_to = (_grown(a, total) for a in (self._post_from_pred, self._post_to_pred))
        for at in range(0, len(new), _PRECOMPUTE_CHUNK):
            chunk = new[at : at + _PRECOMPUTE_CHUNK]
            rows = slice(old + at, old + at + len(chunk))
            d_from[rows], p_from[rows] = dijkstra(
                self.forward, indices=chunk, return_predecessors=True
            )
            d_to[rows], p_to[rows] = dijkstra(self.reverse, indices=chunk, return_predecessors=True)
        for s in new:
            self._post_slot[s] = len(self._post_slot)
        self._post_from, self._post_to = d_from, d_to
        self._post_from_pred, self._post_to_pred = p_from, p_to
        self._post_from_rows = list(self._post_from)  # row views, quicker to index one by one

    def times_from(self, source: int) -> np.ndarray:
        """Minutes from ``source`` to every node (inf where unreachable)."""
        slot = self._post_slot.get(source)
        if slot is not None:
            return self._post_from[slot]
        return self._from_cache.get_or(source, lambda: dijkstra(self.forward, indices=source))

    def times_to(self, target: int) -> np.ndarray:
        """Minutes from every node to ``target`` (inf where it cannot be reached)."""
        slot = self._post_slot.get(target)
        if slot is not None:
            return self._post_to[slot]
        return self._to_cache.get_or(target, lambda: dijkstra(self.reverse, indices=target))

    def time(self, source: int, target: int) -> float:
        """Minutes of the fastest path from ``source`` to ``target``."""
        if source == target:
            return 0.0
        if source in self._post_slot:
            return float(self._post_from[self._post_slot[source], target])
        if target in self._post_slot:
            return float(self._post_to[self._post_slot[target], source])
        if target in self._to_cache:
            return float(self.times_to(target)[source])
        if (search := self.compiled) is not None and source not in self._from_cache:
            return search.time_between(self.forward, self.landmarks, self.scratch, source, target)
        return float(self.times_from(source)[target])

    # -- nearest ------------------------------------------------------------------------
    def nearest(
        self, sources: list[int], target: int, offsets_min: list[float] | None = None
    ) -> tuple[int, float]:
        """Return (position k in ``sources``, minutes) of the fastest source to ``target``.

        ``offsets_min[k]`` is added to source k's time (e.g. a unit still reaching that node).
        Exact; ties go to the lowest k. Returns (-1, inf) when no source can reach the target.
        """
        n = len(sources)
        offsets = [0.0] * n if offsets_min is None else offsets_min
        if n == 1:
            if sources[0] == target:  # at the target already: no path, its own offset
                return (0, offsets[0]) if offsets[0] < math.inf else (-1, math.inf)
            if (one := self._one_by_search(sources[0], target, offsets[0])) is not None:
                return one
        totals = [math.inf] * n
        unknown = []
        slots, rows = self._post_slot, self._post_from_rows
        # many sources: the post rows' column at the target, read at once as Python floats
        column = self._post_from[:, target].tolist() if n > _FEW_SOURCES else None
        for k, s in enumerate(sources):  # plain Python: for a few sources, faster than numpy
            if s == target:
                totals[k] = offsets[k]
            elif (slot := slots.get(s)) is not None:
                row = column[slot] if column is not None else float(rows[slot][target])
                totals[k] = row + offsets[k]
            else:
                unknown.append(k)
        if unknown:
            filled = np.asarray(totals)
            self._fill_by_reverse_search(sources, target, np.asarray(offsets), filled, unknown)
            totals = filled.tolist()
        best = min(totals, default=math.inf)
        return (totals.index(best), best) if best < math.inf else (-1, math.inf)

    def _one_by_search(self, source: int, target: int, offset: float) -> tuple[int, float] | None:
        """``nearest`` of one source that needs a search, the short way (None: not such)."""
        if source in self._post_slot or target in self._post_slot:
            return None  # (checked first: the compiled searches load only when needed)
        if target in self._to_cache or (search := self.compiled) is None:
            return None
        found = search.nearest_minutes(
            self.reverse, self.landmarks, self.scratch, target, (source,), (1.0,), (offset,),
            math.inf,
        )  # fmt: skip
        total = float(found[0]) + offset
        return (0, total) if total < math.inf else (-1, math.inf)

    def _fill_by_reverse_search(self, sources, target, offsets, totals, unknown) -> None:
        """Fill ``totals[unknown]`` far enough to know the minimum exactly."""
        idx = np.array([sources[k] for k in unknown])
        off = offsets[unknown]
        if target in self._to_cache or target in self._post_slot:
            totals[unknown] = self.times_to(target)[idx] + off
            return
        best_known = float(totals.min())
        if (search := self.compiled) is not None:
            found = search.nearest_minutes(
                self.reverse,
                self.landmarks,
                self.scratch,
                target,
                idx,
                np.ones(len(idx)),
                off,
                best_known,
            )
            totals[unknown] = found + off
            return
        if best_known - float(off.min()) < 0:
            return  # none of them can beat a source already known: leave them at inf
        limit = _FIRST_LIMIT_MIN
        while True:
            # a source beyond `limit` costs more than limit + min(off): stop when that cannot win
            bound = best_known - float(off.min())
            search_limit = min(limit, bound) if np.isfinite(bound) else limit
            row = dijkstra(self.reverse, indices=target, limit=search_limit)
            found = row[idx] + off
            best = min(best_known, float(found.min()))
            reached_all = np.isfinite(row[idx]).all()
            if reached_all or search_limit >= bound or best <= search_limit + float(off.min()):
                totals[unknown] = found
                return
            if limit > self.diameter_bound_min():
                totals[unknown] = found  # the rest are unreachable
                return
            limit *= 4

    def minutes_to(self, target: int, sources, scales, offsets) -> np.ndarray:
        """Minutes from each source to ``target``, exact for every source that can arrive first.

        Source k arrives after ``minutes[k] * scales[k] + offsets[k]``; the minutes of sources
        that cannot arrive first may be inf (with the compiled search, which stops early).
        """
        if (search := self.compiled) is not None and target not in self._to_cache:
            return search.nearest_minutes(
                self.reverse,
                self.landmarks,
                self.scratch,
                target,
                sources,
                scales,
                offsets,
                math.inf,
            )
        return self.times_to(target)[np.asarray(sources, dtype=np.int64)]

    def diameter_bound_min(self) -> float:
        """An upper bound of any finite travel time (sum of all edge times)."""
        if not hasattr(self, "_diameter"):
            self._diameter = float(self.forward.data.sum()) + 1.0
        return self._diameter

    # -- paths --------------------------------------------------------------------------
    def path(self, source: int, target: int) -> np.ndarray:
        """Node indices of the fastest path from ``source`` to ``target`` (inclusive)."""
        if source == target:
            return np.array([source])
        search = self.compiled
        if source in self._post_slot:
            pred = self._post_from_pred[self._post_slot[source]]
            nodes = _walk(pred, target, source, reverse=True, search=search)
        elif target in self._post_slot:
            nodes = _walk(
                self._post_to_pred[self._post_slot[target]], source, target, search=search
            )
        elif search is not None:
            _, nodes = search.path_between(
                self.forward, self.landmarks, self.scratch, source, target
            )
            if not len(nodes):
                raise ValueError(f"no path between node indices {source} and {target}")
        else:
            limit = self.time(source, target)
            _, pred = dijkstra(
                self.forward, indices=source, return_predecessors=True, limit=limit * 1.000001
            )
            nodes = _walk(pred, target, source, reverse=True)
        return np.asarray(nodes)

    def route(self, source: int, target: int, t_depart_min: float) -> Route:
        """The fastest path from ``source`` to ``target`` as a timed ``Route``."""
        nodes = self.path(source, target)
        return Route(nodes=nodes, cum_min=self.cumulative_min(nodes), t_depart_min=t_depart_min)

    def cumulative_min(self, nodes: np.ndarray) -> np.ndarray:
        """Minutes from the first of ``nodes`` to each, along the edges between them."""
        if (search := self.compiled) is not None:
            g = self.forward
            path = np.asarray(nodes, dtype=np.int32)
            return search.cumulative_minutes(g.indptr, g.indices, g.data, path)
        legs = self.forward[nodes[:-1], nodes[1:]] if len(nodes) > 1 else np.zeros(0)
        return np.concatenate([[0.0], np.cumsum(np.asarray(legs, dtype=float).ravel())])

    def edge_entries(self, nodes: np.ndarray) -> np.ndarray:
        """The index in the CSR arrays (``forward``) of each edge along a path of nodes."""
        g = self.forward
        if (search := self.compiled) is not None:
            return search.path_entries(g.indptr, g.indices, np.asarray(nodes, dtype=np.int32))
        entries = []
        for a, b in itertools.pairwise(np.asarray(nodes).tolist()):
            start = g.indptr[a]
            entries.append(int(start + np.flatnonzero(g.indices[start : g.indptr[a + 1]] == b)[0]))
        return np.array(entries, dtype=np.int64)

    def nearest_anchor(self, anchors: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """For every node: (minutes from the nearest anchor, that anchor's position in the list)."""
        dist, _, src = dijkstra(
            self.forward, indices=anchors, min_only=True, return_predecessors=True
        )
        position = {a: k for k, a in enumerate(anchors)}
        which = np.array([position.get(int(s), -1) for s in src])
        return dist, which


@functools.cache
def _compiled_searches():
    """``sim.network.search``, imported on first use (numba takes a moment to load)."""
    from sim.network import search

    return search


def _grown(rows: np.ndarray, total: int) -> np.ndarray:
    """``rows`` with room for ``total`` rows (the new ones uninitialised)."""
    grown = np.empty((total, rows.shape[1]), dtype=rows.dtype)
    grown[: len(rows)] = rows
    return grown


def _walk(pred, start: int, stop: int, reverse: bool = False, search=None) -> np.ndarray:
    """Follow predecessors from ``start`` until ``stop``; raise if there is no path.

    ``reverse``: the nodes from ``stop`` to ``start``; ``search``: the compiled searches'
    module (None: plain Python).
    """
    if search is not None:
        nodes = search.walk_back(pred, start, stop, reverse)
        if not len(nodes):
            raise ValueError(f"no path between node indices {stop} and {start}")
        return nodes
    walked = [start]
    while walked[-1] != stop:
        prev = int(pred[walked[-1]])
        if prev < 0:
            raise ValueError(f"no path between node indices {stop} and {start}")
        walked.append(prev)
    return np.array(walked[::-1] if reverse else walked)

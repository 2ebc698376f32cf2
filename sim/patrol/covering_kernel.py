"""Compiled steps of ``sim.patrol.covering``: the same numbers and the same optimum, faster.

- ``times_among``: one Dijkstra per source over CSR arrays, stopped once every target is
  settled. It computes scipy's recursion (``dist[v] = dist[u] + w`` in order of settling),
  so the times are equal to the last bit.
- ``network_simplex``: networkx's ``network_simplex`` (its primal network simplex with
  block pivoting, after Kiraly and Kovacs 2012) transcribed step for step onto arrays:
  the same edge order, pivot blocks, ties and spanning-tree updates, hence the same
  optimal flow, not just one of equal cost. ``tests/test_covering_kernel.py`` compares
  both with networkx and scipy on random problems.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
from numba import njit

_NONE = -(2**40)  # networkx's None (no parent); never used as an index


@njit(cache=True)
def times_among(indptr, indices, data, sources, targets):
    """Fastest-path minutes from each of ``sources`` to each of ``targets`` (inf: none)."""
    n = len(indptr) - 1
    out = np.full((len(sources), len(targets)), np.inf)
    wanted = np.zeros(n, dtype=np.int64)
    for t in targets:
        wanted[t] += 1
    dist = np.full(n, np.inf)
    done = np.zeros(n, dtype=np.bool_)
    touched = np.empty(n, dtype=np.int64)
    keys, nodes = np.empty(len(indices) + 1), np.empty(len(indices) + 1, dtype=np.int64)
    for k in range(len(sources)):
        count, left, size = 1, len(targets), 1
        dist[sources[k]], touched[0] = 0.0, sources[k]
        keys[0], nodes[0] = 0.0, sources[k]
        while size > 0 and left > 0:
            d, u = keys[0], nodes[0]
            size = _pop(keys, nodes, size)
            if done[u]:
                continue
            done[u] = True
            left -= wanted[u]
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                nd = d + data[e]
                if not done[v] and nd < dist[v]:
                    if dist[v] == np.inf:
                        touched[count] = v
                        count += 1
                    dist[v] = nd
                    size = _push(keys, nodes, size, nd, v)
        for j in range(len(targets)):
            if done[targets[j]]:
                out[k, j] = dist[targets[j]]
        for j in range(count):
            dist[touched[j]] = np.inf
            done[touched[j]] = False
    return out


@njit(cache=True, inline="always")
def _push(keys, nodes, size, key, node):
    """Add (key, node) to the binary heap of ``size`` items; return the new size."""
    i = size
    while i > 0 and keys[(i - 1) >> 1] > key:
        keys[i], nodes[i] = keys[(i - 1) >> 1], nodes[(i - 1) >> 1]
        i = (i - 1) >> 1
    keys[i], nodes[i] = key, node
    return size + 1


@njit(cache=True, inline="always")
def _pop(keys, nodes, size):
    """Remove the smallest item (read it first at index 0); return the new size."""
    size -= 1
    key, node = keys[size], nodes[size]
    i = 0
    while 2 * i + 1 < size:
        child = 2 * i + 1
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if keys[child] >= key:
            break
        keys[i], nodes[i] = keys[child], nodes[child]
        i = child
    keys[i], nodes[i] = key, node
    return size


def network_simplex(
    demands: np.ndarray, sources: np.ndarray, targets: np.ndarray,
    capacities: np.ndarray, weights: np.ndarray,
) -> np.ndarray | None:  # fmt: skip
    """The flow on each edge of networkx's optimum (None: no flow meets the demands).

    Raises ``networkx.NetworkXUnbounded`` as networkx does (a negative cycle of infinite
    capacity).

    Nodes are 0..n-1 in the graph's node order, edges in its ``edges(keys=True)`` order,
    without self-loops and edges of capacity 0 (networkx leaves those out too). Demands,
    capacities (inf: none) and weights are integers (capacities may be inf).
    """
    n, count = len(demands), len(sources)
    demands = np.asarray(demands, dtype=np.float64)
    finite = capacities[np.isfinite(capacities)]
    faux_inf = 3 * max(int(finite.sum()), int(np.abs(weights).sum()), int(np.abs(demands).sum()))
    faux_inf = float(faux_inf or 1)
    positive = demands > 0
    node = np.arange(n)
    src = np.concatenate([sources, np.where(positive, -1, node)]).astype(np.int64)
    tgt = np.concatenate([targets, np.where(positive, node, -1)]).astype(np.int64)
    weight = np.concatenate([np.asarray(weights, dtype=np.float64), np.full(n, faux_inf)])
    capacity = np.concatenate([np.asarray(capacities, dtype=np.float64), np.full(n, faux_inf)])
    flow = np.concatenate([np.zeros(count), np.abs(demands)])
    potential = np.concatenate([np.where(positive, -faux_inf, faux_inf), [0.0]])
    block = math.ceil(math.sqrt(count)) if count else 0
    _simplex(n, count, block, src, tgt, weight, capacity, flow, potential)
    if np.any(flow[count:] != 0):
        return None
    if np.any(flow[:count] * 2 >= faux_inf):
        raise nx.NetworkXUnbounded("negative cycle with infinite capacity found")
    return flow[:count]


@njit(cache=True)
def _simplex(n, count, block, src, tgt, weight, capacity, flow, potential):
    """Pivot as networkx's main loop does, until no edge has a negative reduced cost."""
    parent = np.full(n + 1, -1, dtype=np.int64)
    parent[n] = _NONE
    parent_edge = np.arange(count, count + n + 1, dtype=np.int64)
    parent_edge[n] = _NONE
    size = np.ones(n + 1, dtype=np.int64)
    size[n] = n + 1
    next_dft = np.empty(n + 1, dtype=np.int64)
    next_dft[: n - 1] = np.arange(1, n)
    next_dft[n - 1], next_dft[n] = -1, 0
    prev_dft = np.arange(-1, n, dtype=np.int64)
    last_dft = np.arange(n + 1, dtype=np.int64)
    last_dft[n] = n - 1
    cycle_nodes = np.empty(n + 2, dtype=np.int64)
    cycle_edges = np.empty(n + 2, dtype=np.int64)
    if count == 0:
        return
    blocks = (count + block - 1) // block
    m, f = 0, 0
    while m < blocks:
        low, high = f, f + block
        if high > count:
            high -= count
        f = high
        i, c = -1, 0.0
        for k in range(block):  # the first edge of least reduced cost in the block
            e = (low + k) % count
            r = _reduced_cost(e, src, tgt, weight, flow, potential)
            if i < 0 or r < c:
                i, c = e, r
        if c >= 0:
            m += 1
            continue
        m = 0
        p, q = (src[i], tgt[i]) if flow[i] == 0 else (tgt[i], src[i])
        n_w, n_e = _find_cycle(i, p, q, parent, parent_edge, size, cycle_nodes, cycle_edges)
        j, s = _leaving_edge(cycle_nodes, cycle_edges, n_w, n_e, src, capacity, flow)
        t = tgt[j] if src[j] == s else src[j]
        f_units = _residual(j, s, src, capacity, flow)
        for k in range(min(n_w, n_e)):  # augment the flow around the cycle
            e = cycle_edges[k]
            flow[e] += f_units if src[e] == cycle_nodes[k] else -f_units
        if i != j:
            if parent[t] != s:
                s, t = t, s
            if _index(cycle_edges, n_e, i) > _index(cycle_edges, n_e, j):
                p, q = q, p
            _remove_edge(s, t, parent, parent_edge, size, next_dft, prev_dft, last_dft)
            _make_root(q, parent, parent_edge, size, next_dft, prev_dft, last_dft)
            _add_edge(i, p, q, parent, parent_edge, size, next_dft, prev_dft, last_dft)
            if q == tgt[i]:
                d = potential[p] - weight[i] - potential[q]
            else:
                d = potential[p] + weight[i] - potential[q]
            potential[q] += d  # the subtree rooted at q, in depth-first order
            last = last_dft[q]
            while q != last:
                q = next_dft[q]
                potential[q] += d


@njit(cache=True, inline="always")
def _reduced_cost(i, src, tgt, weight, flow, potential):
    c = weight[i] - potential[src[i]] + potential[tgt[i]]
    return c if flow[i] == 0 else -c


@njit(cache=True, inline="always")
def _residual(i, p, src, capacity, flow):
    return capacity[i] - flow[i] if src[i] == p else flow[i]


@njit(cache=True, inline="always")
def _index(values, length, value):
    for k in range(length):
        if values[k] == value:
            return k
    return -1


@njit(cache=True)
def _find_apex(p, q, parent, size):
    size_p, size_q = size[p], size[q]
    while True:
        while size_p < size_q:
            p = parent[p]
            size_p = size[p]
        while size_p > size_q:
            q = parent[q]
            size_q = size[q]
        if size_p == size_q:
            if p != q:
                p = parent[p]
                size_p = size[p]
                q = parent[q]
                size_q = size[q]
            else:
                return p


@njit(cache=True)
def _find_cycle(i, p, q, parent, parent_edge, size, nodes, edges):
    """The cycle of edge ``i == (p, q)`` with the tree, from ``p`` to ``q``: its lengths."""
    w = _find_apex(p, q, parent, size)
    n_nodes, n_edges, v = 1, 0, p
    nodes[0] = p
    while v != w:
        edges[n_edges] = parent_edge[v]
        n_edges += 1
        v = parent[v]
        nodes[n_nodes] = v
        n_nodes += 1
    nodes[:n_nodes] = nodes[:n_nodes][::-1].copy()
    edges[:n_edges] = edges[:n_edges][::-1].copy()
    if not (n_edges == 1 and edges[0] == i):
        edges[n_edges] = i
        n_edges += 1
    v = q
    while v != w:  # q's side, without the apex
        nodes[n_nodes] = v
        n_nodes += 1
        edges[n_edges] = parent_edge[v]
        n_edges += 1
        v = parent[v]
    return n_nodes, n_edges


@njit(cache=True)
def _leaving_edge(nodes, edges, n_nodes, n_edges, src, capacity, flow):
    """The first edge of least residual capacity, walking the cycle backwards."""
    j, s, best = -1, -1, 0.0
    for k in range(min(n_nodes, n_edges)):
        e, p = edges[n_edges - 1 - k], nodes[n_nodes - 1 - k]
        r = _residual(e, p, src, capacity, flow)
        if j < 0 or r < best:
            j, s, best = e, p, r
    return j, s


@njit(cache=True)
def _remove_edge(s, t, parent, parent_edge, size, next_dft, prev_dft, last_dft):
    size_t, prev_t, last_t = size[t], prev_dft[t], last_dft[t]
    next_last_t = next_dft[last_t]
    parent[t] = _NONE
    parent_edge[t] = _NONE
    next_dft[prev_t] = next_last_t
    prev_dft[next_last_t] = prev_t
    next_dft[last_t] = t
    prev_dft[t] = last_t
    while s != _NONE:
        size[s] -= size_t
        if last_dft[s] == last_t:
            last_dft[s] = prev_t
        s = parent[s]


@njit(cache=True)
def _make_root(q, parent, parent_edge, size, next_dft, prev_dft, last_dft):
    ancestors = []
    while q != _NONE:
        ancestors.append(q)
        q = parent[q]
    ancestors.reverse()
    for k in range(len(ancestors) - 1):
        p, q = ancestors[k], ancestors[k + 1]
        size_p, last_p = size[p], last_dft[p]
        prev_q, last_q = prev_dft[q], last_dft[q]
        next_last_q = next_dft[last_q]
        parent[p] = q
        parent[q] = _NONE
        parent_edge[p] = parent_edge[q]
        parent_edge[q] = _NONE
        size[p] = size_p - size[q]
        size[q] = size_p
        next_dft[prev_q] = next_last_q
        prev_dft[next_last_q] = prev_q
        next_dft[last_q] = q
        prev_dft[q] = last_q
        if last_p == last_q:
            last_dft[p] = prev_q
            last_p = prev_q
        prev_dft[p] = last_q
        next_dft[last_q] = p
        next_dft[last_p] = q
        prev_dft[q] = last_p
        last_dft[q] = last_p


@njit(cache=True)
def _add_edge(i, p, q, parent, parent_edge, size, next_dft, prev_dft, last_dft):
    last_p = last_dft[p]
    next_last_p = next_dft[last_p]
    size_q, last_q = size[q], last_dft[q]
    parent[q] = p
    parent_edge[q] = i
    next_dft[last_p] = q
    prev_dft[q] = last_p
    prev_dft[next_last_p] = last_q
    next_dft[last_q] = next_last_p
    while p != _NONE:
        size[p] += size_q
        if last_dft[p] == last_p:
            last_dft[p] = last_q
        p = parent[p]

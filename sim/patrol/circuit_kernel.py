"""``Circuits.draw`` compiled with numba, over CSR arrays: the same steps, the same circuits.

Nodes are numbered 0..m-1 in increasing id; ``arr_ptr``/``arr_edges`` list the edges
arriving at each, ``lv_ptr``/``lv_edges`` those leaving it, each in increasing edge index.
Every node's departures are shuffled in place with the swaps ``rng.permutation`` makes
(numpy's Fisher-Yates on ``random_interval``, which numba implements bit for bit, without
the allocations of numba's ``shuffle``), node after node, so that from the same generator state
the plain reference in ``sim.patrol.circuits`` returns the identical circuit
(``tests/test_patrol_tours.py`` compares them).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.np.random.random_methods import random_interval  # numpy's, bit for bit


@njit(cache=True, inline="always")
def _u_turn(tails, heads, segments, arrive, leave):
    """Whether leaving by ``leave`` after ``arrive`` goes straight back along the street."""
    return segments[arrive] == segments[leave] and tails[arrive] == heads[leave]


@njit(cache=True)
def _pair(tails, heads, segments, arr_ptr, arr_edges, lv_ptr, lv_edges, rng, following):
    """At every node, pair each arrival with a departure in random order, avoiding U-turns."""
    shuffled = lv_edges.copy()
    bits = rng.bit_generator
    for n in range(len(arr_ptr) - 1):
        lo, hi = arr_ptr[n], arr_ptr[n + 1]
        size = lv_ptr[n + 1] - lv_ptr[n]
        leave = shuffled[lv_ptr[n] : lv_ptr[n + 1]]
        for i in range(size - 1, 0, -1):  # numpy's shuffle (and permutation), in place
            j = np.int64(random_interval(bits, i))
            leave[i], leave[j] = leave[j], leave[i]
        for i in range(hi - lo):
            a = arr_edges[lo + i]
            found = False
            for j in range(i, size):
                if not _u_turn(tails, heads, segments, a, leave[j]):
                    leave[i], leave[j] = leave[j], leave[i]
                    found = True
                    break
            if not found:  # every departure left turns back: swap with an earlier pairing
                for k in range(i):
                    if not _u_turn(tails, heads, segments, a, leave[k]) and not _u_turn(
                        tails, heads, segments, arr_edges[lo + k], leave[i]
                    ):
                        leave[i], leave[k] = leave[k], leave[i]
                        break
        for i in range(hi - lo):
            following[arr_edges[lo + i]] = leave[i]


@njit(cache=True, inline="always")
def _root(parent, t):
    while parent[t] != t:
        parent[t] = parent[parent[t]]
        t = parent[t]
    return t


@njit(cache=True)
def _join(tails, heads, segments, arr_ptr, arr_edges, following):
    """Join the closed trails into one circuit by swapping transitions where they meet."""
    n_edges = len(following)
    trail = np.full(n_edges, -1, dtype=np.int64)
    count = 0
    for first in range(n_edges):
        if trail[first] < 0:
            edge = first
            while trail[edge] < 0:
                trail[edge] = count
                edge = following[edge]
            count += 1
    if count == 1:
        return
    parent = np.arange(count)
    for allow_u_turn in (False, True):
        for n in range(len(arr_ptr) - 1):
            for i in range(arr_ptr[n], arr_ptr[n + 1]):
                for j in range(i + 1, arr_ptr[n + 1]):
                    a, b = arr_edges[i], arr_edges[j]
                    ta, tb = _root(parent, trail[a]), _root(parent, trail[b])
                    if ta == tb:
                        continue
                    fa, fb = following[a], following[b]
                    if allow_u_turn or not (
                        _u_turn(tails, heads, segments, a, fb)
                        or _u_turn(tails, heads, segments, b, fa)
                    ):
                        following[a], following[b] = fb, fa
                        parent[ta] = tb
                        count -= 1
                        if count == 1:
                            return


@njit(cache=True)
def draw_circuit(
    tails, heads, segments, arr_ptr, arr_edges, lv_ptr, lv_edges, start, after, held,
):  # fmt: skip
    """A random Euler circuit from node index ``start``, not turning back on ``after`` (-1: no).

    ``held``: the generator to draw from, as a ``sim.patrol.held_generator.HeldGenerator``.
    """
    following = np.full(len(tails), -1, dtype=np.int64)
    _pair(tails, heads, segments, arr_ptr, arr_edges, lv_ptr, lv_edges, held.rng, following)
    _join(tails, heads, segments, arr_ptr, arr_edges, following)
    first = lv_edges[lv_ptr[start]]
    if after >= 0:
        for k in range(lv_ptr[start], lv_ptr[start + 1]):
            if not _u_turn(tails, heads, segments, after, lv_edges[k]):
                first = lv_edges[k]
                break
    circuit = np.empty(len(tails), dtype=np.int64)
    circuit[0] = first
    edge, k = following[first], 1
    while edge != first:
        circuit[k] = edge
        edge, k = following[edge], k + 1
    return circuit


@njit(cache=True)
def lap_arrays(order, multiset, edge_min, heads, start):
    """A lap's CSR entries, cumulative minutes from 0 and nodes (from ``start``), in one pass.

    The compiled copy of ``Tour.arrays_of_plain``: the same sums in the same order.
    """
    count = len(order)
    entries = np.empty(count, dtype=np.int64)
    cum = np.empty(count + 1)
    nodes = np.empty(count + 1, dtype=np.int64)
    cum[0], nodes[0] = 0.0, start
    for i in range(count):
        entry = multiset[order[i]]
        entries[i] = entry
        cum[i + 1] = cum[i] + edge_min[entry]
        nodes[i + 1] = heads[entry]
    return entries, cum, nodes


@njit(cache=True)
def across_laps(nodes, entries, cum, nodes_next, entries_next, cum_next, i, rest):
    """Edges ``i`` to the end of one lap, then the next lap's first ``rest``, in one pass.

    The compiled copy of ``sim.patrol.tours.across_laps_plain``: (nodes, CSR entries,
    minutes from the first node), the same sums in the same order.
    """
    head = len(entries) - i
    out_entries = np.empty(head + rest, dtype=np.int64)
    out_nodes = np.empty(head + rest + 1, dtype=np.int64)
    out_cum = np.empty(head + rest + 1)
    start, base = cum[i], cum[len(entries)] - cum[i]
    for j in range(head):
        out_entries[j] = entries[i + j]
        out_nodes[j] = nodes[i + j]
        out_cum[j] = cum[i + j] - start
    out_nodes[head], out_cum[head] = nodes[len(entries)], base
    for m in range(rest):
        out_entries[head + m] = entries_next[m]
        out_nodes[head + 1 + m] = nodes_next[1 + m]
        out_cum[head + 1 + m] = cum_next[1 + m] + base
    return out_nodes, out_entries, out_cum

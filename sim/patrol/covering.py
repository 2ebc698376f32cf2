"""The shortest closed walk covering a beat's streets (the Chinese postman), as a multiset.

A beat's streets are its segments (both directions together): a two-way street is covered
by a pass either way, a one-way street only in its own direction. The walk is built in
three steps, each with networkx:

1. **Parity** (undirected view): the nodes where an odd number of the beat's streets meet
   are paired by a minimum-weight perfect matching (``networkx.min_weight_matching``) on
   the fastest-path times between them, and each pair's fastest path is driven once more.
   On a beat of two-way streets this is the exact Chinese-postman tour (Edmonds & Johnson
   1973); it is what ``networkx.eulerize`` does, but weighted by travel time and free to
   leave the beat.
2. **Balance** (directed): every node must be left as often as it is entered. Two-way
   streets may be driven either way; one-way streets only their way. A minimum-cost flow
   (``networkx.min_cost_flow``) chooses which two-way streets to drive the other way and,
   where that cannot balance a node (one-way streets), which fastest paths to drive twice
   more (in pairs, which keeps step 1's parity). With one-way streets this is a heuristic
   of the mixed Chinese-postman problem (NP-hard; Frederickson 1979's two-step scheme):
   the walk covers everything and is balanced, not necessarily the shortest.
3. **Connection**: pieces of the beat that no street of it joins are linked by the fastest
   path there and back.

The result is a balanced, connected multiset of directed edges: every Euler circuit of it
is a shortest covering walk (as far as step 2 is exact). ``sim.patrol.circuits`` draws them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

if TYPE_CHECKING:
    from sim.network.routing import Router
    from sim.patrol.coverage import Coverage

CENTI_S_PER_MIN = 6000  # min_cost_flow wants integer costs: hundredths of a second
NEAREST_ODD = 12  # the matching looks at this many nearest odd nodes (all when few)


def beat_segments(coverage: Coverage, in_beat: list[bool]) -> np.ndarray:
    """The segments of a beat: both ends in it, not a loop."""
    inside = np.asarray(in_beat, dtype=bool)
    tails, heads = coverage.segment_tail, coverage.segment_head
    return np.flatnonzero(inside[tails] & inside[heads] & (tails != heads))


def covering_multiset(coverage: Coverage, router: Router, in_beat: list[bool]) -> np.ndarray | None:
    """CSR entries (repeated as driven) of a short closed walk covering every beat street.

    None when the beat has no street.
    """
    segments = beat_segments(coverage, in_beat)
    if len(segments) == 0:
        return None
    fastest = _fastest_entries(coverage)
    entries = [_street(coverage, fastest, int(s)) for s in segments]
    entries += _parity_paths(coverage, router, entries)
    entries = _balance(coverage, router, fastest, entries)
    entries += _connections(coverage, router, entries)
    return np.array(entries, dtype=np.int64)


def _fastest_entries(coverage: Coverage) -> dict[tuple[int, int], int]:
    """(tail, head) -> the CSR entry of the fastest edge between them."""
    fastest: dict[tuple[int, int], int] = {}
    minutes = coverage.edge_min
    for tail, out in enumerate(coverage.adjacency()):
        for entry, head, _, _ in out:
            key = (tail, head)
            if key not in fastest or minutes[entry] < minutes[fastest[key]]:
                fastest[key] = entry
    return fastest


def _street(coverage: Coverage, fastest: dict, segment: int) -> int:
    """The entry a segment is first driven by (either way on a two-way street)."""
    a, b = int(coverage.segment_tail[segment]), int(coverage.segment_head[segment])
    return fastest[(a, b)] if (a, b) in fastest else fastest[(b, a)]


def _ends(coverage: Coverage, entry: int) -> tuple[int, int]:
    tail = int(np.searchsorted(coverage.indptr, entry, side="right") - 1)
    return tail, int(coverage.heads[entry])


def _path_entries(coverage: Coverage, router: Router, source: int, target: int) -> list[int]:
    return coverage.entries_of(router.path(source, target)).tolist()


def _parity_paths(coverage: Coverage, router: Router, entries: list[int]) -> list[int]:
    """Step 1: fastest paths pairing the odd nodes, by minimum-weight perfect matching."""
    degree: dict[int, int] = {}
    for entry in entries:
        for node in _ends(coverage, entry):
            degree[node] = degree.get(node, 0) + 1
    odd = sorted(n for n, d in degree.items() if d % 2)
    if not odd:
        return []
    rows = np.array([router.times_from(n)[odd] for n in odd])
    both = np.minimum(rows, rows.T)  # a pair is joined whichever way is faster
    pairs = nx.Graph()
    k = len(odd) if len(odd) <= 4 * NEAREST_ODD else NEAREST_ODD
    for i in range(len(odd)):
        for j in np.argsort(both[i], kind="stable")[: k + 1].tolist():
            if j != i:
                pairs.add_edge(i, j, weight=float(both[i, j]))
    matching = nx.min_weight_matching(pairs)
    if 2 * len(matching) < len(odd):  # the nearest ones could not pair everyone: all pairs
        pairs = nx.complete_graph(len(odd))
        nx.set_edge_attributes(pairs, {(i, j): float(both[i, j]) for i, j in pairs.edges}, "weight")
        matching = nx.min_weight_matching(pairs)
    added: list[int] = []
    for i, j in sorted(tuple(sorted(p)) for p in matching):
        a, b = (odd[i], odd[j]) if rows[i, j] <= rows[j, i] else (odd[j], odd[i])
        added += _path_entries(coverage, router, a, b)
    return added


def _balance(coverage: Coverage, router: Router, fastest: dict, entries: list[int]) -> list[int]:
    """Step 2: turn two-way streets round and add paths (twice) until every node balances.

    One unit of flow on an arc ``a -> b`` moves two of ``a``'s surplus entries to ``b``: a
    street ``b -> a`` driven ``a -> b`` instead ("turn", at the difference of their times),
    or ``a -> b`` driven twice more ("drive" along a street, "path" along a fastest path).
    """
    entries = [fastest[_ends(coverage, e)] for e in entries]
    excess: dict[int, int] = {}  # in - out: positive where more must leave
    for entry in entries:
        tail, head = _ends(coverage, entry)
        excess[tail] = excess.get(tail, 0) - 1
        excess[head] = excess.get(head, 0) + 1
    if not any(excess.values()):
        return entries
    minutes, flows = coverage.edge_min, nx.MultiDiGraph()
    for node, e in excess.items():
        flows.add_node(node, demand=-e // 2)  # a surplus of arrivals sends flow out
    counts: dict[int, int] = {}
    for entry in entries:
        if _ends(coverage, entry)[::-1] in fastest:  # a two-way street
            counts[entry] = counts.get(entry, 0) + 1
    turns = {}
    for entry, count in sorted(counts.items()):
        tail, head = _ends(coverage, entry)
        back = fastest[(head, tail)]
        turns[(head, tail)] = (entry, back)
        cost = round((minutes[back] - minutes[entry]) * CENTI_S_PER_MIN)
        flows.add_edge(head, tail, key="turn", weight=cost, capacity=count)
    for node in excess:
        for entry, head, _, _ in coverage.adjacency()[node]:
            if head in excess and head != node:
                cost = 2 * round(minutes[entry] * CENTI_S_PER_MIN)
                flows.add_edge(node, head, key="drive", weight=cost)
    senders = [n for n, e in excess.items() if e > 0]
    takers = [n for n, e in excess.items() if e < 0]
    for a in senders:  # fastest paths out of the beat's streets, between unbalanced nodes
        row = router.times_from(a)
        for b in takers:
            flows.add_edge(a, b, key="path", weight=2 * round(float(row[b]) * CENTI_S_PER_MIN))
    flow = nx.min_cost_flow(flows)
    balanced = list(entries)
    for a, targets in flow.items():
        for b, by_key in targets.items():
            for key, units in by_key.items():
                if units == 0:
                    continue
                if key == "turn":
                    entry, back = turns[(a, b)]
                    for _ in range(units):
                        balanced.remove(entry)
                        balanced.append(back)
                elif key == "drive":
                    balanced += [fastest[(a, b)]] * (2 * units)
                else:
                    balanced += _path_entries(coverage, router, a, b) * (2 * units)
    return balanced


def _connections(coverage: Coverage, router: Router, entries: list[int]) -> list[int]:
    """Step 3: the fastest path there and back between pieces no street joins."""
    pieces = nx.Graph()
    pieces.add_edges_from(_ends(coverage, e) for e in entries)
    components = sorted(sorted(c) for c in nx.connected_components(pieces))
    added: list[int] = []
    first = components[0][0]
    for component in components[1:]:  # each piece from the first one's node, and back
        other = component[0]
        added += _path_entries(coverage, router, first, other)
        added += _path_entries(coverage, router, other, first)
    return added

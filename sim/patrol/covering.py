"""The shortest closed walk covering a beat's streets (the Chinese postman), as a multiset.

A beat's streets are its segments (both directions together): a two-way street is covered
by a pass either way, a one-way street only in its own direction. The walk is built in
three steps, each with networkx:

1. **Parity** (undirected view): the nodes where an odd number of the beat's streets meet
   are paired by a minimum-weight perfect matching (``networkx.min_weight_matching``) on
   the fastest-path times between them, and each pair's fastest path is driven once more.
   On a beat of two-way streets this is the exact Chinese-postman tour (Edmonds & Johnson
   1973); it is what ``networkx.eulerize`` does, but weighted by travel time and free to
   leave the beat. With more than ``4 * NEAREST_ODD`` odd nodes each is paired among its
   ``NEAREST_ODD`` nearest only (the matching is cubic in the nodes): near-exact, not exact.
2. **Balance** (directed): every node must be left as often as it is entered. Two-way
   streets may be driven either way; one-way streets only their way. A minimum-cost flow
   (networkx's network simplex, as ``networkx.min_cost_flow`` runs it, compiled in
   ``sim.patrol.covering_kernel``: the same optimum) chooses which two-way streets to
   drive the other way and, where that cannot balance a node (one-way streets), which
   fastest paths to drive twice more (in pairs, which keeps step 1's parity). The same
   flow is also solved without step 1, one pass per unit of flow (the directed Chinese
   postman, exact when every street is one-way), and the shorter walk kept. With both
   kinds of street this is a heuristic of the mixed Chinese-postman problem (NP-hard;
   after Frederickson 1979): the walk covers everything and is balanced, not necessarily
   the shortest.
3. **Connection**: pieces of the beat that no street of it joins are linked by the fastest
   path there and back.

The result is a balanced, connected multiset of directed edges: every Euler circuit of it
is a shortest covering walk (as far as step 2 is exact). ``sim.patrol.circuits`` draws them.
The fastest-path times the steps need come from compiled searches that stop once every
node asked for is reached (``times_among``). ``experiments/patrol/bench_covering.py``
times it all against the plain networkx and scipy calls it replaced, on the same result.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from sim.patrol.covering_kernel import network_simplex
from sim.patrol.covering_kernel import times_among as kernel_times_among

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

    None when the beat has no street. It depends on the network and the beat alone, so it
    is kept for each router (replications in one process build it once).
    """
    known = _MULTISETS.setdefault(router, {})
    key = np.packbits(np.asarray(in_beat, dtype=bool)).tobytes()
    if key not in known:
        entries = _covering_multiset(coverage, router, in_beat)
        if entries is not None:
            entries.setflags(write=False)  # shared by every model on this router
        known[key] = entries
    return known[key]


_MULTISETS: weakref.WeakKeyDictionary[Router, dict[bytes, np.ndarray | None]] = (
    weakref.WeakKeyDictionary()
)


def _covering_multiset(
    coverage: Coverage, router: Router, in_beat: list[bool]
) -> np.ndarray | None:
    segments = beat_segments(coverage, in_beat)
    if len(segments) == 0:
        return None
    fastest = coverage.fastest_entries()
    required = [_street(coverage, fastest, int(s)) for s in segments]
    paired = required + _parity_paths(coverage, router, required)
    walks = [
        _balance(coverage, router, fastest, paired, per_unit=2)[0],  # steps 1 and 2
        _balance(coverage, router, fastest, required, per_unit=1)[0],  # step 2 alone
    ]
    walks = [walk + _connections(coverage, router, walk) for walk in walks]
    shortest = min(walks, key=lambda walk: (float(np.sum(coverage.edge_min[walk])), len(walk)))
    return np.array(shortest, dtype=np.int64)


def lower_bound_min(coverage: Coverage, router: Router, in_beat: list[bool]) -> float:
    """A lower bound on the minutes of any closed walk covering every street of the beat.

    The larger of two relaxations: directions ignored (each street once, plus the odd nodes
    paired at their faster way round: the undirected Chinese postman), and step 2's flow
    without step 1, which charges a two-way street driven both ways only half the
    difference of its two times (never more than what that costs).
    """
    segments = beat_segments(coverage, in_beat)
    if len(segments) == 0:
        return 0.0
    fastest = coverage.fastest_entries()
    required = [_street(coverage, fastest, int(s)) for s in segments]
    minutes = coverage.edge_min
    ends = _ends(coverage, required)
    either_way = [minutes[fastest.get((b, a), e)] for e, (a, b) in zip(required, ends, strict=True)]
    parity = _parity_paths(coverage, router, required, exact=True)
    undirected = float(np.sum(np.minimum(minutes[required], either_way)) + np.sum(minutes[parity]))
    _, flow_min = _balance(coverage, router, fastest, required, per_unit=1)
    return max(undirected, float(np.sum(minutes[required])) + flow_min)


def _street(coverage: Coverage, fastest: dict, segment: int) -> int:
    """The entry a segment is first driven by (either way on a two-way street)."""
    a, b = int(coverage.segment_tail[segment]), int(coverage.segment_head[segment])
    return fastest[(a, b)] if (a, b) in fastest else fastest[(b, a)]


def _ends(coverage: Coverage, entries: list[int]) -> list[tuple[int, int]]:
    """(tail, head) of each CSR entry."""
    tails = np.repeat(np.arange(len(coverage.indptr) - 1), np.diff(coverage.indptr))
    picked = np.asarray(entries, dtype=np.int64)
    return list(zip(tails[picked].tolist(), coverage.heads[picked].tolist(), strict=True))


def _path_entries(coverage: Coverage, router: Router, source: int, target: int) -> list[int]:
    return coverage.entries_of(router.path(source, target)).tolist()


def _parity_paths(
    coverage: Coverage, router: Router, entries: list[int], exact: bool = False
) -> list[int]:
    """Step 1: fastest paths pairing the odd nodes, by minimum-weight perfect matching.

    Among each odd node's ``NEAREST_ODD`` nearest when there are many (``exact``: all).
    """
    nodes, degrees = np.unique(np.array(_ends(coverage, entries)).ravel(), return_counts=True)
    odd = nodes[degrees % 2 == 1].tolist()
    if not odd:
        return []
    rows = times_among(router, odd, odd)
    both = np.minimum(rows, rows.T)  # a pair is joined whichever way is faster
    k = len(odd) if exact or len(odd) <= 4 * NEAREST_ODD else NEAREST_ODD
    nearest = np.argsort(both, axis=1, kind="stable")[:, : k + 1].tolist()
    weights = both.tolist()
    pairs = nx.Graph()
    pairs.add_weighted_edges_from(
        (i, j, weights[i][j]) for i, row in enumerate(nearest) for j in row if j != i
    )
    matching = _min_weight_matching(pairs)
    if 2 * len(matching) < len(odd):  # the nearest ones could not pair everyone: all pairs
        pairs = nx.complete_graph(len(odd))
        nx.set_edge_attributes(pairs, {(i, j): weights[i][j] for i, j in pairs.edges}, "weight")
        matching = _min_weight_matching(pairs)
    added: list[int] = []
    for i, j in sorted(tuple(sorted(p)) for p in matching):
        a, b = (odd[i], odd[j]) if rows[i, j] <= rows[j, i] else (odd[j], odd[i])
        added += _path_entries(coverage, router, a, b)
    return added


class _PlainGraph(nx.Graph):
    """A graph whose ``G[u]`` is its adjacency dict itself, not a read-only view of it.

    The same data read faster: ``max_weight_matching`` reads ``G[v][w]`` millions of times.
    """

    def __getitem__(self, node):
        return self._adj[node]


def _min_weight_matching(pairs: nx.Graph) -> set:
    """``networkx.min_weight_matching``, step for step, on a ``_PlainGraph``: the same pairs."""
    if len(pairs.edges) == 0:
        return nx.max_weight_matching(pairs, maxcardinality=True)
    edges = pairs.edges(data="weight", default=1)
    max_weight = 1 + max(w for _, _, w in edges)
    inverse = _PlainGraph()
    inverse.add_weighted_edges_from((u, v, max_weight - w) for u, v, w in edges)
    return nx.max_weight_matching(inverse, maxcardinality=True)


def _balance(
    coverage: Coverage, router: Router, fastest: dict, entries: list[int], per_unit: int
) -> tuple[list[int], float]:
    """Step 2: turn two-way streets round and add passes until every node balances.

    ``per_unit`` 2 (after step 1, every surplus even): one unit of flow on an arc ``a -> b``
    moves two of ``a``'s surplus to ``b``: a street ``b -> a`` driven ``a -> b`` instead
    ("turn", at the difference of their times), or ``a -> b`` driven twice more ("drive"
    along a street, "path" along a fastest path); exact for two-way beats. ``per_unit`` 1
    (without step 1): one more pass per unit, a turn taking two units (one unit alone: the
    street driven both ways); exact for one-way beats. The shorter walk of the two is kept.
    Also returns the flow's cost in minutes.
    """
    entries = [fastest[ends] for ends in _ends(coverage, entries)]
    ends = _ends(coverage, entries)
    excess: dict[int, int] = {}  # in - out: positive where more must leave
    for tail, head in ends:
        excess[tail] = excess.get(tail, 0) - 1
        excess[head] = excess.get(head, 0) + 1
    if not any(excess.values()):
        return entries, 0.0
    arcs, turns = _arcs(coverage, router, fastest, entries, ends, excess, per_unit)
    flow, cost = _min_cost_flow(excess, per_unit, arcs)
    balanced = list(entries)
    for a, b, kind, units in flow:
        if kind == TURN:
            entry, back = turns[(a, b)]
            turned, both_ways = divmod(units * per_unit, 2)
            for _ in range(turned):
                balanced.remove(entry)
                balanced.append(back)
            balanced += [back] * both_ways
        elif kind == DRIVE:
            balanced += [fastest[(a, b)]] * (per_unit * units)
        else:
            balanced += _path_entries(coverage, router, a, b) * (per_unit * units)
    return balanced, cost / CENTI_S_PER_MIN


TURN, DRIVE, PATH = 0, 1, 2  # the kinds of arc, in the order a pair of nodes gets them


def _arcs(coverage, router, fastest, entries, ends, excess, per_unit) -> tuple[dict, dict]:
    """The flow's arcs as columns (tail, head, kind, cost, capacity), and each turn's entries.

    In the order networkx's ``MultiDiGraph`` of them would hold them (by tail in ``excess``
    order, then by head in the order first added, then by kind), on which the optimum depends.
    """
    minutes, adjacency = coverage.edge_min, coverage.adjacency()
    first: dict[tuple[int, int], int] = {}  # (tail, head) -> when an arc first joined them
    few: dict[tuple[int, int, int], tuple[int, float]] = {}  # turns and drives: (cost, cap)
    turns: dict[tuple[int, int], tuple[int, int]] = {}  # (tail, head) -> (entry, back)
    counts: dict[int, int] = {}
    for entry, (tail, head) in zip(entries, ends, strict=True):
        if (head, tail) in fastest:  # a two-way street
            counts[entry] = counts.get(entry, 0) + 1
    end_of = dict(zip(entries, ends, strict=True))
    for entry, count in sorted(counts.items()):
        tail, head = end_of[entry]
        back = fastest[(head, tail)]
        cost = round((minutes[back] - minutes[entry]) * CENTI_S_PER_MIN * per_unit / 2)
        first.setdefault((head, tail), len(first))
        few[(head, tail, TURN)], turns[(head, tail)] = (cost, count * 2 // per_unit), (entry, back)
    for node in excess:
        for _, head, edge_min, _ in adjacency[node]:
            if head in excess and head != node:  # a parallel edge: the last one's cost
                first.setdefault((node, head), len(first))
                few[(node, head, DRIVE)] = (per_unit * round(edge_min * CENTI_S_PER_MIN), np.inf)
    senders = [n for n, e in excess.items() if e > 0]
    takers = [n for n, e in excess.items() if e < 0]
    centi_s = times_among(router, senders, takers) * CENTI_S_PER_MIN  # fastest paths
    if not np.all(np.isfinite(centi_s)):
        raise ValueError("a node of the beat cannot reach another one: no covering walk")
    when = len(first) + np.arange(centi_s.size).reshape(centi_s.shape)
    row, column = {n: i for i, n in enumerate(senders)}, {n: j for j, n in enumerate(takers)}
    for (a, b), t in first.items():  # a path between nodes already joined: after their arcs
        if a in row and b in column:
            when[row[a], column[b]] = t
    index = {node: i for i, node in enumerate(excess)}
    path_costs = per_unit * np.rint(centi_s).astype(np.int64)  # Python's round, half to even
    paths = centi_s.size
    arcs = {
        "tail": [index[a] for a, _, _ in few] + [index[n] for n in senders for _ in takers],
        "head": [index[b] for _, b, _ in few] + [index[n] for n in takers] * len(senders),
        "kind": [k for _, _, k in few] + [PATH] * paths,
        "when": [first[(a, b)] for a, b, _ in few] + when.ravel().tolist(),
        "cost": [c for c, _ in few.values()] + path_costs.ravel().tolist(),
        "capacity": [c for _, c in few.values()] + [np.inf] * paths,
    }
    arcs = {name: np.array(values) for name, values in arcs.items()}
    order = np.lexsort((arcs["kind"], arcs["when"], arcs["tail"]))
    return {name: values[order] for name, values in arcs.items()}, turns


def _min_cost_flow(excess: dict, per_unit: int, arcs: dict) -> tuple[list[tuple], int]:
    """(tail, head, kind, units) of each arc with flow, in the arcs' order; the flow's cost.

    networkx's ``min_cost_flow`` (network simplex) on the graph of ``arcs``, compiled
    (``sim.patrol.covering_kernel``): the same optimum.
    """
    demands = np.array([-e // per_unit for e in excess.values()], dtype=np.int64)
    if demands.sum() != 0:
        raise nx.NetworkXUnfeasible("total node demand is not zero")
    flow = network_simplex(
        demands, arcs["tail"], arcs["head"], arcs["capacity"].astype(float), arcs["cost"]
    )
    if flow is None:
        raise nx.NetworkXUnfeasible("no flow satisfies all node demands")
    units = flow.astype(np.int64)
    nodes = list(excess)
    used = np.flatnonzero(units).tolist()
    return [
        (nodes[arcs["tail"][i]], nodes[arcs["head"][i]], int(arcs["kind"][i]), int(units[i]))
        for i in used
    ], int(np.dot(units, arcs["cost"]))


def _connections(coverage: Coverage, router: Router, entries: list[int]) -> list[int]:
    """Step 3: the fastest path there and back between pieces no street joins."""
    pieces = nx.Graph()
    pieces.add_edges_from(_ends(coverage, entries))
    components = sorted(sorted(c) for c in nx.connected_components(pieces))
    added: list[int] = []
    first = components[0][0]
    for component in components[1:]:  # each piece from the first one's node, and back
        other = component[0]
        added += _path_entries(coverage, router, first, other)
        added += _path_entries(coverage, router, other, first)
    return added


def times_among(router: Router, sources: list[int], targets: list[int]) -> np.ndarray:
    """Fastest-path minutes from each of ``sources`` to each of ``targets``.

    The same numbers as ``router.times_from`` rows, but each search stops once every target
    is settled (compiled: ``sim.patrol.covering_kernel``), so the searches stay near the
    nodes instead of covering the city.
    """
    if not sources or not targets:
        return np.zeros((len(sources), len(targets)))
    graph = router.forward
    return kernel_times_among(
        graph.indptr, graph.indices, graph.data,
        np.asarray(sources, dtype=np.int64), np.asarray(targets, dtype=np.int64),
    )  # fmt: skip

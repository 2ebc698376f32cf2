"""Tours: the closed walk a beat's preventive patrol follows, built once per beat.

Random preventive patrol over a beat, "least recently covered street first", is built once
as a closed walk that passes every street of the beat: from the beat's first node, at each
node it takes the street covered least recently (never straight back where another way
exists; ties at random), until every street is covered, then returns by the fastest path.
Units then follow it, each from where it joins. A patrol leg is a stretch of the tour, so
planning one costs the same whatever its length, and coverage is counted per stretch: a
patrolling unit passes a street every few seconds of simulated time, too often for an
event or a Python step each.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np

from sim.patrol.coverage import Coverage, Tour

if TYPE_CHECKING:
    from sim.network.routing import Router


def build_tour(
    coverage: Coverage,
    router: Router,
    in_beat: list[bool],
    rng: np.random.Generator,
    start_at: int = -1,
) -> Tour | None:
    """The tour of the beat (None when the beat holds no street).

    It starts from ``start_at`` if that node has a street of the beat (the post: units join
    and leave the tour there, on the post's precomputed routes).
    """
    adjacency = coverage.adjacency()
    streets = [
        (n, c[3]) for n, inside in enumerate(in_beat) if inside for c in adjacency[n]
        if in_beat[c[1]] and c[1] != n
    ]  # fmt: skip
    if not streets:
        return None
    last = {segment: -1 for _, segment in streets}  # street -> step last covered (-1: never)
    tails = {n for n, _ in streets}
    start = node = start_at if start_at in tails else streets[0][0]
    entries, previous, step, uncovered = [], -1, 0, len(last)
    while uncovered and step < 20 * len(last) + 100:
        choice = _least_recent(adjacency[node], node, previous, last, step, in_beat, rng)
        uncovered -= last.get(choice[3], 0) < 0
        last[choice[3]] = step
        entries.append(choice[0])
        previous, node, step = node, choice[1], step + 1
    back = router.path(node, start)  # close the loop
    entries += [coverage.entry(a, b) for a, b in itertools.pairwise(back.tolist())]
    return _tour(coverage, start, np.array(entries, dtype=np.int64))


def _least_recent(out, node, previous, last, step, in_beat, rng) -> tuple[int, int, float, int]:
    """The out-edge to take: in the beat, not back, the street covered least recently."""
    choices = [c for c in out if in_beat[c[1]] and c[1] != node]
    if len(choices) > 1:
        choices = [c for c in choices if c[1] != previous] or choices
    if not choices:  # no way on inside the beat: step out (such streets count as just covered)
        choices = [c for c in out if c[1] != node]
    oldest = min(last.get(c[3], step) for c in choices)
    ties = [c for c in choices if last.get(c[3], step) == oldest]
    return ties[int(rng.integers(len(ties)))] if len(ties) > 1 else ties[0]


def _tour(coverage: Coverage, start: int, lap: np.ndarray) -> Tour:
    entries = np.concatenate([lap, lap])
    heads = coverage.heads[entries]
    nodes = np.concatenate([[start], heads])
    minutes = coverage.edge_min[entries]
    km = coverage.segment_m[coverage.segment_of[entries]] / 1000.0
    cum_min = np.concatenate([[0.0], np.cumsum(minutes)])
    cum_km = np.concatenate([[0.0], np.cumsum(km)])
    position_of: dict[int, int] = {}
    for position, node in enumerate(nodes[: len(lap)].tolist()):
        position_of.setdefault(node, position)
    return Tour(nodes, entries, cum_min, cum_km, len(lap), position_of)

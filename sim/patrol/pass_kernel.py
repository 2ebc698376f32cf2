"""``PassSums.add``'s compiled loop (its plain reference: ``PassSums.add_plain``)."""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def fold(segments, times, starts, passes, last_min, block):
    """Count each pass; ``block[k]``: the segments passed in shift ``first + k``."""
    k = 0
    for p in range(len(segments)):
        s, t = segments[p], times[p]
        passes[s] += 1
        if t > last_min[s]:
            last_min[s] = t
        while t >= starts[k + 1]:
            k += 1
        while t < starts[k]:
            k -= 1
        block[k, s] = True

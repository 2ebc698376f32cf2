"""The patrol coverage layer: streets coloured by how often patrols passed them so far.

The figures are the model's own (``Coverage.passes_and_shifts`` of the patroller: passes
per street segment after the warm-up, both directions together), turned into passes per
day so far and put into a few bins, each with a colour the page's legend explains. The
browser draws the coverage segments over the community-tinted streets
(``streetmap.CoverageColours`` looks at most once every ``CHECK_EVERY_FRAMES`` frames: a
street's passes per day move slowly; the page is sent the colours only when they change).
"""

from __future__ import annotations

import itertools

import numpy as np

from sim.clock import MIN_PER_DAY
from sim.model import PatrolModel

PASSES_PER_DAY_EDGES = (2.0, 5.0, 10.0, 20.0)  # bin edges; a bin's colour below
COVERAGE_COLORS = ("#c6dbef", "#9ecae1", "#6baed6", "#2171b5", "#08306b")  # light: seldom
NOT_PASSED_COLOR = "#dcdcdc"  # no pass yet
NOT_PASSED = -1  # the bin of a street without a pass
CHECK_EVERY_FRAMES = 10
MIN_OBSERVED_MIN = 60.0  # per day is not shown as if an hour were a day: at least an hour


def patrols(sim: PatrolModel) -> bool:
    """True when some unit of the scenario patrols (a coverage layer has something to show)."""
    return bool(sim.patroller.active)


def passes_per_day(sim: PatrolModel) -> np.ndarray:
    """Passes per day so far of each coverage segment (counted after the warm-up)."""
    passes, _ = sim.patroller.coverage.passes_and_shifts()
    observed_min = max(sim.time - sim.warmup_min, MIN_OBSERVED_MIN)
    return passes * (MIN_PER_DAY / observed_min)


def share_passed(sim: PatrolModel) -> float:
    """The share of street segments patrols have passed at least once so far."""
    passes, _ = sim.patroller.coverage.passes_and_shifts()
    return float(np.mean(passes > 0)) if len(passes) else 0.0


def coverage_bins(per_day: np.ndarray) -> np.ndarray:
    """Each street's bin: ``NOT_PASSED`` (-1) without a pass, else 0 .. len(edges)."""
    bins = np.digitize(per_day, PASSES_PER_DAY_EDGES)
    return np.where(per_day > 0, bins, NOT_PASSED)


def bin_colors(bins: np.ndarray) -> list[str]:
    """The colour of each bin (``NOT_PASSED_COLOR`` for streets without a pass)."""
    palette = np.array((*COVERAGE_COLORS, NOT_PASSED_COLOR), dtype=object)
    return list(palette[bins])  # -1 picks the last: not passed


def bin_labels() -> list[str]:
    """'under 2', '2-5', ..., '20 or more' passes per day, in colour order."""
    edges = PASSES_PER_DAY_EDGES
    middle = [f"{a:g}–{b:g}" for a, b in itertools.pairwise(edges)]
    from sim.viz.messages import t

    return [t("under_n", n=f"{edges[0]:g}"), *middle, t("n_or_more", n=f"{edges[-1]:g}")]

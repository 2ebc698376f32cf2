"""The patrol coverage layer: streets coloured by how often patrols passed them so far.

The figures are the model's own (``Coverage.passes_and_shifts`` of the patroller: passes
per street segment after the warm-up, both directions together), turned into passes per
day so far and put into a few bins, each with a colour the page's legend explains. The
layer is one LineCollection drawn over the community-tinted streets; the map re-rasterises
it only when its colours change, and looks at most once every ``CHECK_EVERY_FRAMES``
frames (a street's passes per day move slowly).
"""

from __future__ import annotations

import itertools

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection

from sim.clock import MIN_PER_DAY
from sim.model import PatrolModel
from sim.reporting import maps

PASSES_PER_DAY_EDGES = (2.0, 5.0, 10.0, 20.0)  # bin edges; a bin's colour below
COVERAGE_COLORS = ("#c6dbef", "#9ecae1", "#6baed6", "#2171b5", "#08306b")  # light: seldom
NOT_PASSED_COLOR = "#dcdcdc"  # no pass yet
NOT_PASSED = -1  # the bin of a street without a pass
LINE_WIDTH_PX = 2.6  # wider than the tinted streets (1.6), which it covers
ZORDER = 2.5  # over the streets, under posts and labels (3)
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


class CoverageLayer:
    """The coverage lines of one map; ``refresh()`` says when they need drawing again."""

    def __init__(self, ax: Axes, sim: PatrolModel):
        self.sim = sim
        cover = sim.patroller.coverage
        x, y = np.asarray(sim.router.x, dtype=float), np.asarray(sim.router.y, dtype=float)
        tails, heads = cover.segment_tail, cover.segment_head
        segments = np.stack([np.c_[x[tails], y[tails]], np.c_[x[heads], y[heads]]], axis=1)
        self.lines: LineCollection = maps.draw_streets(
            ax, segments, colors=NOT_PASSED_COLOR, linewidths=LINE_WIDTH_PX, zorder=ZORDER,
            animated=True, capstyle="round",
        )  # fmt: skip
        self.bins: np.ndarray | None = None  # as drawn
        self.frames_to_check = 0

    def refresh(self, force: bool = False) -> bool:
        """Recolour when due (or ``force``); True when the colours changed."""
        self.frames_to_check -= 1
        if self.frames_to_check > 0 and not force and self.bins is not None:
            return False
        self.frames_to_check = CHECK_EVERY_FRAMES
        bins = coverage_bins(passes_per_day(self.sim))
        if self.bins is not None and np.array_equal(bins, self.bins):
            return False
        self.bins = bins
        self.lines.set_colors(bin_colors(bins))
        return True

"""Place map labels so that they overlap neither each other nor the post markers.

A greedy search: each label (in the given order) tries offsets around its anchor, nearest
first, and takes the first whose box (in pixels, from matplotlib's text extents) is inside
the axes and clear of every box placed before; failing that, the offset that overlaps least.
"""

from __future__ import annotations

import itertools

import numpy as np
from matplotlib.axes import Axes
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox

RINGS_PT = (9, 16, 26, 38, 52)  # distances tried, points
DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))
ALIGN = {-1: "right", 0: "center", 1: "left"}
VALIGN = {-1: "top", 0: "center", 1: "bottom"}
PAD_PX = 2.0


def place_labels(ax: Axes, labels: list[Annotation], obstacles: list[Bbox]) -> list[Bbox]:
    """Move each label to a free offset; return the boxes of the placed labels."""
    renderer = ax.figure.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    taken = list(obstacles)
    placed = []
    for label in labels:
        box = _best_offset(label, renderer, inside, taken)
        taken.append(box)
        placed.append(box)
    return placed


def _best_offset(label: Annotation, renderer, inside: Bbox, taken: list[Bbox]) -> Bbox:
    best: tuple[float, tuple] | None = None
    for ring, (dx, dy) in itertools.product(RINGS_PT, DIRECTIONS):
        offset = (dx * ring, dy * ring)
        box = _try(label, renderer, offset, dx, dy)
        cost = _overlap(box, taken) + _outside(box, inside)
        if cost == 0:
            return box
        if best is None or cost < best[0]:
            best = (cost, (offset, dx, dy))
    offset, dx, dy = best[1]
    return _try(label, renderer, offset, dx, dy)


def _try(label: Annotation, renderer, offset: tuple, dx: int, dy: int) -> Bbox:
    label.xyann = offset
    label.set_ha(ALIGN[dx])
    label.set_va(VALIGN[dy])
    return label.get_window_extent(renderer).padded(PAD_PX)


def _overlap(box: Bbox, others: list[Bbox]) -> float:
    return float(sum(_area(box, other) for other in others))


def _area(a: Bbox, b: Bbox) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(w, 0.0) * max(h, 0.0)


def _outside(box: Bbox, inside: Bbox) -> float:
    return box.width * box.height - _area(box, inside)


def marker_boxes(ax: Axes, xy: np.ndarray, size_px: float) -> list[Bbox]:
    """Square boxes of side ``size_px`` around data points (obstacles for labels)."""
    half = size_px / 2
    points = ax.transData.transform(np.asarray(xy, dtype=float).reshape(-1, 2))
    return [Bbox.from_extents(x - half, y - half, x + half, y + half) for x, y in points]


def overlaps(boxes: list[Bbox]) -> list[tuple[int, int]]:
    """Pairs of boxes that overlap (for tests)."""
    return [
        (i, j)
        for i, j in itertools.combinations(range(len(boxes)), 2)
        if _area(boxes[i], boxes[j]) > 0
    ]

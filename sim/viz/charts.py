"""Live charts, one line (or bar) per scenario, overlaid for before vs after.

Response time (rolling), share within target, resolution rate, queue length and unit
utilisation by state.

Fast by blitting: axes, ticks and labels are drawn only when a limit grows (the time axis
by whole days, the others in steps), and kept as a pixel buffer; a frame draws only the
lines and bars on it.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.agents.unit import UnitState
from sim.clock import MIN_PER_DAY
from sim.reporting.maps import label_text
from sim.viz.mapview import DPI, STATE_COLORS, png_bytes
from sim.viz.series import ROLLING_MIN, Tracker

SCENARIO_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
LINE_PANELS = (  # (tracker attribute, title, fixed top of the y axis or None: grows)
    ("response_min", f"Response time, min (mean of last {ROLLING_MIN / 60:g} h)", None),
    ("within_share", "Share answered within {target:g} min", 1.02),
    ("resolution_rate", "Resolution rate (resolved at first visit)", 1.02),
    ("queue_len", "Calls waiting in the queue", None),
)


class ChartRenderer:
    """Renders the charts of one or two trackers as PNG bytes."""

    def __init__(self, trackers: list[Tracker], names: list[str]):
        self.trackers = trackers
        names = [label_text(name) for name in names]
        self.figure = Figure(figsize=(5.6, 5.2), dpi=DPI, layout="none")
        self.canvas = FigureCanvasAgg(self.figure)
        self.figure.subplots_adjust(
            left=0.08, right=0.98, top=0.95, bottom=0.08, hspace=0.55, wspace=0.25
        )
        axes = self.figure.subplots(3, 2).ravel()
        self.panels = [
            self._line_panel(ax, *spec) for ax, spec in zip(axes, LINE_PANELS, strict=False)
        ]
        self.bars = _state_panel(axes[4], names)
        _legend_panel(axes[5], names)
        self._limits: tuple | None = None
        self._background = None
        self.full_redraws = 0  # how often the static layer was redrawn (for the benchmark)

    def _line_panel(self, ax, attr: str, title: str, top: float | None) -> tuple:
        ax.set_title(title.format(target=self.trackers[0].target_min), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("day", fontsize=7, labelpad=1)
        lines = [
            ax.plot([], [], color=SCENARIO_COLORS[i], lw=1.3, animated=True)[0]
            for i in range(len(self.trackers))
        ]
        return ax, attr, top, lines

    def render(self) -> bytes:
        """The current charts as PNG bytes."""
        limits = self._needed_limits()
        if limits != self._limits:
            self._redraw_static(limits)
        self.canvas.restore_region(self._background)
        for ax, attr, _, lines in self.panels:
            for line, tracker in zip(lines, self.trackers, strict=True):
                line.set_data(np.asarray(tracker.t_min) / MIN_PER_DAY, getattr(tracker, attr))
                ax.draw_artist(line)
        for row, tracker in zip(self.bars, self.trackers, strict=True):
            _update_bar_row(row, tracker.state_shares())
            for rect in row:
                rect.axes.draw_artist(rect)
        return png_bytes(self.canvas)

    def _needed_limits(self) -> tuple:
        days = max((t.t_min[-1] for t in self.trackers if t.t_min), default=0.0) / MIN_PER_DAY
        right = float(max(1, math.ceil(days + 1e-9)))
        tops = []
        for _, attr, top, _ in self.panels:
            if top is None:
                top = _step_up(max(_finite_max(getattr(t, attr)) for t in self.trackers))
            tops.append(top)
        return right, tuple(tops)

    def _redraw_static(self, limits: tuple) -> None:
        right, tops = limits
        for (ax, _, _, _), top in zip(self.panels, tops, strict=True):
            ax.set_xlim(0.0, right)
            ax.set_ylim(0.0, top)
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._limits = limits
        self.full_redraws += 1


def _finite_max(values: list[float]) -> float:
    array = np.asarray(values, dtype=float)
    return float(array[np.isfinite(array)].max(initial=0.0))


def _step_up(value: float) -> float:
    """A round top for an axis showing ``value``: 5, 10, 20, 50, 100, ... (at least 5)."""
    if not np.isfinite(value) or value <= 4.5:
        return 5.0
    scale = 10 ** math.floor(math.log10(value * 1.1))
    return next(k * scale for k in (1, 2, 5, 10) if k * scale >= value * 1.1)


def _state_panel(ax, names: list[str]) -> list[list]:
    """Horizontal stacked bars, one per scenario: share of unit time by state."""
    ax.set_title("Unit time by state (share)", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(len(names) - 0.6, -0.75)
    ax.tick_params(labelsize=7)
    ax.set_yticks([])
    for i, name in enumerate(names):  # the name above its bar
        ax.text(0.0, i - 0.33, name, fontsize=7, va="bottom", color=SCENARIO_COLORS[i])
    rows = []
    for i in range(len(names)):
        row = [
            ax.barh(i, 0.0, left=0.0, color=color, height=0.6)[0] for color in STATE_COLORS.values()
        ]
        for rect in row:
            rect.set_animated(True)
        rows.append(row)
    return rows


def _update_bar_row(row: list, shares: np.ndarray) -> None:
    left = 0.0
    for rect, state in zip(row, UnitState, strict=True):
        rect.set_x(left)
        rect.set_width(shares[state])
        left += shares[state]


def _legend_panel(ax, names: list[str]) -> None:
    """Which colour is which scenario, and which is which unit state (the bars)."""
    ax.set_axis_off()
    handles = [
        Line2D([], [], color=SCENARIO_COLORS[i], lw=2, label=name) for i, name in enumerate(names)
    ]
    handles += [
        Patch(color=color, label=state.name.lower().replace("_", " "))
        for state, color in STATE_COLORS.items()
    ]
    ax.legend(
        handles=handles,
        loc="center left",
        fontsize=7,
        ncol=2,
        frameon=False,
        handlelength=1.2,
        borderaxespad=0.0,
        columnspacing=0.8,
    )

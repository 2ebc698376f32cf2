"""Live charts, one line (or bar) per scenario, in the scenario's colour.

Response time (rolling), share reached within the target, resolution rate, queue length and
unit time by state. Each frame draws from ``Tracker.snapshot()`` (copies of equal length).
The legends are on the page, built from the same colours.

Fast by blitting: axes, ticks and labels are drawn only when a limit grows (the time axis
by whole days, the others in steps), and kept as a pixel buffer; a frame draws only the
lines and bars on it.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.agents.unit import UnitState
from sim.clock import MIN_PER_DAY
from sim.reporting.maps import label_fonts
from sim.viz.mapview import DPI, png_bytes
from sim.viz.messages import t
from sim.viz.series import ROLLING_MIN, Tracker
from sim.viz.style import scenario_color, state_color

FONT = 9
LINE_PANELS = (  # (series, message key of its title, fixed top of the y axis or None: grows)
    ("response_min", "chart_response", None),
    ("within_share", "chart_within", 1.02),
    ("resolution_rate", "chart_solved", 1.02),
    ("queue_len", "chart_queue", None),
)


class ChartRenderer:
    """Renders the charts of one or two trackers as PNG bytes."""

    def __init__(self, trackers: list[Tracker], width_in: float = 6.2):
        self.trackers = trackers
        self.figure = Figure(figsize=(width_in, 5.4), dpi=DPI, layout="none")
        self.canvas = FigureCanvasAgg(self.figure)
        self.figure.subplots_adjust(
            left=0.08, right=0.98, top=0.94, bottom=0.06, hspace=0.6, wspace=0.22
        )
        grid = self.figure.add_gridspec(3, 2, height_ratios=(1, 1, 0.7))
        axes = [self.figure.add_subplot(grid[r, c]) for r in range(2) for c in range(2)]
        self.panels = [self._line_panel(ax, *s) for ax, s in zip(axes, LINE_PANELS, strict=True)]
        self.bars = _state_panel(self.figure.add_subplot(grid[2, :]), len(trackers))
        self._limits: tuple | None = None
        self._background = None
        self.full_redraws = 0  # how often the static layer was redrawn (for the benchmark)

    def _line_panel(self, ax, name: str, key: str, top: float | None) -> tuple:
        title = t(key, hours=f"{ROLLING_MIN / 60:g}", target=f"{self.trackers[0].target_min:g}")
        ax.set_title(title, fontsize=FONT, fontfamily=label_fonts())
        ax.tick_params(labelsize=FONT - 1)
        ax.set_xlabel(t("chart_day"), fontsize=FONT - 1, labelpad=1, fontfamily=label_fonts())
        lines = [
            ax.plot([], [], color=scenario_color(i), lw=1.6, animated=True)[0]
            for i in range(len(self.trackers))
        ]
        return ax, name, top, lines

    def render(self) -> bytes:
        """The current charts as PNG bytes."""
        data = [tracker.snapshot() for tracker in self.trackers]
        limits = self._needed_limits(data)
        if limits != self._limits:
            self._redraw_static(limits)
        self.canvas.restore_region(self._background)
        for ax, name, _, lines in self.panels:
            for line, series in zip(lines, data, strict=True):
                line.set_data(series["t_min"] / MIN_PER_DAY, series[name])
                ax.draw_artist(line)
        for row, series in zip(self.bars, data, strict=True):
            _update_bar_row(row, series["state_shares"])
            for rect in row:
                rect.axes.draw_artist(rect)
        return png_bytes(self.canvas)

    def _needed_limits(self, data: list[dict[str, np.ndarray]]) -> tuple:
        days = max((s["t_min"][-1] for s in data if len(s["t_min"])), default=0.0) / MIN_PER_DAY
        right = float(max(1, math.ceil(days + 1e-9)))
        tops = []
        for _, name, top, _ in self.panels:
            if top is None:
                top = _step_up(max(_finite_max(s[name]) for s in data))
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


def _finite_max(values: np.ndarray) -> float:
    return float(values[np.isfinite(values)].max(initial=0.0))


def _step_up(value: float) -> float:
    """A round top for an axis showing ``value``: 5, 10, 20, 50, 100, ... (at least 5)."""
    if not np.isfinite(value) or value <= 4.5:
        return 5.0
    scale = 10 ** math.floor(math.log10(value * 1.1))
    return next(k * scale for k in (1, 2, 5, 10) if k * scale >= value * 1.1)


def _state_panel(ax, n_rows: int) -> list[list]:
    """Horizontal stacked bars, one per scenario (its colour on the left): time by state."""
    ax.set_title(t("chart_states"), fontsize=FONT, fontfamily=label_fonts())
    ax.set_xlim(0, 1)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.tick_params(labelsize=FONT - 1)
    ax.set_yticks(range(n_rows), ["■"] * n_rows, fontsize=FONT + 3)
    for i, tick in enumerate(ax.get_yticklabels()):
        tick.set_color(scenario_color(i))
    rows = []
    for i in range(n_rows):
        row = [ax.barh(i, 0.0, left=0.0, color=state_color(s), height=0.7)[0] for s in UnitState]
        for rect in row:
            rect.set_animated(True)
        rows.append(row)
    return rows


def _update_bar_row(row: list, shares: np.ndarray) -> None:
    left = 0.0
    for rect, share in zip(row, shares, strict=True):
        rect.set_x(left)
        rect.set_width(share)
        left += share

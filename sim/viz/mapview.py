"""The map: streets drawn once from node coordinates, markers redrawn each frame.

Fast by blitting: the static layer (streets tinted by community, posts, labels, legends,
attribution) is rasterised once and kept as a pixel buffer; a frame restores it and draws
only the two marker collections (units by state, open calls by type and waiting time),
then encodes a PNG. No layout algorithm is ever run: positions are the projected x/y.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from sim.agents.unit import UnitState
from sim.model import PatrolModel
from sim.reporting import maps

OSM_ATTRIBUTION = maps.OSM_ATTRIBUTION
STATE_COLORS = {
    UnitState.IDLE: "#2ca02c",
    UnitState.EN_ROUTE: "#d62728",
    UnitState.ON_SCENE: "#ff7f0e",
    UnitState.RETURNING: "#1f77b4",
    UnitState.FOLLOW_UP: "#9467bd",
    UnitState.OTHER_DUTY: "#7f7f7f",
    UnitState.OFF_SHIFT: "#c7c7c7",
    UnitState.COMMUNITY_WORK: "#17becf",
}
COMMUNITY_TINTS = (
    "#8dd3c7",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
)
TYPE_COLORS = (
    "#e41a1c",
    "#377eb8",
    "#4daf4a",
    "#984ea3",
    "#ff7f00",
    "#a65628",
    "#f781bf",
    "#999999",
    "#66c2a5",
    "#000000",
)
WAIT_ALERT_MIN = 10.0  # calls waiting longer get a red ring
DPI = 90
LEGEND_ROW_IN = 0.2  # height of one legend row, inches


class MapRenderer:
    """Renders the maps of one or two models side by side as PNG bytes."""

    def __init__(self, sims: list[PatrolModel], titles: list[str]):
        self.sims = sims
        ncol = 5 if len(sims) == 1 else 9  # legend columns that fit the width
        rows = -(-len(STATE_COLORS) // ncol) + -(-(len(sims[0].call_types) + 3) // ncol)
        height = 4.6 + rows * LEGEND_ROW_IN
        self.figure = Figure(figsize=(5.6 * len(sims), height), dpi=DPI, layout="none")
        self.canvas = FigureCanvasAgg(self.figure)
        bottom = (rows * LEGEND_ROW_IN + 0.1) / height
        self.figure.subplots_adjust(
            left=0.01, right=0.99, top=1 - 0.3 / height, bottom=bottom, wspace=0.03
        )
        axes = self.figure.subplots(1, len(sims), squeeze=False)[0]
        self.layers = [
            _draw_static(ax, sim, title) for ax, sim, title in zip(axes, sims, titles, strict=True)
        ]
        _draw_legends(self.figure, sims[0], ncol)
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)

    def render(self) -> bytes:
        """The current frame as PNG bytes."""
        self.canvas.restore_region(self._background)
        for sim, (ax, units, calls) in zip(self.sims, self.layers, strict=True):
            _update_calls(calls, sim)
            _update_units(units, sim)
            ax.draw_artist(calls)
            ax.draw_artist(units)
        return png_bytes(self.canvas)


def _draw_static(ax, sim: PatrolModel, title: str) -> tuple[object, PathCollection, PathCollection]:
    router, world = sim.router, sim.world
    x, y = np.asarray(router.x, dtype=float), np.asarray(router.y, dtype=float)
    ax.set_axis_off()
    ax.set_title(maps.label_text(title), fontsize=10, fontfamily=maps.label_fonts())
    segments, tails = street_segments(sim)
    tint = np.array(COMMUNITY_TINTS, dtype=object)[world.community_of_node[tails] % 10]
    maps.draw_streets(ax, segments, colors=list(tint), linewidths=1.4)
    _draw_places(ax, sim, x, y)
    _fix_limits(ax, x, y)
    if world.network.is_osm_data:
        ax.text(
            0.99,
            0.01,
            OSM_ATTRIBUTION,
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
            color="#333333",
            backgroundcolor=(1, 1, 1, 0.7),
        )
    calls = ax.scatter([], [], marker="D", s=30, zorder=4, animated=True, linewidths=1.5)
    units = ax.scatter(
        [], [], marker="o", s=70, zorder=5, animated=True, edgecolors="black", linewidths=0.8
    )
    return ax, units, calls


def street_segments(sim: PatrolModel) -> tuple[np.ndarray, np.ndarray]:
    """(segments as (n, 2, 2) x/y in metres, tail node index) for each street, once per pair."""
    router = sim.router
    segments, tails, _ = maps.street_segments(
        sim.world.network.graph, router.index, np.asarray(router.x), np.asarray(router.y)
    )
    return segments, tails


def _draw_places(ax, sim: PatrolModel, x: np.ndarray, y: np.ndarray) -> None:
    for kind, marker, size in (("station", "s", 110), ("office", "^", 90)):
        nodes = [p.node for p in sim.posts.values() if p.kind == kind]
        if nodes:
            ax.scatter(
                x[nodes],
                y[nodes],
                marker=marker,
                s=size,
                c="white",
                edgecolors="black",
                linewidths=1.4,
                zorder=3,
            )
    for c, community in enumerate(sim.scenario.communities):
        node = sim.world.anchor_nodes[c]
        ax.annotate(
            maps.label_text(community.name),
            (x[node], y[node]),
            xytext=(0, 9),
            textcoords="offset points",
            ha="center",
            fontsize=7,
            color="#222222",
            zorder=2,
            fontfamily=maps.label_fonts(),
        )


def _fix_limits(ax, x: np.ndarray, y: np.ndarray) -> None:
    span = max(np.ptp(x), np.ptp(y), 100.0)
    pad = 0.04 * span
    cx, cy = (x.min() + x.max()) / 2, (y.min() + y.max()) / 2
    half_x, half_y = max(np.ptp(x), 100.0) / 2 + pad, max(np.ptp(y), 100.0) / 2 + pad
    ax.set_xlim(cx - half_x, cx + half_x)
    ax.set_ylim(cy - half_y, cy + half_y)
    ax.set_aspect("equal", adjustable="box")


def _draw_legends(figure: Figure, sim: PatrolModel, ncol: int) -> None:
    """Unit states and posts, then call types, in rows under the map(s)."""
    height = figure.get_figheight()
    units = [
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            color=color,
            markeredgecolor="black",
            label=state.name.lower().replace("_", " "),
        )
        for state, color in STATE_COLORS.items()
    ]
    units += [
        Line2D([], [], marker="s", ls="", mfc="white", mec="black", label="station"),
        Line2D([], [], marker="^", ls="", mfc="white", mec="black", label="office"),
    ]
    calls = [
        Line2D([], [], marker="D", ls="", color=TYPE_COLORS[i % 10], label=t.name)
        for i, t in enumerate(sim.call_types)
    ]
    calls.append(
        Line2D(
            [],
            [],
            marker="D",
            ls="",
            mfc="white",
            mec="red",
            label=f"call waiting > {WAIT_ALERT_MIN:g} min",
        )
    )
    call_rows = -(-len(calls) // ncol)
    for handles, y_in in ((calls, 0.0), (units, call_rows * LEGEND_ROW_IN)):
        figure.legend(
            handles=handles,
            loc="lower center",
            ncol=ncol,
            fontsize=7,
            frameon=False,
            bbox_to_anchor=(0.5, y_in / height),
            borderaxespad=0.2,
            handletextpad=0.3,
            columnspacing=1.0,
        )


def _update_units(units: PathCollection, sim: PatrolModel) -> None:
    now = sim.time
    units.set_offsets([u.xy(now) for u in sim.units] or np.zeros((0, 2)))
    units.set_facecolors([STATE_COLORS[u.state] for u in sim.units] or "none")


def _update_calls(calls: PathCollection, sim: PatrolModel) -> None:
    now, router = sim.time, sim.router
    open_calls = list(sim.open_calls.values())
    if not open_calls:
        calls.set_offsets(np.zeros((0, 2)))
        return
    nodes = [c.node for c in open_calls]
    waited = np.array([now - c.t_call for c in open_calls])
    calls.set_offsets(np.c_[router.x[nodes], router.y[nodes]])
    calls.set_facecolors([TYPE_COLORS[c.type_index % 10] for c in open_calls])
    calls.set_sizes(25.0 + np.minimum(waited, 60.0) * 2.5)  # grows with the wait
    calls.set_edgecolors(np.where(waited > WAIT_ALERT_MIN, "red", "white"))


def png_bytes(canvas: FigureCanvasAgg) -> bytes:
    """The canvas's pixels as PNG (fast compression: frames are sent, not stored)."""
    width, height = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="png", compress_level=1)
    return out.getvalue()

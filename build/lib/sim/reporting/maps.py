"""Drawing street maps: the one street-drawing helper, the label rule and the attribution.

Every map (figures, the ``network`` command, the browser app) draws its streets with
``street_segments`` / ``draw_streets``, its place names with ``label_text`` / ``label_fonts``,
and, when the data are OpenStreetMap's, ``OSM_ATTRIBUTION``. matplotlib is imported only
inside the functions that draw.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import networkx as nx
import numpy as np

from sim.network.routing import Router
from sim.network.sources import Network

OSM_ATTRIBUTION = "Map data © OpenStreetMap contributors, ODbL"
CJK_FONTS = ("Noto Sans CJK SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Source Han Sans SC")


def street_segments(
    graph: nx.MultiDiGraph, index: dict, x: np.ndarray, y: np.ndarray, one_per_pair: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Street segments as an (n, 2, 2) array of x/y metres, with tail and head node indices.

    ``one_per_pair``: a two-way street (or parallel edges) gives one segment, not two.
    ``index`` maps the graph's node ids to positions in ``x`` and ``y`` (the router's).
    """
    pairs = [(index[u], index[v]) for u, v in graph.edges() if u != v]
    if one_per_pair:
        pairs = sorted({(min(a, b), max(a, b)) for a, b in pairs})
    if not pairs:
        return np.zeros((0, 2, 2)), np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    tails, heads = np.array(pairs, dtype=int).T
    segments = np.stack([np.c_[x[tails], y[tails]], np.c_[x[heads], y[heads]]], axis=1)
    return segments, tails, heads


def draw_streets(ax, segments: np.ndarray, colors="#bbbbbb", linewidths=0.6, **kwargs):
    """Add the segments to ``ax`` as one LineCollection (drawn once, cheap to redraw)."""
    from matplotlib.collections import LineCollection

    lines = LineCollection(segments, colors=colors, linewidths=linewidths, **kwargs)
    ax.add_collection(lines)
    return lines


def add_attribution(fig, is_osm_data: bool, fontsize: float = 7) -> None:
    """Put the OpenStreetMap credit in the figure's corner when the map shows OSM data."""
    if is_osm_data:
        fig.text(0.99, 0.005, OSM_ATTRIBUTION, ha="right", va="bottom", fontsize=fontsize,
                 color="grey")  # fmt: skip


@cache
def cjk_font() -> str | None:
    """An installed font with Chinese glyphs (Debian: fonts-wqy-microhei), if any."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def label_fonts() -> list[str]:
    """Font families for labels: DejaVu Sans, falling back to a CJK font per glyph."""
    return ["DejaVu Sans", cjk_font()] if cjk_font() else ["DejaVu Sans"]


def label_text(name: str) -> str:
    """The name as it can be drawn: without its Chinese characters when no CJK font exists."""
    if cjk_font() or name.isascii():
        return name
    return re.sub(r"[^\x00-\u024f]+", "", name).strip() or name.encode("ascii", "replace").decode()


def add_scale_bar(ax) -> None:
    """A scale bar of a round length (about a fifth of the width) on a map in metres."""
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    west, east = ax.get_xlim()
    target_m = abs(east - west) / 5
    steps = [10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 50_000]
    length_m = max([s for s in steps if s <= target_m] or [steps[0]])
    text = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m} m"
    bar = AnchoredSizeBar(ax.transData, length_m, text, "lower left", pad=0.5, frameon=False,
                          size_vertical=abs(east - west) / 400)  # fmt: skip
    ax.add_artist(bar)


def network_map(
    network: Network, router: Router, anchors: list[int], which: np.ndarray, path: Path
) -> None:
    """Draw streets (width by speed, tinted by community) and anchors into a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    segments, tails, _ = street_segments(
        network.graph, router.index, router.x, router.y, one_per_pair=False
    )
    speeds = [s for u, v, s in network.graph.edges(data="speed_kph") if u != v]
    x, y = router.x, router.y
    width_m, height_m = max(np.ptp(x), 1.0), max(np.ptp(y), 1.0)
    aspect = min(max(height_m / width_m, 0.3), 3.0)
    fig, ax = plt.subplots(figsize=(9, 9 * aspect + 0.6))
    cmap = plt.get_cmap("tab10" if len(anchors) <= 10 else "tab20")
    links = np.array([bool(d.get("boundary_link")) for u, v, d in network.graph.edges(data=True)
                      if u != v], dtype=bool)  # fmt: skip
    if len(segments):
        widths = 0.3 + np.asarray(speeds, dtype=float) / 30
        streets = ~links
        draw_streets(ax, segments[streets], colors=cmap(which[tails[streets]] % cmap.N),
                     linewidths=widths[streets])  # fmt: skip
    if links.any():  # streets cut by the extract's edge, joined round the outside
        draw_streets(ax, segments[links], colors="#555555", linewidths=0.8, linestyles="dashed",
                     label=f"boundary links ({int(links.sum())})")  # fmt: skip
        ax.legend(loc="upper left", fontsize=8)
    ax.scatter(x[anchors], y[anchors], s=30, c="black", zorder=3)
    for i, a in enumerate(anchors):
        ax.annotate(f"C{i + 1}", (x[a], y[a]), xytext=(4, 4), textcoords="offset points")
    ax.set_aspect("equal")
    ax.autoscale()
    add_scale_bar(ax)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title(f"{network.kind}: {network.nodes:,} nodes, {network.km_of_road:,.1f} km of road")
    add_attribution(fig, network.is_osm_data, fontsize=8)
    fig.savefig(path, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)

"""The map: streets drawn once from node coordinates, markers redrawn each frame.

Fast by blitting: the static layer (streets tinted by community, posts, placed labels, scale
bar, attribution) is rasterised once and kept as a pixel buffer; a frame restores it and
draws only the moving parts (open calls, units, counts on stacked units, the followed unit's
route), then encodes a PNG. No layout algorithm is ever run: positions are the projected
x/y. The legend is not in the image: the page builds it from the same colours.

With the patrol coverage layer on (``show_coverage``), a second buffer holds the static
layer with the coverage lines drawn over the streets and under the posts and labels; it is
re-rasterised only when the coverage colours change (checked every few frames).

Clicks map back to units: ``unit_at`` takes a pixel of the PNG, turns it into metres with
the inverse of the axes' data transform and picks the nearest unit drawn in the last frame.
"""

from __future__ import annotations

import io
import math
from collections import Counter

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.transforms import offset_copy
from PIL import Image

from sim.model import PatrolModel
from sim.reporting import maps
from sim.viz.clock import clock_text
from sim.viz.coverage_layer import CoverageLayer, patrols
from sim.viz.labels import marker_boxes, place_labels
from sim.viz.style import is_moving, state_color, type_color

OSM_ATTRIBUTION = maps.OSM_ATTRIBUTION
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
WAIT_ALERT_MIN = 10.0  # calls waiting longer get a red ring
DPI = 90
MAP_WIDTH_IN = 7.0  # one map alone; the height follows the district's shape
PAIR_WIDTH_IN = 5.4  # each of two maps side by side (about the width they are shown at)
MAX_COUNTS = 40  # "x N" labels drawn on stacked units at most
POST_PX = 14.0  # size of a post marker, for label placement
PICK_PX = 8.0  # a click picks the nearest unit drawn within this many pixels of the PNG
OVERLAY_ZORDER = 3  # static artists at or above it are drawn over the coverage layer


class MapRenderer:
    """Renders the map of one model as PNG bytes (one renderer per scenario panel)."""

    def __init__(self, sim: PatrolModel, width_in: float = MAP_WIDTH_IN):
        self.sim = sim
        x, y = np.asarray(sim.router.x, dtype=float), np.asarray(sim.router.y, dtype=float)
        limits = map_limits(x, y)
        aspect = (limits[3] - limits[2]) / (limits[1] - limits[0])
        height = width_in * min(max(aspect, 0.55), 1.5)
        self.figure = Figure(figsize=(width_in, height), dpi=DPI, layout="none")
        self.canvas = FigureCanvasAgg(self.figure)
        self.ax = self.figure.add_axes((0.005, 0.005, 0.99, 0.99))
        self.ax.set_axis_off()
        self.ax.set_xlim(limits[0], limits[1])
        self.ax.set_ylim(limits[2], limits[3])
        self.ax.set_aspect("equal", adjustable="box")
        self.label_artists = _draw_static(self.ax, sim)
        self.coverage = CoverageLayer(self.ax, sim) if patrols(sim) else None
        self.show_coverage = False  # the page's toggle
        self.units_in_picture = True  # False: the page moves the units over the picture
        self.calls = self.ax.scatter([], [], marker="D", s=30, zorder=4, animated=True, lw=1.5)
        self.units = self.ax.scatter(
            [], [], marker="o", s=80, zorder=5, animated=True, edgecolors="black", linewidths=0.8
        )
        self.route = Line2D([], [], color="black", lw=2.5, ls="--", zorder=4.5, animated=True)
        self.ring = self.ax.scatter(
            [], [], s=420, facecolors="none", edgecolors="black", linewidths=2.5, zorder=6
        )
        self.ring.set_animated(True)
        self.ax.add_line(self.route)
        self.counts = [_count_text(self.ax) for _ in range(MAX_COUNTS)]
        self._count_sides = [  # upper right (first choice), lower right, upper left, lower left
            offset_copy(self.ax.transData, fig=self.figure, x=dx, y=dy, units="points")
            for dx, dy in ((6, 4), (6, -16), (-22, 4), (-22, -16))
        ]
        self.clock = self.ax.text(
            0.01, 0.99, "", transform=self.ax.transAxes, ha="left", va="top", fontsize=11,
            fontweight="bold", zorder=9, animated=True, fontfamily=maps.label_fonts(),
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
        )  # fmt: skip
        self.followed: str | None = None  # a unit's label
        self.shown: list[tuple[str, float, float]] = []  # units drawn last: label, x, y
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._overlays = _overlays(self.ax)
        self._to_data = self.ax.transData.inverted()  # fixed: limits never change
        self._coverage_background = None
        self.coverage_draws = 0  # times the coverage layer was re-rasterised

    def render(self) -> bytes:
        """The current frame as PNG bytes (call it while the model does not advance)."""
        self.canvas.restore_region(self._static_layer())
        self._update_calls()
        xy = self._update_units()
        self._update_followed(xy)
        drawn = (self.calls, self.route, self.units, self.ring)
        for artist in drawn if self.units_in_picture else (self.calls, self.route, self.ring):
            self.ax.draw_artist(artist)
        for text in self._update_counts(xy):
            self.ax.draw_artist(text)
        self.clock.set_text(clock_text(self.sim.time))  # every frame differs: it is sent
        self.ax.draw_artist(self.clock)
        return png_bytes(self.canvas)

    def _static_layer(self):
        """The buffer a frame starts from: the streets, or the streets with coverage."""
        if not self.show_coverage or self.coverage is None:
            self._coverage_background = None
            return self._background
        fresh = self._coverage_background is None
        if self.coverage.refresh(force=fresh) or fresh:
            self._coverage_background = self._draw_coverage()
        return self._coverage_background

    def _draw_coverage(self):
        """Streets, then the coverage lines, then posts, labels, scale bar and credit."""
        self.canvas.restore_region(self._background)
        self.ax.draw_artist(self.coverage.lines)
        for artist in self._overlays:
            self.ax.draw_artist(artist)
        self.coverage_draws += 1
        return self.canvas.copy_from_bbox(self.figure.bbox)

    def geometry(self) -> dict:
        """Metres to the picture: data limits and the axes' box (shares of the picture)."""
        box = self.ax.get_position()
        (x0, x1), (y0, y1) = self.ax.get_xlim(), self.ax.get_ylim()
        return {"x0": x0, "x1": x1, "y0": y0, "y1": y1,
                "box": [box.x0, box.y0, box.width, box.height]}  # fmt: skip

    def size_px(self) -> tuple[int, int]:
        """The PNG's width and height in pixels."""
        width, height = self.canvas.get_width_height()
        return int(width), int(height)

    def pixel_of(self, x_m: float, y_m: float) -> tuple[float, float]:
        """Where a point (metres) is drawn in the PNG: pixels from its top left."""
        px, py = self.ax.transData.transform((x_m, y_m))
        return float(px), float(self.size_px()[1] - py)

    def data_at(self, px: float, py: float) -> tuple[float, float]:
        """The point (metres) drawn at a pixel of the PNG (from its top left)."""
        x_m, y_m = self._to_data.transform((px, self.size_px()[1] - py))
        return float(x_m), float(y_m)

    def unit_at(self, px: float, py: float, within_px: float = PICK_PX) -> str | None:
        """The label of the unit drawn nearest a pixel of the PNG, if within ``within_px``."""
        if not self.shown:
            return None
        x_m, y_m = self.data_at(px, py)
        metres_per_px = abs(self.data_at(px + 1.0, py)[0] - x_m)
        where = np.array([(x, y) for _, x, y in self.shown])
        distance_m = np.hypot(where[:, 0] - x_m, where[:, 1] - y_m)
        nearest = int(np.argmin(distance_m))
        if distance_m[nearest] > within_px * metres_per_px:
            return None
        return self.shown[nearest][0]

    def _update_units(self) -> np.ndarray:
        sim, now = self.sim, self.sim.time
        xy = np.array([u.xy(now) for u in sim.units], dtype=float).reshape(-1, 2)
        self.shown = [(u.label, x, y) for u, (x, y) in zip(sim.units, xy.tolist(), strict=True)]
        self.units.set_offsets(xy)
        self.units.set_facecolors([state_color(u.state) for u in sim.units] or "none")
        return xy

    def _update_calls(self) -> None:
        sim, router = self.sim, self.sim.router
        open_calls = list(sim.open_calls.values())
        if not open_calls:
            self.calls.set_offsets(np.zeros((0, 2)))
            return
        nodes = [c.node for c in open_calls]
        waited = np.array([sim.time - c.t_call for c in open_calls])
        self.calls.set_offsets(np.c_[router.x[nodes], router.y[nodes]])
        self.calls.set_facecolors([type_color(c.type_index) for c in open_calls])
        self.calls.set_sizes(30.0 + np.minimum(waited, 60.0) * 2.5)  # grows with the wait
        self.calls.set_edgecolors(np.where(waited > WAIT_ALERT_MIN, "red", "white"))

    def _update_counts(self, xy: np.ndarray) -> list[Text]:
        """'x N' beside places where several units stand, on the side clear of place names."""
        stacks = Counter(map(tuple, np.round(xy, 0)))
        renderer = self.canvas.get_renderer()
        names = [label.get_window_extent(renderer) for label in self.label_artists]
        shown = []
        for text, ((x, y), n) in zip(self.counts, _stacked(stacks), strict=False):
            text.set_position((x, y))
            text.set_text(f"×{n}")
            for transform in self._count_sides:  # the first side that covers no name
                text.set_transform(transform)
                box = text.get_window_extent(renderer)
                if not any(box.overlaps(name) for name in names):
                    break
            shown.append(text)
        return shown

    def _update_followed(self, xy: np.ndarray) -> None:
        unit = next((u for u in self.sim.units if u.label == self.followed), None)
        if unit is None:
            self.ring.set_offsets(np.zeros((0, 2)))
            self.route.set_data([], [])
            return
        here = xy[self.sim.units.index(unit)]
        self.ring.set_offsets([here])
        self.route.set_data(*route_xy(unit, self.sim))


def _overlays(ax) -> list:
    """The static artists drawn over the coverage layer (posts, labels, scale bar, credit)."""
    children = [
        a for a in ax.get_children()
        if a.get_zorder() >= OVERLAY_ZORDER and a.get_visible() and not a.get_animated()
    ]  # fmt: skip
    return sorted(children, key=lambda a: a.get_zorder())


def _stacked(stacks: Counter) -> list[tuple[tuple[float, float], int]]:
    return sorted(((p, n) for p, n in stacks.items() if n > 1), key=lambda pn: -pn[1])


def route_xy(unit, sim: PatrolModel) -> tuple[list[float], list[float]]:
    """The rest of a moving unit's route (x list, y list); empty when it stands still."""
    if not is_moving(unit.state) or unit.trip is None:
        return [], []
    now, router = sim.time, sim.router
    route = unit.route()
    k, _ = route.leg_at(now)
    here = unit.xy(now)
    nodes = route.nodes[k + 1 :]
    return [here[0], *router.x[nodes]], [here[1], *router.y[nodes]]


def _count_text(ax) -> Text:
    text = ax.text(
        0,
        0,
        "",
        fontsize=9,
        fontweight="bold",
        ha="left",
        va="bottom",
        zorder=7,
        animated=True,
        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
    )
    text.set_transform(offset_copy(ax.transData, fig=ax.figure, x=6, y=4, units="points"))
    return text


def _draw_static(ax, sim: PatrolModel) -> list:
    """Streets, posts, community labels (placed clear of each other), scale bar, credit."""
    router, world = sim.router, sim.world
    x, y = np.asarray(router.x, dtype=float), np.asarray(router.y, dtype=float)
    segments, tails = street_segments(sim)
    tint = np.array(COMMUNITY_TINTS, dtype=object)[world.community_of_node[tails] % 10]
    maps.draw_streets(ax, segments, colors=list(tint), linewidths=1.6)
    posts = _draw_posts(ax, sim, x, y)
    fixed = [_scale_bar(ax)]
    if world.network.is_osm_data:
        credit = ax.text(
            0.995,
            0.005,
            OSM_ATTRIBUTION,
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
            color="#333333",
            backgroundcolor=(1, 1, 1, 0.75),
            zorder=8,
        )
        fixed.append(credit)
    labels = [
        ax.annotate(
            maps.label_text(community.name),
            (x[node], y[node]),
            xytext=(0, 9),
            textcoords="offset points",
            fontsize=9,
            color="#111111",
            zorder=3,
            fontfamily=maps.label_fonts(),
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6},
        )
        for community, node in zip(sim.scenario.communities, world.anchor_nodes, strict=True)
    ]
    ax.figure.canvas.draw()  # the limits settle (equal aspect) before boxes are measured
    renderer = ax.figure.canvas.get_renderer()
    obstacles = marker_boxes(ax, posts, POST_PX) + [t.get_window_extent(renderer) for t in fixed]
    place_labels(ax, labels, obstacles)
    return labels


def _draw_posts(ax, sim: PatrolModel, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Stations (squares) and offices (triangles); returns their x/y."""
    places = []
    for kind, marker, size in (("station", "s", 120), ("office", "^", 100)):
        nodes = [p.node for p in sim.posts.values() if p.kind == kind]
        if nodes:
            ax.scatter(
                x[nodes], y[nodes], marker=marker, s=size, c="white", edgecolors="black",
                linewidths=1.4, zorder=3,
            )  # fmt: skip
            places.extend(zip(x[nodes], y[nodes], strict=True))
    return np.array(places, dtype=float).reshape(-1, 2)


def _scale_bar(ax) -> Text:
    """A bar of a round length (about a fifth of the map's width), lower left."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length((x1 - x0) / 5)
    left, bottom = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([left, left + length], [bottom, bottom], color="black", lw=3, zorder=8)
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    return ax.text(
        left + length / 2,
        bottom + 0.012 * (y1 - y0),
        text,
        ha="center",
        va="bottom",
        fontsize=8,
        zorder=8,
    )


def nice_length(metres: float) -> float:
    """The largest of 1, 2, 5 x 10^k not above ``metres`` (at least 1)."""
    if metres <= 1:
        return 1.0
    scale = 10 ** math.floor(math.log10(metres))
    return float(max(k * scale for k in (1, 2, 5) if k * scale <= metres))


def street_segments(sim: PatrolModel) -> tuple[np.ndarray, np.ndarray]:
    """(segments as (n, 2, 2) x/y in metres, tail node index) for each street, once per pair."""
    router = sim.router
    segments, tails, _ = maps.street_segments(
        sim.world.network.graph, router.index, np.asarray(router.x), np.asarray(router.y)
    )
    return segments, tails


def map_limits(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """The district's extent with a margin (at least 100 m each way)."""
    half_x, half_y = max(np.ptp(x), 100.0) / 2, max(np.ptp(y), 100.0) / 2
    pad = 0.05 * max(half_x, half_y) * 2
    cx, cy = (x.min() + x.max()) / 2, (y.min() + y.max()) / 2
    return cx - half_x - pad, cx + half_x + pad, cy - half_y - pad, cy + half_y + pad


def png_bytes(canvas: FigureCanvasAgg) -> bytes:
    """The canvas's pixels as a 256-colour PNG: frames are sent, not stored.

    The line art has far fewer colours; quantising first makes the PNG about 3x faster to
    encode and 2.5x smaller than a full-colour one (4 ms and 34 kB against 14 ms and 83 kB
    for a 630x530 map), with no visible difference.
    """
    width, height = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    image = image.convert("RGB").quantize(
        256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
    )
    out = io.BytesIO()
    image.save(out, format="png", compress_level=1)
    return out.getvalue()

"""The map's geometry and colours, and the PNG encoding the charts use.

The map itself is drawn by the browser (``streetmap`` sends it as vectors, ``streetmap.js``
draws it); this module gives what it is drawn from: the street segments in metres, the
district's extent, the community tints, the followed unit's remaining route.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from sim.model import PatrolModel
from sim.reporting import maps
from sim.viz.style import is_moving

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
DPI = 90  # the charts' resolution


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

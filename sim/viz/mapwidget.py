"""The map widget: a Vue template (ipyvue) whose script, ``streetmap.js``, draws the map.

The street map is a trait set once per scenario panel; the overlay and the units' paths are
traits set each frame (ipywidgets sends a trait only when its value changes). A click near a
unit comes back as the unit's index, which ``on_pick`` gets; the ``seq`` of each motion frame
the script took comes back to ``on_seen`` (the play loop paces itself on it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import ipyvuetify as v
import solara
import traitlets

from sim.viz.streetmap import picked_unit

SCRIPT = Path(__file__).with_name("streetmap.js").read_text(encoding="utf-8")
CANVAS_STYLE = "position: absolute; left: 0; top: 0; width: 100%; height: 100%"
TEMPLATE = f"""
<template>
  <div class="patrol-map" @click="pick($event)"
       :style="{{position: 'relative', width: '100%', cursor: 'crosshair',
                 'aspect-ratio': String(ratio)}}">
    <canvas ref="streets" class="patrol-streets" style="{CANVAS_STYLE}"></canvas>
    <canvas ref="canvas" class="patrol-motion"
            style="{CANVAS_STYLE}; pointer-events: none"></canvas>
  </div>
</template>
<script>
{SCRIPT}
</script>
"""


class StreetMapWidget(v.VuetifyTemplate):
    """The map's front end; ``on_pick`` gets the index of a unit clicked on."""

    template = traitlets.Unicode(TEMPLATE).tag(sync=True)
    streets = traitlets.Dict().tag(sync=True)  # streetmap.street_map: sent once
    coverage = traitlets.List().tag(sync=True)  # a colour per coverage segment, or []
    overlay = traitlets.Dict().tag(sync=True)  # streetmap.frame_overlay: each frame
    motion = traitlets.Dict().tag(sync=True)  # MotionRecorder.frame: each frame
    ratio = traitlets.Float(1.0).tag(sync=True)  # the map's width / height
    on_pick = traitlets.Any(None)  # a callable, kept on the server only
    on_seen = traitlets.Any(None)  # a callable: gets the seq of each motion frame taken

    def vue_clicked(self, data: dict) -> None:
        """Called from the script with ``{unit: index}``."""
        unit = picked_unit(data, len(self.motion.get("units", [])))
        if unit is not None and callable(self.on_pick):
            self.on_pick(unit)

    def vue_seen(self, seq) -> None:
        """Called from the script with the ``seq`` of each motion frame it took."""
        if isinstance(seq, int | float) and callable(self.on_seen):
            self.on_seen(int(seq))


@solara.component
def StreetMap(
    streets: dict,
    overlay: dict,
    motion: dict,
    coverage: list[str],
    ratio: float,
    on_pick: Callable[[int], None],
    on_seen: Callable[[int], None] | None = None,
) -> None:
    """The map of one scenario, drawn and animated by the browser."""
    StreetMapWidget.element(
        streets=streets, overlay=overlay, motion=motion, coverage=coverage, ratio=ratio,
        on_pick=on_pick, on_seen=on_seen,
    )  # fmt: skip

"""An image that reports where it was clicked, in the image's own pixels.

The image stays an ipywidgets ``Image`` (frames go over the websocket as binary PNG); a
small Vue template wraps it and sends the click's offset and the size the image is shown
at, so the server can scale the click to the PNG's pixels whatever the page's layout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ipyvuetify as v
import ipywidgets as widgets
import solara
import traitlets

MOTION_JS = Path(__file__).with_name("motion.js").read_text(encoding="utf-8")
TEMPLATE = (
    """
<template>
  <div class="patrol-clickable" style="cursor: crosshair; line-height: 0; position: relative"
       @click="clicked({x: $event.offsetX, y: $event.offsetY, tag: $event.target.tagName,
                        width: $event.target.clientWidth, height: $event.target.clientHeight})">
    <jupyter-widget :widget="image"></jupyter-widget>
    <canvas ref="canvas" class="patrol-motion"
            style="position: absolute; left: 0; top: 0; width: 100%; height: 100%;
                   pointer-events: none"></canvas>
  </div>
</template>
<script>
"""
    + MOTION_JS
    + """
</script>
"""
)


@dataclass(frozen=True)
class Click:
    """A click on the image: its offset and the size the image is shown at (CSS pixels)."""

    x: float
    y: float
    shown_width: float
    shown_height: float

    def to_image_px(self, width_px: int, height_px: int) -> tuple[float, float]:
        """The click in the image's pixels (from its top left), given its true size."""
        return (
            self.x * width_px / max(self.shown_width, 1.0),
            self.y * height_px / max(self.shown_height, 1.0),
        )


def parse_click(data: dict) -> Click | None:
    """The click from the browser's event data; None when it missed the image."""
    if not isinstance(data, dict) or str(data.get("tag", "")).upper() != "IMG":
        return None
    try:
        return Click(
            float(data["x"]), float(data["y"]), float(data["width"]), float(data["height"])
        )
    except (KeyError, TypeError, ValueError):
        return None


class ClickableWidget(v.VuetifyTemplate):
    """The Vue wrapper: ``image`` is the widget shown, ``on_click`` gets each ``Click``."""

    template = traitlets.Unicode(TEMPLATE).tag(sync=True)
    image = traitlets.Instance(widgets.Widget, allow_none=True).tag(
        sync=True, **widgets.widget_serialization
    )
    on_click = traitlets.Any(None)  # a callable, kept on the server only
    motion = traitlets.Dict().tag(sync=True)  # the units' street paths of the last frame
    geometry = traitlets.Dict().tag(sync=True)  # metres -> share of the picture, frame interval

    def vue_clicked(self, data: dict) -> None:
        """Called from the template with the event's numbers."""
        click = parse_click(data)
        if click is not None and callable(self.on_click):
            self.on_click(click)


@solara.component
def ClickableImage(
    png: bytes,
    on_click: Callable[[Click], None],
    classes: list[str] | None = None,
    motion: dict | None = None,
    geometry: dict | None = None,
) -> None:
    """A PNG shown at the width of its box that reports clicks on it; units moved over it."""
    image = solara.Image(png, format="png", width="100%", classes=classes or [])
    ClickableWidget.element(
        image=image, on_click=on_click, motion=motion or {}, geometry=geometry or {}
    )

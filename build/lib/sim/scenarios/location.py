"""A point in a scenario: a node id, projected x/y in metres, or lat/lon."""

from __future__ import annotations

from pydantic import Field, model_validator

from sim.scenarios.frozen import Frozen


class Location(Frozen):
    """A point: a node id, projected x/y in metres, or lat/lon."""

    node: int | str | None = None
    x: float | None = None
    y: float | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _one_form(self) -> Location:
        forms = [
            self.node is not None,
            self.x is not None or self.y is not None,
            self.lat is not None or self.lon is not None,
        ]
        if sum(forms) != 1:
            raise ValueError("give exactly one of {node}, {x, y} or {lat, lon}")
        if (self.x is None) != (self.y is None) or (self.lat is None) != (self.lon is None):
            raise ValueError("x needs y and lat needs lon")
        return self

    def location(self) -> dict:
        """The point as the snapping functions take it (its given coordinates only)."""
        return self.model_dump(exclude_none=True)

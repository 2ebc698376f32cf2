"""The scenario key ``network``: which street network, from where (loaded by ``sim.network``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.scenarios.frozen import Frozen

#: Streets cut by the edge of a map extract: joined by boundary links, every node kept
#: (``sim.network.boundary``), or cut (only the largest strongly connected component kept).
EdgeStreets = Literal["join", "cut"]


class NetworkSpecBase(Frozen):
    """What every network source has: a speed factor."""

    speed_factor: float = Field(1.0, gt=0, description="multiplies every speed (congestion < 1)")


class SyntheticNetworkSpec(NetworkSpecBase):
    """A generated district (the embedded default, needs no data and no internet)."""

    kind: Literal["synthetic"] = "synthetic"
    width_km: float = Field(3.0, gt=0, le=200)
    height_km: float = Field(2.5, gt=0, le=200)
    local_spacing_m: float = Field(180.0, ge=20, description="between local streets")
    arterial_spacing_m: float = Field(750.0, ge=20, description="between arterials")
    jitter_m: float = Field(25.0, ge=0, description="max shift of a node off its grid point")
    drop_share: float = Field(0.08, ge=0, lt=1, description="share of local links missing")
    oneway_share: float = Field(0.2, ge=0, le=1, description="share of one-way local stretches")
    local_kph: float = Field(30.0, gt=0)
    secondary_kph: float = Field(50.0, gt=0)
    primary_kph: float = Field(60.0, gt=0)
    seed: int = 0

    @model_validator(mode="after")
    def _jitter_fits(self) -> SyntheticNetworkSpec:
        if self.jitter_m >= self.local_spacing_m / 2:
            raise ValueError("jitter_m must be less than half of local_spacing_m")
        return self


class OsmNetworkSpec(NetworkSpecBase):
    """A local OpenStreetMap XML file (.osm, .osm.bz2)."""

    kind: Literal["osm"]
    path: Path
    edge_streets: EdgeStreets = "join"
    speeds_kph: dict[str, float] = Field(
        default_factory=dict, description="speeds by highway class, over DEFAULT_SPEEDS_KPH"
    )


class GraphmlNetworkSpec(NetworkSpecBase):
    """An osmnx GraphML file, taken as it is (no road-class filter)."""

    kind: Literal["graphml"]
    path: Path
    edge_streets: EdgeStreets = "join"
    speeds_kph: dict[str, float] = Field(default_factory=dict)


class PlaceNetworkSpec(NetworkSpecBase):
    """A place name or bbox (west, south, east, north), downloaded once, then cached."""

    kind: Literal["place"]
    query: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    cache_dir: Path = Path("cache/networks")
    edge_streets: EdgeStreets = "join"
    speeds_kph: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_of(self) -> PlaceNetworkSpec:
        if (self.query is None) == (self.bbox is None):
            raise ValueError("give exactly one of 'query' and 'bbox'")
        return self


class PointNetworkSpec(NetworkSpecBase):
    """One node at (0, 0) and no edges: every travel time is zero (textbook queues)."""

    kind: Literal["point"]


NetworkSpec = Annotated[
    SyntheticNetworkSpec
    | OsmNetworkSpec
    | GraphmlNetworkSpec
    | PlaceNetworkSpec
    | PointNetworkSpec,
    Field(discriminator="kind"),
]

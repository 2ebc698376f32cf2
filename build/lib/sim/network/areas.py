"""Communities given as polygons (GIS areas): their nodes by containment, their anchors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.errors import SimInputError
from sim.network.places import assign_communities

if TYPE_CHECKING:
    from sim.network.routing import Router
    from sim.network.sources import Network
    from sim.scenarios.schema import Scenario


def apply_areas(
    scenario: Scenario, network: Network, router: Router, anchors: tuple[int, ...]
) -> tuple[tuple[int, ...], np.ndarray]:
    """Anchors and the community of every node when some communities have areas."""
    import shapely

    shapes = area_shapes(scenario, network)
    anchors = list(anchors)
    inside = np.full(router.n_nodes, -1)
    for c, shape in enumerate(shapes):
        if shape is None:
            continue
        contained = shapely.contains_xy(shape, router.x, router.y)
        if not contained.any():
            name = scenario.communities[c].name
            raise SimInputError(f"community {name!r}: its area holds no street node")
        inside[contained & (inside < 0)] = c
        if scenario.communities[c].at is None:
            anchors[c] = _central_node(shape, router, np.flatnonzero(contained))
    which = assign_communities(router, anchors)
    which[inside >= 0] = inside[inside >= 0]
    return tuple(anchors), which


def area_shapes(scenario: Scenario, network: Network) -> list:
    """Each community's area in the network's CRS (None where it has none)."""
    import geopandas as gpd

    shapes = []
    for community in scenario.communities:
        area = community.area
        if area is None:
            shapes.append(None)
            continue
        if area.crs is not None and not network.georeferenced:
            raise SimInputError(
                f"community {community.name!r}: its area is in {area.crs}, but the "
                f"{network.kind} network has no geographic position"
            )
        series = gpd.GeoSeries.from_wkt([area.wkt], crs=area.crs or network.crs)
        shapes.append(series.to_crs(network.crs).iloc[0])
    return shapes


def _central_node(shape, router: Router, nodes: np.ndarray) -> int:
    point = shape.representative_point()
    d2 = (router.x[nodes] - point.x) ** 2 + (router.y[nodes] - point.y) ** 2
    return int(nodes[np.argmin(d2)])

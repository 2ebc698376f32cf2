"""Streets cut by the extract's edge: routable nodes and calls kept, cut vs joined (issue 25).

Loads the Wuhan extract of the `optics_valley_east` scenario twice, with `edge_streets: cut`
(only the largest strongly connected component, as before) and `join` (every node kept,
boundary links added, sim/network/boundary.py), and places one call on every drivable OSM
node of the extract (every node of a drivable way, before osmnx simplifies the graph: the
places a caller on a street can be). It prints the nodes routable, the street-km kept, and
the calls rejected as beyond the scenario's snapping tolerance (300 m), by road class.

    python experiments/boundary_streets.py
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyproj import Transformer

from sim.calls.snap import Snapper
from sim.network.routing import Router
from sim.network.sources import (
    _filter_drivable,  # the raw drivable ways, before simplification
    _read_osm_xml,
    load_network,
    resolve_path,
)
from sim.scenarios.load import load_scenario


def drivable_points(path) -> pd.DataFrame:
    """Every node of a drivable way, with the road class of one of its ways."""
    graph = _filter_drivable(_read_osm_xml(path), path)
    classes = {}
    for u, v, data in graph.edges(data=True):
        highway = data.get("highway")
        highway = highway[0] if isinstance(highway, list) else highway
        classes.setdefault(u, highway)
        classes.setdefault(v, highway)
    nodes = sorted(graph.nodes)
    return pd.DataFrame(
        {
            "lon": [graph.nodes[n]["x"] for n in nodes],
            "lat": [graph.nodes[n]["y"] for n in nodes],
            "highway": [classes.get(n, "") for n in nodes],
        }
    )


def main() -> None:
    """Print the comparison."""
    scenario = load_scenario("optics_valley_east")
    path = resolve_path(scenario.network.path, scenario.source_dir, "OSM file")
    points = drivable_points(path)
    print(f"{len(points)} drivable OSM nodes in {path.name} (calls placed on each)")
    for mode in ("cut", "join"):
        spec = scenario.network.model_copy(update={"edge_streets": mode})
        network = load_network(spec, scenario.source_dir)
        router = Router(network.graph)
        snap = Snapper(network, router, scenario.snap_tolerance_m)
        to_net = Transformer.from_crs("EPSG:4326", network.crs, always_xy=True)
        x, y = to_net.transform(points["lon"].to_numpy(), points["lat"].to_numpy())
        _, dist = snap.nearest(np.asarray(x), np.asarray(y))
        far = dist > snap.tolerance_m
        by_class = points.loc[far, "highway"].value_counts().to_dict()
        print(
            f"{mode}: {network.nodes} of {network.nodes_loaded} nodes routable "
            f"({network.kept_share:.1%}), {network.km_of_road:.1f} street-km, "
            f"{network.boundary_links} boundary links; calls rejected beyond "
            f"{snap.tolerance_m:g} m: {int(far.sum())} {by_class}; snap distance median "
            f"{np.median(dist):.1f} m, p99 {np.quantile(dist, 0.99):.1f} m, max {dist.max():.1f} m"
        )


if __name__ == "__main__":
    main()

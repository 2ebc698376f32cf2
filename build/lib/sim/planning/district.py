"""A new district in one go: a before/after pair of scenarios for any street network.

``district_pair`` writes ``before.yaml`` (extends the shipped ``central``: every unit at one
station, nearest-unit dispatch, other duties, no case team) and ``after.yaml`` (extends the
shipped ``embedded``: a unit in an office in each community, community-first dispatch, a case
team, follow-through, community patrol) on the same network and communities, so that
``compare before.yaml after.yaml`` runs at once.

- **Communities**: from a polygon file (GeoPackage, GeoJSON; columns ``name``,
  ``population``), else ``k`` balanced areas of the network (``sim.network.balanced``),
  each anchored at its centre node with ``DEFAULT_POPULATION`` residents (ASSUMPTION).
- **Posts**: from a point file (columns ``name``, ``kind``, ``community``), else the station
  at the node nearest the network's centre (ASSUMPTION) and an office at each community's
  anchor.
- **Calls**: the shipped scenarios' (a rate per 1,000 residents); with a calls table, fitted
  to it (``sim.fitting``): rate, hour-of-week profile, type mix, on-scene times, dispatch
  delay and community populations, the same in both files.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import TypeAdapter

from sim.errors import SimInputError
from sim.network.balanced import balanced_communities
from sim.network.routing import Router
from sim.network.sources import load_network
from sim.scenarios.load import read_raw
from sim.scenarios.network_spec import NetworkSpec
from sim.scenarios.place_files import expand_place_files

DEFAULT_POPULATION = 10_000  # ASSUMPTION: a community of 10,000 residents (the shipped 10-14k)
STATION = "Station"


@dataclass(frozen=True)
class District:
    """The two raw scenarios and what they were made from."""

    before: dict
    after: dict
    communities: list[dict]
    posts: list[dict]


def network_spec(source: str, out_dir: Path) -> dict:
    """The scenario's ``network`` for NETWORK (a file or ``place:NAME``), paths from ``out_dir``."""
    if source.startswith("place:"):
        return {"kind": "place", "query": source.removeprefix("place:").strip()}
    path = Path(source)
    if not path.is_file():
        raise SimInputError(f"district: network file not found: {path}")
    relative = os.path.relpath(path.resolve(), Path(out_dir).resolve())
    name = path.name.lower()
    if name.endswith((".osm", ".osm.bz2", ".xml")):
        return {"kind": "osm", "path": relative}
    if name.endswith(".graphml"):
        return {"kind": "graphml", "path": relative}
    raise SimInputError(
        f"district: {path.name}: expected an .osm, .osm.bz2 or .graphml file, or place:NAME"
    )


def district_pair(
    source: str, out_dir: Path, k: int = 4, communities_file: Path | None = None,
    posts_file: Path | None = None, name: str | None = None,
) -> District:  # fmt: skip
    """The before/after pair for NETWORK ``source`` (see the module docstring), not written."""
    out_dir = Path(out_dir)
    network = network_spec(source, out_dir)
    here = {**network, "path": str(Path(source).resolve())} if "path" in network else network
    loaded = load_network(TypeAdapter(NetworkSpec).validate_python(here))
    router = Router(loaded.graph)
    place = _placer(loaded, router)
    if communities_file is not None:
        raw = {"communities": {"file": str(Path(communities_file).resolve())}}
        communities = expand_place_files(raw, out_dir)["communities"]
    else:
        if not 1 <= k <= router.n_nodes:
            raise SimInputError(f"district: cannot make {k} communities of {router.n_nodes} nodes")
        anchors, _ = balanced_communities(router, k)
        communities = [{"name": f"C{i + 1}", "population": DEFAULT_POPULATION, "at": place(a)}
                       for i, a in enumerate(anchors)]  # fmt: skip
    if posts_file is not None:
        raw = {"communities": communities, "posts": {"file": str(Path(posts_file).resolve())}}
        posts = expand_place_files(raw, out_dir)["posts"]
    else:
        centre = np.array([router.x.mean(), router.y.mean()])
        station = int(np.argmin(np.hypot(router.x - centre[0], router.y - centre[1])))
        posts = [{"name": STATION, "kind": "station", "at": place(station)}]
        posts += [{"name": f"{c['name']} office", "kind": "office", "community": c["name"]}
                  for c in communities]  # fmt: skip
    label = name or Path(source.removeprefix("place:")).name.split(".")[0]
    before, after = _pair(label, network, communities, posts)
    return District(before, after, communities, posts)


def _placer(network, router):
    """A node's position as a scenario ``at``: lat/lon when georeferenced, else x/y."""
    if not network.georeferenced:
        return lambda i: {"x": round(float(router.x[i]), 1), "y": round(float(router.y[i]), 1)}
    from pyproj import Transformer

    to_deg = Transformer.from_crs(network.crs, "EPSG:4326", always_xy=True)

    def place(i: int) -> dict:
        lon, lat = to_deg.transform(router.x[i], router.y[i])
        return {"lat": round(float(lat), 6), "lon": round(float(lon), 6)}

    return place


def _pair(label: str, network: dict, communities: list, posts: list) -> tuple[dict, dict]:
    """The raw before (station) and after (offices) scenarios."""
    stations = [p for p in posts if p.get("kind") == "station"]
    offices = [p for p in posts if p.get("kind") == "office"]
    if not stations:
        raise SimInputError("district: the posts need a station (kind: station)")
    if not offices:
        raise SimInputError("district: the posts need community offices (kind: office)")
    central, embedded = read_raw(_shipped("central")), read_raw(_shipped("embedded"))
    station_unit = copy.deepcopy(central["units"][0])
    station_unit.update(post=stations[0]["name"], count=len(offices))
    office_unit = copy.deepcopy(embedded["units"][0])
    common = {"network": network, "communities": communities, "posts": posts}
    before = {"extends": "central", "name": f"{label}_before",
              "description": f"Before on {label}: {len(offices)} units at {stations[0]['name']}",
              **common, "units": [station_unit]}  # fmt: skip
    after = {"extends": "embedded", "name": f"{label}_after",
             "description": f"After on {label}: a unit in each of {len(offices)} offices",
             **common, "units": [{**copy.deepcopy(office_unit), "post": o["name"]}
                                 for o in offices]}  # fmt: skip
    return before, after


def _shipped(name: str) -> Path:
    from sim.scenarios.load import SCENARIO_DIR

    return SCENARIO_DIR / f"{name}.yaml"

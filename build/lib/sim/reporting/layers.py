"""GIS layers of a run for QGIS and the like: ``--gis OUT.gpkg`` on ``run`` and ``compare``.

One GeoPackage, CRS EPSG:4326 (a synthetic district's metres are placed at 0° N, 0° E by its
transverse Mercator CRS), one row per feature and scenario (column ``scenario``). Counts are
per replication (all replications' calls after warm-up, divided by their number):

- ``streets`` (lines): every directed edge with road class, length, speed, travel time,
  ``calls_at_ends`` (calls at its two end nodes) and, where units patrol, the patrol passes of
  its street (both directions) per day and the minutes since its last pass at the end of the
  run, from replication 0 (run again for the layer; empty when nobody patrols);
- ``nodes`` (points): calls and mean response time at every street node, its community;
- ``posts`` (points): station and offices, kind, community, units;
- ``calls`` (points, replication 0): type, priority, times, response, outcome;
- ``communities`` (polygons): the GIS area where given, else the union of the Voronoi cells of
  the community's nodes; population, calls per week and per 1,000 residents, response,
  resolution and repeat rates;
- ``isochrones`` (polygons): the streets reachable within 3, 5 and 10 minutes' drive from each
  post (free flow, no mobilisation), buffered by ``EDGE_BUFFER_M``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.clock import MIN_PER_DAY, SECONDS_PER_MIN
from sim.errors import SimInputError

if TYPE_CHECKING:
    import geopandas as gpd

    from sim.analysis.replications import RunResult
    from sim.network.world import World

ISOCHRONE_MIN = (3, 5, 10)
EDGE_BUFFER_M = 30.0
LAYERS = ("streets", "nodes", "posts", "calls", "communities", "isochrones")
GIS_CRS = "EPSG:4326"


def write_layers(results: list[RunResult], path: Path) -> Path:
    """Write every layer of ``results`` into the GeoPackage ``path`` (replaced atomically)."""
    from sim.network.world import build_world

    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        raise SimInputError(f"--gis {path}: expected a GeoPackage path ending in .gpkg")
    frames: dict[str, list] = {name: [] for name in LAYERS}
    for result in results:
        world = build_world(result.scenario)
        if world.router.n_nodes < 2:
            raise SimInputError(f"--gis: scenario {result.scenario.name!r} has no street map")
        for name, frame in scenario_layers(result, world).items():
            frames[name].append(frame.assign(scenario=result.scenario.name))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.gpkg")
    try:
        for name, parts in frames.items():
            layer = pd.concat(parts, ignore_index=True)
            layer.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def scenario_layers(result: RunResult, world: World) -> dict[str, gpd.GeoDataFrame]:
    """The layers of one result, in EPSG:4326."""
    counted = result.records[~result.records["in_warmup"]]
    reps = max(result.scenario.replications, 1)
    layers = {
        "streets": streets(world, counted, reps, patrol_passes(result, world)),
        "nodes": nodes(world, counted, reps, [c.name for c in result.scenario.communities]),
        "posts": posts(result, world),
        "calls": calls(world, counted[counted["replication"] == 0], result.scenario),
        "communities": communities(result, world),
        "isochrones": isochrones(world),
    }
    return {name: frame.to_crs(GIS_CRS) for name, frame in layers.items()}


def _gdf(data: dict, geometry, world: World) -> gpd.GeoDataFrame:
    import geopandas as gpd

    return gpd.GeoDataFrame(data, geometry=list(geometry), crs=world.network.crs)


def _points(world: World, index: np.ndarray):
    import shapely

    return shapely.points(world.router.x[index], world.router.y[index])


def patrol_passes(result: RunResult, world: World) -> dict[tuple[int, int], tuple] | None:
    """Replication 0's patrol passes per day and minutes since the last pass, by street.

    Keyed by the street's two node indices (lower first); None when nobody patrols.
    """
    from sim.model import PatrolModel

    scenario = result.scenario
    if not any(group.patrol.patrols for group in scenario.units):
        return None
    model = PatrolModel(scenario, replication=0, world=world, keep_calls=False)
    model.run()
    cover = model.patroller.count_to_now()
    passes, _ = cover.passes_and_shifts()
    since = model.time - cover.last_pass_min()
    days = max(model.time - model.warmup_min, 0.0) / MIN_PER_DAY
    per_day = passes / days if days > 0 else np.full(len(passes), np.nan)
    ends = zip(cover.segment_tail.tolist(), cover.segment_head.tolist(), strict=True)
    return {key: (per_day[k], since[k]) for k, key in enumerate(ends)}


def streets(
    world: World, counted: pd.DataFrame, reps: int, patrol: dict | None = None
) -> gpd.GeoDataFrame:
    """Every directed edge as a line, with its road data, the calls at its ends, its patrols."""
    from shapely.geometry import LineString

    graph = world.network.graph
    index = world.router.index
    per_node = counted["node"].value_counts() / reps
    rows, lines = [], []
    for u, v, data in graph.edges(data=True):
        line = data.get("geometry")
        if line is None:
            line = LineString([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in (u, v)])
        lines.append(line)
        highway = data.get("highway", "")
        rows.append(
            {
                "u": str(u),
                "v": str(v),
                "highway": ",".join(highway) if isinstance(highway, list) else str(highway),
                "name": _text(data.get("name")),
                "length_m": float(data.get("length", 0.0)),
                "speed_kph": float(data.get("speed_kph", np.nan)),
                "travel_min": float(data.get("travel_time", np.nan)) / SECONDS_PER_MIN,
                "calls_at_ends": per_node.get(str(u), 0.0) + per_node.get(str(v), 0.0),
                **_patrol_columns(patrol, index.get(u, -1), index.get(v, -1)),
            }
        )
    return _gdf(pd.DataFrame(rows).to_dict("list"), lines, world)


def _patrol_columns(patrol: dict | None, a: int, b: int) -> dict[str, float]:
    passes, since = (
        (np.nan, np.nan) if patrol is None else patrol.get((min(a, b), max(a, b)), (np.nan, np.nan))
    )
    return {"patrol_passes_per_day": float(passes), "patrol_min_since_last_pass": float(since)}


def _text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def nodes(world: World, counted: pd.DataFrame, reps: int, names: list[str]) -> gpd.GeoDataFrame:
    """Every street node with its calls per replication and mean response time."""
    router = world.router
    grouped = counted.groupby("node")["response_min"]
    ids = [str(n) for n in router.node_ids]
    data = {
        "node": ids,
        "community": np.array(names, dtype=object)[world.community_of_node],
        "calls": grouped.size().reindex(ids, fill_value=0).to_numpy() / reps,
        "response_mean_min": grouped.mean().reindex(ids).to_numpy(float),
    }
    return _gdf(data, _points(world, np.arange(router.n_nodes)), world)


def posts(result: RunResult, world: World) -> gpd.GeoDataFrame:
    """Station and offices with their units."""
    scenario = result.scenario
    units = {p.name: 0 for p in scenario.posts}
    for group in scenario.units:
        units[group.post] += group.count
    names = [c.name for c in scenario.communities]
    data = {
        "name": [p.name for p in scenario.posts],
        "kind": [p.kind for p in scenario.posts],
        "community": [names[world.post_community[p.name]] for p in scenario.posts],
        "units": [units[p.name] for p in scenario.posts],
        "node": [str(world.router.node_ids[world.post_nodes[p.name]]) for p in scenario.posts],
    }
    index = np.array([world.post_nodes[p.name] for p in scenario.posts])
    return _gdf(data, _points(world, index), world)


def calls(world: World, records: pd.DataFrame, scenario=None) -> gpd.GeoDataFrame:
    """Calls (one replication) as points at their node, with response time and outcome.

    In a replay they also carry ``wall_clock`` (the call's time in the table's zone) and,
    for the replayed calls themselves, the table's ``source_row`` (1 = first data row) and
    ``source_id`` (the export's own id, when its layout names one), to join back to it, and
    ``snap_m``, the distance from the row's point to the street it was placed on.
    """
    router = world.router
    index = np.array([router.index[_node_id(n, router)] for n in records["node"]], dtype=int)
    outcome = np.where(
        records["t_arrive"].isna(),
        "not reached",
        np.where(records["resolved"], "resolved", "unresolved"),
    )
    columns = ["id", "type", "priority", "criminal", "community", "t_call", "response_min",
               "travel_min", "queued", "unit_post", "escalated"]  # fmt: skip
    data = {c: records[c].to_numpy() for c in columns}
    data["unit_post"] = records["unit_post"].astype(object).fillna("").to_numpy()
    data["is_repeat"] = records["repeat_of"].notna().to_numpy()
    data["outcome"] = outcome
    if scenario is not None and scenario.calls.trace is not None:
        data.update(source_columns(scenario, world, records, index))
    return _gdf(data, _points(world, index), world)


def source_columns(scenario, world: World, records: pd.DataFrame, index: np.ndarray) -> dict:
    """``wall_clock``, ``source_row`` and ``source_id`` of a replay's call records."""
    from sim.calls.replay import load_trace

    trace = load_trace(scenario, world)
    t_call = records["t_call"].to_numpy(float)
    wall = trace.start + pd.to_timedelta(t_call, unit="min")
    table = trace.table.calls
    keys = pd.MultiIndex.from_arrays([table["t_min"].round(6), table["node"]])
    rows = pd.Series(table["row"].to_numpy(), index=keys)
    rows = rows[~rows.index.duplicated()]
    ids = pd.Series(table["id"].astype(object).to_numpy(), index=keys)
    ids = ids[~ids.index.duplicated()]
    snaps = pd.Series(table["snap_m"].to_numpy(float), index=keys)
    snaps = snaps[~snaps.index.duplicated()]
    base = (records["repeat_of"].isna() & records["problem"].isna()).to_numpy()
    wanted = pd.MultiIndex.from_arrays([np.round(t_call, 6), index])
    row = rows.reindex(wanted).to_numpy(float)
    row[~base] = np.nan
    found = ~np.isnan(row)
    source_id = np.where(found, ids.reindex(wanted).to_numpy(object), None)
    return {
        "wall_clock": wall.strftime("%Y-%m-%d %H:%M:%S").to_numpy(object),
        "source_row": pd.array(np.where(found, row, np.nan), dtype="Float64").astype("Int64"),
        "source_id": pd.Series(source_id, dtype=object).fillna("").astype(str).to_numpy(),
        "snap_m": np.where(found, snaps.reindex(wanted).to_numpy(float), np.nan),
    }


def _node_id(text: str, router):
    """A node id from its text in the records (ids are ints for OSM and synthetic graphs)."""
    if text in router.index:
        return text
    return int(text)


def communities(result: RunResult, world: World) -> gpd.GeoDataFrame:
    """Community areas with their population and rates."""
    scenario = result.scenario
    weeks = scenario.days / 7.0
    rows = []
    for community in scenario.communities:
        figures = result.summary.get("by_community", {}).get(community.name, {})
        calls_per_week = (figures.get("calls") or 0.0) / weeks
        rows.append(
            {
                "name": community.name,
                "population": community.population,
                "calls_per_week": calls_per_week,
                "calls_per_1000_per_week": calls_per_week * 1000.0 / community.population,
                "response_mean_min": (figures.get("response_min") or {}).get("mean"),
                "within_5_min": (figures.get("within_target") or {}).get("5"),
                "resolution_rate": figures.get("resolution_rate"),
                "repeat_rate": figures.get("repeat_rate"),
            }
        )
    data = pd.DataFrame(rows).astype({"response_mean_min": float, "within_5_min": float,
                                      "resolution_rate": float, "repeat_rate": float})  # fmt: skip
    return _gdf(data.to_dict("list"), community_areas(scenario, world), world)


def community_areas(scenario, world: World) -> list:
    """Each community's polygon in the network's CRS: its GIS area, else its Voronoi cells."""
    import shapely

    from sim.network.areas import area_shapes

    router = world.router
    points = shapely.multipoints(shapely.points(router.x, router.y))
    hull = shapely.convex_hull(points).buffer(EDGE_BUFFER_M * 3)
    cells = shapely.voronoi_polygons(points, extend_to=hull, ordered=True)
    cells = shapely.intersection(shapely.get_parts(cells), hull)
    given = area_shapes(scenario, world.network)
    return [
        shape if shape is not None else shapely.union_all(cells[world.community_of_node == c])
        for c, shape in enumerate(given)
    ]


def isochrones(world: World) -> gpd.GeoDataFrame:
    """Streets reachable within each of ``ISOCHRONE_MIN`` minutes of each post, as areas.

    An edge counts when its far end is reached along it in time; each street (either
    direction) is buffered alone and the buffers are merged (20 times quicker than
    buffering the network as one shape).
    """
    import shapely

    router = world.router
    tails, heads = router.forward.nonzero()
    edge_min = np.asarray(router.forward[tails, heads]).ravel()
    ends = np.column_stack([np.minimum(tails, heads), np.maximum(tails, heads)])
    streets, street_of_edge = np.unique(ends, axis=0, return_inverse=True)
    buffers = shapely.buffer(
        shapely.linestrings(
            np.stack(
                [np.column_stack([router.x[streets[:, 0]], router.y[streets[:, 0]]]),
                 np.column_stack([router.x[streets[:, 1]], router.y[streets[:, 1]]])],
                axis=1,
            )
        ),
        EDGE_BUFFER_M,
        quad_segs=2,
    )  # fmt: skip
    rows, shapes = [], []
    for name, node in world.post_nodes.items():
        times = router.times_from(node)
        for minutes in ISOCHRONE_MIN:
            reached = np.unique(street_of_edge.ravel()[times[tails] + edge_min <= minutes])
            own = shapely.buffer(shapely.points(router.x[node], router.y[node]), EDGE_BUFFER_M)
            shape = shapely.union_all([own, *buffers[reached]])
            shapes.append(shape)
            rows.append(
                {
                    "post": name,
                    "minutes": minutes,
                    "nodes_reached": int((times <= minutes).sum()),
                    "area_km2": float(shapely.area(shape)) / 1e6,
                }
            )
    return _gdf(pd.DataFrame(rows).to_dict("list"), shapes, world)

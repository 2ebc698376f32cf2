"""Street networks: ``load_network`` for the scenario key ``network``.

Every source gives an osmnx-convention ``MultiDiGraph`` in a projected CRS (metres): node
``x``, ``y``; edge ``length`` (m), ``highway``, ``speed_kph``, ``travel_time`` (s). Every node
can reach every other: map data keep every drivable node, and streets cut by the extract's
edge are joined by boundary links standing for the way round outside it
(``sim.network.boundary``); synthetic networks are kept to their largest strongly connected
component.

Sources (``kind``, specified in ``sim.scenarios.network_spec``): ``synthetic`` (generated,
see ``sim.network.synthetic``), ``osm`` (a local .osm / .osm.bz2 XML file), ``graphml`` (an
osmnx GraphML file), ``place`` (downloaded by osmnx once, then cached as GraphML) and
``point`` (one node, all travel times zero).

OSM data keep drivable road classes only (``DRIVABLE``: motorway to residential with their
links, ``unclassified``, ``living_street``, ``road``; not ``service``, like osmnx's ``drive``
network; ``access=no`` and ``area=yes`` ways dropped). Ways are filtered *before* osmnx
simplifies the graph, as an Overpass download with ``network_type="drive"`` would be, so
nodes where footpaths or buildings touched a road are not kept as intersections. Missing
speeds are imputed by road class (``DEFAULT_SPEEDS_KPH``, an assumption: typical Chinese urban
limits), then scaled by ``speed_factor``.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

from sim.errors import SimInputError
from sim.network.boundary import Joined, join_pieces
from sim.network.cache import cached_network
from sim.network.synthetic import SYNTHETIC_CRS, GridParams, synthetic_graph
from sim.scenarios.files import find_file
from sim.scenarios.network_spec import (
    GraphmlNetworkSpec,
    NetworkSpec,
    NetworkSpecBase,
    OsmNetworkSpec,
    PlaceNetworkSpec,
    PointNetworkSpec,
    SyntheticNetworkSpec,
)


def _ox():
    """osmnx, imported on first use (it is slow to import and the core often needs none)."""
    import osmnx

    return osmnx


def _no_osm_data_error() -> type[Exception]:
    """The error osmnx raises for a query or file with no data (osmnx keeps it in ``_errors``)."""
    return _ox()._errors.InsufficientResponseError  # noqa: SLF001


DRIVABLE = frozenset(
    {"motorway", "trunk", "primary", "secondary", "tertiary"}
    | {f"{c}_link" for c in ("motorway", "trunk", "primary", "secondary", "tertiary")}
    | {"unclassified", "residential", "living_street", "road"}
)
DEFAULT_SPEEDS_KPH = {
    "motorway": 80.0,
    "motorway_link": 40.0,
    "trunk": 60.0,
    "trunk_link": 40.0,
    "primary": 50.0,
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 15.0,
    "road": 30.0,
}
FALLBACK_SPEED_KPH = 30.0
OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.xml", ".xml")
#: The real Wuhan extract shipped in the package (ODbL; see sim/data/README.md).
WUHAN_OSM = Path(__file__).resolve().parents[1] / "data" / "optics_valley_east.osm.bz2"


@dataclass(frozen=True)
class Network:
    """A loaded street network in which every node can reach every other.

    Synthetic networks are kept to their largest strongly connected component; map data
    keep every node, joined by boundary links (``sim.network.boundary``) unless their spec
    says ``edge_streets: cut``.

    ``km_of_road`` sums the length of kept *directed* edges: a two-way street counts twice,
    a one-way street once. ``kept_share`` is the share of loaded nodes kept.
    ``georeferenced`` says whether lat/lon points can be placed on it (not on synthetic ones).
    """

    graph: nx.MultiDiGraph
    kind: str
    source: str
    nodes_loaded: int
    edges_loaded: int
    nodes: int
    edges: int
    km_of_road: float
    kept_share: float
    is_osm_data: bool
    georeferenced: bool
    digest: str
    boundary_links: int = 0  # links added for streets cut by the extract's edge
    nodes_joined: int = 0  # nodes that were outside the largest strongly connected component

    @property
    def crs(self) -> str:
        """The graph's projected CRS."""
        return str(self.graph.graph.get("crs"))


def load_network(spec: NetworkSpec, base_dir: Path | None = None) -> Network:
    """Load or generate the network of ``spec``; relative paths resolve against ``base_dir``.

    Bad input (missing or corrupt file, no drivable road, offline without cache) raises
    ``SimInputError``.
    """
    if isinstance(spec, SyntheticNetworkSpec):
        fields = spec.model_dump(exclude={"kind", "speed_factor"})
        graph = synthetic_graph(GridParams(**fields))
        source = f"synthetic {spec.width_km:g} x {spec.height_km:g} km, seed {spec.seed}"
        return _finish(graph, spec, source, is_osm=False)
    if isinstance(spec, PointNetworkSpec):
        graph = nx.MultiDiGraph(crs=SYNTHETIC_CRS, name="point", synthetic=True)
        graph.add_node(0, x=0.0, y=0.0)
        return _finish(graph, spec, "point", is_osm=False)
    if isinstance(spec, OsmNetworkSpec):
        path = resolve_path(spec.path, base_dir, "OSM file")
        return cached_network(path, spec, lambda: _load_osm(path, spec))
    if isinstance(spec, GraphmlNetworkSpec):
        path = resolve_path(spec.path, base_dir, "GraphML file")
        return cached_network(path, spec, lambda: _load_graphml(path, spec))
    if isinstance(spec, PlaceNetworkSpec):
        graph, source = _place_graph(spec)
        graph = _canonical_lists(_filter_drivable(graph, Path(source)))
        return _finish(graph, spec, source, is_osm=True)
    raise SimInputError(f"unknown network kind: {getattr(spec, 'kind', spec)!r}")


def _load_osm(path: Path, spec: OsmNetworkSpec) -> Network:
    graph = _filter_drivable(_read_osm_xml(path), path)
    graph = _canonical_lists(_quiet(_ox().simplify_graph, graph))
    return _finish(graph, spec, str(path), is_osm=True)


def _load_graphml(path: Path, spec: GraphmlNetworkSpec) -> Network:
    graph = _read_graphml(path)
    synthetic = str(graph.graph.get("synthetic", "")).lower() == "true"
    return _finish(graph, spec, str(path), is_osm=not synthetic)


def resolve_path(path: Path, base_dir: Path | None, what: str) -> Path:
    """Find ``path``: as given if absolute, else in ``base_dir``, then in the cwd."""
    hint = " (point the scenario at a file with --set network.path=FILE)"
    return find_file(path, base_dir, "network", what, hint)


def _read_osm_xml(path: Path) -> nx.MultiDiGraph:
    name = path.name.lower()
    if not name.endswith(OSM_SUFFIXES):
        raise SimInputError(
            f"network: '{path}' is not an OSM XML file (expected {', '.join(OSM_SUFFIXES)})"
        )
    try:
        return _quiet(_ox().graph_from_xml, path, simplify=False, retain_all=True)
    except (ET.ParseError, OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        raise SimInputError(f"network: cannot read OSM XML '{path}': {_reason(exc)}") from exc
    except _no_osm_data_error() as exc:
        raise SimInputError(f"network: no OSM nodes or ways in '{path}'") from exc


def _read_graphml(path: Path) -> nx.MultiDiGraph:
    if not path.name.lower().endswith(".graphml"):
        raise SimInputError(f"network: '{path}' is not a GraphML file (expected .graphml)")
    try:
        graph = _quiet(_ox().load_graphml, path)
    except (ET.ParseError, OSError, ValueError, KeyError, TypeError, SyntaxError) as exc:
        raise SimInputError(f"network: cannot read GraphML '{path}': {_reason(exc)}") from exc
    if not isinstance(graph, nx.MultiDiGraph) or "crs" not in graph.graph:
        raise SimInputError(f"network: GraphML '{path}' is not an osmnx graph (no 'crs')")
    return graph


def place_cache_path(spec: PlaceNetworkSpec) -> Path:
    """Return the GraphML file a place is cached in (``cache_dir`` relative to the cwd)."""
    key = spec.query if spec.query is not None else ",".join(f"{c:.6f}" for c in spec.bbox or ())
    slug = re.sub(r"\W+", "_", key, flags=re.ASCII).strip("_")[:40] or "place"
    tag = hashlib.sha256(f"drive|{key}".encode()).hexdigest()[:10]
    return Path(spec.cache_dir).expanduser() / f"{slug}-{tag}.graphml"


def _place_graph(spec: PlaceNetworkSpec) -> tuple[nx.MultiDiGraph, str]:
    """Return the place's raw drive graph: from the cache, else downloaded by osmnx and cached."""
    what = f"place {spec.query!r}" if spec.query is not None else f"bbox {spec.bbox}"
    cache = place_cache_path(spec)
    if cache.is_file():
        return _read_graphml(cache), f"{what} (cached in {cache})"
    try:
        if spec.query is not None:
            graph = _quiet(_ox().graph_from_place, spec.query, network_type="drive")
        else:
            graph = _quiet(_ox().graph_from_bbox, spec.bbox, network_type="drive")
    except (OSError, ValueError, TypeError, _no_osm_data_error()) as exc:
        raise SimInputError(
            f"network: cannot download {what} with osmnx ({_reason(exc)}), and there is no "
            f"cached copy at '{cache}'. Run once online, or use kind: osm with a local file"
        ) from exc
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.name + ".part")
    _quiet(_ox().save_graphml, graph, tmp)
    os.replace(tmp, cache)
    return graph, f"{what} (downloaded, cached in {cache})"


def _filter_drivable(graph: nx.MultiDiGraph, path: Path) -> nx.MultiDiGraph:
    """Keep edges of drivable road classes (and their nodes); fail when none is left."""
    keep = [
        (u, v, k)
        for u, v, k, d in graph.edges(keys=True, data=True)
        if _drivable(d.get("highway")) and d.get("access") != "no" and d.get("area") != "yes"
    ]
    if not keep:
        raise SimInputError(
            f"network: no drivable roads in '{path}' (kept highway classes: "
            f"{', '.join(sorted(DRIVABLE))})"
        )
    return nx.MultiDiGraph(graph.edge_subgraph(keep))


def _canonical_lists(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Sort the list-valued edge attributes that simplification merges (e.g. ``highway``).

    osmnx builds them from sets, whose order depends on Python's string hashing, which
    changes from process to process; speeds imputed from the first road class would then
    change too. Sorted, the same file gives the same network in every process.
    """
    for *_, data in graph.edges(data=True):
        for key, value in data.items():
            if isinstance(value, list):
                data[key] = sorted(value, key=str)
    return graph


def _drivable(highway: object) -> bool:
    values = highway if isinstance(highway, list) else [highway]
    return any(h in DRIVABLE for h in values)


def _finish(graph: nx.MultiDiGraph, spec: NetworkSpecBase, source: str, is_osm: bool) -> Network:
    """Keep the largest SCC, project, add speeds and travel times, and describe the result."""
    nodes_loaded, edges_loaded = graph.number_of_nodes(), graph.number_of_edges()
    if nodes_loaded == 0:
        raise SimInputError(f"network: no street network in '{source}' (no drivable roads left)")
    join = is_osm and getattr(spec, "edge_streets", "cut") == "join"
    if not join:
        graph = _keep_largest_scc(graph)
    if graph.graph.get("crs") != SYNTHETIC_CRS and not _ox().projection.is_projected(
        graph.graph["crs"]
    ):
        graph = _quiet(_ox().project_graph, graph)
    if graph.number_of_edges():
        _add_speeds(graph, getattr(spec, "speeds_kph", {}), spec.speed_factor, source)
    joined = join_pieces(graph, spec.speed_factor) if join else Joined(0, 0, 0.0)
    km = sum(d for *_, d in graph.edges(data="length")) / 1000 - joined.link_km
    return Network(
        graph=graph,
        kind=spec.kind,
        source=source,
        nodes_loaded=nodes_loaded,
        edges_loaded=edges_loaded,
        nodes=graph.number_of_nodes(),
        edges=graph.number_of_edges(),
        km_of_road=float(km),
        kept_share=graph.number_of_nodes() / nodes_loaded,
        is_osm_data=is_osm,
        georeferenced=is_osm and graph.graph.get("crs") != SYNTHETIC_CRS,
        digest=network_digest(graph),
        boundary_links=joined.links,
        nodes_joined=joined.nodes_joined,
    )


def _keep_largest_scc(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Remove (in place) every node outside the largest strongly connected component."""
    nodes = list(graph.nodes)
    index = {v: i for i, v in enumerate(nodes)}
    pairs = np.array([(index[u], index[v]) for u, v in graph.edges()], dtype=np.int64)
    pairs = pairs.reshape(-1, 2)
    n = len(nodes)
    adjacency = csr_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(adjacency, directed=True, connection="strong")
    largest = np.bincount(labels).argmax()
    graph.remove_nodes_from([nodes[i] for i in np.flatnonzero(labels != largest)])
    return graph


def _add_speeds(
    graph: nx.MultiDiGraph, speeds_kph: dict[str, float], factor: float, source: str
) -> None:
    """Impute missing ``speed_kph`` by class, scale by ``factor``, set ``travel_time`` (s)."""
    if any("length" not in d for *_, d in graph.edges(data=True)):
        raise SimInputError(f"network: '{source}' has edges without 'length'")
    if any("speed_kph" not in d for *_, d in graph.edges(data=True)):
        for *_, d in graph.edges(data=True):
            d.setdefault("highway", "unclassified")
        hwy = {**DEFAULT_SPEEDS_KPH, **speeds_kph}
        _quiet(_ox().add_edge_speeds, graph, hwy_speeds=hwy, fallback=FALLBACK_SPEED_KPH)
    if factor != 1.0:
        for *_, d in graph.edges(data=True):
            d["speed_kph"] = float(d["speed_kph"]) * factor
    if factor != 1.0 or any("travel_time" not in d for *_, d in graph.edges(data=True)):
        _quiet(_ox().add_edge_travel_times, graph)


def network_digest(graph: nx.MultiDiGraph) -> str:
    """Return a stable hash of nodes (coordinates to the cm) and edges (travel time to the ms).

    The same across processes and runs: sha256 of sorted integer arrays, never ``hash()``.
    """
    nodes = list(graph.nodes)
    try:
        ids = np.array(nodes, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        ids = np.array([int(hashlib.sha256(str(v).encode()).hexdigest()[:15], 16) for v in nodes])
    lookup = dict(zip(nodes, ids.tolist(), strict=True))
    xy = np.array([(d.get("x", 0.0), d.get("y", 0.0)) for _, d in graph.nodes(data=True)])
    node_rows = np.column_stack([ids, np.rint(xy.reshape(-1, 2) * 100).astype(np.int64)])
    node_rows = node_rows[np.argsort(ids, kind="stable")]
    edge_rows = np.array(
        [
            (lookup[u], lookup[v], round(float(t) * 1000))
            for u, v, t in graph.edges(data="travel_time", default=0.0)
        ],
        dtype=np.int64,
    ).reshape(-1, 3)
    edge_rows = edge_rows[np.lexsort(edge_rows.T[::-1])]
    h = hashlib.sha256(str(graph.graph.get("crs")).encode())
    h.update(np.ascontiguousarray(node_rows, dtype="<i8").tobytes())
    h.update(np.ascontiguousarray(edge_rows, dtype="<i8").tobytes())
    return h.hexdigest()[:16]


def _quiet(func, *args, **kwargs):
    """Call an osmnx function with its known harmless warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*(geographic CRS|centroid).*")
        return func(*args, **kwargs)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines() or [""]
    first = text[0] if len(text[0]) <= 120 else text[0][:117] + "..."
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
